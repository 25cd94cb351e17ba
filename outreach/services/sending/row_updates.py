"""Bulk writes the send path shares: one UPDATE per distinct set of values, and for a value each row
has of its own (an ESP's message id) one UPDATE joined to those values."""

from __future__ import annotations

from django.db import connection

OWN_VALUES_BATCH = 200


def update_in_groups(model, objects: list, fields: list[str]) -> None:
    """Write ``fields`` of ``objects`` with one UPDATE per distinct combination of values: a chunk's
    rows mostly share them, so this is a handful of statements where bulk_update builds a CASE per
    row and field."""
    groups: dict[tuple, list[int]] = {}
    for obj in objects:
        groups.setdefault(tuple(getattr(obj, f) for f in fields), []).append(obj.pk)
    for values, pks in groups.items():
        model.objects.filter(pk__in=pks).update(**dict(zip(fields, values, strict=True)))


def update_in_groups_with_own(model, objects: list, fields: list[str], own: str) -> None:
    """Like ``update_in_groups``, and also ``own``, a field whose value differs from row to row (sent
    messages share their state and times, each has its ESP's id): one statement per group, the own
    values joined from a derived table, where ``bulk_update`` would build a CASE per row."""
    groups: dict[tuple, list] = {}
    for obj in objects:
        groups.setdefault(tuple(getattr(obj, f) for f in fields), []).append(obj)
    meta, quote = model._meta, connection.ops.quote_name
    table = quote(meta.db_table)
    own_field = meta.get_field(own)
    for values, members in groups.items():
        shared = [meta.get_field(name) for name in fields]
        assignments = [f"{quote(field.column)} = %s" for field in shared]
        assignments.append(f"{quote(own_field.column)} = own_values.own")
        shared_params = [
            field.get_db_prep_save(value, connection) for field, value in zip(shared, values, strict=True)
        ]
        for start in range(0, len(members), OWN_VALUES_BATCH):
            batch = members[start : start + OWN_VALUES_BATCH]
            # A UNION of one-row SELECTs, not VALUES: SQLite cannot name the columns of a VALUES list.
            rows = " UNION ALL ".join(["SELECT %s AS pk, %s AS own"] * len(batch))
            params = list(shared_params)
            for obj in batch:
                params += [obj.pk, own_field.get_db_prep_save(getattr(obj, own), connection)]
            sql = (
                f"UPDATE {table} SET {', '.join(assignments)} FROM ({rows}) AS own_values "
                f"WHERE {table}.{quote(meta.pk.column)} = own_values.pk"
            )
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
