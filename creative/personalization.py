"""Merge fields in creative text, rendered without executing anything from user text.

Only two forms are recognised: ``{{ field }}`` and ``{{ field|default:"fallback" }}``. Anything
else — ``{% for %}`` blocks, filters, attribute access, Django or Jinja syntax of any kind — is
left in the output literally. This is deliberately not a template engine: creative text and lead
data both come from people outside the agency, and neither may run code.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from dataclasses import dataclass

# Fields a creative may use. Lead fields come from the lead; sender fields from the campaign. No
# "city": a lead has none, so it always rendered blank ("Hi from !"); a creative using it now fails
# the merge-field check instead.
LEAD_FIELDS = frozenset(
    {"first_name", "last_name", "full_name", "email", "company", "title", "industry", "country"}
)
SENDER_FIELDS = frozenset({"sender_name", "sender_company", "sender_address", "unsubscribe_url"})
KNOWN_FIELDS = LEAD_FIELDS | SENDER_FIELDS

MERGE_FIELD = re.compile(
    r"""\{\{\s*(?P<name>[A-Za-z_][A-Za-z0-9_]*)\s*"""
    r"""(?:\|\s*default\s*:\s*(?P<quote>["'])(?P<default>.*?)(?P=quote)\s*)?\}\}"""
)
# Anything that looks like template syntax but is not a merge field we understand.
TEMPLATE_LIKE = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.DOTALL)


@dataclass(frozen=True)
class MergeFieldUse:
    name: str
    default: str | None
    known: bool


def merge_fields_in(text: str) -> list[MergeFieldUse]:
    return [
        MergeFieldUse(m.group("name"), m.group("default"), m.group("name") in KNOWN_FIELDS)
        for m in MERGE_FIELD.finditer(text or "")
    ]


def unrecognised_template_syntax(text: str) -> list[str]:
    """Template-looking fragments that are not merge fields (shown literally when rendered)."""
    recognised = {m.span() for m in MERGE_FIELD.finditer(text or "")}
    return [m.group(0) for m in TEMPLATE_LIKE.finditer(text or "") if m.span() not in recognised]


@dataclass(frozen=True)
class RenderResult:
    text: str
    missing: tuple[str, ...]  # fields with no value and no default (rendered as empty)


def render_merge_fields(
    text: str, context: Mapping[str, object], *, escape_html: bool = False
) -> RenderResult:
    """Substitute merge fields from ``context``; values are inserted as plain text.

    With ``escape_html`` the *values* are HTML-escaped (for HTML bodies); the surrounding text is
    the operator's own HTML and is left as it is.
    """
    missing: list[str] = []

    def substitute(match: re.Match[str]) -> str:
        name, default = match.group("name"), match.group("default")
        value = context.get(name)
        if value is None or str(value).strip() == "":
            if default is None:
                missing.append(name)
                value = ""
            else:
                value = default
        value = str(value)
        return html.escape(value) if escape_html else value

    # One pass over the original text: substituted values are never scanned again, so a value
    # that itself contains "{{ … }}" stays literal.
    rendered = MERGE_FIELD.sub(substitute, text or "")
    return RenderResult(rendered, tuple(dict.fromkeys(missing)))
