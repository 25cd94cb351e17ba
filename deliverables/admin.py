"""Admin for deliverables: delivery packages (build one, download its files), client reports (the
review gate: edit the commentary, approve and send, or skip), report schedules and each client's
report settings. Every write goes through ``deliverables.services``; an operator can do all of it
but change a client's settings (recipients, send without review), which is the admin role's."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from campaigns.admin_kit.actions import reason_action
from campaigns.admin_kit.base import NOBODY, AicmoModelAdmin
from campaigns.admin_links import CampaignAdminLink, register_campaign_admin_links
from campaigns.errors import DomainError
from campaigns.models import Campaign
from campaigns.permissions import is_allowed
from campaigns.selectors import campaigns_visible_to

from .models import ClientReport, ClientReportSettings, DeliveryPackage, ReportSchedule, ReportState
from .services import (
    approve_report,
    build_delivery_package,
    edit_commentary,
    save_report_schedule,
    save_report_settings,
    skip_report,
)
from .storage import deliverables_storage

CONTENT_TYPES = {"pdf": "application/pdf", "zip": "application/zip"}


def _file_response(field, filename: str, kind: str) -> FileResponse:
    if not field:
        raise Http404("No file.")
    return FileResponse(
        deliverables_storage().open(field.name, "rb"),
        as_attachment=True,
        filename=filename,
        content_type=CONTENT_TYPES[kind],
    )


class BuildPackageForm(forms.Form):
    campaign = forms.ModelChoiceField(queryset=Campaign.objects.none())

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["campaign"].queryset = (
            campaigns_visible_to(user).select_related("client").order_by("name")
        )


@admin.register(DeliveryPackage)
class DeliveryPackageAdmin(AicmoModelAdmin):
    """Packages are records: built (the "Add" button builds the next version), never edited."""

    add_action = "package.build"
    change_action = NOBODY
    delete_action = NOBODY
    list_display = ["campaign", "version", "milestone", "created_at", "created_by", "files"]
    list_filter = ["milestone", "campaign__client"]
    search_fields = ["campaign__name", "campaign__client__name"]
    list_select_related = ["campaign", "created_by"]
    readonly_fields = [
        "campaign",
        "version",
        "milestone",
        "milestone_event",
        "files",
        "pdf_bytes",
        "archive_bytes",
        "contents",
        "created_by",
        "created_at",
    ]
    fields = readonly_fields

    def get_queryset(self, request):
        return super().get_queryset(request).filter(campaign__in=campaigns_visible_to(request.user))

    @admin.display(description="Files")
    def files(self, obj: DeliveryPackage) -> str:
        return format_html_join(
            " · ",
            '<a href="{}">{}</a>',
            (
                (reverse("admin:deliverables_deliverypackage_download", args=[obj.pk, kind]), kind.upper())
                for kind in ("pdf", "zip")
            ),
        )

    def get_urls(self):
        return [
            path(
                "<int:object_id>/download/<str:kind>/",
                self.admin_site.admin_view(self.download_view),
                name="deliverables_deliverypackage_download",
            ),
            *super().get_urls(),
        ]

    def download_view(self, request: HttpRequest, object_id: int, kind: str):
        package = get_object_or_404(self.get_queryset(request), pk=object_id)
        if kind not in CONTENT_TYPES or not self.has_view_permission(request, package):
            raise Http404("No such file.")
        field = package.pdf if kind == "pdf" else package.archive
        name = (
            f"{package.campaign.client.slug}-campaign-{package.campaign_id}-package-v{package.version}.{kind}"
        )
        return _file_response(field, name, kind)

    def add_view(self, request: HttpRequest, form_url: str = "", extra_context=None):
        """ "Add" builds the next version of a campaign's package now."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        initial = {"campaign": request.GET.get("campaign")} if request.GET.get("campaign") else {}
        form = BuildPackageForm(request.POST or None, user=request.user, initial=initial)
        if request.method == "POST" and form.is_valid():
            try:
                package = build_delivery_package(campaign=form.cleaned_data["campaign"], actor=request.user)
            except DomainError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, f"Built {package}.")
                return redirect(reverse("admin:deliverables_deliverypackage_change", args=[package.pk]))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Build a delivery package",
            "form": form,
        }
        return TemplateResponse(request, "admin/deliverables/build_package.html", context)


def campaign_package_links(request: HttpRequest, campaign: Campaign) -> list[CampaignAdminLink]:
    links = []
    if request.user.has_perm("deliverables.view_deliverypackage"):
        changelist = reverse("admin:deliverables_deliverypackage_changelist")
        links.append(
            CampaignAdminLink(
                key="packages",
                label="Delivery packages",
                url=f"{changelist}?campaign__id__exact={campaign.pk}",
            )
        )
    if is_allowed(request.user, "package.build", campaign):
        add = reverse("admin:deliverables_deliverypackage_add")
        links.append(
            CampaignAdminLink(
                key="package-build", label="Build a delivery package", url=f"{add}?campaign={campaign.pk}"
            )
        )
    return links


