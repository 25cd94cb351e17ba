"""Operator admin for the sending half: mailboxes, sequences (created only through
``create_sequence``), and read-only views of enrollments, messages, tracking events and replies.

Two pages run the campaign cycle, always as a dry run: "Run cycle (dry run)" (a campaign picker;
``?campaign=<id>`` preselects) and the Sequence list action. Nothing here can send live email.
"Preview next cycle" (``cycle_preview.py``) shows what the next cycle would do and uses nothing up.
Times are shown in each campaign's time zone, named (``times.py``).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Case, Count, IntegerField, Q, QuerySet, Value, When
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from campaigns.errors import DomainError
from campaigns.models import Campaign
from campaigns.selectors import campaigns_visible_to
from campaigns.services import record_audit_event
from creative.models import CreativeState, CreativeVariant

from ..models import (
    Enrollment,
    InboundReply,
    Message,
    MessageEvent,
    SendingMailbox,
    Sequence,
    SequenceStep,
    StepVariant,
)
from ..services.cycle import run_cycle
from ..services.sending import create_sequence
from .cycle_preview import cycle_preview_page, preview_url
from .times import campaign_time_column

__all__ = [
    "EnrollmentAdmin",
    "InboundReplyAdmin",
    "MessageAdmin",
    "MessageEventAdmin",
    "SendingMailboxAdmin",
    "SequenceAdmin",
]

TEMPLATES = "admin/outreach/sending"
VARIANT_LABELS = ("A", "B", "C")
STEP_ROWS = 4

# What each number of a cycle's stats means, in the order shown (SPEC §6).
CYCLE_STAT_LABELS: dict[str, tuple[str, str]] = {
    "campaign_id": ("Campaign", ""),
    "dry_run": ("Dry run", "Yes: messages were rendered and recorded; no provider was called."),
    "skipped_cycle": ("Cycle skipped", "Why the cycle did not run (campaign not active, already running)."),
    "discovered": ("Discovered", "New leads pulled from the configured lead sources."),
    "enriched": ("Enriched and scored", "Leads enriched and scored in this cycle."),
    "enrolled": ("Enrolled", "Leads newly enrolled in the campaign's active sequences."),
    "scheduled": ("Scheduled", "Messages rendered for sequence steps that came due."),
    "recorded_dry_run": ("Recorded (dry run)", "Messages recorded as 'would be sent'."),
    "sent": ("Sent", "Emails handed to the provider (always 0 in a dry run)."),
    "failed": ("Failed", "Send attempts that failed (retried or dead)."),
    "skipped": ("Skipped", "Messages cancelled because the lead is no longer contactable."),
    "rescheduled": ("Rescheduled", "Messages moved to the next send window or the next day (caps)."),
    "cap_reached": ("Daily cap reached", "The campaign's (or mailbox's) daily cap stopped sending."),
    "paused": ("Auto-paused", "An auto-pause rule paused the campaign."),
    "pause_reason": ("Pause reason", ""),
    "errors": ("Errors", "Exceptions caught in this campaign's cycle."),
}
NOT_STAT_ROWS = ("metrics", "reasons")  # shown on their own, above and below the table
METRIC_LABELS = {
    "leads_total": "Leads in total",
    "qualified": "Qualified (incl. won)",
    "lost": "Lost",
    "conversion_rate": "Conversion rate",
    "goal_progress": "Goal progress (qualified / target clients)",
}


def _campaign_choices(request: HttpRequest) -> QuerySet[Campaign]:
    return campaigns_visible_to(request.user).select_related("client").order_by("name", "pk")


def _stats_rows(stats: dict[str, Any]) -> list[dict[str, Any]]:
    """The stats dict as table rows (label, value, help), known keys first, anything new after."""
    rows = []
    known = [key for key in CYCLE_STAT_LABELS if key in stats]
    extra = [key for key in stats if key not in CYCLE_STAT_LABELS and key not in NOT_STAT_ROWS]
    for key in known + extra:
        label, help_text = CYCLE_STAT_LABELS.get(key, (key.replace("_", " ").capitalize(), ""))
        value = stats[key]
        if isinstance(value, bool):
            value = "yes" if value else "no"
        elif isinstance(value, list):
            value = "; ".join(str(v) for v in value) or "none"
        elif value == "":
            value = "—"
        rows.append({"key": key, "label": label, "value": value, "help": help_text})
    return rows


def _metric_rows(metrics: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for key, value in metrics.items():
        if isinstance(value, dict):
            value = ", ".join(f"{k}: {v}" for k, v in sorted(value.items())) or "none"
        rows.append(
            {"key": key, "label": METRIC_LABELS.get(key, key.replace("_", " ").capitalize()), "value": value}
        )
    return rows


def _cycle_result(campaign: Campaign, stats: dict[str, Any]) -> dict[str, Any]:
    messages_url = reverse("admin:outreach_message_changelist")
    return {
        "campaign": campaign,
        "rows": _stats_rows(stats),
        "metrics": _metric_rows(stats.get("metrics") or {}),
        "errors": stats.get("errors") or [],
        "reasons": stats.get("reasons") or [],
        "preview_url": preview_url(campaign),
        "messages_url": f"{messages_url}?campaign__id__exact={campaign.pk}&dry_run__exact=1",
        "stats": stats,
    }


def _admin_context(model_admin: admin.ModelAdmin, request: HttpRequest, title: str, **extra) -> dict:
    return {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "title": title,
        **extra,
    }


class ReadOnlyAdminMixin:
    """Rows written by the engine (and webhooks) only: viewable, never added, edited or deleted here."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class CampaignFilter(admin.SimpleListFilter):
    """Campaigns in one query (client names joined), under the standard ``campaign__id__exact`` key."""

    title = "campaign"
    parameter_name = "campaign__id__exact"

    def lookups(self, request, model_admin):
        campaigns = _campaign_choices(request).only("pk", "name", "client__name")
        return [(str(c.pk), str(c)) for c in campaigns]

    def queryset(self, request, queryset):
        value = self.value()
        return queryset.filter(campaign_id=value) if value and value.isdigit() else queryset


