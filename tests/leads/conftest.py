from __future__ import annotations

import io

import pytest

from tests.factories import CampaignFactory


@pytest.fixture(autouse=True)
def postgres_file_path_for_small_files(monkeypatch):
    """The tests' files are small; on PostgreSQL they take the file path (COPY + SQL) as big files
    do, so both paths stay covered. test_small_files_take_the_batch_path undoes this."""
    from leads import importers

    monkeypatch.setattr(importers, "FILE_PATH_MIN_BYTES", 0)


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """Uploads waiting for an import's confirmation go to a directory of the test's own."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def campaign(db):
    return CampaignFactory()


@pytest.fixture
def csv_bytes():
    """Build a CSV file's bytes from lines (joined with CRLF, as spreadsheets write them)."""

    def make(*lines: str, encoding: str = "utf-8", bom: bool = False) -> io.BytesIO:
        data = "\r\n".join(lines).encode(encoding) + b"\r\n"
        return io.BytesIO((b"\xef\xbb\xbf" if bom else b"") + data)

    return make
