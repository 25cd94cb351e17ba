"""The one lead importer, used by the admin upload page, the API and ``manage.py import_leads``.

How it stays fast and flat in memory:

* the file is read as a stream (``csv.reader`` over a decoding wrapper); only one batch of rows is
  ever held, plus the client's suppression list (whose size does not depend on the file);
* each batch is written in its own transaction, so a crash loses nothing already committed and a
  re-run inserts only what is missing. The report counters are saved in the same transaction;
* PostgreSQL, whole files of 512 KB or more (``_PostgresFileImport``, the default there): the file's bytes go
  straight into ``COPY``; SQL checks, normalizes, deduplicates, suppression-checks and inserts
  set-based, and hands the rows it cannot decide to ``_check_row`` (the same rules as below). Files
  it cannot take exactly like Python's csv reader (quotes, ragged or blank lines, not UTF-8…) roll
  back and go through the batch path, so the outcome is always the batch path's;
* PostgreSQL, batch path: ``COPY`` of each batch into a temporary table, then one
  ``INSERT … SELECT … ON CONFLICT DO NOTHING`` that also files the rows it skipped as duplicate
  issues. SQLite: one look-up of the batch's addresses and ``bulk_create(ignore_conflicts=True)``;
* duplicates inside a batch are caught with a per-batch set; duplicates across batches conflict
  with a lead that this very import inserted (``Lead.source_import``), which tells "duplicate in
  file" from "already in the campaign" without remembering every address of the file.

Every non-blank row ends up in exactly one counter: inserted, duplicates_in_file,
duplicates_in_campaign, suppressed or invalid; every row not inserted has at least one
LeadImportIssue (row number, field, reason).
"""

from __future__ import annotations

import codecs
import io
import itertools
import logging
import re
import time
import zoneinfo
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import IO, Any

from django.db import DatabaseError, OperationalError, connection, reset_queries, transaction
from django.utils import timezone

from campaigns.errors import DomainError
from campaigns.exports import csv_lines
from campaigns.limits import MAX_CSV_CELL_CHARS, MAX_CSV_COLUMNS, input_limit
from campaigns.models import Campaign
from campaigns.services import record_audit_event

from .countries import normalize_country_code
from .csv_reading import SNIFF_BYTES, detect_delimiter, detect_encoding, numbered_rows, open_csv
from .models import (
    ImportIssueKind,
    Lead,
    LeadImport,
    LeadImportIssue,
    LeadImportStatus,
    LeadSource,
    SuppressionKind,
)
from .normalization import InvalidEmailError, email_domain, validate_and_normalize_email
from .selectors import SuppressionSets, suppression_sets_for_client, suppressions_for_client

logger = logging.getLogger(__name__)

# Lead fields a file can fill, in the order the staging rows carry them.
IMPORTABLE_FIELDS = (
    "first_name",
    "last_name",
    "title",
    "company",
    "company_size",
    "industry",
    "country",
    "timezone",
    "linkedin_url",
)
MAPPABLE_FIELDS = ("email", "full_name", *IMPORTABLE_FIELDS)

# Header spellings seen in exports from CRMs, finders and spreadsheets; compared after dropping
# case and everything that is not a letter or digit ("E-mail" → "email").
HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "email": ("email", "emailaddress", "mail", "workemail", "businessemail", "emailid", "courriel"),
    "full_name": ("name", "fullname", "contactname", "contact"),
    "first_name": ("firstname", "first", "givenname", "fname", "forename", "vorname", "prenom"),
    "last_name": ("lastname", "last", "surname", "familyname", "lname", "nachname", "nom"),
    "title": ("title", "jobtitle", "position", "role", "designation"),
    "company": ("company", "companyname", "organization", "organisation", "employer", "account"),
    "company_size": ("companysize", "employees", "employeecount", "headcount", "size", "numberofemployees"),
    "industry": ("industry", "sector", "vertical"),
    "country": ("country", "countrycode", "countryiso", "iso2"),
    "timezone": ("timezone", "tz", "timezonename"),
    "linkedin_url": (
        "linkedin",
        "linkedinurl",
        "linkedinprofile",
        "linkedinprofileurl",
        "linkedinurlprofile",
    ),
}
_ALIAS_TO_FIELD = {alias: name for name, aliases in HEADER_ALIASES.items() for alias in aliases}

MAX_LENGTHS = {name: Lead._meta.get_field(name).max_length for name in IMPORTABLE_FIELDS}
ISSUE_VALUE_MAX_LENGTH = LeadImportIssue._meta.get_field("value").max_length
ISSUE_REASON_MAX_LENGTH = LeadImportIssue._meta.get_field("reason").max_length

POSTGRES_BATCH_SIZE = 20_000
OTHER_BATCH_SIZE = 2_000
MAX_BATCH_ATTEMPTS = 3

SUPPRESSION_REASONS = {
    SuppressionKind.EMAIL: "The address is on the suppression list.",
    SuppressionKind.DOMAIN: "The address's domain is on the suppression list.",
    SuppressionKind.ERASED_EMAIL: "The person asked for their data to be erased; they are never re-imported.",
}


def _header_key(header: str) -> str:
    return re.sub(r"[^0-9a-z]", "", header.strip().lower())


_VALID_TIMEZONES: frozenset[str] | None = None


def _valid_timezones() -> frozenset[str]:
    global _VALID_TIMEZONES
    if _VALID_TIMEZONES is None:
        _VALID_TIMEZONES = frozenset(zoneinfo.available_timezones())
    return _VALID_TIMEZONES


