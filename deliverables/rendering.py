"""Documents from data: the branded PDF (HTML templates rendered by WeasyPrint), the ZIP of CSV
files (written only through ``campaigns.exports``), and the agency's branding from settings.

Pure functions: no database writes, no storage. WeasyPrint lays the HTML out with Pango, using the
fonts installed on the system (DejaVu / Liberation from the distribution's packages); no font and
no image is ever fetched from disk or the network (the fetcher allows ``data:`` URLs only).
"""

from __future__ import annotations

import base64
import io
import mimetypes
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone

from campaigns.exports import spreadsheet_safe_writer


@dataclass(frozen=True)
class Branding:
    agency_name: str
    logo_data_uri: str  # "" when no logo is configured
    logo_bytes: bytes
    logo_mime: str


def branding() -> Branding:
    """``AICMO_AGENCY_NAME`` and ``AICMO_AGENCY_LOGO`` (a path to a PNG, JPEG or SVG file)."""
    name = getattr(settings, "AICMO_AGENCY_NAME", "") or "AICMO"
    path = getattr(settings, "AICMO_AGENCY_LOGO", "") or ""
    data, mime = b"", ""
    if path and Path(path).is_file():
        data = Path(path).read_bytes()
        mime = mimetypes.guess_type(path)[0] or "image/png"
    uri = f"data:{mime};base64,{base64.b64encode(data).decode()}" if data else ""
    return Branding(agency_name=name, logo_data_uri=uri, logo_bytes=data, logo_mime=mime)


def html_to_pdf(html: str) -> bytes:
    # Imported here: WeasyPrint loads Pango through cffi, which only the PDF path needs.
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    # data: URLs only (the embedded logo): text from a campaign can never make the renderer read
    # a local file or call a host.
    return HTML(string=html, url_fetcher=URLFetcher(allowed_protocols={"data"})).write_pdf()


def render_pdf(template: str, context: dict[str, Any]) -> bytes:
    brand = branding()
    html = render_to_string(template, {"brand": brand, "rendered_at": timezone.now(), **context})
    return html_to_pdf(html)


# --- CSV files in a ZIP -------------------------------------------------------------------------


def csv_bytes(rows: list[list[Any]]) -> bytes:
    buffer = io.StringIO()
    spreadsheet_safe_writer(buffer).writerows(rows)
    # UTF-8 with a byte-order mark: Excel then reads accents and non-Latin text correctly.
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def zip_bytes(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def calendar_rows(contents) -> list[list[Any]]:
    tz = contents.tz
    rows: list[list[Any]] = [
        ["scheduled_at_local", "timezone", "platform", "content_type", "theme", "phase", "notes"]
    ]
    for item in contents.calendar:
        rows.append(
            [
                item.scheduled_at.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
                str(tz),
                item.platform,
                item.content_type,
                item.theme,
                item.phase.name if item.phase_id else "",
                item.notes,
            ]
        )
    return rows


def creative_rows(contents) -> list[list[Any]]:
    tz = contents.tz
    rows: list[list[Any]] = [
        [
            "creative_id",
            "platform",
            "angle",
            "version",
            "subject",
            "preheader",
            "body",
            "cta",
            "hashtags",
            "approved_by",
            "approved_at_local",
            "approval_rationale",
        ]
    ]
    for creative in contents.creatives:
        rows.append(
            [
                creative.pk,
                creative.platform,
                creative.angle,
                creative.generation,
                creative.subject,
                creative.preheader,
                creative.body,
                creative.cta,
                " ".join(creative.hashtags or []),
                creative.decided_by.get_username() if creative.decided_by else "system",
                creative.decided_at.astimezone(tz).strftime("%Y-%m-%d %H:%M") if creative.decided_at else "",
                creative.decision_rationale,
            ]
        )
    return rows


def decision_rows(contents) -> list[list[Any]]:
    tz = contents.tz
    rows: list[list[Any]] = [["when_local", "who", "what", "target", "why"]]
    for event in contents.decisions:
        rows.append(
            [
                event.created_at.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
                event.actor_label,
                event.verb,
                event.target_repr,
                event.rationale,
            ]
        )
    return rows
