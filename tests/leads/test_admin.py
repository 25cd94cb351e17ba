"""Admin: lead list filters, the import page and its report with the CSV of rejected rows,
suppression and consent management through the services."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client as DjangoClient
from django.urls import reverse

from campaigns.models import AuditEvent
from leads.models import ConsentRecord, Lead, LeadImport, Suppression
from leads.services import add_suppression

from .factories import LeadFactory


@pytest.fixture
def admin_client_for(operator):
    browser = DjangoClient()
    browser.force_login(operator)
    return browser


@pytest.mark.django_db
def test_lead_list_filters(admin_client_for, campaign):
    LeadFactory(campaign=campaign, email="hot@example.com", score=0.9)
    LeadFactory(campaign=campaign, email="cold@blocked.example", score=0.1)
    add_suppression(domain="blocked.example", reason="legal")
    url = reverse("admin:leads_lead_changelist")
    page = admin_client_for.get(url).content.decode()
    assert "hot@example.com" in page and "cold@blocked.example" in page
    high = admin_client_for.get(url, {"score_band": "high"}).content.decode()
    assert "hot@example.com" in high and "cold@blocked.example" not in high
    suppressed = admin_client_for.get(url, {"suppressed": "yes"}).content.decode()
    assert "cold@blocked.example" in suppressed and "hot@example.com" not in suppressed
    state = admin_client_for.get(url, {"state__exact": "won"}).content.decode()
    assert "hot@example.com" not in state
    lead = Lead.objects.get(email="cold@blocked.example")
    detail = admin_client_for.get(reverse("admin:leads_lead_change", args=[lead.pk])).content.decode()
    assert "suppressed" in detail


@pytest.mark.django_db
def test_import_page_shows_the_report_and_serves_rejected_rows_as_csv(admin_client_for, campaign):
    upload_url = reverse("admin:leads_leadimport_upload")
    assert admin_client_for.get(reverse("admin:leads_leadimport_add")).url == upload_url
    assert "Import leads" in admin_client_for.get(upload_url).content.decode()
    upload = SimpleUploadedFile("list.csv", b"Email,Name\nann@example.com,Ann A\nbroken,Bob\n", "text/csv")
    preview = admin_client_for.post(upload_url, {"campaign": campaign.pk, "file": upload, "mapping": ""})
    assert preview.status_code == 200 and not LeadImport.objects.exists()  # a preview first
    response = admin_client_for.post(
        reverse("admin:leads_leadimport_confirm"), {"token": preview.context["token"], "confirm": "Import"}
    )
    lead_import = LeadImport.objects.get()
    # Back to the campaign with the summary; the full report is one link away.
    assert response.status_code == 302
    assert response.url == reverse("admin:campaigns_campaign_change", args=[campaign.pk])
    report_url = reverse("admin:leads_leadimport_change", args=[lead_import.pk])
    assert report_url in admin_client_for.get(response.url).content.decode()
    report_page = admin_client_for.get(report_url).content.decode()
    assert "Download all 1 rejected rows as CSV" in report_page and "broken" in report_page

    csv_response = admin_client_for.get(reverse("admin:leads_leadimport_issues_csv", args=[lead_import.pk]))
    body = b"".join(csv_response.streaming_content).decode()
    assert csv_response["Content-Type"].startswith("text/csv")
    assert body.splitlines()[0] == "row,kind,field,reason,value"
    assert body.splitlines()[1].startswith("3,invalid,email,")
    assert Lead.objects.get(campaign=campaign).first_name == "Ann"


@pytest.mark.django_db
def test_import_page_reports_an_unusable_file_on_the_form(admin_client_for, campaign):
    upload = SimpleUploadedFile("list.csv", b"name\nAnn\n", "text/csv")
    response = admin_client_for.post(
        reverse("admin:leads_leadimport_upload"), {"campaign": campaign.pk, "file": upload}
    )
    assert response.status_code == 200 and "no email column" in response.content.decode()


@pytest.mark.django_db
def test_suppressions_are_added_and_removed_through_services(admin_client_for, operator):
    add_url = reverse("admin:leads_suppression_add")
    response = admin_client_for.post(add_url, {"domain": "Spam.Example", "reason": "complaint", "source": ""})
    assert response.status_code == 302, response.content.decode()[:2000]
    entry = Suppression.objects.get()
    assert entry.value == "spam.example" and entry.client is None and entry.created_by == operator
    changelist = reverse("admin:leads_suppression_changelist")
    ask = admin_client_for.post(
        changelist, {"action": "remove_with_rationale", "_selected_action": [entry.pk]}
    )
    assert "Why are these suppressions lifted?" in ask.content.decode()
    admin_client_for.post(
        changelist,
        {"action": "remove_with_rationale", "_selected_action": [entry.pk], "rationale": "Wrong domain"},
    )
    assert not Suppression.objects.exists()
    assert AuditEvent.objects.get(verb="suppression.removed").rationale == "Wrong domain"


@pytest.mark.django_db
def test_consent_is_recorded_and_withdrawn_in_the_admin(admin_client_for, campaign):
    response = admin_client_for.post(
        reverse("admin:leads_consentrecord_add"),
        {
            "client": campaign.client.pk,
            "email": "Eve@Example.de",
            "lawful_basis": "consent",
            "source": "trade fair form",
            "wording": "Yes please",
            "wording_version": "v3",
            "captured_at_0": "2026-01-05",
            "captured_at_1": "10:00:00",
            "evidence": '{"form_id": "fair-2026"}',
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    record = ConsentRecord.objects.get()
    assert record.normalized_email == "eve@example.de" and record.evidence == {"form_id": "fair-2026"}
    admin_client_for.post(
        reverse("admin:leads_consentrecord_changelist"),
        {"action": "withdraw", "_selected_action": [record.pk]},
    )
    record.refresh_from_db()
    assert record.withdrawn_at is not None
    assert AuditEvent.objects.filter(verb="consent.withdrawn").exists()
