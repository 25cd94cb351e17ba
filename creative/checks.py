"""Quality checks on creative before review: a registry of small functions returning findings.

Each check declares the channels/platforms it applies to and returns zero or more `Finding`s.
Errors block approval unless an operator overrides them with a rationale; warnings inform.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field

from .personalization import merge_fields_in, unrecognised_template_syntax

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True)
class Finding:
    code: str
    severity: str
    message: str

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class CreativeContent:
    """The text of one creative variant, whatever its platform."""

    platform: str  # email, linkedin, instagram, x
    subject: str = ""
    preheader: str = ""
    body: str = ""
    body_html: str = ""
    cta: str = ""
    hashtags: tuple[str, ...] = ()
    media_notes: str = ""

    def all_text(self) -> str:
        return "\n".join([self.subject, self.preheader, self.body, self.cta, " ".join(self.hashtags)])


@dataclass(frozen=True)
class CheckSettings:
    hashtag_limit_instagram: int = 30
    sender_postal_address: str = ""
    spam_phrases: tuple[str, ...] = field(default_factory=lambda: DEFAULT_SPAM_PHRASES)


Check = Callable[[CreativeContent, CheckSettings], Iterable[Finding]]
_REGISTRY: list[tuple[frozenset[str], Check]] = []


def register_check(*platforms: str) -> Callable[[Check], Check]:
    def decorate(fn: Check) -> Check:
        _REGISTRY.append((frozenset(platforms), fn))
        return fn

    return decorate


def run_checks(content: CreativeContent, settings: CheckSettings | None = None) -> list[Finding]:
    settings = settings or CheckSettings()
    findings: list[Finding] = []
    for platforms, check in _REGISTRY:
        if not platforms or content.platform in platforms:
            findings.extend(check(content, settings))
    return findings


def blocking(findings: Iterable[Finding]) -> list[Finding]:
    return [f for f in findings if f.severity == ERROR]


# --- length limits ---------------------------------------------------------------------------

URL = re.compile(r"https?://\S+|www\.\S+", re.IGNORECASE)
X_URL_LENGTH = 23  # X counts every link as 23 characters, whatever its length
LIMITS = {"x": 280, "linkedin": 3000, "instagram": 2200}


def post_text(content: CreativeContent) -> str:
    tags = " ".join(f"#{t.lstrip('#')}" for t in content.hashtags)
    return f"{content.body}\n\n{tags}".strip() if tags else content.body


def x_length(text: str) -> int:
    return len(URL.sub("x" * X_URL_LENGTH, text))


@register_check("x", "linkedin", "instagram")
def check_length(content: CreativeContent, settings: CheckSettings) -> Iterable[Finding]:
    limit = LIMITS[content.platform]
    text = post_text(content)
    length = x_length(text) if content.platform == "x" else len(text)
    if length > limit:
        how = " (links count as 23)" if content.platform == "x" else ""
        yield Finding("length", ERROR, f"{length} characters{how}; {content.platform} allows {limit}.")


@register_check("instagram")
def check_hashtag_count(content: CreativeContent, settings: CheckSettings) -> Iterable[Finding]:
    count = len(content.hashtags) + len(re.findall(r"(?<!\w)#\w+", content.body))
    if count > settings.hashtag_limit_instagram:
        yield Finding(
            "hashtags",
            ERROR,
            f"{count} hashtags; Instagram allows at most {settings.hashtag_limit_instagram}.",
        )


@register_check("email")
def check_subject(content: CreativeContent, settings: CheckSettings) -> Iterable[Finding]:
    if not content.subject.strip():
        yield Finding("subject_missing", ERROR, "The email has no subject line.")
    elif len(content.subject) > 78:
        yield Finding(
            "subject_long",
            WARNING,
            f"Subject is {len(content.subject)} characters; over ~78 it is cut off in most inboxes.",
        )


# --- merge fields ----------------------------------------------------------------------------


@register_check()
def check_merge_fields(content: CreativeContent, settings: CheckSettings) -> Iterable[Finding]:
    text = content.all_text() + "\n" + content.body_html
    for use in merge_fields_in(text):
        if not use.known:
            yield Finding(
                "merge_field_unknown",
                ERROR,
                f"Unknown merge field {{{{ {use.name} }}}}: it would render empty.",
            )
    for fragment in dict.fromkeys(unrecognised_template_syntax(text)):
        yield Finding(
            "merge_field_unresolved",
            ERROR,
            f"{fragment!r} is not a merge field and would be shown literally to the reader.",
        )


# --- spam and claims -------------------------------------------------------------------------

DEFAULT_SPAM_PHRASES = (
    "act now",
    "100% free",
    "buy now",
    "click here",
    "earn money",
    "free money",
    "limited time offer",
    "no strings attached",
    "once in a lifetime",
    "urgent",
    "winner",
    "cash bonus",
    "double your",
    "risk free",
    "risk-free",
    "no credit check",
    "this isn't spam",
    "dear friend",
)
RISKY_CLAIMS = (
    (re.compile(r"\bguarantee(d|s)?\b", re.I), "absolute claim ('guaranteed')"),
    (re.compile(r"\brisk[- ]free\b", re.I), "absolute claim ('risk-free')"),
    (re.compile(r"\b100\s?%", re.I), "absolute claim ('100%')"),
    (re.compile(r"\b(cure|cures|heal|treats?)\b", re.I), "medical claim"),
    (re.compile(r"\b(get rich|passive income|earn \$?\d)", re.I), "income claim"),
)


@register_check()
def check_spam_phrases(content: CreativeContent, settings: CheckSettings) -> Iterable[Finding]:
    text = content.all_text().lower()
    hits = [p for p in settings.spam_phrases if p in text]
    if hits:
        yield Finding(
            "spam_phrases", WARNING, "Spam-trigger phrases: " + ", ".join(repr(h) for h in hits) + "."
        )


@register_check()
def check_risky_claims(content: CreativeContent, settings: CheckSettings) -> Iterable[Finding]:
    text = content.all_text()
    for pattern, label in RISKY_CLAIMS:
        match = pattern.search(text)
        if match:
            yield Finding(
                "risky_claim", ERROR, f"Risky {label}: “{match.group(0)}” needs evidence or rewording."
            )


# --- email compliance (CAN-SPAM) -------------------------------------------------------------


@register_check("email")
def check_unsubscribe_and_address(content: CreativeContent, settings: CheckSettings) -> Iterable[Finding]:
    text = content.body + "\n" + content.body_html
    names = {use.name for use in merge_fields_in(text)}
    if "unsubscribe_url" not in names:
        yield Finding(
            "unsubscribe_missing",
            ERROR,
            "No unsubscribe link: add {{ unsubscribe_url }} to the body (CAN-SPAM, RFC 8058).",
        )
    if "sender_address" not in names and not (
        settings.sender_postal_address and settings.sender_postal_address in text
    ):
        yield Finding(
            "postal_address_missing",
            ERROR,
            "No sender postal address: add {{ sender_address }} to the body (CAN-SPAM).",
        )
