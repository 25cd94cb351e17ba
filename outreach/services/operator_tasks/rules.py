"""Which campaigns get operator work (approved or active ones), which calendar items are posted by
hand, and which SOP a content type follows."""

from __future__ import annotations

from campaigns.errors import DomainError
from campaigns.models import Campaign, CampaignState
from strategy.models import CalendarItem

__all__ = [
    "MANUAL_SOCIAL_PLATFORMS",
    "RUNNABLE_CAMPAIGN_STATES",
    "ensure_campaign_runnable",
    "is_manual_calendar_item",
    "sop_content_kind",
]

# Platforms we never post to automatically; email is automatic except newsletters.
MANUAL_SOCIAL_PLATFORMS = ("linkedin", "instagram", "x")
# Operator work happens only while a campaign runs: not before approval, not while paused or after.
RUNNABLE_CAMPAIGN_STATES = (CampaignState.APPROVED, CampaignState.ACTIVE)
_SOP_KINDS = ("carousel", "reel", "story", "thread")


def ensure_campaign_runnable(campaign: Campaign, doing: str) -> None:
    if campaign.state in RUNNABLE_CAMPAIGN_STATES:
        return
    hint = {
        CampaignState.PAUSED: "resume it first",
        CampaignState.COMPLETED: "it has ended",
        CampaignState.CANCELLED: "it was cancelled",
    }.get(campaign.state, "approve it first")
    raise DomainError(
        f"Campaign {campaign.pk} is {campaign.get_state_display().lower()}: cannot {doing} "
        f"({hint}). Operator tasks run only for approved or active campaigns.",
        field="campaign",
        state=campaign.state,
    )


def sop_content_kind(platform: str, content_type: str) -> str:
    """The SOP flavour for a calendar content type ("reply thread" → thread, else post)."""
    words = (content_type or "").lower()
    if platform == "email":
        return "newsletter"
    return next((kind for kind in _SOP_KINDS if kind in words), "post")


def is_manual_calendar_item(item: CalendarItem) -> bool:
    if item.platform in MANUAL_SOCIAL_PLATFORMS:
        return True
    return item.platform == "email" and "newsletter" in (item.content_type or "").lower()
