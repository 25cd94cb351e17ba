from __future__ import annotations

import io

import pytest

from tests.factories import CampaignFactory


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
