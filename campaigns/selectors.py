"""Read queries other apps and the API use. Scoping by client lives here, in one place."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache
from django.db.models import F, Model, Q, QuerySet, Sum

from .lifecycle import LIFECYCLE, step_blockers
from .models import (
    AuditEvent,
    Campaign,
    CampaignState,
    Client,
    CompliancePolicy,
    RiskFlag,
    RiskFlagStatus,
    RiskSeverity,
    SpendEntry,
    SystemSwitch,
    User,
)
from .timeline import timeline_history_sources


def clients_visible_to(user: User) -> QuerySet[Client]:
    if not user.is_authenticated:
        return Client.objects.none()
    if user.is_staff:
        return Client.objects.all()
    if user.client_id:
        return Client.objects.filter(pk=user.client_id)
    return Client.objects.none()


def campaigns_visible_to(user: User) -> QuerySet[Campaign]:
    """Staff see every campaign; a client user only their client's; anyone else nothing."""
    if not user.is_authenticated:
        return Campaign.objects.none()
    if user.is_staff:
        return Campaign.objects.all()
    if user.client_id:
        return Campaign.objects.filter(client_id=user.client_id)
    return Campaign.objects.none()


def active_campaigns() -> QuerySet[Campaign]:
    return Campaign.objects.filter(state=CampaignState.ACTIVE)


def campaign_timeline(campaign: Campaign) -> QuerySet[AuditEvent]:
    return (
        AuditEvent.objects.filter(campaign=campaign)
        .select_related("actor", "target_type")
        .order_by("created_at", "id")
    )


def available_transitions(campaign: Campaign) -> list[str]:
    """Names of the lifecycle steps possible from the campaign's current state that no registered
    rule blocks now, in the order of campaigns.lifecycle.LIFECYCLE."""
    names = {t.name for t in campaign.get_available_state_transitions()}
    return [name for name, step in LIFECYCLE.items() if name in names and not step_blockers(step, campaign)]


# --- budget ---------------------------------------------------------------------------------------

BUDGET_OK, BUDGET_WARNING, BUDGET_EXHAUSTED = "ok", "warning", "exhausted"
MONEY = Decimal("0.01")


@dataclass(frozen=True)
class BudgetStatus:
    cap: Decimal | None
    spent: Decimal
    currency: str
    ratio: Decimal | None  # spent / cap; None without a cap
    remaining: Decimal | None
    level: str  # ok | warning | exhausted
    blocked_reason: str  # why spending work is refused now ("" when it is not)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("cap", "spent", "remaining"):
            data[key] = None if data[key] is None else str(data[key].quantize(MONEY))
        data["ratio"] = None if self.ratio is None else float(round(self.ratio, 4))
        data["percent"] = None if self.ratio is None else float(round(self.ratio * 100, 1))
        return data


def campaign_spent(campaign: Campaign) -> Decimal:
    total = SpendEntry.objects.filter(campaign=campaign).aggregate(total=Sum("amount"))["total"]
    return Decimal(total or 0)


def budget_status(campaign: Campaign, *, spent: Decimal | None = None) -> BudgetStatus:
    """Spent against the cap: ok below the warning share, warning from it, exhausted at the cap
    or once a spend was refused (until the cap is raised)."""
    spent = campaign_spent(campaign) if spent is None else spent
    cap = campaign.budget_cap
    if cap is None:
        return BudgetStatus(None, spent, campaign.currency, None, None, BUDGET_OK, "")
    ratio = (spent / cap) if cap > 0 else Decimal(1)
    remaining = max(cap - spent, Decimal(0))
    blocked = campaign.spending_blocked_reason
    if not blocked and ratio >= 1:
        blocked = budget_exhausted_reason(campaign, spent=spent)
    if blocked:
        level = BUDGET_EXHAUSTED
    elif ratio >= settings.AICMO_BUDGET_WARNING_RATIO:
        level = BUDGET_WARNING
    else:
        level = BUDGET_OK
    return BudgetStatus(cap, spent, campaign.currency, ratio, remaining, level, blocked)


def budget_exhausted_reason(campaign: Campaign, *, spent: Decimal, next_amount: Decimal | None = None) -> str:
    cap = campaign.budget_cap
    cur = campaign.currency
    head = f"Budget exhausted: spent {spent.quantize(MONEY)} of the {cap.quantize(MONEY)} {cur} cap"
    if next_amount is not None and spent + next_amount > cap:
        head += f" and the next spend of {next_amount} {cur} would exceed it"
    return head + ". Raise the budget cap to continue."


