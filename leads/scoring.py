"""Lead scoring: pure functions, no ORM.

Default, for a campaign without ICP weights: one fixed formula for every campaign (base 0.3,
+0.15 job title, +0.15 company size, +0.15 industry, +0.2 valid email, capped at 1.0), which
rewards a lead for what is known about it. Better: per-campaign ICP weights
(LeadPolicy.icp_weights), which reward how well it fits the campaign::

    {"base": 0.1, "valid_email": 0.2,
     "titles": {"cto": 0.3, "head of": 0.2},            # substring of the job title, best match
     "industries": {"saas": 0.2, "fintech": 0.15},      # substring of the industry, best match
     "company_sizes": [{"min": 50, "max": 500, "weight": 0.2}],   # overlaps the stated size
     "countries": {"DE": 0.1, "AT": 0.1}}

Higher score → sooner next action: from 1 hour at score 1.0 to 72 hours at score 0.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

DEFAULT_BASE = 0.3
DEFAULT_TITLE = 0.15
DEFAULT_COMPANY_SIZE = 0.15
DEFAULT_INDUSTRY = 0.15
DEFAULT_VALID_EMAIL = 0.2

SOONEST_NEXT_ACTION = dt.timedelta(hours=1)
LATEST_NEXT_ACTION = dt.timedelta(hours=72)


@dataclass(frozen=True)
class LeadFacts:
    title: str = ""
    company_size: str = ""
    industry: str = ""
    country: str = ""
    email_valid: bool = False


def _clamp(score: float) -> float:
    return round(max(0.0, min(1.0, score)), 4)


def default_score(facts: LeadFacts) -> float:
    score = DEFAULT_BASE
    score += DEFAULT_TITLE if facts.title.strip() else 0
    score += DEFAULT_COMPANY_SIZE if facts.company_size.strip() else 0
    score += DEFAULT_INDUSTRY if facts.industry.strip() else 0
    score += DEFAULT_VALID_EMAIL if facts.email_valid else 0
    return _clamp(score)


def parse_company_size(text: str) -> tuple[int, int | None] | None:
    """``"51-200"`` → (51, 200); ``"1000+"`` → (1000, None); ``"1,200"`` → (1200, 1200); junk → None."""
    numbers = [int(n.replace(",", "").replace(".", "")) for n in re.findall(r"\d[\d,.]*", text or "")]
    if not numbers:
        return None
    if len(numbers) >= 2:
        low, high = sorted(numbers[:2])
        return low, high
    if "+" in text or ">" in text:
        return numbers[0], None
    return numbers[0], numbers[0]


def _best_substring_weight(value: str, weights: dict[str, Any]) -> float:
    text = value.strip().lower()
    if not text:
        return 0.0
    matches = [float(w) for key, w in weights.items() if str(key).strip().lower() in text]
    return max(matches, default=0.0)


def icp_score(facts: LeadFacts, weights: dict[str, Any]) -> float:
    score = float(weights.get("base", 0.0))
    if facts.email_valid:
        score += float(weights.get("valid_email", 0.0))
    score += _best_substring_weight(facts.title, weights.get("titles") or {})
    score += _best_substring_weight(facts.industry, weights.get("industries") or {})
    size = parse_company_size(facts.company_size)
    if size is not None:
        low, high = size
        fitting = []
        for band in weights.get("company_sizes") or []:
            band_min = band.get("min", 0) or 0
            band_max = band.get("max")
            if (band_max is None or low <= band_max) and (high is None or high >= band_min):
                fitting.append(float(band.get("weight", 0.0)))
        score += max(fitting, default=0.0)
    countries = {str(k).upper(): float(v) for k, v in (weights.get("countries") or {}).items()}
    score += countries.get(facts.country.upper(), 0.0)
    return _clamp(score)


def score_lead(facts: LeadFacts, icp_weights: dict[str, Any] | None = None) -> float:
    return icp_score(facts, icp_weights) if icp_weights else default_score(facts)


def next_action_delay(score: float) -> dt.timedelta:
    score = max(0.0, min(1.0, score))
    return SOONEST_NEXT_ACTION + (LATEST_NEXT_ACTION - SOONEST_NEXT_ACTION) * (1.0 - score)


def next_action_at_for(score: float, now: dt.datetime) -> dt.datetime:
    return now + next_action_delay(score)
