"""Operator admin: clients, users, campaigns with lifecycle buttons, and the audit timeline.

Lifecycle buttons and list actions call the same services as the API (one behaviour, one place),
so every change is validated, row-locked and audited. django-fsm-2's own admin mixin calls the
model's transition methods directly, which would skip the audit, so we do not use it. Every admin
class builds on the shared kit (``campaigns.admin_kit``); the governance pages are in
``campaigns.admin_governance``, the links other apps put on the campaign page in
``campaigns.admin_links``.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from . import admin_governance  # noqa: F401  (registers the governance pages)
from .admin_kit.actions import ReasonForm, reason_action
from .admin_kit.base import NOBODY, AicmoHistoryAdmin, AicmoModelAdmin, AicmoTabularInline, ReadOnlyAdminMixin
from .admin_kit.display import campaign_time_column, label_column, state_column
from .admin_kit.fields import ChannelsField
from .admin_kit.framework import restrict_framework_models
from .admin_kit.refusals import refusals_as_messages
from .admin_links import campaign_admin_link_sections, safe_next, wizard_brief_url
from .admin_tokens import ApiTokenAdminMixin
from .exports import csv_lines
from .lifecycle import LIFECYCLE, step_blockers
from .models import Campaign, CampaignState, Client, RiskFlag, User
from .permissions import is_allowed, pause_status, require_action
from .selectors import (
    BUDGET_EXHAUSTED,
    BUDGET_WARNING,
    TimelineEntry,
    available_transitions,
    budget_status,
    campaign_timeline_entries,
    effective_policy,
    spending_blocked_reason,
    timeline_kinds,
)
from .sender_identity import IDENTITY_FIELDS, sender_identity, validate_identity_values
from .services.budget import raise_budget_cap
from .services.editing import CREATE_ONLY_FIELDS, EDITABLE_FIELDS, create_campaign, update_campaign
from .services.risk_flags import assess_campaign_risk, high_risk_notice
from .services.sender_identity import set_sender_identity
from .services.transitions import transition_campaign

TIMELINE_REASON_HELP = "Why. Recorded in the campaign's audit timeline."


SENDER_IDENTITY_HELP = (
    "Who this client's emails come from (docs/senders.md). The postal address is required for live "
    "email: there is no default. A sequence's mailbox, where it has one, gives the From instead."
)


class ClientAdminForm(forms.ModelForm):
    def clean(self):
        cleaned = super().clean()
        try:
            cleaned.update(validate_identity_values({k: cleaned.get(k) or "" for k in IDENTITY_FIELDS}))
        except ValidationError as exc:
            for name, errors in exc.message_dict.items():
                self.add_error(name if name in self.fields else None, errors)
        return cleaned


@admin.register(Client)
class ClientAdmin(AicmoHistoryAdmin):
    # Operators onboard a client's sender identity (the page opens for them); its name, slug and
    # active flag stay the admin's (read-only without campaigns.change_client).
    change_action = "sender_identity.set"
    form = ClientAdminForm
    list_display = ["name", "slug", "is_active", "sender_from_email", "sending_domain", "created_at"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ("name",)}
    list_filter = ["is_active"]
    fieldsets = (
        (None, {"fields": ("name", "slug", "is_active")}),
        ("Sender identity", {"fields": tuple(IDENTITY_FIELDS), "description": SENDER_IDENTITY_HELP}),
    )

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None and not request.user.has_perm("campaigns.change_client"):
            fields += ["name", "slug", "is_active"]
        return fields

    def get_prepopulated_fields(self, request, obj=None):
        if "slug" in self.get_readonly_fields(request, obj):
            return {}
        return super().get_prepopulated_fields(request, obj)

    def save_model(self, request, obj, form, change):
        # The identity goes through its service (validated, audited); the rest as before.
        identity = {k: form.cleaned_data[k] for k in IDENTITY_FIELDS if k in form.cleaned_data}
        before = Client.objects.get(pk=obj.pk) if change else Client()
        for name in identity:
            setattr(obj, name, getattr(before, name))
        if not change or request.user.has_perm("campaigns.change_client"):
            super().save_model(request, obj, form, change)
        set_sender_identity(target=obj, values=identity, actor=request.user)

    def response_add(self, request, obj, post_url_continue=None):
        # The wizard's first step: a new client's next page is its first campaign, not the list.
        if "_save" in request.POST and request.user.has_perm("campaigns.add_campaign"):
            self.message_user(request, f"Client “{obj}” added. Now its first campaign.", messages.SUCCESS)
            return HttpResponseRedirect(f"{reverse('admin:campaigns_campaign_add')}?client={obj.pk}")
        return super().response_add(request, obj, post_url_continue)


@admin.register(User)
class UserAdmin(ApiTokenAdminMixin, DjangoUserAdmin, AicmoModelAdmin):
    list_display = ["username", "email", "client", "is_staff", "is_active"]
    list_filter = ["is_staff", "is_active", "client"]
    fieldsets = (*DjangoUserAdmin.fieldsets, ("Client", {"fields": ("client",)}))
    add_fieldsets = (*DjangoUserAdmin.add_fieldsets, ("Client", {"fields": ("client",)}))


class BudgetCapForm(forms.Form):
    budget_cap = forms.DecimalField(
        required=False,
        min_value=0,
        max_digits=12,
        decimal_places=2,
        help_text="Leave empty to remove the cap.",
    )
    rationale = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "cols": 80}),
        max_length=2000,
        help_text=TIMELINE_REASON_HELP,
    )


class CampaignAdminForm(forms.ModelForm):
    """The campaign's fields come from the admin's fieldsets; channels are checkboxes."""

    channels = ChannelsField()

    class Meta:
        model = Campaign
        fields = ["channels"]


class RiskFlagInline(ReadOnlyAdminMixin, AicmoTabularInline):
    model = RiskFlag
    fk_name = "campaign"
    extra = 0
    fields = [
        "severity",
        "code_label",
        "message",
        "target_repr",
        "status",
        "resolution_rationale",
        "created_at",
    ]
    readonly_fields = fields
    code_label = label_column("code", "Rule")
    ordering = ["status", "-created_at"]
    verbose_name_plural = "Risk flags"


def timeline_csv_response(campaign: Campaign, entries: list[TimelineEntry]) -> StreamingHttpResponse:
    rows = csv_lines([TimelineEntry.CSV_HEADER, *(e.as_row() for e in entries)])
    response = StreamingHttpResponse(rows, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="campaign-{campaign.pk}-timeline.csv"'
    return response


def transition_action(transition: str, description: str):
    """A list action taking one lifecycle step on each selected campaign, with a rationale."""
    step = LIFECYCLE[transition]
    return reason_action(
        lambda campaign, user, why: transition_campaign(
            campaign=campaign, transition=transition, actor=user, rationale=why
        ),
        description=description,
        label=step.label.capitalize(),
        noun="campaign(s)",
        required=step.rationale_required,
        help_text=TIMELINE_REASON_HELP,
        intro=f"These campaigns will be asked to {step.label}; any whose state does not allow it is "
        "reported and left as it is.",
    )


@admin.register(Campaign)
class CampaignAdmin(AicmoHistoryAdmin):
    add_action = "campaign.create"
    change_action = "campaign.set_agency_fields"
    delete_action = NOBODY  # campaigns carry the audit trail of every decision: killed, never deleted
    locked_when = "is_final"  # a completed or cancelled campaign is a record
    form = CampaignAdminForm
    change_form_template = "admin/campaigns/campaign/change_form.html"
    list_display = [
        "name",
        "client",
        "type",
        "state_display",
        "mode",
        "daily_email_cap",
        "budget_cap",
        "owner",
        "created_at_local",
    ]
    list_filter = ["state", "type", "mode", "client"]
    search_fields = ["name", "client__name", "objective", "target_niche"]
    list_select_related = ["client", "owner"]
    readonly_fields = [
        "state_display",
        "state_reason",
        "state_changed_at_local",
        "pause_display",
        "mode",
        "budget_display",
        "blocked_reason_display",
        "policy_display",
        "created_at_local",
        "updated_at_local",
    ]
    inlines = [RiskFlagInline]
    actions = ["pause_selected", "resume_selected", "kill_selected"]
    state_display = state_column("state", "State")
    pause_selected = transition_action("pause", "Pause selected campaigns")
    resume_selected = transition_action("resume", "Resume selected campaigns")
    kill_selected = transition_action("kill", "Kill selected campaigns (cancels all scheduled work)")
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "client",
                    "name",
                    "type",
                    "owner",
                    "state_display",
                    "state_reason",
                    "state_changed_at_local",
                    "pause_display",
                )
            },
        ),
        ("Goal", {"fields": ("objective", "target_niche", "icp", "target_clients", "target_mrr")}),
        (
            "Execution",
            {
                "fields": (
                    "channels",
                    "daily_email_cap",
                    "timezone",
                    "start_date",
                    "end_date",
                    "mode",
                    "allow_client_approval",
                )
            },
        ),
        (
            "Budget and compliance",
            {
                "fields": (
                    "budget_cap",
                    "currency",
                    "budget_display",
                    "blocked_reason_display",
                    "policy_display",
                )
            },
        ),
        (
            "Sender identity (empty: the client's)",
            {"fields": tuple(IDENTITY_FIELDS), "classes": ("collapse",), "description": SENDER_IDENTITY_HELP},
        ),
        ("Record", {"fields": ("created_at_local", "updated_at_local")}),
    )
    # Every time on the page in the campaign's own zone, named (campaigns.templatetags.campaign_time).
    state_changed_at_local = campaign_time_column("state_changed_at", "State changed", campaign="")
    created_at_local = campaign_time_column("created_at", "Created", campaign="")
    updated_at_local = campaign_time_column("updated_at", "Updated", campaign="")

    @admin.display(description="Paused")
    def pause_display(self, obj: Campaign) -> str:
        status = pause_status(obj) if obj.pk else None
        if status is None:
            return "Not paused."
        return format_html(
            '<span id="pause-status" data-kind="{}" data-safety="{}"><strong>{}</strong>: {}<br>'
            "Who may resume it: {}.</span>",
            status["kind"],
            "yes" if status["safety"] else "no",
            obj.get_pause_kind_display() if obj.pause_kind else "Paused",
            status["reason"] or "no reason recorded",
            status["resumable_by"],
        )

    @admin.display(description="Budget")
    def budget_display(self, obj: Campaign) -> str:
        if not obj.pk:
            return "-"
        status = budget_status(obj)
        if status.cap is None:
            return format_html("Spent {} {} (no cap)", status.as_dict()["spent"], status.currency)
        colour = {BUDGET_WARNING: "#b58105", BUDGET_EXHAUSTED: "#b02a37"}.get(status.level, "#198754")
        data = status.as_dict()
        return format_html(
            '<span id="budget-status" data-level="{}" style="color:{};font-weight:bold">'
            "Spent {} of {} {} ({}%) — {}</span>",
            status.level,
            colour,
            data["spent"],
            data["cap"],
            status.currency,
            data["percent"],
            status.level,
        )

    @admin.display(description="Spending blocked")
    def blocked_reason_display(self, obj: Campaign) -> str:
        reason = spending_blocked_reason(obj) if obj.pk else ""
        if not reason:
            return "No: generation and sending may spend."
        return format_html('<strong id="blocked-reason" style="color:#b02a37">{}</strong>', reason)

    @admin.display(description="Compliance policy")
    def policy_display(self, obj: Campaign) -> str:
        if not obj.pk:
            return "-"
        policy = effective_policy(obj)
        return format_html(
            "From: {} · approvals: {} · consent regions: {} · max daily volume: {} · postal address: {}",
            policy.source,
            ", ".join(policy.required_approvals) or "none",
            ", ".join(policy.consent_regions) or "none",
            policy.max_daily_volume if policy.max_daily_volume is not None else "—",
            "set" if sender_identity(obj).postal_address else "MISSING",
        )

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else []  # a new campaign has no flags yet

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        if "currency" in form.base_fields:
            form.base_fields["currency"].required = False  # empty: the default currency
        return form

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            fields.extend(["client", *CREATE_ONLY_FIELDS])
        return fields

    def save_model(self, request: HttpRequest, obj: Campaign, form, change: bool) -> None:
        # A rule across fields that refuses the save shows on this form (the kit's refusals).
        data = {k: form.cleaned_data[k] for k in EDITABLE_FIELDS if k in form.cleaned_data}
        if change:
            saved = update_campaign(campaign=obj, actor=request.user, **data)
        else:
            data.pop("name", None)
            data.update({k: form.cleaned_data[k] for k in CREATE_ONLY_FIELDS if form.cleaned_data.get(k)})
            saved = create_campaign(
                client=form.cleaned_data["client"],
                name=form.cleaned_data["name"],
                actor=request.user,
                **data,
            )
        identity = {k: form.cleaned_data[k] for k in IDENTITY_FIELDS if k in form.cleaned_data}
        if identity and is_allowed(request.user, "sender_identity.set"):
            set_sender_identity(target=saved, values=identity, actor=request.user)
        obj.pk = saved.pk

    def response_add(self, request, obj, post_url_continue=None):
        # The wizard: a new campaign goes on to its strategy brief, prefilled from the campaign.
        brief_url = wizard_brief_url(request, obj)
        if "_save" in request.POST and brief_url:
            self.message_user(request, f"Campaign “{obj}” added. Now its strategy brief.", messages.SUCCESS)
            return HttpResponseRedirect(brief_url)
        if "_save" in request.POST:  # the campaign's own page, never the list
            return HttpResponseRedirect(reverse("admin:campaigns_campaign_change", args=[obj.pk]))
        return super().response_add(request, obj, post_url_continue)

    # --- lifecycle buttons -----------------------------------------------------------------

    def get_urls(self):
        info = self.model._meta.app_label, self.model._meta.model_name
        return [
            path(
                "<int:object_id>/transition/<str:transition>/",
                self.admin_site.admin_view(self.transition_view),
                name="{}_{}_transition".format(*info),
            ),
            path(
                "<int:object_id>/timeline/",
                self.admin_site.admin_view(self.timeline_view),
                name="{}_{}_timeline".format(*info),
            ),
            path(
                "<int:object_id>/budget/",
                self.admin_site.admin_view(self.budget_cap_view),
                name="{}_{}_budget".format(*info),
            ),
            path(
                "<int:object_id>/assess-risk/",
                self.admin_site.admin_view(self.assess_risk_view),
                name="{}_{}_assess_risk".format(*info),
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = extra_context or {}
        campaign = self.get_object(request, object_id)
        if campaign is not None:
            extra_context["lifecycle_buttons"] = [
                {"name": name, "label": LIFECYCLE[name].label.capitalize(), "danger": name == "kill"}
                for name in available_transitions(campaign)
                if self._may_take(request, campaign, name)
            ]
            extra_context["lifecycle_waiting"] = self._lifecycle_waiting(campaign)
            extra_context["campaign_link_sections"] = campaign_admin_link_sections(request, campaign)
            if request.method == "GET":
                self._governance_messages(request, campaign)
        return super().change_view(request, object_id, form_url, extra_context)

    @staticmethod
    def _may_take(request: HttpRequest, campaign: Campaign, transition: str) -> bool:
        """Only the steps this user's role allows get a button (the service checks again)."""
        if not is_allowed(request.user, f"campaign.{transition}", campaign):
            return False
        if transition == "resume" and campaign.is_safety_paused:
            return is_allowed(request.user, "campaign.resume_safety_pause", campaign)
        return True

    # The gated next step of a state (its rules are the step's, campaigns.lifecycle).
    GATED_STEPS = {CampaignState.AWAITING_APPROVAL: "approve", CampaignState.APPROVED: "activate"}

    def _lifecycle_waiting(self, campaign: Campaign) -> list[dict]:
        """Why the next step (approve, activate) has no button yet, e.g. no strategy approved."""
        name = self.GATED_STEPS.get(campaign.state)
        if name is None:
            return []
        reasons = step_blockers(LIFECYCLE[name], campaign)
        if not reasons:
            return []
        return [{"name": name, "label": LIFECYCLE[name].label.capitalize(), "reasons": reasons}]

    def _governance_messages(self, request: HttpRequest, campaign: Campaign) -> None:
        """The operator notification: budget warning / block and open high-severity risk flags."""
        status = budget_status(campaign)
        if status.level == BUDGET_WARNING:
            messages.warning(
                request,
                f"Budget warning: this campaign has spent {status.as_dict()['percent']}% of its "
                f"{status.cap} {status.currency} cap.",
            )
        reason = spending_blocked_reason(campaign)
        if reason:
            messages.error(request, f"Spending work is stopped. {reason}")
        notice = high_risk_notice(user=request.user, campaign=campaign)
        if notice:  # names the flags, and the missing permission only to whoever lacks it
            messages.warning(request, notice)

    def budget_cap_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        campaign = get_object_or_404(Campaign, pk=object_id)
        require_action(request.user, "campaign.change_budget", campaign)
        form = BudgetCapForm(request.POST or None, initial={"budget_cap": campaign.budget_cap})
        if request.method == "POST" and form.is_valid():
            with refusals_as_messages(request) as attempt:
                raise_budget_cap(
                    campaign=campaign,
                    new_cap=form.cleaned_data["budget_cap"],
                    actor=request.user,
                    rationale=form.cleaned_data["rationale"],
                )
            if attempt.ok:
                messages.success(request, "Budget cap changed.")
            return HttpResponseRedirect(reverse("admin:campaigns_campaign_change", args=[campaign.pk]))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": campaign,
            "title": f"Change budget cap: {campaign.name}",
            "form": form,
            "status": budget_status(campaign),
        }
        return TemplateResponse(request, "admin/campaigns/campaign/budget_form.html", context)

    def assess_risk_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        campaign = get_object_or_404(Campaign, pk=object_id)
        if request.method != "POST" or not self.has_change_permission(request, campaign):
            raise PermissionDenied
        flags = assess_campaign_risk(campaign=campaign, actor=request.user)
        messages.info(request, f"Risk re-assessed: {len(flags)} open flag(s).")
        return HttpResponseRedirect(reverse("admin:campaigns_campaign_change", args=[campaign.pk]))

    def transition_view(self, request: HttpRequest, object_id: int, transition: str) -> HttpResponse:
        campaign = get_object_or_404(Campaign, pk=object_id)
        if not self.has_change_permission(request):  # model-level: the service judges the state
            raise PermissionDenied
        step = LIFECYCLE.get(transition)
        if step is None:
            messages.error(request, f"Unknown transition {transition!r}.")
            return HttpResponseRedirect(reverse("admin:campaigns_campaign_change", args=[campaign.pk]))
        # Resuming a safety pause (circuit breaker, auto-pause rule) needs a rationale too.
        required = step.rationale_required or (transition == "resume" and campaign.is_safety_paused)
        form = ReasonForm(request.POST or None, required=required, help_text=TIMELINE_REASON_HELP)
        if request.method == "POST" and form.is_valid():
            with refusals_as_messages(request) as attempt:
                transition_campaign(
                    campaign=campaign,
                    transition=transition,
                    actor=request.user,
                    rationale=form.cleaned_data["rationale"],
                )
            back = reverse("admin:campaigns_campaign_change", args=[campaign.pk])
            if attempt.ok:
                campaign.refresh_from_db()
                messages.success(
                    request, f"Campaign “{campaign.name}” is now {campaign.get_state_display().lower()}."
                )
                back = safe_next(request, back)  # an inline form elsewhere: on to its next step
            return HttpResponseRedirect(back)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": campaign,
            "title": f"{step.label.capitalize()}: {campaign.name}",
            "step": step,
            "form": form,
        }
        return TemplateResponse(request, "admin/campaigns/campaign/transition_form.html", context)

    def timeline_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        campaign = get_object_or_404(Campaign, pk=object_id)
        if not self.has_view_permission(request, campaign):
            raise PermissionDenied
        kinds = [k for k in request.GET.getlist("kind") if k]
        entries = campaign_timeline_entries(campaign, kinds=kinds)
        if request.GET.get("format") == "csv":
            return timeline_csv_response(campaign, entries)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": campaign,
            "title": f"Timeline: {campaign.name}",
            "entries": entries,
            "kinds": timeline_kinds(campaign),
            "selected_kinds": kinds,
            "csv_query": request.GET.urlencode(),
        }
        return TemplateResponse(request, "admin/campaigns/campaign/timeline.html", context)


# Framework models (groups, tokens, schedules, lockouts) are for superusers and the admin role.
# Their apps come before ours in INSTALLED_APPS, so their admins are registered by now.
restrict_framework_models(admin.site)
