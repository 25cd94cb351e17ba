"""Which simple-history tables belong on a campaign's timeline.

``campaigns.selectors.campaign_timeline_entries`` merges the campaign's AuditEvents with the
history rows of every registered model, oldest first. Apps above ``campaigns`` register their
history-tracked models from ``AppConfig.ready()``::

    register_timeline_history(StrategyVariant, campaign_lookup="campaign")
    register_timeline_history(CreativeVariant, campaign_lookup="brief__campaign")

``campaign_lookup`` is the lookup, on the *historical* model, that equals the campaign's id
(a plain FK column is copied into history, so ``"campaign"`` works; a path through a parent only
works if the parent FK is on the historical row, e.g. ``"brief__campaign"`` when ``brief`` is a FK).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class HistorySource:
    model: Any
    campaign_lookup: str
    label: str


_sources: dict[str, HistorySource] = {}


def register_timeline_history(model: Any, *, campaign_lookup: str = "campaign", label: str = "") -> None:
    if not hasattr(model, "history"):
        raise ValueError(f"{model.__name__} has no simple-history `history`; add HistoricalRecords().")
    key = model._meta.label_lower
    _sources[key] = HistorySource(model, campaign_lookup, label or str(model._meta.verbose_name))


def timeline_history_sources() -> list[HistorySource]:
    return list(_sources.values())
