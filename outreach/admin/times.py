"""Admin columns and fields that show a time in its campaign's time zone, named
("2026-12-07 09:00 Europe/Berlin (CET)"), through the one formatter in
``campaigns.templatetags.campaign_time``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import admin

from campaigns.templatetags.campaign_time import campaign_time

__all__ = ["campaign_time_column"]


def campaign_time_column(
    field: str, description: str, *, campaign: str = "campaign"
) -> Callable[[Any, Any], str]:
    """A display method for ``field`` in the zone of ``obj.<campaign>`` (sortable by the field).
    Use with ``list_select_related`` / ``select_related`` of the campaign to stay one query."""

    @admin.display(description=description, ordering=field)
    def show(self, obj) -> str:
        return campaign_time(getattr(obj, field), getattr(obj, campaign, None))

    show.__name__ = f"{field}_local"
    return show
