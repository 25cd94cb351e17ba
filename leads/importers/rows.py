"""The per-row rules: one function (``check_row``) that validates and normalizes a row, used by the
batch path, the preview and, for the rows SQL cannot decide, by the PostgreSQL file path.

The policy: only the address decides whether a row becomes a lead. An optional field whose value
cannot be kept (a country or time zone we do not recognise, a value longer than the field) is left
empty and *flagged*: the lead is imported and the report lists the value and why, apart from the
rejected rows."""

from __future__ import annotations

import functools
import zoneinfo
from dataclasses import dataclass
from typing import Any, NamedTuple

from ..countries import normalize_country_code
from ..models import ImportIssueKind, Lead, LeadImport, LeadImportIssue, SuppressionKind
from ..normalization import InvalidEmailError, validate_and_normalize_email
from .columns import IMPORTABLE_FIELDS, ColumnLayout

MAX_LENGTHS = {name: Lead._meta.get_field(name).max_length for name in IMPORTABLE_FIELDS}
ISSUE_VALUE_MAX_LENGTH = LeadImportIssue._meta.get_field("value").max_length
ISSUE_REASON_MAX_LENGTH = LeadImportIssue._meta.get_field("reason").max_length

SUPPRESSION_REASONS = {
    SuppressionKind.EMAIL: "The address is on the suppression list.",
    SuppressionKind.DOMAIN: "The address's domain is on the suppression list.",
    SuppressionKind.ERASED_EMAIL: "The person asked for their data to be erased; they are never re-imported.",
}


@functools.cache
def valid_timezones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


@functools.cache
def _timezones_by_folded_name() -> dict[str, str]:
    return {zone.casefold(): zone for zone in valid_timezones()}


def canonical_timezone(value: str) -> str | None:
    """The IANA name as the tz database spells it ("europe/berlin" → "Europe/Berlin"), or None."""
    if value in valid_timezones():
        return value
    return _timezones_by_folded_name().get(value.casefold())


def _flag_reason(name: str, value: str) -> str:
    """Why a value was left empty, in the words the report shows."""
    shown = f"'{value}'" if len(value) <= 60 else f"'{value[:59]}…'"
    if name == "country":
        return f"country {shown} not recognised; left empty."
    if name == "timezone":
        return f"time zone {shown} not recognised (expected an IANA name such as Europe/Berlin); left empty."
    return f"{name} too long: {len(value)} characters, at most {MAX_LENGTHS[name]}; left empty."


# Rows travel between the checks and the writers as named tuples: read by name, and still plain
# sequences that psycopg's COPY takes without copying them into another shape.


class IssueRow(NamedTuple):
    """A LeadImportIssue before it is saved; the fields are the model's, in its COPY column order."""

    row_number: int
    kind: str
    field: str
    reason: str
    value: str

    def to_model(self, lead_import: LeadImport) -> LeadImportIssue:
        return LeadImportIssue(lead_import=lead_import, **self._asdict())


def make_issue(row_number: int, kind: str, field_name: str, reason: str, value: str) -> IssueRow:
    """An issue with its reason and value cut to what the model's columns hold."""
    return IssueRow(
        row_number,
        kind,
        field_name,
        reason[:ISSUE_REASON_MAX_LENGTH],
        (value or "")[:ISSUE_VALUE_MAX_LENGTH],
    )


# The lead columns an import writes, in the order ``LeadRow.as_db_row`` gives them after the row number.
LEAD_COLUMNS = ("email", "normalized_email", "email_domain", *IMPORTABLE_FIELDS)


