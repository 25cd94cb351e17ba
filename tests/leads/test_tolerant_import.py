"""Issue #17 point 6, a tolerant import: country names and aliases become ISO codes; a value that
cannot be kept leaves its field empty and is flagged (the lead is imported); the admin shows the
columns detected and the first rows before anything is imported, then imports or cancels."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client as DjangoClient
from django.urls import reverse
from django.utils import timezone

from campaigns.models import AuditEvent
from leads.countries import country_spellings_ascii_upper, normalize_country_code
from leads.importers import (
    import_lead_records,
    import_leads_from_csv,
    iter_issues_csv,
    lead_import_report,
    preview_csv,
)
from leads.importers.preview import PREVIEW_DIRECTORY, PREVIEW_MAX_AGE, discard_stale_uploads
from leads.models import ImportIssueKind, Lead, LeadImport
from leads.services import add_suppression
from tests.factories import CampaignFactory

from .factories import LeadFactory


@pytest.mark.parametrize(
    ("given", "code"),
    [
        ("Germany", "DE"),
        ("germany", "DE"),
        ("  GERMANY ", "DE"),
        ("Deutschland", "DE"),
        ("DE", "DE"),
        ("de", "DE"),
        ("DEU", "DE"),
        ("United States", "US"),
        ("United States of America", "US"),
        ("USA", "US"),
        ("U.S.", "US"),
        ("U.S.A.", "US"),
        ("UK", "GB"),
        ("U.K.", "GB"),
        ("United Kingdom", "GB"),
        ("Great Britain", "GB"),
        ("England", "GB"),
        ("Scotland", "GB"),
        ("Holland", "NL"),
        ("The Netherlands", "NL"),
        ("Nederland", "NL"),
        ("Czech Republic", "CZ"),
        ("Czechia", "CZ"),
        ("South Korea", "KR"),
        ("Republic of Korea", "KR"),
        ("Korea, Republic of", "KR"),
        ("North Korea", "KP"),
        ("Russia", "RU"),
        ("Russian Federation", "RU"),
        ("Ivory Coast", "CI"),
        ("Côte d'Ivoire", "CI"),
        ("Cote d'Ivoire", "CI"),
        ("Schweiz", "CH"),
        ("Suisse", "CH"),
        ("Österreich", "AT"),
        ("España", "ES"),
        ("Espana", "ES"),
        ("Brasil", "BR"),
        ("Polska", "PL"),
        ("Turkey", "TR"),
        ("Türkiye", "TR"),
        ("UAE", "AE"),
        ("Viet Nam", "VN"),
        ("Vietnam", "VN"),
        ("Iran, Islamic Republic of", "IR"),
        ("Bosnia & Herzegovina", "BA"),
        ("Trinidad and Tobago", "TT"),
        ("St. Lucia", "LC"),
        ("Macedonia", "MK"),
        ("EL", "GR"),
    ],
)
def test_country_names_and_aliases_become_iso_codes(given, code):
    assert normalize_country_code(given) == code


@pytest.mark.parametrize(
    "given", ["Atlantis", "Narnia", "XX", "D", "Korea", "Paris", "ß", "\u0131t", "é", "Россия"]
)
def test_unknown_or_ambiguous_countries_are_not_guessed(given):
    assert normalize_country_code(given) is None


def test_empty_country_stays_empty():
    assert normalize_country_code("  ") == ""


def test_the_sql_country_table_answers_what_python_answers():
    table = country_spellings_ascii_upper()
    assert table["GERMANY"] == "DE" and table["USA"] == "US" and table["UK"] == "GB"
    for spelling, code in table.items():
        for variant in (spelling, spelling.lower(), spelling.title()):
            assert normalize_country_code(variant) == code, variant


COUNTRY_FILE = (
    "Email,First Name,Country,Company\n"
    "anna@example.com,Anna,Germany,Acme\n"
    "bernd@example.com,Bernd,Deutschland,Acme\n"
    "cleo@example.com,Cleo,Atlantis,Acme\n"
    "dora@example.com,Dora,United States," + "x" * 201 + "\n"
    "not-an-address,Eve,DE,Acme\n"
)


@pytest.mark.django_db
def test_country_names_are_imported_and_an_unknown_one_is_flagged_not_dropped(campaign):
    report = import_leads_from_csv(campaign=campaign, file=io.BytesIO(COUNTRY_FILE.encode()))
    assert (report.rows_read, report.inserted, report.invalid, report.flagged) == (5, 4, 1, 2)
    countries = dict(Lead.objects.filter(campaign=campaign).values_list("email", "country"))
    assert countries == {
        "anna@example.com": "DE",
        "bernd@example.com": "DE",
        "cleo@example.com": "",
        "dora@example.com": "US",
    }
    assert Lead.objects.get(email="dora@example.com").company == ""

    data = lead_import_report(report)
    assert (data["flagged"], data["warnings_total"], data["issues_total"], data["rejected"]) == (2, 2, 1, 1)
    assert data["warnings"] == [
        {
            "row_number": 4,
            "kind": "flagged",
            "field": "country",
            "reason": "country 'Atlantis' not recognised; left empty.",
            "value": "Atlantis",
        },
        {
            "row_number": 5,
            "kind": "flagged",
            "field": "company",
            "reason": "company too long: 201 characters, at most 200; left empty.",
            "value": "x" * 201,
        },
    ]
    assert [(i["row_number"], i["kind"], i["field"]) for i in data["issues"]] == [(6, "invalid", "email")]
    lines = "".join(iter_issues_csv(report)).splitlines()
    assert lines[1].startswith("4,flagged,country,") and lines[3].startswith("6,invalid,email,")
    audit = AuditEvent.objects.get(verb="leads.imported", campaign=campaign)
    assert audit.metadata["flagged"] == 2


@pytest.mark.django_db
def test_a_flagged_row_that_is_not_inserted_files_no_warning(campaign):
    LeadFactory(campaign=campaign, email="cleo@example.com")
    data = "Email,Country\ncleo@example.com,Atlantis\ncleo@example.com,Narnia\nnew@example.com,Narnia\n"
    report = import_leads_from_csv(campaign=campaign, file=io.BytesIO(data.encode()))
    assert (report.inserted, report.duplicates_in_campaign, report.duplicates_in_file) == (1, 1, 1)
    assert report.flagged == 1
    assert list(report.issues.filter(kind=ImportIssueKind.FLAGGED).values_list("row_number", flat=True)) == [
        4
    ]


@pytest.mark.django_db
def test_pushed_records_are_flagged_the_same_way(campaign):
    report = import_lead_records(
        campaign=campaign,
        records=[
            {"email": "a@example.com", "country": "Holland"},
            {"email": "b@example.com", "country": "Mordor"},
        ],
    )
    assert (report.inserted, report.flagged) == (2, 1)
    assert dict(Lead.objects.values_list("email", "country")) == {"a@example.com": "NL", "b@example.com": ""}


@pytest.mark.django_db
def test_preview_reads_the_first_rows_and_writes_nothing(campaign):
    add_suppression(email="bernd@example.com", reason="manual_dnc", client=campaign.client)
    LeadFactory(campaign=campaign, email="anna@example.com")
    preview = preview_csv(campaign=campaign, file=io.BytesIO(COUNTRY_FILE.encode()), filename="f.csv", rows=3)
    assert (preview.encoding, preview.delimiter, preview.delimiter_name) == ("utf-8", ",", "comma")
    assert preview.mapping == {
        "email": "Email",
        "first_name": "First Name",
        "country": "Country",
        "company": "Company",
    }
    assert preview.fields == ["first_name", "company", "country"] and preview.more_rows
    anna, bernd, cleo = preview.rows
    assert (anna.outcome, bernd.outcome, cleo.outcome) == ("duplicate_in_campaign", "suppressed", "new")
    assert bernd.values["country"] == "DE"
    assert cleo.values["country"] == "" and cleo.flagged["country"]["value"] == "Atlantis"
    assert Lead.objects.count() == 1 and not LeadImport.objects.exists()


@pytest.fixture
def operator_browser(operator_role_user):
    browser = DjangoClient()
    browser.force_login(operator_role_user)
    return browser


def upload_for_preview(browser, campaign, content: str = COUNTRY_FILE):
    upload = SimpleUploadedFile("fair.csv", content.encode(), "text/csv")
    return browser.post(reverse("admin:leads_leadimport_upload"), {"campaign": campaign.pk, "file": upload})


def stored_uploads() -> list[str]:
    try:
        return default_storage.listdir(PREVIEW_DIRECTORY)[1]
    except FileNotFoundError:
        return []


@pytest.mark.django_db
def test_admin_preview_then_confirm_as_an_operator(operator_browser, operator_role_user, campaign):
    assert not operator_role_user.is_superuser
    response = upload_for_preview(operator_browser, campaign)
    assert response.status_code == 200
    page = response.content.decode()
    # The columns detected, encoding and delimiter, and the first rows with the flagged values.
    assert "utf-8" in page and "comma" in page
    assert "<td>Country</td>" in page and "<td>country</td>" in page
    assert 'class="flagged" data-field="country" title="country &#x27;Atlantis&#x27; not recognised' in page
    assert '<td data-field="country">DE</td>' in page
    assert "Not imported: An email address must have an @-sign." in page
    assert not LeadImport.objects.exists() and not Lead.objects.exists()  # nothing before the confirmation
    assert len(stored_uploads()) == 1

    confirm = reverse("admin:leads_leadimport_confirm")
    token = response.context["token"]
    done = operator_browser.post(confirm, {"token": token, "confirm": "Import"})
    lead_import = LeadImport.objects.get()
    assert done.status_code == 302  # back to the campaign, the summary as a message
    assert done.url == reverse("admin:campaigns_campaign_change", args=[campaign.pk])
    assert (lead_import.inserted, lead_import.flagged, lead_import.invalid) == (4, 2, 1)
    assert lead_import.created_by == operator_role_user and lead_import.filename == "fair.csv"
    assert stored_uploads() == []
    report_url = reverse("admin:leads_leadimport_change", args=[lead_import.pk])
    report_page = operator_browser.get(report_url).content.decode()
    assert "Download all 1 rejected rows and 2 flagged values as CSV" in report_page
    assert "country &#x27;Atlantis&#x27; not recognised; left empty." in report_page
    assert "2 leads imported with 2 values left empty" in report_page

    again = operator_browser.post(confirm, {"token": token, "confirm": "Import"}, follow=True)
    assert "already imported or cancelled" in again.content.decode()
    assert LeadImport.objects.count() == 1


@pytest.mark.django_db
def test_admin_cancel_imports_nothing(operator_browser, campaign):
    response = upload_for_preview(operator_browser, campaign)
    cancelled = operator_browser.post(
        reverse("admin:leads_leadimport_confirm"), {"token": response.context["token"], "cancel": "Cancel"}
    )
    assert cancelled.status_code == 302 and cancelled.url.endswith(f"?campaign={campaign.pk}")
    assert "nothing was imported" in operator_browser.get(cancelled.url).content.decode()
    assert not LeadImport.objects.exists() and not Lead.objects.exists()
    assert not AuditEvent.objects.filter(verb="leads.imported").exists()
    assert stored_uploads() == []


@pytest.mark.django_db
def test_a_preview_token_works_only_for_its_user_and_unaltered(operator_browser, admin_role_user, campaign):
    token = upload_for_preview(operator_browser, campaign).context["token"]
    confirm = reverse("admin:leads_leadimport_confirm")
    other = DjangoClient()
    other.force_login(admin_role_user)
    refused = other.post(confirm, {"token": token, "confirm": "Import"}, follow=True)
    assert "belongs to another user" in refused.content.decode()
    tampered = operator_browser.post(confirm, {"token": token[:-2] + "xx", "confirm": "Import"}, follow=True)
    assert "not valid" in tampered.content.decode()
    assert not LeadImport.objects.exists()


@pytest.mark.django_db
def test_an_unreadable_upload_is_refused_on_the_form_and_not_kept(operator_browser, campaign):
    response = upload_for_preview(operator_browser, campaign, "name,company\nAnn,Acme\n")
    assert response.status_code == 200 and "no email column" in response.content.decode()
    assert stored_uploads() == []


@pytest.mark.django_db
def test_uploads_nobody_confirmed_are_deleted_after_an_hour(operator_browser, campaign):
    upload_for_preview(operator_browser, campaign)
    assert discard_stale_uploads() == 0 and len(stored_uploads()) == 1
    later = timezone.now() + PREVIEW_MAX_AGE + dt.timedelta(minutes=1)
    assert discard_stale_uploads(later) == 1 and stored_uploads() == []


@pytest.mark.django_db
def test_api_dry_run_answers_the_preview_and_imports_nothing(api_as, client_user):
    campaign = CampaignFactory(client=client_user.client)
    url = f"/api/v1/campaigns/{campaign.pk}/leads/import/?dry_run=true"
    response = api_as(client_user).post(url, data=COUNTRY_FILE.encode(), content_type="text/csv")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["mapping"]["country"] == "Country" and body["delimiter_name"] == "comma"
    assert [row["outcome"] for row in body["rows"]] == ["new", "new", "new", "new", "invalid"]
    assert body["rows"][2]["flagged"]["country"]["reason"] == "country 'Atlantis' not recognised; left empty."
    assert not LeadImport.objects.exists() and not Lead.objects.exists()

    report = api_as(client_user).post(
        url.replace("true", "false"), data=COUNTRY_FILE.encode(), content_type="text/csv"
    )
    assert report.status_code == 201 and report.json()["flagged"] == 2


@pytest.mark.django_db
def test_country_and_company_headers_in_other_languages_are_recognised(campaign):
    data = "Courriel;Prénom;Société;Pays\nzoe@example.com;Zoé;Café Größe;Allemagne\n"
    report = import_leads_from_csv(campaign=campaign, file=io.BytesIO(data.encode()))
    assert report.column_mapping == {
        "email": "Courriel",
        "first_name": "Prénom",
        "company": "Société",
        "country": "Pays",
    }
    lead = Lead.objects.get(campaign=campaign)
    assert (lead.first_name, lead.company, lead.country) == ("Zoé", "Café Größe", "DE")
