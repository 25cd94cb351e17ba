"""Campaign list live metrics at scale: `list_metrics_for_campaigns` (and the full
`metrics_for_campaigns`) for a page of campaigns against one raw SQL aggregate returning the same
numbers, in the same run, at several page sizes. Needs PostgreSQL (DATABASE_URL) and a fresh
database; it migrates and seeds it.

    DATABASE_URL=postgres://… .venv/bin/python bench/reporting_metrics.py --campaigns 1000 --leads 1000000

Prints the query count per page size (constant) and median latencies with their ratio to the raw
aggregate (target: within 5x).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aicmo_site.settings")

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from tqdm import tqdm  # noqa: E402

from campaigns.models import Campaign, Client  # noqa: E402
from leads.models import Lead, LeadState  # noqa: E402
from reporting.executive import executive_summary  # noqa: E402
from reporting.selectors.metrics import list_metrics_for_campaigns, metrics_for_campaigns  # noqa: E402

STATES = [
    LeadState.NEW,
    LeadState.CONTACTED,
    LeadState.REPLIED,
    LeadState.QUALIFIED,
    LeadState.WON,
    LeadState.LOST,
]
RAW = """
SELECT campaign_id, COUNT(*), COUNT(*) FILTER (WHERE state IN ('qualified', 'won'))
FROM leads_lead WHERE campaign_id = ANY(%s) GROUP BY campaign_id
"""


def seed(campaigns: int, leads: int) -> None:
    if Campaign.objects.count() >= campaigns:
        return
    client = Client.objects.create(name="Bench reporting", slug="bench-reporting")
    rows = Campaign.objects.bulk_create(
        Campaign(client=client, name=f"Bench {i}", target_clients=10, timezone="UTC")
        for i in range(campaigns)
    )
    ids = [c.pk for c in rows]
    batch = 20_000
    for start in tqdm(range(0, leads, batch), desc="leads", unit_scale=batch):
        Lead.objects.bulk_create(
            Lead(
                campaign_id=ids[i % len(ids)],
                email=f"p{i}@d{i % 997}.example",
                normalized_email=f"p{i}@d{i % 997}.example",
                email_domain=f"d{i % 997}.example",
                state=STATES[i % len(STATES)],
            )
            for i in range(start, min(start + batch, leads))
        )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def median_ms(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--campaigns", type=int, default=1000)
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--dashboard-leads", type=int, default=100_000, help="Leads of one extra campaign.")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("Needs PostgreSQL: set DATABASE_URL.")
    call_command("migrate", verbosity=0)
    seed(args.campaigns, args.leads)
    print(f"{Campaign.objects.count()} campaigns, {Lead.objects.count()} leads")
    from rest_framework.test import APIClient

    from campaigns.models import User

    staff, _ = User.objects.get_or_create(username="bench-api", defaults={"is_staff": True})
    api = APIClient()
    api.force_authenticate(staff)
    print(
        "page | queries list/full/API | raw ms | list ms (ratio) | full metrics ms (ratio) | API ms (ratio)"
    )
    for size in (10, 25, 100):

        def page(size=size):
            return list(Campaign.objects.order_by("pk")[:size])

        def raw(page=page):
            ids = [c.pk for c in page()]
            with connection.cursor() as cursor:
                cursor.execute(RAW, [ids])
                return cursor.fetchall()

        with CaptureQueriesContext(connection) as list_q:
            list_metrics_for_campaigns(page())
        with CaptureQueriesContext(connection) as full_q:
            metrics_for_campaigns(page())
        with CaptureQueriesContext(connection) as api_q:
            assert api.get("/api/v1/campaigns/", {"page_size": size}).status_code == 200
        raw_ms = median_ms(raw, args.repeats)
        api_ms = median_ms(lambda size=size: api.get("/api/v1/campaigns/", {"page_size": size}), args.repeats)
        list_ms = median_ms(lambda: list_metrics_for_campaigns(page()), args.repeats)
        full_ms = median_ms(lambda: metrics_for_campaigns(page()), args.repeats)
        print(
            f"{size:4d} | {len(list_q)}/{len(full_q)}/{len(api_q)} | {raw_ms:.1f} "
            f"| {list_ms:.1f} ({list_ms / raw_ms:.2f}x) | {full_ms:.1f} ({full_ms / raw_ms:.2f}x)"
            f" | {api_ms:.1f} ({api_ms / raw_ms:.2f}x)"
        )
    first = Campaign.objects.filter(name="Bench dashboard").first()
    if first is None:
        first = Campaign.objects.create(
            client=Client.objects.get(slug="bench-reporting"), name="Bench dashboard", target_clients=10
        )
        for start in tqdm(range(0, args.dashboard_leads, 20_000), desc="dashboard leads", unit_scale=20_000):
            Lead.objects.bulk_create(
                Lead(
                    campaign=first,
                    email=f"dash{i}@x{i % 997}.example",
                    normalized_email=f"dash{i}@x{i % 997}.example",
                    email_domain=f"x{i % 997}.example",
                    state=STATES[i % len(STATES)],
                )
                for i in range(start, min(start + 20_000, args.dashboard_leads))
            )
    with CaptureQueriesContext(connection) as dash_q:
        executive_summary(first)
    dash_ms = median_ms(lambda: executive_summary(first), max(3, args.repeats // 3))
    print(
        f"dashboard numbers (executive_summary) of a campaign with {first.leads.count()} leads: "
        f"{len(dash_q)} queries, {dash_ms:.1f} ms"
    )


if __name__ == "__main__":
    main()