def spending_blocked_reason(campaign: Campaign) -> str:
    """Why generation and sending are refused for this campaign right now ("" when they are not):
    the system pause first, then the budget."""
    switch = system_switch()
    if switch.paused:
        return f"System pause is on: {switch.reason or 'no reason given'}."
    return budget_status(campaign).blocked_reason


# --- system pause -----------------------------------------------------------------------------------

SYSTEM_SWITCH_CACHE_KEY = "campaigns:system-switch"


@dataclass(frozen=True)
class SystemSwitchState:
    paused: bool
    reason: str
    changed_by: str
    changed_at: dt.datetime | None


def system_switch(*, fresh: bool = False) -> SystemSwitchState:
    """The global switch. Cached for AICMO_SYSTEM_PAUSE_CACHE_SECONDS (one primary-key query on a
    miss); pass ``fresh=True`` where a stale answer could send an email."""
    if not fresh:
        cached = cache.get(SYSTEM_SWITCH_CACHE_KEY)
        if cached is not None:
            return cached
    row = SystemSwitch.objects.select_related("changed_by").filter(pk=SystemSwitch.SINGLETON_PK).first()
    state = SystemSwitchState(
        paused=bool(row and row.paused),
        reason=row.reason if row else "",
        changed_by=(row.changed_by.get_username() if row and row.changed_by else ""),
        changed_at=row.changed_at if row else None,
    )
    cache.set(SYSTEM_SWITCH_CACHE_KEY, state, settings.AICMO_SYSTEM_PAUSE_CACHE_SECONDS)
    return state


def system_paused(*, fresh: bool = False) -> bool:
    return system_switch(fresh=fresh).paused


# --- compliance policy -----------------------------------------------------------------------------

_POLICY_DEFAULTS = CompliancePolicy()


@dataclass(frozen=True)
class EffectivePolicy:
    source: str  # "campaign" | "client" | "default"
    require_strategy_approval: bool
    require_creative_approval: bool
    require_client_approval: bool
    consent_regions: tuple[str, ...]
    quiet_hours_start: dt.time | None
    quiet_hours_end: dt.time | None
    max_daily_volume: int | None
    sender_postal_address: str

    @property
    def required_approvals(self) -> tuple[str, ...]:
        flags = (
            ("strategy", self.require_strategy_approval),
            ("creative", self.require_creative_approval),
            ("client", self.require_client_approval),
        )
        return tuple(name for name, required in flags if required)

    def requires_consent(self, region: str | None) -> bool:
        return bool(region) and region.strip().upper() in self.consent_regions

    def in_quiet_hours(self, local_time: dt.time) -> bool:
        start, end = self.quiet_hours_start, self.quiet_hours_end
        if start is None or end is None or start == end:
            return False
        if start < end:
            return start <= local_time < end
        return local_time >= start or local_time < end  # wraps midnight, e.g. 20:00-08:00

    def daily_volume_limit(self, campaign_cap: int) -> int:
        if self.max_daily_volume is None:
            return campaign_cap
        return min(campaign_cap, self.max_daily_volume)


def _policy_from(row: CompliancePolicy, source: str) -> EffectivePolicy:
    return EffectivePolicy(
        source=source,
        require_strategy_approval=row.require_strategy_approval,
        require_creative_approval=row.require_creative_approval,
        require_client_approval=row.require_client_approval,
        consent_regions=tuple(str(r).strip().upper() for r in (row.consent_regions or []) if str(r).strip()),
        quiet_hours_start=row.quiet_hours_start,
        quiet_hours_end=row.quiet_hours_end,
        max_daily_volume=row.max_daily_volume,
        sender_postal_address=(row.sender_postal_address or "").strip(),
    )


def effective_policy(campaign: Campaign) -> EffectivePolicy:
    """The campaign's own policy if it has one, else its client's default, else the defaults.
    A campaign policy replaces the client default as a whole (no field-by-field mixing)."""
    # Both candidates in one query, the campaign's own first.
    own = Q(campaign_id=campaign.pk) if campaign.pk else Q(pk__in=[])
    row = (
        CompliancePolicy.objects.filter(own | Q(client_id=campaign.client_id, campaign__isnull=True))
        .order_by(F("campaign_id").asc(nulls_last=True))
        .first()
    )
    if row is None:
        return _policy_from(_POLICY_DEFAULTS, "default")
    return _policy_from(row, "campaign" if row.campaign_id is not None else "client")


def compliance_activation_blockers(campaign: Campaign) -> list[str]:
    """Registered as an activation check: what the policy demands before a campaign may run."""
    # The postal address is part of the sender identity (campaign, client, then this policy's).
    from .sender_identity import postal_address_blockers

    return postal_address_blockers(campaign)


