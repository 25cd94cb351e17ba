"""Fixtures for reporting: a real live campaign (sequence, step variants from approved creatives)
plus rows written in bulk with known counts, so every metric can be computed by hand."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from django.utils import timezone

from leads.models import Lead
from outreach.models import Enrollment, Message, MessageEvent, MessageState, StepVariant
from tests.outreach.sending.conftest import live_campaign  # noqa: F401  (re-exported fixture)

_counter = itertools.count()


def add_leads(campaign, states: dict[str, int]) -> list[Lead]:
    """Leads in the given states, written in one bulk insert."""
    rows = []
    for state, n in states.items():
        for _ in range(n):
            i = next(_counter)
            email = f"seed{i}@seed{i}.example"
            rows.append(
                Lead(
                    campaign=campaign,
                    email=email,
                    normalized_email=email,
                    email_domain=f"seed{i}.example",
                    state=state,
                )
            )
    return Lead.objects.bulk_create(rows)


def add_messages(
    campaign,
    variant: StepVariant,
    *,
    n: int,
    state: str = MessageState.SENT,
    dry_run: bool = False,
    sent_at: dt.datetime | None = None,
    events: dict[str, int] | None = None,
    hard_bounce: bool = True,
) -> list[Message]:
    """`n` messages of one step variant (each to a new lead), and events on the first ones:
    events={"replied": 3} marks the first three messages replied."""
    now = timezone.now()
    sent_at = sent_at or now
    leads = add_leads(campaign, {"contacted": n})
    enrollments = Enrollment.objects.bulk_create(
        Enrollment(campaign=campaign, sequence=variant.step.sequence, lead=lead, enrolled_at=now)
        for lead in leads
    )
    messages = Message.objects.bulk_create(
        Message(
            campaign=campaign,
            enrollment=enrollment,
            step=variant.step,
            step_variant=variant,
            lead=enrollment.lead,
            from_email="sender@agency.example",
            to_email=enrollment.lead.email,
            subject="Hello",
            body_text="Hi",
            dry_run=dry_run,
            state=state,
            scheduled_for=sent_at,
            sent_at=sent_at if state == MessageState.SENT else None,
            created_at=sent_at,
            updated_at=sent_at,
        )
        for enrollment in enrollments
    )
    event_rows = []
    for kind, count in (events or {}).items():
        for message in messages[:count]:
            event_rows.append(
                MessageEvent(
                    campaign=campaign,
                    message=message,
                    kind=kind,
                    event_key=f"{kind}-{message.pk}-{next(_counter)}",
                    hard=hard_bounce if kind == "bounced" else False,
                    occurred_at=sent_at,
                    created_at=sent_at,
                )
            )
    MessageEvent.objects.bulk_create(event_rows)
    return messages


@pytest.fixture
def ab_campaign(live_campaign):  # noqa: F811
    """A live campaign with one step and two variants A and B, and no leads."""
    campaign, sequence = live_campaign(leads=0)
    variants = list(StepVariant.objects.filter(step__sequence=sequence).select_related("step__sequence"))
    variants.sort(key=lambda v: v.label)
    return campaign, variants
