"""How the admin shows a state, a code and a JSON value: one badge, one table, one set of words.

- ``state_badge(obj)``: a state as a coloured pill with its human label; the colour comes from
  ``STATE_TONES`` (one palette for every model's states, keyed by the state's value);
- ``state_column()`` / ``label_column()``: list and detail columns built on them;
- ``json_html(value)``: a JSON value as a small table (objects, lists of objects) or list, keys
  and codes in words (``campaigns.labels``), shares as percentages.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import admin
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from campaigns.labels import human_label, is_rate
from campaigns.templatetags.campaign_time import campaign_time

TONE_COLOURS = {
    "neutral": ("#6c757d", "#fff"),
    "progress": ("#0d6efd", "#fff"),
    "waiting": ("#fd7e14", "#fff"),
    "ready": ("#20c997", "#fff"),
    "good": ("#198754", "#fff"),
    "best": ("#146c43", "#fff"),
    "held": ("#ffc107", "#212529"),  # dark text: white on yellow cannot be read
    "ended": ("#495057", "#fff"),
    "bad": ("#dc3545", "#fff"),
}

# state value -> tone, for every state machine of the project (campaign, strategy variant,
# creative, lead, enrollment, message, operator task). A value means the same in each.
STATE_TONES = {
    "draft": "neutral",
    "new": "neutral",
    "proposed": "neutral",
    "pending": "neutral",
    "scheduled": "neutral",
    "planning": "progress",
    "selected": "progress",
    "enriched": "progress",
    "in_progress": "progress",
    "sending": "progress",
    "awaiting_approval": "waiting",
    "in_review": "waiting",
    "changes_requested": "waiting",
    "contacted": "waiting",
    "retry_scheduled": "waiting",
    "approved": "ready",
    "replied": "ready",
    "active": "good",
    "qualified": "good",
    "done": "good",
    "sent": "good",
    "won": "best",
    "paused": "held",
    "unknown": "held",
    "completed": "ended",
    "lost": "ended",
    "skipped": "ended",
    "stopped": "ended",
    "cancelled": "bad",
    "rejected": "bad",
    "unsubscribed": "bad",
    "bounced": "bad",
    "do_not_contact": "bad",
    "failed": "bad",
    "dead": "bad",
}


def state_badge(obj: Any, field: str = "state") -> SafeString:
    """``obj.<field>`` as a pill: its human label on the state's colour."""
    value = getattr(obj, field)
    label = getattr(obj, f"get_{field}_display", lambda: human_label(value))()
    background, text = TONE_COLOURS[STATE_TONES.get(str(value), "neutral")]
    return format_html(
        '<span class="state-badge" data-state="{}" style="background:{};color:{};padding:2px 8px;'
        'border-radius:10px;font-size:11px;white-space:nowrap">{}</span>',
        value,
        background,
        text,
        label,
    )


def state_column(field: str = "state", description: str = "State") -> Callable[[Any, Any], str]:
    """A list/detail column showing ``field`` as a badge, sortable by the field."""

    @admin.display(description=description, ordering=field)
    def show(self, obj) -> str:
        return state_badge(obj, field) if getattr(obj, "pk", None) else "-"

    show.__name__ = f"{field}_badge"
    return show


def label_column(field: str, description: str) -> Callable[[Any, Any], str]:
    """A column showing the code in ``field`` in words, with the code itself as its tooltip."""

    @admin.display(description=description, ordering=field)
    def show(self, obj) -> str:
        code = getattr(obj, field)
        return format_html('<span title="{}">{}</span>', code, human_label(code)) if code else "-"

    show.__name__ = f"{field}_label"
    return show


def labelled_filter(field: str, title: str) -> type[admin.SimpleListFilter]:
    """A list filter over the codes found in ``field``, each shown in words (same URL parameter
    as Django's own filter, ``<field>__exact``)."""

    class LabelledFilter(admin.SimpleListFilter):
        parameter_name = f"{field}__exact"

        def lookups(self, request, model_admin):
            values = (
                model_admin.get_queryset(request).order_by(field).values_list(field, flat=True).distinct()
            )
            return [(value, human_label(value)) for value in values]

        def queryset(self, request, queryset):
            return queryset.filter(**{field: self.value()}) if self.value() else queryset

    LabelledFilter.title = title
    LabelledFilter.__name__ = f"{field.capitalize()}LabelFilter"
    return LabelledFilter


def labelled_list(codes: list[Any] | tuple[Any, ...]) -> str:
    """``["email", "linkedin"]`` -> "Email, LinkedIn"."""
    return ", ".join(human_label(code) for code in codes or ()) or "-"


# --- JSON ----------------------------------------------------------------------------------------

MAX_DEPTH = 3


def _scalar(key: Any, value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and key is not None and is_rate(key) and 0 <= value <= 1:
        return f"{value * 100:.1f} %"
    return str(value)


def json_html(value: Any, *, key: Any = None, depth: int = 0) -> SafeString:
    """A JSON value for people: objects as two-column tables, lists of objects as tables with a
    column per key, other lists as bullet lists, all keys in words. Deeper than ``MAX_DEPTH`` the
    rest is shown as text."""
    if value in (None, "", [], {}):
        return mark_safe("—")  # constant
    if depth >= MAX_DEPTH:
        return format_html("{}", value)
    if isinstance(value, dict):
        rows = format_html_join(
            "",
            '<tr><th scope="row" style="font-weight:normal;color:#666">{}</th><td>{}</td></tr>',
            # In a mix of shares (channel_mix) each value is a share, whatever its key.
            (
                (human_label(k), json_html(v, key=key if is_rate(key) else k, depth=depth + 1))
                for k, v in value.items()
            ),
        )
        return format_html('<table class="json-table">{}</table>', rows)
    if isinstance(value, list | tuple):
        if all(isinstance(item, dict) for item in value):
            columns: list[str] = []
            for item in value:
                columns.extend(k for k in item if k not in columns)
            head = format_html_join("", "<th>{}</th>", ((human_label(c),) for c in columns))
            body = format_html_join(
                "",
                "<tr>{}</tr>",
                (
                    (
                        format_html_join(
                            "",
                            "<td>{}</td>",
                            ((json_html(item.get(c), key=c, depth=depth + 1),) for c in columns),
                        ),
                    )
                    for item in value
                ),
            )
            return format_html('<table class="json-table"><tr>{}</tr>{}</table>', head, body)
        items = format_html_join(
            "", "<li>{}</li>", ((json_html(item, key=key, depth=depth + 1),) for item in value)
        )
        return format_html('<ul class="json-list" style="margin:0;padding-left:1.2em">{}</ul>', items)
    return format_html("{}", _scalar(key, value))


def campaign_time_column(field: str, description: str, *, campaign: str = "campaign"):
    """A display method for ``field`` in its campaign's time zone, named ("2026-12-07 09:00
    Europe/Berlin (CET)"), sortable by the field. ``campaign``: the attribute holding the campaign
    (empty: the object is the campaign). Select the campaign with the rows to stay one query."""

    @admin.display(description=description, ordering=field)
    def show(self, obj) -> str:
        return campaign_time(getattr(obj, field), getattr(obj, campaign, None) if campaign else obj)

    show.__name__ = f"{field}_local"
    return show