class StepVariantFilter(admin.SimpleListFilter):
    """The A/B arms that have messages (of the chosen campaign, when one is), in one query."""

    title = "step variant"
    parameter_name = "step_variant__id__exact"

    def lookups(self, request, model_admin):
        variants = StepVariant.objects.filter(
            pk__in=Message.objects.values("step_variant_id").distinct()
        ).select_related("step__sequence")
        campaign = request.GET.get("campaign__id__exact", "")
        if campaign.isdigit():
            variants = variants.filter(step__sequence__campaign_id=campaign)
        variants = variants.order_by("step__sequence__name", "step__sequence_id", "step__position", "label")
        return [(str(v.pk), str(v)) for v in variants]

    def queryset(self, request, queryset):
        value = self.value()
        return queryset.filter(step_variant_id=value) if value and value.isdigit() else queryset


# --- mailboxes -----------------------------------------------------------------------------------


@admin.register(SendingMailbox)
class SendingMailboxAdmin(admin.ModelAdmin):
    list_display = [
        "email",
        "display_name",
        "client",
        "daily_cap",
        "reply_to",
        "is_active",
        "sequences_using",
    ]
    list_filter = ["is_active", ("client", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["email", "display_name"]
    list_select_related = ["client"]
    fields = ["email", "display_name", "client", "daily_cap", "reply_to", "is_active"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(sequence_count=Count("sequences"))

    @admin.display(description="Sequences", ordering="sequence_count")
    def sequences_using(self, obj: SendingMailbox) -> int:
        return obj.sequence_count


# --- sequences -----------------------------------------------------------------------------------


class SequenceStepInline(admin.TabularInline):
    """Steps are created with their sequence (through the service) and are not edited afterwards:
    scheduled messages already point at them."""

    model = SequenceStep
    fields = ["position", "channel", "delay_days", "variants_table"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = "Steps (with their A/B creative variants)"

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

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


class SequenceChangeForm(forms.ModelForm):
    class Meta:
        model = Sequence
        fields = ["name", "mailbox", "is_active"]
        help_texts = {
            "is_active": "Untick to stop enrolling new leads into this sequence. "
            "Leads already enrolled keep going; stop the campaign to stop them.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            client_id = self.instance.campaign.client_id
            self.fields["mailbox"].queryset = SendingMailbox.objects.filter(
                Q(client_id=client_id) | Q(client__isnull=True)
            )


@admin.register(Sequence)
class SequenceAdmin(admin.ModelAdmin):
    form = SequenceChangeForm
    change_list_template = f"{TEMPLATES}/sequence_change_list.html"
    list_display = [
        "name",
        "campaign",
        "mailbox",
        "is_active",
        "step_count",
        "enrollment_count",
        "created_at_local",
    ]
    list_filter = ["is_active", CampaignFilter]
    search_fields = ["name", "campaign__name"]
    list_select_related = ["campaign__client", "mailbox"]
    readonly_fields = ["campaign", "created_at_local"]
    fields = ["campaign", "name", "mailbox", "is_active", "created_at_local"]
    inlines = [SequenceStepInline]
    created_at_local = campaign_time_column("created_at", "Created")
    actions = ["run_dry_cycle_action"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                n_steps=Count("steps", distinct=True),
                n_enrollments=Count("enrollments", distinct=True),
            )
        )

    @admin.display(description="Steps", ordering="n_steps")
    def step_count(self, obj: Sequence) -> int:
        return obj.n_steps

    @admin.display(description="Enrollments", ordering="n_enrollments")
    def enrollment_count(self, obj: Sequence) -> int:
        return obj.n_enrollments

    def has_delete_permission(self, request, obj=None):
        return False  # messages point at its steps; deactivate it instead

    def add_view(self, request, form_url="", extra_context=None):
        """Sequences are created by the service (approved email creative only): use the New page."""
        url = reverse("admin:outreach_sequence_new")
        campaign = request.GET.get("campaign")
        return HttpResponseRedirect(f"{url}?campaign={campaign}" if campaign else url)

    def save_model(self, request, obj: Sequence, form, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if change and form.changed_data:
            record_audit_event(
                verb="sequence.updated",
                actor=request.user,
                campaign=obj.campaign,
                target=obj,
                metadata={"changed": form.changed_data},
            )

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), **_run_cycle_link(request, "campaign__id__exact")}
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
        visible = _campaign_choices(request)
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
                    steps=steps.step_specs(),
                    actor=request.user,
                )
            except DomainError as exc:
                service_error = str(exc)
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
        if not _may_run_dry_cycle(request):
            raise PermissionDenied
        visible = _campaign_choices(request)
        initial = {"campaign": request.GET.get("campaign")} if request.GET.get("campaign") else None
        form = RunCycleForm(request.POST or None, initial=initial, campaigns=visible)
        results = []
        if request.method == "POST" and form.is_valid():
            campaign = form.cleaned_data["campaign"]
            stats = run_cycle(campaign_id=campaign.pk, dry_run=True).as_dict()
            results.append(_cycle_result(campaign, stats))
            form = RunCycleForm(initial={"campaign": campaign.pk}, campaigns=visible)
        preselected = _preselected_campaign(form, visible)
        context = _admin_context(
            self,
            request,
            "Run cycle (dry run)",
            form=form,
            results=results,
            preselected=preselected,
        )
        return TemplateResponse(request, f"{TEMPLATES}/run_cycle.html", context)

    @admin.action(description="Run cycle (dry run) for these sequences' campaigns")
    def run_dry_cycle_action(self, request: HttpRequest, queryset: QuerySet[Sequence]):
        if not _may_run_dry_cycle(request):
            raise PermissionDenied
        campaign_ids = sorted(set(queryset.values_list("campaign_id", flat=True)))
        campaigns = {c.pk: c for c in _campaign_choices(request).filter(pk__in=campaign_ids)}
        results, refused = [], []
        for campaign_id in campaign_ids:
            campaign = campaigns.get(campaign_id)
            if campaign is None:
                continue
            if campaign.is_live:
                refused.append(campaign)
                continue
            stats = run_cycle(campaign_id=campaign.pk, dry_run=True).as_dict()
            results.append(_cycle_result(campaign, stats))
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


def _may_run_dry_cycle(request: HttpRequest) -> bool:
    """A dry run sends nothing but enrolls leads and records messages: staff who may view messages."""
    user = request.user
    return user.is_active and user.is_staff and user.has_perm("outreach.view_message")


def _run_cycle_link(request: HttpRequest, campaign_param: str) -> dict[str, str]:
    url = reverse("admin:outreach_sequence_run_cycle")
    preview = preview_url()
    campaign = request.GET.get(campaign_param, "")
    if campaign.isdigit():
        return {
            "run_cycle_url": f"{url}?campaign={campaign}",
            "preview_cycle_url": f"{preview}?campaign={campaign}",
        }
    return {"run_cycle_url": url, "preview_cycle_url": preview}


def _preselected_campaign(form: forms.Form, visible: QuerySet[Campaign]) -> Campaign | None:
    value = form["campaign"].value()
    if value in (None, ""):
        return None
    try:
        return visible.filter(pk=int(value)).first()
    except (TypeError, ValueError):
        return None


class CampaignChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, campaign: Campaign) -> str:
        mode = "LIVE" if campaign.is_live else "dry-run mode"
        return f"#{campaign.pk} {campaign.name} — {campaign.get_state_display()}, {mode}"


class CampaignPickForm(forms.Form):
    campaign = CampaignChoiceField(
        queryset=Campaign.objects.none(), help_text="The campaign the sequence belongs to."
    )

    def __init__(self, *args, campaigns: QuerySet[Campaign], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["campaign"].queryset = campaigns


class RunCycleForm(forms.Form):
    campaign = CampaignChoiceField(
        queryset=Campaign.objects.none(),
        help_text="Only active campaigns run; any other reports why it was skipped.",
    )
    confirm_live = forms.BooleanField(
        required=False,
        label="I understand (live campaigns only)",
        help_text="On a LIVE campaign a dry run is a rehearsal: everything it does is rolled back and only "
        "its numbers are shown (nothing is sent or used up). Preview next cycle shows who would get what.",
    )

    def __init__(self, *args, campaigns: QuerySet[Campaign], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["campaign"].queryset = campaigns

    def clean(self):
        cleaned = super().clean()
        campaign = cleaned.get("campaign")
        if campaign is not None and campaign.is_live and not cleaned.get("confirm_live"):
            self.add_error(
                "confirm_live",
                f"{campaign.name} is live: tick the box to confirm a rehearsal (a dry run, rolled back).",
            )
        return cleaned


class EmailCreativeChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, creative: CreativeVariant) -> str:
        subject = creative.subject or creative.body[:60]
        state = "" if creative.state == CreativeState.APPROVED else f" — {creative.get_state_display()}"
        return f"#{creative.pk} v{creative.generation}: {subject[:70]}{state}"


class NewSequenceForm(forms.Form):
    name = forms.CharField(max_length=200, help_text="Shown in reports and on every message.")
    mailbox = forms.ModelChoiceField(
        queryset=SendingMailbox.objects.none(),
        required=False,
        help_text="The From address (its own daily cap applies). "
        "Empty: the default sender (DEFAULT_FROM_EMAIL).",
    )

    def __init__(self, *args, campaign: Campaign, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["mailbox"].queryset = SendingMailbox.objects.filter(
            Q(client_id=campaign.client_id) | Q(client__isnull=True), is_active=True
        )


class StepForm(forms.Form):
    delay_days = forms.IntegerField(
        min_value=0,
        max_value=365,
        required=False,
        help_text="Days after the previous step (after enrollment for step 1).",
    )

    def __init__(self, *args, campaign: Campaign, **kwargs):
        super().__init__(*args, **kwargs)
        creatives = (
            CreativeVariant.objects.filter(campaign=campaign, platform="email")
            .annotate(
                not_approved=Case(
                    When(state=CreativeState.APPROVED, then=Value(0)),
                    default=Value(1),
                    output_field=IntegerField(),
                )
            )
            .order_by("not_approved", "-pk")
        )
        for label in VARIANT_LABELS:
            self.fields[f"creative_{label}"] = EmailCreativeChoiceField(
                queryset=creatives, required=False, label=f"Variant {label}", empty_label="—"
            )
            self.fields[f"weight_{label}"] = forms.IntegerField(
                min_value=1, max_value=100, required=False, initial=1, label=f"Weight {label}"
            )

    def variant_pairs(self) -> list[tuple[CreativeVariant, int]]:
        pairs = []
        for label in VARIANT_LABELS:
            creative = self.cleaned_data.get(f"creative_{label}")
            if creative is not None:
                pairs.append((creative, self.cleaned_data.get(f"weight_{label}") or 1))
        return pairs


class BaseStepFormSet(forms.BaseFormSet):
    def clean(self):
        if any(self.errors):
            return
        filled = [bool(form.variant_pairs()) for form in self.forms]
        if not any(filled):
            raise forms.ValidationError("Step 1 needs at least one approved email creative (variant A).")
        last = max(i for i, used in enumerate(filled) if used)
        for index in range(last):
            if not filled[index]:
                raise forms.ValidationError(
                    f"Step {index + 1} is empty but step {last + 1} is not: fill the steps in order."
                )

    def step_specs(self) -> list[dict[str, Any]]:
        specs = []
        for position, form in enumerate(self.forms, start=1):
            pairs = form.variant_pairs()
            if not pairs:
                break
            delay = form.cleaned_data.get("delay_days")
            specs.append(
                {
                    "delay_days": delay if delay is not None else (0 if position == 1 else 3),
                    "creatives": [creative.pk for creative, _ in pairs],
                    "weights": [weight for _, weight in pairs],
                }
            )
        return specs


StepFormSet = forms.formset_factory(StepForm, formset=BaseStepFormSet, extra=STEP_ROWS, max_num=STEP_ROWS)


# --- enrollments, messages, events, replies (read-only) -------------------------------------------


@admin.register(Enrollment)
class EnrollmentAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "id",
        "lead",
        "sequence",
        "campaign",
        "state",
        "current_step",
        "next_send_at_local",
        "stop_reason",
        "enrolled_at_local",
        "ended_at_local",
    ]
    list_filter = ["state", "stop_reason", CampaignFilter]
    search_fields = ["lead__email", "sequence__name"]
    list_select_related = ["lead", "sequence", "campaign__client"]
    show_full_result_count = False
    fields = [
        "campaign",
        "sequence",
        "lead",
        "state",
        "current_step",
        "next_send_at_local",
        "stop_reason",
        "enrolled_at_local",
        "ended_at_local",
    ]
    readonly_fields = ["next_send_at_local", "enrolled_at_local", "ended_at_local"]
    next_send_at_local = campaign_time_column("next_send_at", "Next step due")
    enrolled_at_local = campaign_time_column("enrolled_at", "Enrolled")
    ended_at_local = campaign_time_column("ended_at", "Ended")


class MessageEventInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = MessageEvent
    fields = ["kind", "hard", "provider", "occurred_at_local", "detail", "event_key"]
    readonly_fields = fields
    extra = 0
    ordering = ["occurred_at"]
    occurred_at_local = campaign_time_column("occurred_at", "Occurred")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("campaign")


class InboundReplyInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = InboundReply
    fields = ["from_email", "subject", "is_auto_reply", "received_at_local"]
    readonly_fields = fields
    extra = 0
    received_at_local = campaign_time_column("received_at", "Received")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("campaign")


class StepVariantLabelFilter(admin.SimpleListFilter):
    title = "A/B label"
    parameter_name = "variant_label"

    def lookups(self, request, model_admin):
        labels = StepVariant.objects.order_by("label").values_list("label", flat=True).distinct()
        return [(label, label) for label in labels]

    def queryset(self, request, queryset):
        return queryset.filter(step_variant__label=self.value()) if self.value() else queryset


@admin.register(Message)
class MessageAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    change_list_template = f"{TEMPLATES}/message_change_list.html"
    list_display = [
        "id",
        "to_email",
        "short_subject",
        "campaign",
        "variant",
        "state",
        "dry_run",
        "attempts",
        "scheduled_for_local",
        "sent_at_local",
    ]
    list_filter = [
        "state",
        "dry_run",
        "send_resolution",
        CampaignFilter,
        StepVariantLabelFilter,
        StepVariantFilter,
    ]
    search_fields = ["to_email", "subject"]
    list_select_related = ["campaign__client", "step_variant__step__sequence"]
    show_full_result_count = False
    date_hierarchy = "scheduled_for"
    inlines = [MessageEventInline, InboundReplyInline]
    fieldsets = (
        (None, {"fields": ("campaign", "enrollment", "lead", "step", "step_variant", "mailbox")}),
        (
            "Rendered email",
            {
                "fields": (
                    "from_email",
                    "to_email",
                    "subject",
                    "rendered_text",
                    "rendered_html",
                    "unsubscribe_url",
                )
            },
        ),
        (
            "Delivery",
            {
                "fields": (
                    "state",
                    "dry_run",
                    "scheduled_for_local",
                    "claimed_at_local",
                    "sent_at_local",
                    "attempts",
                    "last_error",
                    "skip_reason",
                    "send_resolution",
                    "cost_unbooked",
                )
            },
        ),
        ("Provider", {"fields": ("provider_message_id", "rfc_message_id", "idempotency_key")}),
        ("Record", {"fields": ("created_at_local", "updated_at_local")}),
    )
    readonly_fields = [
        "rendered_text",
        "rendered_html",
        "idempotency_key",
        "scheduled_for_local",
        "claimed_at_local",
        "sent_at_local",
        "created_at_local",
        "updated_at_local",
    ]
    scheduled_for_local = campaign_time_column("scheduled_for", "Scheduled for")
    claimed_at_local = campaign_time_column("claimed_at", "Claimed")
    sent_at_local = campaign_time_column("sent_at", "Sent")
    created_at_local = campaign_time_column("created_at", "Created")
    updated_at_local = campaign_time_column("updated_at", "Updated")

    @admin.display(description="Subject", ordering="subject")
    def short_subject(self, obj: Message) -> str:
        return obj.subject if len(obj.subject) <= 60 else f"{obj.subject[:59]}…"

    @admin.display(description="Variant", ordering="step_variant__label")
    def variant(self, obj: Message) -> str:
        return f"step {obj.step_variant.step.position} · {obj.step_variant.label}"

    @admin.display(description="Body (text)")
    def rendered_text(self, obj: Message) -> str:
        return format_html('<pre style="white-space:pre-wrap;margin:0">{}</pre>', obj.body_text)

    @admin.display(description="Body (HTML source)")
    def rendered_html(self, obj: Message) -> str:
        if not obj.body_html:
            return "—"
        return format_html('<pre style="white-space:pre-wrap;margin:0">{}</pre>', obj.body_html)

    @admin.display(description="Idempotency key (enrollment:step)")
    def idempotency_key(self, obj: Message) -> str:
        return obj.idempotency_key

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), **_run_cycle_link(request, "campaign__id__exact")}
        return super().changelist_view(request, extra_context)


