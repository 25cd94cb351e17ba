"""The PostgreSQL file path, part two: COPY the whole file, check it in SQL, hand the rows SQL
cannot decide to ``check_row``, insert set-based (see ``pg_file_prep`` for which files qualify)."""

from __future__ import annotations

import functools
import logging
import string
import time
from importlib import resources
from typing import IO, TYPE_CHECKING, Any

from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from campaigns.limits import MAX_CSV_CELL_CHARS, input_limit

from ..models import LeadImport, SuppressionKind
from ..normalization import (
    DOMAIN_MAX_LENGTH,
    DOT_AND_TAG_BLIND_DOMAINS,
    DOUBLE_DASH_LABEL,
    EMAIL_MAX_LENGTH,
    LABEL_MAX_LENGTH,
    LOCAL_PART_MAX_LENGTH,
    SPECIAL_USE_TLDS,
    email_domain,
)
from ..selectors import suppressions_for_client
from .batches import REPORT_COUNTERS, copy_issues
from .columns import IMPORTABLE_FIELDS, ColumnLayout
from .pg_file_prep import (
    CHECKED_TABLE,
    COPY_CHUNK_BYTES,
    FILE_PATH_TEMP_BUFFERS,
    FILE_PATH_WORK_MEM,
    FILE_TABLE,
    NO_AT_SIGN_REASON,
    PYTHON_WHITESPACE,
    RESOLVED_TABLE,
    WARNINGS_TABLE,
    FastPathFile,
    UseThePythonPath,
    country_lookup,
    may_need_trimming,
    sql_email_pattern,
)
from .rows import (
    COUNTRY_POSITION,
    DUPLICATE_IN_CAMPAIGN_REASON,
    DUPLICATE_IN_FILE_REASON,
    FIELD_COUNT,
    ISSUE_REASON_MAX_LENGTH,
    ISSUE_VALUE_MAX_LENGTH,
    LEAD_COLUMNS,
    MAX_LENGTHS,
    SUPPRESSION_REASONS,
    TIMEZONE_POSITION,
    IssueRow,
    RowPlan,
    check_row,
    valid_timezones,
)

if TYPE_CHECKING:
    from .runner import LeadImporter

logger = logging.getLogger(__name__)


@functools.cache
def _statement(name: str) -> string.Template:
    """A statement from sql/<name>.sql; ``$name`` placeholders take the column lists of one file."""
    return string.Template(
        resources.files(__package__).joinpath("sql").joinpath(f"{name}.sql").read_text("utf-8")
    )


