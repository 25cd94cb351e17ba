"""Delivery packages: what the PDF and the ZIP hold, versions, milestones, the API's scoping and
signed links, and the admin as an operator-role user."""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile

import pytest
from django.core.management import call_command
from django.urls import reverse

from campaigns.models import AuditEvent
from creative import services as creative_services
from creative.models import CreativeState, CreativeVariant
from deliverables.models import DeliveryPackage, Milestone
from deliverables.services import build_delivery_package, build_milestone_packages
from deliverables.storage import deliverables_storage
from strategy.selectors import approved_variant_for
from tests.deliverables.conftest import pdf_text
from tests.factories import ClientUserFactory

EVIL = '=HYPERLINK("http://evil.example","click")'


def _read(field) -> bytes:
    with deliverables_storage().open(field.name, "rb") as handle:
        return handle.read()


def _new_creative(campaign, operator) -> CreativeVariant:
    before = set(CreativeVariant.objects.filter(campaign=campaign).values_list("pk", flat=True))
    creative_services.generate_creatives(campaign=campaign, actor=operator, platforms=["email"], variants=1)
    return CreativeVariant.objects.filter(campaign=campaign).exclude(pk__in=before).get()


def test_pdf_holds_the_campaign_the_approved_strategy_creative_and_who_approved(live_campaign, operator):
    campaign, _ = live_campaign(leads=0, mode="dry_run")
    strategy = approved_variant_for(campaign)
    creative = CreativeVariant.objects.filter(campaign=campaign, state=CreativeState.APPROVED).first()

    package = build_delivery_package(campaign=campaign, actor=operator)

    text = pdf_text(_read(package.pdf))
    assert campaign.name in text
    assert strategy.title in text
    assert "Northwind Growth Partners" in text  # the agency's branding
    assert creative.subject and creative.subject in text
    assert "version 1 (On demand)" in text
    # who approved what: the strategy and each creative by the operator, from the audit log
    assert "strategy.approved" in text and "creative.approved" in text
    assert operator.username in text
    assert package.version == 1 and package.contents["strategy_id"] == strategy.pk
    assert package.pdf_bytes == len(_read(package.pdf))
    assert AuditEvent.objects.filter(verb="delivery_package.built", target_id=str(package.pk)).count() == 1
    # a second build is the next version, with its own files
    again = build_delivery_package(campaign=campaign, actor=operator)
    assert again.version == 2 and again.pdf.name != package.pdf.name


def test_zip_holds_calendar_and_creative_as_formula_safe_csv(live_campaign, operator):
    campaign, _ = live_campaign(leads=0, mode="dry_run")
    creative = _new_creative(campaign, operator)
    creative_services.approve_creative(variant=creative, actor=operator, rationale=EVIL)

    package = build_delivery_package(campaign=campaign, actor=operator)

    archive = zipfile.ZipFile(io.BytesIO(_read(package.archive)))
    assert sorted(archive.namelist()) == ["calendar.csv", "creative.csv", "decisions.csv"]
    calendar = list(csv.reader(io.StringIO(archive.read("calendar.csv").decode("utf-8-sig"))))
    assert calendar[0][:3] == ["scheduled_at_local", "timezone", "platform"]
    assert len(calendar) - 1 == package.contents["calendar_items"] > 0
    creatives = list(csv.DictReader(io.StringIO(archive.read("creative.csv").decode("utf-8-sig"))))
    assert {int(row["creative_id"]) for row in creatives} == set(package.contents["creative_ids"])
    row = next(r for r in creatives if int(r["creative_id"]) == creative.pk)
    assert row["approval_rationale"] == "'" + EVIL  # neutralised: a spreadsheet shows it as text
    decisions = archive.read("decisions.csv").decode("utf-8-sig")
    assert "'" + EVIL.replace('"', '""') in decisions
    for name in archive.namelist():
        for cells in csv.reader(io.StringIO(archive.read(name).decode("utf-8-sig"))):
            assert not any(cell.startswith(("=", "+", "-", "@")) for cell in cells), (name, cells)


def test_a_package_follows_each_approval_once(live_campaign, operator):
    campaign, _ = live_campaign(leads=0, mode="dry_run")  # strategy approved, then two creatives approved

    built = build_milestone_packages()

    assert [(p.campaign_id, p.milestone) for p in built] == [(campaign.pk, Milestone.CREATIVE_APPROVED)]
    assert built[0].milestone_event.verb == "creative.approved"
    assert build_milestone_packages() == []  # nothing new: nothing built
    creative = _new_creative(campaign, operator)
    creative_services.approve_creative(variant=creative, actor=operator, rationale="fits")
    (second,) = build_milestone_packages()
    assert second.version == 2 and creative.pk in second.contents["creative_ids"]


def test_delivery_package_command(live_campaign, capsys):
    campaign, _ = live_campaign(leads=0, mode="dry_run")
    call_command("delivery_package", str(campaign.pk))
    package = DeliveryPackage.objects.get(campaign=campaign)
    assert package.created_by is None and f"package v{package.version}" in capsys.readouterr().out


# --- the API -------------------------------------------------------------------------------------


@pytest.fixture
def package(live_campaign, operator):
    campaign, _ = live_campaign(leads=0, mode="dry_run")
    return build_delivery_package(campaign=campaign, actor=operator)


