"""Row locks for this app's tables, taken in one order by every caller."""

from __future__ import annotations

from django.db.models import BooleanField, Subquery, Value
from django.db.models.functions import Coalesce

from .models import Campaign, SystemSwitch


def _system_pause_flag():
    """The global switch as a column of the campaign query (no row: not paused)."""
    switch = SystemSwitch.objects.filter(pk=SystemSwitch.SINGLETON_PK).values("paused")[:1]
    return Coalesce(Subquery(switch), Value(False), output_field=BooleanField())


def campaign_for_update(campaign_id: int, *, with_system_pause: bool = False) -> Campaign:
    """The campaign row, locked, with its client (named in every audit line and history row).
    ``with_system_pause`` reads the global switch in the same query (as
    ``campaign.system_paused_now``): the send path re-checks both under the lock, fresh."""
    queryset = Campaign.objects.select_for_update(of=("self",)).select_related("client")
    if with_system_pause:
        queryset = queryset.annotate(system_paused_now=_system_pause_flag())
    return queryset.get(pk=campaign_id)


def campaign_send_gate(campaign_id: int) -> tuple[str, bool]:
    """The campaign's state and the global switch, read fresh in one query, the campaign under a
    share lock (PostgreSQL): senders hold it while sending a chunk, so a kill, which needs the row
    exclusively, waits for them and every later read sees it. A missing campaign reads ("", False)."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT c.state, COALESCE((SELECT s.paused FROM {SystemSwitch._meta.db_table} s "
                f"WHERE s.id = %s), false) FROM {Campaign._meta.db_table} c WHERE c.id = %s "
                "FOR SHARE OF c",
                [SystemSwitch.SINGLETON_PK, campaign_id],
            )
            row = cursor.fetchone()
    else:
        row = (
            Campaign.objects.filter(pk=campaign_id)
            .annotate(paused=_system_pause_flag())
            .values_list("state", "paused")
            .first()
        )
    return (row[0], bool(row[1])) if row else ("", False)
