"""Operator admin: clients, users, campaigns with lifecycle buttons, and the audit timeline.

Lifecycle buttons and list actions call the same services as the API (one behaviour, one place),
so every change is validated, row-locked and audited. django-fsm-2's own admin mixin calls the
model's transition methods directly, which would skip the audit, so we do not use it.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from simple_history.admin import SimpleHistoryAdmin

from .errors import DomainError
from .models import AuditEvent, Campaign, CampaignState, Client, User
from .selectors import available_transitions, campaign_timeline
from .services import EDITABLE_FIELDS, LIFECYCLE, create_campaign, transition_campaign, update_campaign

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
class UserAdmin(DjangoUserAdmin):
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
        "mode",
        "created_at",
        "updated_at",
    ]
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
        ("Record", {"fields": ("created_at", "updated_at")}),
    )

    @admin.display(description="State", ordering="state")
    def state_display(self, obj: Campaign) -> str:
        return state_badge(obj) if obj.pk else "-"

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            fields.append("client")
        return fields

    def save_model(self, request: HttpRequest, obj: Campaign, form, change: bool) -> None:
        data = {k: form.cleaned_data[k] for k in EDITABLE_FIELDS if k in form.cleaned_data}
        try:
            if change:
                saved = update_campaign(campaign=obj, actor=request.user, **data)
            else:
                data.pop("name", None)
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
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = extra_context or {}
        campaign = self.get_object(request, object_id)
        if campaign is not None:
            extra_context["lifecycle_buttons"] = [
                {"name": name, "label": LIFECYCLE[name].label.capitalize(), "danger": name == "kill"}
                for name in available_transitions(campaign)
            ]
        return super().change_view(request, object_id, form_url, extra_context)

    def transition_view(self, request: HttpRequest, object_id: int, transition: str) -> HttpResponse:
        campaign = get_object_or_404(Campaign, pk=object_id)
        if not self.has_change_permission(request):  # model-level: the service judges the state
            raise PermissionDenied
        step = LIFECYCLE.get(transition)
        if step is None:
            messages.error(request, f"Unknown transition {transition!r}.")
            return HttpResponseRedirect(reverse("admin:campaigns_campaign_change", args=[campaign.pk]))
        form = RationaleForm(request.POST or None, required=step.rationale_required)
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
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": campaign,
            "title": f"Timeline: {campaign.name}",
            "events": campaign_timeline(campaign),
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
