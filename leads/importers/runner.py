"""The importer itself: reads the file (or records), checks each row, writes batch by batch, or
hands a big file on PostgreSQL to the file path; and the two entry points everyone calls."""

from __future__ import annotations

import io
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import IO, Any

from django.db import OperationalError, connection, reset_queries, transaction
from django.utils import timezone

from campaigns.actors import acting_user
from campaigns.errors import DomainError
from campaigns.events import emit_event
from campaigns.models import Campaign
from campaigns.services.audit import record_audit_event

from ..csv_reading import OpenedCsv, numbered_rows, open_csv
from ..models import ImportIssueKind, LeadImport, LeadImportIssue, LeadImportStatus, LeadSource
from ..normalization import email_domain
from ..selectors import SuppressionSets, suppression_sets_for_client
from .batches import REPORT_COUNTERS, Batch, BatchCounts, OrmBatchWriter, PostgresBatchWriter, is_retryable
from .columns import (
    ALIAS_TO_FIELD,
    MAPPABLE_FIELDS,
    ColumnLayout,
    header_key,
    parse_mapping,
    resolve_columns,
)
from .pg_file import PostgresFileImport
from .pg_file_prep import UseThePythonPath, fast_path_file
from .rows import (
    DUPLICATE_IN_FILE_REASON,
    SUPPRESSION_REASONS,
    LeadRow,
    RowPlan,
    check_row,
    make_issue,
)

logger = logging.getLogger(__name__)

POSTGRES_BATCH_SIZE = 20_000
OTHER_BATCH_SIZE = 2_000
MAX_BATCH_ATTEMPTS = 3


# What an import reports: in its audit event and its lead.imported event.
IMPORT_COUNTS = (
    "rows_read",
    "inserted",
    "duplicates_in_file",
    "duplicates_in_campaign",
    "suppressed",
    "invalid",
    "flagged",
)


def _file_path_min_bytes() -> int:
    """``leads.importers.FILE_PATH_MIN_BYTES``, read at call time: the package holds the one value
    (tests and benchmarks change it there)."""
    from leads import importers

    return importers.FILE_PATH_MIN_BYTES


def _rewindable(stream) -> bool:
    try:
        return bool(stream.seekable())
    except (AttributeError, ValueError, OSError):
        return False


def _remaining_bytes(stream) -> int:
    """Bytes from the stream's position to its end (the position is kept)."""
    start = stream.tell()
    try:
        return stream.seek(0, io.SEEK_END) - start
    finally:
        stream.seek(start)


def ensure_campaign_takes_leads(campaign: Campaign) -> None:
    if campaign.is_final:
        raise DomainError(
            f"Campaign {campaign.pk} is {campaign.get_state_display().lower()}: it takes no new leads.",
            field="campaign",
            state=campaign.state,
        )


def read_header(opened: OpenedCsv) -> tuple[list[str], int]:
    """The first non-blank row and how many blank rows came before it."""
    for blank_before_header, row in enumerate(opened.rows):
        if row and any(cell.strip() for cell in row):
            return row, blank_before_header
    raise DomainError("The file is empty: no header row with an email column.", field="file")


# --- the importer -------------------------------------------------------------------------------

ProgressCallback = Callable[[int], None]


