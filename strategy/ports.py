"""The strategy generator port: one interface, pluggable adapters (offline template, LLM).

Adapters receive plain data (no ORM objects) and return plain data that fits
`strategy.schema.STRATEGY_VARIANT_SCHEMA`; services validate and store it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol, runtime_checkable


@dataclass(frozen=True)
class CampaignTypeProfile:
    """What the campaign type registry contributes: phases, default KPIs, channel mix."""

    key: str
    label: str
    description: str
    phases: tuple[dict[str, Any], ...]  # {"key", "name", "share", "tactics": [...]}
    default_kpis: dict[str, float]
    channel_mix: dict[str, float]


@dataclass(frozen=True)
class StrategyRequest:
    """Everything a generator may use. Same request → same output for the template generator."""

    campaign_name: str
    campaign_type: CampaignTypeProfile
    brief: dict[str, Any]  # objective, audience, offer, channels, tone, constraints, budget, currency
    variant_count: int
    duration_days: int
    target_clients: int | None = None


@dataclass
class GeneratedStrategies:
    variants: list[dict[str, Any]]
    generator: str
    model_name: str = ""
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost: Decimal = Decimal("0")
    cost_currency: str = "USD"
    notes: list[str] = field(default_factory=list)


class StrategyGenerationError(Exception):
    """The generator could not produce valid strategies; the message says why, for a person."""


@runtime_checkable
class StrategyGenerator(Protocol):
    name: str

    def generate(self, request: StrategyRequest) -> GeneratedStrategies: ...
