"""Number formats of client documents (one place, so the PDF and the email agree)."""

from django import template

register = template.Library()


@register.filter
def pct(value) -> str:
    """A rate (0.1234) as a percentage with one decimal ("12.3%"); empty input stays empty."""
    if value is None or value == "":
        return ""
    try:
        return f"{float(value) * 100:.1f}%"
    except (TypeError, ValueError):
        return str(value)
