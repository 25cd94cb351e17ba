"""Reading a lead CSV as a bounded stream: encoding and delimiter detection, and the column and
cell limits (``AICMO_MAX_CSV_COLUMNS``, ``AICMO_MAX_CSV_CELL_CHARS``) checked as lines stream in,
before the CSV reader builds a row (docs/SECURITY.md "Input limits"). ``leads.importers`` reads
every file through :func:`open_csv`."""

from __future__ import annotations

import codecs
import csv
import functools
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

from campaigns.errors import DomainError
from campaigns.limits import MAX_CSV_CELL_CHARS, MAX_CSV_COLUMNS, InputLimitExceededError, input_limit

DELIMITER_CANDIDATES = (",", ";", "\t", "|")
SNIFF_BYTES = 64 * 1024


class _PrefixedStream(io.RawIOBase):
    """A byte stream that first replays bytes already read (the sniffed sample), then the rest."""

    def __init__(self, prefix: bytes, rest: IO[bytes]) -> None:
        self._prefix = memoryview(prefix)
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self._prefix:
            n = min(len(buffer), len(self._prefix))
            buffer[:n] = self._prefix[:n]
            self._prefix = self._prefix[n:]
            return n
        chunk = self._rest.read(len(buffer))
        if not chunk:
            return 0
        buffer[: len(chunk)] = chunk
        return len(chunk)


def detect_encoding(sample: bytes) -> str:
    """UTF-8 with a BOM, UTF-8, or Latin-1 (which decodes any byte, so it is the fallback)."""
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
    except UnicodeDecodeError:
        return "latin-1"
    return "utf-8"


def detect_delimiter(first_line: str) -> str:
    counts = {d: first_line.count(d) for d in DELIMITER_CANDIDATES}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


@dataclass
class OpenedCsv:
    rows: Iterator[list[str]]
    reader: Any
    encoding: str
    delimiter: str


def too_many_columns(line_number: int, cells: int | None = None) -> InputLimitExceededError:
    maximum = input_limit(MAX_CSV_COLUMNS)
    found = f"{cells:,} cells" if cells is not None else f"more than {maximum:,} cells"
    return InputLimitExceededError(
        f"Line {line_number} has {found}; a row may have at most {maximum:,} (AICMO_MAX_CSV_COLUMNS).",
        limit=MAX_CSV_COLUMNS,
        code="too_many_columns",
        http_status=400,
        line=line_number,
    )


def cell_too_long(line_number: int) -> InputLimitExceededError:
    maximum = input_limit(MAX_CSV_CELL_CHARS)
    return InputLimitExceededError(
        f"Line {line_number} has a cell longer than {maximum:,} characters (AICMO_MAX_CSV_CELL_CHARS).",
        limit=MAX_CSV_CELL_CHARS,
        code="cell_too_long",
        http_status=400,
        line=line_number,
    )


@functools.cache
def _whole_row_pattern(delimiter: str) -> re.Pattern[str]:
    """One physical line that is a whole CSV row, as the reader reads it (no cell left open)."""
    d = re.escape(delimiter)
    # Quoted: pairs of quotes taken possessively (the reader never reads them another way), then
    # text that does not start with a quote; or unquoted; or empty.
    cell = rf'(?:"(?:[^"]|"")*+"(?:[^"{d}\r\n][^{d}\r\n]*)?|[^"{d}\r\n][^{d}\r\n]*|)'
    return re.compile(rf"{cell}(?:{d}{cell})*(?:\r\n|\n|\r)?")


