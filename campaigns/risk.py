"""Risk rules: a registry of plain functions that look at something and return findings.

Rules are pure (no writes); ``campaigns.services.risk_flags.assess_risk`` runs them and stores the findings
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

import itertools
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


# --- what a text only quotes or denies: the brief's own constraints, negated claims -------------
# A strategy that says "within these limits: No guarantees of savings" repeats the client's rule;
# it promises nothing. Two things are therefore taken out before the claims rules look: (1) the
# passages that quote the brief's constraints back (apps register where a campaign's constraints
# are, as strategy does from its AppConfig.ready(): campaigns cannot import them), and (2) claim
# words under a negation in the same clause ("no guarantees", "we cannot guarantee", "not a cure").

QuotedSource = Callable[[Any], Iterable[str]]
_quoted_sources: list[QuotedSource] = []


def register_quoted_source(fn: QuotedSource) -> QuotedSource:
    """``fn(campaign) -> texts`` the campaign's content may quote back without claiming them."""
    if fn not in _quoted_sources:
        _quoted_sources.append(fn)
    return fn


def unregister_quoted_source(fn: QuotedSource) -> None:
    if fn in _quoted_sources:
        _quoted_sources.remove(fn)


def quoted_texts(campaign: Any) -> list[str]:
    """Every registered quoted text of ``campaign`` (e.g. its brief's constraints), non-empty."""
    return [text for source in _quoted_sources for text in source(campaign) if text and text.strip()]


_QUOTE_WORD = re.compile(r"[^\W_]+|[%$€£]", re.UNICODE)
_SEP = r"[\W_]+"  # whatever stands between two words of a quote: spaces, punctuation, quotes
_ELLIPSIS = r"\s*(?:…|\.\.\.)"
MIN_TRUNCATED_QUOTE_WORDS = 3  # "No guarantees of…" is a quote; "No…" could be anything
MAX_QUOTE_WORDS = 60  # generators shorten quotes well before this; it bounds the pattern


def _quote_pattern(sentence: str) -> str | None:
    """A pattern matching ``sentence`` quoted in full, or its first words cut off by an ellipsis
    (the template generator shortens long constraints with "…"), ignoring case and punctuation."""
    found = _QUOTE_WORD.findall(sentence)[:MAX_QUOTE_WORDS]
    if not found:
        return None
    # each word with the separator before it: none needed next to a symbol ("100%", "$5")
    parts = [re.escape(found[0])] + [
        (r"[\W_]*" if not (a + b).isalnum() else _SEP) + re.escape(b) for a, b in itertools.pairwise(found)
    ]
    full = "".join(parts)
    if len(parts) <= MIN_TRUNCATED_QUOTE_WORDS:
        return rf"(?<!\w){full}(?!\w)"
    # w1 w2 w3 (w4 (w5 …)?)? followed by an ellipsis
    optional = ""
    for part in reversed(parts[MIN_TRUNCATED_QUOTE_WORDS:]):
        optional = f"(?:{part}{optional})?"
    truncated = "".join(parts[:MIN_TRUNCATED_QUOTE_WORDS]) + optional + _ELLIPSIS
    return rf"(?<!\w)(?:{full}(?!\w)|{truncated})"


def strip_quoted(text: str, quoted: Iterable[str] = ()) -> str:
    """``text`` without the passages that quote one of ``quoted`` (each split into sentences and
    clauses), so a constraint repeated back is not read as a claim."""
    text = text or ""
    for source in quoted:
        for sentence in re.split(r"(?<=[.!?;])\s+|\n+", source or ""):
            pattern = _quote_pattern(sentence)
            if pattern:
                text = re.sub(pattern, " ", text, flags=re.IGNORECASE)
    return text


# A negation, then at most two words (not a conjunction, which starts a new claim: "no fees and
# guaranteed savings" still guarantees), then the claim; punctuation ends the clause.
_NEGATION = (
    r"(?:no|not|never|without|nor|cannot|can[\u2019']t|don[\u2019']t|doesn[\u2019']t|won[\u2019']t|mustn[\u2019']t|"
    r"shouldn[\u2019']t|isn[\u2019']t|aren[\u2019']t|do\s+not|does\s+not|will\s+not|must\s+not|should\s+not|"
    r"avoid(?:s|ing)?|refrain\s+from)"
)
_NEGATED_BEFORE = re.compile(
    rf"(?<!\w){_NEGATION}(?:\s+(?!(?:and|or|but|yet|so|plus|then|while)\b)[\w\u2019'-]+){{0,2}}[\s\"\u201c\u201d\u2018]+$",
    re.IGNORECASE,
)


def _asserted_phrases(text: str, patterns: Iterable[tuple[str, str]]) -> list[str]:
    """Labels of ``patterns`` found at least once not under a negation."""
    found = []
    for label, pattern in patterns:
        for match in re.finditer(pattern, text, flags=re.IGNORECASE):
            # the clause before the claim: a negation and two words fit well within 80 characters
            if not _NEGATED_BEFORE.search(text, max(0, match.start() - 80), match.start()):
                found.append(label)
                break
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


def assess_text_claims(text: str, *, quoted: Iterable[str] = ()) -> list[Finding]:
    """Claims a reviewer must see before approving: absolute, medical and income claims, and a
    medical or income claim without a disclosure. Pure; strategy and creative call it through
    ``assess_risk(texts=...)`` (which leaves out what quotes the campaign's ``quoted_texts``) or
    directly for a preview, passing the brief's constraints as ``quoted``. A claim under a negation
    ("no guarantees of savings") is not a claim."""
    text = strip_quoted(text or "", quoted)
    findings: list[Finding] = []
    absolute = _asserted_phrases(text, ABSOLUTE_CLAIMS)
    if absolute:
        findings.append(
            Finding(
                "claims.absolute",
                "high",
                "Absolute claim(s) nobody can promise: " + ", ".join(f"“{p}”" for p in absolute) + ".",
            )
        )
    medical = _asserted_phrases(text, MEDICAL_CLAIMS)
    if medical:
        findings.append(
            Finding(
                "claims.medical",
                "high",
                "Medical or health claim(s): " + ", ".join(f"“{p}”" for p in medical) + ".",
            )
        )
    income = _asserted_phrases(text, INCOME_CLAIMS)
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
