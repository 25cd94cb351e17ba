"""Two clients' worlds for the API fuzz tests, built through the real services.

Every client gets campaigns in several states with everything the API lists or shows: a brief,
strategy batches and variants (proposed, approved, rejected), a plan and calendar, creative in
each review state, leads (imported by API push and CSV, one qualified, one won with an outcome),
a sequence with dry-run messages, operator tasks (pending, done with metrics) with follow-ups,
spend entries, a weekly summary, a client suppression and a global hard bounce.

Every identifying string of a client's objects carries its marker (``azalea`` for client A,
``begonia`` for client B: words no API text contains otherwise, unlike "alpha" in "ISO 3166-1
alpha-2"), so "no answer to A mentions B" is a plain search of the body for ``begonia``; numeric
ids are compared per table (see `leaks.py`), because ids of different tables overlap.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Model
from django.test import override_settings

from campaigns.models import Campaign, Client, SpendEntry, User
from campaigns.services.budget import record_spend
from campaigns.services.policy import set_compliance_policy
from campaigns.services.transitions import activate_campaign, kill_campaign, transition_campaign
from creative import services as creative_services
from creative.models import CreativeBrief, CreativeState, CreativeVariant
from leads.importers import import_lead_records, import_leads_from_csv
from leads.models import Lead, LeadImport, Suppression
from leads.services import add_suppression, transition_lead
from outreach.models import (
    Enrollment,
    Message,
    MetricEntry,
    OperatorTask,
    Sequence,
    SequenceStep,
    StepVariant,
)
from outreach.services.cycle import run_cycle
from outreach.services.operator_tasks.generation import generate_operator_tasks
from outreach.services.operator_tasks.lifecycle import complete_task, start_task
from outreach.services.operator_tasks.metrics import record_metrics
from outreach.services.sending import create_sequence
from reporting.models import Outcome, WeeklySummary
from reporting.services import build_weekly_summary, record_outcome
from strategy import services as strategy_services
from strategy.models import Brief, CalendarItem, CampaignPlan, StrategyBatch, StrategyVariant
from tests.factories import CampaignFactory, ClientFactory, ClientUserFactory, token_for
from webhooks.models import WebhookDelivery, WebhookEndpoint
from webhooks.services import create_endpoint, send_test_ping

START = dt.date(2026, 3, 2)
END = dt.date(2026, 5, 30)

# The tables whose ids a client's API answers may carry, by the name the leak check uses.
OWNED_MODELS: dict[str, type[Model]] = {
    "client": Client,
    "user": User,
    "campaign": Campaign,
    "brief": Brief,
    "strategy_batch": StrategyBatch,
    "strategy_variant": StrategyVariant,
    "plan": CampaignPlan,
    "calendar_item": CalendarItem,
    "creative_brief": CreativeBrief,
    "creative": CreativeVariant,
    "lead": Lead,
    "lead_import": LeadImport,
    "suppression": Suppression,
    "sequence": Sequence,
    "sequence_step": SequenceStep,
    "step_variant": StepVariant,
    "enrollment": Enrollment,
    "message": Message,
    "operator_task": OperatorTask,
    "metric_entry": MetricEntry,
    "spend_entry": SpendEntry,
    "outcome": Outcome,
    "webhook_endpoint": WebhookEndpoint,
    "webhook_delivery": WebhookDelivery,
    "weekly_summary": WeeklySummary,
}


@dataclass
class ClientWorld:
    marker: str
    client: Client
    user: User
    token: str
    campaigns: dict[str, Campaign] = field(default_factory=dict)
    ids: dict[str, set[int]] = field(default_factory=dict)

    def first(self, kind: str) -> int:
        return min(self.ids[kind])


def _brief(campaign: Campaign, marker: str) -> None:
    strategy_services.save_brief(
        campaign=campaign,
        objective=f"Book 20 discovery calls for {marker.title()} Logistics",
        audience=f"Operations directors ({marker})",
        offer=f"{marker.title()} route planning that cuts fuel costs",
        channels=list(campaign.channels),
        budget="12000",
        currency="EUR",
    )


def _campaign(client: Client, marker: str, name: str, **fields) -> Campaign:
    fields.setdefault("channels", ["email", "linkedin"])
    return CampaignFactory(
        client=client,
        name=f"{marker.title()} {name}",
        start_date=START,
        end_date=END,
        timezone="Europe/Berlin",
        **fields,
    )


def build_client_world(marker: str, operator: User) -> ClientWorld:
    """A client with one user (and token) and campaigns in draft, awaiting approval, active
    (with all the work below it), paused and cancelled."""
    client = ClientFactory(name=f"{marker.title()} Logistics", slug=f"{marker}-logistics")
    user = ClientUserFactory(
        client=client, username=f"{marker}-user", email=f"{marker}-user@{marker}.example"
    )
    world = ClientWorld(marker=marker, client=client, user=user, token=token_for(user))
    set_compliance_policy(client=client, actor=operator, sender_postal_address="1 Test St")

    # allow_client_approval: client users may take strategy and creative decisions here, so the
    # fuzzer reaches the decision endpoints' bodies instead of stopping at a 403.
    draft = _campaign(client, marker, "draft", allow_client_approval=True)
    _brief(draft, marker)
    world.campaigns["draft"] = draft

    proposed = _campaign(client, marker, "awaiting approval", allow_client_approval=True)
    _brief(proposed, marker)
    batch = strategy_services.generate_strategies(campaign=proposed, actor=operator)
    variants = list(batch.variants.order_by("position"))
    strategy_services.reject_strategy_variant(variant=variants[-1], actor=operator, rationale="too broad")
    world.campaigns["awaiting_approval"] = proposed

    live = _campaign(client, marker, "active", allow_client_approval=True, budget_cap=Decimal("5000"))
    _brief(live, marker)
    strategy_services.generate_and_approve_strategy(campaign=live, actor=operator, rationale="fits")
    creatives = creative_services.generate_creatives(
        campaign=live, actor=operator, platforms=["email", "linkedin"], variants=2
    )
    email = [c for c in creatives if c.platform == "email"]
    linkedin = [c for c in creatives if c.platform == "linkedin"]
    for variant in [*email, linkedin[0]]:
        creative_services.approve_creative(variant=variant, actor=operator, override_rationale="seed")
    creative_services.reject_creative(variant=linkedin[1], actor=operator, rationale="off brand")
    creative_services.edit_creative(variant=email[0], actor=operator, rationale="tighter", subject="Hi")
    live = activate_campaign(campaign=live, actor=operator, rationale="go")
    create_sequence(
        campaign=live,
        name=f"{marker.title()} main",
        actor=operator,
        steps=[{"delay_days": 0, "creatives": [c.pk for c in email]}],
    )
    import_lead_records(
        campaign=live,
        records=[
            {
                "email": f"lead{i}@{marker}-corp{i}.example",
                "first_name": f"{marker.title()}{i}",
                "company": f"{marker.title()} Corp {i}",
            }
            for i in range(4)
        ],
        actor=operator,
    )
    csv = f"email,company\r\ncsv1@{marker}-csv.example,{marker.title()} CSV Ltd\r\nnot-an-email,{marker}\r\n"
    import_leads_from_csv(
        campaign=live, file=io.BytesIO(csv.encode()), filename=f"{marker}.csv", actor=operator
    )
    leads = list(Lead.objects.filter(campaign=live).order_by("id"))
    for step in ("mark_contacted", "qualify"):
        transition_lead(lead=leads[3], transition=step, actor=operator, rationale="seed")
        transition_lead(lead=leads[4], transition=step, actor=operator, rationale="seed")
    run_cycle(campaign_id=live.pk, dry_run=True)  # enrols the other leads and records dry-run messages
    record_outcome(lead=leads[3], deal_value="1200", note=f"{marker} deal", actor=operator)
    record_spend(campaign=live, kind="manual", amount="150", actor=operator, description=marker)
    generate_operator_tasks(campaign=live, actor=operator)
    task = OperatorTask.objects.filter(campaign=live).order_by("due_at", "id").first()
    start_task(task=task, actor=operator)
    complete_task(task=task, actor=operator, proof_url=f"https://www.linkedin.com/posts/{marker}-1")
    record_metrics(task=task, actor=operator, impressions=120, engagements=9, clicks=3)
    build_weekly_summary(campaign=live, week_start=START)
    add_suppression(
        reason="manual_dnc", email=f"nope@{marker}-suppressed.example", client=client, actor=operator
    )
    # A global entry (client=None) caused by this client's mail, carrying the ESP's text: no other
    # client may read it (issue 15, point 8).
    add_suppression(
        reason="hard_bounce",
        email=f"gone@{marker}-bounced.example",
        source="mailgun bounce",
        note=f"550 5.1.1 <gone@{marker}-bounced.example>: user unknown",
    )
    world.campaigns["active"] = live
    # A webhook endpoint with one (failed) ping in its log: saved while loopback is allowed, so the
    # ping is refused at once, without the network.
    with override_settings(AICMO_WEBHOOKS_ALLOW_PRIVATE=True):
        endpoint, _ = create_endpoint(
            client=client,
            url=f"https://127.0.0.1:9/{marker}",
            event_types=["lead.won"],
            description=f"{marker.title()} CRM",
            actor=operator,
        )
    send_test_ping(endpoint=endpoint, actor=operator)

    paused = _campaign(client, marker, "paused", channels=["email"])
    set_compliance_policy(campaign=paused, actor=operator, require_strategy_approval=False)
    for step in ("start_planning", "submit_for_approval", "approve", "activate", "pause"):
        paused = transition_campaign(campaign=paused, transition=step, actor=operator, rationale="seed")
    world.campaigns["paused"] = paused

    cancelled = _campaign(client, marker, "cancelled")
    kill_campaign(campaign=cancelled, actor=operator, rationale="client changed plans")
    world.campaigns["cancelled"] = cancelled

    world.ids = collect_ids(client, user)
    return world


def collect_ids(client: Client, user: User) -> dict[str, set[int]]:
    """Every id, per table, that belongs to this client (looked up after seeding, so objects the
    services created on their own, like follow-up tasks and plans, are included)."""
    by_campaign = {"campaign__client": client}
    ids = {
        "client": {client.pk},
        "user": {user.pk},
        "campaign": set(Campaign.objects.filter(client=client).values_list("pk", flat=True)),
        "suppression": set(Suppression.objects.filter(client=client).values_list("pk", flat=True)),
    }
    lookups = {
        "brief": (Brief, by_campaign),
        "strategy_batch": (StrategyBatch, by_campaign),
        "strategy_variant": (StrategyVariant, by_campaign),
        "plan": (CampaignPlan, by_campaign),
        "calendar_item": (CalendarItem, by_campaign),
        "creative_brief": (CreativeBrief, by_campaign),
        "creative": (CreativeVariant, by_campaign),
        "lead": (Lead, by_campaign),
        "lead_import": (LeadImport, by_campaign),
        "sequence": (Sequence, by_campaign),
        "sequence_step": (SequenceStep, {"sequence__campaign__client": client}),
        "step_variant": (StepVariant, {"step__sequence__campaign__client": client}),
        "enrollment": (Enrollment, by_campaign),
        "message": (Message, by_campaign),
        "operator_task": (OperatorTask, by_campaign),
        "metric_entry": (MetricEntry, {"task__campaign__client": client}),
        "spend_entry": (SpendEntry, by_campaign),
        "outcome": (Outcome, by_campaign),
        "weekly_summary": (WeeklySummary, by_campaign),
        "webhook_endpoint": (WebhookEndpoint, {"client": client}),
        "webhook_delivery": (WebhookDelivery, {"endpoint__client": client}),
    }
    for kind, (model, filters) in lookups.items():
        ids[kind] = set(model.objects.filter(**filters).values_list("pk", flat=True))
    return ids


def assert_world_is_complete(world: ClientWorld) -> None:
    """The seed must give every list and detail endpoint something to show."""
    empty = [kind for kind, ids in world.ids.items() if not ids]
    assert not empty, f"{world.marker}: no seeded {', '.join(empty)}"
    states = set(
        CreativeVariant.objects.filter(campaign__client=world.client).values_list("state", flat=True)
    )
    assert {CreativeState.APPROVED, CreativeState.REJECTED, CreativeState.DRAFT} <= states, states