# --- risk flags --------------------------------------------------------------------------------------


def risk_flags_for(*, campaign: Campaign | None = None, target: Model | None = None) -> QuerySet[RiskFlag]:
    flags = RiskFlag.objects.all()
    if campaign is not None:
        flags = flags.filter(campaign=campaign)
    if target is not None:
        ct = ContentType.objects.get_for_model(target, for_concrete_model=False)
        flags = flags.filter(target_type=ct, target_id=str(target.pk))
    return flags.order_by("-created_at", "-id")


def open_risk_flags(*, campaign: Campaign | None = None, target: Model | None = None) -> QuerySet[RiskFlag]:
    return risk_flags_for(campaign=campaign, target=target).filter(status=RiskFlagStatus.OPEN)


def has_open_high_risk(*, target: Model) -> bool:
    return open_risk_flags(target=target).filter(severity=RiskSeverity.HIGH).exists()


# --- unified audit timeline -------------------------------------------------------------------------

HISTORY_KIND = "history"
_HISTORY_ACTIONS = {"+": "created", "~": "changed", "-": "deleted"}


@dataclass(frozen=True)
class TimelineEntry:
    at: dt.datetime
    kind: str  # the audit verb's prefix ("campaign", "strategy", "budget"…) or "history"
    source: str  # "audit" | "history"
    actor: str
    action: str  # the verb, or "<model> created/changed/deleted"
    object: str
    rationale: str
    details: str

    CSV_HEADER = ("at", "kind", "source", "actor", "action", "object", "rationale", "details")

    def as_row(self) -> list[str]:
        return [
            self.at.isoformat(),
            self.kind,
            self.source,
            self.actor,
            self.action,
            self.object,
            self.rationale,
            self.details,
        ]


def _audit_kind(verb: str) -> str:
    return verb.split(".", 1)[0] if "." in verb else verb


def _history_sources():
    from .timeline import HistorySource

    return [
        HistorySource(Campaign, "id", "campaign"),
        HistorySource(CompliancePolicy, "campaign", "compliance policy"),
        *timeline_history_sources(),
    ]


def _history_entries(campaign: Campaign) -> list[TimelineEntry]:
    entries: list[TimelineEntry] = []
    for source in _history_sources():
        rows = list(
            source.model.history.filter(**{source.campaign_lookup: campaign.pk})
            .select_related("history_user")
            .order_by("history_date", "history_id")
        )
        pk_name = source.model._meta.pk.attname
        previous: dict[Any, Any] = {}
        for row in rows:
            object_id = getattr(row, pk_name)
            before = previous.get(object_id)
            previous[object_id] = row
            action = _HISTORY_ACTIONS.get(row.history_type, row.history_type)
            details = ""
            if row.history_type == "~" and before is not None:
                delta = row.diff_against(before)
                details = "; ".join(f"{c.field}: {c.old!r} → {c.new!r}" for c in delta.changes)
            entries.append(
                TimelineEntry(
                    at=row.history_date,
                    kind=HISTORY_KIND,
                    source="history",
                    actor=row.history_user.get_username() if row.history_user else "system",
                    action=f"{source.label} {action}",
                    object=str(row.instance)[:300],
                    rationale=row.history_change_reason or "",
                    details=details,
                )
            )
    return entries


def campaign_timeline_entries(
    campaign: Campaign, *, kinds: Iterable[str] | None = None
) -> list[TimelineEntry]:
    """AuditEvents and simple-history changes of the campaign (and registered models), oldest
    first. ``kinds`` keeps only those kinds: audit verb prefixes and/or "history"."""
    wanted = {k for k in (kinds or []) if k}
    entries: list[TimelineEntry] = []
    for event in campaign_timeline(campaign):
        kind = _audit_kind(event.verb)
        if wanted and kind not in wanted:
            continue
        entries.append(
            TimelineEntry(
                at=event.created_at,
                kind=kind,
                source="audit",
                actor=event.actor_label,
                action=event.verb,
                object=event.target_repr,
                rationale=event.rationale,
                details=", ".join(f"{k}={v}" for k, v in (event.metadata or {}).items()),
            )
        )
    if not wanted or HISTORY_KIND in wanted:
        entries.extend(_history_entries(campaign))
    # Stable: an audit event and the history row written by the same save keep their order.
    entries.sort(key=lambda e: e.at)
    return entries


def timeline_kinds(campaign: Campaign) -> list[str]:
    verbs = AuditEvent.objects.filter(campaign=campaign).values_list("verb", flat=True).distinct()
    return sorted({_audit_kind(v) for v in verbs} | {HISTORY_KIND})
