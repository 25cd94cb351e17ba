"""Bulk writes the send path shares: one UPDATE per distinct set of values, one bulk statement for
the ESPs' message ids."""

from __future__ import annotations

from ...models import Message


def update_in_groups(model, objects: list, fields: list[str]) -> None:
    """Write ``fields`` of ``objects`` with one UPDATE per distinct combination of values: a chunk's
    rows mostly share them, so this is a handful of statements where bulk_update builds a CASE per
    row and field."""
    groups: dict[tuple, list[int]] = {}
    for obj in objects:
        groups.setdefault(tuple(getattr(obj, f) for f in fields), []).append(obj.pk)
    for values, pks in groups.items():
        model.objects.filter(pk__in=pks).update(**dict(zip(fields, values, strict=True)))


def update_provider_ids(messages: list[Message]) -> None:
    """Each ESP message id differs: one bulk statement for all of them."""
    if messages:
        Message.objects.bulk_update(messages, ["provider_message_id"], batch_size=500)