class LeadRow(NamedTuple):
    """A row that passed the checks and is not suppressed: a lead to insert unless it is a duplicate."""

    row_number: int
    email: str  # as in the file, stripped
    normalized: str
    domain: str
    values: list[str]  # the optional fields, in IMPORTABLE_FIELDS order ("" when empty)

    def as_db_row(self) -> tuple:
        """``(row_number, *LEAD_COLUMNS)`` flattened, for a COPY into a staging table."""
        return (self.row_number, self.email, self.normalized, self.domain, *self.values)

    def model_fields(self) -> dict[str, Any]:
        """The Lead model fields this row fills."""
        return {
            "email": self.email,
            "normalized_email": self.normalized,
            "email_domain": self.domain,
            **dict(zip(IMPORTABLE_FIELDS, self.values, strict=True)),
        }


class CheckedRow(NamedTuple):
    """What ``check_row`` found in one row."""

    raw_email: str  # the address cell exactly as read
    normalized: str  # "" when the address is invalid
    values: list[str]  # the optional fields as kept, in IMPORTABLE_FIELDS order
    problems: list[IssueRow]  # reject the row; only the address can have one
    warnings: list[IssueRow]  # flagged values that were left empty, in field order


DUPLICATE_IN_FILE_REASON = "The same address (after normalization) is on an earlier row of this file."
DUPLICATE_IN_CAMPAIGN_REASON = "This address is already a lead in this campaign."


FIELD_COUNT = len(IMPORTABLE_FIELDS)
COUNTRY_POSITION = IMPORTABLE_FIELDS.index("country")
TIMEZONE_POSITION = IMPORTABLE_FIELDS.index("timezone")
_MAX_LENGTH_BY_POSITION = [MAX_LENGTHS[name] for name in IMPORTABLE_FIELDS]


@dataclass(frozen=True)
class RowPlan:
    """Column positions resolved once per file, so the per-row loop does no look-ups by name."""

    email: int
    fields: tuple[tuple[int, int], ...]  # (position in IMPORTABLE_FIELDS, column index)
    full_name: int | None

    @classmethod
    def for_layout(cls, layout: ColumnLayout) -> RowPlan:
        return cls(
            email=layout.email,
            fields=tuple(
                (IMPORTABLE_FIELDS.index(name), index)
                for name, index in layout.fields.items()
                if name != "full_name"
            ),
            full_name=layout.fields.get("full_name"),
        )


def check_row(row_number: int, row: list[str], plan: RowPlan) -> CheckedRow:
    """Validate and normalize one non-blank row. Problems reject the row (only the address can);
    warnings flag a value that was left empty, in field order.

    The one place the per-row rules live; the PostgreSQL fast path hands every row it cannot
    decide itself to this function, so both paths give the same answer.
    """
    width = len(row)
    raw_email = row[plan.email] if plan.email < width else ""
    problems: list[IssueRow] = []
    try:
        normalized = validate_and_normalize_email(raw_email)
    except InvalidEmailError as exc:
        normalized = ""
        problems.append(make_issue(row_number, ImportIssueKind.INVALID, "email", str(exc), raw_email))
    values = [""] * FIELD_COUNT
    for position, index in plan.fields:
        if index < width and (value := row[index]):
            values[position] = value.strip()
    if plan.full_name is not None and plan.full_name < width and not (values[0] or values[1]):
        first, _, last = row[plan.full_name].strip().partition(" ")
        values[0], values[1] = first, last.strip()
    warnings: list[IssueRow] = []
    for position in range(FIELD_COUNT):
        value = values[position]
        if not value:
            continue
        if position == COUNTRY_POSITION:
            kept = normalize_country_code(value)
        elif position == TIMEZONE_POSITION:
            kept = canonical_timezone(value)
        elif len(value) > _MAX_LENGTH_BY_POSITION[position]:
            kept = None
        else:
            continue
        if kept is None:
            values[position] = ""
            name = IMPORTABLE_FIELDS[position]
            warnings.append(
                make_issue(row_number, ImportIssueKind.FLAGGED, name, _flag_reason(name, value), value)
            )
        else:
            values[position] = kept
    return CheckedRow(raw_email, normalized, values, problems, warnings)
