"""Operator admin for the sending half: mailboxes and sequences (created only through
``create_sequence``, changed only through ``update_sequence``).

Two pages run the campaign cycle, always as a dry run: "Run cycle (dry run)" (a campaign picker;
``?campaign=<id>`` preselects) and the Sequence list action. Nothing here can send live email.
"Preview next cycle" (``cycle_preview.py``) shows what the next cycle would do and uses nothing up.
The forms are in ``forms.py``, a cycle's result in ``cycle_results.py``, the read-only records
(enrollments, messages, events, replies) in ``records.py``.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from campaigns.admin_kit.base import NOBODY, AicmoModelAdmin, AicmoTabularInline, ReadOnlyAdminMixin
from campaigns.admin_kit.display import campaign_time_column
from campaigns.admin_kit.refusals import REFUSALS, refusal_text
from creative.models import CreativeState, CreativeVariant

from ..models import Message, Sequence, SequenceStep
from ..services.cycle import run_cycle
from ..services.sending.sequences import SEQUENCE_EDITABLE_FIELDS, create_sequence, update_sequence
from .cycle_preview import activation_offer, cycle_preview_page
from .cycle_results import cycle_result, may_run_dry_cycle, run_cycle_links
from .filters import CampaignFilter, campaign_choices
from .forms import (
    CampaignPickForm,
    NewSequenceForm,
    RunCycleForm,
    SequenceChangeForm,
    StepFormSet,
    preselected_campaign,
)

__all__ = ["SequenceAdmin"]  # mailboxes: mailboxes.py

TEMPLATES = "admin/outreach/sending"


def _admin_context(model_admin: admin.ModelAdmin, request: HttpRequest, title: str, **extra) -> dict:
    return {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "title": title,
        **extra,
    }


# --- sequences -----------------------------------------------------------------------------------


class SequenceStepInline(ReadOnlyAdminMixin, AicmoTabularInline):
    """Steps are created with their sequence (through the service) and are not edited afterwards:
    scheduled messages already point at them."""

    model = SequenceStep
    fields = ["position", "channel", "delay_days", "variants_table"]
    readonly_fields = fields
    extra = 0
    verbose_name_plural = "Steps (with their A/B creative variants)"

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("variants__creative")

    @admin.display(description="Variants (label · creative · weight · messages)")
    def variants_table(self, step: SequenceStep) -> str:
        variants = list(step.variants.all())
        if not variants:
            return "—"
        total = sum(v.weight for v in variants)
        counts = dict(
            Message.objects.filter(step_variant__in=variants)
            .values_list("step_variant")
            .annotate(n=Count("id"))
            .values_list("step_variant", "n")
        )
        rows = format_html_join(
            "",
            '<tr><td><b>{}</b></td><td><a href="{}">{}</a> <span class="quiet">({})</span></td>'
            "<td>{} ({}%)</td><td>{}</td></tr>",
            (
                (
                    v.label,
                    reverse("admin:creative_creativevariant_change", args=[v.creative_id]),
                    str(v.creative),
                    v.creative.get_state_display(),
                    v.weight,
                    round(100 * v.weight / total),
                    counts.get(v.pk, 0),
                )
                for v in variants
            ),
        )
        return format_html(
            '<table class="step-variants"><thead><tr><th>Label</th><th>Creative</th><th>Weight</th>'
            "<th>Messages</th></tr></thead><tbody>{}</tbody></table>",
            rows,
        )


@admin.register(Sequence)
class SequenceAdmin(AicmoModelAdmin):
    delete_action = NOBODY  # messages point at its steps; deactivate it instead
    form = SequenceChangeForm
    change_list_template = f"{TEMPLATES}/sequence_change_list.html"
    list_display = [
        "name",
        "campaign",
        "mailbox",
        "pool_size",
        "is_active",
        "step_count",
        "enrollment_count",
        "created_at_local",
    ]
    list_filter = ["is_active", CampaignFilter]
    search_fields = ["name", "campaign__name"]
    list_select_related = ["campaign__client", "mailbox"]
    readonly_fields = ["campaign", "created_at_local"]
    fields = ["campaign", *SEQUENCE_EDITABLE_FIELDS, "created_at_local"]
    inlines = [SequenceStepInline]
    created_at_local = campaign_time_column("created_at", "Created")
    actions = ["run_dry_cycle_action"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                n_steps=Count("steps", distinct=True),
                n_pool=Count("mailboxes", distinct=True),
                n_enrollments=Count("enrollments", distinct=True),
            )
        )

    @admin.display(description="Pool mailboxes", ordering="n_pool")
    def pool_size(self, obj: Sequence) -> int:
        """Mailboxes first emails rotate over beside the default one (0: no rotation)."""
        return obj.n_pool

    @admin.display(description="Steps", ordering="n_steps")
    def step_count(self, obj: Sequence) -> int:
        return obj.n_steps

    @admin.display(description="Enrollments", ordering="n_enrollments")
    def enrollment_count(self, obj: Sequence) -> int:
        return obj.n_enrollments

    def add_view(self, request, form_url="", extra_context=None):
        """Sequences are created by the service (approved email creative only): use the New page."""
        url = reverse("admin:outreach_sequence_new")
        campaign = request.GET.get("campaign")
        return HttpResponseRedirect(f"{url}?campaign={campaign}" if campaign else url)

    def save_model(self, request, obj: Sequence, form, change: bool) -> None:
        # Only changes reach here (add_view sends to the New page); the service saves and audits.
        changes = {
            name: form.cleaned_data[name] for name in form.changed_data if name in SEQUENCE_EDITABLE_FIELDS
        }
        update_sequence(sequence=obj, actor=request.user, **changes)

    def save_related(self, request, form, formsets, change: bool) -> None:
        # The pool was saved (and audited) by update_sequence: no form.save_m2m() behind its back.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        sequence = self.get_object(request, object_id)
        extra = dict(extra_context or {})
        if sequence is not None:
            extra.update(activation_offer(request, sequence.campaign))
        return super().change_view(request, object_id, form_url, extra_context=extra)

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), **run_cycle_links(request, "campaign__id__exact")}
        return super().changelist_view(request, extra_context)

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("new/", view(self.new_sequence_view), name="outreach_sequence_new"),
            path("run-cycle/", view(self.run_cycle_view), name="outreach_sequence_run_cycle"),
            path("preview-cycle/", view(self.preview_cycle_view), name="outreach_sequence_preview_cycle"),
            *super().get_urls(),
        ]

    # --- New sequence ---------------------------------------------------------------------------

    def new_sequence_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_add_permission(request):
            raise PermissionDenied
        visible = campaign_choices(request)
        campaign_id = request.POST.get("campaign") or request.GET.get("campaign")
        picker = CampaignPickForm({"campaign": campaign_id} if campaign_id else None, campaigns=visible)
        if not campaign_id or not picker.is_valid():
            return TemplateResponse(
                request,
                f"{TEMPLATES}/new_sequence.html",
                _admin_context(self, request, "New sequence", picker=picker, campaign=None),
            )
        campaign = picker.cleaned_data["campaign"]
        form = NewSequenceForm(request.POST or None, campaign=campaign)
        steps = StepFormSet(request.POST or None, prefix="steps", form_kwargs={"campaign": campaign})
        service_error = ""
        if request.method == "POST" and form.is_valid() and steps.is_valid():
            try:
                sequence = create_sequence(
                    campaign=campaign,
                    name=form.cleaned_data["name"],
                    mailbox=form.cleaned_data["mailbox"],
                    mailboxes=form.cleaned_data["mailboxes"],
                    plain_text_only=form.cleaned_data["plain_text_only"],
                    track_opens=form.cleaned_data["track_opens"],
                    track_clicks=form.cleaned_data["track_clicks"],
                    steps=steps.step_specs(),
                    actor=request.user,
                )
            except REFUSALS as exc:
                service_error = refusal_text(exc)  # shown above the form the user filled in
            else:
                messages.success(
                    request,
                    f"Sequence “{sequence.name}” created for {campaign.name} with "
                    f"{sequence.steps.count()} step(s).",
                )
                return HttpResponseRedirect(reverse("admin:outreach_sequence_change", args=[sequence.pk]))
        approved = CreativeVariant.objects.filter(
            campaign=campaign, platform="email", state=CreativeState.APPROVED
        ).count()
        context = _admin_context(
            self,
            request,
            f"New sequence for {campaign.name}",
            picker=picker,
            campaign=campaign,
            form=form,
            steps=steps,
            service_error=service_error,
            approved_count=approved,
            creatives_url=reverse("admin:creative_creativevariant_changelist")
            + f"?campaign__id__exact={campaign.pk}",
        )
        return TemplateResponse(request, f"{TEMPLATES}/new_sequence.html", context)

    # --- Preview next cycle (read only) and Run cycle (dry run) ---------------------------------

    def preview_cycle_view(self, request: HttpRequest) -> HttpResponse:
        return cycle_preview_page(self, request)

    def run_cycle_view(self, request: HttpRequest) -> HttpResponse:
        if not may_run_dry_cycle(request):
            raise PermissionDenied
        visible = campaign_choices(request)
        initial = {"campaign": request.GET.get("campaign")} if request.GET.get("campaign") else None
        form = RunCycleForm(request.POST or None, initial=initial, campaigns=visible)
        results, campaign = [], None
        if request.method == "POST" and form.is_valid():
            campaign = form.cleaned_data["campaign"]
            stats = run_cycle(campaign_id=campaign.pk, dry_run=True).as_dict()
            results.append(cycle_result(campaign, stats))
            form = RunCycleForm(initial={"campaign": campaign.pk}, campaigns=visible)
        preselected = preselected_campaign(form, visible)
        context = _admin_context(
            self,
            request,
            "Run cycle (dry run)",
            form=form,
            results=results,
            preselected=preselected,
            campaign=campaign,  # the results' way back to their campaign
        )
        return TemplateResponse(request, f"{TEMPLATES}/run_cycle.html", context)

    @admin.action(description="Run cycle (dry run) for these sequences' campaigns")
    def run_dry_cycle_action(self, request: HttpRequest, queryset: QuerySet[Sequence]):
        if not may_run_dry_cycle(request):
            raise PermissionDenied
        campaign_ids = sorted(set(queryset.values_list("campaign_id", flat=True)))
        campaigns = {c.pk: c for c in campaign_choices(request).filter(pk__in=campaign_ids)}
        results, refused = [], []
        for campaign_id in campaign_ids:
            campaign = campaigns.get(campaign_id)
            if campaign is None:
                continue
            if campaign.is_live:
                refused.append(campaign)
                continue
            stats = run_cycle(campaign_id=campaign.pk, dry_run=True).as_dict()
            results.append(cycle_result(campaign, stats))
        context = _admin_context(
            self,
            request,
            "Run cycle (dry run)",
            form=None,
            results=results,
            refused_live=[
                {
                    "campaign": c,
                    "url": reverse("admin:outreach_sequence_run_cycle") + f"?campaign={c.pk}",
                }
                for c in refused
            ],
            back_url=reverse("admin:outreach_sequence_changelist"),
        )
        return TemplateResponse(request, f"{TEMPLATES}/run_cycle.html", context)
