"""Admin for reporting: campaign dashboards (overview and per campaign, SVG charts, CSV export)
and outcomes, which are recorded through `record_outcome`."""

from __future__ import annotations

import io
from decimal import Decimal

from django import forms
from django.contrib import admin
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse

from campaigns.admin_kit.base import NOBODY, STAFF, AicmoModelAdmin, ReadOnlyAdminMixin
from campaigns.admin_links import CampaignAdminLink, register_campaign_admin_links
from campaigns.exports import spreadsheet_safe_writer
from campaigns.models import Campaign
from campaigns.selectors import campaigns_visible_to
from leads.models import LeadState

from .charts import funnel_svg, trend_svg
from .executive import executive_summary
from .models import CampaignDashboard, Outcome, WeeklySummary
from .selectors.funnel import funnel_stages
from .selectors.metrics import metrics_for_campaigns
from .services import record_outcome

OVERVIEW_PAGE_SIZE = 50


def _metric_value(value) -> object:
    """Numbers stay numbers (the CSV writer keeps them as they are, a negative one included);
    anything else is text, which the writer neutralises if a spreadsheet would run it."""
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return value
    return "" if value is None else str(value)


def metrics_csv_rows(summary, *, campaign: Campaign | None = None) -> list[list[object]]:
    """Flat (section, metric, value) rows of a campaign's numbers for the CSV export (the campaign's
    name first, so a saved file says which campaign it is)."""
    data = summary.as_dict()
    metrics = summary.metrics.as_dict()
    rows: list[list[object]] = [["section", "metric", "value"]]
    if campaign is not None:
        rows.append(["campaign", "name", campaign.name])
    for key in ("leads_total", "qualified", "won", "conversion_rate", "target_clients", "goal_progress"):
        rows.append(["funnel", key, _metric_value(metrics[key])])
    for state, n in metrics["by_state"].items():
        rows.append(["leads_by_state", state, _metric_value(n)])
    for section in ("today_outreach", "last_days_outreach", "lifetime_outreach", "tasks"):
        for key, value in metrics[section].items():
            rows.append([section, key, _metric_value(value)])
    for key, value in data["kpis"].items():
        if key not in metrics:
            rows.append(["kpis", key, _metric_value(value)])
    for day in summary.trend:
        rows.append(["trend_sent", day.day.isoformat(), day.sent])
        rows.append(["trend_replied", day.day.isoformat(), day.replied])
    return rows


def campaign_report_links(request: HttpRequest, campaign: Campaign) -> list[CampaignAdminLink]:
    """The report on the campaign page: its dashboard and the metrics CSV."""
    if not (request.user.is_active and request.user.is_staff):
        return []
    return [
        CampaignAdminLink(
            key="report-dashboard",
            label="Dashboard",
            url=reverse("admin:reporting_campaigndashboard_change", args=[campaign.pk]),
        ),
        CampaignAdminLink(
            key="report-csv",
            label="Export metrics (CSV)",
            url=reverse("admin:reporting_campaigndashboard_csv", args=[campaign.pk]),
        ),
    ]


register_campaign_admin_links("Report", campaign_report_links, order=40)


