"""The shared admin kit (campaigns.admin_kit): permissions declared as the registered actions the
API asks, refusals on the form or as messages (never a 403 for a validation problem), framework
models for superusers and the admin role only, channels as checkboxes, JSON and codes in words."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group, Permission
from django.test import RequestFactory
from django.urls import reverse

from campaigns.admin_kit.base import (
    AicmoModelAdmin,
    AicmoTabularInline,
    DeclaredPermissionsMixin,
    ReadOnlyAdminMixin,
)
from campaigns.admin_kit.display import json_html
from campaigns.admin_kit.framework import FrameworkModelAdminMixin, is_framework_app
from campaigns.models import AuditEvent, Campaign, RiskFlag
from campaigns.permissions import is_allowed
from campaigns.services.editing import create_campaign
from campaigns.services.risk_flags import assess_risk
from campaigns.services.transitions import transition_campaign
from tests.factories import CampaignFactory, ClientUserFactory, StaffUserFactory, UserFactory

pytestmark = pytest.mark.django_db

PROJECT_APPS = {"campaigns", "strategy", "creative", "leads", "outreach", "reporting", "webhooks"}


def _request(user):
    request = RequestFactory().get("/admin/")
    request.user = user
    return request


@pytest.fixture
def users(operator_role_user, approver_role_user, admin_role_user):
    return {
        "no role": UserFactory(username="staff-without-role", is_staff=True, is_superuser=False),
        "operator": operator_role_user,
        "approver": approver_role_user,
        "admin": admin_role_user,
        "superuser": StaffUserFactory(username="kit-superuser"),
        "client user": ClientUserFactory(),
    }


class BudgetDeclaredAdmin(AicmoModelAdmin):
    """An admin declaring an admin-role action for change and an approver one for delete."""

    change_action = "campaign.change_budget"
    delete_action = "risk.override"


# role -> (may change (campaign.change_budget), may delete (risk.override))
EXPECTED = {
    "no role": (False, False),
    "operator": (False, False),
    "approver": (False, True),
    "admin": (True, True),
    "superuser": (True, True),
    "client user": (False, False),
}


@pytest.mark.parametrize("role", list(EXPECTED))
def test_declared_actions_decide_per_role_as_the_api_does(users, role):
    user = users[role]
    campaign = CampaignFactory()
    model_admin = BudgetDeclaredAdmin(Campaign, admin.site)
    request = _request(user)
    may_change = model_admin.has_change_permission(request, campaign)
    may_delete = model_admin.has_delete_permission(request, campaign)
    assert (may_change, may_delete) == EXPECTED[role]
    # The same answer as the API's permission class and the services get from is_allowed.
    assert may_change == is_allowed(user, "campaign.change_budget", campaign)
    assert may_delete == is_allowed(user, "risk.override", campaign)


@pytest.mark.parametrize("role", ["no role", "operator", "approver", "admin", "superuser"])
def test_the_campaign_admin_allows_each_role_what_its_actions_allow(client, users, role):
    user = users[role]
    campaign = CampaignFactory()
    model_admin = admin.site.get_model_admin(Campaign)
    request = _request(user)
    assert model_admin.has_add_permission(request) == is_allowed(user, "campaign.create")
    assert model_admin.has_change_permission(request, campaign) == is_allowed(
        user, "campaign.set_agency_fields", campaign
    )
    assert model_admin.has_delete_permission(request, campaign) is False  # killed, never deleted
    client.force_login(user)
    add_page = client.get(reverse("admin:campaigns_campaign_add"))
    assert add_page.status_code == (403 if role == "no role" else 200)


def test_a_final_campaign_is_a_record_for_everyone(users):
    campaign = CampaignFactory()
    transition_campaign(campaign=campaign, transition="kill", rationale="ended")
    campaign.refresh_from_db()
    model_admin = admin.site.get_model_admin(Campaign)
    assert not model_admin.has_change_permission(_request(users["superuser"]), campaign)
    assert model_admin.has_view_permission(_request(users["operator"]), campaign)


def test_read_only_tables_are_read_only_even_for_superusers(users):
    request = _request(users["superuser"])
    for model in (AuditEvent,):
        model_admin = admin.site.get_model_admin(model)
        assert isinstance(model_admin, ReadOnlyAdminMixin)
        assert model_admin.has_view_permission(request)
        assert not model_admin.has_add_permission(request)
        assert not model_admin.has_change_permission(request)
        assert not model_admin.has_delete_permission(request)


def test_every_admin_of_the_project_builds_on_the_kit():
    for model, model_admin in admin.site._registry.items():
        if model._meta.app_label not in PROJECT_APPS:
            continue
        assert isinstance(model_admin, AicmoModelAdmin), model
        for inline in model_admin.inlines:
            assert issubclass(inline, AicmoTabularInline | DeclaredPermissionsMixin), inline
        # No admin decides a permission by a method of its own: the kit's declarations do.
        for name in ("has_add_permission", "has_change_permission", "has_delete_permission"):
            owner = next(k for k in type(model_admin).__mro__ if name in vars(k))
            assert owner.__module__.startswith(("campaigns.admin_kit", "django.", "simple_history")), (
                model,
                name,
                owner,
            )


# --- refusals: on the form or as a message, never a 403 for a validation problem ---------------


def _change_form_data(response) -> dict:
    form = response.context["adminform"].form
    data = {}
    for name in form.fields:
        value = form[name].value()
        if value is None:
            continue
        if isinstance(value, dt.date):
            value = value.isoformat()
        data[name] = value
    for inline in response.context["inline_admin_formsets"]:
        management = inline.formset.management_form
        data.update({management.add_prefix(k): v for k, v in management.initial.items()})
    return data


def test_a_service_validation_error_on_save_shows_on_the_form_not_a_403(client, operator_role_user):
    campaign = create_campaign(client=CampaignFactory().client, name="Dates", objective="Calls")
    client.force_login(operator_role_user)
    url = reverse("admin:campaigns_campaign_change", args=[campaign.pk])
    data = _change_form_data(client.get(url))
    data["timezone"] = "Mars/Olympus_Mons"  # the form takes any text; the service checks the zone
    response = client.post(url, data)
    assert response.status_code == 200  # the form again, not a 403 page
    form = response.context["adminform"].form
    assert "Unknown time zone 'Mars/Olympus_Mons'" in form.errors["timezone"][0]
    campaign.refresh_from_db()
    assert campaign.timezone == "UTC"  # nothing was saved


def test_a_refusal_in_an_admin_action_is_a_message_not_a_403(client, operator_role_user):
    draft = CampaignFactory(name="Still a draft")
    changelist = reverse("admin:campaigns_campaign_changelist")
    client.force_login(operator_role_user)
    response = client.post(
        changelist,
        {"action": "resume_selected", "_selected_action": [draft.pk], "apply": "1", "rationale": "go"},
        follow=True,
    )
    assert response.status_code == 200
    errors = [str(m) for m in response.context["messages"] if m.level_tag == "error"]
    assert len(errors) == 1 and errors[0].startswith("Still a draft") and "resume" in errors[0].lower()


def test_a_role_refusal_stays_a_403_that_names_the_permission_and_the_role(client, operator_role_user):
    campaign = CampaignFactory()
    client.force_login(operator_role_user)
    response = client.post(
        reverse("admin:campaigns_campaign_budget", args=[campaign.pk]), {"budget_cap": "5", "rationale": "x"}
    )
    assert response.status_code == 403
    text = response.content.decode()
    assert "campaigns.manage_budget" in text and "Admin" in text and "Operator" in text


# --- framework models: superusers and the admin role only ----------------------------------------

FRAMEWORK_PAGES = {
    "Groups": "/admin/auth/group/",
    "Tokens": "/admin/authtoken/tokenproxy/",
    "Solar events": "/admin/django_celery_beat/solarschedule/",
    "Crontabs": "/admin/django_celery_beat/crontabschedule/",
    "Access attempts": "/admin/axes/accessattempt/",
}


def test_framework_models_are_restricted_and_ours_are_not():
    framework = {
        m._meta.app_label for m, ma in admin.site._registry.items() if is_framework_app(m._meta.app_label)
    }
    assert {"auth", "authtoken", "django_celery_beat", "axes"} <= framework
    assert not framework & PROJECT_APPS
    for model, model_admin in admin.site._registry.items():
        assert isinstance(model_admin, FrameworkModelAdminMixin) == (model._meta.app_label in framework)


def test_operators_do_not_see_framework_models_even_with_their_permissions(client, operator_role_user):
    # Granted by hand: the operator role still does not see them.
    operator_role_user.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label__in=["auth", "authtoken", "django_celery_beat", "axes"],
            codename__startswith="view_",
        )
    )
    client.force_login(operator_role_user)
    index = client.get("/admin/").content.decode()
    assert "Campaigns" in index
    for label, url in FRAMEWORK_PAGES.items():
        assert url not in index, label
        assert client.get(url).status_code == 403, label


def test_superusers_and_the_admin_role_see_framework_models(client, admin_role_user):
    client.force_login(StaffUserFactory(username="kit-root"))
    index = client.get("/admin/").content.decode()
    for label, url in FRAMEWORK_PAGES.items():
        assert url in index, label
        assert client.get(url).status_code == 200, label
    groups = Group.objects.get(name="admin")
    groups.permissions.add(Permission.objects.get(content_type__app_label="auth", codename="view_group"))
    client.force_login(admin_role_user)
    assert client.get(FRAMEWORK_PAGES["Groups"]).status_code == 200


def test_the_sidebar_says_sending_mailboxes(client, operator_role_user):
    client.force_login(operator_role_user)
    index = client.get("/admin/").content.decode()
    assert "Sending mailboxes" in index and "mailboxs" not in index


# --- channels as checkboxes -----------------------------------------------------------------------


def test_channels_are_checkboxes_that_round_trip(client, operator_role_user):
    campaign = create_campaign(
        client=CampaignFactory().client,
        name="Two channels",
        objective="Calls",
        channels=["email", "linkedin"],
    )
    client.force_login(operator_role_user)
    url = reverse("admin:campaigns_campaign_change", args=[campaign.pk])
    page = client.get(url)
    html = page.content.decode()
    for key in ("email", "linkedin", "instagram", "x"):
        assert f'type="checkbox" name="channels" value="{key}"' in html
    checked = page.context["adminform"].form["channels"].value()
    assert checked == ["email", "linkedin"]

    data = _change_form_data(page)
    data["channels"] = ["x", "email"]
    assert client.post(url, data).status_code == 302
    campaign.refresh_from_db()
    assert campaign.channels == ["email", "x"]  # in the order of CHANNELS

    data.pop("channels")
    refused = client.post(url, data)
    assert refused.status_code == 200
    assert refused.context["adminform"].form.errors["channels"][0].startswith("Pick at least one channel")
    campaign.refresh_from_db()
    assert campaign.channels == ["email", "x"]


# --- codes and JSON in words ---------------------------------------------------------------------


def test_json_is_a_table_with_words():
    html = json_html({"reply_rate": 0.05, "changed": ["name", "mailbox"], "steps": [{"per_week": 2}]})
    assert "<table" in html and "Reply rate" in html and "5.0 %" in html
    assert "Changed fields" in html and "<li>mailbox</li>" in html and "Per week" in html
    assert "{" not in html


def test_risk_rules_and_audit_metadata_are_shown_in_words(client, operator_role_user):
    campaign = CampaignFactory()
    assess_risk(campaign=campaign, target=campaign, texts=["guaranteed results"])
    flag = RiskFlag.objects.get(code="claims.absolute")
    client.force_login(operator_role_user)
    listing = client.get(reverse("admin:campaigns_riskflag_changelist")).content.decode()
    assert "Absolute claim (a promise nobody can keep)" in listing
    detail = client.get(reverse("admin:campaigns_riskflag_change", args=[flag.pk])).content.decode()
    assert "Absolute claim" in detail
    event = AuditEvent.objects.create(
        verb="test.recorded",
        campaign=campaign,
        metadata={"reply_rate": 0.25, "changed": ["name"]},
        created_at=dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC),
    )
    page = client.get(reverse("admin:campaigns_auditevent_change", args=[event.pk])).content.decode()
    assert 'class="json-table"' in page and "Reply rate" in page and "25.0 %" in page
    assert "&quot;reply_rate&quot;" not in page and '"reply_rate"' not in page


def test_a_declared_action_that_is_not_registered_fails_the_system_check():
    class Misdeclared(AicmoModelAdmin):
        change_action = "campaign.change_the_weather"

    errors = Misdeclared(Campaign, admin.site).check()
    assert [e.id for e in errors] == ["aicmo.E001"] and "campaign.change_the_weather" in errors[0].msg