class PostgresFileImport:
    """One file, one transaction: COPY, the rows SQL cannot decide through Python, one INSERT."""

    def __init__(
        self,
        importer: LeadImporter,
        lead_import: LeadImport,
        prepared: FastPathFile,
        layout: ColumnLayout,
        stream: IO[bytes],
    ) -> None:
        self.importer = importer
        self.stream = stream
        self.lead_import = lead_import
        self.prepared = prepared
        self.layout = layout
        self.plan = RowPlan.for_layout(layout)
        self.columns = [f"c{i}" for i in range(len(prepared.header))]
        self.trim_cells = False  # set while copying: only when some cell may have whitespace to trim
        self.long_lines = False  # set while copying: only then may a cell pass AICMO_MAX_CSV_CELL_CHARS

    # -- SQL pieces --

    def _params(self) -> dict[str, Any]:
        """The rules the SQL applies, from their public names (see sql/checked_rows.sql)."""
        from psycopg.types.json import Jsonb

        return {
            "ws": PYTHON_WHITESPACE,
            "email_re": sql_email_pattern(),
            "email_max_length": EMAIL_MAX_LENGTH,
            "local_part_max_length": LOCAL_PART_MAX_LENGTH,
            "domain_max_length": DOMAIN_MAX_LENGTH,
            "label_max_length": LABEL_MAX_LENGTH,
            "too_long_label": f"[^.]{{{LABEL_MAX_LENGTH + 1}}}",
            "double_dash_label": DOUBLE_DASH_LABEL.pattern,
            "special_tlds": sorted(SPECIAL_USE_TLDS),
            "blind": Jsonb(DOT_AND_TAG_BLIND_DOMAINS),
            "countries": Jsonb(country_lookup()),
            "zones": Jsonb(dict.fromkeys(sorted(valid_timezones()), True)),
        }

    def _checked_rows_sql(self) -> str:
        """sql/checked_rows.sql with the column lists of this file's layout filled in."""
        plan = self.plan

        def trim(expression: str) -> str:
            return f"btrim({expression}, %(ws)s)" if self.trim_cells else expression

        def cell(index: int) -> str:
            return trim(f"coalesce(f.c{index}, '')")

        email_cell = cell(plan.email)
        trimmed = [
            f'lower({email_cell} COLLATE "C") AS low',
            f"{email_cell} AS addr",
            f"coalesce(f.c{plan.email}, '') AS raw",
        ]
        mapped = dict(plan.fields)  # position → column index
        for position, index in mapped.items():
            trimmed.append(f"{cell(index)} AS v{position}")
        if plan.full_name is not None:
            trimmed.append(f"{cell(plan.full_name)} AS full_name")

        def value(position: int) -> str:
            return f"a.v{position}" if position in mapped else "''::text"

        first, last = value(0), value(1)
        if plan.full_name is not None:
            # As check_row: first, _, last = full_name.partition(" "); last.strip() — only when
            # both names are empty.
            space = "strpos(a.full_name, ' ')"
            split_first = f"CASE WHEN {space} > 0 THEN left(a.full_name, {space} - 1) ELSE a.full_name END"
            split_last = (
                f"CASE WHEN {space} > 0 THEN btrim(substr(a.full_name, {space} + 1), %(ws)s) ELSE '' END"
            )
            first = f"CASE WHEN {first} = '' AND {last} = '' THEN {split_first} ELSE {first} END"
            last = f"CASE WHEN {value(0)} = '' AND {last} = '' THEN {split_last} ELSE {last} END"
        field_values = [
            f"{first} AS w0",
            f"{last} AS w1",
            *(f"{value(p)} AS w{p}" for p in range(2, FIELD_COUNT)),
        ]
        field_checks = []
        kept_values = []
        for position, name in enumerate(IMPORTABLE_FIELDS):
            w = f"b.w{position}"
            if position == COUNTRY_POSITION:
                # The spellings country_lookup() holds, names ("GERMANY") as well as codes.
                field_checks.append(
                    f"({w} = '' OR (octet_length({w}) = char_length({w}) "
                    f'AND %(countries)s::jsonb ? upper({w} COLLATE "C")))'
                )
                kept_values.append(
                    f"CASE WHEN {w} = '' THEN '' ELSE %(countries)s::jsonb ->> upper({w} COLLATE \"C\") END"
                )
            elif position == TIMEZONE_POSITION:
                field_checks.append(
                    f"({w} = '' OR (char_length({w}) <= {MAX_LENGTHS[name]:d} AND %(zones)s::jsonb ? {w}))"
                )
                kept_values.append(w)
            elif position in mapped or (position in (0, 1) and plan.full_name is not None):
                field_checks.append(f"char_length({w}) <= {MAX_LENGTHS[name]:d}")
                kept_values.append(w)
            else:
                kept_values.append(w)
        return _statement("checked_rows").substitute(
            file_table=FILE_TABLE,
            trimmed_cells=", ".join(trimmed),
            field_values=", ".join(field_values),
            fields_ok=" AND ".join(field_checks) or "true",
            kept_values=", ".join(f"{v} AS f{p}" for p, v in enumerate(kept_values)),
            kept_columns=", ".join(f"c.f{p}" for p in range(FIELD_COUNT)),
            raw_cells=", ".join(f"coalesce(c.{c}, '')" for c in self.columns),
        )

    # -- the steps --

    def run(self) -> None:
        lead_import = self.lead_import
        with transaction.atomic(), connection.cursor() as django_cursor:
            cursor = django_cursor.cursor
            # Sort a million rows in memory (an external merge sort on disk is far slower;
            # docs/PERFORMANCE.md), for this transaction only. Bigger local buffers for the
            # temporary tables, when the session has not used any yet (PostgreSQL refuses the
            # change after that; then it stays as is).
            cursor.execute(f"SET LOCAL work_mem = '{FILE_PATH_WORK_MEM}'")
            try:
                with transaction.atomic():
                    django_cursor.execute(f"SET LOCAL temp_buffers = '{FILE_PATH_TEMP_BUFFERS}'")
            except DatabaseError:
                pass
            started = time.perf_counter()
            copied = self._copy_file(cursor)
            if self.long_lines:
                self._check_cell_lengths(cursor)
            cursor.execute(f"ANALYZE {FILE_TABLE}")
            copied_at = time.perf_counter()
            params = self._params()
            cursor.execute(
                f"CREATE TEMP TABLE {CHECKED_TABLE} ON COMMIT DROP AS {self._checked_rows_sql()}", params
            )
            checked_in_sql_at = time.perf_counter()
            blank, invalid = self._python_rows(cursor)
            checked_at = time.perf_counter()
            counts = self._insert(cursor, params)
            logger.info(
                "Lead import %s (PostgreSQL file path): COPY %.2f s, checks in SQL %.2f s (trim: %s), "
                "rows left to Python %.2f s, insert %.2f s",
                lead_import.pk,
                copied_at - started,
                checked_in_sql_at - copied_at,
                self.trim_cells,
                checked_at - checked_in_sql_at,
                time.perf_counter() - checked_at,
            )
            lead_import.rows_read = copied - blank
            lead_import.blank_lines = blank
            lead_import.invalid = invalid + counts["invalid"]
            lead_import.suppressed = counts["suppressed"]
            lead_import.duplicates_in_file = counts["duplicate_in_file"]
            lead_import.duplicates_in_campaign = counts["duplicate_in_campaign"]
            lead_import.inserted = counts["inserted"]
            lead_import.flagged = counts["flagged"]
            expected = lead_import.rows_read - lead_import.rejected
            if lead_import.inserted != expected:  # every row in exactly one counter, or no fast path
                raise UseThePythonPath(f"{lead_import.inserted} rows inserted, {expected} expected")
            # Inside an outer transaction (a request, a test) ON COMMIT DROP has not happened yet.
            cursor.execute(f"DROP TABLE {FILE_TABLE}, {CHECKED_TABLE}, {RESOLVED_TABLE}, {WARNINGS_TABLE}")
            lead_import.save(update_fields=list(REPORT_COUNTERS))

    def _copy_file(self, cursor) -> int:
        import psycopg
        from psycopg import sql

        columns = ", ".join(f"{c} text" for c in self.columns)
        cursor.execute(
            f"CREATE TEMP TABLE {FILE_TABLE} (ord bigint GENERATED ALWAYS AS IDENTITY, {columns}) "
            "ON COMMIT DROP"
        )
        statement = sql.SQL(
            "COPY {table} ({columns}) FROM STDIN (FORMAT csv, DELIMITER {delimiter}, ENCODING 'UTF8')"
        ).format(
            table=sql.Identifier(FILE_TABLE),
            columns=sql.SQL(", ").join(sql.Identifier(c) for c in self.columns),
            delimiter=sql.Literal(self.prepared.delimiter),
        )
        progress = self.importer.progress
        max_cell = input_limit(MAX_CSV_CELL_CHARS)
        line_tail = 0  # bytes of the line the previous chunk ended in
        try:
            with cursor.copy(statement) as copy:
                delimiter = self.prepared.delimiter.encode()
                previous = b"\n"  # the body starts at the beginning of a line
                chunk = self.prepared.body_prefix
                while chunk:
                    # A cell over AICMO_MAX_CSV_CELL_CHARS needs a line longer than that many bytes
                    # (no quotes here); only then is each cell measured in SQL (_check_cell_lengths).
                    if not self.long_lines:
                        lines = chunk.split(b"\n")
                        self.long_lines = (
                            line_tail + len(lines[0]) > max_cell or max(map(len, lines)) > max_cell
                        )
                        line_tail = len(lines[-1]) + (line_tail if len(lines) == 1 else 0)
                    # No quotes (CSV quoting is where PostgreSQL and Python disagree) and no "\."
                    # (COPY's end-of-data marker).
                    boundary = previous[-2:] + chunk[:2]
                    if b'"' in chunk or b"\\." in chunk or b"\\." in boundary:
                        raise UseThePythonPath("the file has quote characters or a backslash-dot")
                    if not self.trim_cells:
                        self.trim_cells = may_need_trimming(chunk, delimiter) or may_need_trimming(
                            boundary, delimiter
                        )
                    copy.write(chunk)
                    if progress is not None:
                        progress(chunk.count(b"\n"))
                    previous = chunk
                    chunk = self.stream.read(COPY_CHUNK_BYTES)
                # The last cell of a file without a final newline:
                self.trim_cells = self.trim_cells or may_need_trimming(previous[-3:] + b"\n", delimiter)
        except (psycopg.errors.DataError, psycopg.errors.QueryCanceled) as exc:
            # Ragged or blank lines, bytes that are not UTF-8, a NUL: COPY is stricter than Python.
            raise UseThePythonPath(str(exc)) from exc
        return cursor.rowcount

    def _check_cell_lengths(self, cursor) -> None:
        """A cell over AICMO_MAX_CSV_CELL_CHARS: the Python path refuses the file, naming the limit."""
        max_cell = input_limit(MAX_CSV_CELL_CHARS)
        too_long = " OR ".join(f"length({c}) > {max_cell:d}" for c in self.columns)
        cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {FILE_TABLE} WHERE {too_long})")
        if cursor.fetchone()[0]:
            raise UseThePythonPath(f"a cell is longer than {max_cell} characters")

    def _python_rows(self, cursor) -> tuple[int, int]:
        """The rows SQL left undecided, through check_row; returns (blank lines, invalid rows)."""
        cursor.execute(
            f"CREATE TEMP TABLE {RESOLVED_TABLE} (ord bigint, raw text, email text, "
            f'normalized text COLLATE "C", domain text COLLATE "C", '
            f"{', '.join(f'f{p} text' for p in range(FIELD_COUNT))}) ON COMMIT DROP"
        )
        # Flagged values of the resolved rows; _insert files those of the rows it inserts.
        cursor.execute(
            f"CREATE TEMP TABLE {WARNINGS_TABLE} (ord bigint, seq integer, field text, reason text, "
            "value text) ON COMMIT DROP"
        )
        blank = invalid = 0
        seq = 0
        plan = self.plan
        reader = cursor.connection.cursor(name=f"leads_import_undecided_{self.lead_import.pk}")
        reader.execute(f"SELECT ord, cells FROM {CHECKED_TABLE} WHERE state IS NULL ORDER BY ord")
        while fetched := reader.fetchmany(5000):
            issues: list[IssueRow] = []
            resolved: list[tuple] = []  # rows of RESOLVED_TABLE, in its column order
            warned: list[tuple] = []  # rows of WARNINGS_TABLE, in its column order
            for ordinal, row in fetched:
                if not "".join(row).strip():
                    blank += 1
                    continue
                row_number = ordinal + 1  # the header is line 1
                checked = check_row(row_number, row, plan)
                if checked.problems:
                    invalid += 1
                    issues.extend(checked.problems)
                else:
                    raw, normalized = checked.raw_email, checked.normalized
                    resolved.append(
                        (ordinal, raw, raw.strip(), normalized, email_domain(normalized), *checked.values)
                    )
                    for warning in checked.warnings:
                        warned.append((ordinal, seq, warning.field, warning.reason, warning.value))
                        seq += 1
            if issues:
                copy_issues(cursor, self.lead_import.pk, issues)
            if resolved:
                with cursor.copy(f"COPY {RESOLVED_TABLE} FROM STDIN") as copy:
                    for row in resolved:
                        copy.write_row(row)
            if warned:
                with cursor.copy(f"COPY {WARNINGS_TABLE} FROM STDIN") as copy:
                    for warning in warned:
                        copy.write_row(warning)
        reader.close()
        return blank, invalid

    def _insert(self, cursor, params) -> dict[str, int]:
        lead_import = self.lead_import
        suppression_joins = []
        suppression_cases = []
        has_erased_digests = (
            suppressions_for_client(self.importer.campaign.client_id)
            .filter(kind=SuppressionKind.ERASED_EMAIL)
            .exists()
        )
        for alias, kind, key in (
            ("se", SuppressionKind.EMAIL, "r.normalized"),
            ("sd", SuppressionKind.DOMAIN, "r.domain"),
            ("sx", SuppressionKind.ERASED_EMAIL, "encode(sha256(convert_to(r.normalized, 'UTF8')), 'hex')"),
        ):
            if kind == SuppressionKind.ERASED_EMAIL and not has_erased_digests:
                continue  # no digest to compute for every row
            suppression_joins.append(
                f'LEFT JOIN (SELECT DISTINCT value COLLATE "C" AS value FROM leads_suppression '
                f"WHERE kind = '{kind}' AND (client_id IS NULL OR client_id = %(client)s)) {alias} "
                f"ON {alias}.value = {key}"
            )
            suppression_cases.append(f"WHEN {alias}.value IS NOT NULL THEN 'suppressed:{kind}'")
        reasons = {
            "duplicate_in_file": DUPLICATE_IN_FILE_REASON,
            "duplicate_in_campaign": DUPLICATE_IN_CAMPAIGN_REASON,
            "invalid": NO_AT_SIGN_REASON,
            **{f"suppressed:{kind}": reason for kind, reason in SUPPRESSION_REASONS.items()},
        }
        reason_cases = " ".join(f"WHEN '{verdict}' THEN %(reason_{i})s" for i, verdict in enumerate(reasons))
        params = {
            **params,
            **{f"reason_{i}": reason[:ISSUE_REASON_MAX_LENGTH] for i, reason in enumerate(reasons.values())},
            "campaign": lead_import.campaign_id,
            "client": self.importer.campaign.client_id,
            "source": lead_import.source,
            "import": lead_import.pk,
            "now": timezone.now(),
            "issue_value_max_length": ISSUE_VALUE_MAX_LENGTH,
        }
        statement = _statement("insert_leads").substitute(
            fields=", ".join(f"f{p}" for p in range(FIELD_COUNT)),
            checked_table=CHECKED_TABLE,
            resolved_table=RESOLVED_TABLE,
            warnings_table=WARNINGS_TABLE,
            suppression_cases=" ".join(suppression_cases),
            suppression_joins=" ".join(suppression_joins),
            lead_columns=", ".join(LEAD_COLUMNS),
            reason_cases=reason_cases,
        )
        import psycopg

        try:
            cursor.execute(statement, params)
        except (psycopg.errors.UniqueViolation, psycopg.errors.DeadlockDetected) as exc:
            raise UseThePythonPath(f"another import added some of the same addresses ({exc})") from exc
        inserted, invalid, dup_file, suppressed, dup_campaign, flagged = cursor.fetchone()
        return {
            "flagged": flagged,
            "inserted": inserted,
            "invalid": invalid,
            "duplicate_in_file": dup_file,
            "suppressed": suppressed,
            "duplicate_in_campaign": dup_campaign,
        }
