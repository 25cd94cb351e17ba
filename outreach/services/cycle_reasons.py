"""Why a cycle sent nothing (or less than it could), in sentences an operator can act on.

One place for the words: the cycle's ``reasons`` (``cycle.run_cycle``) and the next-cycle preview
(``preview.py``) both build their sentences here, e.g. "8 scheduled for 09:00 Europe/Berlin (next
send window).", "Daily cap reached (50/50).", "Outside the send window (Mon-Fri 09:00-17:00
Europe/Berlin).". Every time is in the campaign's time zone, named (``campaigns.templatetags.
campaign_time``). The facts come from the decision code itself (caps, windows, the send gate),
read only; nothing here decides anything the send path does not.
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import datetime
from typing import Any

from django.db.models import Count, Min

from campaigns.models import Campaign, CampaignState
from campaigns.selectors import budget_status, effective_policy
from campaigns.templatetags.campaign_time import campaign_clock, campaign_time, zone_of
from creative.models import CreativeState, CreativeVariant
from leads.models import Lead

from ..models import PENDING_STATES, Enrollment, EnrollmentState, Message, MessageState, Sequence
from ..windows import SendWindow, in_window, next_window_opening
from .sending.caps import daily_cap, used_today
from .sending.claims import DOMAIN_LIMIT, MAILBOX_CAP, MAILBOX_GAP, NOT_CONTACTABLE
from .sending.pacing import campaign_pacing, company_domain

logger = logging.getLogger(__name__)

__all__ = [
    "cap_sentence",
    "cycle_reasons",
    "later_steps_sentence",
    "nothing_to_send_reasons",
    "outside_window_sentence",
    "postponed_reason",
    "preview_sentences",
    "scheduled_sentence",
    "skipped_cycle_reasons",
    "waiting_reasons",
    "when_text",
    "why_waiting",
    "window_text",
]

# What the next cycle would do with a lead's step (``preview.PreviewRow.outcome``).
SEND, RECORD = "send", "record"  # goes in this cycle (handed to the provider / recorded as a dry run)
WAIT = "wait"  # scheduled; goes at ``at`` (its send window, a retry, tomorrow for a full mailbox)
HELD = "held"  # due, but the send gate stops the whole send (cap, budget, pause, quiet hours)
CANCEL = "cancel"  # the lead may no longer be mailed: the message is cancelled, its sequence stopped
LATER = "later"  # due, but over today's room: rendered by a later cycle
COMPLETE = "complete"  # no step left: the enrollment completes
OUTCOME_LABELS = {
    SEND: "Sent in this cycle",
    RECORD: "Recorded (dry run) in this cycle",
    WAIT: "Scheduled for later",
    HELD: "Held",
    CANCEL: "Cancelled",
    LATER: "Waits for room under the daily cap",
    COMPLETE: "Sequence completes",
}
DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
WAITING_GROUPS = 3  # the earliest times named; the rest are summed up
DASH = "\N{EN DASH}"


def window_text(campaign: Campaign, window: SendWindow | None = None) -> str:
    """ "Mon-Fri 09:00-17:00 Europe/Berlin" (en dashes; the campaign's window in its time zone)."""
    window = window or campaign_pacing(campaign).window
    days = sorted(window.weekdays)
    if days == list(range(days[0], days[-1] + 1)) and len(days) > 2:
        day_text = f"{DAY_NAMES[days[0]]}{DASH}{DAY_NAMES[days[-1]]}"
    else:
        day_text = ", ".join(DAY_NAMES[d] for d in days)
    return f"{day_text} {window.start:%H:%M}{DASH}{window.end:%H:%M} {zone_of(campaign).key}"


def when_text(at: datetime, campaign: Campaign, now: datetime) -> str:
    """ "09:00 Europe/Berlin" today (the campaign's local date), else "Tue 2026-03-03 09:00 Europe/Berlin"."""
    zone = zone_of(campaign)
    local, today = at.astimezone(zone), now.astimezone(zone)
    if local.date() == today.date():
        return campaign_clock(at, campaign)
    return f"{DAY_NAMES[local.weekday()]} {local:%Y-%m-%d} {campaign_clock(at, campaign)}"


def scheduled_sentence(count: int, at: datetime, campaign: Campaign, now: datetime, why: str) -> str:
    return f"{count} scheduled for {when_text(at, campaign, now)} ({why})."


def cap_sentence(used: int, cap: int) -> str:
    return f"Daily cap reached ({used}/{cap}): the rest wait for tomorrow's room."


def outside_window_sentence(campaign: Campaign, now: datetime) -> str:
    """ "" inside the campaign's send window (leads without a time zone of their own use it)."""
    window = campaign_pacing(campaign).window
    if in_window(now, campaign.timezone, window):
        return ""
    opening = next_window_opening(now, campaign.timezone, window)
    return (
        f"Outside the send window ({window_text(campaign, window)}): "
        f"it opens {when_text(opening, campaign, now)}."
    )


def postponed_reason(kind: str, message: Message, until: datetime, campaign: Campaign, now: datetime) -> str:
    """Why the router (``claims.route_messages``, ``Routing.why``) postponed a message."""
    if kind == MAILBOX_GAP:
        sender = message.mailbox.email if message.mailbox_id else message.from_email
        return f"paced: next send from {sender} at {when_text(until, campaign, now)}"
    if kind == DOMAIN_LIMIT:
        return f"one email a day to {company_domain(message.to_email)}: next day's send window"
    if kind == MAILBOX_CAP:
        return "its mailbox reached its daily cap"
    return "the lead's send window is closed"


def gate_sentence(reason: str, *, budget_exhausted: bool = False) -> str:
    """The send gate's reason (``claims.send_gate``) as a sentence."""
    if not reason:
        return ""
    if budget_exhausted or reason.startswith(("budget", "Budget")):
        text = reason if reason.startswith("Budget") else "Budget exhausted: raise the budget cap to send."
        return text if text.endswith(".") else f"{text}."
    if reason.startswith("quiet hours"):
        return f"Inside the compliance policy's {reason}: sending waits until they end."
    if reason.startswith("system pause"):
        return "System pause is on: nothing is sent until it is lifted."
    if reason.startswith("campaign is "):
        return skipped_cycle_reasons(reason)[0]
    return f"{reason[:1].upper()}{reason[1:]}."


def skipped_cycle_reasons(skipped_cycle: str) -> list[str]:
    """Why a cycle did not run at all (``CycleStats.skipped_cycle``)."""
    if skipped_cycle.startswith("campaign is "):
        state = skipped_cycle.removeprefix("campaign is ")
        label = CampaignState(state).label if state in CampaignState.values else state
        if state == CampaignState.PAUSED:
            return ["Campaign paused: its cycle does not run until it is resumed."]
        return [f"Campaign is {label.lower()}: only an active campaign's cycle runs."]
    return [f"Cycle not run: {skipped_cycle}."] if skipped_cycle else []


def nothing_to_send_reasons(campaign: Campaign) -> list[str]:
    """Why a campaign has nothing to send at all: no approved creative, no sequence, no lead."""
    if not Sequence.objects.filter(campaign=campaign, is_active=True).exists():
        approved = CreativeVariant.objects.filter(
            campaign=campaign, platform="email", state=CreativeState.APPROVED
        ).exists()
        if not approved:
            return ["No approved email creative: approve one, then create a sequence from it."]
        return ["No active email sequence: create one from the approved email creative."]
    if not Lead.objects.filter(campaign=campaign).exists():
        return ["No leads yet: import or add leads to the campaign."]
    return []


def waiting_reasons(campaign: Campaign, now: datetime) -> list[str]:
    """The messages already scheduled for later, by time: "8 scheduled for 09:00 Europe/Berlin
    (next send window)." (one or two aggregate queries)."""
    later = Message.objects.filter(campaign=campaign, state__in=PENDING_STATES, scheduled_for__gt=now)
    groups = list(
        later.values("scheduled_for", "state")
        .annotate(n=Count("id"))
        .order_by("scheduled_for", "state")[:WAITING_GROUPS]
    )
    if not groups:
        return []
    sentences = [
        scheduled_sentence(
            g["n"], g["scheduled_for"], campaign, now, why_waiting(g["scheduled_for"], g["state"], campaign)
        )
        for g in groups
    ]
    named = sum(g["n"] for g in groups)
    total = later.count() if len(groups) == WAITING_GROUPS else named
    if total > named:
        sentences.append(f"{total - named} more scheduled after that.")
    return sentences


def why_waiting(
    at: datetime,
    state: str,
    campaign: Campaign,
    *,
    message: Message | None = None,
    now: datetime | None = None,
) -> str:
    """Why a pending message waits until ``at``: a retry's back-off, a full mailbox (postponed to
    the campaign's next local midnight, ``claims.route_messages``) or its lead's send window."""
    if state == MessageState.RETRY_SCHEDULED:
        return "retry after a failed attempt"
    local = at.astimezone(zone_of(campaign))
    if (local.hour, local.minute, local.second, local.microsecond) == (0, 0, 0, 0):
        return "its mailbox reached its daily cap"
    if local.second or local.microsecond:  # windows open on the minute; paced sends fall anywhere
        if message is not None and now is not None:
            return postponed_reason(MAILBOX_GAP, message, at, campaign, now)
        return "paced: its mailbox's minimum gap between sends"
    return "next send window"


def later_steps_sentence(campaign: Campaign, now: datetime) -> str:
    """Follow-up steps not due yet, with the earliest (one aggregate query)."""
    upcoming = Enrollment.objects.filter(
        campaign=campaign, state=EnrollmentState.ACTIVE, next_send_at__gt=now
    ).aggregate(n=Count("id"), first=Min("next_send_at"))
    if not upcoming["n"]:
        return ""
    return (
        f"{upcoming['n']} follow-up step(s) not due yet; the first on "
        f"{campaign_time(upcoming['first'], campaign)}."
    )


def cycle_reasons(*, campaign: Campaign, stats: Any, now: datetime, send: Any = None) -> list[str]:
    """Sentences for a finished cycle's stats (``CycleStats``; ``send``: its ``SendStats``). Reads
    a few aggregates; never raises (an explanation must not fail a cycle that worked)."""
    try:
        return _cycle_reasons(campaign, stats, now, send)
    except Exception:
        logger.exception("explaining the cycle of campaign %s failed", campaign.pk)
        return []


def _cycle_reasons(campaign: Campaign, stats: Any, now: datetime, send: Any) -> list[str]:
    reasons: list[str] = []
    went = stats.sent + stats.recorded_dry_run
    if stats.paused:
        reasons.append(f"Auto-paused: {stats.pause_reason}")
    stopped = getattr(send, "stopped_reason", "") if send is not None else ""
    if stats.cap_reached:
        policy = effective_policy(campaign)
        cap = daily_cap(campaign, policy)
        reasons.append(cap_sentence(used_today(campaign, now, dry_run=stats.dry_run), cap))
    elif stopped:
        budget = stopped.startswith(("budget", "Budget"))
        if budget and not stopped.startswith("Budget"):
            stopped = budget_status(campaign).blocked_reason or stopped
        reasons.append(gate_sentence(stopped, budget_exhausted=budget))
    skip_reasons = getattr(send, "skip_reasons", None) or {}
    if stats.skipped:
        reasons.append(
            f"{stats.skipped} cancelled: the lead may no longer be mailed "
            "(suppressed, unsubscribed, bounced or no consent)."
        )
    if skip_reasons.get("mailbox_cap"):
        reasons.append(
            f"{skip_reasons['mailbox_cap']} moved to tomorrow: their mailbox reached its daily cap."
        )
    reasons.extend(waiting_reasons(campaign, now))
    if went:
        return reasons
    return _why_nothing_went(
        reasons, campaign, now, "Nothing was due: every enrolled lead has had its steps."
    )


def _why_nothing_went(sentences: list[str], campaign: Campaign, now: datetime, fallback: str) -> list[str]:
    """What a cycle (or its preview) that sends nothing adds to its ``sentences``: the root cause
    when nothing is set up to send; else the closed window and, when nothing else explains it, the
    follow-ups not due yet (or ``fallback``)."""
    missing = nothing_to_send_reasons(campaign)  # the root cause, when it is one
    if missing:
        return sentences + missing
    window = outside_window_sentence(campaign, now)
    if window:
        sentences.append(window)
    if not sentences:
        sentences.append(later_steps_sentence(campaign, now) or fallback)
    return sentences


def preview_sentences(preview: Any, campaign: Campaign, now: datetime) -> list[str]:
    """A ``preview.CyclePreview``'s rows in sentences: what goes, and why the rest does not."""
    counts = preview.counts
    sentences: list[str] = []
    going = counts.get(SEND, 0) + counts.get(RECORD, 0)
    if going:
        verb = "recorded as a dry run" if preview.dry_run else "sent"
        sentences.append(f"{going} would be {verb} in this cycle.")
    if preview.gate_reason:
        sentences.append(preview.gate_reason)
    if counts.get(CANCEL):
        sentences.append(f"{counts[CANCEL]} would be cancelled: {NOT_CONTACTABLE}.")
    waits: Counter = Counter((row.at, row.reason) for row in preview.rows if row.outcome == WAIT)
    for (at, reason), n in sorted(waits.items(), key=lambda item: item[0][0])[:WAITING_GROUPS]:
        sentences.append(scheduled_sentence(n, at, campaign, now, reason))
    if len(waits) > WAITING_GROUPS:
        rest = sum(n for (at, _), n in sorted(waits.items(), key=lambda i: i[0][0])[WAITING_GROUPS:])
        sentences.append(f"{rest} more scheduled after that.")
    if counts.get(LATER) or preview.more_leads:
        waiting = counts.get(LATER, 0) + preview.more_leads
        sentences.append(
            f"{waiting} more wait for room under the daily cap ({campaign.daily_email_cap} a day)."
        )
    if going:
        return sentences
    return _why_nothing_went(sentences, campaign, now, "No lead has a step due.")
