"""Operator admin for governance: the audit log, risk flags (override / resolve with a rationale),
the spend ledger, compliance policies, the system pause and the audit summaries.

Every write is a service's (``campaigns.services``); a refusal shows on the form or as a message.
Registered by ``campaigns.admin``.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse

from .admin_kit.actions import ReasonForm, reason_action
from .admin_kit.base import NOBODY, AicmoHistoryAdmin, AicmoModelAdmin, ReadOnlyAdminMixin
from .admin_kit.display import label_column, labelled_filter
from .admin_kit.refusals import refusals_as_messages
from .models import (
    AuditDailySummary,
    AuditEvent,
    CompliancePolicy,
    RiskFlag,
    RiskFlagStatus,
    SpendEntry,
    SpendKind,
    SystemSwitch,
)
from .selectors import BUDGET_EXHAUSTED, BUDGET_WARNING, budget_status, system_switch
from .services.budget import record_spend
from .services.policy import POLICY_FIELDS, save_compliance_policy
from .services.risk_flags import override_risk_flag, resolve_risk_flag
from .services.system_pause import set_system_pause


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdminMixin, AicmoModelAdmin):
    list_display = ["created_at", "campaign", "actor_label", "verb", "target_repr", "short_rationale"]
    list_filter = ["verb", "campaign"]
    search_fields = ["verb", "actor_label", "rationale", "target_repr"]
    date_hierarchy = "created_at"
    list_select_related = ["campaign"]
    readonly_fields = [f.name for f in AuditEvent._meta.fields]

    @admin.display(description="Rationale")
    def short_rationale(self, obj: AuditEvent) -> str:
        return (obj.rationale[:80] + "…") if len(obj.rationale) > 80 else obj.rationale


def _open_flags(queryset):
    return queryset.filter(status=RiskFlagStatus.OPEN)


@admin.register(RiskFlag)
class RiskFlagAdmin(AicmoModelAdmin):
    add_action = NOBODY  # flags are raised by the risk rules
    delete_action = NOBODY  # and kept: an override or a resolution is recorded on the flag
    list_display = [
        "created_at",
        "campaign",
        "severity",
        "code_label",
        "target_repr",
        "status",
        "resolved_by",
    ]
    list_filter = ["severity", "status", labelled_filter("code", "rule")]
    search_fields = ["code", "message", "target_repr", "campaign__name"]
    list_select_related = ["campaign", "resolved_by"]
    readonly_fields = ["code_label", *(f.name for f in RiskFlag._meta.fields if f.name != "code")]
    code_label = label_column("code", "Rule")
    actions = ["override_selected", "resolve_selected"]

    override_selected = reason_action(
        lambda flag, user, why: override_risk_flag(flag=flag, actor=user, rationale=why),
        description="Override selected flags (needs the override permission; rationale)",
        label="Override risk flags",
        noun="flag(s)",
        narrow=_open_flags,
    )
    resolve_selected = reason_action(
        lambda flag, user, why: resolve_risk_flag(flag=flag, actor=user, rationale=why),
        description="Mark selected flags resolved (rationale)",
        label="Resolve risk flags",
        noun="flag(s)",
        narrow=_open_flags,
    )


class SpendEntryForm(forms.ModelForm):
    class Meta:
        model = SpendEntry
        fields = ["campaign", "kind", "amount", "description"]


@admin.register(SpendEntry)
class SpendEntryAdmin(AicmoModelAdmin):
    """The ledger is append-only: entries are added (through record_spend), never edited."""

    locked_when = True
    delete_action = NOBODY
    form = SpendEntryForm
    list_display = ["created_at", "campaign", "kind", "amount", "currency", "description", "created_by"]
    list_filter = ["kind", "currency", "campaign"]
    search_fields = ["description", "campaign__name"]
    list_select_related = ["campaign", "created_by"]
    date_hierarchy = "created_at"

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        if "kind" in form.base_fields:
            form.base_fields["kind"].initial = SpendKind.MANUAL
        return form

    def save_model(self, request, obj: SpendEntry, form, change: bool) -> None:
        # Entered by hand, the cost was already incurred: book it even past the cap.
        saved = record_spend(
            campaign=form.cleaned_data["campaign"],
            kind=form.cleaned_data["kind"],
            amount=form.cleaned_data["amount"],
            description=form.cleaned_data["description"],
            actor=request.user,
            enforce_cap=False,
        )
        obj.pk = saved.pk
        status = budget_status(saved.campaign)
        if status.level == BUDGET_WARNING:
            messages.warning(request, f"Budget warning: {status.as_dict()['percent']}% of the cap is spent.")
        elif status.level == BUDGET_EXHAUSTED:
            messages.error(request, status.blocked_reason)


class CompliancePolicyForm(forms.ModelForm):
    class Meta:
        model = CompliancePolicy
        fields = ["client", "campaign", *POLICY_FIELDS]

    def clean(self):
        data = super().clean()
        if (data.get("quiet_hours_start") is None) != (data.get("quiet_hours_end") is None):
            self.add_error("quiet_hours_end", "Give both ends of the quiet hours, or neither.")
        return data


@admin.register(CompliancePolicy)
class CompliancePolicyAdmin(AicmoHistoryAdmin):
    form = CompliancePolicyForm
    list_display = [
        "__str__",
        "require_strategy_approval",
        "require_creative_approval",
        "require_client_approval",
        "max_daily_volume",
    ]
    list_filter = ["client"]
    list_select_related = ["client", "campaign"]
    raw_id_fields = ["campaign"]

    def save_model(self, request, obj: CompliancePolicy, form, change: bool) -> None:
        save_compliance_policy(policy=obj, actor=request.user, rationale="edited in admin")


@admin.register(SystemSwitch)
class SystemSwitchAdmin(AicmoModelAdmin):
    """One page: the switch's state, who changed it and why, and the button to flip it."""

    add_action = NOBODY  # there is one switch, made by a migration
    delete_action = NOBODY

    def change_view(self, request, object_id, form_url="", extra_context=None):
        return HttpResponseRedirect(reverse("admin:campaigns_systemswitch_changelist"))

    def changelist_view(self, request, extra_context=None):
        if not self.has_view_permission(request):
            raise PermissionDenied
        state = system_switch(fresh=True)
        form = ReasonForm(request.POST or None, help_text="Why. Recorded in the audit log.")
        if request.method == "POST":
            if not self.has_change_permission(request):
                raise PermissionDenied
            if form.is_valid():
                with refusals_as_messages(request) as attempt:
                    set_system_pause(
                        paused=not state.paused, actor=request.user, rationale=form.cleaned_data["rationale"]
                    )
                if attempt.ok:
                    messages.success(
                        request,
                        "System pause is ON: sending and cycles stop."
                        if not state.paused
                        else "System pause is OFF: sending and cycles resume.",
                    )
                return HttpResponseRedirect(reverse("admin:campaigns_systemswitch_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "System pause",
            "state": state,
            "form": form,
            "can_change": self.has_change_permission(request),
            "recent": AuditEvent.objects.filter(verb__startswith="system.").order_by("-created_at", "-id")[
                :20
            ],
        }
        return TemplateResponse(request, "admin/campaigns/systemswitch/toggle.html", context)


@admin.register(AuditDailySummary)
class AuditDailySummaryAdmin(ReadOnlyAdminMixin, AicmoModelAdmin):
    list_display = ["date", "campaign", "verb", "count"]
    list_filter = ["verb"]
    date_hierarchy = "date"
    list_select_related = ["campaign"]
    readonly_fields = ["campaign", "date", "verb", "count"]
