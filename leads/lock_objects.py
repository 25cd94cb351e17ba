"""Row locks for this app's tables, taken in one order by every caller."""

from __future__ import annotations

from .models import Lead


def lead_for_update(lead_id: int) -> Lead:
    return Lead.objects.select_for_update(of=("self",)).select_related("campaign").get(pk=lead_id)