def _links(api, campaign_id) -> dict:
    response = api.get(f"/api/v1/campaigns/{campaign_id}/packages/")
    assert response.status_code == 200, response.content
    return response.json()["results"][0]


def test_client_user_lists_and_downloads_its_own_package(package, api_as):
    user = ClientUserFactory(client=package.campaign.client)
    api = api_as(user)

    item = _links(api, package.campaign_id)
    assert item["version"] == 1 and item["milestone"] == "on_demand"
    pdf = api.get(item["pdf_link"])
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    body = b"".join(pdf.streaming_content)
    assert package.campaign.name in pdf_text(body)
    archive = api.get(item["zip_link"])
    assert archive.status_code == 200 and archive["Content-Type"] == "application/zip"
    assert zipfile.ZipFile(io.BytesIO(b"".join(archive.streaming_content))).namelist()
    downloads = AuditEvent.objects.filter(verb="delivery_package.downloaded", actor=user)
    assert sorted(e.metadata["file"] for e in downloads) == ["pdf", "zip"]


def test_another_clients_user_gets_404_for_the_package_and_its_link(package, api_as, other_client_user):
    own = api_as(ClientUserFactory(client=package.campaign.client))
    item = _links(own, package.campaign_id)
    other = api_as(other_client_user)

    assert other.get(f"/api/v1/campaigns/{package.campaign_id}/packages/").status_code == 404
    assert other.get(item["pdf_link"]).status_code == 404
    assert other.get(item["zip_link"]).status_code == 404
    # the same token on the other client's own campaign path: still not theirs
    from tests.factories import CampaignFactory

    theirs = CampaignFactory(client=other_client_user.client)
    token = item["pdf_link"].split("token=", 1)[1]
    assert other.get(f"/api/v1/campaigns/{theirs.pk}/packages/download/?token={token}").status_code == 404


def test_an_expired_link_is_refused_and_a_forged_one_is_404(package, api_as, frozen_now, settings):
    settings.AICMO_DELIVERABLES_LINK_SECONDS = 600
    api = api_as(ClientUserFactory(client=package.campaign.client))
    item = _links(api, package.campaign_id)

    frozen_now.shift(dt.timedelta(seconds=599))
    assert api.get(item["pdf_link"]).status_code == 200
    frozen_now.shift(dt.timedelta(seconds=2))
    expired = api.get(item["pdf_link"])
    assert expired.status_code == 410 and expired.json()["code"] == "link_expired"
    assert api.get(item["pdf_link"][:-3] + "abc").status_code == 404  # tampered signature
    assert api.get(f"/api/v1/campaigns/{package.campaign_id}/packages/download/").status_code == 404
    # listing again gives fresh links
    assert api.get(_links(api, package.campaign_id)["pdf_link"]).status_code == 200


def test_only_agency_staff_build_packages_through_the_api(live_campaign, api_as, operator_role_user):
    campaign, _ = live_campaign(leads=0, mode="dry_run")
    client_user = ClientUserFactory(client=campaign.client)
    url = f"/api/v1/campaigns/{campaign.pk}/packages/"
    assert api_as(client_user).post(url).status_code == 403
    response = api_as(operator_role_user).post(url)
    assert response.status_code == 201 and response.json()["version"] == 1
    assert DeliveryPackage.objects.get(campaign=campaign).created_by == operator_role_user


# --- the admin, as an operator (not a superuser) ---------------------------------------------------


def test_operator_role_builds_lists_and_downloads_packages_in_the_admin(
    live_campaign, client, operator_role_user
):
    campaign, _ = live_campaign(leads=0, mode="dry_run")
    client.force_login(operator_role_user)

    add = reverse("admin:deliverables_deliverypackage_add")
    form = client.get(f"{add}?campaign={campaign.pk}")
    assert form.status_code == 200 and campaign.name in form.content.decode()
    built = client.post(add, {"campaign": campaign.pk})
    assert built.status_code == 302
    package = DeliveryPackage.objects.get(campaign=campaign)
    assert package.created_by == operator_role_user

    listing = client.get(reverse("admin:deliverables_deliverypackage_changelist"))
    assert listing.status_code == 200 and str(package) in listing.content.decode()
    pdf = client.get(reverse("admin:deliverables_deliverypackage_download", args=[package.pk, "pdf"]))
    assert pdf.status_code == 200 and campaign.name in pdf_text(b"".join(pdf.streaming_content))
    page = client.get(reverse("admin:campaigns_campaign_change", args=[campaign.pk]))
    assert page.status_code == 200 and "Build a delivery package" in page.content.decode()


@pytest.mark.parametrize("role", ["operator_role_user", "approver_role_user", "admin_role_user", "operator"])
def test_every_staff_role_may_build_packages_and_review_reports(live_campaign, request, role):
    """The docs/SECURITY.md rows of package.build and client_report.review: every staff role, no
    client user."""
    from campaigns.permissions import is_allowed

    campaign, _ = live_campaign(leads=0, mode="dry_run")
    user = request.getfixturevalue(role)
    client_user = ClientUserFactory(client=campaign.client)
    for action in ("package.build", "client_report.review"):
        assert is_allowed(user, action, campaign)
        assert not is_allowed(client_user, action, campaign)
