"""A client report and its PDF for one campaign with many leads: time, queries, peak memory.

Seeds one campaign through the real services (brief, approved strategy and creative, a sequence
with two A/B variants), then writes its leads in bulk across every lead state, a live message for
each contacted lead with opens and replies, and operator tasks; then builds the report the way beat
does (``build_client_report``: the dashboard's selectors, the PDF, the storage) and a delivery
package, each measured on its own.

    scripts/run-bench.sh bench/client_report.py --leads 100000          # PostgreSQL, throwaway
    AICMO_VAR_DIR=$(mktemp -d) .venv/bin/python bench/client_report.py --leads 5000   # SQLite

Peak memory is Python's own allocations during the build (tracemalloc, in a separate run so the
tracing does not slow the timed one) plus the process's resident peak.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aicmo_site.settings")

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402
from tqdm import tqdm  # noqa: E402

from leads.models import Lead, LeadState  # noqa: E402
from outreach.models import Enrollment, Message, MessageEvent, MessageState, StepVariant  # noqa: E402

BATCH = 5_000
# Lead states in proportion (of every 20 leads): most still new or contacted, a few qualified or won.
STATES = (
    [LeadState.NEW] * 6
    + [LeadState.CONTACTED] * 9
    + [LeadState.REPLIED] * 2
    + [LeadState.QUALIFIED, LeadState.WON, LeadState.LOST]
)
CONTACTED = {LeadState.CONTACTED, LeadState.REPLIED, LeadState.QUALIFIED, LeadState.WON, LeadState.LOST}


def seed(leads: int):
    from campaigns.models import Client, User
    from campaigns.services.clients import create_client
    from campaigns.services.editing import create_campaign
    from campaigns.services.transitions import activate_campaign
    from creative import services as creative_services
    from creative.models import CreativeVariant
    from outreach.services.sending import create_sequence
    from strategy import services as strategy_services

    operator, _ = User.objects.get_or_create(
        username="bench-operator", defaults={"is_staff": True, "is_superuser": True}
    )
    client = Client.objects.filter(name="Bench reports").first() or create_client(name="Bench reports")
    today = timezone.localdate()
    campaign = create_campaign(
        client=client,
        name=f"Bench report campaign ({leads} leads)",
        actor=operator,
        channels=["email"],
        target_clients=500,
        start_date=today - dt.timedelta(days=30),
        end_date=today + dt.timedelta(days=60),
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
    sequence = create_sequence(
        campaign=campaign, name="Bench", actor=operator, steps=[{"creatives": [c.pk for c in creatives]}]
    )
    variants = list(StepVariant.objects.filter(step__sequence=sequence).select_related("step"))
    now = timezone.now()
    for start in tqdm(range(0, leads, BATCH), desc="leads, messages, events", unit_scale=BATCH):
        rows = Lead.objects.bulk_create(
            Lead(
                campaign=campaign,
                email=f"r{i}@d{i % 997}.example",
                normalized_email=f"r{i}@d{i % 997}.example",
                email_domain=f"d{i % 997}.example",
                state=STATES[i % len(STATES)],
            )
            for i in range(start, min(start + BATCH, leads))
        )
        contacted = [lead for lead in rows if lead.state in CONTACTED]
        enrollments = Enrollment.objects.bulk_create(
            Enrollment(campaign=campaign, sequence=sequence, lead=lead, enrolled_at=now) for lead in contacted
        )
        messages = Message.objects.bulk_create(
            Message(
                campaign=campaign,
                enrollment=enrollment,
                step=variants[n % 2].step,
                step_variant=variants[n % 2],
                lead=enrollment.lead,
                from_email="sender@agency.example",
                to_email=enrollment.lead.email,
                subject="Hello",
                body_text="Hi",
                dry_run=False,
                state=MessageState.SENT,
                scheduled_for=now - dt.timedelta(days=n % 28),
                sent_at=now - dt.timedelta(days=n % 28),
                created_at=now,
                updated_at=now,
            )
            for n, enrollment in enumerate(enrollments)
        )
        events = []
        for n, message in enumerate(messages):
            kinds = ["opened"] if n % 3 == 0 else []
            if message.lead.state in (LeadState.REPLIED, LeadState.QUALIFIED, LeadState.WON):
                kinds.append("replied")
            events += [
                MessageEvent(
                    campaign=campaign,
                    message=message,
                    kind=kind,
                    event_key=f"{kind}-{message.pk}",
                    occurred_at=message.sent_at,
                    created_at=message.sent_at,
                )
                for kind in kinds
            ]
        MessageEvent.objects.bulk_create(events)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return campaign


def measure(label: str, build) -> float:
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        result = build()
        seconds = time.perf_counter() - started
    tracemalloc.start()
    build()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    size = getattr(result, "pdf_bytes", None) or (result.pdf.size if getattr(result, "pdf", None) else 0)
    print(
        f"{label}: {seconds * 1000:.0f} ms, {len(queries)} queries, Python peak {peak / 1e6:.1f} MB "
        f"(process RSS peak {rss_mb:.0f} MB), PDF {size / 1024:.0f} KB"
    )
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--leads", type=int, default=100_000)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    from deliverables.services import build_client_report, build_delivery_package

    campaign = seed(args.leads)
    leads = Lead.objects.filter(campaign=campaign).count()
    sent = Message.objects.filter(campaign=campaign).count()
    print(f"{connection.vendor}: campaign {campaign.pk} with {leads} leads, {sent} live messages")
    # Warm-up: WeasyPrint loads its fonts and Pango once per process.
    build_client_report(client=campaign.client, campaign=campaign)
    from reporting.executive import executive_summary
    from reporting.selectors.metrics import campaign_metrics

    # Baseline: the dashboard's own numbers for the campaign (what the report reads), nothing rendered.
    baseline = measure(
        "baseline: the dashboard's numbers (executive summary + 7-day metrics)",
        lambda: (executive_summary(campaign), campaign_metrics(campaign, days=7)),
    )
    report = measure(
        "client report (numbers + PDF + storage)",
        lambda: build_client_report(client=campaign.client, campaign=campaign),
    )
    package = measure(
        "delivery package (PDF + ZIP + storage)", lambda: build_delivery_package(campaign=campaign)
    )
    print(f"ratio to the baseline: report {report / baseline:.1f}x, package {package / baseline:.1f}x")


if __name__ == "__main__":
    main()
