"""Finds another client's objects in an API answer.

Ids of different tables overlap (campaign 3 and lead 3 may both exist), so an id only counts
as a leak when it is the id of the other client's object *of the table the field refers to*.
The table comes from the field name (``campaign``, ``lead``, ``follow_ups``, …) and, for
``id``, from where the object sits: the operation's own objects (its path says which table)
or a nested list (``variants``, ``lineage``, ``metric_entries``, …). API URLs in strings
(pagination links) are checked the same way. Names, emails and free text are covered by the
marker: every identifying string of the other client contains it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from .world import ClientWorld

# A field holding a foreign key (or a list of them) -> the table it points into.
REFERENCE_FIELDS = {
    "campaign": "campaign",
    "campaign_id": "campaign",
    "client": "client",
    "lead": "lead",
    "batch": "strategy_batch",
    "brief": "creative_brief",
    "variant": "strategy_variant",
    "variant_of": "creative",
    "root": "creative",
    "creative": "creative",
    "creative_id": "creative",
    "task": "operator_task",
    "parent": "operator_task",
    "follow_ups": "operator_task",
    "calendar_item": "calendar_item",
    "sequence_id": "sequence",
    "step_id": "sequence_step",
    "step_variant_id": "step_variant",
    "assignee": "user",
    "completed_by": "user",
    "recorded_by": "user",
    "decided_by": "user",
    "created_by": "user",
}

# A list (or object) field whose items are rows of another table: their ``id`` is of that table.
NESTED_OBJECTS = {
    "variants": "strategy_variant",
    "lineage": "creative",
    "metric_entries": "metric_entry",
    "recent_entries": "spend_entry",
    "risk_flags": "risk_flag",
    "entries": "suppression",  # suppressions/check/
}

# Which table an operation's top-level objects (or paginated results) come from, by the last
# literal segment of its path; `None` means the answer has no top-level ``id``.
ROOT_BY_SEGMENT = {
    "campaigns": "campaign",
    "budget": "campaign",
    "pause": "campaign",
    "resume": "campaign",
    "kill": "campaign",
    "transition": "campaign",
    "brief": "brief",
    "calendar": "calendar_item",
    "creatives": "creative",
    "generate": None,  # decided by the parent segment below
    "leads": "lead",
    "import": "lead_import",
    "outcomes": "outcome",
    "plan": "plan",
    "ab": None,
    "executive": None,
    "metrics": None,
    "weekly": "weekly_summary",
    "run-cycle": None,
    "strategies": "strategy_variant",
    "tasks": "operator_task",
    "suppressions": "suppression",
    "approve": None,
    "reject": None,
    "select": None,
    "request-changes": None,
    "edit": None,
    "preview": None,
    "start": None,
    "complete": None,
    "fail": None,
    "skip": None,
}

URL_PATTERN = re.compile(
    r"/api/v1/(?P<kind>campaigns|creatives|strategies|tasks|suppressions)/(?P<id>\d+)"
    r"(?:/leads/(?P<lead>\d+))?"
)
URL_KINDS = {
    "campaigns": "campaign",
    "creatives": "creative",
    "strategies": "strategy_variant",
    "tasks": "operator_task",
    "suppressions": "suppression",
}


def root_table(method: str, path: str) -> str | None:
    """The table of an operation's top-level objects, from its path template."""
    segments = [s for s in path.strip("/").split("/") if s and not s.startswith("{")]
    last = segments[-1]
    parent = segments[-2] if len(segments) > 1 else ""
    if last == "generate":
        return {"creatives": "creative", "strategies": "strategy_batch"}[parent]
    if last in ("approve", "reject", "request-changes", "edit", "preview"):
        return {"creatives": "creative", "strategies": "strategy_variant"}.get(parent)
    if last in ("start", "complete", "fail", "skip"):
        return "operator_task"
    if last == "metrics" and parent == "tasks":
        return "metric_entry"
    if last == "strategies" and "campaigns" in segments and parent == "campaigns":
        return "strategy_batch"  # /campaigns/{id}/strategies/ lists batches
    if last == "leads" and method.upper() == "POST":
        return "lead_import"
    if last == "select":
        return "strategy_variant"
    return ROOT_BY_SEGMENT.get(last)


def _walk(value: Any, table: str | None, where: str) -> Iterator[tuple[str, str, int]]:
    """(json path, table, id) for every id-like number in the answer."""
    if isinstance(value, list):
        for index, item in enumerate(value):
            yield from _walk(item, table, f"{where}[{index}]")
        return
    if not isinstance(value, dict):
        return
    if "results" in value and "count" in value:  # a page: its results are the operation's rows
        yield from _walk(value["results"], table, f"{where}.results")
        return
    for key, item in value.items():
        here = f"{where}.{key}"
        if key == "id" and table is not None and isinstance(item, int):
            yield here, table, item
        elif key in REFERENCE_FIELDS:
            refs = item if isinstance(item, list) else [item]
            for ref in refs:
                if isinstance(ref, int) and not isinstance(ref, bool):
                    yield here, REFERENCE_FIELDS[key], ref
                elif isinstance(ref, dict):
                    yield from _walk(ref, REFERENCE_FIELDS[key], here)
        elif key in NESTED_OBJECTS:
            yield from _walk(item, NESTED_OBJECTS[key], here)
        elif isinstance(item, dict | list):
            yield from _walk(item, None, here)


def _urls(text: str) -> Iterator[tuple[str, str, int]]:
    for match in URL_PATTERN.finditer(text):
        yield match.group(0), URL_KINDS[match.group("kind")], int(match.group("id"))
        if match.group("lead"):
            yield match.group(0), "lead", int(match.group("lead"))


def foreign_references(*, text: str, method: str, path: str, other: ClientWorld) -> list[str]:
    """Every mention of `other`'s objects in an answer body (empty when there is none)."""
    found = []
    if other.marker in text.lower():
        at = text.lower().index(other.marker)
        found.append(f"text mentions {other.marker!r}: …{text[max(0, at - 60) : at + 60]}…")
    try:
        body = json.loads(text) if text else None
    except ValueError:
        body = None
    mentions = [*_walk(body, root_table(method, path), "$"), *_urls(text)]
    for where, table, ident in mentions:
        if ident in other.ids.get(table, ()):
            found.append(f"{where} = {ident} is {other.marker}'s {table}")
    return found
