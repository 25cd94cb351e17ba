"""Pure functions that turn an address or domain as people type it into the form we match on.

The normalized email is a lead's identity inside a campaign and what suppression and consent match
against: trimmed, lower-cased as a whole (mailbox providers treat the local part
case-insensitively in practice), the domain IDNA-encoded, and for providers known to ignore them
(Gmail) dots and ``+tags`` removed from the local part. No ORM and no network here.
"""

from __future__ import annotations

import hashlib
import re

import idna
from email_validator import EmailNotValidError, validate_email

# Providers that deliver ``j.o.e+news@gmail.com`` to ``joe@gmail.com``; the key is mapped to the value.
DOT_AND_TAG_BLIND_DOMAINS: dict[str, str] = {"gmail.com": "gmail.com", "googlemail.com": "gmail.com"}

LOCAL_PART_MAX_LENGTH = 64
EMAIL_MAX_LENGTH = 254
DOMAIN_MAX_LENGTH = 253
LABEL_MAX_LENGTH = 63  # one label of a domain name

# email-validator refuses these as (parts of) a domain even without DNS checks.
SPECIAL_USE_TLDS = frozenset({"arpa", "invalid", "local", "localhost", "onion", "test"})

# A deliberately strict subset of RFC 5322 that email-validator always accepts: dot-atom local
# part, LDH labels, an alphabetic TLD. Addresses outside it (quoted local parts, Unicode, odd
# labels) take the slow path through email-validator itself, so the answer never differs, only
# the speed (the regex is far cheaper per address than email-validator; docs/PERFORMANCE.md).
FAST_ADDRESS_LABEL_MIDDLE = f"[a-z0-9-]{{0,{LABEL_MAX_LENGTH - 2}}}"
FAST_ADDRESS_TLD = f"[a-z]{{2,{LABEL_MAX_LENGTH}}}"
FAST_ADDRESS = re.compile(
    r"[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    rf"@(?:[a-z0-9](?:{FAST_ADDRESS_LABEL_MIDDLE}[a-z0-9])?\.)+{FAST_ADDRESS_TLD}",
)
DOUBLE_DASH_LABEL = re.compile(r"(?:^|\.)..--")


class InvalidEmailError(ValueError):
    """The text is not an email address we can send to; ``str(err)`` says why."""


def normalize_domain(raw: str) -> str:
    """``" Bücher.Example "`` → ``"xn--bcher-kva.example"``; ``googlemail.com`` → ``gmail.com``."""
    domain = (raw or "").strip().lstrip("@").rstrip(".").lower()
    if not domain:
        raise InvalidEmailError("The domain is empty.")
    if not domain.isascii():
        try:
            domain = idna.encode(domain, uts46=True).decode("ascii")
        except idna.IDNAError as exc:
            raise InvalidEmailError(
                f"The domain {raw.strip()!r} is not a valid internationalized name."
            ) from exc
    return DOT_AND_TAG_BLIND_DOMAINS.get(domain, domain)


def normalize_email(raw: str) -> str:
    """The identity form of an address. Raises InvalidEmailError when there is no address to normalize.

    Idempotent: ``normalize_email(normalize_email(x)) == normalize_email(x)``.
    """
    address = (raw or "").strip()
    local, at, domain = address.rpartition("@")
    if not at or not local:
        raise InvalidEmailError("An email address needs a part before and after a single @.")
    domain = normalize_domain(domain)
    local = local.lower()
    if domain in DOT_AND_TAG_BLIND_DOMAINS.values():
        local = local.split("+", 1)[0].replace(".", "")
        if not local:
            raise InvalidEmailError("The part before the @ is empty once dots and +tags are removed.")
    return f"{local}@{domain}"


def email_domain(normalized_email: str) -> str:
    return normalized_email.rpartition("@")[2]


def erased_email_digest(normalized_email: str) -> str:
    """What an erasure keeps of an address: enough to recognise it again, nothing to read back."""
    return hashlib.sha256(normalized_email.encode("utf-8")).hexdigest()


def _fast_path_accepts(lowered: str) -> bool:
    if len(lowered) > EMAIL_MAX_LENGTH or not FAST_ADDRESS.fullmatch(lowered):
        return False
    local, _, domain = lowered.rpartition("@")
    if len(local) > LOCAL_PART_MAX_LENGTH or len(domain) > DOMAIN_MAX_LENGTH:
        return False
    tld = domain.rpartition(".")[2]
    return tld not in SPECIAL_USE_TLDS and not DOUBLE_DASH_LABEL.search(domain)


def validate_and_normalize_email(raw: str) -> str:
    """Check the syntax (no network) and return the normalized address, or raise InvalidEmailError.

    Uses email-validator with ``check_deliverability=False`` for anything outside the fast path.
    """
    address = (raw or "").strip()
    if not address:
        raise InvalidEmailError("The email address is empty.")
    lowered = address.lower()
    if address.isascii() and _fast_path_accepts(lowered):
        # Already trimmed, lower-case ASCII with a valid domain: only the Gmail rule is left to apply
        # (the same result as normalize_email, without re-parsing; the tests hold them equal).
        if lowered.rpartition("@")[2] in DOT_AND_TAG_BLIND_DOMAINS:
            return normalize_email(lowered)
        return lowered
    try:
        validated = validate_email(address, check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidEmailError(str(exc)) from exc
    return normalize_email(f"{validated.local_part}@{validated.ascii_domain}")
