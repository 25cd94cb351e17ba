"""Outreach's part of the right to erasure (``leads.services.forget_person``): rendered emails,
replies and event details of erased leads lose every personal field; counts and states stay so
reports still add up."""

from __future__ import annotations

from ..models import InboundReply, Message, MessageEvent

__all__ = ["erase_outreach_personal_data"]


def erase_outreach_personal_data(*, normalized_email: str, digest: str) -> int:
    """Runs inside forget_person's transaction, after the leads were anonymized (erased_at set)."""
    erased = Message.objects.filter(lead__erased_at__isnull=False).exclude(to_email="")
    message_ids = list(erased.values_list("pk", flat=True))
    scrubbed = Message.objects.filter(pk__in=message_ids).update(
        to_email="", subject="[erased]", body_text="", body_html="", unsubscribe_url=""
    )
    scrubbed += (
        InboundReply.objects.filter(message__lead__erased_at__isnull=False)
        .exclude(from_email="")
        .update(from_email="", subject="[erased]", text="")
    )
    scrubbed += InboundReply.objects.filter(from_email__iexact=normalized_email).update(
        from_email="", subject="[erased]", text=""
    )
    MessageEvent.objects.filter(message_id__in=message_ids).exclude(detail="").update(detail="")
    return scrubbed
