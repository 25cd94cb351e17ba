"""A/B significance for rates such as reply rate: a pooled two-proportion z-test.

Five lines of arithmetic with `math.erfc` for the normal tail; pulling SciPy in for it would add
tens of megabytes for no gain. With more than two variants the best one is compared with the
runner-up at a Bonferroni-corrected level, so a winner is named only when it beats every other.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class VariantCounts:
    key: str
    trials: int  # e.g. emails sent
    successes: int  # e.g. replies

    @property
    def rate(self) -> float:
        return self.successes / self.trials if self.trials else 0.0


@dataclass(frozen=True)
class ComparisonResult:
    winner: str | None
    best: str | None
    runner_up: str | None
    z: float
    p_value: float
    alpha: float
    significant: bool
    explanation: str


def two_proportion_z_test(a: VariantCounts, b: VariantCounts) -> tuple[float, float]:
    """(z, two-sided p) for H0: both variants share one rate."""
    if a.trials == 0 or b.trials == 0:
        return 0.0, 1.0
    pooled = (a.successes + b.successes) / (a.trials + b.trials)
    variance = pooled * (1 - pooled) * (1 / a.trials + 1 / b.trials)
    if variance == 0:
        return 0.0, 1.0
    z = (a.rate - b.rate) / math.sqrt(variance)
    return z, math.erfc(abs(z) / math.sqrt(2))


def compare_variants(
    variants: list[VariantCounts], *, alpha: float = 0.05, min_trials: int = 30, metric: str = "reply rate"
) -> ComparisonResult:
    eligible = sorted((v for v in variants if v.trials > 0), key=lambda v: (v.rate, v.trials), reverse=True)
    if len(eligible) < 2:
        return ComparisonResult(
            None,
            eligible[0].key if eligible else None,
            None,
            0.0,
            1.0,
            alpha,
            False,
            "Needs at least two variants with sends to compare.",
        )
    best, runner_up = eligible[0], eligible[1]
    corrected = alpha / (len(eligible) - 1)
    z, p = two_proportion_z_test(best, runner_up)
    numbers = (
        f"{best.key}: {best.successes}/{best.trials} ({best.rate:.1%}) vs "
        f"{runner_up.key}: {runner_up.successes}/{runner_up.trials} ({runner_up.rate:.1%}), "
        f"z={z:.2f}, p={p:.4f}"
    )
    if min(best.trials, runner_up.trials) < min_trials:
        return ComparisonResult(
            None,
            best.key,
            runner_up.key,
            z,
            p,
            corrected,
            False,
            f"Too few sends to judge {metric} (minimum {min_trials} each): {numbers}.",
        )
    significant = p < corrected and best.rate > runner_up.rate
    verdict = (
        f"{best.key} wins on {metric}"
        if significant
        else f"No significant difference in {metric} at alpha={corrected:.3g}"
    )
    return ComparisonResult(
        best.key if significant else None,
        best.key,
        runner_up.key,
        z,
        p,
        corrected,
        significant,
        f"{verdict}: {numbers}.",
    )
