"""Fixtures for deliverables: files in a temporary storage, the reporting app's real campaigns
(approved strategy and creative, a sequence with A/B variants) and its bulk rows with known counts,
and the text of a PDF as ``pdftotext`` (poppler-utils) reads it."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from outreach.models import StepVariant
from tests.reporting.conftest import add_leads, add_messages, live_campaign  # noqa: F401
from tests.smtp_sink import smtp_sink  # noqa: F401  (fixture: a real SMTP server)

__all__ = ["add_leads", "add_messages", "pdf_text"]


@pytest.fixture(autouse=True)
def _files_in_tmp(settings, tmp_path):
    """Packages and report PDFs go to this test's own folder through the default storage."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.AICMO_AGENCY_NAME = "Northwind Growth Partners"


@pytest.fixture
def ab_campaign(live_campaign):  # noqa: F811
    """An active campaign with one step and two variants A and B, no leads. Its mode stays dry run
    (reports read rows, not the mode): live sends are written directly by ``add_messages``."""
    campaign, sequence = live_campaign(leads=0, mode="dry_run")
    variants = sorted(StepVariant.objects.filter(step__sequence=sequence), key=lambda v: v.label)
    return campaign, variants


def pdf_text(data: bytes) -> str:
    """The PDF's text as pdftotext reads it (layout kept, so a table row stays on one line)."""
    binary = shutil.which("pdftotext")
    assert binary, "pdftotext is missing: apt-get install -y poppler-utils (scripts/test-services.sh)"
    assert data.startswith(b"%PDF-"), data[:20]
    return subprocess.run(
        [binary, "-layout", "-enc", "UTF-8", "-", "-"], input=data, capture_output=True, check=True
    ).stdout.decode("utf-8")
