"""Webhook ingestion benchmark: ESP tracking events POSTed in batches to anymail's real URL.

Builds one live campaign with M sent messages (default 2,000), then POSTs SparkPost tracking
webhooks — SparkPost posts a JSON array of many events per request, the real payload shape — to
``/anymail/sparkpost/tracking/`` through the Django test client (the whole request path: URL
resolution, middleware, anymail's basic-auth check and parsing, our signal receiver). The events
are a mix per message: delivered (all), opened (60 %), clicked (20 %), hard bounces (2 %, instead
of delivered), spam complaints (0.1 %), plus 5 % re-deliveries of events already sent (same event
id, as ESPs retry). Prints in one run:

- ingest: events/s over all POSTs (target ≥ 1,000 events/s on PostgreSQL);
- bare: the same events inserted straight into the MessageEvent table with one bulk INSERT per
  batch (no HTTP, no parsing, no look-ups, no dedup logic, no actions): the floor of the cost;

then checks the outcome: one row per distinct event, every bounced/complained address suppressed.
Not a test: no assertions on time.

    scripts/run-bench.sh bench/webhook_ingest.py [--messages N] [--batch N]
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import json
import logging
import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aicmo_site.settings")
SECRET = "bench-hooks:bench-secret"
os.environ["ANYMAIL_WEBHOOK_SECRET"] = SECRET


def sparkpost_event(message, kind: str, event_id: str, timestamp: int) -> dict:
    """One SparkPost event in its real webhook shape ({"msys": {<class>: {...}}})."""
    body = {
        "event_id": event_id,
        "timestamp": str(timestamp),
        "transmission_id": message.provider_message_id or f"tx-{message.pk}",
        "message_id": f"0004{message.pk:016x}",
        "rcpt_to": message.to_email.lower(),
        "raw_rcpt_to": message.to_email,
        "rcpt_meta": {"aicmo_message_id": str(message.pk), "campaign_id": str(message.campaign_id)},
        "campaign_id": f"campaign-{message.campaign_id}",
        "customer_id": "1",
    }
    if kind == "bounce":
        body |= {
            "type": "bounce",
            "bounce_class": "10",
            "error_code": "550",
            "raw_reason": f"550 5.1.1 <{message.to_email}>: Recipient address rejected: User unknown",
            "reason": "550 5.1.1 ...@... Recipient address rejected: ...",
        }
        return {"msys": {"message_event": body}, "cust": {"id": "1"}}
    if kind == "spam_complaint":
        body |= {"type": "spam_complaint", "fbtype": "abuse", "report_by": "isp.example"}
        return {"msys": {"message_event": body}}
    if kind in ("open", "click"):
        body |= {"type": kind, "user_agent": "Mozilla/5.0", "ip_address": "203.0.113.7"}
        if kind == "click":
            body["target_link_url"] = "https://example.com/offer"
        return {"msys": {"track_event": body}}
    body |= {"type": "delivery", "queue_time": "1200", "num_retries": "0"}
    return {"msys": {"message_event": body}}


def build_events(messages, rng: random.Random) -> tuple[list[dict], set[str], set[str]]:
    """Events per message in the order an ESP reports them, then 5 % re-sent duplicates."""
    events: list[dict] = []
    suppressed: set[str] = set()
    base = 1772445600
    for n, message in enumerate(messages):
        roll = rng.random()
        if roll < 0.02:
            kinds = ["bounce"]
            suppressed.add(message.to_email.lower())
        else:
            kinds = ["delivery"]
            if rng.random() < 0.6:
                kinds.append("open")
                if rng.random() < 1 / 3:
                    kinds.append("click")
            if roll > 0.999:
                kinds.append("spam_complaint")
                suppressed.add(message.to_email.lower())
        for i, kind in enumerate(kinds):
            events.append(sparkpost_event(message, kind, f"ev-{message.pk}-{kind}", base + n + i))
    distinct = {next(iter(e["msys"].values()))["event_id"] for e in events}
    duplicates = rng.sample(events, k=len(events) // 20)
    for duplicate in duplicates:  # a retried delivery lands a little later in the stream
        events.insert(min(len(events), events.index(duplicate) + rng.randint(1, 500)), duplicate)
    return events, distinct, suppressed


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument(
        "--batch", type=int, default=1000, help="events per POST (SparkPost sends up to ~1,000)"
    )
    parser.add_argument(
        "--url",
        default="/api/v1/webhooks/sparkpost/tracking/",
        help="the batched view (default) or anymail's own /anymail/sparkpost/tracking/ (one write per event)",
    )
    parser.add_argument("--profile", help="write a cProfile of the ingest loop to this file")
    args = parser.parse_args()

    import django

    django.setup()
    logging.disable(logging.INFO)
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.test import Client

    settings.AICMO_COST_PER_EMAIL = 0
    call_command("migrate", verbosity=0)

    import time_machine

    from bench.support import SerializingBackend, make_live_campaign
    from leads.models import Suppression
    from outreach.models import Message, MessageEvent, MessageEventKind, MessageState
    from outreach.services.sending import enroll_leads, schedule_due_messages, send_due_messages

    time_machine.travel(dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC), tick=True).start()
    print(f"database: {connection.vendor}; {args.messages} sent messages, {args.batch} events per POST")
    started = time.perf_counter()
    campaign, sequence = make_live_campaign(
        random.randint(20_000, 10**9), leads=args.messages, cap=args.messages + 10
    )
    enroll_leads(campaign=campaign, sequence=sequence)
    schedule_due_messages(campaign=campaign)
    send_due_messages(campaign_id=campaign.pk, dry_run=False, chunk_size=500, connection=SerializingBackend())
    messages = list(Message.objects.filter(campaign=campaign, state=MessageState.SENT).order_by("id"))
    events, distinct, suppressed = build_events(messages, random.Random(5))
    batches = [events[i : i + args.batch] for i in range(0, len(events), args.batch)]
    bodies = [json.dumps(batch) for batch in batches]
    print(
        f"set-up: {len(messages)} sent messages, {len(events)} events ({len(distinct)} distinct) "
        f"in {len(batches)} POSTs, {time.perf_counter() - started:.1f} s"
    )

    # bare: the same events straight into the table, one bulk INSERT per batch, then rolled back
    kinds = {
        "delivery": MessageEventKind.DELIVERED,
        "open": MessageEventKind.OPENED,
        "click": MessageEventKind.CLICKED,
        "bounce": MessageEventKind.BOUNCED,
        "spam_complaint": MessageEventKind.COMPLAINED,
    }
    now = dt.datetime.now(dt.UTC)
    with transaction.atomic():
        t0 = time.perf_counter()
        for batch in batches:
            rows = []
            for raw in batch:
                event = next(iter(raw["msys"].values()))
                rows.append(
                    MessageEvent(
                        campaign_id=int(event["rcpt_meta"]["campaign_id"]),
                        message_id=int(event["rcpt_meta"]["aicmo_message_id"]),
                        kind=kinds[event["type"]],
                        event_key=f"bare:{event['event_id']}",
                        provider="SparkPost",
                        occurred_at=now,
                        created_at=now,
                    )
                )
            MessageEvent.objects.bulk_create(rows, ignore_conflicts=True)
        bare = time.perf_counter() - t0
        transaction.set_rollback(True)

    client = Client()
    auth = {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(SECRET.encode()).decode()}
    # warm-up: the first request imports the URL modules and views (a running server has done so)
    client.post(args.url, data="[]", content_type="application/json", **auth)
    profiler = None
    if args.profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    t0 = time.perf_counter()
    for body in bodies:
        response = client.post(args.url, data=body, content_type="application/json", **auth)
        if response.status_code != 200:
            raise SystemExit(f"webhook answered {response.status_code}: {response.content[:300]!r}")
    ingest = time.perf_counter() - t0
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(args.profile)

    stored = MessageEvent.objects.filter(campaign=campaign).count()
    suppressed_now = Suppression.objects.filter(value__in=suppressed).count()
    print(f"bare insert: {len(events):>7} events in {bare:6.2f} s = {len(events) / bare:8.0f} events/s")
    print(f"ingest     : {len(events):>7} events in {ingest:6.2f} s = {len(events) / ingest:8.0f} events/s")
    print(f"ratio ingest/bare: {bare / ingest:.2f}; target ≥ 1,000 events/s on PostgreSQL")
    print(
        f"check: {stored} event rows for {len(distinct)} distinct events; "
        f"{suppressed_now} of {len(suppressed)} bounced/complained addresses suppressed"
    )
    if stored != len(distinct) or suppressed_now != len(suppressed):
        raise SystemExit("ingestion outcome is wrong")


if __name__ == "__main__":
    main()
