"""What creative's previews and test sends need from outreach and leads, registered with
``creative.preview`` (creative may not import either app): a lead's merge context as a real send to
it would use, the campaign's leads a reviewer may pick, and the From header its sends use.

``register_creative_sources()`` is called once from ``OutreachConfig.ready()``."""

from __future__ import annotations

from campaigns.models import Campaign
from creative.preview import (
    register_lead_choices_provider,
    register_lead_context_provider,
    register_sender_provider,
)
from leads.selectors import leads_of_campaign

from .models import Sequence
from .senders import from_header_for
from .services.sending import preview_context_for_lead


def lead_choices_for_preview(*, campaign: Campaign, limit: int) -> list[tuple[int, str]]:
    """The campaign's leads, best scores first (the ones a send reaches first); erased ones never."""
    rows = (
        leads_of_campaign(campaign)
        .filter(erased_at__isnull=True)
        .order_by("-score", "id")
        .values_list("pk", "first_name", "last_name", "email", "company")[:limit]
    )
    choices = []
    for pk, first, last, email, company in rows:
        name = f"{first} {last}".strip()
        label = f"{name} <{email}>" if name else email
        choices.append((pk, f"{label} · {company}" if company else label))
    return choices


def from_header_for_campaign(*, campaign: Campaign) -> str:
    """The From header the campaign's sends use: its first active sequence's mailbox, else the
    campaign's sender identity (``outreach.senders``, as ``schedule_due_messages`` decides)."""
    sequence = (
        Sequence.objects.filter(campaign=campaign, is_active=True, mailbox__isnull=False)
        .select_related("mailbox")
        .order_by("id")
        .first()
    )
    return from_header_for(campaign, sequence.mailbox if sequence else None)


def register_creative_sources() -> None:
    register_lead_context_provider(preview_context_for_lead)
    register_lead_choices_provider(lead_choices_for_preview)
    register_sender_provider(from_header_for_campaign)
