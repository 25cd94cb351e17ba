"""Where the campaign API gets live metrics from.

`campaigns` may not import `reporting`, which computes them; reporting registers its providers
from ``AppConfig.ready()``. Without them (e.g. reporting not installed) the fields stay empty."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

ListMetrics = Callable[[Iterable[Any]], dict[int, dict[str, Any]]]
DetailMetrics = Callable[[Any], dict[str, Any]]
_providers: dict[str, Callable] = {}


def register_campaign_metrics(*, list_metrics: ListMetrics, detail_metrics: DetailMetrics) -> None:
    _providers["list"], _providers["detail"] = list_metrics, detail_metrics


def list_metrics(campaigns: Iterable[Any]) -> dict[int, dict[str, Any]]:
    provider = _providers.get("list")
    return provider(campaigns) if provider else {}


def detail_metrics(campaign: Any) -> dict[str, Any]:
    provider = _providers.get("detail")
    return provider(campaign) if provider else {}