def parse_mapping(text: str | Mapping[str, str] | None) -> dict[str, str]:
    """``"email=Work Email,first_name=Given"`` (or a dict) → {"email": "Work Email", …}."""
    if not text:
        return {}
    if isinstance(text, Mapping):
        pairs = list(text.items())
    else:
        pairs = []
        for part in str(text).split(","):
            if not part.strip():
                continue
            name, eq, column = part.partition("=")
            if not eq:
                raise DomainError(
                    f"Mapping part {part.strip()!r} is not FIELD=COLUMN (e.g. email=Work Email).",
                    field="mapping",
                )
            pairs.append((name, column))
    mapping: dict[str, str] = {}
    for name, column in pairs:
        name = str(name).strip()
        if name not in MAPPABLE_FIELDS:
            raise DomainError(
                f"Unknown lead field {name!r} in the mapping; known fields: {', '.join(MAPPABLE_FIELDS)}.",
                field="mapping",
            )
        mapping[name] = str(column).strip()
    return mapping


@dataclass
class ColumnLayout:
    """Where each lead field sits in the rows of one file."""

    email: int
    fields: dict[str, int]
    mapping: dict[str, str]
    ignored: list[str]


def resolve_columns(header: list[str], mapping: Mapping[str, str] | None = None) -> ColumnLayout:
    positions = {column.strip(): i for i, column in reversed(list(enumerate(header)))}
    keyed = {_header_key(column): i for i, column in reversed(list(enumerate(header)))}
    chosen: dict[str, int] = {}
    for name, column in (mapping or {}).items():
        if column in positions:
            chosen[name] = positions[column]
        elif _header_key(column) in keyed:
            chosen[name] = keyed[_header_key(column)]
        else:
            raise DomainError(
                f"The mapping names column {column!r} for {name}, but the file has no such column; "
                f"its columns are: {', '.join(h.strip() for h in header)}.",
                field="mapping",
            )
    used = set(chosen.values())
    for i, column in enumerate(header):
        name = _ALIAS_TO_FIELD.get(_header_key(column))
        if name and name not in chosen and i not in used:
            chosen[name] = i
            used.add(i)
    if "email" not in chosen:
        raise DomainError(
            "The file has no email column. Columns found: "
            f"{', '.join(h.strip() for h in header) or '(none)'}. Name one Email (or E-mail, "
            "email_address…) or map it: --mapping email=COLUMN.",
            field="email",
        )
    email_index = chosen.pop("email")
    return ColumnLayout(
        email=email_index,
        fields=chosen,
        mapping={"email": header[email_index].strip(), **{n: header[i].strip() for n, i in chosen.items()}},
        ignored=[h.strip() for i, h in enumerate(header) if i != email_index and i not in used and h.strip()],
    )


# --- reading the file: leads/csv_reading.py ---------------------------------------------------

# --- the report ---------------------------------------------------------------------------------


@dataclass
class BatchCounts:
    inserted: int = 0
    duplicates_in_file: int = 0
    duplicates_in_campaign: int = 0


@dataclass
class _Batch:
    leads: list[tuple] = field(default_factory=list)  # (row_number, email, normalized, domain, *fields)
    issues: list[tuple] = field(default_factory=list)  # (row_number, kind, field, reason, value)
    seen: set[str] = field(default_factory=set)
    rows: int = 0
    blank_lines: int = 0
    invalid: int = 0
    suppressed: int = 0
    duplicates_in_file: int = 0


def _issue(row_number: int, kind: str, field_name: str, reason: str, value: str) -> tuple:
    return (
        row_number,
        kind,
        field_name,
        reason[:ISSUE_REASON_MAX_LENGTH],
        (value or "")[:ISSUE_VALUE_MAX_LENGTH],
    )


def lead_import_report(lead_import: LeadImport, *, issue_limit: int = 100) -> dict[str, Any]:
    """The report as plain data (API answer, command summary)."""
    issues = list(
        lead_import.issues.order_by("row_number", "id").values(
            "row_number", "kind", "field", "reason", "value"
        )[:issue_limit]
    )
    return {
        "id": lead_import.pk,
        "campaign": lead_import.campaign_id,
        "status": str(lead_import.status),
        "error": lead_import.error,
        "filename": lead_import.filename,
        "encoding": lead_import.encoding,
        "delimiter": lead_import.delimiter,
        "column_mapping": lead_import.column_mapping,
        "ignored_columns": lead_import.ignored_columns,
        "rows_read": lead_import.rows_read,
        "inserted": lead_import.inserted,
        "duplicates_in_file": lead_import.duplicates_in_file,
        "duplicates_in_campaign": lead_import.duplicates_in_campaign,
        "suppressed": lead_import.suppressed,
        "invalid": lead_import.invalid,
        "blank_lines": lead_import.blank_lines,
        "issues_total": lead_import.issues.count(),
        "issues": issues,
    }


def iter_issues_csv(lead_import: LeadImport) -> Iterator[str]:
    """Every rejected row of an import as CSV lines (row, kind, field, reason, value), streamed;
    cells that a spreadsheet would run as a formula are neutralised (``campaigns.exports``)."""
    rows = lead_import.issues.order_by("row_number", "id").values_list(
        "row_number", "kind", "field", "reason", "value"
    )
    yield from csv_lines(
        itertools.chain([("row", "kind", "field", "reason", "value")], rows.iterator(chunk_size=5000))
    )


# --- writing batches ----------------------------------------------------------------------------

_LEAD_COLUMNS = ("email", "normalized_email", "email_domain", *IMPORTABLE_FIELDS)
_STAGE_TABLE = "leads_import_stage"


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


def _is_retryable(exc: BaseException) -> bool:
    cause = exc.__cause__
    return type(cause).__name__ in {"DeadlockDetected", "SerializationFailure"}


