"""The claim's locking query: the next due messages, locked (``FOR UPDATE SKIP LOCKED``), each with
the little of its lead the checks read, its mailbox, and whether its lead may be mailed.

A send run claims every few emails, and building this query through the ORM each time (a join,
a deferred half of the lead, an ``EXISTS`` over the suppression tables) was a tenth of the run's
CPU (docs/PERFORMANCE.md). ``LockingQuery`` compiles it once per run and number of ids, with
marker values in the place of the ids and the time, and runs the same SQL with the claim's own;
the rows become models the way Django's ``ModelIterable`` makes them (converters, select_related
populators, annotations), from the compiler that wrote the SQL.
``tests/outreach/sending/test_locking_query.py`` holds it to what the ORM returns.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db import connections
from django.db.models import Exists, QuerySet
from django.db.models.query import get_related_populators
from django.db.models.sql.compiler import SQLCompiler
from django.db.transaction import TransactionManagementError

from campaigns.models import Campaign
from leads.models import Lead

from ...models import PENDING_STATES, Message

__all__ = ["LockingQuery", "due_to_lock"]

LEAD_COLUMNS_NOT_READ = tuple(
    f"lead__{f.name}"
    for f in Lead._meta.concrete_fields
    if f.name not in ("id", "campaign", "timezone", "state")
)
# Markers compiled into the SQL where the claim's ids and time go: no message has a negative id,
# and nothing else in the query is this instant.
FIRST_ID_MARK = -(10**15)
NOW_MARK = datetime(1970, 1, 1, 0, 0, 0, 424242, tzinfo=UTC)


def due_to_lock(campaign: Campaign, contactable: Exists) -> QuerySet:
    """The locking query before the ids and the time of one claim."""
    return (
        Message.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(campaign=campaign, state__in=PENDING_STATES)
        .select_related("lead", "mailbox")
        # of the lead only what the checks read (its time zone, its state for first contact)
        .defer(*LEAD_COLUMNS_NOT_READ)
        .annotate(contactable=contactable)
    )


@dataclass
class _Compiled:
    sql: str
    params: list[Any]
    id_positions: list[tuple[int, int]]  # (position in params, index in the claim's ids)
    now_positions: list[int]
    compiler: SQLCompiler
    init_list: list[str]
    model_slice: slice
    populators: list
    converters: dict
    annotations: dict[str, int]


class LockingQuery:
    """``due_to_lock``'s query, compiled once per number of ids. ``lock(ids, now)``: those of the
    ids still due at ``now`` and not locked by another worker, locked, by id."""

    def __init__(self, queryset: QuerySet) -> None:
        self.queryset = queryset
        self._compiled: dict[int, _Compiled] = {}
        field = Message._meta.get_field("scheduled_for")
        self._connection = connections[queryset.db]
        self._prep_now = lambda when: field.get_db_prep_value(when, self._connection)

    def lock(self, ids: list[int], now: datetime) -> dict[int, Message]:
        if not ids:
            return {}
        if self._connection.features.has_select_for_update and self._connection.get_autocommit():
            raise TransactionManagementError("select_for_update cannot be used outside of a transaction.")
        compiled = self._compiled.get(len(ids)) or self._compile(len(ids))
        params = list(compiled.params)
        for position, index in compiled.id_positions:
            params[position] = ids[index]
        prepared_now = self._prep_now(now)
        for position in compiled.now_positions:
            params[position] = prepared_now
        with self._connection.cursor() as cursor:
            cursor.execute(compiled.sql, params)
            rows = cursor.fetchall()
        if compiled.converters:
            rows = compiled.compiler.apply_converters(rows, compiled.converters)
        found: dict[int, Message] = {}
        for row in rows:
            message = Message.from_db(self.queryset.db, compiled.init_list, row[compiled.model_slice])
            for populator in compiled.populators:
                populator.populate(row, message)
            for name, position in compiled.annotations.items():
                setattr(message, name, row[position])
            found[message.pk] = message
        return found

    def _compile(self, count: int) -> _Compiled:
        marks = [FIRST_ID_MARK - index for index in range(count)]
        queryset = self.queryset.filter(pk__in=marks, scheduled_for__lte=NOW_MARK)
        compiler = queryset.query.get_compiler(using=queryset.db)
        sql, params = compiler.as_sql()  # also sets the compiler's select, klass_info, annotations
        params = list(params)
        index_of = {mark: index for index, mark in enumerate(marks)}
        now_mark = self._prep_now(NOW_MARK)
        id_positions = [
            (pos, index_of[p]) for pos, p in enumerate(params) if type(p) is int and p in index_of
        ]
        now_positions = [pos for pos, p in enumerate(params) if p == now_mark and type(p) is type(now_mark)]
        if sorted(index for _, index in id_positions) != list(range(count)) or not now_positions:
            raise RuntimeError("the locking query's markers were not found in its compiled parameters")
        select, klass_info = compiler.select, compiler.klass_info
        fields = klass_info["select_fields"]
        model_slice = slice(fields[0], fields[-1] + 1)
        compiled = _Compiled(
            sql=sql,
            params=params,
            id_positions=id_positions,
            now_positions=now_positions,
            compiler=compiler,
            init_list=[column[0].target.attname for column in select[model_slice]],
            model_slice=model_slice,
            populators=get_related_populators(klass_info, select, queryset.db),
            converters=compiler.get_converters([column[0] for column in select[: compiler.col_count]]),
            annotations=dict(compiler.annotation_col_map or {}),
        )
        self._compiled[count] = compiled
        return compiled
