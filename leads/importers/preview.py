"""A look at a file before it is imported: the columns detected (encoding, delimiter, which header
feeds which lead field) and the first rows as they would be imported, flagged values marked.

The admin's two-step import keeps the upload in the default storage under ``lead-import-previews/``
and hands the browser a signed token naming it (with the campaign, the mapping and the user); the
confirmation imports that very file through ``import_leads_from_csv``, a cancellation deletes it.
Nothing is written to the database before the confirmation. Uploads nobody confirmed are deleted
after ``PREVIEW_MAX_AGE`` (at the next preview). The API's ``dry_run`` answers the same preview.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import IO, Any

from django.core import signing
from django.core.files.storage import default_storage
from django.utils import timezone

from campaigns.errors import DomainError
from campaigns.models import Campaign

from ..csv_reading import numbered_rows, open_csv
from ..models import ImportIssueKind, Lead, LeadImport
from ..selectors import matching_suppressions
from .columns import IMPORTABLE_FIELDS, parse_mapping, resolve_columns
from .rows import (
    DUPLICATE_IN_CAMPAIGN_REASON,
    DUPLICATE_IN_FILE_REASON,
    SUPPRESSION_REASONS,
    CheckedRow,
    RowPlan,
    check_row,
)
from .runner import ensure_campaign_takes_leads, import_leads_from_csv, read_header

logger = logging.getLogger(__name__)

PREVIEW_ROWS = 5
PREVIEW_MAX_AGE = dt.timedelta(hours=1)  # how long an upload waits for its confirmation
PREVIEW_DIRECTORY = "lead-import-previews"
_TOKEN_SALT = "leads.importers.preview"


@dataclass
class PreviewRow:
    row_number: int
    email: str
    values: dict[str, str]  # lead field → the value as it would be imported
    flagged: dict[str, dict[str, str]]  # lead field → {"value": as given, "reason": why left empty}
    outcome: str  # "new", or the ImportIssueKind that would keep the row out
    reason: str  # why the row would be kept out ("" for a new lead)

    @property
    def imported(self) -> bool:
        return self.outcome == "new"

    def cells(self, fields: list[str]) -> list[tuple[str, str, dict[str, str] | None]]:
        """(field, value as imported, the flag or None) in the order of ``fields``."""
        return [(name, self.values[name], self.flagged.get(name)) for name in fields]


@dataclass
class ImportPreview:
    filename: str
    encoding: str
    delimiter: str
    header: list[str]
    mapping: dict[str, str]  # lead field → the file's column
    ignored_columns: list[str]
    fields: list[str]  # the lead fields the file fills, in display order
    rows: list[PreviewRow] = field(default_factory=list)
    more_rows: bool = False  # the file goes on after the rows shown

    @property
    def delimiter_name(self) -> str:
        return DELIMITER_NAMES.get(self.delimiter, self.delimiter)

    def as_data(self) -> dict[str, Any]:
        return {**asdict(self), "delimiter_name": self.delimiter_name}


DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}


def preview_csv(
    *,
    campaign: Campaign,
    file: IO[bytes],
    filename: str = "",
    mapping: str | Mapping[str, str] | None = None,
    rows: int = PREVIEW_ROWS,
) -> ImportPreview:
    """Read the header and the first ``rows`` non-blank rows; write nothing. Raises DomainError as
    the import would (no email column, an unknown mapped column, a row over an input limit)."""
    ensure_campaign_takes_leads(campaign)
    opened = open_csv(file)
    header, _ = read_header(opened)
    layout = resolve_columns(header, parse_mapping(mapping))
    plan = RowPlan.for_layout(layout)
    filled = set(layout.fields) | ({"first_name", "last_name"} if "full_name" in layout.fields else set())
    preview = ImportPreview(
        filename=filename,
        encoding=opened.encoding,
        delimiter=opened.delimiter,
        header=[column.strip() for column in header],
        mapping=layout.mapping,
        ignored_columns=layout.ignored,
        fields=[name for name in IMPORTABLE_FIELDS if name in filled],
    )
    checked: list[tuple[int, CheckedRow]] = []
    for row_number, row in numbered_rows(opened):
        if not "".join(row).strip():
            continue
        if len(checked) == rows:
            preview.more_rows = True
            break
        checked.append((row_number, check_row(row_number, row, plan)))
    normalized = [result.normalized for _, result in checked if not result.problems]
    in_campaign = set(
        Lead.objects.filter(campaign=campaign, normalized_email__in=normalized).values_list(
            "normalized_email", flat=True
        )
    )
    seen: set[str] = set()
    for row_number, result in checked:
        address = result.normalized
        outcome, reason = "new", ""
        if result.problems:
            outcome, reason = ImportIssueKind.INVALID, " ".join(p.reason for p in result.problems)
        elif address in seen:
            outcome, reason = ImportIssueKind.DUPLICATE_IN_FILE, DUPLICATE_IN_FILE_REASON
        elif suppressed_by := _suppression_kind(campaign, address):
            outcome, reason = ImportIssueKind.SUPPRESSED, SUPPRESSION_REASONS[suppressed_by]
        elif address in in_campaign:
            outcome, reason = ImportIssueKind.DUPLICATE_IN_CAMPAIGN, DUPLICATE_IN_CAMPAIGN_REASON
        seen.add(address)
        preview.rows.append(
            PreviewRow(
                row_number=row_number,
                email=result.raw_email.strip(),
                values={name: result.values[IMPORTABLE_FIELDS.index(name)] for name in preview.fields},
                flagged={w.field: {"value": w.value, "reason": w.reason} for w in result.warnings},
                outcome=str(outcome),
                reason=reason,
            )
        )
    return preview


def _suppression_kind(campaign: Campaign, normalized_email: str) -> str | None:
    """The kind of entry that would suppress the address, with the importer's precedence."""
    kinds = set(
        matching_suppressions(client_id=campaign.client_id, normalized_email=normalized_email).values_list(
            "kind", flat=True
        )
    )
    return next((kind for kind in SUPPRESSION_REASONS if kind in kinds), None)


