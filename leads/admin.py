"""Operator admin for leads: lead list with filters, the import page and its report (with a CSV
of rejected rows), suppression and consent management, per-campaign lead policy.

Every change goes through ``leads.services`` / ``leads.importers`` (validated, audited), the same
code the API and the commands use. The import pages live in ``leads.admin_imports``.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.urls import reverse

from campaigns.admin_kit.actions import reason_action
from campaigns.admin_kit.base import NOBODY, AicmoHistoryAdmin, AicmoModelAdmin
from campaigns.admin_kit.display import state_column
from campaigns.admin_links import CampaignAdminLink, register_campaign_admin_links
from campaigns.models import Campaign

from . import admin_imports  # noqa: F401  (registers the import pages)
from .models import (
    ConsentRecord,
    LawfulBasis,
    Lead,
    LeadImport,
    LeadPolicy,
    Suppression,
    SuppressionReason,
)
from .selectors import contactability_blockers, leads_of_campaign, suppressed_leads
from .services import (
    add_suppression,
    record_consent,
    release_lead,
    remove_suppression,
    set_lead_policy,
    transition_lead,
    withdraw_consent,
)

SCORE_BANDS = {
    "high": (0.7, 1.01, "High (≥ 0.7)"),
    "medium": (0.4, 0.7, "Medium"),
    "low": (0.0, 0.4, "Low (< 0.4)"),
}


def campaign_lead_links(request: HttpRequest, campaign: Campaign) -> list[CampaignAdminLink]:
    """The lead steps on the campaign page: import a CSV, the latest import's report, the leads."""
    user = request.user
    links: list[CampaignAdminLink] = []
    if user.has_perm("leads.add_leadimport") and not campaign.is_final:
        links.append(
            CampaignAdminLink(
                key="leads-import",
                label="Import leads (CSV)",
                url=f"{reverse('admin:leads_leadimport_upload')}?campaign={campaign.pk}",
            )
        )
    latest = LeadImport.objects.filter(campaign=campaign).order_by("-pk").first()
    if latest is not None and user.has_perm("leads.view_leadimport"):
        links.append(
            CampaignAdminLink(
                key="leads-import-report",
                label="Latest import report",
                url=reverse("admin:leads_leadimport_change", args=[latest.pk]),
                note=f"{latest.inserted} inserted, {latest.rejected} rejected",
            )
        )
    if user.has_perm("leads.view_lead"):
        links.append(
            CampaignAdminLink(
                key="leads-list",
                label="Leads",
                url=f"{reverse('admin:leads_lead_changelist')}?campaign__id__exact={campaign.pk}",
                note=str(leads_of_campaign(campaign).count()),
            )
        )
    return links


register_campaign_admin_links("Leads", campaign_lead_links, order=30)


class ScoreBandFilter(admin.SimpleListFilter):
    title = "score band"
    parameter_name = "score_band"

    def lookups(self, request, model_admin):
        return [(key, label) for key, (_, _, label) in SCORE_BANDS.items()]

    def queryset(self, request, queryset):
        if self.value() in SCORE_BANDS:
            low, high, _ = SCORE_BANDS[self.value()]
            return queryset.filter(score__gte=low, score__lt=high)
        return queryset


