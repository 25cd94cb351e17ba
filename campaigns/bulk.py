"""Set-based writes of many rows whose values differ row by row.

Django's ``QuerySet.bulk_update`` builds one ``CASE WHEN pk = … THEN …`` expression per row and
field, resolved and copied in Python: for 1,000 rows and five fields that is seconds of CPU. The
database can do the same with one join against a ``VALUES`` list, which is what this does:

    UPDATE table SET f1 = v.column2, f2 = v.column3
    FROM (VALUES (%s, %s, %s), …) AS v WHERE table.pk = v.column1

SQLite (3.33+) runs exactly that (a VALUES list's columns are named column1, 2, …); PostgreSQL
joins ``unnest()`` of one array per column instead, so the statement has one parameter per column.
Values go through each field's own ``get_db_prep_save`` (JSON, dates, FSM fields) and, on
PostgreSQL, are cast to the column's type.
Like ``bulk_update``, it sends no signals (callers that keep history write it themselves).
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from django.db import connections, router
from django.db.models import JSONField, Model

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

    # On PostgreSQL JSON columns travel as text serialized here and cast by the server: psycopg's
    # per-element jsonb adapter in an array costs more than the whole UPDATE.
    postgres = connection.vendor == "postgresql"
    as_text = {f for f in concrete if postgres and isinstance(f, JSONField)}

    table = quote(meta.db_table)
    assignments = ", ".join(
        f"{quote(f.column)} = v.column{i}" + ("::jsonb" if f in as_text else "")
        for i, f in enumerate(concrete, start=2)
    )
    where = f"WHERE {table}.{quote(pk.column)} = v.column1"

    def value(obj: Model, field) -> object:
        raw = getattr(obj, field.attname)
        if field in as_text:
            return None if raw is None else json.dumps(raw, cls=field.encoder)
        return field.get_db_prep_save(raw, connection)

    def prepared(obj: Model) -> list:
        return [pk.get_db_prep_save(obj.pk, connection)] + [value(obj, f) for f in concrete]

    updated = 0
    with connection.cursor() as cursor:
        if postgres:
            # One array per column, unnested side by side: as many placeholders as columns, so the
            # driver's query conversion does not grow with the row count.
            arrays = ", ".join(
                f"%s::{'text' if f in as_text else f.db_type(connection)}[]" for f in (pk, *concrete)
            )
            names = ", ".join(f"column{i}" for i in range(1, len(concrete) + 2))
            columns = [list(values) for values in zip(*(prepared(obj) for obj in objects), strict=True)]
            cursor.execute(
                f"UPDATE {table} SET {assignments} FROM unnest({arrays}) AS v ({names}) {where}", columns
            )
            return cursor.rowcount
        row_sql = "(" + ", ".join(["%s"] * (len(concrete) + 1)) + ")"
        batch = max(1, MAX_PARAMETERS // (len(concrete) + 1))
        for start in range(0, len(objects), batch):
            rows = objects[start : start + batch]
            params = [value for obj in rows for value in prepared(obj)]
            values = ", ".join([row_sql] * len(rows))
            cursor.execute(f"UPDATE {table} SET {assignments} FROM (VALUES {values}) AS v {where}", params)
            updated += cursor.rowcount
    return updated


def insert_history_rows(model: type[Model], pks: Sequence[int], *, reason: str, when) -> int:
    """simple-history rows ("changed", no user) for rows already written with a plain UPDATE: one
    ``INSERT … SELECT`` copying their current columns, where ``bulk_history_create`` would load
    and build every object in Python first."""
    if not pks:
        return 0
    history = model.history.model
    meta = model._meta
    connection = connections[router.db_for_write(model)]
    quote = connection.ops.quote_name
    source = {f.column for f in meta.concrete_fields}
    targets, selects, params = [], [], []
    for field in history._meta.concrete_fields:
        if field.column == "history_id":
            continue
        targets.append(quote(field.column))
        if field.column in source:
            selects.append(f"t.{quote(field.column)}")
        elif field.column == "history_date":
            selects.append("%s")
            params.append(field.get_db_prep_save(when, connection))
        elif field.column == "history_change_reason":
            selects.append("%s")
            params.append(reason[: field.max_length] if field.max_length else reason)
        elif field.column == "history_type":
            selects.append("'~'")
        else:  # history_user_id and any other history-only column
            selects.append("NULL")
    placeholders = ", ".join(["%s"] * len(pks))
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote(history._meta.db_table)} ({', '.join(targets)}) "
            f"SELECT {', '.join(selects)} FROM {quote(meta.db_table)} t "
            f"WHERE t.{quote(meta.pk.column)} IN ({placeholders})",
            [*params, *pks],
        )
        return cursor.rowcount