# --- the admin's two steps: keep the upload, name it in a signed token, import or discard it ------


@dataclass(frozen=True)
class PendingImport:
    """An upload waiting for its confirmation, as the signed token names it."""

    stored_name: str
    campaign_id: int
    filename: str
    mapping: str
    user_id: int


def store_upload(upload: IO[bytes]) -> str:
    """Keep an uploaded file until it is confirmed or cancelled; returns its storage name."""
    discard_stale_uploads()
    return default_storage.save(f"{PREVIEW_DIRECTORY}/{secrets.token_hex(16)}.csv", upload)


def preview_token(pending: PendingImport) -> str:
    return signing.dumps(asdict(pending), salt=_TOKEN_SALT, compress=True)


def read_preview_token(token: str, *, user) -> PendingImport:
    """The pending import a token names, for the user it was made for; DomainError otherwise."""
    try:
        data = signing.loads(token, salt=_TOKEN_SALT, max_age=PREVIEW_MAX_AGE)
        pending = PendingImport(**data)
    except signing.SignatureExpired as exc:
        raise DomainError("This preview has expired; upload the file again.", field="token") from exc
    except (signing.BadSignature, TypeError) as exc:
        raise DomainError("This preview is not valid; upload the file again.", field="token") from exc
    if pending.user_id != user.pk or not pending.stored_name.startswith(f"{PREVIEW_DIRECTORY}/"):
        raise DomainError("This preview belongs to another user; upload the file again.", field="token")
    return pending


def import_pending(pending: PendingImport, *, actor) -> LeadImport:
    """The confirmation: import the stored upload and delete it (a second confirmation of the same
    preview finds no file)."""
    try:
        stream = default_storage.open(pending.stored_name, "rb")
    except FileNotFoundError as exc:
        raise DomainError(
            "This upload was already imported or cancelled; upload the file again.", field="token"
        ) from exc
    campaign = Campaign.objects.select_related("client").get(pk=pending.campaign_id)
    try:
        with stream:
            return import_leads_from_csv(
                campaign=campaign,
                file=stream,
                filename=pending.filename,
                mapping=pending.mapping or None,
                actor=actor,
            )
    finally:
        discard_upload(pending.stored_name)


def discard_upload(stored_name: str) -> None:
    if stored_name.startswith(f"{PREVIEW_DIRECTORY}/"):
        default_storage.delete(stored_name)


def discard_stale_uploads(now: dt.datetime | None = None) -> int:
    """Delete uploads older than PREVIEW_MAX_AGE (their tokens have expired); returns how many."""
    cutoff = (now or timezone.now()) - PREVIEW_MAX_AGE
    try:
        _, names = default_storage.listdir(PREVIEW_DIRECTORY)
    except FileNotFoundError:
        return 0
    removed = 0
    for name in names:
        path = f"{PREVIEW_DIRECTORY}/{name}"
        try:
            if default_storage.get_modified_time(path) < cutoff:
                default_storage.delete(path)
                removed += 1
        except FileNotFoundError:
            continue  # deleted meanwhile (confirmed or cancelled)
    return removed
