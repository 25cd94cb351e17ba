"""Set-based writes of many rows whose values differ row by row.

Django's ``QuerySet.bulk_update`` builds one ``CASE WHEN pk = … THEN …`` expression per row and
field, resolved and copied in Python: for 1,000 rows and five fields that is seconds of CPU. The
database can do the same with one join against a ``VALUES`` list, which is what this does:

    UPDATE table SET f1 = v.column2, f2 = v.column3
    FROM (VALUES (%s, %s, %s), …) AS v WHERE table.pk = v.column1

PostgreSQL and SQLite (3.33+) both accept it, and both name a VALUES list's columns column1, 2, ….
Values go through each field's own ``get_db_prep_save`` (JSON, dates, FSM fields) and, on
PostgreSQL, are cast to the column's type.
Like ``bulk_update``, it sends no signals (callers that keep history write it themselves).
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connections, router
from django.db.models import Model

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
    on_postgres = connection.vendor == "postgresql"

    def placeholder(field) -> str:
        return f"%s::{field.db_type(connection)}" if on_postgres else "%s"

    row_sql = "(" + ", ".join(placeholder(f) for f in (pk, *concrete)) + ")"
    table = quote(meta.db_table)
    assignments = ", ".join(f"{quote(f.column)} = v.column{i}" for i, f in enumerate(concrete, start=2))
    per_row = len(concrete) + 1
    batch = max(1, MAX_PARAMETERS // per_row)
    updated = 0
    with connection.cursor() as cursor:
        for start in range(0, len(objects), batch):
            rows = objects[start : start + batch]
            params: list = []
            for obj in rows:
                params.append(pk.get_db_prep_save(obj.pk, connection))
                for field in concrete:
                    params.append(field.get_db_prep_save(getattr(obj, field.attname), connection))
            cursor.execute(
                f"UPDATE {table} SET {assignments} FROM (VALUES {', '.join([row_sql] * len(rows))}) AS v "
                f"WHERE {table}.{quote(pk.column)} = v.column1",
                params,
            )
            updated += cursor.rowcount
    return updated
