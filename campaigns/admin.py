"""Operator admin: clients, users, campaigns with lifecycle buttons, and the audit timeline.

Lifecycle buttons and list actions call the same services as the API (one behaviour, one place),
so every change is validated, row-locked and audited. django-fsm-2's own admin mixin calls the
model's transition methods directly, which would skip the audit, so we do not use it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.shortcuts import get_object_or_404, render
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from simple_history.admin import SimpleHistoryAdmin

from .admin_tokens import ApiTokenAdminMixin
from .errors import DomainError
from .exports import csv_lines
from .lifecycle import activation_blockers, approval_blockers
from .models import (
    AuditDailySummary,
    AuditEvent,
    Campaign,
    CampaignState,
    Client,
    CompliancePolicy,
    RiskFlag,
    RiskFlagStatus,
    SpendEntry,
    SpendKind,
    SystemSwitch,
    User,
)
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
    system_switch,
    timeline_kinds,
)
from .services import (
    CREATE_ONLY_FIELDS,
    EDITABLE_FIELDS,
    LIFECYCLE,
    assess_campaign_risk,
    create_campaign,
    override_risk_flag,
    raise_budget_cap,
    record_spend,
    resolve_risk_flag,
    save_compliance_policy,
    set_system_pause,
    transition_campaign,
    update_campaign,
)
from .services.risk_flags import high_risk_notice

STATE_COLOURS = {
    CampaignState.DRAFT: "#6c757d",
    CampaignState.PLANNING: "#0d6efd",
    CampaignState.AWAITING_APPROVAL: "#fd7e14",
    CampaignState.APPROVED: "#20c997",
    CampaignState.ACTIVE: "#198754",
    CampaignState.PAUSED: "#ffc107",
    CampaignState.COMPLETED: "#495057",
    CampaignState.CANCELLED: "#dc3545",
}


def state_badge(campaign: Campaign) -> str:
    colour = STATE_COLOURS.get(campaign.state, "#6c757d")
    return format_html(
        '<span style="background:{};color:#fff;padding:2px 8px;border-radius:10px;font-size:11px">{}</span>',
        colour,
        campaign.get_state_display(),
    )


@admin.register(Client)
class ClientAdmin(SimpleHistoryAdmin):
    list_display = ["name", "slug", "is_active", "created_at"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ("name",)}
    list_filter = ["is_active"]


@admin.register(User)
class UserAdmin(ApiTokenAdminMixin, DjangoUserAdmin):
    list_display = ["username", "email", "client", "is_staff", "is_active"]
    list_filter = ["is_staff", "is_active", "client"]
    fieldsets = (*DjangoUserAdmin.fieldsets, ("Client", {"fields": ("client",)}))
    add_fieldsets = (*DjangoUserAdmin.add_fieldsets, ("Client", {"fields": ("client",)}))


class RationaleForm(forms.Form):
    rationale = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "cols": 80}),
        required=False,
        max_length=2000,
        help_text="Why. Recorded in the campaign's audit timeline.",
    )

    def __init__(self, *args, required: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["rationale"].required = required


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
        help_text="Why. Recorded in the campaign's audit timeline.",
    )


class RiskFlagInline(admin.TabularInline):
    model = RiskFlag
    fk_name = "campaign"
    extra = 0
    can_delete = False
    fields = ["severity", "code", "message", "target_repr", "status", "resolution_rationale", "created_at"]
    readonly_fields = fields
    ordering = ["status", "-created_at"]
    verbose_name_plural = "Risk flags"

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


def timeline_csv_response(campaign: Campaign, entries: list[TimelineEntry]) -> StreamingHttpResponse:
    rows = csv_lines([TimelineEntry.CSV_HEADER, *(e.as_row() for e in entries)])
    response = StreamingHttpResponse(rows, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="campaign-{campaign.pk}-timeline.csv"'
    return response


# --- links from the campaign page to the work of the apps above ---------------------------------


@dataclass(frozen=True)
class CampaignAdminLink:
    """One link on the campaign change page, e.g. ("Compare strategies (batch 2)", url).

    ``key`` is stable (the element id is ``campaign-link-<key>``); ``note`` is a short fact shown
    after the link ("3 in review")."""

    key: str
    label: str
    url: str
    note: str = ""


CampaignAdminLinkProvider = Callable[[HttpRequest, Campaign], list[CampaignAdminLink]]
_campaign_link_providers: dict[str, tuple[int, CampaignAdminLinkProvider]] = {}


def register_campaign_admin_links(section: str, provider: CampaignAdminLinkProvider, *, order: int) -> None:
    """Apps above ``campaigns`` put their pages for a campaign on its change page (strategy,
    creative, leads, reporting), so an operator reaches every step from there without typing URLs.

    ``provider(request, campaign)`` returns the links this user may follow (check permissions
    there). Called from the app's admin module, which the admin imports once at start-up;
    registering a section again replaces it."""
    _campaign_link_providers[section] = (order, provider)


def campaign_admin_link_sections(request: HttpRequest, campaign: Campaign) -> list[dict]:
    sections = []
    for section, (_, provider) in sorted(_campaign_link_providers.items(), key=lambda item: item[1][0]):
        links = provider(request, campaign)
        if links:
            sections.append({"name": section, "links": links})
    return sections


@admin.register(Campaign)
class CampaignAdmin(SimpleHistoryAdmin):
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
        "created_at",
    ]
    list_filter = ["state", "type", "mode", "client"]
    search_fields = ["name", "client__name", "objective", "target_niche"]
    list_select_related = ["client", "owner"]
    readonly_fields = [
        "state_display",
        "state_reason",
        "state_changed_at",
        "pause_display",
        "mode",
        "budget_display",
        "blocked_reason_display",
        "policy_display",
        "created_at",
        "updated_at",
    ]
    inlines = [RiskFlagInline]
    actions = ["pause_selected", "resume_selected", "kill_selected"]
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
                    "state_changed_at",
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
        ("Record", {"fields": ("created_at", "updated_at")}),
    )

    @admin.display(description="State", ordering="state")
    def state_display(self, obj: Campaign) -> str:
        return state_badge(obj) if obj.pk else "-"

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
            "set" if policy.sender_postal_address else "MISSING",
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
        data = {k: form.cleaned_data[k] for k in EDITABLE_FIELDS if k in form.cleaned_data}
        try:
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
        except (DomainError, ValidationError) as exc:
            # The form validated field by field; a rule across fields refused it. Say which.
            raise PermissionDenied(str(exc)) from exc
        obj.pk = saved.pk

    def has_change_permission(self, request, obj=None):
        # A completed or cancelled campaign is a record: viewable, no longer editable.
        if obj is not None and obj.is_final:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        # Campaigns carry the audit trail of every decision; they are killed, never deleted.
        return False

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

    # The gated next step of a state, and what says whether it is open yet.
    GATED_STEPS = {
        CampaignState.AWAITING_APPROVAL: ("approve", approval_blockers),
        CampaignState.APPROVED: ("activate", activation_blockers),
    }

    def _lifecycle_waiting(self, campaign: Campaign) -> list[dict]:
        """Why the next step (approve, activate) has no button yet, e.g. no strategy approved."""
        gated = self.GATED_STEPS.get(campaign.state)
        if gated is None:
            return []
        name, blockers = gated
        reasons = blockers(campaign)
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
            try:
                raise_budget_cap(
                    campaign=campaign,
                    new_cap=form.cleaned_data["budget_cap"],
                    actor=request.user,
                    rationale=form.cleaned_data["rationale"],
                )
            except DomainError as exc:
                messages.error(request, str(exc))
            else:
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
        form = RationaleForm(request.POST or None, required=required)
        if request.method == "POST" and form.is_valid():
            try:
                transition_campaign(
                    campaign=campaign,
                    transition=transition,
                    actor=request.user,
                    rationale=form.cleaned_data["rationale"],
                )
            except DomainError as exc:
                messages.error(request, str(exc))
            else:
                campaign.refresh_from_db()
                messages.success(
                    request, f"Campaign “{campaign.name}” is now {campaign.get_state_display().lower()}."
                )
            return HttpResponseRedirect(reverse("admin:campaigns_campaign_change", args=[campaign.pk]))
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

    # --- bulk actions --------------------------------------------------------------------------

    def _bulk_transition(self, request: HttpRequest, queryset, transition: str):
        step = LIFECYCLE[transition]
        if "apply" in request.POST:
            form = RationaleForm(request.POST, required=step.rationale_required)
            if form.is_valid():
                done, refused = 0, []
                for campaign in queryset:
                    try:
                        transition_campaign(
                            campaign=campaign,
                            transition=transition,
                            actor=request.user,
                            rationale=form.cleaned_data["rationale"],
                        )
                        done += 1
                    except DomainError as exc:
                        refused.append(str(exc))
                if done:
                    messages.success(request, f"{step.label.capitalize()}: {done} campaign(s) done.")
                for reason in refused:
                    messages.error(request, reason)
                return None
        else:
            form = RationaleForm(required=step.rationale_required)
        return render(
            request,
            "admin/campaigns/campaign/bulk_transition.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "title": f"{step.label.capitalize()} {queryset.count()} campaign(s)",
                "campaigns": queryset,
                "form": form,
                "action": request.POST.get("action"),
                "step": step,
            },
        )

    @admin.action(description="Pause selected campaigns")
    def pause_selected(self, request, queryset):
        return self._bulk_transition(request, queryset, "pause")

    @admin.action(description="Resume selected campaigns")
    def resume_selected(self, request, queryset):
        return self._bulk_transition(request, queryset, "resume")

    @admin.action(description="Kill selected campaigns (cancels all scheduled work)")
    def kill_selected(self, request, queryset):
        return self._bulk_transition(request, queryset, "kill")


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["created_at", "campaign", "actor_label", "verb", "target_repr", "short_rationale"]
    list_filter = ["verb", "campaign"]
    search_fields = ["verb", "actor_label", "rationale", "target_repr"]
    date_hierarchy = "created_at"
    list_select_related = ["campaign"]
    readonly_fields = [f.name for f in AuditEvent._meta.fields]

    @admin.display(description="Rationale")
    def short_rationale(self, obj: AuditEvent) -> str:
        return (obj.rationale[:80] + "…") if len(obj.rationale) > 80 else obj.rationale

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# --- governance ------------------------------------------------------------------------------------


class RationaleActionForm(forms.Form):
    rationale = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "cols": 80}),
        max_length=2000,
        help_text="Why. Recorded in the audit log.",
    )


def _rationale_action(modeladmin, request, queryset, *, label: str, service) -> HttpResponse | None:
    """A list action that asks for one rationale, then calls ``service`` per row."""
    if "apply" in request.POST:
        form = RationaleActionForm(request.POST)
        if form.is_valid():
            done, refused = 0, []
            for obj in queryset:
                try:
                    service(obj, request.user, form.cleaned_data["rationale"])
                    done += 1
                except DomainError as exc:
                    refused.append(f"{obj}: {exc}")
            if done:
                messages.success(request, f"{label}: {done} done.")
            for reason in refused:
                messages.error(request, reason)
            return None
    else:
        form = RationaleActionForm()
    return render(
        request,
        "admin/campaigns/rationale_action.html",
        {
            **modeladmin.admin_site.each_context(request),
            "opts": modeladmin.model._meta,
            "title": f"{label}: {queryset.count()} item(s)",
            "objects": queryset,
            "form": form,
            "action": request.POST.get("action"),
            "label": label,
        },
    )


@admin.register(RiskFlag)
class RiskFlagAdmin(admin.ModelAdmin):
    list_display = ["created_at", "campaign", "severity", "code", "target_repr", "status", "resolved_by"]
    list_filter = ["severity", "status", "code"]
    search_fields = ["code", "message", "target_repr", "campaign__name"]
    list_select_related = ["campaign", "resolved_by"]
    readonly_fields = [f.name for f in RiskFlag._meta.fields]
    actions = ["override_selected", "resolve_selected"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="Override selected flags (needs the override permission; rationale)")
    def override_selected(self, request, queryset):
        return _rationale_action(
            self,
            request,
            queryset.filter(status=RiskFlagStatus.OPEN),
            label="Override risk flags",
            service=lambda flag, user, why: override_risk_flag(flag=flag, actor=user, rationale=why),
        )

    @admin.action(description="Mark selected flags resolved (rationale)")
    def resolve_selected(self, request, queryset):
        return _rationale_action(
            self,
            request,
            queryset.filter(status=RiskFlagStatus.OPEN),
            label="Resolve risk flags",
            service=lambda flag, user, why: resolve_risk_flag(flag=flag, actor=user, rationale=why),
        )


class SpendEntryForm(forms.ModelForm):
    class Meta:
        model = SpendEntry
        fields = ["campaign", "kind", "amount", "description"]


@admin.register(SpendEntry)
class SpendEntryAdmin(admin.ModelAdmin):
    """The ledger is append-only: entries are added (through record_spend), never edited."""

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

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in SpendEntry._meta.fields] if obj is not None else []

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj: SpendEntry, form, change: bool) -> None:
        try:
            # Entered by hand, the cost was already incurred: book it even past the cap.
            saved = record_spend(
                campaign=form.cleaned_data["campaign"],
                kind=form.cleaned_data["kind"],
                amount=form.cleaned_data["amount"],
                description=form.cleaned_data["description"],
                actor=request.user,
                enforce_cap=False,
            )
        except DomainError as exc:
            raise PermissionDenied(str(exc)) from exc
        obj.pk = saved.pk
        status = budget_status(saved.campaign)
        if status.level == BUDGET_WARNING:
            messages.warning(request, f"Budget warning: {status.as_dict()['percent']}% of the cap is spent.")
        elif status.level == BUDGET_EXHAUSTED:
            messages.error(request, status.blocked_reason)


class CompliancePolicyForm(forms.ModelForm):
    class Meta:
        model = CompliancePolicy
        fields = [
            "client",
            "campaign",
            "require_strategy_approval",
            "require_creative_approval",
            "require_client_approval",
            "consent_regions",
            "quiet_hours_start",
            "quiet_hours_end",
            "max_daily_volume",
            "sender_postal_address",
        ]

    def clean(self):
        data = super().clean()
        if (data.get("quiet_hours_start") is None) != (data.get("quiet_hours_end") is None):
            self.add_error("quiet_hours_end", "Give both ends of the quiet hours, or neither.")
        return data


@admin.register(CompliancePolicy)
class CompliancePolicyAdmin(SimpleHistoryAdmin):
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
        try:
            save_compliance_policy(policy=obj, actor=request.user, rationale="edited in admin")
        except (DomainError, ValidationError) as exc:
            raise PermissionDenied(str(exc)) from exc


@admin.register(SystemSwitch)
class SystemSwitchAdmin(admin.ModelAdmin):
    """One page: the switch's state, who changed it and why, and the button to flip it."""

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def change_view(self, request, object_id, form_url="", extra_context=None):
        return HttpResponseRedirect(reverse("admin:campaigns_systemswitch_changelist"))

    def changelist_view(self, request, extra_context=None):
        if not self.has_view_permission(request):
            raise PermissionDenied
        state = system_switch(fresh=True)
        form = RationaleActionForm(request.POST or None)
        if request.method == "POST":
            if not self.has_change_permission(request):
                raise PermissionDenied
            if form.is_valid():
                try:
                    set_system_pause(
                        paused=not state.paused, actor=request.user, rationale=form.cleaned_data["rationale"]
                    )
                except DomainError as exc:
                    messages.error(request, str(exc))
                else:
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
class AuditDailySummaryAdmin(admin.ModelAdmin):
    list_display = ["date", "campaign", "verb", "count"]
    list_filter = ["verb"]
    date_hierarchy = "date"
    list_select_related = ["campaign"]
    readonly_fields = ["campaign", "date", "verb", "count"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
