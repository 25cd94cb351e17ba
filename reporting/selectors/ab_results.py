"""A/B results per sequence step: each variant's live sends and engagement, and the tests between them."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass
from typing import Any

from django.db.models import Count, QuerySet

from campaigns.models import Campaign
from outreach.models import Message, MessageEvent, MessageState, StepVariant
from reporting.ab_stats import ComparisonResult, VariantCounts, compare_variants

from .metrics import ENGAGEMENT_KINDS, rate


def step_variants_of(campaign: Campaign) -> QuerySet[StepVariant]:
    return (
        StepVariant.objects.filter(step__sequence__campaign=campaign)
        .select_related("step", "step__sequence", "creative")
        .order_by("step__sequence_id", "step__position", "label")
    )


@dataclass
class VariantResult:
    step_variant_id: int
    label: str
    creative_id: int
    creative: str
    sent: int = 0
    opened: int = 0
    clicked: int = 0
    replied: int = 0

    @property
    def open_rate(self) -> float:
        return rate(self.opened, self.sent)

    @property
    def click_rate(self) -> float:
        return rate(self.clicked, self.sent)

    @property
    def reply_rate(self) -> float:
        return rate(self.replied, self.sent)

    def as_dict(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "open_rate": self.open_rate,
            "click_rate": self.click_rate,
            "reply_rate": self.reply_rate,
        }


@dataclass
class StepABResult:
    sequence_id: int
    sequence: str
    step_id: int
    position: int
    variants: list[VariantResult]
    reply: ComparisonResult
    open: ComparisonResult

    def as_dict(self) -> dict[str, Any]:
        return {
            "sequence_id": self.sequence_id,
            "sequence": self.sequence,
            "step_id": self.step_id,
            "position": self.position,
            "variants": [v.as_dict() for v in self.variants],
            "reply_rate_test": asdict(self.reply),
            "open_rate_test": asdict(self.open),
        }


def ab_results(campaign: Campaign, *, alpha: float = 0.05) -> list[StepABResult]:
    """Per sequence step: each variant's live sends, opens, clicks and replies, and a pooled
    two-proportion test on reply rate and on open rate (a winner only when significant). Three
    queries whatever the number of messages."""
    variants = list(step_variants_of(campaign))
    if not variants:
        return []
    sends = dict(
        Message.objects.filter(campaign=campaign, state=MessageState.SENT, dry_run=False)
        .order_by()
        .values_list("step_variant_id")
        .annotate(n=Count("pk"))
    )
    events = {
        row["message__step_variant_id"]: row
        for row in MessageEvent.objects.filter(
            campaign=campaign, message__state=MessageState.SENT, message__dry_run=False
        )
        .order_by()
        .values("message__step_variant_id")
        .annotate(
            opened=Count("message_id", filter=ENGAGEMENT_KINDS["opened"], distinct=True),
            clicked=Count("message_id", filter=ENGAGEMENT_KINDS["clicked"], distinct=True),
            replied=Count("message_id", filter=ENGAGEMENT_KINDS["replied"], distinct=True),
        )
    }
    by_step: dict[int, list[VariantResult]] = defaultdict(list)
    steps = {}
    for variant in variants:
        counts = events.get(variant.pk, {})
        by_step[variant.step_id].append(
            VariantResult(
                step_variant_id=variant.pk,
                label=variant.label,
                creative_id=variant.creative_id,
                creative=str(variant.creative)[:120],
                sent=sends.get(variant.pk, 0),
                opened=counts.get("opened", 0),
                clicked=counts.get("clicked", 0),
                replied=counts.get("replied", 0),
            )
        )
        steps[variant.step_id] = variant.step
    results = []
    for step_id, step_variants in by_step.items():
        step = steps[step_id]
        results.append(
            StepABResult(
                sequence_id=step.sequence_id,
                sequence=step.sequence.name,
                step_id=step_id,
                position=step.position,
                variants=step_variants,
                reply=compare_variants(
                    [VariantCounts(v.label, v.sent, v.replied) for v in step_variants],
                    alpha=alpha,
                    metric="reply rate",
                ),
                open=compare_variants(
                    [VariantCounts(v.label, v.sent, v.opened) for v in step_variants],
                    alpha=alpha,
                    metric="open rate",
                ),
            )
        )
    return results