class _PostgresBatchWriter:
    """COPY the batch into a temporary table, then one set-based INSERT … ON CONFLICT DO NOTHING."""

    def write(self, lead_import: LeadImport, batch: _Batch, now) -> BatchCounts:
        with connection.cursor() as django_cursor:
            cursor = django_cursor.cursor  # the psycopg 3 cursor, for COPY
            # Byte-wise collation like the lead columns (migration 0002): cheap sort and join.
            stage_columns = ", ".join(
                f'{c} text COLLATE "C"' if c in ("normalized_email", "email_domain") else f"{c} text"
                for c in _LEAD_COLUMNS
            )
            cursor.execute(
                f"CREATE TEMP TABLE IF NOT EXISTS {_STAGE_TABLE} (row_number integer, {stage_columns}) "
                "ON COMMIT DELETE ROWS"
            )
            # Also emptied by hand: inside an outer transaction (a request, a test) there is no commit.
            cursor.execute(f"TRUNCATE {_STAGE_TABLE}")
            cursor.execute("SET LOCAL work_mem = '64MB'")  # sort a whole batch in memory
            with cursor.copy(
                f"COPY {_STAGE_TABLE} (row_number, {', '.join(_LEAD_COLUMNS)}) FROM STDIN"
            ) as copy:
                for row in batch.leads:
                    copy.write_row(row)
            select_columns = ", ".join(f"s.{c}" for c in _LEAD_COLUMNS)
            cursor.execute(
                f"""
                WITH inserted AS (
                    INSERT INTO leads_lead (
                        {", ".join(_LEAD_COLUMNS)}, campaign_id, source, source_import_id, enrichment,
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
                )
                SELECT (SELECT count(*) FROM inserted),
                       count(*) FILTER (WHERE kind = 'duplicate_in_file'),
                       count(*) FILTER (WHERE kind = 'duplicate_in_campaign')
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
            inserted, dup_file, dup_campaign = cursor.fetchone()
            cursor.execute(f"TRUNCATE {_STAGE_TABLE}")  # no addresses linger in the session
            if batch.issues:
                with cursor.copy(
                    "COPY leads_leadimportissue (lead_import_id, row_number, kind, field, reason, value) "
                    "FROM STDIN"
                ) as copy:
                    for issue in batch.issues:
                        copy.write_row((lead_import.pk, *issue))
        return BatchCounts(inserted, dup_file, dup_campaign)


class _OrmBatchWriter:
    """SQLite (and any other backend): look the batch's addresses up, bulk_create the new ones."""

    LOOKUP_CHUNK = 500

    def write(self, lead_import: LeadImport, batch: _Batch, now) -> BatchCounts:
        keys = [row[2] for row in batch.leads]
        existing: dict[str, int | None] = {}
        for start in range(0, len(keys), self.LOOKUP_CHUNK):
            existing.update(
                Lead.objects.filter(
                    campaign_id=lead_import.campaign_id,
                    normalized_email__in=keys[start : start + self.LOOKUP_CHUNK],
                ).values_list("normalized_email", "source_import_id")
            )
        new_leads: list[Lead] = []
        issues = [LeadImportIssue(lead_import=lead_import, **_issue_fields(i)) for i in batch.issues]
        counts = BatchCounts()
        for row in batch.leads:
            row_number, email, normalized = row[0], row[1], row[2]
            if normalized in existing:
                if existing[normalized] == lead_import.pk:
                    counts.duplicates_in_file += 1
                    kind, reason = ImportIssueKind.DUPLICATE_IN_FILE, DUPLICATE_IN_FILE_REASON
                else:
                    counts.duplicates_in_campaign += 1
                    kind, reason = ImportIssueKind.DUPLICATE_IN_CAMPAIGN, DUPLICATE_IN_CAMPAIGN_REASON
                issues.append(
                    LeadImportIssue(
                        lead_import=lead_import,
                        **_issue_fields(_issue(row_number, kind, "email", reason, email)),
                    )
                )
                continue
            new_leads.append(
                Lead(
                    campaign_id=lead_import.campaign_id,
                    source=lead_import.source,
                    source_import=lead_import,
                    created_at=now,
                    updated_at=now,
                    **dict(zip(_LEAD_COLUMNS, row[1:], strict=True)),
                )
            )
        Lead.objects.bulk_create(new_leads, batch_size=500, ignore_conflicts=True)
        counts.inserted = len(new_leads)
        LeadImportIssue.objects.bulk_create(issues, batch_size=500)
        return counts


def _issue_fields(issue: tuple) -> dict[str, Any]:
    row_number, kind, field_name, reason, value = issue
    return {"row_number": row_number, "kind": kind, "field": field_name, "reason": reason, "value": value}


DUPLICATE_IN_FILE_REASON = "The same address (after normalization) is on an earlier row of this file."
DUPLICATE_IN_CAMPAIGN_REASON = "This address is already a lead in this campaign."


# --- the PostgreSQL fast path ---------------------------------------------------------------------
#
# PostgreSQL parses the file (COPY … FORMAT csv) and checks, normalizes, deduplicates,
# suppression-checks and inserts it set-based in C; Python only reads the header and handles the
# few rows the SQL cannot decide on its own (invalid ones, non-ASCII addresses, odd country
# values): those go through ``_check_row``, the same function the Python path uses, so both paths
# give the same report. A file is only taken this way when PostgreSQL's CSV reading and Python's
# agree on it: UTF-8, no quote character at all (so no field spans lines and line numbers equal
# row numbers), the header on the first line, the same number of cells on every line (COPY refuses
# ragged and blank lines). Anything else, or an error while COPY reads the file, rolls the attempt
# back and the Python path imports the file from the start.

_FILE_TABLE = "leads_import_file"
_RESOLVED_TABLE = "leads_import_resolved"
_CHECKED_TABLE = "leads_import_checked"
COPY_CHUNK_BYTES = 1024 * 1024
# Below this size the batch path is quicker: the file path's temporary tables, ANALYZE and large
# statement cost a fixed ~10 ms, more than Python spends on a few thousand rows (measured: 1,000
# rows 41 vs 34 ms, 3,000 rows 82 vs 73 ms, 10,000 rows 208 vs 214 ms).
FILE_PATH_MIN_BYTES = 512 * 1024
FILE_PATH_WORK_MEM = "512MB"
FILE_PATH_MAX_COLUMNS = 1000
FILE_PATH_TEMP_BUFFERS = "256MB"

# Every character Python's ``str.strip()`` removes (``str.isspace``); the SQL trims the same set.
PYTHON_WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680"
    + "".join(chr(c) for c in range(0x2000, 0x200B))
    + "\u2028\u2029\u202f\u205f\u3000"
)
NO_AT_SIGN_REASON = "An email address must have an @-sign."  # email-validator's words, tested equal


