"""An import's report as plain data (API answer, command summary) and its issues as a CSV."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

from campaigns.exports import csv_lines

from ..models import LeadImport
from ..selectors import import_issues, import_rejections, import_warnings


def lead_import_report(lead_import: LeadImport, *, issue_limit: int = 100) -> dict[str, Any]:
    """The report as plain data (API answer, command summary): the counts, the first rejected rows
    (``issues``) and, apart from them, the first flagged values of imported leads (``warnings``)."""
    fields = ("row_number", "kind", "field", "reason", "value")
    rejections = import_rejections(lead_import)
    warnings = import_warnings(lead_import)
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
        "rejected": lead_import.rejected,
        "duplicates_in_file": lead_import.duplicates_in_file,
        "duplicates_in_campaign": lead_import.duplicates_in_campaign,
        "suppressed": lead_import.suppressed,
        "invalid": lead_import.invalid,
        "flagged": lead_import.flagged,
        "blank_lines": lead_import.blank_lines,
        "issues_total": rejections.count(),
        "issues": list(rejections.values(*fields)[:issue_limit]),
        "warnings_total": warnings.count(),
        "warnings": list(warnings.values(*fields)[:issue_limit]),
    }


def iter_issues_csv(lead_import: LeadImport) -> Iterator[str]:
    """Every rejected row and flagged value of an import as CSV lines (row, kind, field, reason,
    value; kind "flagged" is a lead imported with that value left empty), streamed; cells that a
    spreadsheet would run as a formula are neutralised (``campaigns.exports``)."""
    rows = import_issues(lead_import).values_list("row_number", "kind", "field", "reason", "value")
    yield from csv_lines(
        itertools.chain([("row", "kind", "field", "reason", "value")], rows.iterator(chunk_size=5000))
    )
