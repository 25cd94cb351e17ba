"""Input limits: their names, their values (settings read from the environment) and the error that
names the one exceeded.

Every limit is a setting in ``aicmo_site/settings.py`` (``AICMO_MAX_*``), documented in
``docs/SECURITY.md`` ("Input limits"; a test compares that table with the settings). A request over
a limit is answered with a JSON body naming it::

    {"detail": "…", "code": "too_large", "limit": "AICMO_MAX_UPLOAD_BYTES", "max": 104857600}

(413 for a body that is too big, 400 for content over a limit: columns, cell length, rows, depth).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

from .errors import DomainError

MAX_UPLOAD_BYTES = "AICMO_MAX_UPLOAD_BYTES"
MAX_JSON_BODY_BYTES = "AICMO_MAX_JSON_BODY_BYTES"
MAX_JSON_DEPTH = "AICMO_MAX_JSON_DEPTH"
MAX_CSV_COLUMNS = "AICMO_MAX_CSV_COLUMNS"
MAX_CSV_CELL_CHARS = "AICMO_MAX_CSV_CELL_CHARS"
MAX_PUSH_ROWS = "AICMO_MAX_PUSH_ROWS"

INPUT_LIMITS = (
    MAX_UPLOAD_BYTES,
    MAX_JSON_BODY_BYTES,
    MAX_JSON_DEPTH,
    MAX_CSV_COLUMNS,
    MAX_CSV_CELL_CHARS,
    MAX_PUSH_ROWS,
)


def input_limit(name: str) -> int:
    """The current value of one limit (read on every call, so ``override_settings`` applies)."""
    return int(getattr(settings, name))


class InputLimitExceededError(DomainError):
    """A request or a file goes past one of the input limits; the answer names it."""

    code = "too_large"

    def __init__(
        self, message: str, *, limit: str, code: str = "too_large", http_status: int = 413, **details: Any
    ) -> None:
        super().__init__(message, **details)
        self.code = code
        self.limit = limit
        value = getattr(settings, limit, None)
        self.maximum = None if value is None else int(value)
        self.http_status = http_status

    def as_dict(self) -> dict[str, Any]:
        return {
            "detail": self.message,
            "code": self.code,
            "limit": self.limit,
            "max": self.maximum,
            **self.details,
        }