# UTF-8 encodings of the non-ASCII characters str.strip() removes (U+2000 to U+200A, U+2028, U+2029
# and U+202F all start with E2 80; matching the prefix only errs on the safe side).
_NON_ASCII_WHITESPACE = (
    b"\xc2\x85",
    b"\xc2\xa0",
    b"\xe1\x9a\x80",
    b"\xe2\x80",
    b"\xe2\x81\x9f",
    b"\xe3\x80\x80",
)


def _may_need_trimming(block: bytes, delimiter: bytes) -> bool:
    """Could a cell in this block begin or end with whitespace? (False is certain; True is "maybe".)

    A few C-speed scans of the bytes in Python save a trim of every cell in SQL.
    """
    rare = b"\x0b\x0c\x1c\x1d\x1e\x1f" + (b"" if delimiter == b"\t" else b"\t")
    if len(block.translate(None, rare)) != len(block):
        return True
    if not block.isascii() and any(sequence in block for sequence in _NON_ASCII_WHITESPACE):
        return True
    return any(pattern in block for pattern in (b" " + delimiter, delimiter + b" ", b" \r", b" \n", b"\n "))


class _UseThePythonPath(Exception):
    """The file, or what PostgreSQL made of it, needs the Python path; the attempt was rolled back."""


@dataclass
class _FastPathFile:
    header: list[str]
    delimiter: str
    encoding: str
    body_prefix: bytes  # the sniffed bytes after the header line


def _fast_path_file(stream: IO[bytes]) -> _FastPathFile | None:
    """Read the header of a file the fast path can take, or None (the caller rewinds the stream)."""
    sample = stream.read(SNIFF_BYTES)
    if not isinstance(sample, bytes):
        return None
    encoding = detect_encoding(sample)
    if encoding == "latin-1":
        return None
    text_sample = sample.decode(encoding, errors="replace")
    # The same delimiter choice as open_csv, from the same text.
    delimiter = detect_delimiter(next((line for line in text_sample.splitlines() if line.strip()), ""))
    start = len(codecs.BOM_UTF8) if encoding == "utf-8-sig" else 0
    end = sample.find(b"\n", start)
    if end < 0:
        return None
    header_bytes = sample[start:end].removesuffix(b"\r")
    if b'"' in header_bytes or b"\r" in header_bytes:
        return None
    try:
        header = header_bytes.decode("utf-8").split(delimiter)
    except UnicodeDecodeError:
        return None
    if not "".join(header).strip():
        return None  # blank lines before the header: the Python path counts them
    if len(header) > FILE_PATH_MAX_COLUMNS:
        return None  # PostgreSQL tables have at most 1,600 columns
    if len(header) > input_limit(MAX_CSV_COLUMNS) or max(map(len, header)) > input_limit(MAX_CSV_CELL_CHARS):
        return None  # over an input limit: the Python path refuses it with the limit's name
    return _FastPathFile(
        header=header,
        delimiter=delimiter,
        encoding=encoding.replace("-sig", " (BOM)"),
        body_prefix=sample[end + 1 :],
    )


def _sql_email_pattern() -> str:
    """The fast-path address regex for PostgreSQL, anchored and without bounded repetition.

    PostgreSQL's regex engine expands ``{0,61}`` into 61 copies (≈30 µs a row here); the SQL
    checks label lengths (≤ 63) separately, which together with this pattern is the same set of
    addresses (property-tested against the Python regex).
    """
    from .normalization import _FAST_ADDRESS

    pattern = _FAST_ADDRESS.pattern
    unbounded = pattern.replace("[a-z0-9-]{0,61}", "[a-z0-9-]*").replace("[a-z]{2,63}", "[a-z][a-z]+")
    assert "{" not in unbounded.replace("{|}", ""), "update the SQL twin of the address regex"
    return f"^(?:{unbounded})$"


def _country_lookup() -> dict[str, str]:
    from .countries import COUNTRY_ALIASES, COUNTRY_NAMES

    lookup = {code: code for code in COUNTRY_NAMES}
    lookup.update({alias: code for alias, code in COUNTRY_ALIASES.items() if code in COUNTRY_NAMES})
    return lookup


