"""The JSON shape of a strategy variant, shared by every generator adapter.

The template generator fills it, the LLM adapter's output is validated against it, and services
validate whatever a generator returns before a single row is written.
"""

from __future__ import annotations

from typing import Any

import jsonschema

from campaigns.models import CHANNEL_KEYS

_CHANNEL = {"type": "string", "enum": sorted(CHANNEL_KEYS)}
_SHARE = {"type": "number", "minimum": 0, "maximum": 1}

STRATEGY_VARIANT_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "StrategyVariant",
    "type": "object",
    "additionalProperties": False,
    "required": [
        "angle",
        "title",
        "positioning",
        "pillars",
        "channel_mix",
        "cadence",
        "phases",
        "kpi_targets",
        "budget_split",
        "risks",
    ],
    "properties": {
        "angle": {"type": "string", "minLength": 3, "maxLength": 40},
        "title": {"type": "string", "minLength": 3, "maxLength": 200},
        "positioning": {"type": "string", "minLength": 20, "maxLength": 2000},
        "pillars": {
            "type": "array",
            "minItems": 3,
            "maxItems": 5,
            "items": {"type": "string", "minLength": 3, "maxLength": 300},
        },
        "channel_mix": {
            "type": "object",
            "minProperties": 1,
            "propertyNames": _CHANNEL,
            "additionalProperties": _SHARE,
        },
        "cadence": {
            "type": "object",
            "minProperties": 1,
            "propertyNames": _CHANNEL,
            "additionalProperties": {
                "type": "object",
                "additionalProperties": False,
                "required": ["per_week", "content_type"],
                "properties": {
                    "per_week": {"type": "integer", "minimum": 1, "maximum": 21},
                    "content_type": {"type": "string", "minLength": 2, "maxLength": 80},
                },
            },
        },
        "phases": {
            "type": "array",
            "minItems": 1,
            "maxItems": 8,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["key", "name", "share", "duration_days", "tactics"],
                "properties": {
                    "key": {"type": "string", "pattern": "^[a-z0-9_]{2,40}$"},
                    "name": {"type": "string", "minLength": 2, "maxLength": 200},
                    "share": {"type": "number", "exclusiveMinimum": 0, "maximum": 1},
                    "duration_days": {"type": "integer", "minimum": 1},
                    "tactics": {
                        "type": "array",
                        "minItems": 1,
                        "items": {"type": "string", "minLength": 2, "maxLength": 300},
                    },
                    "metrics": {"type": "object", "additionalProperties": {"type": "number"}},
                },
            },
        },
        "kpi_targets": {
            "type": "object",
            "minProperties": 1,
            "additionalProperties": {"type": "number", "minimum": 0},
        },
        "budget_split": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["item", "share"],
                "properties": {
                    "item": {"type": "string", "minLength": 2, "maxLength": 200},
                    "share": _SHARE,
                    "amount": {"type": ["number", "null"], "minimum": 0},
                },
            },
        },
        "risks": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["risk", "mitigation", "severity"],
                "properties": {
                    "risk": {"type": "string", "minLength": 3, "maxLength": 500},
                    "mitigation": {"type": "string", "minLength": 3, "maxLength": 500},
                    "severity": {"type": "string", "enum": ["low", "medium", "high"]},
                },
            },
        },
    },
}

STRATEGY_BATCH_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "StrategyVariants",
    "type": "object",
    "required": ["variants"],
    "properties": {"variants": {"type": "array", "minItems": 1, "items": STRATEGY_VARIANT_SCHEMA}},
}

_validator = jsonschema.Draft202012Validator(STRATEGY_BATCH_SCHEMA)


class StrategySchemaError(ValueError):
    """Generator output that does not fit the variant schema; the message lists every problem."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("Strategy output does not match the schema: " + "; ".join(problems))


def validate_strategy_payload(payload: Any, *, expected_variants: int | None = None) -> list[dict[str, Any]]:
    """Check a ``{"variants": [...]}`` payload; return the variants or raise StrategySchemaError."""
    problems = []
    for error in sorted(_validator.iter_errors(payload), key=lambda e: list(e.absolute_path)):
        where = "/".join(str(p) for p in error.absolute_path) or "(root)"
        problems.append(f"{where}: {error.message}")
        if len(problems) >= 10:
            problems.append("… (more problems not shown)")
            break
    if problems:
        raise StrategySchemaError(problems)
    variants = payload["variants"]
    if expected_variants is not None and len(variants) != expected_variants:
        raise StrategySchemaError([f"variants: expected {expected_variants} variants, got {len(variants)}"])
    for index, variant in enumerate(variants):
        total = sum(variant["channel_mix"].values())
        if abs(total - 1.0) > 0.02:
            problems.append(f"variants/{index}/channel_mix: shares add up to {total:.2f}, expected 1.0")
        missing = sorted(set(variant["cadence"]) - set(variant["channel_mix"]))
        if missing:
            problems.append(f"variants/{index}/cadence: channels {missing} are not in the channel mix")
    if problems:
        raise StrategySchemaError(problems)
    return variants