class SuppressedFilter(admin.SimpleListFilter):
    title = "suppressed"
    parameter_name = "suppressed"

    def lookups(self, request, model_admin):
        return [("yes", "Suppressed"), ("no", "Not suppressed")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(pk__in=suppressed_leads(Lead.objects.all()).values("pk"))
        if self.value() == "no":
            return queryset.exclude(pk__in=suppressed_leads(Lead.objects.all()).values("pk"))
        return queryset


class HeldFilter(admin.SimpleListFilter):
    title = "held for review"
    parameter_name = "held"

    def lookups(self, request, model_admin):
        return [("yes", "Held (not contacted until released)"), ("no", "Not held")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.exclude(hold_reason="")
        if self.value() == "no":
            return queryset.filter(hold_reason="")
        return queryset


@admin.register(Lead)
class LeadAdmin(AicmoHistoryAdmin):
    add_action = NOBODY  # leads arrive through imports (one validation path)
    change_action = NOBODY  # the admin shows; services change
    list_display = [
        "email",
        "full_name",
        "company",
        "title",
        "country",
        "state_badge",
        "score",
        "source",
        "campaign",
        "next_action_at",
    ]
    list_filter = [
        "state",
        ScoreBandFilter,
        "source",
        SuppressedFilter,
        HeldFilter,
        "campaign__client",
        "campaign",
    ]
    search_fields = ["normalized_email", "company", "last_name"]
    list_select_related = ["campaign", "campaign__client"]
    ordering = ["-id"]  # newest first through the primary key; sorting millions by score is opt-in
    show_full_result_count = False  # an exact count of millions of leads costs more than the page
    actions = ["mark_do_not_contact", "release_for_outreach"]
    readonly_fields = [
        "contactability",
        "hold_reason",
        "source_import",
        "erased_at",
        "state",
        "normalized_email",
        "email_domain",
    ]
    fields = [
        "campaign",
        "email",
        "normalized_email",
        "email_domain",
        ("first_name", "last_name"),
        ("title", "company"),
        ("company_size", "industry"),
        ("country", "timezone"),
        "linkedin_url",
        ("source", "source_import"),
        ("score", "next_action_at"),
        "state",
        "state_reason",
        "hold_reason",
        "contactability",
        "enrichment",
        "erased_at",
    ]

    state_badge = state_column("state", "state")

    @admin.display(description="May outreach contact this lead?")
    def contactability(self, lead: Lead) -> str:
        blockers = contactability_blockers(lead)
        return "Yes" if not blockers else "No — " + " ".join(blockers)

    mark_do_not_contact = reason_action(
        lambda lead, user, why: transition_lead(
            lead=lead, transition="forbid_contact", actor=user, rationale=why
        ),
        description="Mark selected leads do-not-contact (asks why)",
        label="Mark do-not-contact",
        noun="lead(s)",
        narrow=lambda queryset: queryset.order_by("pk"),
    )

    release_for_outreach = reason_action(
        lambda lead, user, why: release_lead(lead=lead, actor=user, rationale=why),
        description="Release selected held leads for outreach",
        label="Released for outreach",
        noun="lead(s)",
        required=False,
        narrow=lambda queryset: queryset.exclude(hold_reason="").order_by("pk"),
    )


class SuppressionAddForm(forms.ModelForm):
    email = forms.CharField(required=False, help_text="An address; matched in its normalized form.")
    domain = forms.CharField(required=False, help_text="Or a whole domain, e.g. example.com.")

    class Meta:
        model = Suppression
        fields = ["client", "email", "domain", "reason", "source", "note"]

    def clean(self):
        data = super().clean()
        if bool(data.get("email")) == bool(data.get("domain")):
            raise ValidationError("Give either an email address or a domain.")
        if data.get("reason") == SuppressionReason.ERASED:
            raise ValidationError({"reason": "Erasure entries are made by forget_person only."})
        return data


@admin.register(Suppression)
class SuppressionAdmin(AicmoModelAdmin):
    add_action = "suppression.add"
    delete_action = NOBODY  # removal needs a rationale: use the action
    list_display = ["value", "kind", "reason", "scope", "source", "created_by", "created_at"]
    list_filter = ["kind", "reason", "client"]
    search_fields = ["value", "source", "note"]
    actions = ["remove_with_rationale"]

    @admin.display(description="scope")
    def scope(self, entry: Suppression) -> str:
        return str(entry.client) if entry.client_id else "Global"

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = SuppressionAddForm
        return super().get_form(request, obj, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return ["client", "kind", "value", "reason", "source", "note", "created_by", "created_at"]

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["client", "email", "domain", "reason", "source", "note"]
        return self.get_readonly_fields(request, obj)

    def save_model(self, request, obj, form, change):
        if change:
            return
        data = form.cleaned_data
        entry = add_suppression(  # a refusal shows on the form (the kit's refusals)
            reason=data["reason"],
            email=data.get("email") or None,
            domain=data.get("domain") or None,
            client=data.get("client"),
            source=data.get("source") or "admin",
            note=data.get("note", ""),
            actor=request.user,
        )
        obj.pk = entry.pk

    remove_with_rationale = reason_action(
        lambda entry, user, why: remove_suppression(suppression=entry, rationale=why, actor=user),
        description="Remove selected suppressions (asks why)",
        label="Remove suppressions",
        noun="suppression(s)",
        title="Why are these suppressions lifted?",
        intro="These entries will be removed; the reason is kept in the audit log. Erasure entries "
        "cannot be removed.",
        narrow=lambda queryset: queryset.order_by("pk"),
    )


class ConsentAddForm(forms.ModelForm):
    class Meta:
        model = ConsentRecord
        fields = [
            "client",
            "email",
            "lawful_basis",
            "source",
            "wording",
            "wording_version",
            "captured_at",
            "evidence",
        ]


@admin.register(ConsentRecord)
class ConsentRecordAdmin(AicmoHistoryAdmin):
    delete_action = NOBODY  # evidence is withdrawn, not deleted (erasure removes it with forget_person)
    list_display = [
        "email",
        "client",
        "lawful_basis",
        "source",
        "wording_version",
        "captured_at",
        "withdrawn_at",
    ]
    list_filter = ["lawful_basis", "client", ("withdrawn_at", admin.EmptyFieldListFilter)]
    search_fields = ["normalized_email", "source"]
    actions = ["withdraw"]
    form = ConsentAddForm

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return [f.name for f in ConsentRecord._meta.fields if f.name != "id"]

    def save_model(self, request, obj, form, change):
        if change:
            return
        data = form.cleaned_data
        record = record_consent(  # a refusal shows on the form (the kit's refusals)
            client=data["client"],
            email=data["email"],
            lawful_basis=data.get("lawful_basis") or LawfulBasis.CONSENT,
            source=data["source"],
            wording=data.get("wording", ""),
            wording_version=data.get("wording_version", ""),
            captured_at=data.get("captured_at"),
            evidence=data.get("evidence") or {},
            actor=request.user,
        )
        obj.pk = record.pk

    withdraw = reason_action(
        lambda record, user, _why: withdraw_consent(consent=record, actor=user),
        description="Withdraw selected consents",
        label="Withdraw consent",
        noun="record(s)",
        ask=False,
        narrow=lambda queryset: queryset.order_by("pk"),
    )


@admin.register(LeadPolicy)
class LeadPolicyAdmin(AicmoHistoryAdmin):
    list_display = ["campaign", "unknown_country_needs_consent", "has_icp_weights"]
    fields = ["campaign", "unknown_country_needs_consent", "icp_weights"]

    @admin.display(boolean=True, description="ICP weights")
    def has_icp_weights(self, policy: LeadPolicy) -> bool:
        return bool(policy.icp_weights)

    def save_model(self, request, obj, form, change):
        policy = set_lead_policy(
            campaign=obj.campaign,
            unknown_country_needs_consent=obj.unknown_country_needs_consent,
            icp_weights=obj.icp_weights,
            actor=request.user,
        )
        obj.pk = policy.pk
