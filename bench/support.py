"""Shared set-up for benchmarks: campaigns built through the real services, a backend that does
the real MIME work of sending and keeps nothing."""

from __future__ import annotations

import datetime as dt

from django.core.mail.backends.base import BaseEmailBackend


class SerializingBackend(BaseEmailBackend):
    """Builds every message's bytes (what an SMTP or HTTP backend must do) and drops them."""

    def send_messages(self, email_messages):
        for message in email_messages:
            message.message().as_bytes()
        return len(email_messages)


def make_live_campaign(n: int, *, leads: int, cap: int):
    from campaigns.models import Client, User
    from campaigns.services.clients import create_client
    from campaigns.services.editing import create_campaign, set_campaign_mode
    from campaigns.services.policy import set_compliance_policy
    from campaigns.services.transitions import activate_campaign
    from creative import services as creative_services
    from creative.models import CreativeVariant
    from leads.services import bulk_add_leads
    from outreach.services.sending import create_sequence
    from strategy import services as strategy_services

    operator, _ = User.objects.get_or_create(
        username="bench-operator", defaults={"is_staff": True, "is_superuser": True}
    )
    client = Client.objects.filter(name=f"Bench client {n}").first() or create_client(
        name=f"Bench client {n}"
    )
    from django.utils import timezone

    today = timezone.localdate()
    campaign = create_campaign(
        client=client,
        name=f"Bench campaign {n}",
        actor=operator,
        channels=["email"],
        daily_email_cap=cap,
        start_date=today,
        end_date=today + dt.timedelta(days=60),
    )
    set_compliance_policy(
        campaign=campaign, actor=operator, sender_postal_address="1 Bench Street, Springfield"
    )
    strategy_services.save_brief(
        campaign=campaign, objective="Book calls", audience="Ops", offer="Routing", channels=["email"]
    )
    strategy_services.generate_and_approve_strategy(campaign=campaign, actor=operator, rationale="bench")
    creative_services.generate_creatives(campaign=campaign, actor=operator, platforms=["email"], variants=2)
    creatives = list(CreativeVariant.objects.filter(campaign=campaign))
    for creative in creatives:
        creative_services.approve_creative(variant=creative, actor=operator)
    activate_campaign(campaign=campaign, actor=operator)
    campaign = set_campaign_mode(campaign=campaign, mode="live", actor=operator, rationale="bench")
    sequence = create_sequence(
        campaign=campaign, name="Bench", actor=operator, steps=[{"creatives": [c.pk for c in creatives]}]
    )
    bulk_add_leads(
        campaign=campaign,
        records=({"email": f"p{i}@c{n}-{i % 97}.example", "timezone": "UTC"} for i in range(leads)),
    )
    return campaign, sequence


def clone_outreach_rows(*, source, source_sequence, target, target_sequence, tag: str) -> int:
    """Copy the source campaign's leads, enrollments and scheduled messages into the target campaign
    (addresses prefixed with ``tag``) with three INSERT … SELECT statements, so a large benchmark sets
    up 100 campaigns without rendering a million messages one by one. PostgreSQL only; the source
    was built through the real services, the copies differ in campaign, ids and addresses."""
    from django.db import connection

    from leads.models import Lead
    from outreach.models import Enrollment, Message, SequenceStep, StepVariant

    def columns(model, skip=("id",)):
        return [f.column for f in model._meta.concrete_fields if f.column not in skip]

    q = connection.ops.quote_name  # a column may be a reserved word (Message.references)

    def prefixed(column):
        return f"%(tag)s || {column}"

    lead_cols = columns(Lead)
    lead_select = [
        "%(target)s" if c == "campaign_id" else prefixed(c) if c in ("email", "normalized_email") else q(c)
        for c in lead_cols
    ]
    enrollment_cols = columns(Enrollment)
    enrollment_select = [
        {
            "campaign_id": "%(target)s",
            "sequence_id": "%(target_sequence)s",
            "lead_id": "nl.id",
        }.get(c, f"e.{q(c)}")
        for c in enrollment_cols
    ]
    message_cols = columns(Message)
    message_select = [
        {
            "campaign_id": "%(target)s",
            "enrollment_id": "ne.id",
            "lead_id": "nl.id",
            "step_id": "ns.id",
            "step_variant_id": "nv.id",
            "to_email": prefixed("m.to_email"),
        }.get(c, f"m.{q(c)}")
        for c in message_cols
    ]
    params = {
        "target": target.pk,
        "source": source.pk,
        "target_sequence": target_sequence.pk,
        "source_sequence": source_sequence.pk,
        "tag": tag,
    }
    lead_table, enrollment_table = Lead._meta.db_table, Enrollment._meta.db_table
    step_table, variant_table = SequenceStep._meta.db_table, StepVariant._meta.db_table
    with connection.cursor() as cursor:
        # The copies are new rows the planner has no statistics for: without this it picks nested
        # loops over sequential scans (minutes instead of a second for 10,000 rows).
        cursor.execute("SET enable_nestloop = off")
        cursor.execute(
            f"INSERT INTO {lead_table} ({', '.join(map(q, lead_cols))}) "
            f"SELECT {', '.join(lead_select)} FROM {lead_table} WHERE campaign_id = %(source)s",
            params,
        )
        cursor.execute(
            f"INSERT INTO {enrollment_table} ({', '.join(map(q, enrollment_cols))}) "
            f"SELECT {', '.join(enrollment_select)} FROM {enrollment_table} e "
            f"JOIN {lead_table} ol ON ol.id = e.lead_id "
            f"JOIN {lead_table} nl ON nl.campaign_id = %(target)s "
            f"AND nl.normalized_email = %(tag)s || ol.normalized_email "
            f"WHERE e.sequence_id = %(source_sequence)s",
            params,
        )
        cursor.execute(
            f"INSERT INTO {Message._meta.db_table} ({', '.join(map(q, message_cols))}) "
            f"SELECT {', '.join(message_select)} FROM {Message._meta.db_table} m "
            f"JOIN {lead_table} ol ON ol.id = m.lead_id "
            f"JOIN {lead_table} nl ON nl.campaign_id = %(target)s "
            f"AND nl.normalized_email = %(tag)s || ol.normalized_email "
            f"JOIN {enrollment_table} ne ON ne.lead_id = nl.id AND ne.sequence_id = %(target_sequence)s "
            f"JOIN {step_table} os ON os.id = m.step_id "
            f"JOIN {step_table} ns ON ns.sequence_id = %(target_sequence)s AND ns.position = os.position "
            f"JOIN {variant_table} ov ON ov.id = m.step_variant_id "
            f"JOIN {variant_table} nv ON nv.step_id = ns.id AND nv.label = ov.label "
            f"WHERE m.campaign_id = %(source)s",
            params,
        )
        copied = cursor.rowcount
        cursor.execute("RESET enable_nestloop")
        return copied