class LeadImporter:
    """Validates, deduplicates and suppression-checks rows, and writes them batch by batch."""

    def __init__(
        self,
        *,
        campaign: Campaign,
        actor=None,
        source: str = LeadSource.CSV,
        batch_size: int | None = None,
        progress: ProgressCallback | None = None,
    ) -> None:
        ensure_campaign_takes_leads(campaign)
        self.campaign = campaign
        self.actor = actor
        self.source = source
        on_postgres = connection.vendor == "postgresql"
        self.batch_size = batch_size or (POSTGRES_BATCH_SIZE if on_postgres else OTHER_BATCH_SIZE)
        self.writer = PostgresBatchWriter() if on_postgres else OrmBatchWriter()
        self.progress = progress
        # The PostgreSQL fast path takes whole files; an explicit batch size asks for batches.
        self.postgres_file_path = on_postgres and batch_size is None

    # -- entry points --

    def import_csv(
        self, stream: IO[bytes], *, filename: str = "", mapping: str | Mapping[str, str] | None = None
    ) -> LeadImport:
        mapping = parse_mapping(mapping)
        lead_import = None
        if (
            self.postgres_file_path
            and _rewindable(stream)
            and _remaining_bytes(stream) >= _file_path_min_bytes()
        ):
            start = stream.tell()
            lead_import = self._import_on_postgres(stream, filename=filename, mapping=mapping)
            if lead_import is not None and lead_import.status == LeadImportStatus.FINISHED:
                return lead_import
            stream.seek(start)
        opened = open_csv(stream)
        header, blank_before_header = read_header(opened)
        layout = resolve_columns(header, mapping)
        if lead_import is None:
            lead_import = self._start(
                filename=filename,
                encoding=opened.encoding,
                delimiter=opened.delimiter,
                layout=layout,
            )
        lead_import.blank_lines = blank_before_header
        return self._run(lead_import, numbered_rows(opened), layout)

    def _import_on_postgres(
        self, stream: IO[bytes], *, filename: str, mapping: Mapping[str, str]
    ) -> LeadImport | None:
        """The fast path; None (file not eligible) or a LeadImport, FINISHED unless it must go on
        through the Python path (then its counters are zero and nothing of the attempt was kept)."""
        prepared = fast_path_file(stream)
        if prepared is None:
            return None
        layout = resolve_columns(prepared.header, mapping)
        lead_import = self._start(
            filename=filename, encoding=prepared.encoding, delimiter=prepared.delimiter, layout=layout
        )
        try:
            PostgresFileImport(self, lead_import, prepared, layout, stream).run()
        except UseThePythonPath as exc:
            logger.info("Lead import %s goes through the Python path: %s", lead_import.pk, exc)
            for counter in REPORT_COUNTERS:
                setattr(lead_import, counter, 0)
            return lead_import
        except BaseException as exc:
            self._mark_failed(lead_import, exc)
            raise
        return self._finish(lead_import)

    def import_records(self, records: Iterable[Mapping[str, Any]]) -> LeadImport:
        """API push / lead-source adapters: dicts keyed by lead field (or an alias); row = position."""
        columns = list(MAPPABLE_FIELDS)
        layout = ColumnLayout(
            email=0,
            fields={name: i for i, name in enumerate(columns) if name != "email"},
            mapping={name: name for name in columns},
            ignored=[],
        )

        def as_rows() -> Iterator[tuple[int, list[str]]]:
            for position, record in enumerate(records, start=1):
                by_field = {ALIAS_TO_FIELD.get(header_key(str(k)), str(k)): v for k, v in record.items()}
                yield position, ["" if by_field.get(n) is None else str(by_field.get(n)) for n in columns]

        lead_import = self._start(filename="", encoding="", delimiter="", layout=layout)
        return self._run(lead_import, as_rows(), layout)

    # -- internals --

    def _start(self, *, filename: str, encoding: str, delimiter: str, layout: ColumnLayout) -> LeadImport:
        return LeadImport.objects.create(
            campaign=self.campaign,
            created_by=acting_user(self.actor),
            source=self.source,
            filename=filename[:255],
            encoding=encoding,
            delimiter=delimiter,
            column_mapping=layout.mapping,
            ignored_columns=layout.ignored,
            started_at=timezone.now(),
        )

    def _run(
        self, lead_import: LeadImport, records: Iterable[tuple[int, list[str]]], layout: ColumnLayout
    ) -> LeadImport:
        suppression = suppression_sets_for_client(self.campaign.client_id)
        plan = RowPlan.for_layout(layout)
        try:
            batch = Batch()
            for row_number, row in records:
                self._take_row(batch, row_number, row, plan, suppression)
                if len(batch.leads) >= self.batch_size or len(batch.issues) >= self.batch_size:
                    self._submit(lead_import, batch)
                    batch = Batch()
            self._submit(lead_import, batch)
        except BaseException as exc:
            self._mark_failed(lead_import, exc)
            raise
        return self._finish(lead_import)

    def _mark_failed(self, lead_import: LeadImport, exc: BaseException) -> None:
        logger.exception("Lead import %s into campaign %s failed", lead_import.pk, self.campaign.pk)
        LeadImport.objects.filter(pk=lead_import.pk).update(
            status=LeadImportStatus.FAILED, error=str(exc)[:2000], finished_at=timezone.now()
        )

    def _finish(self, lead_import: LeadImport) -> LeadImport:
        lead_import.status = LeadImportStatus.FINISHED
        lead_import.finished_at = timezone.now()
        with transaction.atomic():
            lead_import.save(update_fields=["status", "finished_at"])
            record_audit_event(
                verb="leads.imported",
                actor=self.actor,
                campaign=self.campaign,
                target=lead_import,
                metadata={k: getattr(lead_import, k) for k in IMPORT_COUNTS},
            )
            emit_event(
                "lead.imported",
                client=self.campaign.client_id,
                campaign=self.campaign,
                data={
                    "import_id": lead_import.pk,
                    "source": lead_import.source,
                    "filename": lead_import.filename,
                    **{k: getattr(lead_import, k) for k in IMPORT_COUNTS},
                },
            )
        return lead_import

    def _take_row(
        self,
        batch: Batch,
        row_number: int,
        row: list[str],
        plan: RowPlan,
        suppression: SuppressionSets,
    ) -> None:
        if not "".join(row).strip():
            batch.blank_lines += 1
            return
        batch.rows += 1
        checked = check_row(row_number, row, plan)
        if checked.problems:
            batch.invalid += 1
            batch.issues.extend(checked.problems)
            return
        normalized = checked.normalized
        if normalized in batch.seen:
            batch.duplicates_in_file += 1
            batch.issues.append(
                make_issue(
                    row_number,
                    ImportIssueKind.DUPLICATE_IN_FILE,
                    "email",
                    DUPLICATE_IN_FILE_REASON,
                    checked.raw_email,
                )
            )
            return
        batch.seen.add(normalized)
        suppressed_by = suppression.match(normalized)
        if suppressed_by is not None:
            batch.suppressed += 1
            batch.issues.append(
                make_issue(
                    row_number,
                    ImportIssueKind.SUPPRESSED,
                    "email",
                    SUPPRESSION_REASONS[suppressed_by],
                    checked.raw_email,
                )
            )
            return
        email = checked.raw_email.strip()
        batch.leads.append(LeadRow(row_number, email, normalized, email_domain(normalized), checked.values))
        batch.warnings.extend(checked.warnings)

    def _submit(self, lead_import: LeadImport, batch: Batch) -> None:
        if not (batch.rows or batch.blank_lines):
            return
        self._write_batch(lead_import, batch)
        # With DEBUG on, Django keeps the last 9,000 SQL statements; bulk inserts make that
        # hundreds of MB. Dropping the log keeps an import's memory flat in development too.
        reset_queries()
        if self.progress is not None:
            self.progress(batch.rows)

    def _write_batch(self, lead_import: LeadImport, batch: Batch) -> None:
        """One batch, one transaction (retried on a deadlock or serialization failure)."""
        for attempt in range(1, MAX_BATCH_ATTEMPTS + 1):
            try:
                with transaction.atomic():
                    counts = (
                        self.writer.write(lead_import, batch, timezone.now())
                        if batch.leads
                        else self._write_issues_only(lead_import, batch)
                    )
                    self._add_counts(lead_import, batch, counts)
                return
            except OperationalError as exc:
                if attempt == MAX_BATCH_ATTEMPTS or not is_retryable(exc):
                    raise
                logger.warning("Lead import %s: batch retried after %s", lead_import.pk, exc.__cause__)
                lead_import.refresh_from_db()

    def _write_issues_only(self, lead_import: LeadImport, batch: Batch) -> BatchCounts:
        LeadImportIssue.objects.bulk_create(
            [issue.to_model(lead_import) for issue in batch.issues],
            batch_size=500,
        )
        return BatchCounts()

    def _add_counts(self, lead_import: LeadImport, batch: Batch, counts: BatchCounts) -> None:
        lead_import.rows_read += batch.rows
        lead_import.blank_lines += batch.blank_lines
        lead_import.invalid += batch.invalid
        lead_import.suppressed += batch.suppressed
        lead_import.duplicates_in_file += batch.duplicates_in_file + counts.duplicates_in_file
        lead_import.duplicates_in_campaign += counts.duplicates_in_campaign
        lead_import.inserted += counts.inserted
        lead_import.flagged += counts.flagged
        lead_import.save(update_fields=list(REPORT_COUNTERS))


def import_leads_from_csv(
    *,
    campaign: Campaign,
    file: IO[bytes],
    filename: str = "",
    mapping: str | Mapping[str, str] | None = None,
    actor=None,
    progress: ProgressCallback | None = None,
    batch_size: int | None = None,
) -> LeadImport:
    """Import a CSV byte stream into a campaign and return the finished LeadImport (the report)."""
    importer = LeadImporter(campaign=campaign, actor=actor, progress=progress, batch_size=batch_size)
    return importer.import_csv(file, filename=filename, mapping=mapping)


def import_lead_records(
    *,
    campaign: Campaign,
    records: Iterable[Mapping[str, Any]],
    source: str = LeadSource.API,
    actor=None,
    batch_size: int | None = None,
) -> LeadImport:
    """Push already-parsed leads (API JSON, a finder adapter) through the same checks and writes."""
    importer = LeadImporter(campaign=campaign, actor=actor, source=source, batch_size=batch_size)
    return importer.import_records(records)