@admin.register(MessageEvent)
class MessageEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "id",
        "kind",
        "hard",
        "message_link",
        "campaign",
        "provider",
        "occurred_at_local",
        "detail",
    ]
    list_filter = ["kind", "hard", "provider", CampaignFilter]
    search_fields = ["message__to_email", "event_key", "detail"]
    list_select_related = ["message", "campaign__client"]
    show_full_result_count = False
    date_hierarchy = "occurred_at"
    fields = [
        "campaign",
        "message",
        "kind",
        "hard",
        "provider",
        "occurred_at_local",
        "detail",
        "event_key",
        "created_at_local",
    ]
    readonly_fields = ["occurred_at_local", "created_at_local"]
    occurred_at_local = campaign_time_column("occurred_at", "Occurred")
    created_at_local = campaign_time_column("created_at", "Recorded")

    @admin.display(description="Message", ordering="message_id")
    def message_link(self, obj: MessageEvent) -> str:
        url = reverse("admin:outreach_message_change", args=[obj.message_id])
        return format_html('<a href="{}">#{} {}</a>', url, obj.message_id, obj.message.to_email)


@admin.register(InboundReply)
class InboundReplyAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "id",
        "from_email",
        "subject",
        "campaign",
        "message",
        "sender_match",
        "is_auto_reply",
        "received_at_local",
    ]
    # A loose or unmatched reply (sender is not the lead) changed nothing: an operator reviews it.
    list_filter = ["sender_match", "is_auto_reply", CampaignFilter]
    search_fields = ["from_email", "subject", "message_id_header"]
    list_select_related = ["message", "campaign__client"]
    date_hierarchy = "received_at"
    fields = [
        "campaign",
        "message",
        "from_email",
        "subject",
        "reply_text",
        "sender_match",
        "is_auto_reply",
        "message_id_header",
        "received_at_local",
    ]
    readonly_fields = ["reply_text", "received_at_local"]
    received_at_local = campaign_time_column("received_at", "Received")

    @admin.display(description="Text")
    def reply_text(self, obj: InboundReply) -> str:
        return format_html('<pre style="white-space:pre-wrap;margin:0">{}</pre>', obj.text or "—")