register_campaign_admin_links("Deliverables", campaign_package_links, order=45)


class CommentaryForm(forms.ModelForm):
    class Meta:
        model = ClientReport
        fields = ["commentary"]
        widgets = {"commentary": forms.Textarea(attrs={"rows": 6, "cols": 90})}


@admin.register(ClientReport)
class ClientReportAdmin(AicmoModelAdmin):
    """The review gate. A draft's commentary is edited here; "Approve and send" and "Skip" decide
    it. Reports are built by the schedule (or ``manage.py client_report``), never added by hand."""

    add_action = NOBODY
    change_action = "client_report.review"
    delete_action = NOBODY
    locked_when = "is_reviewed"
    form = CommentaryForm
    list_display = [
        "__str__",
        "client",
        "frequency",
        "state",
        "built_at",
        "reviewed_by",
        "sent_at",
        "last_error",
    ]
    list_filter = ["state", "frequency", "client"]
    search_fields = ["client__name", "campaign__name"]
    list_select_related = ["client", "campaign", "reviewed_by"]
    readonly_fields = [
        "client",
        "campaign",
        "frequency",
        "period_start",
        "period_end",
        "timezone",
        "state",
        "pdf_link",
        "headline_numbers",
        "built_at",
        "reviewed_by",
        "reviewed_at",
        "review_rationale",
        "recipients",
        "sent_at",
        "send_attempts",
        "last_error",
    ]
    actions = ["approve_and_send", "skip"]

    def get_fields(self, request, obj=None):
        return ["commentary", *self.readonly_fields]

    def get_urls(self):
        return [
            path(
                "<int:object_id>/pdf/",
                self.admin_site.admin_view(self.pdf_view),
                name="deliverables_clientreport_pdf",
            ),
            *super().get_urls(),
        ]

    def pdf_view(self, request: HttpRequest, object_id: int):
        report = get_object_or_404(self.get_queryset(request), pk=object_id)
        if not self.has_view_permission(request, report):
            raise Http404("No such report.")
        return _file_response(
            report.pdf, f"report-{report.client.slug}-{report.period_start:%Y-%m-%d}.pdf", "pdf"
        )

    @admin.display(description="PDF")
    def pdf_link(self, obj: ClientReport) -> str:
        if not obj.pk or not obj.pdf:
            return "-"
        return format_html(
            '<a href="{}">Open the PDF</a>', reverse("admin:deliverables_clientreport_pdf", args=[obj.pk])
        )

    @admin.display(description="Numbers (frozen when built)")
    def headline_numbers(self, obj: ClientReport) -> str:
        rows = [
            (
                c["name"],
                c["kpis"]["leads_total"],
                c["kpis"]["qualified"],
                c["period_outreach"]["live_sent"],
                f"{c['period_outreach']['reply_rate']:.1%}",
                f"{c['kpis']['spend']} {c['currency']}",
            )
            for c in obj.numbers.get("campaigns", [])
        ]
        if not rows:
            return "No running campaigns."
        return format_html(
            "<table><tr><th>Campaign</th><th>Leads</th><th>Qualified</th><th>Sent (period)</th>"
            "<th>Reply rate (period)</th><th>Spend</th></tr>{}</table>",
            format_html_join(
                "", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", rows
            ),
        )

    def save_model(self, request, obj, form, change):
        edit_commentary(report=obj.pk, commentary=form.cleaned_data["commentary"], actor=request.user)

    approve_and_send = reason_action(
        lambda report, user, why: approve_report(report=report, actor=user, rationale=why),
        description="Approve and send to the client",
        label="Approved and sent",
        noun="report(s)",
        required=False,
        narrow=lambda qs: qs.filter(state=ReportState.DRAFT),
        help_text="Optional note, kept with the approval in the audit log.",
    )
    skip = reason_action(
        lambda report, user, why: skip_report(report=report, actor=user, rationale=why),
        description="Skip (do not send this period's report)",
        label="Skipped",
        noun="report(s)",
        narrow=lambda qs: qs.filter(state=ReportState.DRAFT),
    )


@admin.register(ReportSchedule)
class ReportScheduleAdmin(AicmoModelAdmin):
    list_display = ["__str__", "client", "campaign", "frequency", "is_active", "created_at"]
    list_filter = ["frequency", "is_active", "client"]
    fields = ["client", "campaign", "frequency", "is_active"]

    def save_model(self, request, obj, form, change):
        save_report_schedule(instance=obj, actor=request.user)


@admin.register(ClientReportSettings)
class ClientReportSettingsAdmin(AicmoModelAdmin):
    list_display = ["client", "recipients", "timezone", "send_without_review", "updated_at"]
    fields = ["client", "recipients", "timezone", "send_without_review"]

    def save_model(self, request, obj, form, change):
        save_report_settings(instance=obj, actor=request.user)
