"""Recognise automatic replies (out of office, vacation) so they never count as real replies.

Signals, strongest first: RFC 3834 ``Auto-Submitted`` other than ``no``; the de-facto
``X-Autoreply`` / ``X-Autorespond`` / ``X-Auto-Response-Suppress`` headers; ``Precedence:
auto_reply|bulk|junk``; and subject lines mail clients use for such replies, in several languages.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

AUTO_SUBJECT = re.compile(
    r"^\s*(automatic reply|auto[- ]?reply|autoreply|out of (the )?office|ooo\b|away from (the )?office|"
    r"on vacation|vacation reply|abwesenheitsnotiz|automatische antwort|r[ée]ponse automatique|"
    r"absence|respuesta autom[aá]tica|fuera de la oficina|risposta automatica|automatisch antwoord)",
    re.IGNORECASE,
)


def is_auto_reply(headers: Mapping[str, str], subject: str = "") -> bool:
    lower = {k.lower(): (v or "").strip().lower() for k, v in headers.items()}
    auto_submitted = lower.get("auto-submitted")
    if auto_submitted and auto_submitted != "no":
        return True
    if any(k in lower for k in ("x-autoreply", "x-autorespond", "x-auto-response-suppress")):
        return True
    if lower.get("precedence") in {"auto_reply", "bulk", "junk"}:
        return True
    return bool(AUTO_SUBJECT.search(subject or ""))