class _PostgresFileImport:
    """One file, one transaction: COPY, the rows SQL cannot decide through Python, one INSERT."""

    def __init__(
        self,
        importer: LeadImporter,
        lead_import: LeadImport,
        prepared: _FastPathFile,
        layout: ColumnLayout,
        stream: IO[bytes],
    ) -> None:
        self.importer = importer
        self.stream = stream
        self.lead_import = lead_import
        self.prepared = prepared
        self.layout = layout
        self.plan = _RowPlan.for_layout(layout)
        self.columns = [f"c{i}" for i in range(len(prepared.header))]
        self.trim_cells = False  # set while copying: only when some cell may have whitespace to trim
        self.long_lines = False  # set while copying: only then may a cell pass AICMO_MAX_CSV_CELL_CHARS

    # -- SQL pieces --

    def _params(self) -> dict[str, Any]:
        from psycopg.types.json import Jsonb

        from .normalization import _SPECIAL_USE_TLDS, DOT_AND_TAG_BLIND_DOMAINS

        return {
            "ws": PYTHON_WHITESPACE,
            "email_re": _sql_email_pattern(),
            "special_tlds": sorted(_SPECIAL_USE_TLDS),
            "blind": Jsonb(DOT_AND_TAG_BLIND_DOMAINS),
            "countries": Jsonb(_country_lookup()),
            "zones": Jsonb(dict.fromkeys(sorted(_valid_timezones()), True)),
        }

    def _checked_rows_sql(self) -> str:
        """Each file row with its SQL verdict: 'ok' (valid, normalized), 'noat' (invalid: no @-sign,
        nothing else wrong) or NULL (Python decides: blank, invalid, or outside the SQL's rules)."""
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
            # Python: first, _, last = full_name.partition(" "); last.strip() — only when both are empty.
            space = "strpos(a.full_name, ' ')"
            split_first = f"CASE WHEN {space} > 0 THEN left(a.full_name, {space} - 1) ELSE a.full_name END"
            split_last = (
                f"CASE WHEN {space} > 0 THEN btrim(substr(a.full_name, {space} + 1), %(ws)s) ELSE '' END"
            )
            first = f"CASE WHEN {first} = '' AND {last} = '' THEN {split_first} ELSE {first} END"
            last = f"CASE WHEN {value(0)} = '' AND {last} = '' THEN {split_last} ELSE {last} END"
        middle = [
            "a.*",
            "a.low ~ %(email_re)s AS shaped",
            "split_part(a.low, '@', 1) AS local",
            "split_part(a.low, '@', 2) AS dom",
            f"{first} AS w0",
            f"{last} AS w1",
            *(f"{value(p)} AS w{p}" for p in range(2, _FIELD_COUNT)),
        ]
        field_checks = []
        final_values = []
        for position, name in enumerate(IMPORTABLE_FIELDS):
            w = f"b.w{position}"
            if position == _COUNTRY:
                field_checks.append(
                    f"({w} = '' OR (char_length({w}) <= {MAX_LENGTHS[name]} "
                    f"AND octet_length({w}) = char_length({w}) "
                    f'AND %(countries)s::jsonb ? upper({w} COLLATE "C")))'
                )
                final_values.append(
                    f"CASE WHEN {w} = '' THEN '' ELSE %(countries)s::jsonb ->> upper({w} COLLATE \"C\") END"
                )
            elif position == _TIMEZONE:
                field_checks.append(
                    f"({w} = '' OR (char_length({w}) <= {MAX_LENGTHS[name]} AND %(zones)s::jsonb ? {w}))"
                )
                final_values.append(w)
            elif position in mapped or (position in (0, 1) and plan.full_name is not None):
                field_checks.append(f"char_length({w}) <= {MAX_LENGTHS[name]}")
                final_values.append(w)
            else:
                final_values.append(w)
        fields_ok = " AND ".join(field_checks) or "true"
        email_ok = (
            "b.shaped AND char_length(b.low) <= 254 AND char_length(b.local) <= 64 "
            "AND char_length(b.dom) <= 253 "
            # Labels of at most 63 characters and no "ab--" label: cheap guards first, since
            # PostgreSQL's regex engine is slow with bounded repetition.
            "AND CASE WHEN char_length(b.dom) > 63 THEN b.dom !~ '[^.]{64}' ELSE true END "
            "AND CASE WHEN strpos(b.dom, '--') > 0 THEN b.dom !~ '(^|\\.)..--' ELSE true END "
            "AND reverse(split_part(reverse(b.dom), '.', 1)) <> ALL(%(special_tlds)s) "
            "AND NOT (%(blind)s::jsonb ? b.dom AND replace(split_part(b.local, '+', 1), '.', '') = '')"
        )
        no_at = (
            "NOT b.shaped AND b.addr <> '' AND octet_length(b.addr) = char_length(b.addr) "
            "AND strpos(b.addr, '@') = 0 AND strpos(b.addr, '<') = 0 AND strpos(b.addr, '\"') = 0"
        )
        blind_domain = "(%(blind)s::jsonb ->> c.dom)"
        normalized = (
            f"CASE WHEN c.state <> 'ok' THEN NULL WHEN {blind_domain} IS NOT NULL "
            f"THEN replace(split_part(c.local, '+', 1), '.', '') || '@' || {blind_domain} "
            "ELSE c.low END"
        )
        domain = f"CASE WHEN c.state = 'ok' THEN coalesce({blind_domain}, c.dom) END"
        cells = ", ".join(f"coalesce(c.{c}, '')" for c in self.columns)
        return f"""
            SELECT c.ord, c.raw, c.addr AS email, c.state,
                   ({normalized}) COLLATE "C" AS normalized,
                   ({domain}) COLLATE "C" AS domain,
                   {", ".join(f"c.f{p}" for p in range(_FIELD_COUNT))},
                   CASE WHEN c.state IS NULL THEN ARRAY[{cells}] END AS cells
            FROM (
                SELECT b.*,
                       CASE WHEN ({fields_ok}) AND ({email_ok}) THEN 'ok'
                            WHEN ({fields_ok}) AND ({no_at}) THEN 'noat' END AS state,
                       {", ".join(f"{v} AS f{p}" for p, v in enumerate(final_values))}
                FROM (
                    SELECT {", ".join(middle)}
                    FROM (
                        SELECT f.*, {", ".join(trimmed)}
                        FROM {_FILE_TABLE} f OFFSET 0
                    ) a
                    OFFSET 0
                ) b
                OFFSET 0
            ) c
        """

    # -- the steps --

    def run(self) -> None:
        lead_import = self.lead_import
        with transaction.atomic(), connection.cursor() as django_cursor:
            cursor = django_cursor.cursor
            # Sort a million rows in memory (an external merge sort was a third of the time), for
            # this transaction only. Bigger local buffers for the temporary tables, when the session
            # has not used any yet (PostgreSQL refuses the change after that; then it stays as is).
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
            cursor.execute(f"ANALYZE {_FILE_TABLE}")
            copied_at = time.perf_counter()
            params = self._params()
            cursor.execute(
                f"CREATE TEMP TABLE {_CHECKED_TABLE} ON COMMIT DROP AS {self._checked_rows_sql()}", params
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
            expected = lead_import.rows_read - lead_import.rejected
            if lead_import.inserted != expected:  # every row in exactly one counter, or no fast path
                raise _UseThePythonPath(f"{lead_import.inserted} rows inserted, {expected} expected")
            # Inside an outer transaction (a request, a test) ON COMMIT DROP has not happened yet.
            cursor.execute(f"DROP TABLE {_FILE_TABLE}, {_CHECKED_TABLE}, {_RESOLVED_TABLE}")
            lead_import.save(update_fields=list(_COUNTERS))

    def _copy_file(self, cursor) -> int:
        import psycopg
        from psycopg import sql

        columns = ", ".join(f"{c} text" for c in self.columns)
        cursor.execute(
            f"CREATE TEMP TABLE {_FILE_TABLE} (ord bigint GENERATED ALWAYS AS IDENTITY, {columns}) "
            "ON COMMIT DROP"
        )
        statement = sql.SQL(
            "COPY {table} ({columns}) FROM STDIN (FORMAT csv, DELIMITER {delimiter}, ENCODING 'UTF8')"
        ).format(
            table=sql.Identifier(_FILE_TABLE),
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
                        raise _UseThePythonPath("the file has quote characters or a backslash-dot")
                    if not self.trim_cells:
                        self.trim_cells = _may_need_trimming(chunk, delimiter) or _may_need_trimming(
                            boundary, delimiter
                        )
                    copy.write(chunk)
                    if progress is not None:
                        progress(chunk.count(b"\n"))
                    previous = chunk
                    chunk = self.stream.read(COPY_CHUNK_BYTES)
                # The last cell of a file without a final newline:
                self.trim_cells = self.trim_cells or _may_need_trimming(previous[-3:] + b"\n", delimiter)
        except (psycopg.errors.DataError, psycopg.errors.QueryCanceled) as exc:
            # Ragged or blank lines, bytes that are not UTF-8, a NUL: COPY is stricter than Python.
            raise _UseThePythonPath(str(exc)) from exc
        return cursor.rowcount

    def _check_cell_lengths(self, cursor) -> None:
        """A cell over AICMO_MAX_CSV_CELL_CHARS: the Python path refuses the file, naming the limit."""
        max_cell = input_limit(MAX_CSV_CELL_CHARS)
        too_long = " OR ".join(f"length({c}) > {max_cell:d}" for c in self.columns)
        cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {_FILE_TABLE} WHERE {too_long})")
        if cursor.fetchone()[0]:
            raise _UseThePythonPath(f"a cell is longer than {max_cell} characters")

    def _python_rows(self, cursor) -> tuple[int, int]:
        """The rows SQL left undecided, through _check_row; returns (blank lines, invalid rows)."""
        cursor.execute(
            f"CREATE TEMP TABLE {_RESOLVED_TABLE} (ord bigint, raw text, email text, "
            f'normalized text COLLATE "C", domain text COLLATE "C", '
            f"{', '.join(f'f{p} text' for p in range(_FIELD_COUNT))}) ON COMMIT DROP"
        )
        blank = invalid = 0
        plan = self.plan
        reader = cursor.connection.cursor(name=f"leads_import_undecided_{self.lead_import.pk}")
        reader.execute(f"SELECT ord, cells FROM {_CHECKED_TABLE} WHERE state IS NULL ORDER BY ord")
        while fetched := reader.fetchmany(5000):
            issues: list[tuple] = []
            resolved: list[tuple] = []
            for ordinal, row in fetched:
                if not "".join(row).strip():
                    blank += 1
                    continue
                row_number = ordinal + 1  # the header is line 1
                raw_email, normalized, values, problems = _check_row(row_number, row, plan)
                if problems:
                    invalid += 1
                    issues.extend(problems)
                else:
                    resolved.append(
                        (ordinal, raw_email, raw_email.strip(), normalized, email_domain(normalized), *values)
                    )
            if issues:
                with cursor.copy(
                    "COPY leads_leadimportissue (lead_import_id, row_number, kind, field, reason, value) "
                    "FROM STDIN"
                ) as copy:
                    for issue in issues:
                        copy.write_row((self.lead_import.pk, *issue))
            if resolved:
                with cursor.copy(f"COPY {_RESOLVED_TABLE} FROM STDIN") as copy:
                    for row in resolved:
                        copy.write_row(row)
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
        }
        fields = ", ".join(f"f{p}" for p in range(_FIELD_COUNT))
        statement = f"""
            WITH candidates AS (
                SELECT ord, raw, email, normalized, domain, {fields}, state
                FROM {_CHECKED_TABLE} WHERE state IS NOT NULL
                UNION ALL
                SELECT ord, raw, email, normalized, domain, {fields}, 'ok' FROM {_RESOLVED_TABLE}
            ),
            ranked AS (
                SELECT c.*, row_number() OVER (PARTITION BY normalized ORDER BY ord) AS nth
                FROM candidates c
            ),
            verdicts AS MATERIALIZED (
                SELECT r.*,
                       CASE WHEN r.state = 'noat' THEN 'invalid'
                            WHEN r.nth > 1 THEN 'duplicate_in_file'
                            {" ".join(suppression_cases)}
                            WHEN l.id IS NOT NULL THEN 'duplicate_in_campaign' END AS verdict
                FROM ranked r
                {" ".join(suppression_joins)}
                LEFT JOIN leads_lead l
                       ON l.campaign_id = %(campaign)s AND l.normalized_email = r.normalized
            ),
            inserted AS (
                INSERT INTO leads_lead (
                    {", ".join(_LEAD_COLUMNS)}, campaign_id, source, source_import_id, enrichment,
                    score, state, state_reason, created_at, updated_at
                )
                SELECT email, normalized, domain, {fields}, %(campaign)s, %(source)s, %(import)s,
                       '{{}}'::jsonb, 0, 'new', '', %(now)s, %(now)s
                FROM verdicts WHERE verdict IS NULL
                -- No ORDER BY: the rows already come in index order from the window above (a
                -- second sort of a million rows cost ~2 s). No ON CONFLICT (it probes the unique
                -- index twice per row): addresses already in the campaign were classified above;
                -- one that another import adds meanwhile raises a unique violation (or a
                -- deadlock), and the Python path, batch by batch, imports the file instead.
                RETURNING 1
            ),
            issues AS (
                INSERT INTO leads_leadimportissue (lead_import_id, row_number, kind, field, reason, value)
                SELECT %(import)s, ord + 1, split_part(verdict, ':', 1), 'email',
                       CASE verdict {reason_cases} END,
                       -- As the Python path files them: the address as given, trimmed for rows
                       -- already in the campaign.
                       left(CASE WHEN verdict = 'duplicate_in_campaign' THEN email ELSE raw END,
                            {ISSUE_VALUE_MAX_LENGTH})
                FROM verdicts WHERE verdict IS NOT NULL
                ORDER BY ord
                RETURNING kind
            )
            SELECT (SELECT count(*) FROM inserted),
                   count(*) FILTER (WHERE kind = 'invalid'),
                   count(*) FILTER (WHERE kind = 'duplicate_in_file'),
                   count(*) FILTER (WHERE kind = 'suppressed'),
                   count(*) FILTER (WHERE kind = 'duplicate_in_campaign')
            FROM issues
        """
        import psycopg

        try:
            cursor.execute(statement, params)
        except (psycopg.errors.UniqueViolation, psycopg.errors.DeadlockDetected) as exc:
            raise _UseThePythonPath(f"another import added some of the same addresses ({exc})") from exc
        inserted, invalid, dup_file, suppressed, dup_campaign = cursor.fetchone()
        return {
            "inserted": inserted,
            "invalid": invalid,
            "duplicate_in_file": dup_file,
            "suppressed": suppressed,
            "duplicate_in_campaign": dup_campaign,
        }


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
        if campaign.is_final:
            raise DomainError(
                f"Campaign {campaign.pk} is {campaign.get_state_display().lower()}: it takes no new leads.",
                field="campaign",
                state=campaign.state,
            )
        self.campaign = campaign
        self.actor = actor
        self.source = source
        on_postgres = connection.vendor == "postgresql"
        self.batch_size = batch_size or (POSTGRES_BATCH_SIZE if on_postgres else OTHER_BATCH_SIZE)
        self.writer = _PostgresBatchWriter() if on_postgres else _OrmBatchWriter()
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
            and _remaining_bytes(stream) >= FILE_PATH_MIN_BYTES
        ):
            start = stream.tell()
            lead_import = self._import_on_postgres(stream, filename=filename, mapping=mapping)
            if lead_import is not None and lead_import.status == LeadImportStatus.FINISHED:
                return lead_import
            stream.seek(start)
        opened = open_csv(stream)
        header: list[str] | None = None
        blank_before_header = 0
        for row in opened.rows:
            if row and any(cell.strip() for cell in row):
                header = row
                break
            blank_before_header += 1
        if header is None:
            raise DomainError("The file is empty: no header row with an email column.", field="file")
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
        prepared = _fast_path_file(stream)
        if prepared is None:
            return None
        layout = resolve_columns(prepared.header, mapping)
        lead_import = self._start(
            filename=filename, encoding=prepared.encoding, delimiter=prepared.delimiter, layout=layout
        )
        try:
            _PostgresFileImport(self, lead_import, prepared, layout, stream).run()
        except _UseThePythonPath as exc:
            logger.info("Lead import %s goes through the Python path: %s", lead_import.pk, exc)
            for counter in _COUNTERS:
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
                by_field = {_ALIAS_TO_FIELD.get(_header_key(str(k)), str(k)): v for k, v in record.items()}
                yield position, ["" if by_field.get(n) is None else str(by_field.get(n)) for n in columns]

        lead_import = self._start(filename="", encoding="", delimiter="", layout=layout)
        return self._run(lead_import, as_rows(), layout)

    # -- internals --

    def _start(self, *, filename: str, encoding: str, delimiter: str, layout: ColumnLayout) -> LeadImport:
        return LeadImport.objects.create(
            campaign=self.campaign,
            created_by=self.actor if getattr(self.actor, "is_authenticated", False) else None,
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
        plan = _RowPlan.for_layout(layout)
        try:
            batch = _Batch()
            for row_number, row in records:
                self._take_row(batch, row_number, row, plan, suppression)
                if len(batch.leads) >= self.batch_size or len(batch.issues) >= self.batch_size:
                    self._submit(lead_import, batch)
                    batch = _Batch()
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
                metadata={
                    k: getattr(lead_import, k)
                    for k in (
                        "rows_read",
                        "inserted",
                        "duplicates_in_file",
                        "duplicates_in_campaign",
                        "suppressed",
                        "invalid",
                    )
                },
            )
        return lead_import

    def _take_row(
        self,
        batch: _Batch,
        row_number: int,
        row: list[str],
        plan: _RowPlan,
        suppression: SuppressionSets,
    ) -> None:
        if not "".join(row).strip():
            batch.blank_lines += 1
            return
        batch.rows += 1
        raw_email, normalized, values, problems = _check_row(row_number, row, plan)
        if problems:
            batch.invalid += 1
            batch.issues.extend(problems)
            return
        if normalized in batch.seen:
            batch.duplicates_in_file += 1
            batch.issues.append(
                _issue(
                    row_number,
                    ImportIssueKind.DUPLICATE_IN_FILE,
                    "email",
                    DUPLICATE_IN_FILE_REASON,
                    raw_email,
                )
            )
            return
        batch.seen.add(normalized)
        suppressed_by = suppression.match(normalized)
        if suppressed_by is not None:
            batch.suppressed += 1
            batch.issues.append(
                _issue(
                    row_number,
                    ImportIssueKind.SUPPRESSED,
                    "email",
                    SUPPRESSION_REASONS[suppressed_by],
                    raw_email,
                )
            )
            return
        batch.leads.append((row_number, raw_email.strip(), normalized, email_domain(normalized), *values))

    def _submit(self, lead_import: LeadImport, batch: _Batch) -> None:
        if not (batch.rows or batch.blank_lines):
            return
        self._write_batch(lead_import, batch)
        # With DEBUG on, Django keeps the last 9,000 SQL statements; bulk inserts make that
        # hundreds of MB. Dropping the log keeps an import's memory flat in development too.
        reset_queries()
        if self.progress is not None:
            self.progress(batch.rows)

    def _write_batch(self, lead_import: LeadImport, batch: _Batch) -> None:
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
                if attempt == MAX_BATCH_ATTEMPTS or not _is_retryable(exc):
                    raise
                logger.warning("Lead import %s: batch retried after %s", lead_import.pk, exc.__cause__)
                lead_import.refresh_from_db()

    def _write_issues_only(self, lead_import: LeadImport, batch: _Batch) -> BatchCounts:
        LeadImportIssue.objects.bulk_create(
            [LeadImportIssue(lead_import=lead_import, **_issue_fields(i)) for i in batch.issues],
            batch_size=500,
        )
        return BatchCounts()

    def _add_counts(self, lead_import: LeadImport, batch: _Batch, counts: BatchCounts) -> None:
        lead_import.rows_read += batch.rows
        lead_import.blank_lines += batch.blank_lines
        lead_import.invalid += batch.invalid
        lead_import.suppressed += batch.suppressed
        lead_import.duplicates_in_file += batch.duplicates_in_file + counts.duplicates_in_file
        lead_import.duplicates_in_campaign += counts.duplicates_in_campaign
        lead_import.inserted += counts.inserted
        lead_import.save(update_fields=list(_COUNTERS))


