"""Operator admin for leads: lead list with filters, the import page and its report (with a CSV
of rejected rows), suppression and consent management, per-campaign lead policy.

Every change goes through ``leads.services`` / ``leads.importers`` (validated, audited), the same
code the API and the commands use. The import pages live in ``leads.admin_imports``.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from simple_history.admin import SimpleHistoryAdmin

from campaigns.admin import CampaignAdminLink, register_campaign_admin_links
from campaigns.errors import DomainError
from campaigns.models import Campaign

from . import admin_imports  # noqa: F401  (registers the import pages)
from .models import (
    ConsentRecord,
    LawfulBasis,
    Lead,
    LeadImport,
    LeadPolicy,
    LeadState,
    Suppression,
    SuppressionReason,
)
from .selectors import contactability_blockers, leads_of_campaign, suppressed_leads
from .services import (
    add_suppression,
    record_consent,
    remove_suppression,
    set_lead_policy,
    transition_lead,
    withdraw_consent,
)

STATE_COLOURS = {
    LeadState.NEW: "#6c757d",
    LeadState.ENRICHED: "#0d6efd",
    LeadState.CONTACTED: "#fd7e14",
    LeadState.REPLIED: "#20c997",
    LeadState.QUALIFIED: "#198754",
    LeadState.WON: "#146c43",
    LeadState.LOST: "#495057",
    LeadState.UNSUBSCRIBED: "#dc3545",
    LeadState.BOUNCED: "#dc3545",
    LeadState.DO_NOT_CONTACT: "#dc3545",
}

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


@admin.register(Lead)
class LeadAdmin(SimpleHistoryAdmin):
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
    list_filter = ["state", ScoreBandFilter, "source", SuppressedFilter, "campaign__client", "campaign"]
    search_fields = ["normalized_email", "company", "last_name"]
    list_select_related = ["campaign", "campaign__client"]
    ordering = ["-id"]  # newest first through the primary key; sorting millions by score is opt-in
    show_full_result_count = False  # an exact count of millions of leads costs more than the page
    actions = ["mark_do_not_contact"]
    readonly_fields = [
        "contactability",
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
        "contactability",
        "enrichment",
        "erased_at",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # leads arrive through imports (one validation path)

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False  # the admin shows; services change

    @admin.display(description="state", ordering="state")
    def state_badge(self, lead: Lead) -> str:
        return format_html(
            '<span style="background:{};color:#fff;padding:2px 8px;border-radius:10px">{}</span>',
            STATE_COLOURS.get(lead.state, "#6c757d"),
            lead.get_state_display(),
        )

    @admin.display(description="May outreach contact this lead?")
    def contactability(self, lead: Lead) -> str:
        blockers = contactability_blockers(lead)
        return "Yes" if not blockers else "No — " + " ".join(blockers)

    @admin.action(description="Mark selected leads do-not-contact")
    def mark_do_not_contact(self, request: HttpRequest, queryset) -> None:
        done = 0
        for lead in queryset.order_by("pk"):
            try:
                transition_lead(
                    lead=lead, transition="forbid_contact", actor=request.user, rationale="Admin action"
                )
                done += 1
            except DomainError as exc:
                self.message_user(request, f"{lead}: {exc}", messages.WARNING)
        self.message_user(request, f"{done} leads marked do-not-contact.", messages.SUCCESS)


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


class RationaleForm(forms.Form):
    rationale = forms.CharField(widget=forms.Textarea(attrs={"rows": 3, "cols": 80}), max_length=2000)


@admin.register(Suppression)
class SuppressionAdmin(admin.ModelAdmin):
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

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # removal needs a rationale: use the action

    def save_model(self, request, obj, form, change):
        if change:
            return
        data = form.cleaned_data
        try:
            entry = add_suppression(
                reason=data["reason"],
                email=data.get("email") or None,
                domain=data.get("domain") or None,
                client=data.get("client"),
                source=data.get("source") or "admin",
                note=data.get("note", ""),
                actor=request.user,
            )
        except DomainError as exc:
            raise ValidationError(str(exc)) from exc
        obj.pk = entry.pk

    def add_view(self, request, form_url="", extra_context=None):
        try:
            return super().add_view(request, form_url, extra_context)
        except ValidationError as exc:
            self.message_user(request, " ".join(exc.messages), messages.ERROR)
            return HttpResponseRedirect(request.path)

    @admin.action(description="Remove selected suppressions (asks why)")
    def remove_with_rationale(self, request: HttpRequest, queryset):
        form = RationaleForm(request.POST if "rationale" in request.POST else None)
        if form.is_bound and form.is_valid():
            removed = 0
            for entry in queryset.order_by("pk"):
                try:
                    remove_suppression(
                        suppression=entry, rationale=form.cleaned_data["rationale"], actor=request.user
                    )
                    removed += 1
                except DomainError as exc:
                    self.message_user(request, f"{entry}: {exc}", messages.WARNING)
            self.message_user(request, f"{removed} suppressions removed.", messages.SUCCESS)
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": "Why are these suppressions lifted?",
            "form": form,
            "entries": queryset,
            "opts": self.model._meta,
            "action": "remove_with_rationale",
            "selected": request.POST.getlist(admin.helpers.ACTION_CHECKBOX_NAME),
        }
        return TemplateResponse(request, "admin/leads/suppression/remove.html", context)


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
class ConsentRecordAdmin(SimpleHistoryAdmin):
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

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # evidence is withdrawn, not deleted (erasure removes it with forget_person)

    def save_model(self, request, obj, form, change):
        if change:
            return
        data = form.cleaned_data
        try:
            record = record_consent(
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
        except DomainError as exc:
            raise ValidationError(str(exc)) from exc
        obj.pk = record.pk

    @admin.action(description="Withdraw selected consents")
    def withdraw(self, request: HttpRequest, queryset) -> None:
        for record in queryset.order_by("pk"):
            withdraw_consent(consent=record, actor=request.user)
        self.message_user(request, f"{queryset.count()} consent records withdrawn.", messages.SUCCESS)


@admin.register(LeadPolicy)
class LeadPolicyAdmin(SimpleHistoryAdmin):
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
