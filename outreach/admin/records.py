"""Read-only outreach records: enrollments, messages (with their tracking events and replies) and
tracking events. The send engine and the ESP webhooks write them; the admin shows them, times in
each campaign's time zone, named. Inbound replies have their own admin: the reply inbox (``inbox``)."""

from __future__ import annotations

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from campaigns.admin_kit.base import AicmoModelAdmin, AicmoTabularInline, ReadOnlyAdminMixin
from campaigns.admin_kit.display import campaign_time_column, state_column

from ..models import Enrollment, InboundReply, Message, MessageEvent
from .cycle_results import run_cycle_links
from .filters import CampaignFilter, StepVariantFilter, StepVariantLabelFilter

__all__ = ["EnrollmentAdmin", "MessageAdmin", "MessageEventAdmin"]  # replies: admin/inbox.py

TEMPLATES = "admin/outreach/sending"


# Where an enrollment stands: the list's columns and the record's fields, after who and what.
ENROLLMENT_PROGRESS = (
    "state",
    "current_step",
    "next_send_at_local",
    "stop_reason",
    "enrolled_at_local",
    "ended_at_local",
)


@admin.register(Enrollment)
class EnrollmentAdmin(ReadOnlyAdminMixin, AicmoModelAdmin):
    list_display = ["id", "lead", "sequence", "campaign", *ENROLLMENT_PROGRESS]
    list_filter = ["state", "stop_reason", CampaignFilter]
    search_fields = ["lead__email", "sequence__name"]
    list_select_related = ["lead", "sequence", "campaign__client"]
    show_full_result_count = False
    fields = ["campaign", "sequence", "lead", *ENROLLMENT_PROGRESS]
    readonly_fields = ["next_send_at_local", "enrolled_at_local", "ended_at_local"]
    next_send_at_local = campaign_time_column("next_send_at", "Next step due")
    enrolled_at_local = campaign_time_column("enrolled_at", "Enrolled")
    ended_at_local = campaign_time_column("ended_at", "Ended")


class MessageEventInline(ReadOnlyAdminMixin, AicmoTabularInline):
    model = MessageEvent
    fields = ["kind", "hard", "provider", "occurred_at_local", "detail", "event_key"]
    readonly_fields = fields
    extra = 0
    ordering = ["occurred_at"]
    occurred_at_local = campaign_time_column("occurred_at", "Occurred")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("campaign")


class InboundReplyInline(ReadOnlyAdminMixin, AicmoTabularInline):
    model = InboundReply
    fields = ["from_email", "subject", "is_auto_reply", "received_at_local"]
    readonly_fields = fields
    extra = 0
    received_at_local = campaign_time_column("received_at", "Received")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("campaign")


@admin.register(Message)
class MessageAdmin(ReadOnlyAdminMixin, AicmoModelAdmin):
    change_list_template = f"{TEMPLATES}/message_change_list.html"
    list_display = [
        "id",
        "to_email",
        "short_subject",
        "campaign",
        "variant",
        "state_badge",
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
    state_badge = state_column()
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
        extra_context = {**(extra_context or {}), **run_cycle_links(request, "campaign__id__exact")}
        return super().changelist_view(request, extra_context)


@admin.register(MessageEvent)
class MessageEventAdmin(ReadOnlyAdminMixin, AicmoModelAdmin):
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
