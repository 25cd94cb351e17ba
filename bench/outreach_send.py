"""Outreach send benchmark: the engine against a bare loop over the same email backend.

Builds C active live campaigns x L leads each (default 10 x 1,000; the issue's full scale is
``--campaigns 100 --leads 10000``), schedules every first step, then measures in one run:

- bare: a loop that builds each already-rendered message exactly as the engine does and hands it
  to the backend, one call per message, with no checks and no database;
- engine: ``send_due_messages`` for every campaign (claims under lock, caps, windows,
  contactability, share lock against kills, bulk state updates, enrollments, spend, audit);

and prints messages/s for both, their ratio (target: engine ≥ 0.5 x bare), and the queries one
chunk costs at two chunk sizes (target: equal). Not a test: no assertions on time.

    DATABASE_URL=postgres://… .venv/bin/python bench/outreach_send.py [--campaigns N] [--leads N]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aicmo_site.settings")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--campaigns", type=int, default=10)
    parser.add_argument("--leads", type=int, default=1000)
    parser.add_argument("--chunk", type=int, default=50)
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    settings.AICMO_COST_PER_EMAIL = 0  # spend booking is measured too, but without a cap
    call_command("migrate", verbosity=0)

    import time_machine

    from bench.support import SerializingBackend, make_live_campaign
    from outreach.models import Message, MessageState
    from outreach.services import enroll_leads, schedule_due_messages, send_due_messages
    from outreach.services.sending import _build_email

    # Inside everyone's send window (a Monday, 10:00 UTC); the clock keeps ticking from there.
    time_machine.travel(dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC), tick=True).start()
    print(f"database: {connection.vendor}; {args.campaigns} campaigns x {args.leads} leads")
    started = time.perf_counter()
    campaigns = []
    for n in range(args.campaigns):
        campaign, sequence = make_live_campaign(n, leads=args.leads, cap=args.leads + 10)
        enroll_leads(campaign=campaign, sequence=sequence)
        schedule_due_messages(campaign=campaign)
        campaigns.append(campaign)
    total = Message.objects.filter(campaign__in=campaigns, state=MessageState.SCHEDULED).count()
    print(f"set-up: {total} scheduled messages in {time.perf_counter() - started:.1f} s")

    # bare loop: the same rendered messages, the same backend, nothing else
    messages = list(Message.objects.filter(campaign__in=campaigns).order_by("id"))
    for m in messages:
        m.rfc_message_id = m.rfc_message_id or f"<bench.{m.pk}@aicmo.local>"
    backend = SerializingBackend()
    t0 = time.perf_counter()
    for m in messages:
        backend.send_messages([_build_email(m, backend)])
    bare = time.perf_counter() - t0
    bare_rate = len(messages) / bare

    # engine: every campaign's due messages through the real send path
    backend = SerializingBackend()
    t0 = time.perf_counter()
    sent = 0
    for campaign in campaigns:
        sent += send_due_messages(
            campaign_id=campaign.pk, dry_run=False, chunk_size=args.chunk, connection=backend
        ).sent
    engine = time.perf_counter() - t0
    engine_rate = sent / engine

    # queries per chunk at two chunk sizes (a fresh campaign each)
    per_chunk = {}
    for size in (10, 100):
        campaign, sequence = make_live_campaign(10_000 + size, leads=size + 1, cap=size + 10)
        enroll_leads(campaign=campaign, sequence=sequence)
        schedule_due_messages(campaign=campaign)
        with CaptureQueriesContext(connection) as queries:
            send_due_messages(
                campaign_id=campaign.pk,
                dry_run=False,
                chunk_size=size,
                max_chunks=1,
                connection=SerializingBackend(),
            )
        per_chunk[size] = len(queries.captured_queries)

    print(f"bare loop : {len(messages):>8} messages in {bare:7.2f} s = {bare_rate:9.0f} msg/s")
    print(f"engine    : {sent:>8} messages in {engine:7.2f} s = {engine_rate:9.0f} msg/s")
    print(f"ratio engine/bare: {engine_rate / bare_rate:.2f} (target ≥ 0.50)")
    print(f"queries per chunk: size 10 → {per_chunk[10]}, size 100 → {per_chunk[100]} (target: equal)")


if __name__ == "__main__":
    main()
