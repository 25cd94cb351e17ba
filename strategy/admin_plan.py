"""Operator admin for the plan an approved strategy makes: its phases, the rebuild button, and
the content calendar (list, month view, editing an item through ``update_calendar_item``).
Registered by ``strategy.admin``."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from campaigns.admin_kit.base import (
    NOBODY,
    AicmoHistoryAdmin,
    AicmoModelAdmin,
    AicmoTabularInline,
    ReadOnlyAdminMixin,
)
from campaigns.admin_kit.display import json_html
from campaigns.admin_kit.refusals import refusals_as_messages

from .models import CalendarItem, CampaignPlan, PlanPhase
from .selectors import calendar_month_grid
from .services import CALENDAR_EDITABLE_FIELDS, build_plan_and_calendar, update_calendar_item


class PlanPhaseInline(ReadOnlyAdminMixin, AicmoTabularInline):
    model = PlanPhase
    fields = ["position", "name", "start_date", "end_date", "tactics_list", "metrics_list"]
    readonly_fields = fields
    extra = 0

    @admin.display(description="Tactics")
    def tactics_list(self, phase: PlanPhase) -> str:
        return json_html(phase.tactics)

    @admin.display(description="Metrics")
    def metrics_list(self, phase: PlanPhase) -> str:
        return json_html(phase.metrics)


@admin.register(CampaignPlan)
class CampaignPlanAdmin(ReadOnlyAdminMixin, AicmoModelAdmin):
    """The plan is derived from the approved variant: rebuild it, do not edit it."""

    change_form_template = "admin/strategy/campaignplan/change_form.html"
    list_display = [
        "campaign",
        "variant",
        "start_date",
        "end_date",
        "timezone",
        "updated_at",
        "calendar_links",
    ]
    list_select_related = ["campaign", "variant"]
    search_fields = ["campaign__name"]
    readonly_fields = [f.name for f in CampaignPlan._meta.fields]
    inlines = [PlanPhaseInline]

    @admin.display(description="Calendar")
    def calendar_links(self, obj: CampaignPlan) -> str:
        return format_html(
            '<a href="{}">month view</a> · <a href="{}?campaign__id__exact={}">list</a>',
            reverse("admin:strategy_campaignplan_month", args=[obj.pk]),
            reverse("admin:strategy_calendaritem_changelist"),
            obj.campaign_id,
        )

    def get_urls(self):
        return [
            path(
                "<int:object_id>/month/",
                self.admin_site.admin_view(self.month_view),
                name="strategy_campaignplan_month",
            ),
            path(
                "<int:object_id>/rebuild/",
                self.admin_site.admin_view(self.rebuild_view),
                name="strategy_campaignplan_rebuild",
            ),
            *super().get_urls(),
        ]

    def month_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        plan = get_object_or_404(CampaignPlan.objects.select_related("campaign", "variant"), pk=object_id)
        if not self.has_view_permission(request, plan):
            raise PermissionDenied
        try:
            month = dt.datetime.strptime(request.GET.get("month", ""), "%Y-%m").date()
        except ValueError:
            month = plan.start_date.replace(day=1)
        previous_month = (month - dt.timedelta(days=1)).replace(day=1)
        next_month = (month + dt.timedelta(days=32)).replace(day=1)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": plan,
            "title": f"Content calendar: {plan.campaign.name}, {month:%B %Y}",
            "plan": plan,
            "month": month,
            "weeks": calendar_month_grid(plan.campaign, month),
            "previous_month": previous_month.strftime("%Y-%m"),
            "next_month": next_month.strftime("%Y-%m"),
            "timezone": zoneinfo.ZoneInfo(plan.timezone),
            "weekday_names": ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"],
        }
        return TemplateResponse(request, "admin/strategy/campaignplan/month.html", context)

    def rebuild_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        plan = get_object_or_404(CampaignPlan, pk=object_id)
        if request.method != "POST" or not request.user.has_perm("strategy.change_campaignplan"):
            raise PermissionDenied
        with refusals_as_messages(request) as attempt:
            build_plan_and_calendar(campaign=plan.campaign_id, actor=request.user)
        if attempt.ok:
            messages.success(request, "Plan and calendar rebuilt; items edited by operators were kept.")
        return HttpResponseRedirect(reverse("admin:strategy_campaignplan_change", args=[plan.pk]))


class CalendarItemForm(forms.ModelForm):
    class Meta:
        model = CalendarItem
        fields = list(CALENDAR_EDITABLE_FIELDS)


@admin.register(CalendarItem)
class CalendarItemAdmin(AicmoHistoryAdmin):
    add_action = NOBODY  # items come from the plan
    form = CalendarItemForm
    list_display = [
        "scheduled_at",
        "local_time",
        "platform",
        "content_type",
        "theme",
        "phase",
        "edited_by_operator",
    ]
    list_filter = ["platform", "edited_by_operator", "campaign"]
    search_fields = ["theme", "content_type", "campaign__name"]
    date_hierarchy = "scheduled_at"
    list_select_related = ["campaign", "phase"]
    readonly_fields = [
        "campaign",
        "plan",
        "phase",
        "slot_key",
        "edited_by_operator",
        "created_at",
        "updated_at",
    ]

    @admin.display(description="Local time")
    def local_time(self, obj: CalendarItem) -> str:
        return f"{obj.scheduled_at.astimezone(zoneinfo.ZoneInfo(obj.campaign.timezone)):%a %Y-%m-%d %H:%M %Z}"

    def save_model(self, request: HttpRequest, obj: CalendarItem, form, change: bool) -> None:
        changed = {
            name: form.cleaned_data[name] for name in form.changed_data if name in CALENDAR_EDITABLE_FIELDS
        }
        # A refusal (a time outside the plan, say) shows on this form (the kit's refusals).
        update_calendar_item(item=CalendarItem.objects.get(pk=obj.pk), actor=request.user, **changed)
