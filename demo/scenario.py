"""The scripted demo campaign: one client's campaign run end to end by an operator and an approver,
through the same services the admin, the API and Celery use (nothing here writes a table itself).

The story, on simulated time (a working week that ended before today):

1. people and client: an operator, an approver, a client with its compliance policy and a
   suppression list; 2. the campaign and its brief; 3. three strategy options, one selected and
   approved with a rationale; 4. creative for email and LinkedIn, checked and approved;
5. the sample CSV shipped in ``demo/data/`` imported (duplicates, invalid and suppressed rows);
6. launch: activation, live mode, an A/B sequence with a follow-up, LinkedIn post tasks;
7. five working days of live cycles (twice a day, within caps and send windows) with the ESP's
   webhooks (deliveries, opens, clicks, a hard bounce, a complaint) and inbound mail (a real reply,
   an out-of-office); 8. the reply is qualified and won with a deal value.

`run_core_path` is the short version timed by ``bench/e2e.py``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from anymail.inbound import AnymailInboundMessage
from anymail.signals import AnymailInboundEvent, AnymailTrackingEvent, inbound, tracking
from django.db import transaction
from django.utils import timezone

from campaigns.demo_accounts import DEMO_PASSWORDS, ensure_demo_staff_user
from campaigns.models import Campaign, CampaignState, Client, User
from campaigns.services.budget import record_spend
from campaigns.services.clients import create_client, create_client_user
from campaigns.services.editing import create_campaign, set_campaign_mode
from campaigns.services.policy import set_compliance_policy
from campaigns.services.transitions import activate_campaign, resume_campaign
from creative import services as creative_services
from creative.models import CreativeVariant
from leads.importers import import_leads_from_csv
from leads.models import Lead, LeadImport, LeadState
from leads.services import add_suppression, transition_lead
from outreach.models import Message, MessageState, OperatorTask
from outreach.services.cycle import run_cycle
from outreach.services.operator_tasks.generation import generate_operator_tasks
from outreach.services.operator_tasks.lifecycle import complete_task
from outreach.services.operator_tasks.metrics import record_metrics
from outreach.services.sending import create_sequence
from reporting.services import record_outcome
from strategy import services as strategy_services
from strategy.models import StrategyBatch, StrategyVariant

from .clock import Clock

SAMPLE_CSV = Path(__file__).resolve().parent / "data" / "sample_leads.csv"
CLIENT_NAME = "Northwind Fleet Services"
CAMPAIGN_PREFIX = "Demo: fleet managers"
TIMEZONE = "Europe/Berlin"
# Published logins (README): campaigns.demo_accounts keeps them from working with DEBUG off.
CLIENT_API_USER = ("northwind-api", DEMO_PASSWORDS["northwind-api"])
CYCLE_HOURS = (10, 16)  # local times of the two daily cycles (16:00 Berlin is 10:00 in New York)
DEAL_VALUE = Decimal("18000")
DATA_COST = Decimal("120.00")

StepCallback = Callable[[str], None]


@dataclass
class DayLog:
    """What one simulated working day did, for the progress lines."""

    day: dt.date
    sent: int = 0
    rescheduled: int = 0
    skipped: int = 0
    cap_reached: bool = False
    delivered: int = 0
    opened: int = 0
    clicked: int = 0
    notes: list[str] = field(default_factory=list)


@dataclass
class DemoRun:
    operator: User
    approver: User
    client: Client
    campaign: Campaign | None = None
    batch: StrategyBatch | None = None
    chosen: StrategyVariant | None = None
    creatives: list[CreativeVariant] = field(default_factory=list)
    lead_import: LeadImport | None = None
    days: list[DayLog] = field(default_factory=list)
    days_started: list[dt.date] = field(default_factory=list)
    webhook_events: dict[str, int] = field(default_factory=dict)
    replies: dict[str, int] = field(default_factory=dict)
    won_lead: Lead | None = None


# --- people, client, campaign --------------------------------------------------------------------


@transaction.atomic
def ensure_people_and_client(*, operator: User | None = None) -> DemoRun:
    """The operator and approver (staff users with their roles) and the demo client with its policy,
    suppression list and API user: created by the first run, found (and completed) by later ones."""
    # The published demo logins, each in its role's group and nothing more (campaigns.demo_accounts).
    operator = operator or ensure_demo_staff_user("operator")
    approver = ensure_demo_staff_user("approver")
    client = Client.objects.filter(name=CLIENT_NAME).first()
    if client is None:
        client = create_client(name=CLIENT_NAME, actor=operator)
        set_compliance_policy(
            client=client,
            actor=operator,
            rationale="B2B outreach to business addresses under a documented legitimate interest.",
            consent_regions=[],
            sender_postal_address="Northwind Fleet Services GmbH, Hafenstraße 12, 20457 Hamburg, Germany",
        )
    # Known opt-outs and a competitor's domain, kept by the client: the import must skip them.
    # (add_suppression is idempotent.)
    add_suppression(
        reason="manual_dnc",
        domain="rivalfleet.example",
        client=client,
        note="Competitor: never contact.",
        actor=operator,
    )
    add_suppression(
        reason="unsubscribed",
        email="otto.optout@nordsee-transport.example",
        client=client,
        note="Opted out of a 2025 newsletter.",
        actor=operator,
    )
    create_client_user(
        client=client,
        username=CLIENT_API_USER[0],
        email="marketing@northwind.example",
        password=CLIENT_API_USER[1],
        actor=operator,
    )
    return DemoRun(operator=operator, approver=approver, client=client)


def create_demo_campaign(run: DemoRun, *, start: dt.date, name: str | None = None) -> Campaign:
    number = Campaign.objects.filter(client=run.client, name__startswith=CAMPAIGN_PREFIX).count() + 1
    campaign = create_campaign(
        client=run.client,
        name=name or f"{CAMPAIGN_PREFIX} #{number}",
        actor=run.operator,
        type="lead_gen",
        objective="Book 5 discovery calls with fleet and logistics managers at mid-size carriers.",
        target_niche="Road freight and logistics, 20-500 employees, DACH, Benelux, UK, US",
        icp="Fleet manager / head of logistics",
        target_clients=5,
        channels=["email", "linkedin"],
        timezone=TIMEZONE,
        start_date=start,
        end_date=start + dt.timedelta(days=60),
        budget_cap=Decimal("500.00"),
        currency="EUR",
    )
    strategy_services.save_brief(
        campaign=campaign,
        actor=run.operator,
        objective="Book discovery calls for Northwind's route-planning service.",
        audience="Fleet managers and heads of logistics at carriers with 20-500 vehicles",
        offer="A free route audit: 12 % fewer empty kilometres in the first quarter",
        channels=["email", "linkedin"],
        tone="professional",
        budget=Decimal("500"),
        currency="EUR",
    )
    run.campaign = campaign
    return campaign


# --- strategy and creative -----------------------------------------------------------------------


def plan_strategy(run: DemoRun) -> StrategyVariant:
    """Three options generated; the operator selects one, the approver approves it, both with a why."""
    run.batch = strategy_services.generate_strategies(campaign=run.campaign, actor=run.operator, variants=3)
    options = list(StrategyVariant.objects.filter(batch=run.batch).order_by("position"))
    chosen = next((v for v in options if v.angle == "conservative"), options[0])
    strategy_services.select_strategy_variant(
        variant=chosen,
        actor=run.operator,
        rationale=f"'{chosen.title}': the client's buyers are cautious; "
        "a proof-first plan fits a first campaign.",
    )
    run.chosen = strategy_services.approve_strategy_variant(
        variant=chosen,
        actor=run.approver,
        rationale="Matches the brief and the budget; risks reviewed with the client on the kick-off call.",
    )
    return run.chosen


def prepare_creative(run: DemoRun, *, linkedin: bool = True) -> list[CreativeVariant]:
    """Email variants for an A/B first step and a follow-up, and (optionally) LinkedIn posts."""
    platforms = ["email", "linkedin"] if linkedin else ["email"]
    creative_services.generate_creatives(campaign=run.campaign, actor=run.operator, platforms=platforms)
    emails = list(
        CreativeVariant.objects.filter(campaign=run.campaign, platform="email").order_by("brief_id", "pk")
    )
    approved = []
    for variant, why in zip(
        emails[:3],
        (
            "Arm A: leads with the audit offer; clear, on brand, checks pass.",
            "Arm B: leads with the empty-kilometres number; same offer, different hook.",
            "Follow-up: short and polite, one question.",
        ),
        strict=False,
    ):
        approved.append(
            creative_services.approve_creative(variant=variant, actor=run.approver, rationale=why)
        )
    if linkedin:
        for variant in CreativeVariant.objects.filter(campaign=run.campaign, platform="linkedin").order_by(
            "pk"
        )[:1]:
            creative_services.approve_creative(
                variant=variant,
                actor=run.approver,
                rationale="LinkedIn post: fits the calendar's first slot.",
            )
    run.creatives = approved
    return approved


# --- leads -----------------------------------------------------------------------------------------


def import_sample_leads(
    run: DemoRun, *, file: IO[bytes] | None = None, filename: str = "", progress=None
) -> LeadImport:
    if file is None:
        with SAMPLE_CSV.open("rb") as sample:
            run.lead_import = import_leads_from_csv(
                campaign=run.campaign,
                file=sample,
                filename=SAMPLE_CSV.name,
                actor=run.operator,
                progress=progress,
            )
    else:
        run.lead_import = import_leads_from_csv(
            campaign=run.campaign, file=file, filename=filename, actor=run.operator, progress=progress
        )
    record_spend(
        campaign=run.campaign,
        kind="data",
        amount=DATA_COST,
        actor=run.operator,
        description="Lead list from the data vendor (invoice entered by hand).",
        enforce_cap=False,
    )
    return run.lead_import


# --- launch -----------------------------------------------------------------------------------------


def launch(run: DemoRun, *, operator_tasks: bool = True) -> None:
    campaign = run.campaign
    activate_campaign(
        campaign=campaign,
        actor=run.approver,
        rationale="Strategy and creative approved; leads imported and checked.",
    )
    set_campaign_mode(
        campaign=campaign,
        mode="live",
        actor=run.approver,
        rationale="Dry run reviewed: renders and caps look right. Going live at 20 emails a day.",
    )
    arm_a, arm_b, *rest = run.creatives
    steps: list[dict[str, Any]] = [{"delay_days": 0, "creatives": [arm_a.pk, arm_b.pk], "weights": [1, 1]}]
    if rest:
        steps.append({"delay_days": 2, "creatives": [rest[0].pk]})
    create_sequence(campaign=campaign, name="Route audit: intro + follow-up", actor=run.operator, steps=steps)
    if operator_tasks:
        generate_operator_tasks(campaign=campaign, actor=run.operator)
    campaign.refresh_from_db()


# --- simulated days ---------------------------------------------------------------------------------


def _share(message_id: int, salt: str) -> float:
    """A stable pseudo-random number in [0, 1) per message: the same demo always tells the same story."""
    digest = hashlib.sha256(f"{salt}:{message_id}".encode()).hexdigest()
    return int(digest[:8], 16) / 0x1_0000_0000


def _send_tracking(message: Message, event_type: str, when: dt.datetime, **extra: Any) -> None:
    """What anymail's webhook view does once it has verified and parsed an ESP's POST."""
    event = AnymailTrackingEvent(
        event_type=event_type,
        timestamp=when,
        event_id=f"demo-{event_type}-{message.pk}",
        message_id=message.provider_message_id or None,
        recipient=message.to_email,
        metadata={"aicmo_message_id": str(message.pk)},
        **extra,
    )
    tracking.send(sender=run_demo, event=event, esp_name="Demo ESP")


def _send_inbound(
    message: Message, when: dt.datetime, *, subject: str, text: str, auto: bool = False
) -> None:
    headers = {"In-Reply-To": message.rfc_message_id, "References": message.rfc_message_id}
    if auto:
        headers["Auto-Submitted"] = "auto-replied"
    mail = AnymailInboundMessage.construct(
        from_email=message.to_email,
        to="campaigns@northwind.example",
        subject=subject,
        text=text,
        headers={**headers, "Message-ID": f"<demo-reply-{message.pk}-{int(auto)}@mail.example>"},
    )
    inbound.send(
        sender=run_demo,
        event=AnymailInboundEvent(event_type="inbound", timestamp=when, message=mail),
        esp_name="Demo ESP",
    )


def _track_new_sends(run: DemoRun, since: dt.datetime, now: dt.datetime, day: DayLog) -> None:
    """Deliveries, opens and clicks for what went out since the last cycle (a fixed share of each)."""
    sent = list(
        Message.objects.filter(
            campaign=run.campaign, state=MessageState.SENT, dry_run=False, sent_at__gt=since, sent_at__lte=now
        ).order_by("pk")
    )
    for message in sent:
        # One hard bounce per demo: the first email of the second sending day.
        if day.day != run.days_started[0] and not run.webhook_events.get("bounced"):
            _send_tracking(
                message,
                "bounced",
                now,
                description="550 5.1.1 The email account that you tried to reach does not exist",
                reject_reason="bounced",
            )
            run.webhook_events["bounced"] = run.webhook_events.get("bounced", 0) + 1
            day.notes.append(f"hard bounce from {message.to_email}: address suppressed, sequence stopped")
            continue
        _send_tracking(message, "delivered", now)
        day.delivered += 1
        if _share(message.pk, "open") < 0.55:
            _send_tracking(message, "opened", now + dt.timedelta(minutes=30))
            day.opened += 1
            if _share(message.pk, "click") < 0.3:
                _send_tracking(
                    message,
                    "clicked",
                    now + dt.timedelta(minutes=32),
                    click_url="https://northwind.example/audit",
                )
                day.clicked += 1


def _first_contacted_message(run: DemoRun, *, exclude: set[int]) -> Message | None:
    """The earliest live email whose lead has not answered, bounced or complained yet."""
    return (
        Message.objects.filter(
            campaign=run.campaign,
            state=MessageState.SENT,
            dry_run=False,
            lead__state=LeadState.CONTACTED,
            enrollment__state="active",
        )
        .exclude(lead_id__in=exclude)
        .order_by("sent_at", "pk")
        .first()
    )


def working_days(first: dt.date, count: int) -> list[dt.date]:
    days, day = [], first
    while len(days) < count:
        if day.weekday() < 5:
            days.append(day)
        day += dt.timedelta(days=1)
    return days


def _cycle(run: DemoRun, log: DayLog) -> None:
    stats = run_cycle(campaign_id=run.campaign.pk, dry_run=False)
    log.sent += stats.sent
    log.rescheduled += stats.rescheduled
    log.skipped += stats.skipped
    log.cap_reached = log.cap_reached or stats.cap_reached
    if stats.skipped_cycle:
        log.notes.append(f"cycle skipped: {stats.skipped_cycle}")
    log.notes.extend(stats.errors)


def _real_reply(run: DemoRun, log: DayLog) -> None:
    message = _first_contacted_message(run, exclude=set())
    if message is None:
        return
    _send_inbound(
        message,
        timezone.now(),
        subject=f"Re: {message.subject}",
        text="Hi, the route audit sounds useful: we run 140 vans out of Hamburg. "
        "Could we talk on Thursday at 10?\n\nBest, " + message.lead.first_name,
    )
    run.replies["real"] = run.replies.get("real", 0) + 1
    log.notes.append(f"reply from {message.to_email}: lead replied, its sequence stopped")


def _out_of_office(run: DemoRun, log: DayLog) -> None:
    message = _first_contacted_message(run, exclude=set())
    if message is None:
        return
    _send_inbound(
        message,
        timezone.now(),
        subject=f"Automatic reply: {message.subject}",
        text="I am out of the office until Monday with limited access to email.",
        auto=True,
    )
    run.replies["out_of_office"] = run.replies.get("out_of_office", 0) + 1
    log.notes.append(f"out-of-office from {message.to_email}: recognised, not counted as a reply")


def _qualify(run: DemoRun, log: DayLog) -> None:
    lead = Lead.objects.filter(campaign=run.campaign, state=LeadState.REPLIED).order_by("pk").first()
    if lead is None:
        return
    transition_lead(
        lead=lead,
        transition="qualify",
        actor=run.operator,
        rationale="Discovery call held: 140 vans, route planning by spreadsheet, budget this quarter.",
    )
    log.notes.append(f"{lead.email} qualified by the operator after the discovery call")


def _complaint(run: DemoRun, log: DayLog) -> None:
    message = (
        Message.objects.filter(
            campaign=run.campaign, state=MessageState.SENT, dry_run=False, lead__state=LeadState.CONTACTED
        )
        .order_by("-sent_at", "-pk")
        .first()
    )
    if message is None:
        return
    _send_tracking(message, "complained", timezone.now())
    run.webhook_events["complained"] = run.webhook_events.get("complained", 0) + 1
    log.notes.append(f"spam complaint from {message.to_email}: address suppressed")
    run.campaign.refresh_from_db()
    if run.campaign.state == CampaignState.PAUSED:
        log.notes.append("the circuit breaker paused the campaign at once (complaint rate at or over 0.3 %)")


def _review_and_resume(run: DemoRun, log: DayLog) -> None:
    run.campaign.refresh_from_db()
    if run.campaign.state != CampaignState.PAUSED:
        return
    resume_campaign(
        campaign=run.campaign,
        actor=run.approver,
        rationale="Reviewed: one complaint from one recipient, already suppressed; "
        "list source checked. Resuming.",
    )
    log.notes.append("the approver reviewed the complaint and resumed the campaign")


def _publish_post(run: DemoRun, log: DayLog) -> None:
    task = OperatorTask.objects.filter(campaign=run.campaign, task_type="post").order_by("due_at").first()
    if task is None:
        return
    done = complete_task(
        task=task,
        proof_url="https://www.linkedin.com/feed/update/urn:li:activity:7000000000000000001/",
        actor=run.operator,
    )
    record_metrics(task=done, impressions=1840, engagements=73, clicks=21, actor=run.operator)
    log.notes.append("LinkedIn post published by the operator; proof and metrics recorded")


def _win(run: DemoRun, log: DayLog) -> None:
    lead = Lead.objects.filter(campaign=run.campaign, state=LeadState.QUALIFIED).order_by("pk").first()
    if lead is None:
        return
    record_outcome(
        lead=lead,
        deal_value=DEAL_VALUE,
        currency="EUR",
        note="Signed: route audit plus a 12-month planning licence.",
        actor=run.operator,
    )
    run.won_lead = lead
    log.notes.append(f"deal won with {lead.email}: {DEAL_VALUE:,.0f} EUR")


# (working day number, local hour, minute, what happens); cycles at 10:00 and 16:00 every day, each
# followed an hour later by the ESP's webhooks for what it sent.
STORY: list[tuple[int, int, int, Callable[[DemoRun, DayLog], None]]] = [
    (2, 18, 0, _real_reply),
    (3, 9, 30, _out_of_office),
    (3, 17, 0, _qualify),
    (4, 12, 0, _complaint),
    (5, 9, 0, _review_and_resume),
    (5, 11, 30, _publish_post),
    (5, 17, 30, _win),
]


def simulate_days(
    run: DemoRun,
    clock: Clock,
    *,
    first_day: dt.date,
    days: int = 5,
    on_day: Callable[[DayLog], None] | None = None,
) -> None:
    """Working days of live cycles, webhooks and the story's events, in time order."""
    tz = zoneinfo.ZoneInfo(run.campaign.timezone)
    last_tracked = clock.now()
    for number, day in enumerate(working_days(first_day, days), start=1):
        log = DayLog(day=day)
        run.days_started.append(day)
        agenda: list[tuple[dt.time, Callable[[DemoRun, DayLog], None]]] = []
        for hour in CYCLE_HOURS:
            agenda.append((dt.time(hour), _cycle))
            agenda.append((dt.time(hour + 1), None))  # the webhooks of that cycle
        agenda += [(dt.time(h, m), action) for n, h, m, action in STORY if n == number]
        for at, action in sorted(agenda, key=lambda item: item[0]):
            clock.move_to(dt.datetime.combine(day, at, tzinfo=tz))
            if action is None:
                _track_new_sends(run, last_tracked, clock.now(), log)
                last_tracked = clock.now()
            else:
                action(run, log)
        run.days.append(log)
        if on_day is not None:
            on_day(log)
    for kind in ("delivered", "opened", "clicked"):
        run.webhook_events[kind] = sum(getattr(d, kind) for d in run.days)


def run_demo() -> None:  # the `sender` of the simulated webhook signals
    """Marker for the signals this module sends (anymail passes its webhook view class there)."""


# --- the short path the end-to-end benchmark times -------------------------------------------------


def run_core_path(*, leads_file: IO[bytes], operator: User | None = None, start: dt.date) -> DemoRun:
    """create → strategies → approve → creative → approve → import → activate → one live cycle."""
    run = ensure_people_and_client(operator=operator)
    create_demo_campaign(run, start=start)
    plan_strategy(run)
    prepare_creative(run, linkedin=False)
    import_sample_leads(run, file=leads_file, filename="bench.csv")
    launch(run, operator_tasks=False)
    run_cycle(campaign_id=run.campaign.pk, dry_run=False)
    return run
