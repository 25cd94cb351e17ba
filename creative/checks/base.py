"""The check registry and the types every check shares: a check is a small function that takes the
text of one variant and the settings and returns zero or more findings.

Errors block approval unless an operator overrides them with a rationale; warnings inform.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field

ERROR = "error"
WARNING = "warning"
# A note for reviewers (the spam score of a passing email): neither blocks nor warns.
INFO = "info"

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

    def reader_fields(self) -> list[tuple[str, str]]:
        """The fields a reader sees as prose, with their names (for messages); HTML is derived
        from the body and hashtags are checked on their own."""
        return [
            ("subject", self.subject),
            ("preheader", self.preheader),
            ("body", self.body),
            ("call to action", self.cta),
        ]


@dataclass(frozen=True)
class CheckSettings:
    hashtag_limit_instagram: int = 30
    sender_postal_address: str = ""
    spam_phrases: tuple[str, ...] = field(default_factory=lambda: DEFAULT_SPAM_PHRASES)
    # Inboxes show about 78 characters of a subject on a desktop and fewer on a phone.
    subject_max_chars: int = 78
    # A hashtag longer than this is a sentence squeezed together, not a tag people search for.
    hashtag_max_chars: int = 30
    # Subjects and preheaders also name the variant in admin lists, sequence steps and operator
    # tasks, where a merge field shows as raw "{{ … }}"; keep them plain text unless an agency
    # deliberately personalises subjects.
    merge_fields_in_subject: bool = False
    # The campaign's brief constraints ("No guarantees of savings"): copy that quotes them back is not
    # making the claim they forbid (campaigns.risk.quoted_texts).
    quoted: tuple[str, ...] = ()
    # SpamAssassin's local score above this fails an email (checks/spam.py). None: not scored —
    # scoring is slow (docs/PERFORMANCE.md), so it runs only where the service passes
    # AICMO_SPAM_SCORE_MAX.
    spam_score_max: float | None = None


Check = Callable[[CreativeContent, CheckSettings], Iterable[Finding]]
_REGISTRY: list[tuple[frozenset[str], Check]] = []


def register_check(*platforms: str) -> Callable[[Check], Check]:
    """Register a check for these platforms (none: every platform)."""

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
