"""`manage.py demo`: run a whole campaign end to end on the current database and print its report."""

from __future__ import annotations

import datetime as dt
import io
import logging
import sys
import time
import zoneinfo
from contextlib import contextmanager

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, OutputWrapper
from django.utils import timezone

from campaigns.demo_accounts import DEMO_REFUSED_MESSAGE, demo_accounts_allowed
from campaigns.errors import DomainError
from campaigns.models import Campaign
from demo.clock import TravellingClock
from demo.report import import_lines, report_lines, table, timeline_lines
from demo.scenario import (
    CAMPAIGN_PREFIX,
    TIMEZONE,
    DayLog,
    create_demo_campaign,
    ensure_people_and_client,
    import_sample_leads,
    launch,
    plan_strategy,
    prepare_creative,
    simulate_days,
    working_days,
)

STEPS = 8


class Command(BaseCommand):
    help = (
        "Run a complete demo campaign as an operator would (strategy, approvals, creative, CSV import, "
        "five simulated working days of live sending with webhooks and replies, a won deal) and print "
        "its report and audit timeline. Each run makes a new demo campaign."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--start",
            type=dt.date.fromisoformat,
            help="First simulated day (YYYY-MM-DD); default: the Monday two weeks before today.",
        )
        parser.add_argument("--days", type=int, default=5, help="Working days to simulate (1-20, default 5).")
        parser.add_argument(
            "--if-missing",
            action="store_true",
            help="Do nothing when a demo campaign already exists (what `make run` uses).",
        )
        parser.add_argument(
            "--quiet", action="store_true", help="Print only the last line (where to look in the admin)."
        )

    def handle(self, *args, start=None, days=5, if_missing=False, quiet=False, **options):
        if not demo_accounts_allowed():
            raise CommandError(DEMO_REFUSED_MESSAGE)
        if if_missing and Campaign.objects.filter(name__startswith=CAMPAIGN_PREFIX).exists():
            self.stdout.write("A demo campaign exists already: run `make demo` for another one.")
            return
        if quiet:
            self.stdout = OutputWrapper(io.StringIO())
            self.final = OutputWrapper(sys.stdout)
        else:
            self.final = self.stdout
        if not 1 <= days <= 20:
            raise CommandError(f"--days must be from 1 to 20, got {days}.")
        tz = zoneinfo.ZoneInfo(TIMEZONE)
        today = timezone.localdate(timezone=tz)
        first_day = start or (today - dt.timedelta(days=today.weekday() + 14))
        simulated = working_days(first_day, days)
        if dt.datetime.combine(simulated[-1], dt.time(19), tzinfo=tz) > timezone.now():
            raise CommandError(
                f"The simulated days ({simulated[0]} to {simulated[-1]}) must end before now: "
                "the demo writes history, not the future. Pick an earlier --start."
            )
        self.step_number = 0
        begun = time.monotonic()
        # The services log each transition at INFO; the demo prints its own story instead.
        logging.disable(logging.INFO)
        # Planning happens on the Friday before the first working day, at 09:00 in the campaign's zone.
        clock = TravellingClock(dt.datetime.combine(first_day - dt.timedelta(days=3), dt.time(9), tzinfo=tz))
        try:
            with self.step("People, client and compliance policy"):
                run = ensure_people_and_client()
            with self.step("Campaign and brief"):
                campaign = create_demo_campaign(run, start=first_day)
            with self.step("Three strategy options; one selected and approved"):
                chosen = plan_strategy(run)
            self.strategy_table(run, chosen)
            clock.move_to(clock.now() + dt.timedelta(hours=2))
            with self.step("Creative for email and LinkedIn; checked and approved"):
                prepare_creative(run)
            with self.step("Import of demo/data/sample_leads.csv"):
                lead_import = import_sample_leads(run)
            self.lines(import_lines(lead_import))
            clock.move_to(clock.now() + dt.timedelta(hours=3))
            with self.step("Launch: activate, go live, A/B sequence, LinkedIn tasks"):
                launch(run)
            self.step_number += 1
            self.stdout.write(
                self.style.MIGRATE_HEADING(f"[{self.step_number}/{STEPS}] {days} simulated working days")
            )
            simulate_days(run, clock, first_day=first_day, days=days, on_day=self.day_line)
            with self.step("Report and audit timeline"):
                campaign.refresh_from_db()
                report = report_lines(campaign) + timeline_lines(campaign)
        except (DomainError, ValidationError) as exc:
            self.stdout.write(self.style.ERROR(" failed"))
            raise CommandError(f"The demo stopped at step {self.step_number}: {exc}") from exc
        finally:
            clock.stop()
            logging.disable(logging.NOTSET)
        self.lines(report)
        self.stdout.write("")
        self.final.write(
            self.style.SUCCESS(
                f"Demo campaign #{campaign.pk} '{campaign.name}' done in {time.monotonic() - begun:.1f} s. "
                f"Admin: /admin/campaigns/campaign/{campaign.pk}/change/ (operator / operator-demo-pass); "
                f"API: /api/v1/campaigns/{campaign.pk}/ (northwind-api / northwind-demo-pass)."
            )
        )

    @contextmanager
    def step(self, title: str):
        self.step_number += 1
        started = time.monotonic()
        self.stdout.write(f"[{self.step_number}/{STEPS}] {title} …", ending="")
        self.stdout.flush()
        yield
        self.stdout.write(self.style.SUCCESS(f" done ({time.monotonic() - started:.2f} s)"))

    def lines(self, lines: list[str]) -> None:
        for line in lines:
            self.stdout.write(line)

    def strategy_table(self, run, chosen) -> None:
        options = run.batch.variants.order_by("position")
        rows = [
            [
                "→" if v.pk == chosen.pk else " ",
                v.position,
                v.angle,
                v.title[:60],
                str(v.get_state_display() if hasattr(v, "get_state_display") else v.state).lower(),
            ]
            for v in options
        ]
        self.lines(["", *table(["", "#", "angle", "strategy option", "decision"], rows), ""])

    def day_line(self, day: DayLog) -> None:
        parts = [f"sent {day.sent}"]
        if day.cap_reached:
            parts.append("daily cap reached")
        if day.rescheduled:
            parts.append(f"{day.rescheduled} held for the lead's send window or the cap")
        if day.skipped:
            parts.append(f"{day.skipped} skipped")
        parts.append(f"webhooks: {day.delivered} delivered, {day.opened} opened, {day.clicked} clicked")
        self.stdout.write(f"  {day.day:%a %d %b}: " + "; ".join(parts))
        for note in day.notes:
            self.stdout.write(f"      · {note}")
