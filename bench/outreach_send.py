"""Outreach send benchmark: the engine against a bare loop over the same email backend.

Builds C active live campaigns x L leads each (default 10 x 1,000; the full target scale is
``--campaigns 100 --leads 10000``), enrolls them and schedules every first step, so C x L messages
are due. The first campaign is built through the real services (import, enrollment, rendering);
on PostgreSQL the others get copies of its leads, enrollments and messages with INSERT … SELECT
(a million messages rendered one by one would take most of an hour). Then, in one run:

- bare: a loop that builds each already-rendered message exactly as the engine does and hands it
  to the backend, one call per message, with no checks and no database (over a sample of
  ``--bare-sample`` messages: its rate does not depend on how many there are);
- engine, once per chunk size in ``--chunks``: ``send_due_messages`` for every campaign, each sending
  ``--per-campaign`` messages (claims under lock, caps, windows, contactability, share lock against
  kills, state updates, enrollments, first-contact lead states, spend, audit) out of the
  L due ones, so the queries run against the full tables;

and prints messages/s for both, their ratio (target: engine ≥ 0.5 x bare), and the queries one
chunk costs at two chunk sizes (target: equal). Not a test: no assertions on time.

    scripts/run-bench.sh bench/outreach_send.py [--campaigns N] [--leads N] [--per-campaign N]
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
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
    parser.add_argument("--chunks", default="50,500", help="chunk sizes to time, comma-separated")
    parser.add_argument(
        "--per-campaign",
        type=int,
        default=0,
        help="messages each engine pass sends per campaign (0: leads / passes)",
    )
    parser.add_argument("--bare-sample", type=int, default=5_000)
    parser.add_argument("--profile", help="write a cProfile of the first engine pass to this file")
    args = parser.parse_args()
    chunks = [int(c) for c in args.chunks.split(",")]
    per_campaign = args.per_campaign or args.leads // len(chunks)

    import django

    django.setup()
    logging.disable(logging.INFO)
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from tqdm import tqdm

    settings.AICMO_COST_PER_EMAIL = 0  # spend booking is measured too, but without a cap
    call_command("migrate", verbosity=0)

    import time_machine

    from bench.support import SerializingBackend, clone_outreach_rows, make_live_campaign
    from outreach.models import Message, MessageState
    from outreach.services.sending import enroll_leads, schedule_due_messages, send_due_messages
    from outreach.services.sending.compose import build_email

    # Inside everyone's send window (a Monday, 10:00 UTC); the clock keeps ticking from there.
    time_machine.travel(dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC), tick=True).start()
    print(f"database: {connection.vendor}; {args.campaigns} campaigns x {args.leads} leads")
    started = time.perf_counter()
    campaigns = []
    source = None
    for n in tqdm(range(args.campaigns), desc="set-up", unit="campaign"):
        copy = source is not None and connection.vendor == "postgresql"
        campaign, sequence = make_live_campaign(n, leads=0 if copy else args.leads, cap=args.leads + 10)
        if copy:
            clone_outreach_rows(
                source=source[0],
                source_sequence=source[1],
                target=campaign,
                target_sequence=sequence,
                tag=f"c{n}.",
            )
        else:
            enroll_leads(campaign=campaign, sequence=sequence)
            schedule_due_messages(campaign=campaign)
            source = source or (campaign, sequence)
        campaigns.append(campaign)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    total = Message.objects.filter(campaign__in=campaigns, state=MessageState.SCHEDULED).count()
    print(f"set-up: {total} scheduled messages in {time.perf_counter() - started:.1f} s")

    # bare loop: the same rendered messages, the same backend, nothing else
    messages = list(Message.objects.filter(campaign__in=campaigns).order_by("id")[: args.bare_sample])
    for m in messages:
        m.rfc_message_id = m.rfc_message_id or f"<bench.{m.pk}@aicmo.local>"

    def bare_loop() -> float:
        """messages/s of the bare loop over the sample"""
        backend = SerializingBackend()
        t0 = time.perf_counter()
        for m in messages:
            backend.send_messages([build_email(m, backend)])
        return len(messages) / (time.perf_counter() - t0)

    # This machine's speed drifts by up to 2x over minutes: each engine pass is compared with the
    # mean of bare loops timed just before and just after it.
    bare_rate = bare_loop()
    print(f"bare loop : {len(messages):>8} messages, {bare_rate:9.0f} msg/s")

    # engine: every campaign's due messages through the real send path, once per chunk size
    for index, chunk in enumerate(chunks):
        backend = SerializingBackend()
        profiler = None
        if args.profile and index == 0:
            import cProfile

            profiler = cProfile.Profile()
            profiler.enable()
        t0 = time.perf_counter()
        sent = 0
        for campaign in tqdm(campaigns, desc=f"engine, chunk {chunk}", unit="campaign", leave=False):
            sent += send_due_messages(
                campaign_id=campaign.pk,
                dry_run=False,
                chunk_size=chunk,
                # +1: a run's first claim takes one message (the provider's pace is not known yet)
                max_chunks=max(1, per_campaign // chunk) + 1,
                connection=backend,
            ).sent
        engine = time.perf_counter() - t0
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(args.profile)
        engine_rate = sent / engine
        bare_after = bare_loop()
        baseline = (bare_rate + bare_after) / 2
        print(
            f"engine    : {sent:>8} messages in {engine:7.2f} s = {engine_rate:9.0f} msg/s "
            f"(chunk {chunk}); bare before/after {bare_rate:.0f}/{bare_after:.0f} msg/s; "
            f"ratio engine/bare {engine_rate / baseline:.2f} (target ≥ 0.50)"
        )
        bare_rate = bare_after

    # queries per chunk at two chunk sizes (a fresh campaign each): a run of two claims, the first
    # of one message (the pace is not known yet), the second of the whole chunk
    per_chunk = {}
    for size in (10, 100):
        campaign, sequence = make_live_campaign(10_000 + size, leads=size + 2, cap=size + 10)
        enroll_leads(campaign=campaign, sequence=sequence)
        schedule_due_messages(campaign=campaign)
        with CaptureQueriesContext(connection) as queries:
            send_due_messages(
                campaign_id=campaign.pk,
                dry_run=False,
                chunk_size=size,
                max_chunks=2,
                connection=SerializingBackend(),
            )
        per_chunk[size] = len(queries.captured_queries)
    print(f"queries per chunk: size 10 → {per_chunk[10]}, size 100 → {per_chunk[100]} (target: equal)")


if __name__ == "__main__":
    main()
