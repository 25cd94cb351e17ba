"""Outreach's part of the right to erasure (``leads.services.forget_person``): rendered emails,
replies and event details of erased leads lose every personal field; counts and states stay so
reports still add up."""

from __future__ import annotations

from django.db.models import Q

from ..models import InboundReply, Message, MessageEvent, ReplyAnswer

__all__ = ["erase_outreach_personal_data"]


def erase_outreach_personal_data(*, normalized_email: str, digest: str) -> int:
    """Runs inside forget_person's transaction, after the leads were anonymized (erased_at set)."""
    erased = Message.objects.filter(lead__erased_at__isnull=False).exclude(to_email="")
    message_ids = list(erased.values_list("pk", flat=True))
    scrubbed = Message.objects.filter(pk__in=message_ids).update(
        to_email="", subject="[erased]", body_text="", body_html="", unsubscribe_url=""
    )
    # Replies (and the reply inbox's answers to them) of the person, and names of them as referrals.
    replies = InboundReply.objects.filter(
        Q(message__lead__erased_at__isnull=False) | Q(from_email__iexact=normalized_email)
    )
    reply_ids = list(replies.values_list("pk", flat=True))
    scrubbed += (
        InboundReply.objects.filter(pk__in=reply_ids)
        .exclude(from_email="", text="")
        .update(from_email="", subject="[erased]", text="", referred_email="", category_reason="")
    )
    scrubbed += (
        ReplyAnswer.objects.filter(reply_id__in=reply_ids)
        .exclude(to_email="")
        .update(to_email="", subject="[erased]", body_text="")
    )
    InboundReply.objects.filter(referred_email__iexact=normalized_email).update(referred_email="")
    MessageEvent.objects.filter(message_id__in=message_ids).exclude(detail="").update(detail="")
    return scrubbed
