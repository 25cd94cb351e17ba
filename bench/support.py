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
    from campaigns import services as campaign_services
    from campaigns.models import Client, User
    from creative import services as creative_services
    from creative.models import CreativeVariant
    from leads.services import bulk_add_leads
    from outreach.services import create_sequence
    from strategy import services as strategy_services

    operator, _ = User.objects.get_or_create(
        username="bench-operator", defaults={"is_staff": True, "is_superuser": True}
    )
    client = Client.objects.filter(name=f"Bench client {n}").first() or campaign_services.create_client(
        name=f"Bench client {n}"
    )
    from django.utils import timezone

    today = timezone.localdate()
    campaign = campaign_services.create_campaign(
        client=client,
        name=f"Bench campaign {n}",
        actor=operator,
        channels=["email"],
        daily_email_cap=cap,
        start_date=today,
        end_date=today + dt.timedelta(days=60),
    )
    campaign_services.set_compliance_policy(
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
    campaign_services.activate_campaign(campaign=campaign, actor=operator)
    campaign = campaign_services.set_campaign_mode(
        campaign=campaign, mode="live", actor=operator, rationale="bench"
    )
    sequence = create_sequence(
        campaign=campaign, name="Bench", actor=operator, steps=[{"creatives": [c.pk for c in creatives]}]
    )
    bulk_add_leads(
        campaign=campaign,
        records=({"email": f"p{i}@c{n}-{i % 97}.example", "timezone": "UTC"} for i in range(leads)),
    )
    return campaign, sequence
