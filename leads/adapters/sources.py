"""Lead sources. Built in: CSV files and API push (both go through ``leads.importers``).

Third-party finders (Apollo, Hunter, …) are adapters implementing ``leads.ports.LeadSourceAdapter``
and are switched on by environment keys, never by code changes::

    LEAD_SOURCE_ADAPTERS="apollo=mycompany.finders.apollo:ApolloSource"
    APOLLO_API_KEY=…        # read by the adapter itself, from the environment

``LEAD_SOURCE_ADAPTERS`` is a comma-separated list of ``name=module:Class``. The class is built
with no arguments (it reads its own keys from ``os.environ``) and must have a ``name`` and a
``fetch(query=…, limit=…)`` yielding dicts of lead fields. ``fetch_from_source`` pushes what it
yields through the importer, so validation, dedup and suppression are identical to a CSV upload.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterable, Mapping
from typing import Any

from campaigns.errors import DomainError

from ..ports import LeadSourceAdapter


def configured_source_names(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    spec = (environ if environ is not None else os.environ).get("LEAD_SOURCE_ADAPTERS", "")
    found: dict[str, str] = {}
    for part in spec.split(","):
        name, eq, target = part.partition("=")
        if eq and name.strip() and target.strip():
            found[name.strip()] = target.strip()
    return found


def get_lead_source(name: str, environ: Mapping[str, str] | None = None) -> LeadSourceAdapter:
    targets = configured_source_names(environ)
    if name not in targets:
        known = ", ".join(sorted(targets)) or "none configured"
        raise DomainError(
            f"No lead source {name!r}; configured in LEAD_SOURCE_ADAPTERS: {known}.", field="source"
        )
    module_name, _, class_name = targets[name].partition(":")
    try:
        adapter_class = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError) as exc:
        raise DomainError(
            f"Lead source {name!r} points at {targets[name]!r}, which cannot be loaded: {exc}."
        ) from exc
    adapter = adapter_class()
    if not isinstance(adapter, LeadSourceAdapter):
        raise DomainError(f"{targets[name]} does not implement LeadSourceAdapter (name, fetch).")
    return adapter


def records_from_source(
    adapter: LeadSourceAdapter, *, query: Mapping[str, Any], limit: int
) -> Iterable[Mapping[str, Any]]:
    for count, record in enumerate(adapter.fetch(query=query, limit=limit)):
        if count >= limit:
            break
        yield record
