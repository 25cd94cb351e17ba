"""The PostgreSQL file path, part one: which files it may take, and the constants its SQL shares
with Python (whitespace, the address pattern, the country table)."""

from __future__ import annotations

import codecs
from dataclasses import dataclass
from typing import IO

from campaigns.limits import MAX_CSV_CELL_CHARS, MAX_CSV_COLUMNS, input_limit

from ..csv_reading import SNIFF_BYTES, detect_delimiter, detect_encoding

# --- the PostgreSQL fast path ---------------------------------------------------------------------
#
# PostgreSQL parses the file (COPY … FORMAT csv) and checks, normalizes, deduplicates,
# suppression-checks and inserts it set-based in C; Python only reads the header and handles the
# few rows the SQL cannot decide on its own (invalid ones, non-ASCII addresses, odd country
# values): those go through ``check_row``, the same function the Python path uses, so both paths
# give the same report. A file is only taken this way when PostgreSQL's CSV reading and Python's
# agree on it: UTF-8, no quote character at all (so no field spans lines and line numbers equal
# row numbers), the header on the first line, the same number of cells on every line (COPY refuses
# ragged and blank lines). Anything else, or an error while COPY reads the file, rolls the attempt
# back and the Python path imports the file from the start.

FILE_TABLE = "leads_import_file"
RESOLVED_TABLE = "leads_import_resolved"
WARNINGS_TABLE = "leads_import_file_warnings"
CHECKED_TABLE = "leads_import_checked"
COPY_CHUNK_BYTES = 1024 * 1024
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


def may_need_trimming(block: bytes, delimiter: bytes) -> bool:
    """Could a cell in this block begin or end with whitespace? (False is certain; True is "maybe".)

    A few C-speed scans of the bytes in Python save a trim of every cell in SQL.
    """
    rare = b"\x0b\x0c\x1c\x1d\x1e\x1f" + (b"" if delimiter == b"\t" else b"\t")
    if len(block.translate(None, rare)) != len(block):
        return True
    if not block.isascii() and any(sequence in block for sequence in _NON_ASCII_WHITESPACE):
        return True
    return any(pattern in block for pattern in (b" " + delimiter, delimiter + b" ", b" \r", b" \n", b"\n "))


class UseThePythonPath(Exception):
    """The file, or what PostgreSQL made of it, needs the Python path; the attempt was rolled back."""


@dataclass
class FastPathFile:
    header: list[str]
    delimiter: str
    encoding: str
    body_prefix: bytes  # the sniffed bytes after the header line


def fast_path_file(stream: IO[bytes]) -> FastPathFile | None:
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
    return FastPathFile(
        header=header,
        delimiter=delimiter,
        encoding=encoding.replace("-sig", " (BOM)"),
        body_prefix=sample[end + 1 :],
    )


def sql_email_pattern() -> str:
    """The fast-path address regex for PostgreSQL, anchored and without bounded repetition.

    PostgreSQL's regex engine expands ``{0,61}`` into 61 copies (docs/PERFORMANCE.md); the SQL
    checks label lengths (``LABEL_MAX_LENGTH``) separately, which together with this pattern is
    the same set of addresses (property-tested against the Python regex).
    """
    from ..normalization import FAST_ADDRESS, FAST_ADDRESS_LABEL_MIDDLE, FAST_ADDRESS_TLD

    unbounded = FAST_ADDRESS.pattern.replace(FAST_ADDRESS_LABEL_MIDDLE, "[a-z0-9-]*").replace(
        FAST_ADDRESS_TLD, "[a-z][a-z]+"
    )
    assert "{" not in unbounded.replace("{|}", ""), "update the SQL twin of the address regex"
    return f"^(?:{unbounded})$"


def country_lookup() -> dict[str, str]:
    """Upper-case ASCII spelling → code, for the rows SQL decides; any other spelling goes to
    ``check_row`` (the table holds only what normalize_country_code answers, so both agree)."""
    from ..countries import country_spellings_ascii_upper

    return country_spellings_ascii_upper()
