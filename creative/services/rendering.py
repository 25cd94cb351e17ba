"""Creative rendered for one reader (a sample lead, or a real lead of the campaign), and where an
email's HTML part differs from its text."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from campaigns.errors import DomainError

from ..email_html import LineDifference, html_text_differences
from ..models import CreativeVariant, Platform
from ..personalization import render_merge_fields
from ..preview import lead_context


class LeadNotInCampaignError(DomainError):
    """A preview or test send asked for a lead that is not in the creative's campaign."""

    code = "lead_not_in_campaign"


SAMPLE_LEAD = {
    "first_name": "Alex",
    "last_name": "Sample",
    "full_name": "Alex Sample",
    "email": "alex@example.com",
    "company": "Example Co",
    "title": "Head of Growth",
    "industry": "Software",
    "country": "US",
}
SAMPLE_SENDER = {
    "sender_name": "Your name",
    "sender_company": "Your agency",
    "sender_address": "Your postal address",
    "unsubscribe_url": "https://example.com/u/preview/",
}


@dataclass(frozen=True)
class RenderedCreative:
    subject: str
    preheader: str
    body: str
    body_html: str
    missing: tuple[str, ...]


def render_creative(
    *, variant: CreativeVariant, context: Mapping[str, Any] | None = None
) -> RenderedCreative:
    """Render merge fields for one reader. Without a context, a sample lead and sender are used."""
    merged = {**SAMPLE_SENDER, **SAMPLE_LEAD} if context is None else dict(context)
    parts = [
        render_merge_fields(variant.subject, merged),
        render_merge_fields(variant.preheader, merged),
        render_merge_fields(variant.body, merged),
        render_merge_fields(variant.body_html, merged, escape_html=True),
    ]
    missing = tuple(dict.fromkeys(name for part in parts for name in part.missing))
    return RenderedCreative(parts[0].text, parts[1].text, parts[2].text, parts[3].text, missing)


def render_for_lead(*, variant: CreativeVariant, lead_id: int | None) -> RenderedCreative:
    """Rendered for a lead of the variant's campaign, with the merge context a real send to that lead
    would use; ``None``: the sample lead. A lead outside the campaign is refused (callers only ever
    see their own campaigns' creative, so this keeps a preview to the caller's own leads)."""
    if lead_id is None:
        return render_creative(variant=variant)
    context = lead_context(campaign=variant.campaign, lead_id=lead_id)
    if context is None:
        raise LeadNotInCampaignError(
            f"Lead {lead_id} is not in campaign {variant.campaign_id}.", field="lead"
        )
    return render_creative(variant=variant, context=context)


def html_differences(variant: CreativeVariant) -> list[LineDifference]:
    """Where an email's HTML part says something other than its text body (empty for posts, for a
    text-only email and for HTML derived from the text)."""
    if variant.platform != Platform.EMAIL:
        return []
    return html_text_differences(variant.body, variant.body_html)
