"""Writing one batch of checked rows: PostgreSQL (COPY into a staging table, one set-based
INSERT) or any other backend (a look-up and ``bulk_create``)."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import connection

from ..models import ImportIssueKind, Lead, LeadImport, LeadImportIssue
from .rows import (
    DUPLICATE_IN_CAMPAIGN_REASON,
    DUPLICATE_IN_FILE_REASON,
    ISSUE_VALUE_MAX_LENGTH,
    LEAD_COLUMNS,
    IssueRow,
    LeadRow,
    make_issue,
)


@dataclass
class BatchCounts:
    inserted: int = 0
    duplicates_in_file: int = 0
    duplicates_in_campaign: int = 0
    flagged: int = 0  # inserted leads with a flagged value


@dataclass
class Batch:
    leads: list[LeadRow] = field(default_factory=list)
    issues: list[IssueRow] = field(default_factory=list)
    # Flagged values of the rows in ``leads``, as issues; written only for the rows inserted.
    warnings: list[IssueRow] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)
    rows: int = 0
    blank_lines: int = 0
    invalid: int = 0
    suppressed: int = 0
    duplicates_in_file: int = 0


_STAGE_TABLE = "leads_import_stage"
_STAGE_WARNINGS_TABLE = "leads_import_stage_warnings"


def copy_issues(cursor, lead_import_id: int, issues: list[IssueRow]) -> None:
    """COPY issues into leads_leadimportissue; the column list is IssueRow's fields, so the order
    of each row written cannot drift from it."""
    with cursor.copy(
        f"COPY {LeadImportIssue._meta.db_table} (lead_import_id, {', '.join(IssueRow._fields)}) FROM STDIN"
    ) as copy:
        for issue in issues:
            copy.write_row((lead_import_id, *issue))


def is_retryable(exc: BaseException) -> bool:
    cause = exc.__cause__
    return type(cause).__name__ in {"DeadlockDetected", "SerializationFailure"}


class PostgresBatchWriter:
    """COPY the batch into a temporary table, then one set-based INSERT … ON CONFLICT DO NOTHING."""

    def write(self, lead_import: LeadImport, batch: Batch, now) -> BatchCounts:
        with connection.cursor() as django_cursor:
            cursor = django_cursor.cursor  # the psycopg 3 cursor, for COPY
            # Byte-wise collation like the lead columns (migration 0002): cheap sort and join.
            stage_columns = ", ".join(
                f'{c} text COLLATE "C"' if c in ("normalized_email", "email_domain") else f"{c} text"
                for c in LEAD_COLUMNS
            )
            cursor.execute(
                f"CREATE TEMP TABLE IF NOT EXISTS {_STAGE_TABLE} (row_number integer, {stage_columns}) "
                "ON COMMIT DELETE ROWS"
            )
            # Also emptied by hand: inside an outer transaction (a request, a test) there is no commit.
            cursor.execute(f"TRUNCATE {_STAGE_TABLE}")
            cursor.execute("SET LOCAL work_mem = '64MB'")  # sort a whole batch in memory
            with cursor.copy(
                f"COPY {_STAGE_TABLE} (row_number, {', '.join(LEAD_COLUMNS)}) FROM STDIN"
            ) as copy:
                for lead in batch.leads:
                    copy.write_row(lead.as_db_row())
            select_columns = ", ".join(f"s.{c}" for c in LEAD_COLUMNS)
            warned_sql, warned_count = self._stage_warnings(cursor, batch)
            cursor.execute(
                f"""
                WITH inserted AS (
                    INSERT INTO leads_lead (
                        {", ".join(LEAD_COLUMNS)}, campaign_id, source, source_import_id, enrichment,
                        score, state, state_reason, created_at, updated_at
                    )
                    SELECT {select_columns}, %(campaign)s, %(source)s, %(import)s, '{{}}'::jsonb,
                           0, 'new', '', %(now)s, %(now)s
                    FROM {_STAGE_TABLE} s
                    ORDER BY s.normalized_email  -- one lock order for concurrent imports
                    ON CONFLICT (campaign_id, normalized_email) DO NOTHING
                    RETURNING normalized_email
                ),
                issues AS (
                    INSERT INTO leads_leadimportissue (lead_import_id, row_number, kind, field, reason, value)
                    SELECT %(import)s, k.row_number,
                           CASE WHEN k.by_this_import
                                THEN 'duplicate_in_file' ELSE 'duplicate_in_campaign' END,
                           'email',
                           CASE WHEN k.by_this_import
                                THEN %(dup_in_file)s ELSE %(dup_in_campaign)s END,
                           left(k.email, {ISSUE_VALUE_MAX_LENGTH})
                    FROM (
                        -- A correlated probe of the unique index per skipped row: a join would
                        -- read every lead of the campaign for each batch.
                        SELECT s.row_number, s.email,
                               coalesce((SELECT l.source_import_id = %(import)s FROM leads_lead l
                                         WHERE l.campaign_id = %(campaign)s
                                           AND l.normalized_email = s.normalized_email), false)
                                 AS by_this_import
                        FROM {_STAGE_TABLE} s
                        WHERE NOT EXISTS (
                            SELECT 1 FROM inserted i WHERE i.normalized_email = s.normalized_email
                        )
                        OFFSET 0  -- keeps the probe from being inlined into both CASEs (run twice)
                    ) k
                    RETURNING kind
                ){warned_sql}
                SELECT (SELECT count(*) FROM inserted),
                       count(*) FILTER (WHERE kind = 'duplicate_in_file'),
                       count(*) FILTER (WHERE kind = 'duplicate_in_campaign'),
                       {warned_count}
                FROM issues
                """,
                {
                    "campaign": lead_import.campaign_id,
                    "source": lead_import.source,
                    "import": lead_import.pk,
                    "now": now,
                    "dup_in_file": DUPLICATE_IN_FILE_REASON,
                    "dup_in_campaign": DUPLICATE_IN_CAMPAIGN_REASON,
                },
            )
            inserted, dup_file, dup_campaign, flagged = cursor.fetchone()
            cursor.execute(f"TRUNCATE {_STAGE_TABLE}")  # no addresses linger in the session
            if batch.issues:
                copy_issues(cursor, lead_import.pk, batch.issues)
        return BatchCounts(inserted, dup_file, dup_campaign, flagged)

    @staticmethod
    def _stage_warnings(cursor, batch: Batch) -> tuple[str, str]:
        """COPY the batch's flagged values into a temporary table; return the CTE that files those
        of the inserted rows, and the expression counting those rows ("", "0" without warnings)."""
        if not batch.warnings:
            return "", "0"
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {_STAGE_WARNINGS_TABLE} (row_number integer, seq integer, "
            "field text, reason text, value text) ON COMMIT DELETE ROWS"
        )
        cursor.execute(f"TRUNCATE {_STAGE_WARNINGS_TABLE}")
        with cursor.copy(f"COPY {_STAGE_WARNINGS_TABLE} FROM STDIN") as copy:
            for seq, warning in enumerate(batch.warnings):
                copy.write_row((warning.row_number, seq, warning.field, warning.reason, warning.value))
        cte = f""",
                warned AS (
                    INSERT INTO leads_leadimportissue (lead_import_id, row_number, kind, field, reason, value)
                    SELECT %(import)s, w.row_number, 'flagged', w.field, w.reason, w.value
                    FROM {_STAGE_WARNINGS_TABLE} w
                    JOIN {_STAGE_TABLE} s ON s.row_number = w.row_number
                    JOIN inserted i ON i.normalized_email = s.normalized_email
                    ORDER BY w.seq
                    RETURNING row_number
                )"""
        return cte, "(SELECT count(DISTINCT row_number) FROM warned)"


class OrmBatchWriter:
    """SQLite (and any other backend): look the batch's addresses up, bulk_create the new ones."""

    LOOKUP_CHUNK = 500

    def write(self, lead_import: LeadImport, batch: Batch, now) -> BatchCounts:
        keys = [lead.normalized for lead in batch.leads]
        existing: dict[str, int | None] = {}
        for start in range(0, len(keys), self.LOOKUP_CHUNK):
            existing.update(
                Lead.objects.filter(
                    campaign_id=lead_import.campaign_id,
                    normalized_email__in=keys[start : start + self.LOOKUP_CHUNK],
                ).values_list("normalized_email", "source_import_id")
            )
        new_leads: list[Lead] = []
        issues = [issue.to_model(lead_import) for issue in batch.issues]
        counts = BatchCounts()
        rejected_rows: set[int] = set()
        for lead in batch.leads:
            if lead.normalized in existing:
                rejected_rows.add(lead.row_number)
                if existing[lead.normalized] == lead_import.pk:
                    counts.duplicates_in_file += 1
                    kind, reason = ImportIssueKind.DUPLICATE_IN_FILE, DUPLICATE_IN_FILE_REASON
                else:
                    counts.duplicates_in_campaign += 1
                    kind, reason = ImportIssueKind.DUPLICATE_IN_CAMPAIGN, DUPLICATE_IN_CAMPAIGN_REASON
                issue = make_issue(lead.row_number, kind, "email", reason, lead.email)
                issues.append(issue.to_model(lead_import))
                continue
            new_leads.append(
                Lead(
                    campaign_id=lead_import.campaign_id,
                    source=lead_import.source,
                    source_import=lead_import,
                    created_at=now,
                    updated_at=now,
                    **lead.model_fields(),
                )
            )
        Lead.objects.bulk_create(new_leads, batch_size=500, ignore_conflicts=True)
        counts.inserted = len(new_leads)
        if batch.warnings:
            inserted_rows = {lead.row_number for lead in batch.leads} - rejected_rows
            kept = [w for w in batch.warnings if w.row_number in inserted_rows]
            counts.flagged = len({w.row_number for w in kept})
            issues.extend(w.to_model(lead_import) for w in kept)
        LeadImportIssue.objects.bulk_create(issues, batch_size=500)
        return counts


REPORT_COUNTERS = (
    "rows_read",
    "blank_lines",
    "invalid",
    "suppressed",
    "duplicates_in_file",
    "duplicates_in_campaign",
    "inserted",
    "flagged",
)