_COUNTERS = (
    "rows_read",
    "blank_lines",
    "invalid",
    "suppressed",
    "duplicates_in_file",
    "duplicates_in_campaign",
    "inserted",
)
_FIELD_COUNT = len(IMPORTABLE_FIELDS)
_COUNTRY = IMPORTABLE_FIELDS.index("country")
_TIMEZONE = IMPORTABLE_FIELDS.index("timezone")
_MAX_LENGTH_BY_POSITION = [MAX_LENGTHS[name] for name in IMPORTABLE_FIELDS]


@dataclass(frozen=True)
class _RowPlan:
    """Column positions resolved once per file, so the per-row loop does no look-ups by name."""

    email: int
    fields: tuple[tuple[int, int], ...]  # (position in IMPORTABLE_FIELDS, column index)
    full_name: int | None

    @classmethod
    def for_layout(cls, layout: ColumnLayout) -> _RowPlan:
        return cls(
            email=layout.email,
            fields=tuple(
                (IMPORTABLE_FIELDS.index(name), index)
                for name, index in layout.fields.items()
                if name != "full_name"
            ),
            full_name=layout.fields.get("full_name"),
        )


def _check_row(row_number: int, row: list[str], plan: _RowPlan) -> tuple[str, str, list[str], list[tuple]]:
    """Validate and normalize one non-blank row: (raw email, normalized email, field values, problems).

    The one place the per-row rules live; the PostgreSQL fast path hands every row it cannot
    decide itself to this function, so both paths give the same answer.
    """
    width = len(row)
    raw_email = row[plan.email] if plan.email < width else ""
    problems: list[tuple] = []
    try:
        normalized = validate_and_normalize_email(raw_email)
    except InvalidEmailError as exc:
        normalized = ""
        problems.append(_issue(row_number, ImportIssueKind.INVALID, "email", str(exc), raw_email))
    values = [""] * _FIELD_COUNT
    for position, index in plan.fields:
        if index < width and (value := row[index]):
            values[position] = value.strip()
    if plan.full_name is not None and plan.full_name < width and not (values[0] or values[1]):
        first, _, last = row[plan.full_name].strip().partition(" ")
        values[0], values[1] = first, last.strip()
    for position in range(_FIELD_COUNT):
        value = values[position]
        if not value:
            continue
        if len(value) > _MAX_LENGTH_BY_POSITION[position]:
            name = IMPORTABLE_FIELDS[position]
            problems.append(
                _issue(
                    row_number,
                    ImportIssueKind.INVALID,
                    name,
                    f"Too long: {len(value)} characters, at most {MAX_LENGTHS[name]} allowed.",
                    value,
                )
            )
        elif position == _COUNTRY:
            code = normalize_country_code(value)
            if code is None:
                problems.append(
                    _issue(
                        row_number,
                        ImportIssueKind.INVALID,
                        "country",
                        "Unknown country code; expected an ISO 3166-1 alpha-2 code such as DE or US.",
                        value,
                    )
                )
            else:
                values[_COUNTRY] = code
        elif position == _TIMEZONE and value not in _valid_timezones():
            problems.append(
                _issue(
                    row_number,
                    ImportIssueKind.INVALID,
                    "timezone",
                    "Unknown time zone; expected an IANA name such as Europe/Berlin.",
                    value,
                )
            )
    return raw_email, normalized, values, problems


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
