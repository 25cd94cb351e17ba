"""The admin's lead import: upload → preview (detected columns, the first rows as they would be
imported, flagged values marked) → import or cancel; and the report of each import, its rejected
rows apart from the flagged values of imported leads, with a CSV of all of them.

The upload waits in storage, named by a signed token in the preview form (``leads.importers.preview``);
nothing is written to the database before the operator confirms. Registered by ``leads.admin``.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseRedirect, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST

from campaigns.admin_kit.base import NOBODY, AicmoModelAdmin
from campaigns.errors import DomainError
from campaigns.models import Campaign

from .importers import (
    MAPPABLE_FIELDS,
    PREVIEW_ROWS,
    PendingImport,
    discard_upload,
    import_pending,
    iter_issues_csv,
    preview_csv,
    preview_token,
    read_preview_token,
    store_upload,
)
from .models import Lead, LeadImport
from .selectors import import_rejections, import_warnings

SHOWN_ISSUES = 50


class LeadImportForm(forms.Form):
    campaign = forms.ModelChoiceField(queryset=Campaign.objects.select_related("client"))
    file = forms.FileField(
        help_text="CSV: UTF-8 (with or without BOM) or Latin-1; comma, semicolon, tab or pipe."
    )
    mapping = forms.CharField(
        required=False,
        help_text="Only for headers the aliases miss: FIELD=COLUMN pairs, comma-separated, e.g. "
        f"“email=Work Email,first_name=Given”. Fields: {', '.join(MAPPABLE_FIELDS)}.",
    )


def _next_url(request: HttpRequest, target: str | None) -> str:
    """Where to go after the import (a page on this site), or ""."""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return ""


def _field_label(name: str) -> str:
    if name == "full_name":
        return "full name (split into first and last name)"
    return str(Lead._meta.get_field(name).verbose_name)


# An import's counts as its report page and the list show them: flagged next to inserted, since
# flagged leads were inserted too (the runner's IMPORT_COUNTS keeps its own event order).
REPORT_COUNTS = (
    "rows_read",
    "inserted",
    "flagged",
    "duplicates_in_file",
    "duplicates_in_campaign",
    "suppressed",
    "invalid",
)


@admin.register(LeadImport)
class LeadImportAdmin(AicmoModelAdmin):
    add_action = "leads.import"  # through the upload page, which asks the same
    change_action = NOBODY  # an import's report is a record
    list_display = [
        "__str__",
        "campaign",
        "filename",
        "status",
        *REPORT_COUNTS,
        "started_at",
    ]
    list_filter = ["status", "source", "campaign__client"]
    list_select_related = ["campaign", "campaign__client"]
    readonly_fields = [
        "campaign",
        "created_by",
        "source",
        "filename",
        "encoding",
        "delimiter",
        "column_mapping",
        "ignored_columns",
        "status",
        "error",
        *REPORT_COUNTS,
        "blank_lines",
        "started_at",
        "finished_at",
        "rejected_rows",
        "flagged_values",
    ]
    fields = readonly_fields

    def get_urls(self):
        return [
            path("upload/", self.admin_site.admin_view(self.upload_view), name="leads_leadimport_upload"),
            path(
                "upload/confirm/",
                self.admin_site.admin_view(require_POST(self.confirm_view)),
                name="leads_leadimport_confirm",
            ),
            path(
                "<int:import_id>/issues.csv",
                self.admin_site.admin_view(self.issues_csv_view),
                name="leads_leadimport_issues_csv",
            ),
            *super().get_urls(),
        ]

    def add_view(self, request, form_url="", extra_context=None):
        return HttpResponseRedirect(reverse("admin:leads_leadimport_upload"))

    # -- the report --

    @staticmethod
    def _issue_table(issues, *, with_kind: bool) -> str:
        if with_kind:
            head = "<tr><th>row</th><th>kind</th><th>field</th><th>reason</th><th>value</th></tr>"
            cells = ((i.row_number, i.get_kind_display(), i.field, i.reason, i.value) for i in issues)
            row = "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>"
        else:
            head = "<tr><th>row</th><th>field</th><th>reason</th><th>value</th></tr>"
            cells = ((i.row_number, i.field, i.reason, i.value) for i in issues)
            row = "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>"
        return format_html("<table>{}{}</table>", mark_safe(head), format_html_join("", row, cells))

    @admin.display(description="rejected rows")
    def rejected_rows(self, lead_import: LeadImport) -> str:
        issues = list(import_rejections(lead_import)[:SHOWN_ISSUES])
        if not issues:
            return "None."
        url = reverse("admin:leads_leadimport_issues_csv", args=[lead_import.pk])
        flagged = import_warnings(lead_import).count()
        label = f"Download all {lead_import.rejected} rejected rows" + (
            f" and {flagged} flagged values as CSV" if flagged else " as CSV"
        )
        table = self._issue_table(issues, with_kind=True)
        return format_html('<p><a class="button" href="{}">{}</a></p>{}', url, label, table)

    @admin.display(description="flagged values (leads imported, value left empty)")
    def flagged_values(self, lead_import: LeadImport) -> str:
        issues = list(import_warnings(lead_import)[:SHOWN_ISSUES])
        if not issues:
            return "None."
        url = reverse("admin:leads_leadimport_issues_csv", args=[lead_import.pk])
        return format_html(
            '<p>{} leads imported with {} values left empty. <a href="{}">All as CSV</a></p>{}',
            lead_import.flagged,
            import_warnings(lead_import).count(),
            url,
            self._issue_table(issues, with_kind=False),
        )

    # -- upload → preview → confirm or cancel --

    def upload_view(self, request: HttpRequest):
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = LeadImportForm(
            request.POST or None, request.FILES or None, initial={"campaign": request.GET.get("campaign")}
        )
        if request.method == "POST" and form.is_valid():
            response = self._preview(request, form)
            if response is not None:
                return response
        return self._render(
            request,
            "admin/leads/leadimport/upload.html",
            "Import leads from a CSV file",
            form=form,
            next_url=_next_url(request, request.POST.get("next") or request.GET.get("next")),
        )

    def _preview(self, request: HttpRequest, form: LeadImportForm):
        """Keep the upload and show its preview; None (errors on the form) when it cannot be read."""
        upload = form.cleaned_data["file"]
        campaign = form.cleaned_data["campaign"]
        mapping = form.cleaned_data["mapping"] or ""
        stored_name = store_upload(upload)
        try:
            upload.seek(0)
            preview = preview_csv(
                campaign=campaign, file=upload, filename=upload.name, mapping=mapping or None
            )
        except DomainError as exc:
            discard_upload(stored_name)
            field = exc.details.get("field")
            form.add_error({"mapping": "mapping", "campaign": "campaign"}.get(field, "file"), str(exc))
            return None
        token = preview_token(
            PendingImport(
                stored_name=stored_name,
                campaign_id=campaign.pk,
                filename=upload.name[:255],
                mapping=mapping,
                user_id=request.user.pk,
            )
        )
        columns = [
            (column, next((_field_label(f) for f, c in preview.mapping.items() if c == column), None))
            for column in preview.header
        ]
        return self._render(
            request,
            "admin/leads/leadimport/preview.html",
            f"Check the import of {upload.name}",
            preview=preview,
            campaign=campaign,
            columns=columns,
            field_labels=[_field_label(name) for name in preview.fields],
            table=[(row, row.cells(preview.fields)) for row in preview.rows],
            shown_rows=PREVIEW_ROWS,
            token=token,
            next_url=_next_url(request, request.POST.get("next")),
        )

    def confirm_view(self, request: HttpRequest):
        if not self.has_add_permission(request):
            raise PermissionDenied
        upload_url = reverse("admin:leads_leadimport_upload")
        try:
            pending = read_preview_token(request.POST.get("token", ""), user=request.user)
        except DomainError as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return HttpResponseRedirect(upload_url)
        if "cancel" in request.POST:
            discard_upload(pending.stored_name)
            self.message_user(request, "Import cancelled: nothing was imported.", messages.INFO)
            return HttpResponseRedirect(f"{upload_url}?campaign={pending.campaign_id}")
        try:
            lead_import = import_pending(pending, actor=request.user)
        except DomainError as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return HttpResponseRedirect(f"{upload_url}?campaign={pending.campaign_id}")
        # The summary as a message, and on to the next step (the page the import was started for,
        # else the campaign): the full report is one link away, not a page load on the way.
        report_url = reverse("admin:leads_leadimport_change", args=[lead_import.pk])
        self.message_user(
            request,
            format_html(
                "{} leads inserted from {} rows; {} rows rejected; {} leads imported with a value left "
                'empty. <a id="lead-import-report-link" href="{}">The full report</a>',
                lead_import.inserted,
                lead_import.rows_read,
                lead_import.rejected,
                lead_import.flagged,
                report_url,
            ),
            messages.SUCCESS,
        )
        campaign_url = reverse("admin:campaigns_campaign_change", args=[lead_import.campaign_id])
        return HttpResponseRedirect(_next_url(request, request.POST.get("next")) or campaign_url)

    def _render(self, request: HttpRequest, template: str, title: str, **context):
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "opts": self.model._meta,
            **context,
        }
        return TemplateResponse(request, template, context)

    def issues_csv_view(self, request: HttpRequest, import_id: int):
        lead_import = get_object_or_404(LeadImport, pk=import_id)
        response = StreamingHttpResponse(iter_issues_csv(lead_import), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="lead-import-{lead_import.pk}-issues.csv"'
        return response
