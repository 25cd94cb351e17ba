"""Row locks for this app's tables, taken in one order by every caller."""

from __future__ import annotations

from .models import Campaign


def campaign_for_update(campaign_id: int) -> Campaign:
    return Campaign.objects.select_for_update(of=("self",)).get(pk=campaign_id)


def campaign_state_for_send(campaign_id: int) -> str:
    """Read the state under a share lock (PostgreSQL): senders hold it while sending a chunk, so a
    kill, which needs the row exclusively, waits for them and every later read sees it."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT state FROM {Campaign._meta.db_table} WHERE id = %s FOR SHARE", [campaign_id]
            )
            row = cursor.fetchone()
        return row[0] if row else ""
    return Campaign.objects.filter(pk=campaign_id).values_list("state", flat=True).first() or ""