class _BoundedLines:
    """The file's physical lines for ``csv.reader``, refusing a row over the column or cell limit
    *before* the reader builds it (``csv.reader`` holds a whole row as Python strings, many times
    the line's size in memory; docs/PERFORMANCE.md, "Memory").

    Each line is read with a length cap: no row within both limits has a physical line longer
    than ``columns * (2 * cell + 3)`` characters (every cell quoted, every character a doubled
    quote, a delimiter). Cells are counted per row, across the lines of a quoted multi-line cell,
    with the reader's own quoting rules (a quote opens a quoted cell only at the start of a cell;
    ``""`` inside one is a quote; a line that ends outside quotes ends the row), and a quoted
    cell's raw length is counted too. A line without a quote costs one ``str.count``. ``rows()``
    then checks each parsed row exactly, so the limits are exact.
    """

    def __init__(self, text: IO[str], delimiter: str) -> None:
        self._text = text
        self._delimiter = delimiter
        self.max_columns = input_limit(MAX_CSV_COLUMNS)
        self.max_cell = input_limit(MAX_CSV_CELL_CHARS)
        self._max_quoted = 2 * self.max_cell + 2
        self.record_chars = 0  # characters of the row being read (rows() measures cells only past max_cell)
        self._cells = 1
        self._in_quotes = False
        self._at_cell_start = True
        self._quoted_length = 0

    def lines(self) -> Iterator[str]:
        readline, delimiter, max_columns = self._text.readline, self._delimiter, self.max_columns
        whole_row = _whole_row_pattern(delimiter).fullmatch
        limit = max_columns * (2 * self.max_cell + 3) + 1
        line_number = 0
        while line := readline(limit):
            line_number += 1
            if not self._in_quotes:  # the previous line ended its row: a new row starts
                if '"' not in line:
                    if line.count(delimiter) >= max_columns:
                        raise too_many_columns(line_number)
                    if len(line) >= limit:  # few cells in too many characters: one is too long
                        raise cell_too_long(line_number)
                    self.record_chars = len(line)
                    yield line
                    continue
                if line.count(delimiter) < max_columns and whole_row(line):
                    # A complete row with quoted cells (the usual case): a C-speed match, no scan.
                    if len(line) >= limit:
                        raise cell_too_long(line_number)
                    self.record_chars = len(line)
                    yield line
                    continue
                self._cells, self._at_cell_start, self.record_chars = 1, True, 0
            self._scan_quoted(line, line_number)
            self.record_chars += len(line)
            if self._cells > max_columns:
                raise too_many_columns(line_number)
            if len(line) >= limit:
                raise cell_too_long(line_number)
            yield line

    def _scan_quoted(self, line: str, line_number: int) -> None:
        delimiter, position, end = self._delimiter, 0, len(line)
        while position < end:
            if self._in_quotes:
                quote = line.find('"', position)
                if quote < 0:
                    self._quoted_length += end - position
                    position = end
                elif line.startswith('""', quote):
                    self._quoted_length += quote + 2 - position
                    position = quote + 2
                else:
                    self._quoted_length += quote + 1 - position
                    self._in_quotes = False
                    self._at_cell_start = False
                    position = quote + 1
                if self._quoted_length > self._max_quoted:
                    raise cell_too_long(line_number)
            elif self._at_cell_start and line.startswith('"', position):
                self._in_quotes = True
                self._at_cell_start = False
                self._quoted_length = 0
                position += 1
            else:
                found = line.find(delimiter, position)
                if found < 0:
                    self._at_cell_start = False
                    return
                self._cells += 1
                if self._cells > self.max_columns:
                    return
                self._at_cell_start = True
                position = found + 1

    def rows(self, reader: Any) -> Iterator[list[str]]:
        """The reader's rows, each checked exactly against both limits."""
        max_columns, max_cell = self.max_columns, self.max_cell
        for row in reader:
            if len(row) > max_columns:
                raise too_many_columns(reader.line_num, len(row))
            if self.record_chars > max_cell and max(map(len, row), default=0) > max_cell:
                raise cell_too_long(reader.line_num)
            yield row


def open_csv(stream: IO[bytes]) -> OpenedCsv:
    sample = stream.read(SNIFF_BYTES)
    if isinstance(sample, str):
        raise DomainError("Give the importer the file's bytes, not text.", field="file")
    encoding = detect_encoding(sample)
    text_sample = sample.decode(encoding, errors="replace")
    first_line = next((line for line in text_sample.splitlines() if line.strip()), "")
    delimiter = detect_delimiter(first_line)
    raw = io.BufferedReader(_PrefixedStream(sample, stream), buffer_size=256 * 1024)
    text = io.TextIOWrapper(raw, encoding=encoding, errors="replace", newline="")
    lines = _BoundedLines(text, delimiter)
    if csv.field_size_limit() < lines.max_cell:  # the reader's own cap must not come first
        csv.field_size_limit(lines.max_cell)
    reader = csv.reader(lines.lines(), delimiter=delimiter)
    return OpenedCsv(
        rows=lines.rows(reader),
        reader=reader,
        encoding=encoding.replace("-sig", " (BOM)"),
        delimiter=delimiter,
    )


def numbered_rows(opened: OpenedCsv) -> Iterator[tuple[int, list[str]]]:
    """(line number, cells); a line the CSV parser cannot read stops the import with its number."""
    rows = iter(opened.rows)
    while True:
        try:
            row = next(rows)
        except StopIteration:
            return
        except csv.Error as exc:
            raise DomainError(
                f"Line {opened.reader.line_num} cannot be read as CSV ({exc}). Fix it and import the "
                "file again: rows already in the campaign are skipped.",
                field="file",
            ) from exc
        yield opened.reader.line_num, row
