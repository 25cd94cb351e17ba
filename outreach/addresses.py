"""Address headers written and read the one way: a display name quoted when RFC 5322 needs it.

``Zoë Müller, Northwind Fleet <zoe@northwind.example>`` is not one address but two broken ones (the
comma separates addresses), and Django refuses the message ("Invalid address"). Written with
``format_address`` it is ``"Zoë Müller, Northwind Fleet" <zoe@northwind.example>``; Django then
encodes the non-ASCII name (RFC 2047) when it builds the header. ``split_address`` also reads the
unquoted form, so From values stored before the quoting still send.
"""

from __future__ import annotations

import re
from email.utils import getaddresses

__all__ = ["address_domain", "format_address", "split_address"]

# RFC 5322 "specials" (and the quote and backslash themselves): a display name holding any of them
# must be a quoted-string.
_SPECIALS = re.compile(r'[()<>\[\]:;@\\,."]')


def format_address(name: str, address: str) -> str:
    """``("Zoë Müller, Northwind", "zoe@x.example")`` → ``'"Zoë Müller, Northwind" <zoe@x.example>'``.
    Unlike ``email.utils.formataddr`` it leaves non-ASCII names unencoded: the stored value stays
    readable, and the header is encoded once, when the email is built."""
    name = " ".join((name or "").split())  # no line breaks in a header
    if not name:
        return address
    if _SPECIALS.search(name):
        name = '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return f"{name} <{address}>"


def split_address(header: str) -> tuple[str, str]:
    """``(display name, address)`` of one From-like value, quoted or not: the address is the last
    ``<…>`` (or the whole value when there is none), the name whatever precedes it."""
    header = (header or "").strip()
    before, bracket, rest = header.rpartition("<")
    if bracket and rest.endswith(">"):
        name = before.strip()
        address = rest[:-1].strip()
        parsed = getaddresses([f"{name} <{address}>"])
        if len(parsed) == 1 and parsed[0][1] == address:
            name = parsed[0][0]  # a quoted-string, unquoted and unescaped
        elif len(name) >= 2 and name[0] == name[-1] == '"':
            name = name[1:-1]
        return name, address
    return "", header


def address_domain(header: str) -> str:
    """The lower-case domain of a From-like value; empty when it has none."""
    _, at, domain = split_address(header)[1].rpartition("@")
    return domain.strip().lower() if at else ""
