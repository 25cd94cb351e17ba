"""The one lead importer, used by the admin upload page, the API and ``manage.py import_leads``.

How it stays fast and flat in memory:

* the file is read as a stream (``csv.reader`` over a decoding wrapper); only one batch of rows is
  ever held, plus the client's suppression list (whose size does not depend on the file);
* each batch is written in its own transaction, so a crash loses nothing already committed and a
  re-run inserts only what is missing. The report counters are saved in the same transaction;
* PostgreSQL, whole files of 512 KB or more (``PostgresFileImport``, the default there): the file's bytes go
  straight into ``COPY``; SQL checks, normalizes, deduplicates, suppression-checks and inserts
  set-based, and hands the rows it cannot decide to ``check_row`` (the same rules as below). Files
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
LeadImportIssue (row number, field, reason). Only the address can keep a row out: an optional
value that cannot be kept (an unknown country or time zone, a value too long) is left empty and
filed as a "flagged" issue of the inserted lead (``flagged`` counts those leads).

The package: ``columns`` (header → lead field), ``rows`` (the per-row rules), ``batches`` (writing
a batch), ``pg_file_prep`` and ``pg_file`` (the PostgreSQL file path; its two big statements in
``sql/``), ``runner`` (the importer and its entry points), ``preview`` (a file's columns and first
rows before it is imported), ``report`` (the report as data and CSV). Everything other code
imports is re-exported here.
"""

from .batches import BatchCounts, OrmBatchWriter, PostgresBatchWriter
from .columns import (
    HEADER_ALIASES,
    IMPORTABLE_FIELDS,
    MAPPABLE_FIELDS,
    ColumnLayout,
    parse_mapping,
    resolve_columns,
)
from .pg_file import PostgresFileImport
from .pg_file_prep import NO_AT_SIGN_REASON, PYTHON_WHITESPACE, UseThePythonPath
from .preview import (
    PREVIEW_ROWS,
    ImportPreview,
    PendingImport,
    discard_upload,
    import_pending,
    preview_csv,
    preview_token,
    read_preview_token,
    store_upload,
)
from .report import iter_issues_csv, lead_import_report
from .rows import DUPLICATE_IN_CAMPAIGN_REASON, DUPLICATE_IN_FILE_REASON, MAX_LENGTHS, SUPPRESSION_REASONS
from .runner import (
    LeadImporter,
    ProgressCallback,
    import_lead_records,
    import_leads_from_csv,
)

# Below this size the batch path is quicker: the file path's temporary tables, ANALYZE and large
# statement cost a fixed overhead, more than Python spends on a few thousand rows (the measured
# crossover is in docs/PERFORMANCE.md, "Leads: CSV import"). Read by the runner at call time.
FILE_PATH_MIN_BYTES = 512 * 1024

__all__ = [
    "DUPLICATE_IN_CAMPAIGN_REASON",
    "DUPLICATE_IN_FILE_REASON",
    "FILE_PATH_MIN_BYTES",
    "HEADER_ALIASES",
    "IMPORTABLE_FIELDS",
    "MAPPABLE_FIELDS",
    "MAX_LENGTHS",
    "NO_AT_SIGN_REASON",
    "PREVIEW_ROWS",
    "PYTHON_WHITESPACE",
    "SUPPRESSION_REASONS",
    "BatchCounts",
    "ColumnLayout",
    "ImportPreview",
    "LeadImporter",
    "OrmBatchWriter",
    "PendingImport",
    "PostgresBatchWriter",
    "PostgresFileImport",
    "ProgressCallback",
    "UseThePythonPath",
    "discard_upload",
    "import_lead_records",
    "import_leads_from_csv",
    "import_pending",
    "iter_issues_csv",
    "lead_import_report",
    "parse_mapping",
    "preview_csv",
    "preview_token",
    "read_preview_token",
    "resolve_columns",
    "store_upload",
]
