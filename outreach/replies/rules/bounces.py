"""Delivery status notifications: RFC 3464 reports (``multipart/report; report-type=delivery-status``)
and the plain-text ones some mail systems still send (Exim, qmail, older Exchange, Gmail's own).

From a report: the failed recipient (``Final-Recipient``, else ``Original-Recipient``), ``Action``,
``Status`` and ``Diagnostic-Code``. Hard = a permanent failure (status 5.x.x, or SMTP 5xx), soft = a
temporary one (4.x.x, ``Action: delayed``) or a full mailbox (x.2.2: usually cleared within days,
whatever class the server gave it). A report whose actions are all delivered/relayed/expanded is no
bounce. The returned message's Message-ID is kept so the bounce can be matched to what we sent."""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.message import EmailMessage, Message
from email.utils import parseaddr

STATUS = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")
SMTP_CODE = re.compile(r"(?<![\d.])([45])[0-9]{2}(?![\d.])")
EMAIL = re.compile(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
MESSAGE_ID = re.compile(r"^message-id:\s*(<[^>]+>)", re.IGNORECASE | re.MULTILINE)
SUCCESS_ACTIONS = {"delivered", "relayed", "expanded"}
HARD_PHRASES = re.compile(
    r"(user unknown|unknown user|no such user|does not exist|doesn'?t exist|address (couldn'?t|could "
    r"not) be found|recipient address rejected|mailbox unavailable|invalid recipient|no mailbox|"
    r"account (has been )?disabled|address rejected|unrouteable|unknown recipient|"
    r"empfänger(adresse)? (unbekannt|existiert nicht)|adresse introuvable|n'existe pas|"
    r"destinataire inconnu|no existe|usuario desconocido|permanent(ly)? fail|permanent error)",
    re.IGNORECASE,
)
SOFT_PHRASES = re.compile(
    r"(mailbox (is )?full|over ?quota|quota exceeded|temporar(y|ily)|try again later|will retry|"
    r"delayed|deferred|postfach (ist )?voll|vorübergehend|boîte (aux lettres )?pleine|"
    r"temporaire|buzón lleno|temporal)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Bounce:
    kind: str  # "hard" or "soft" (BounceKind values)
    recipient: str
    status: str = ""  # the enhanced status code, e.g. 5.1.1
    action: str = ""
    diagnostic: str = ""
    original_message_id: str = ""
    reason: str = ""


def _kind(status: str, action: str, text: str) -> str:
    if action == "delayed":
        return "soft"
    match = STATUS.search(status or "")
    if match:
        if match.group(2) == "2" and match.group(3) == "2":  # mailbox full
            return "soft"
        return "hard" if match.group(1) == "5" else "soft"
    if SOFT_PHRASES.search(text):
        return "soft"
    code = SMTP_CODE.search(text)
    if code:
        return "hard" if code.group(1) == "5" else "soft"
    return "hard"


def _address(field: str) -> str:
    """``rfc822; bob@example.com`` -> bob@example.com."""
    value = field.split(";", 1)[-1].strip()
    return parseaddr(value)[1].lower() or value.strip("<>").lower()


def _original_message_id(message: Message) -> str:
    for part in message.walk():
        content_type = part.get_content_type()
        if content_type == "text/rfc822-headers":
            payload = part.get_payload(decode=True) or b""
            found = MESSAGE_ID.search(payload.decode("utf-8", "replace"))
            if found:
                return found.group(1)
        elif content_type == "message/rfc822":
            inner = part.get_payload()
            inner = inner[0] if isinstance(inner, list) and inner else inner
            if isinstance(inner, Message) and inner.get("Message-ID"):
                return str(inner["Message-ID"]).strip()
    return ""


def _inline_message_id(text: str) -> str:
    """Plain bounces paste the returned message below the explanation, headers included."""
    found = MESSAGE_ID.search(text)
    return found.group(1) if found else ""


def parse_delivery_report(message: EmailMessage) -> Bounce | None:
    """The first failed (else delayed) recipient of a multipart/report DSN; None when every
    recipient was delivered or the report has no per-recipient fields."""
    report = next((p for p in message.walk() if p.get_content_type() == "message/delivery-status"), None)
    if report is None:
        return None
    blocks = [b for b in (report.get_payload() or []) if isinstance(b, Message)]
    recipients = [b for b in blocks if b.get("Final-Recipient") or b.get("Original-Recipient")]
    actions = [(b.get("Action") or "").strip().lower() for b in recipients]
    if not recipients or all(a in SUCCESS_ACTIONS for a in actions):
        return None
    order = {"failed": 0, "delayed": 1}
    block = min(recipients, key=lambda b: order.get((b.get("Action") or "").strip().lower(), 2))
    action = (block.get("Action") or "").strip().lower()
    status = (block.get("Status") or "").strip()
    diagnostic = " ".join((block.get("Diagnostic-Code") or "").split())
    recipient = _address(str(block.get("Final-Recipient") or block.get("Original-Recipient")))
    kind = _kind(status, action, diagnostic)
    return Bounce(
        kind=kind,
        recipient=recipient,
        status=status,
        action=action,
        diagnostic=diagnostic[:500],
        original_message_id=_original_message_id(message),
        reason=f"delivery report: Action {action or '?'}, Status {status or '?'} for {recipient}",
    )


def parse_plain_bounce(message: EmailMessage, text: str, *, ignore: set[str], evidence: str) -> Bounce | None:
    """A bounce sent as plain mail: the failed address from ``X-Failed-Recipients`` (Exim) or the
    first address in the text that is not the mail system's own or ours; the status or SMTP code
    from the text. Needs a failure phrase or a status code in the text, so a person's "Re: Returned
    mail" is not taken for one."""
    has_status = STATUS.search(text) or SMTP_CODE.search(text)
    if not (HARD_PHRASES.search(text) or SOFT_PHRASES.search(text) or has_status):
        return None
    recipient = ""
    failed_header = str(message.get("X-Failed-Recipients") or "")
    if failed_header:
        recipient = parseaddr(failed_header.split(",")[0])[1].lower()
    if not recipient:
        for candidate in EMAIL.findall(text):
            address = candidate.lower().rstrip(".")
            local = address.split("@")[0]
            if address in ignore or local in {"mailer-daemon", "postmaster", "mail-daemon"}:
                continue
            recipient = address
            break
    status_match = STATUS.search(text)
    status = status_match.group(0) if status_match else ""
    delayed = bool(re.search(r"\b(delay(ed)?|verz[öo]gert|retard[ée]?|retrasad[oa])\b", text, re.I))
    kind = _kind(status, "delayed" if delayed and not status.startswith("5") else "", text)
    return Bounce(
        kind=kind,
        recipient=recipient,
        status=status,
        action="delayed" if delayed else "failed",
        diagnostic="",
        original_message_id=_original_message_id(message) or _inline_message_id(text),
        reason=f"plain delivery failure ({evidence}), status {status or 'none given'} for "
        f"{recipient or 'an unnamed recipient'}",
    )
