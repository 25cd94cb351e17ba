"""The offline strategy generator (the default): deterministic, no network, no keys.

Same request → same output. Variants take clearly different angles (conservative, aggressive,
creative, then proof-led and partnership for 4-5). The campaign type contributes phases, KPIs and
the base channel mix; the brief contributes audience, offer, objective, channels, tone,
constraints and budget, so changing the brief changes the strategies.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ..ports import GeneratedStrategies, StrategyRequest

CHANNEL_LABELS = {"email": "Email", "linkedin": "LinkedIn", "instagram": "Instagram", "x": "X"}


@dataclass(frozen=True)
class Angle:
    key: str
    label: str
    promise: str  # "<offer> is the {promise} way to …"
    channel_tilt: dict[str, float]
    posts_per_week: int
    kpi_factor: float
    limit_factor: float  # for "…_max" KPIs (lower is stricter)
    pillar_count: int
    content_types: dict[str, str]
    extra_tactic: str
    budget_lines: tuple[tuple[str, float], ...]  # non-channel lines and their shares
    risks: tuple[tuple[str, str, str], ...]
    pillar_themes: tuple[str, ...]


ANGLES: tuple[Angle, ...] = (
    Angle(
        key="conservative",
        label="Conservative",
        promise="proven, low-risk",
        channel_tilt={"email": 1.5, "linkedin": 1.0, "x": 0.6, "instagram": 0.6},
        posts_per_week=5,
        kpi_factor=0.8,
        limit_factor=0.8,
        pillar_count=3,
        content_types={
            "email": "plain-text email",
            "linkedin": "text post",
            "x": "short post",
            "instagram": "image post",
        },
        extra_tactic="Weekly review of results against targets",
        budget_lines=(("Contingency reserve", 0.15), ("Tools and data", 0.10)),
        risks=(
            (
                "Slow start: results arrive later than hoped",
                "Agree leading indicators for week 2 and 4",
                "low",
            ),
            ("Message blends in with competitors", "Add one proof point per message", "medium"),
        ),
        pillar_themes=("Proof and track record", "Clear, measurable outcomes", "Low-risk first step"),
    ),
    Angle(
        key="aggressive",
        label="Aggressive",
        promise="fastest",
        channel_tilt={"email": 1.0, "linkedin": 1.6, "x": 1.2, "instagram": 0.8},
        posts_per_week=10,
        kpi_factor=1.4,
        limit_factor=1.3,
        pillar_count=4,
        content_types={
            "email": "direct outbound email",
            "linkedin": "connection request and DM",
            "x": "reply thread",
            "instagram": "story with a call to action",
        },
        extra_tactic="Daily volume push with fast follow-ups",
        budget_lines=(("Paid amplification", 0.30), ("Tools and data", 0.10)),
        risks=(
            (
                "High volume hurts deliverability and sender reputation",
                "Warm up mailboxes; respect daily caps",
                "high",
            ),
            ("Pushy tone puts off part of the audience", "A/B test softer follow-ups", "medium"),
        ),
        pillar_themes=("Cost of waiting", "Speed to value", "Competitive edge now", "Limited-time offer"),
    ),
    Angle(
        key="creative",
        label="Creative",
        promise="most memorable",
        channel_tilt={"email": 0.4, "linkedin": 1.0, "x": 1.4, "instagram": 1.8},
        posts_per_week=8,
        kpi_factor=1.1,
        limit_factor=1.0,
        pillar_count=5,
        content_types={
            "email": "story-led newsletter",
            "linkedin": "carousel",
            "x": "hot take",
            "instagram": "reel",
        },
        extra_tactic="Signature content series with a recurring format",
        budget_lines=(("Content production", 0.35), ("Contingency reserve", 0.05)),
        risks=(
            (
                "The idea is remembered but the offer is not",
                "End every piece with one clear call to action",
                "medium",
            ),
            ("Production takes longer than planned", "Batch-produce two weeks ahead", "medium"),
        ),
        pillar_themes=(
            "Behind the scenes",
            "Customer story of the month",
            "Myth versus reality",
            "Contrarian point of view",
            "Playful how-to",
        ),
    ),
    Angle(
        key="proof_led",
        label="Proof-led",
        promise="most credible",
        channel_tilt={"email": 1.2, "linkedin": 1.3, "x": 0.7, "instagram": 0.5},
        posts_per_week=6,
        kpi_factor=1.0,
        limit_factor=0.9,
        pillar_count=4,
        content_types={
            "email": "case-study email",
            "linkedin": "data post",
            "x": "stat of the week",
            "instagram": "quote card",
        },
        extra_tactic="Publish one case study or benchmark per phase",
        budget_lines=(("Research and case studies", 0.25), ("Contingency reserve", 0.10)),
        risks=(
            ("Not enough customer proof to publish", "Collect two testimonials before launch", "medium"),
            ("Numbers read as marketing claims", "Cite sources and methods", "low"),
        ),
        pillar_themes=("Benchmarks and data", "Customer results", "Expert opinion", "Transparent methods"),
    ),
    Angle(
        key="partnership",
        label="Partnership",
        promise="most trusted",
        channel_tilt={"email": 0.8, "linkedin": 1.4, "x": 1.0, "instagram": 1.2},
        posts_per_week=6,
        kpi_factor=0.95,
        limit_factor=1.0,
        pillar_count=4,
        content_types={
            "email": "co-branded email",
            "linkedin": "partner spotlight",
            "x": "joint thread",
            "instagram": "collab post",
        },
        extra_tactic="Co-marketing with one partner per phase",
        budget_lines=(("Partner incentives", 0.20), ("Contingency reserve", 0.10)),
        risks=(
            ("Partner delivery is out of our control", "Agree deliverables and dates in writing", "medium"),
            ("Audience overlap with the partner is small", "Check overlap before committing", "low"),
        ),
        pillar_themes=("Better together", "Trusted voices", "Community first", "Shared success stories"),
    ),
)

# Volume KPIs scale with budget and angle; rates stay below 1; "_max" limits scale separately.
_RATE_CAP = 0.95


def _stable_index(seed: str, modulo: int) -> int:
    return int(hashlib.sha256(seed.encode()).hexdigest()[:8], 16) % modulo


def _short(text: str, words: int = 12) -> str:
    parts = re.split(r"\s+", text.strip().rstrip("."))
    return " ".join(parts[:words]) + ("…" if len(parts) > words else "")


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:] if text and not text[:2].isupper() else text


def _normalise_shares(weights: dict[str, float]) -> dict[str, float]:
    total = sum(weights.values()) or 1.0
    shares = {k: round(v / total, 2) for k, v in weights.items()}
    # Rounding must not make the mix add up to 0.99 or 1.01: give the difference to the largest.
    drift = round(1.0 - sum(shares.values()), 2)
    if drift:
        top = max(shares, key=lambda k: (shares[k], k))
        shares[top] = round(shares[top] + drift, 2)
    return shares


def _budget_factor(budget: Any) -> float:
    if budget in (None, ""):
        return 1.0
    value = float(budget)
    # Square-root response: twice the budget is not twice the results.
    return round(min(2.5, max(0.5, (value / 10000.0) ** 0.5)), 3)


class TemplateStrategyGenerator:
    name = "template"

    def generate(self, request: StrategyRequest) -> GeneratedStrategies:
        count = request.variant_count
        angles = ANGLES[:count]
        seed = json.dumps(
            {"brief": request.brief, "type": request.campaign_type.key, "days": request.duration_days},
            sort_keys=True,
            default=str,
        )
        variants = [self._variant(request, angle, seed) for angle in angles]
        return GeneratedStrategies(variants=variants, generator=self.name)

    # --- one variant ------------------------------------------------------------------------

    def _variant(self, request: StrategyRequest, angle: Angle, seed: str) -> dict[str, Any]:
        brief = request.brief
        ctype = request.campaign_type
        audience = _short(brief["audience"], 14)
        offer = _short(brief["offer"], 14)
        objective = _lower_first(_short(brief["objective"], 16))
        tone = brief.get("tone") or "professional"
        channel_mix = self._channel_mix(request, angle)
        openers = (
            f"For {audience}, {offer} is the {angle.promise} way to {objective}.",
            f"{offer}: the {angle.promise} route for {audience} to {objective}.",
            f"We position {offer} as the {angle.promise} choice for {audience} who want to {objective}.",
        )
        positioning = openers[_stable_index(seed + angle.key, len(openers))]
        positioning += f" {ctype.label} campaign, {tone} voice"
        if brief.get("constraints"):
            positioning += f", within these limits: {_short(brief['constraints'], 20)}"
        positioning += "."
        return {
            "angle": angle.key,
            "title": f"{angle.label} {ctype.label.lower()}: {_short(brief['offer'], 6)}",
            "positioning": positioning,
            "pillars": self._pillars(request, angle, seed),
            "channel_mix": channel_mix,
            "cadence": self._cadence(channel_mix, angle),
            "phases": self._phases(request, angle),
            "kpi_targets": self._kpis(request, angle),
            "budget_split": self._budget_split(request, angle, channel_mix),
            "risks": self._risks(request, angle),
        }

    def _channel_mix(self, request: StrategyRequest, angle: Angle) -> dict[str, float]:
        base = request.campaign_type.channel_mix
        channels = request.brief["channels"] or list(base)
        # Channels the type does not weigh still get a small base share: the brief asked for them.
        weights = {ch: base.get(ch, 0.1) * angle.channel_tilt.get(ch, 1.0) for ch in channels}
        return _normalise_shares(weights)

    @staticmethod
    def _cadence(channel_mix: dict[str, float], angle: Angle) -> dict[str, dict[str, Any]]:
        return {
            channel: {
                "per_week": max(1, round(share * angle.posts_per_week)),
                "content_type": angle.content_types.get(channel, "post"),
            }
            for channel, share in channel_mix.items()
        }

    @staticmethod
    def _pillars(request: StrategyRequest, angle: Angle, seed: str) -> list[str]:
        brief = request.brief
        offer = _short(brief["offer"], 8)
        audience = _short(brief["audience"], 8)
        themes = list(angle.pillar_themes)
        start = _stable_index(seed + "pillars" + angle.key, len(themes))
        themes = themes[start:] + themes[:start]
        goal = _lower_first(_short(brief["objective"], 8))
        pillars = [
            f"{themes[0]}: why {audience} choose {offer}",
            f"{themes[1 % len(themes)]}: how {offer} helps them {goal}",
            f"{themes[2 % len(themes)]}, told in a {brief.get('tone') or 'professional'} voice",
        ]
        for theme in themes[3 : angle.pillar_count]:
            pillars.append(f"{theme} around {offer}")
        return pillars[: angle.pillar_count]

    @staticmethod
    def _phases(request: StrategyRequest, angle: Angle) -> list[dict[str, Any]]:
        days = request.duration_days
        phases = []
        used = 0
        for index, phase in enumerate(request.campaign_type.phases):
            last = index == len(request.campaign_type.phases) - 1
            duration = max(1, days - used if last else round(days * phase["share"]))
            used += duration
            tactics = [*phase["tactics"]]
            if index == 0 or angle.key != "conservative":
                tactics.append(angle.extra_tactic)
            phases.append(
                {
                    "key": phase["key"],
                    "name": phase["name"],
                    "share": phase["share"],
                    "duration_days": duration,
                    "tactics": tactics,
                }
            )
        return phases

    @staticmethod
    def _kpis(request: StrategyRequest, angle: Angle) -> dict[str, float]:
        volume_factor = angle.kpi_factor * _budget_factor(request.brief.get("budget"))
        targets: dict[str, float] = {}
        for name, base in request.campaign_type.default_kpis.items():
            if name == "qualified_leads" and request.target_clients:
                base = request.target_clients
            if name.endswith("_max"):
                targets[name] = round(base * angle.limit_factor, 3)
            elif base < 1:
                targets[name] = round(min(_RATE_CAP, base * angle.kpi_factor), 3)
            else:
                targets[name] = max(1, round(base * volume_factor))
        return targets

    @staticmethod
    def _budget_split(
        request: StrategyRequest, angle: Angle, channel_mix: dict[str, float]
    ) -> list[dict[str, Any]]:
        fixed = sum(share for _, share in angle.budget_lines)
        lines = [
            (f"{CHANNEL_LABELS.get(channel, channel)} execution", share * (1 - fixed))
            for channel, share in channel_mix.items()
        ]
        lines += list(angle.budget_lines)
        shares = _normalise_shares({item: share for item, share in lines})
        budget = request.brief.get("budget")
        total = Decimal(str(budget)) if budget not in (None, "") else None
        return [
            {
                "item": item,
                "share": share,
                "amount": float(round(total * Decimal(str(share)), 2)) if total is not None else None,
            }
            for item, share in shares.items()
        ]

    @staticmethod
    def _risks(request: StrategyRequest, angle: Angle) -> list[dict[str, str]]:
        risks = [{"risk": r, "mitigation": m, "severity": s} for r, m, s in angle.risks]
        constraints = request.brief.get("constraints")
        if constraints:
            risks.append(
                {
                    "risk": f"Breaking a brief constraint: {_short(constraints, 20)}",
                    "mitigation": "Check every piece of creative against the constraints before approval",
                    "severity": "high" if angle.key == "aggressive" else "medium",
                }
            )
        if request.brief.get("budget") in (None, ""):
            risks.append(
                {
                    "risk": "No budget set: spend cannot be tracked against a cap",
                    "mitigation": "Agree a budget before activation",
                    "severity": "low",
                }
            )
        return risks
