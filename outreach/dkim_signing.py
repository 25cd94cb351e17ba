"""DKIM signatures (RFC 6376, dkimpy) for the emails our SMTP transport sends: one key per sending
domain, the signing domain the From address's own, so DMARC finds it aligned.

Keys come from ``AICMO_DKIM_KEYS`` — ``{"mail.acme.example": {"selector": "s1", "key_path":
"/etc/aicmo/dkim/acme.pem"}}`` (or ``"private_key"``: the PEM itself); the environment gives it as
``domain=selector:/path/key.pem,…`` — and are looked up in ``dkim_key_for`` only, the one place a
per-domain key store would replace. A subdomain without a key of its own is signed with its parent
domain's key (relaxed alignment: ``d=acme.example`` passes DMARC for ``From: …@mail.acme.example``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import dkim
from django.conf import settings

from .addresses import address_domain

__all__ = ["SIGNED_HEADERS", "DkimKey", "dkim_key_for", "dkim_sign"]
logger = logging.getLogger(__name__)

# What a receiver must be able to trust was ours: the seven the inbox providers judge (From, To,
# Subject, Date, Message-ID, the unsubscribe pair), the reply address, the complaint-loop id, and the
# MIME headers that say how to read the body. A listed header that is absent is signed as absent
# (no one can add it later); From is listed twice so that a second From cannot be added either.
SIGNED_HEADERS = (
    "From",
    "To",
    "Cc",
    "Subject",
    "Date",
    "Message-ID",
    "Reply-To",
    "List-Unsubscribe",
    "List-Unsubscribe-Post",
    "Feedback-ID",
    "MIME-Version",
    "Content-Type",
    "Content-Transfer-Encoding",
    "From",
)


@dataclass(frozen=True)
class DkimKey:
    domain: str
    selector: str
    private_key: bytes  # PEM, PKCS#1 or PKCS#8


def dkim_key_for(domain: str) -> DkimKey | None:
    """The key that signs mail from ``domain``: its own, else the nearest parent domain's (never a
    bare top-level domain's). None: no key configured, the email goes unsigned."""
    configured = {d.lower(): spec for d, spec in (getattr(settings, "AICMO_DKIM_KEYS", None) or {}).items()}
    labels = domain.lower().rstrip(".").split(".")
    for start in range(max(len(labels) - 1, 0)):
        candidate = ".".join(labels[start:])
        spec = configured.get(candidate)
        if spec is None:
            continue
        pem = spec.get("private_key") or Path(spec["key_path"]).read_bytes()
        return DkimKey(
            domain=candidate,
            selector=spec["selector"],
            private_key=pem.encode() if isinstance(pem, str) else pem,
        )
    return None


def dkim_sign(raw: bytes) -> bytes:
    """``raw`` (CRLF line ends) with a DKIM-Signature prepended when its From domain has a key;
    unchanged, with a warning, when it has none (readiness checks report the missing key)."""
    from_domain = address_domain(_header_value(raw, b"from"))
    key = dkim_key_for(from_domain) if from_domain else None
    if key is None:
        logger.warning("no DKIM key for %s: sent unsigned", from_domain or "(no From domain)")
        return raw
    signature = dkim.sign(
        raw,
        key.selector.encode("ascii"),
        key.domain.encode("ascii"),
        key.private_key,
        # relaxed/relaxed: survives the header refolding and trailing-space changes relays make
        canonicalize=(b"relaxed", b"relaxed"),
        include_headers=[h.lower().encode("ascii") for h in SIGNED_HEADERS],
    )
    return signature + raw


def _header_value(raw: bytes, name: bytes) -> str:
    """The first ``name`` header of a raw message, unfolded; decoded as ASCII (an encoded-word
    display name stays encoded, the address itself is ASCII)."""
    head = raw.split(b"\r\n\r\n", 1)[0]
    value: list[bytes] = []
    for line in head.split(b"\r\n"):
        if value and line[:1] in (b" ", b"\t"):
            value.append(line)
        elif value:
            break
        elif line.lower().startswith(name + b":"):
            value.append(line[len(name) + 1 :])
    return b"".join(value).decode("ascii", "replace").strip()
