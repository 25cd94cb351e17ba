"""Risk rules: a registry of plain functions that look at something and return findings.

Rules are pure (no writes); ``campaigns.services.assess_risk`` runs them and stores the findings
as ``RiskFlag`` rows. Target kinds:

- ``"campaign"``: ``fn(campaign) -> list[Finding]`` (built in: regulated verticals, very high
  daily caps; leads can add "large share of unverified emails" with :func:`list_quality_findings`).
- ``"text"``: ``fn(text) -> list[Finding]``, the shared claims rules every strategy and creative
  text goes through (:func:`assess_text_claims`).
- a model label such as ``"creative.creativevariant"``: ``fn(target) -> list[Finding]`` for rules
  about one kind of object.

Register from ``AppConfig.ready()``: ``register_risk_rule("campaign", my_rule)``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings

SEVERITY_ORDER = {"low": 0, "medium": 1, "high": 2}


@dataclass(frozen=True)
class Finding:
    code: str
    severity: str  # "low" | "medium" | "high"
    message: str

    def __post_init__(self) -> None:
        if self.severity not in SEVERITY_ORDER:
            raise ValueError(f"Unknown severity {self.severity!r}; use low, medium or high.")


RiskRule = Callable[[Any], list[Finding]]
_rules: dict[str, list[RiskRule]] = {}


def register_risk_rule(target_kind: str, fn: RiskRule) -> RiskRule:
    rules = _rules.setdefault(target_kind, [])
    if fn not in rules:
        rules.append(fn)
    return fn


def unregister_risk_rule(target_kind: str, fn: RiskRule) -> None:
    if fn in _rules.get(target_kind, []):
        _rules[target_kind].remove(fn)


def rules_for(target_kind: str) -> list[RiskRule]:
    return list(_rules.get(target_kind, ()))


def run_rules(target_kind: str, subject: Any) -> list[Finding]:
    return [finding for rule in rules_for(target_kind) for finding in rule(subject)]


def merge_findings(findings: Iterable[Finding]) -> list[Finding]:
    """One finding per code: the highest severity wins, messages are joined without repeats."""
    merged: dict[str, Finding] = {}
    for f in findings:
        seen = merged.get(f.code)
        if seen is None:
            merged[f.code] = f
            continue
        severity = f.severity if SEVERITY_ORDER[f.severity] > SEVERITY_ORDER[seen.severity] else seen.severity
        message = seen.message if f.message in seen.message else f"{seen.message}; {f.message}"
        merged[f.code] = Finding(code=f.code, severity=severity, message=message)
    return sorted(merged.values(), key=lambda f: (-SEVERITY_ORDER[f.severity], f.code))


def _phrases(text: str, patterns: Iterable[tuple[str, str]]) -> list[str]:
    found = []
    for label, pattern in patterns:
        if re.search(pattern, text, flags=re.IGNORECASE):
            found.append(label)
    return found


# --- text claims (strategies, creatives) --------------------------------------------------------

ABSOLUTE_CLAIMS = (
    ("guaranteed", r"\bguarantee(d|s)?\b"),
    ("risk-free", r"\brisk[\s-]?free\b"),
    ("100%", r"\b100\s?%|\b100 percent\b"),
    ("no risk", r"\bno risk\b"),
    ("never fails", r"\bnever fails?\b"),
    ("instant results", r"\binstant results?\b"),
)
MEDICAL_CLAIMS = (
    ("cure", r"\bcures?\b|\bcured\b"),
    ("treats / heals", r"\b(treats?|heals?)\b.{0,40}\b(disease|cancer|diabetes|depression|anxiety|pain)\b"),
    ("weight loss", r"\blose \d+\s?(lbs?|pounds|kg|kilos)\b|\bweight[\s-]loss\b"),
    ("FDA approved", r"\bfda[\s-]approved\b"),
    ("clinically proven", r"\bclinically proven\b"),
)
INCOME_CLAIMS = (
    ("earn $…", r"\b(earn|make)\s+(up to\s+)?[$€£]\s?\d"),
    ("double your income", r"\b(double|triple)\s+your\s+(income|revenue|money|sales)\b"),
    ("get rich", r"\bget rich\b|\bpassive income\b"),
    ("financial freedom", r"\bfinancial freedom\b"),
)
DISCLOSURE_PHRASES = (
    r"results (may|will) vary",
    r"individual results",
    r"not (medical|financial|investment) advice",
    r"consult (a|your) (doctor|physician|advisor|adviser)",
    r"\bdisclaimer\b",
    r"past performance",
)


def assess_text_claims(text: str) -> list[Finding]:
    """Claims a reviewer must see before approving: absolute, medical and income claims, and a
    medical or income claim without a disclosure. Pure; strategy and creative call it through
    ``assess_risk(texts=...)`` or directly for a preview."""
    text = text or ""
    findings: list[Finding] = []
    absolute = _phrases(text, ABSOLUTE_CLAIMS)
    if absolute:
        findings.append(
            Finding(
                "claims.absolute",
                "high",
                "Absolute claim(s) nobody can promise: " + ", ".join(f"“{p}”" for p in absolute) + ".",
            )
        )
    medical = _phrases(text, MEDICAL_CLAIMS)
    if medical:
        findings.append(
            Finding(
                "claims.medical",
                "high",
                "Medical or health claim(s): " + ", ".join(f"“{p}”" for p in medical) + ".",
            )
        )
    income = _phrases(text, INCOME_CLAIMS)
    if income:
        findings.append(
            Finding(
                "claims.income",
                "medium",
                "Income or earnings claim(s): " + ", ".join(f"“{p}”" for p in income) + ".",
            )
        )
    has_disclosure = any(re.search(p, text, flags=re.IGNORECASE) for p in DISCLOSURE_PHRASES)
    if (medical or income) and not has_disclosure:
        findings.append(
            Finding(
                "claims.missing_disclosure",
                "medium",
                "Health or income claims need a disclosure such as “Results may vary” "
                "or “Not medical/financial advice”.",
            )
        )
    return findings


# --- campaigns ------------------------------------------------------------------------------------

REGULATED_VERTICALS = (
    ("health", r"\b(health ?care|medical|clinics?|pharma\w*|supplements?|telehealth|hospitals?|patients?)\b"),
    (
        "finance",
        r"\b(finance|financial|loans?|lending|credit|mortgages?|insurance|invest\w*|banking|forex)\b",
    ),
    ("gambling", r"\b(gambling|casinos?|betting|sportsbooks?|poker|lottery|lotteries)\b"),
    ("crypto", r"\b(crypto\w*|bitcoin|blockchain|nft|defi|token sale)\b"),
    ("alcohol/tobacco/cannabis", r"\b(alcohol|tobacco|vap(e|ing)|cannabis|cbd)\b"),
    ("legal", r"\b(law firm|legal services|attorney)\b"),
)


def regulated_vertical_findings(campaign: Any) -> list[Finding]:
    text = " ".join(
        str(getattr(campaign, field, "") or "") for field in ("objective", "target_niche", "icp", "name")
    )
    verticals = _phrases(text, REGULATED_VERTICALS)
    if not verticals:
        return []
    return [
        Finding(
            "campaign.regulated_vertical",
            "medium",
            "Regulated vertical(s) in objective, niche or ICP: "
            + ", ".join(verticals)
            + ". Check claims and consent rules with the client.",
        )
    ]


def high_daily_cap_findings(campaign: Any) -> list[Finding]:
    cap = getattr(campaign, "daily_email_cap", 0) or 0
    high = settings.AICMO_RISK_HIGH_DAILY_CAP
    very_high = settings.AICMO_RISK_VERY_HIGH_DAILY_CAP
    if cap > very_high:
        return [
            Finding(
                "campaign.daily_cap",
                "high",
                f"Daily email cap {cap} is above {very_high}: deliverability and complaint risk.",
            )
        ]
    if cap > high:
        return [
            Finding("campaign.daily_cap", "medium", f"Daily email cap {cap} is above {high}: warm up first.")
        ]
    return []


def list_quality_findings(*, total: int, unverified: int) -> list[Finding]:
    """For leads to use in a campaign rule: a large share of unverified addresses is a risk."""
    if total <= 0:
        return []
    share = unverified / total
    if share >= settings.AICMO_RISK_UNVERIFIED_SHARE_HIGH:
        severity = "high"
    elif share >= settings.AICMO_RISK_UNVERIFIED_SHARE_MEDIUM:
        severity = "medium"
    else:
        return []
    return [
        Finding(
            "leads.unverified_share",
            severity,
            f"{unverified} of {total} leads ({share:.0%}) have unverified email addresses.",
        )
    ]


register_risk_rule("campaign", regulated_vertical_findings)
register_risk_rule("campaign", high_daily_cap_findings)
register_risk_rule("text", assess_text_claims)
