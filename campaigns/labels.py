"""Human words for the codes the back office shows: risk rule codes (``claims.absolute``), metric and
KPI keys (``reply_rate``), the keys of JSON fields. One mapping, read by the admin's displays
(``campaigns.admin_kit.display``) and by any page that shows a code to a person.

A code without an entry is still readable: ``human_label`` turns ``bounce_rate_max`` into
"Bounce rate max". Add an entry where that guess says it badly; apps above ``campaigns`` add theirs
with :func:`register_labels` (strings only, so this module depends on nothing).
"""

from __future__ import annotations

_LABELS: dict[str, str] = {
    # risk rules (campaigns.risk): what the rule looks for, as a reviewer would say it
    "claims.absolute": "Absolute claim (a promise nobody can keep)",
    "claims.medical": "Medical or health claim",
    "claims.income": "Income or earnings claim",
    "claims.missing_disclosure": "Missing disclosure",
    "campaign.regulated_vertical": "Regulated industry",
    "campaign.daily_cap": "Daily email cap too high",
    "leads.unverified_share": "Many unverified leads",
    # KPI targets and campaign metrics (campaign types, strategies, reporting)
    "reply_rate": "Reply rate",
    "open_rate": "Open rate",
    "click_rate": "Click rate",
    "bounce_rate": "Bounce rate",
    "bounce_rate_max": "Bounce rate (at most)",
    "qualified_leads": "Qualified leads",
    "signups": "Sign-ups",
    "registrations": "Registrations",
    "attendance_rate": "Attendance rate",
    "engagement_rate": "Engagement rate",
    "followers_gained": "Followers gained",
    "newsletter_open_rate": "Newsletter open rate",
    "leads_total": "Leads in total",
    "qualified": "Qualified (incl. won)",
    "conversion_rate": "Conversion rate",
    "goal_progress": "Goal progress (qualified / target clients)",
    "target_clients": "Target clients",
    "live_sent": "Sent live",
    # channels
    "email": "Email",
    "linkedin": "LinkedIn",
    "instagram": "Instagram",
    "x": "X",
    # keys that appear in JSON fields (audit metadata, import mappings, plans)
    "per_week": "Per week",
    "content_type": "Content type",
    "duration_days": "Duration (days)",
    "mitigation": "Mitigation",
    "severity": "Severity",
    "item": "Item",
    "share": "Share",
    "amount": "Amount",
    "changed": "Changed fields",
    "from_state": "From",
    "to_state": "To",
    "full_name": "Full name",
    "first_name": "First name",
    "last_name": "Last name",
    "company_size": "Company size",
    "linkedin_url": "LinkedIn URL",
}


def register_labels(labels: dict[str, str]) -> None:
    """Add words for an app's codes (called at import time of the app's admin or labels module).
    A code keeps its first label: two apps naming one code differently is a mistake to see."""
    for code, label in labels.items():
        known = _LABELS.get(code)
        if known is not None and known != label:
            raise ValueError(f"Label of {code!r} is already {known!r}; not replaced by {label!r}.")
        _LABELS[code] = label


def human_label(code: object) -> str:
    """The words for ``code``: its registered label, else the code made readable."""
    text = str(code)
    known = _LABELS.get(text)
    if known is not None:
        return known
    readable = text.replace(".", ": ").replace("_", " ").strip()
    return readable[:1].upper() + readable[1:]


def is_rate(code: object) -> bool:
    """Keys whose value is a share (0.05 shown as 5 %), or a mix of shares (``channel_mix``)."""
    text = str(code)
    return text.endswith(("_rate", "_rate_max", "_share", "_mix")) or text == "share"
