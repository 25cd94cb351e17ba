"""manage.py import_leads CAMPAIGN_ID FILE [--mapping email=Work Email,first_name=Given]"""

from __future__ import annotations

import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from campaigns.errors import DomainError
from campaigns.models import Campaign
from leads.importers import MAPPABLE_FIELDS, import_leads_from_csv, lead_import_report


class Command(BaseCommand):
    help = (
        "Import leads from a CSV file into a campaign (streaming; any size). Rows are validated, "
        "deduplicated and checked against suppression; a report lists every rejected row."
    )

    def add_arguments(self, parser):
        parser.add_argument("campaign_id", type=int)
        parser.add_argument("file", help="Path to a CSV file (UTF-8 with or without BOM, or Latin-1).")
        parser.add_argument(
            "--mapping",
            default="",
            help="FIELD=COLUMN pairs, comma-separated, for headers the aliases miss. "
            f"Fields: {', '.join(MAPPABLE_FIELDS)}.",
        )
        parser.add_argument("--batch-size", type=int, default=None, help="Rows per transaction.")
        parser.add_argument("--no-progress", action="store_true", help="No progress bar (e.g. in cron).")
        parser.add_argument("--show-issues", type=int, default=20, help="How many rejected rows to print.")

    def handle(
        self, *args, campaign_id: int, file: str, mapping: str, batch_size, no_progress, show_issues, **o
    ):
        campaign = Campaign.objects.filter(pk=campaign_id).select_related("client").first()
        if campaign is None:
            raise CommandError(f"Campaign {campaign_id} does not exist.")
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"No such file: {file}")
        bar = tqdm(
            unit=" rows",
            unit_scale=True,
            desc=f"Importing into campaign {campaign.pk}",
            disable=no_progress,
            file=self.stderr._out,
            dynamic_ncols=True,
        )
        started = time.perf_counter()
        try:
            with path.open("rb") as stream:
                lead_import = import_leads_from_csv(
                    campaign=campaign,
                    file=stream,
                    filename=path.name,
                    mapping=mapping or None,
                    progress=bar.update,
                    batch_size=batch_size,
                )
        except DomainError as exc:
            raise CommandError(str(exc)) from exc
        finally:
            bar.close()
        elapsed = max(time.perf_counter() - started, 1e-9)
        report = lead_import_report(lead_import, issue_limit=show_issues)
        self.stdout.write(
            self.style.SUCCESS(
                f"Import #{lead_import.pk}: {report['rows_read']} rows read in {elapsed:.1f} s "
                f"({report['rows_read'] / elapsed:,.0f} rows/s)."
            )
        )
        for key, label in (
            ("inserted", "inserted"),
            ("duplicates_in_file", "duplicates in the file"),
            ("duplicates_in_campaign", "already in the campaign"),
            ("suppressed", "suppressed"),
            ("invalid", "invalid"),
            ("flagged", "inserted, a value left empty"),
            ("blank_lines", "blank lines skipped"),
        ):
            self.stdout.write(f"  {label:<26}{report[key]:>10,}")
        if report["ignored_columns"]:
            self.stdout.write(f"  ignored columns: {', '.join(report['ignored_columns'])}")
        for issue in report["issues"]:
            self.stdout.write(
                f"  row {issue['row_number']}: {issue['field']} — {issue['reason']} ({issue['value']!r})"
            )
        more = report["issues_total"] - len(report["issues"])
        if more > 0:
            self.stdout.write(
                f"  … and {more:,} more rejected rows: download them from the admin (Lead imports)."
            )
        for warning in report["warnings"]:
            self.stdout.write(f"  row {warning['row_number']} (imported): {warning['reason']}")
        more = report["warnings_total"] - len(report["warnings"])
        if more > 0:
            self.stdout.write(f"  … and {more:,} more flagged values: see the import in the admin.")
