"""Row locks for this app's tables, taken in one order by every caller."""

from __future__ import annotations

import functools

from django.db.models import BooleanField, Subquery, Value
from django.db.models.expressions import Col
from django.db.models.functions import Coalesce

from .models import Campaign, SystemSwitch


def _system_pause_flag():
    """The global switch as a column of the campaign query (no row: not paused)."""
    switch = SystemSwitch.objects.filter(pk=SystemSwitch.SINGLETON_PK).values("paused")[:1]
    return Coalesce(Subquery(switch), Value(False), output_field=BooleanField())


def campaign_for_update(campaign_id: int) -> Campaign:
    """The campaign row, locked, with its client (named in every audit line and history row)."""
    return Campaign.objects.select_for_update(of=("self",)).select_related("client").get(pk=campaign_id)


def campaign_for_send_claim(campaign_id: int) -> Campaign:
    """The campaign row, locked, with the global switch read in the same query (as
    ``campaign.system_paused_now``): every send claim re-checks both under the lock, fresh. One
    statement written once (``_send_claim_sql``), its row made a model with the columns' converters
    found once: a send run claims every few emails, and building the same query through the ORM
    each time was 15 % of its run thread's CPU, a raw queryset's column mapping 3 % more
    (docs/PERFORMANCE.md). Its client is not loaded: the send path reads only ``client_id``."""
    from django.db import connection

    sql, attnames, converters = _send_claim_sql(connection.vendor)
    with connection.cursor() as cursor:
        cursor.execute(sql, [SystemSwitch.SINGLETON_PK, campaign_id])
        row = cursor.fetchone()
    if row is None:
        raise Campaign.DoesNotExist(f"campaign {campaign_id} does not exist")
    values = list(row[:-1])
    for position, column, functions in converters:
        for convert in functions:
            values[position] = convert(values[position], column, connection)
    campaign = Campaign.from_db(connection.alias, attnames, values)
    campaign.system_paused_now = bool(row[-1])
    return campaign


# The global switch as a column of a campaign query in raw SQL (its one parameter: the switch's
# primary key); ``_system_pause_flag`` is the same read for the ORM.
SWITCH_PAUSED_SQL = f"COALESCE((SELECT s.paused FROM {SystemSwitch._meta.db_table} s WHERE s.id = %s), false)"


@functools.cache
def _send_claim_sql(vendor: str) -> tuple[str, list[str], list[tuple[int, Col, list]]]:
    """The claim's campaign statement for this database, the attribute of each column it reads, and
    the converters of the columns that have any (JSON, decimals, dates: as the ORM reads them)."""
    from django.db import connection

    fields = Campaign._meta.concrete_fields
    lock = " FOR UPDATE OF c" if vendor == "postgresql" else ""  # SQLite locks the whole database
    columns = ", ".join(f"c.{connection.ops.quote_name(field.column)}" for field in fields)
    sql = (
        f"SELECT {columns}, {SWITCH_PAUSED_SQL} AS system_paused_now "
        f"FROM {Campaign._meta.db_table} c WHERE c.id = %s{lock}"
    )
    converters = []
    for position, field in enumerate(fields):
        column = field.get_col(Campaign._meta.db_table)
        functions = connection.ops.get_db_converters(column) + column.get_db_converters(connection)
        if functions:
            converters.append((position, column, functions))
    return sql, [field.attname for field in fields], converters


def campaign_send_gate(campaign_id: int) -> tuple[str, bool]:
    """The campaign's state and the global switch, read fresh in one query, the campaign under a
    share lock (PostgreSQL): senders hold it while sending a chunk, so a kill, which needs the row
    exclusively, waits for them and every later read sees it. A missing campaign reads ("", False)."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT c.state, {SWITCH_PAUSED_SQL} FROM {Campaign._meta.db_table} c WHERE c.id = %s "
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