@admin.register(CampaignDashboard)
class CampaignDashboardAdmin(ReadOnlyAdminMixin, AicmoModelAdmin):
    """The changelist is the overview of all campaigns; the change page is the dashboard. Any
    staff user opens it: it shows only the campaigns they may see (campaigns_visible_to)."""

    view_action = STAFF

    def get_urls(self):
        info = self.model._meta.app_label, self.model._meta.model_name
        return [
            path("", self.admin_site.admin_view(self.overview_view), name="{}_{}_changelist".format(*info)),
            path(
                "<int:object_id>/metrics.csv",
                self.admin_site.admin_view(self.metrics_csv_view),
                name="{}_{}_csv".format(*info),
            ),
            path(
                "<int:object_id>/change/",
                self.admin_site.admin_view(self.dashboard_view),
                name="{}_{}_change".format(*info),
            ),
            *super().get_urls(),
        ]

    def _campaign(self, request: HttpRequest, object_id: int):
        if not self.has_view_permission(request):
            raise admin.sites.PermissionDenied
        return get_object_or_404(campaigns_visible_to(request.user).select_related("client"), pk=object_id)

    def overview_view(self, request: HttpRequest, extra_context=None) -> HttpResponse:
        if not self.has_view_permission(request):
            raise admin.sites.PermissionDenied
        campaigns = campaigns_visible_to(request.user).select_related("client").order_by("-created_at", "-pk")
        page = Paginator(campaigns, OVERVIEW_PAGE_SIZE).get_page(request.GET.get("p"))
        metrics = metrics_for_campaigns(page.object_list)
        rows = [{"campaign": c, "metrics": metrics[c.pk]} for c in page.object_list]
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Campaign dashboards",
            "rows": rows,
            "page": page,
        }
        return TemplateResponse(request, "admin/reporting/overview.html", context)

    def dashboard_view(self, request: HttpRequest, object_id: int, extra_context=None) -> HttpResponse:
        campaign = self._campaign(request, object_id)
        summary = executive_summary(campaign)
        trend = [(d.day.strftime("%d %b"), d.sent, d.replied) for d in summary.trend]
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"Dashboard: {campaign.name}",
            "campaign": campaign,
            "summary": summary,
            "metrics": summary.metrics,
            "roi": summary.roi,
            "funnel_chart": funnel_svg(funnel_stages(summary.metrics.by_state)),
            "trend_chart": trend_svg(trend),
            "timeline_url": reverse("admin:campaigns_campaign_timeline", args=[campaign.pk]),
            "campaign_url": reverse("admin:campaigns_campaign_change", args=[campaign.pk]),
            "csv_url": reverse("admin:reporting_campaigndashboard_csv", args=[campaign.pk]),
        }
        return TemplateResponse(request, "admin/reporting/dashboard.html", context)

    def metrics_csv_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        campaign = self._campaign(request, object_id)
        buffer = io.StringIO()
        rows = metrics_csv_rows(executive_summary(campaign), campaign=campaign)
        spreadsheet_safe_writer(buffer).writerows(rows)
        response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="campaign-{campaign.pk}-metrics.csv"'
        return response


class OutcomeForm(forms.ModelForm):
    class Meta:
        model = Outcome
        fields = ["lead", "deal_value", "currency", "won_at", "note"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "lead" not in self.fields:
            return  # a recorded outcome, shown read-only: the form has no fields
        self.fields["currency"].required = False
        self.fields["won_at"].required = False
        self.fields["lead"].queryset = self.fields["lead"].queryset.filter(
            state__in=[LeadState.QUALIFIED, LeadState.WON], outcome__isnull=True
        )
        self.fields[
            "lead"
        ].help_text = "A qualified lead (it is moved to won) or a won lead without an outcome."

    def clean_deal_value(self):
        value = self.cleaned_data["deal_value"]
        if value is not None and value < 0:
            raise forms.ValidationError("The deal value must be zero or more.")
        return value


@admin.register(Outcome)
class OutcomeAdmin(AicmoModelAdmin):
    add_action = "outcome.record"
    change_action = NOBODY  # an outcome is a record of fact; delete and re-record to correct it
    form = OutcomeForm
    list_display = ["lead", "campaign", "deal_value", "currency", "won_at", "created_by"]
    list_filter = ["currency"]
    search_fields = ["lead__email", "campaign__name"]
    raw_id_fields = ["lead"]
    list_select_related = ["lead", "campaign", "created_by"]

    def save_model(self, request, obj, form, change):  # a refusal shows on the form
        saved = record_outcome(
            lead=form.cleaned_data["lead"],
            deal_value=form.cleaned_data["deal_value"],
            currency=form.cleaned_data.get("currency") or "",
            won_at=form.cleaned_data.get("won_at"),
            note=form.cleaned_data.get("note") or "",
            actor=request.user,
        )
        obj.pk, obj.campaign_id, obj.currency, obj.won_at = (
            saved.pk,
            saved.campaign_id,
            saved.currency,
            saved.won_at,
        )


@admin.register(WeeklySummary)
class WeeklySummaryAdmin(AicmoModelAdmin):
    """Written by the weekly task; viewed here (a superuser may still delete a week)."""

    add_action = NOBODY
    change_action = NOBODY
    list_display = [
        "campaign",
        "week_start",
        "iso_week",
        "sent",
        "replies",
        "new_qualified_leads",
        "tasks_done",
        "tasks_total",
        "spend",
    ]
    list_filter = ["week_start"]
    list_select_related = ["campaign"]
    search_fields = ["campaign__name"]
