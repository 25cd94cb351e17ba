"""An email as the inbox stores it: headers, the text (HTML-only mail turned into text), cut at
``AICMO_REPLY_MAX_TEXT_BYTES``, attachments named but never stored, and a note saying what was
left out (shown in the thread). Pure: no database."""

from __future__ import annotations

import email.policy
import re
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import getaddresses, parsedate_to_datetime
from html.parser import HTMLParser

from django.conf import settings

__all__ = ["ParsedEmail", "embedded_message_ids", "message_ids", "parse_email"]

MESSAGE_ID = re.compile(r"<[^<>\s]+@[^<>\s]+>")
# A bounce quotes the original message's headers (message/rfc822, text/rfc822-headers, or plain text).
QUOTED_MESSAGE_ID = re.compile(r"^\s*Message-ID:\s*(<[^<>\s]+@[^<>\s]+>)", re.IGNORECASE | re.MULTILINE)
_BLOCKS = {"p", "div", "br", "tr", "li", "h1", "h2", "h3", "h4", "table", "blockquote", "hr"}


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("style", "script", "head"):
            self.skip += 1
        elif tag in _BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in ("style", "script", "head") and self.skip:
            self.skip -= 1
        elif tag in _BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data):
        if not self.skip:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    text = "".join(parser.parts)
    return re.sub(r"\n\s*\n\s*\n+", "\n\n", re.sub(r"[ \t]+", " ", text)).strip()


def message_ids(value: str) -> list[str]:
    return MESSAGE_ID.findall(value or "")


@dataclass
class ParsedEmail:
    message: EmailMessage
    from_header: str
    from_email: str
    subject: str
    text: str
    headers: dict[str, str]
    message_id: str
    in_reply_to: str
    references: list[str]
    date: datetime | None
    raw_size: int
    truncated: bool = False
    attachments: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def size_note(self) -> str:
        return "; ".join(self.notes)[:500]

    @property
    def thread_ids(self) -> list[str]:
        """Message-IDs this email answers: In-Reply-To first, then References newest first."""
        seen: list[str] = []
        for value in [*message_ids(self.in_reply_to), *reversed(self.references)]:
            if value not in seen:
                seen.append(value)
        return seen


def _human_size(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB" if size >= 1_000_000 else f"{max(size // 1000, 1)} KB"


def _header(message: EmailMessage, name: str) -> str:
    try:
        value = message.get(name)
    except (ValueError, IndexError, AttributeError):  # a malformed header: keep what is readable
        value = message.get_all(name, failobj=[""])[0] if message.get_all(name) else ""
    return str(value or "")


def _part_text(part) -> str:
    try:
        content = part.get_content()
    except (LookupError, UnicodeError, AssertionError, KeyError):
        content = part.get_payload(decode=True) or b""
    if isinstance(content, bytes):  # text/rfc822-headers comes back as bytes
        return content.decode("utf-8", errors="replace")
    if isinstance(content, list):  # message/delivery-status: its header blocks
        return "\n".join(str(item) for item in content)
    return str(content)


def embedded_message_ids(message: EmailMessage, text: str = "") -> list[str]:
    """The Message-IDs a delivery status notification quotes from the email it returns."""
    found: list[str] = []
    for part in message.walk():
        kind = part.get_content_type()
        if kind == "message/rfc822":
            for inner in part.iter_parts() if part.is_multipart() else []:
                found.extend(message_ids(str(inner.get("Message-ID", ""))))
        elif kind in ("text/rfc822-headers", "message/delivery-status", "text/plain"):
            found.extend(QUOTED_MESSAGE_ID.findall(_part_text(part) if kind != "text/plain" else ""))
    found.extend(QUOTED_MESSAGE_ID.findall(text))
    return list(dict.fromkeys(found))


def parse_email(raw: bytes, *, full_size: int | None = None) -> ParsedEmail:
    """``raw``: the email's bytes (maybe only its first bytes: ``full_size`` is then the whole)."""
    raw_size = max(full_size or 0, len(raw))
    message: EmailMessage = BytesParser(policy=email.policy.default).parsebytes(raw)
    plain, html, attachments = "", "", []
    for part in message.walk():
        if part.is_multipart() or part.get_content_type().startswith("message/"):
            continue
        filename = part.get_filename()
        disposition = (part.get_content_disposition() or "").lower()
        if filename or disposition == "attachment":
            attachments.append(filename or part.get_content_type())
            continue
        kind = part.get_content_type()
        if kind == "text/plain" and not plain:
            plain = _part_text(part)
        elif kind == "text/html" and not html:
            html = _part_text(part)
    text = plain or (html_to_text(html) if html else "")
    from_header = _header(message, "From")
    addresses = getaddresses([from_header])
    from_email = addresses[0][1].lower() if addresses else ""
    headers = {}
    for name in message:
        headers.setdefault(name, _header(message, name))
    parsed = ParsedEmail(
        message=message,
        from_header=from_header,
        from_email=from_email,
        subject=_header(message, "Subject"),
        text="",
        headers=headers,
        message_id=(message_ids(_header(message, "Message-ID")) or [""])[0],
        in_reply_to=_header(message, "In-Reply-To"),
        references=message_ids(_header(message, "References")),
        date=_date(_header(message, "Date")),
        raw_size=raw_size,
        attachments=attachments,
    )
    limit = settings.AICMO_REPLY_MAX_TEXT_BYTES
    encoded = text.encode("utf-8")
    if full_size is not None and full_size > len(raw):
        parsed.truncated = True
        parsed.notes.append(
            f"Email of {_human_size(raw_size)}: only its first {_human_size(len(raw))} was read"
        )
    if len(encoded) > limit:
        text = encoded[:limit].decode("utf-8", errors="ignore")
        parsed.truncated = True
        parsed.notes.append(f"Text of {_human_size(len(encoded))} cut to {_human_size(limit)}")
    parsed.text = text
    if attachments:
        names = ", ".join(attachments[:5]) + (
            f" and {len(attachments) - 5} more" if len(attachments) > 5 else ""
        )
        parsed.notes.append(f"Attachments not stored: {names}")
    elif full_size is not None and full_size > len(raw):
        parsed.notes.append("Attachments, if any, not stored")
    return parsed


def _date(value: str) -> datetime | None:
    try:
        return parsedate_to_datetime(value) if value else None
    except (TypeError, ValueError, IndexError):
        return None
