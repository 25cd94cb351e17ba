"""Recommended next actions: an explicit, ordered rule set over a campaign's numbers.

Each rule looks at a `CampaignNumbers` snapshot and, when it fires, says what to do and which
numbers made it fire, so an operator can check the reasoning instead of trusting it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class CampaignNumbers:
    sent: int = 0
    opened: int = 0
    replied: int = 0
    bounced: int = 0
    complained: int = 0
    qualified: int = 0
    target_clients: int = 0
    leads_total: int = 0
    leads_contactable_remaining: int = 0
    cap_reached_days_running: int = 0
    overdue_tasks: int = 0
    budget_ratio: float | None = None  # spent / cap, None when no cap
    state: str = "active"

    def rate(self, part: int) -> float:
        return part / self.sent if self.sent else 0.0


@dataclass(frozen=True)
class Recommendation:
    code: str
    priority: int  # 1 = do first
    action: str
    because: str


Rule = Callable[[CampaignNumbers], Recommendation | None]
RULES: list[Rule] = []


def rule(fn: Rule) -> Rule:
    RULES.append(fn)
    return fn


# Thresholds are module constants so tests (and a reader) see exactly where each rule fires.
REPLY_RATE_FLOOR, REPLY_MIN_SENDS = 0.02, 200
BOUNCE_RATE_CEILING, BOUNCE_MIN_SENDS = 0.05, 50
COMPLAINT_RATE_CEILING, COMPLAINT_MIN_SENDS = 0.001, 200
OPEN_RATE_FLOOR, OPEN_MIN_SENDS = 0.15, 200
CAP_DAYS_RUNNING = 3
BUDGET_WARNING = 0.8


@rule
def goal_met(n: CampaignNumbers) -> Recommendation | None:
    if n.target_clients and n.qualified >= n.target_clients and n.state in ("active", "paused"):
        return Recommendation(
            "goal_met",
            1,
            "Goal met: complete the campaign (or raise the target).",
            f"{n.qualified} qualified leads ≥ target of {n.target_clients}.",
        )
    return None


@rule
def bounce_rate_high(n: CampaignNumbers) -> Recommendation | None:
    if n.sent >= BOUNCE_MIN_SENDS and n.rate(n.bounced) > BOUNCE_RATE_CEILING:
        return Recommendation(
            "verify_list",
            1,
            "Bounce rate is high: verify the list before sending more.",
            f"{n.bounced} bounces / {n.sent} sends = {n.rate(n.bounced):.1%} (> {BOUNCE_RATE_CEILING:.0%}).",
        )
    return None


@rule
def complaint_rate_high(n: CampaignNumbers) -> Recommendation | None:
    if n.sent >= COMPLAINT_MIN_SENDS and n.rate(n.complained) >= COMPLAINT_RATE_CEILING:
        return Recommendation(
            "review_targeting",
            1,
            "Spam complaints: tighten targeting and check consent before sending more.",
            f"{n.complained} complaints / {n.sent} sends = {n.rate(n.complained):.2%} "
            f"(≥ {COMPLAINT_RATE_CEILING:.1%}).",
        )
    return None


@rule
def reply_rate_low(n: CampaignNumbers) -> Recommendation | None:
    if n.sent >= REPLY_MIN_SENDS and n.rate(n.replied) < REPLY_RATE_FLOOR:
        return Recommendation(
            "new_subject_line",
            2,
            "Reply rate is low: test a new subject line and opening.",
            f"{n.replied} replies / {n.sent} sends = {n.rate(n.replied):.1%} "
            f"(< {REPLY_RATE_FLOOR:.0%} after {REPLY_MIN_SENDS}+ sends).",
        )
    return None


@rule
def open_rate_low(n: CampaignNumbers) -> Recommendation | None:
    if n.sent >= OPEN_MIN_SENDS and n.opened and n.rate(n.opened) < OPEN_RATE_FLOOR:
        return Recommendation(
            "check_deliverability",
            2,
            "Open rate is low: check sender authentication (SPF, DKIM, DMARC) and subject lines.",
            f"{n.opened} opens / {n.sent} sends = {n.rate(n.opened):.1%} (< {OPEN_RATE_FLOOR:.0%}).",
        )
    return None


@rule
def cap_reached(n: CampaignNumbers) -> Recommendation | None:
    if n.cap_reached_days_running >= CAP_DAYS_RUNNING:
        return Recommendation(
            "raise_cap",
            3,
            "The daily cap is the bottleneck: raise it or add a sending mailbox.",
            f"Daily cap reached {n.cap_reached_days_running} days running (≥ {CAP_DAYS_RUNNING}).",
        )
    return None


@rule
def list_exhausted(n: CampaignNumbers) -> Recommendation | None:
    if n.leads_total and n.leads_contactable_remaining == 0 and n.state == "active":
        return Recommendation(
            "import_leads",
            2,
            "No contactable leads left: import or source more leads.",
            f"0 of {n.leads_total} leads are left to contact.",
        )
    return None


@rule
def overdue_tasks(n: CampaignNumbers) -> Recommendation | None:
    if n.overdue_tasks > 0:
        return Recommendation(
            "clear_overdue_tasks",
            3,
            "Operator tasks are overdue: clear the backlog.",
            f"{n.overdue_tasks} task(s) past their due time.",
        )
    return None


@rule
def budget_nearly_spent(n: CampaignNumbers) -> Recommendation | None:
    if n.budget_ratio is not None and n.budget_ratio >= BUDGET_WARNING:
        return Recommendation(
            "review_budget",
            2,
            "Budget nearly spent: raise the cap or plan the wind-down.",
            f"{n.budget_ratio:.0%} of the budget cap is spent (≥ {BUDGET_WARNING:.0%}).",
        )
    return None


def recommend_next_actions(numbers: CampaignNumbers) -> list[Recommendation]:
    found = [r for r in (check(numbers) for check in RULES) if r is not None]
    return sorted(found, key=lambda r: r.priority)
