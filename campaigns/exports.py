"""The one way AICMO writes CSV for people to open in a spreadsheet (every admin and API export).

A cell that starts with ``=``, ``+``, ``-`` or ``@`` (or a tab, carriage return or line feed, which
spreadsheets skip before looking for one of those) is run as a formula by Excel, LibreOffice and
Google Sheets: ``=HYPERLINK("http://evil","click")`` in a campaign name or an imported row would
become a live link, or worse, on the operator's machine. Following OWASP's CSV-injection guidance,
every such text cell is written with a leading single quote (``'=HYPERLINK(…)``), which spreadsheets
show as text. The full-width forms of those four (U+FF1D, U+FF0B, U+FF0D, U+FF20) are treated the
same, because some spreadsheets normalise them.

Numbers: a value our own code produced as an ``int``, ``float`` or ``Decimal`` (a count, a rate) is
written as it is, so ``-5`` stays a number; it cannot carry a formula. Text that merely looks like a
number (``"-5"`` from an imported row, which could as well be ``-2+3+cmd|…``) is prefixed like any
other text: OWASP's rule, and the safe side. ``None`` is an empty cell.

``tests/security/test_csv_export_safety.py`` fails when code outside this module calls
``csv.writer`` / ``csv.DictWriter``: new exports go through ``spreadsheet_safe_writer`` or
``csv_lines``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import Any

# First characters that make a spreadsheet evaluate a cell (OWASP), plus their full-width forms.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")
NEUTRALISING_PREFIX = "'"


def safe_cell(value: Any) -> Any:
    """The value as a spreadsheet will show it, never as a formula."""
    if value is None:
        return ""
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return value
    text = str(value)
    if text.startswith(FORMULA_TRIGGERS):
        return NEUTRALISING_PREFIX + text
    return text


class SpreadsheetSafeWriter:
    """``csv.writer`` whose every cell goes through ``safe_cell``."""

    def __init__(self, target: Any, **fmtparams: Any) -> None:
        self._writer = csv.writer(target, **fmtparams)

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow([safe_cell(value) for value in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def spreadsheet_safe_writer(target: Any, **fmtparams: Any) -> SpreadsheetSafeWriter:
    """A CSV writer onto ``target`` (a file, a StringIO) that neutralises formulas in every cell."""
    return SpreadsheetSafeWriter(target, **fmtparams)


def csv_lines(rows: Iterable[Iterable[Any]], *, rows_per_chunk: int = 1000) -> Iterator[str]:
    """Rows as CSV text in chunks of ``rows_per_chunk`` lines, for a streaming response."""
    buffer = io.StringIO()
    writer = spreadsheet_safe_writer(buffer)
    pending = 0
    for row in rows:
        writer.writerow(row)
        pending += 1
        if pending >= rows_per_chunk:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
            pending = 0
    if pending:
        yield buffer.getvalue()
