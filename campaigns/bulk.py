"""Set-based writes of many rows whose values differ row by row.

Django's ``QuerySet.bulk_update`` builds one ``CASE WHEN pk = … THEN …`` expression per row and
field, resolved and copied in Python: for 1,000 rows and five fields that is seconds of CPU. The
database can do the same with one join against a ``VALUES`` list, which is what this does:

    UPDATE table SET f1 = v.column2, f2 = v.column3
    FROM (VALUES (%s, %s, %s), …) AS v WHERE table.pk = v.column1

SQLite (3.33+) runs exactly that (a VALUES list's columns are named column1, 2, …). PostgreSQL
joins ``jsonb_to_recordset()`` of one JSON document holding every row instead: the statement has
one parameter however many rows and columns, serialized by the C JSON encoder in one call, and the
server casts each value to the column's type (psycopg's array adapters dump element by element in
Python, which cost more than the UPDATE itself). Values go through each field's own
``get_db_prep_save`` (JSON, dates, FSM fields). Like ``bulk_update``, it sends no signals (callers
that keep history write it themselves).
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import uuid
from collections.abc import Sequence
from decimal import Decimal

from django.core.exceptions import EmptyResultSet
from django.db import connections, router
from django.db.models import JSONField, Model, QuerySet
from django.db.models.sql import UpdateQuery

# Stays below SQLite's 32,766 bound parameters per statement and keeps statements small.
MAX_PARAMETERS = 30_000


def bulk_update_rows(model: type[Model], objects: Sequence[Model], fields: Sequence[str]) -> int:
    """Write ``fields`` of every object in ``objects`` (found by primary key); returns rows updated."""
    if not objects or not fields:
        return 0
    meta = model._meta
    using = router.db_for_write(model)
    connection = connections[using]
    quote = connection.ops.quote_name
    concrete = [meta.get_field(name) for name in fields]
    pk = meta.pk

    table = quote(meta.db_table)
    names = [f"column{i}" for i in range(1, len(concrete) + 2)]
    assignments = ", ".join(
        f"{quote(f.column)} = v.{name}" for f, name in zip(concrete, names[1:], strict=True)
    )
    where = f"WHERE {table}.{quote(pk.column)} = v.column1"

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # JSON columns keep their documents nested (the recordset hands them over as jsonb);
            # every other value is what the field would send, as JSON.
            json_fields = {f for f in concrete if isinstance(f, JSONField)}
            rows = [
                dict(
                    zip(
                        names,
                        [pk.get_db_prep_save(obj.pk, connection)]
                        + [
                            _json_ready(getattr(obj, f.attname), f)
                            if f in json_fields
                            else f.get_db_prep_save(getattr(obj, f.attname), connection)
                            for f in concrete
                        ],
                        strict=True,
                    )
                )
                for obj in objects
            ]
            record = ", ".join(
                f"{name} {f.db_type(connection)}" for name, f in zip(names, (pk, *concrete), strict=True)
            )
            document = json.dumps(rows, default=_json_scalar, allow_nan=False, separators=(",", ":"))
            cursor.execute(
                f"UPDATE {table} SET {assignments} "
                f"FROM jsonb_to_recordset(%s::jsonb) AS v ({record}) {where}",
                [document],
            )
            return cursor.rowcount

        def prepared(obj: Model) -> list:
            return [pk.get_db_prep_save(obj.pk, connection)] + [
                f.get_db_prep_save(getattr(obj, f.attname), connection) for f in concrete
            ]

        updated = 0
        row_sql = "(" + ", ".join(["%s"] * (len(concrete) + 1)) + ")"
        batch = max(1, MAX_PARAMETERS // (len(concrete) + 1))
        for start in range(0, len(objects), batch):
            chunk = objects[start : start + batch]
            params = [value for obj in chunk for value in prepared(obj)]
            values = ", ".join([row_sql] * len(chunk))
            cursor.execute(f"UPDATE {table} SET {assignments} FROM (VALUES {values}) AS v {where}", params)
            updated += cursor.rowcount
    return updated


def _json_ready(value: object, field: JSONField) -> object:
    """A JSON field's value as plain JSON types, through the field's own encoder when it has one."""
    if value is None or field.encoder is None:
        return value
    return json.loads(json.dumps(value, cls=field.encoder))


def _json_scalar(value: object) -> object:
    """Prepared values JSON has no type for, written the way PostgreSQL reads them back."""
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return f"{value.total_seconds()} seconds"
    if isinstance(value, Decimal | uuid.UUID):
        return str(value)
    raise TypeError(f"bulk_update_rows cannot send a {type(value).__name__} value to PostgreSQL")


def insert_history_rows(model: type[Model], pks: Sequence[int], *, reason: str, when) -> int:
    """simple-history rows ("changed", no user) for rows already written with a plain UPDATE: one
    ``INSERT … SELECT`` copying their current columns, where ``bulk_history_create`` would load
    and build every object in Python first."""
    if not pks:
        return 0
    connection = connections[router.db_for_write(model)]
    statement, value_fields = _history_insert(model, connection.alias)
    params = []
    for field in value_fields:
        if field.column == "history_date":
            params.append(field.get_db_prep_save(when, connection))
        else:  # history_change_reason
            params.append(reason[: field.max_length] if field.max_length else reason)
    placeholders = ", ".join(["%s"] * len(pks))
    with connection.cursor() as cursor:
        cursor.execute(f"{statement} ({placeholders})", [*params, *pks])
        return cursor.rowcount


@functools.cache
def _history_insert(model: type[Model], alias: str) -> tuple[str, list]:
    """The model's history INSERT … SELECT up to its ``IN (`` list, and the history fields whose
    values are parameters, in order: the same for every call, so built once per model (reading
    ``model.history`` builds a manager class each time — a send run marks leads contacted every
    few emails)."""
    history = model.history.model
    meta = model._meta
    quote = connections[alias].ops.quote_name
    source = {f.column for f in meta.concrete_fields}
    targets, selects, value_fields = [], [], []
    for field in history._meta.concrete_fields:
        if field.column == "history_id":
            continue
        targets.append(quote(field.column))
        if field.column in source:
            selects.append(f"t.{quote(field.column)}")
        elif field.column in ("history_date", "history_change_reason"):
            selects.append("%s")
            value_fields.append(field)
        elif field.column == "history_type":
            selects.append("'~'")
        else:  # history_user_id and any other history-only column
            selects.append("NULL")
    statement = (
        f"INSERT INTO {quote(history._meta.db_table)} ({', '.join(targets)}) "
        f"SELECT {', '.join(selects)} FROM {quote(meta.db_table)} t "
        f"WHERE t.{quote(meta.pk.column)} IN"
    )
    return statement, value_fields


def update_returning_pks(queryset: QuerySet, **values) -> list:
    """``queryset.update(**values)`` that returns the primary keys of the rows it changed, in one
    statement (``UPDATE … RETURNING``, PostgreSQL and SQLite 3.35+): Django's ``update`` returns
    only a count, so knowing which rows a guarded update changed took a SELECT first. Plain column
    filters only (no joins), like the guards it is for."""
    query = queryset.query.chain(UpdateQuery)
    query.add_update_values(values)
    compiler = query.get_compiler(queryset.db)
    try:
        sql, params = compiler.as_sql()
    except EmptyResultSet:  # a filter that matches nothing (``pk__in=[]``)
        return []
    if not sql:
        return []
    connection = connections[queryset.db]
    pk = connection.ops.quote_name(queryset.model._meta.pk.column)
    with connection.cursor() as cursor:
        cursor.execute(f"{sql} RETURNING {pk}", params)
        return [row[0] for row in cursor.fetchall()]
