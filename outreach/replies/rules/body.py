"""The readable text of a mail: its text/plain body, else its HTML converted to text."""

from __future__ import annotations

from email.message import EmailMessage, Message

from .html_text import html_to_text
from .quoted import strip_quoted

MAX_CHARS = 200_000  # a reply's new text is short; a 5 MB body must not cost seconds of regexes


def _content(part: Message) -> str:
    try:
        content = part.get_content()  # type: ignore[attr-defined]
    except (LookupError, KeyError, AttributeError, ValueError):
        # An unknown or lying charset: decode what we can rather than lose the reply.
        payload = part.get_payload(decode=True) or b""
        content = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else str(payload)
    return content if isinstance(content, str) else ""


def _body_part(message: EmailMessage, kind: str) -> Message | None:
    if message.get_content_maintype() == "multipart":
        try:
            return message.get_body(preferencelist=(kind,))
        except (AttributeError, KeyError):
            return None
    return message if message.get_content_type() == f"text/{kind}" else None


def body_text(message: EmailMessage) -> tuple[str, bool]:
    """(text, came from HTML)."""
    plain = _body_part(message, "plain")
    if plain is not None:
        text = _content(plain)[:MAX_CHARS]
        if text.strip():
            return text, False
    html = _body_part(message, "html")
    if html is not None:
        return html_to_text(_content(html)[:MAX_CHARS]), True
    return "", False


def new_text(message: EmailMessage) -> str:
    """What the writer wrote in this mail: the body without quoted history, signature or disclaimer."""
    text, _ = body_text(message)
    return strip_quoted(text)
