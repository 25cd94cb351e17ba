"""Small look-ups shared by the strategy services."""

from __future__ import annotations

from typing import Any

from campaigns.errors import DomainError
from campaigns.models import Campaign


def resolve_campaign(campaign: Campaign | int) -> Campaign:
    if isinstance(campaign, Campaign):
        return campaign
    try:
        return Campaign.objects.get(pk=campaign)
    except Campaign.DoesNotExist:
        raise DomainError(f"Campaign {campaign} does not exist.") from None


def jsonable(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str | list | dict):
        return value
    if hasattr(value, "pk"):
        return value.pk
    return str(value)
