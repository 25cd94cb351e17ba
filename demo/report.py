"""The campaign report and audit timeline as terminal text (what `manage.py demo` prints).

All numbers come from the reporting selectors (`executive_summary`) and the campaign timeline,
the same ones the dashboard and the API show; `campaign_report_numbers` returns them as data so
a test can check every printed count against the database.
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q

from campaigns.models import Campaign
from campaigns.selectors import campaign_timeline_entries
from leads.models import LeadImport
from outreach.models import Message, MessageEvent, MessageEventKind, MessageState
from reporting.executive import ExecutiveSummary, executive_summary

BAR_WIDTH = 36
NONE = "-"


@dataclass
class ReportNumbers:
    summary: ExecutiveSummary
    funnel: list[tuple[str, int]]
    outreach: dict[str, int]


def campaign_report_numbers(campaign: Campaign) -> ReportNumbers:
    summary = executive_summary(campaign)
    metrics, lifetime = summary.metrics, summary.metrics.lifetime
    live = Message.objects.filter(campaign=campaign, state=MessageState.SENT, dry_run=False)
    # People (distinct leads) with at least one event of each kind, in one query.
    kinds = (MessageEventKind.OPENED, MessageEventKind.CLICKED, MessageEventKind.REPLIED)
    people = MessageEvent.objects.filter(campaign=campaign, message__dry_run=False).aggregate(
        **{str(kind): Count("message__lead_id", filter=Q(kind=kind), distinct=True) for kind in kinds}
    )

    def leads_with(kind: str) -> int:
        return people[str(kind)]

    # Counted in leads (people), so each stage is a subset of the one above it.
    funnel = [
        ("Leads in the campaign", metrics.leads_total),
        ("Emailed", live.values("lead_id").distinct().count()),
        ("Opened an email", leads_with(MessageEventKind.OPENED)),
        ("Clicked a link", leads_with(MessageEventKind.CLICKED)),
        ("Replied", leads_with(MessageEventKind.REPLIED)),
        ("Qualified", metrics.qualified),
        ("Won", metrics.won),
    ]
    outreach = {
        "Emails sent": lifetime.live_sent,
        "Opened": lifetime.opened,
        "Clicked": lifetime.clicked,
        "Replied": lifetime.replied,
        "Hard bounces": lifetime.bounced,
        "Complaints": lifetime.complained,
        "Unsubscribed": lifetime.unsubscribed,
    }
    return ReportNumbers(summary=summary, funnel=funnel, outreach=outreach)


def _bar(value: int, top: int) -> str:
    if not top:
        return ""
    cells = value / top * BAR_WIDTH
    full = int(cells)
    return "█" * full + ("▌" if cells - full >= 0.5 else "")


def _pct(value: float | None) -> str:
    return NONE if value is None else f"{value:.1%}"


def table(headers: list[str], rows: list[list[Any]], *, right: set[int] | None = None) -> list[str]:
    """A plain aligned table; columns in ``right`` are right-aligned (numbers)."""
    right = right or set()
    cells = [[str(c) for c in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]

    def line(row: list[str]) -> str:
        return "  ".join(
            (c.rjust(widths[i]) if i in right else c.ljust(widths[i])) for i, c in enumerate(row)
        ).rstrip()

    return [line(cells[0]), "  ".join("─" * w for w in widths), *(line(r) for r in cells[1:])]


def heading(text: str) -> list[str]:
    return ["", text, "═" * len(text)]


def import_lines(lead_import: LeadImport) -> list[str]:
    rows = [
        ["Rows read", lead_import.rows_read],
        ["Inserted", lead_import.inserted],
        ["Duplicates in the file", lead_import.duplicates_in_file],
        ["Already in the campaign", lead_import.duplicates_in_campaign],
        ["Suppressed", lead_import.suppressed],
        ["Invalid", lead_import.invalid],
        ["Blank lines", lead_import.blank_lines],
    ]
    lines = table(["Import of " + (lead_import.filename or "records"), "rows"], rows, right={1})
    issues = lead_import.issues.order_by("row_number", "id").values_list(
        "row_number", "kind", "field", "value"
    )
    lines += ["", "Rows not imported (line, why, field, value):"]
    lines += [
        f"  line {r}: {kind.replace('_', ' ')} ({fld}) {value!r}" for r, kind, fld, value in issues[:12]
    ]
    return lines


def report_lines(campaign: Campaign) -> list[str]:
    numbers = campaign_report_numbers(campaign)
    summary = numbers.summary
    roi = summary.roi
    lines = heading(
        f"Campaign report: {campaign.name} (#{campaign.pk}, {campaign.get_state_display().lower()})"
    )
    top = max((v for _, v in numbers.funnel), default=0)
    lines += ["Funnel (people)"]
    lines += [f"  {label:<22} {value:>5}  {_bar(value, top)}" for label, value in numbers.funnel]
    lifetime = summary.metrics.lifetime
    rates = {
        "Opened": lifetime.open_rate,
        "Clicked": lifetime.click_rate,
        "Replied": lifetime.reply_rate,
        "Hard bounces": lifetime.bounce_rate,
        "Complaints": lifetime.complaint_rate,
    }
    lines += [
        "",
        *table(
            ["Outreach (live email)", "count", "rate"],
            [[k, v, _pct(rates[k]) if k in rates else ""] for k, v in numbers.outreach.items()],
            right={1, 2},
        ),
    ]
    by_state = summary.metrics.by_state
    lines += ["", "Leads by state: " + ", ".join(f"{state} {n}" for state, n in by_state.items() if n)]
    for step in summary.ab:
        lines += [
            "",
            *table(
                [
                    f"A/B — {step.sequence}, step {step.position}",
                    "sent",
                    "opened",
                    "replied",
                    "open rate",
                    "reply rate",
                ],
                [
                    [
                        f"{v.label}: {v.creative[:40]}",
                        v.sent,
                        v.opened,
                        v.replied,
                        _pct(v.open_rate),
                        _pct(v.reply_rate),
                    ]
                    for v in step.variants
                ],
                right={1, 2, 3, 4, 5},
            ),
        ]
        lines.append(f"  {step.reply.explanation}")
    money = roi.currency
    lines += [
        "",
        *table(
            ["Return on investment", money],
            [
                ["Revenue (won deals)", roi.revenue],
                ["Spend (ledger)", roi.spend],
                ["Cost per lead", roi.cost_per_lead if roi.cost_per_lead is not None else NONE],
                [
                    "Cost per qualified lead",
                    roi.cost_per_qualified_lead if roi.cost_per_qualified_lead is not None else NONE,
                ],
                ["Cost per won deal", roi.cost_per_won_deal if roi.cost_per_won_deal is not None else NONE],
                ["ROI", _pct(roi.roi)],
            ],
            right={1},
        ),
    ]
    lines += ["", "Next actions"]
    if summary.next_actions:
        for n, action in enumerate(summary.next_actions, start=1):
            lines.append(f"  {n}. {action.action}")
            lines.append(f"     because {action.because}")
    else:
        lines.append("  Nothing to change: keep the campaign running.")
    lines += ["", "Insights"] + [f"  • {text}" for text in summary.insights]
    return lines


def timeline_lines(campaign: Campaign, *, limit: int | None = None) -> list[str]:
    """Who did what, when and why: every audit event of the campaign, oldest first."""
    tz = zoneinfo.ZoneInfo(campaign.timezone or "UTC")
    entries = [e for e in campaign_timeline_entries(campaign) if e.source == "audit"]
    if limit is not None:
        entries = entries[-limit:]
    lines = heading(f"Audit timeline ({len(entries)} events; times in {tz.key})")
    rows = [
        [
            e.at.astimezone(tz).strftime("%a %d %b %H:%M"),
            e.actor or "system",
            e.action,
            (e.object or "")[:38],
            (e.rationale or e.details or "")[:90],
        ]
        for e in entries
    ]
    lines += table(["When", "Who", "What", "On", "Why / details"], rows)
    return lines
