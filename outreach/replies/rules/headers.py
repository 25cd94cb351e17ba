"""What the headers say about who wrote a mail: a machine (RFC 3834 auto-replies, bulk senders) or a
mail system reporting a failed delivery.

Signals, strongest first: RFC 3834 ``Auto-Submitted`` other than ``no``; the de-facto
``X-Autoreply`` / ``X-Autorespond`` / ``X-Auto-Response-Suppress`` headers; ``Precedence:
auto_reply|bulk|junk``; and subject lines mail clients use for automatic replies, in several
languages. This is the one place that rule lives (``outreach.autoreply.is_auto_reply`` calls it)."""

from __future__ import annotations

import re
from collections.abc import Mapping

AUTO_SUBJECT = re.compile(
    r"^\s*(automatic reply|auto[- ]?reply|autoreply|auto[- ]?response|out of (the )?office|ooo\b|"
    r"away from (the )?office|on vacation|vacation reply|abwesenheitsnotiz|abwesenheit|"
    r"automatische antwort|r[ée]ponse automatique|absence|absent\b|respuesta autom[aá]tica|"
    r"fuera de la oficina|ausencia|risposta automatica|automatisch antwoord)",
    re.IGNORECASE,
)
OOO_SUBJECT = re.compile(
    r"(out of (the )?office|\booo\b|away from (the )?office|on vacation|vacation reply|abwesenheit|"
    r"nicht im b[üu]ro|absence|absent\b|en cong[ée]s?|fuera de la oficina|ausencia|de vacaciones)",
    re.IGNORECASE,
)
BOUNCE_FROM = re.compile(r"^(mailer-daemon|postmaster|mail-daemon|mailerdaemon)@", re.IGNORECASE)
BOUNCE_SUBJECT = re.compile(
    r"(undeliver(ed|able)|returned mail|delivery status notification|mail delivery (failed|failure|"
    r"subsystem)|failure notice|delivery (has )?failed|non[- ]?delivery|could not be delivered|"
    r"unzustellbar|nicht zustellbar|r[üu]ckl[äa]ufer|fehlgeschlagen|non remis|non distribu[ée]|"
    r"[ée]chec de (la )?(remise|livraison)|no se puede entregar|no entregado|devuelto|"
    r"error de entrega|warning: message .* delayed|delivery delayed|zustellung verz[öo]gert)",
    re.IGNORECASE,
)


def auto_reply_signal(headers: Mapping[str, str], subject: str = "") -> str:
    """Why the mail is an automatic reply ("header Auto-Submitted: auto-replied", …), or ""."""
    lower = {k.lower(): (v or "").strip() for k, v in headers.items()}
    auto_submitted = lower.get("auto-submitted", "")
    if auto_submitted and auto_submitted.lower() != "no":
        return f"header Auto-Submitted: {auto_submitted}"
    for name in ("x-autoreply", "x-autorespond", "x-auto-response-suppress"):
        if name in lower:
            return f"header {name.title()}: {lower[name]}"
    precedence = lower.get("precedence", "").lower()
    if precedence in {"auto_reply", "bulk", "junk"}:
        return f"header Precedence: {precedence}"
    if subject and AUTO_SUBJECT.search(subject):
        return f"subject {subject.strip()[:60]!r}"
    return ""


def is_bounce_envelope(from_address: str, subject: str) -> str:
    """Why the mail looks like a delivery report sent as plain mail, or ""."""
    if BOUNCE_FROM.match(from_address or ""):
        return f"sender {from_address}"
    if subject and BOUNCE_SUBJECT.search(subject):
        return f"subject {subject.strip()[:60]!r}"
    return ""
