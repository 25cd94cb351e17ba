"""Issue 15, point 5: CSV formula injection.

Every CSV export (campaign timeline, rejected import rows, campaign metrics) writes a text cell that
starts with = + - @ (or tab / CR / LF) with a leading single quote, so a spreadsheet shows it as
text instead of running it; numbers our code computed stay numbers. Every export goes through
``campaigns.exports``: a scan of the code base fails on a ``csv.writer`` anywhere else.
"""

from __future__ import annotations

import ast
import csv
import io
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client as DjangoClient
from django.urls import reverse

from campaigns.services.editing import create_campaign, update_campaign
from leads.importers import import_leads_from_csv
from leads.models import LeadImport
from tests.factories import ClientFactory

# OWASP's list of first characters a spreadsheet runs as a formula (the test's own copy of the rule).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")
HYPERLINK = '=HYPERLINK("http://x","y")'
SUM = "@SUM(1)"
REPO = Path(__file__).resolve().parents[2]
APP_PACKAGES = ("aicmo_site", "campaigns", "strategy", "creative", "leads", "outreach", "reporting", "demo")
THE_HELPER = REPO / "campaigns" / "exports.py"


def _cells(body: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(body.decode("utf-8"))))


def _assert_no_live_formula(rows: list[list[str]]) -> None:
    """No cell a spreadsheet would run: text starting with a trigger is what we look for; a number
    (as our code computed it) is the only thing allowed to start with - or +."""
    for row in rows:
        for cell in row:
            if cell.startswith(FORMULA_TRIGGERS):
                try:
                    Decimal(cell)
                except ArithmeticError:
                    pytest.fail(f"live formula in an exported cell: {cell!r} (row {row})")


@pytest.fixture
def staff_browser(operator):
    browser = DjangoClient()
    browser.force_login(operator)
    return browser


@pytest.fixture
def hostile_campaign(operator):
    client = ClientFactory(name="-2+3+cmd|' /C calc'!A0")
    return create_campaign(client=client, name=HYPERLINK, actor=operator)


@pytest.mark.django_db
def test_timeline_csv_neutralises_a_formula_in_the_campaign_name_and_a_rationale(
    staff_browser, operator, hostile_campaign
):
    update_campaign(
        campaign=hostile_campaign, actor=operator, target_clients=12, rationale="+1+cmd|' /C calc'!A0"
    )
    url = reverse("admin:campaigns_campaign_timeline", args=[hostile_campaign.pk])
    response = staff_browser.get(url, {"format": "csv"})
    assert response["Content-Type"].startswith("text/csv")
    rows = _cells(b"".join(response.streaming_content))
    flat = [cell for row in rows for cell in row]
    assert "'+1+cmd|' /C calc'!A0" in flat  # the rationale, shown as text
    objects = {row[5] for row in rows[1:]}
    assert objects == {f"'{HYPERLINK} (-2+3+cmd|' /C calc'!A0)"}  # the campaign, shown as text
    _assert_no_live_formula(rows)


@pytest.mark.django_db
def test_import_issues_csv_neutralises_a_formula_from_an_imported_row(staff_browser, hostile_campaign):
    data = f"email,first_name\n{SUM},Ann\n=1+1,Bob\n-3,Cy\nok@example.com,{HYPERLINK.replace(',', ';')}\n"
    lead_import = import_leads_from_csv(campaign=hostile_campaign, file=io.BytesIO(data.encode()))
    response = staff_browser.get(reverse("admin:leads_leadimport_issues_csv", args=[lead_import.pk]))
    rows = _cells(b"".join(response.streaming_content))
    assert rows[0] == ["row", "kind", "field", "reason", "value"]
    values = [row[4] for row in rows[1:]]
    assert "'" + SUM in values and "'=1+1" in values and "'-3" in values
    assert [row[0] for row in rows[1:]][:3] == ["2", "3", "4"]  # row numbers stay numbers
    _assert_no_live_formula(rows)


@pytest.mark.django_db
def test_import_issues_csv_through_the_admin_upload(staff_browser, hostile_campaign):
    upload = SimpleUploadedFile("list.csv", f"Email\n{SUM}\n".encode(), "text/csv")
    preview = staff_browser.post(
        reverse("admin:leads_leadimport_upload"), {"campaign": hostile_campaign.pk, "file": upload}
    )
    staff_browser.post(reverse("admin:leads_leadimport_confirm"), {"token": preview.context["token"]})
    lead_import = LeadImport.objects.get(campaign=hostile_campaign)
    response = staff_browser.get(reverse("admin:leads_leadimport_issues_csv", args=[lead_import.pk]))
    rows = _cells(b"".join(response.streaming_content))
    assert rows[1][4] == "'" + SUM
    _assert_no_live_formula(rows)


@pytest.mark.django_db
def test_metrics_csv_neutralises_the_campaign_name_and_keeps_numbers(staff_browser, hostile_campaign):
    response = staff_browser.get(reverse("admin:reporting_campaigndashboard_csv", args=[hostile_campaign.pk]))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = _cells(response.content)
    assert ["campaign", "name", "'" + HYPERLINK] in rows
    assert ["funnel", "leads_total", "0"] in rows
    _assert_no_live_formula(rows)


def test_the_helper_prefixes_every_trigger_and_keeps_computed_numbers():
    from campaigns.exports import csv_lines, safe_cell, spreadsheet_safe_writer

    for trigger in FORMULA_TRIGGERS:
        assert safe_cell(f"{trigger}cmd") == f"'{trigger}cmd"
    assert safe_cell("-5") == "'-5"  # text from outside: OWASP's rule, whatever it looks like
    assert safe_cell(-5) == -5 and safe_cell(Decimal("-3.20")) == Decimal("-3.20") and safe_cell(+3.2) == 3.2
    assert safe_cell(None) == "" and safe_cell(True) == "True" and safe_cell("plain") == "plain"
    buffer = io.StringIO()
    spreadsheet_safe_writer(buffer).writerows([["=1", -5, "a,b"], ["\t=1", "\r=1", "x"]])
    assert _cells(buffer.getvalue().encode()) == [["'=1", "-5", "a,b"], ["'\t=1", "'\r=1", "x"]]
    assert "".join(csv_lines([["@a"]] * 2500, rows_per_chunk=1000)).count("'@a") == 2500


def _csv_writers_outside_the_helper(root: Path = REPO, packages: tuple[str, ...] = APP_PACKAGES) -> list[str]:
    found = []
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            if path == THE_HELPER or "migrations" in path.parts:
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            for node in ast.walk(tree):
                if (
                    isinstance(node, ast.Attribute)
                    and node.attr in ("writer", "DictWriter")
                    and isinstance(node.value, ast.Name)
                    and node.value.id == "csv"
                ):
                    found.append(f"{path.relative_to(root)}:{node.lineno} csv.{node.attr}")
                if isinstance(node, ast.ImportFrom) and node.module == "csv":
                    names = {alias.name for alias in node.names}
                    if names & {"writer", "DictWriter", "*"}:
                        found.append(f"{path.relative_to(root)}:{node.lineno} from csv import {names}")
    return found


def test_no_csv_writer_outside_the_spreadsheet_safe_helper():
    """A new export must use campaigns.exports (spreadsheet_safe_writer / csv_lines)."""
    assert _csv_writers_outside_the_helper() == []


def test_the_scan_finds_a_csv_writer(tmp_path):
    """The scan itself works: a module with a bare csv.writer (or an imported writer) is reported."""
    package = tmp_path / "leads"
    package.mkdir()
    (package / "export.py").write_text("import csv\n\ndef f(out):\n    return csv.writer(out)\n")
    (package / "other.py").write_text("from csv import DictWriter\n")
    assert _csv_writers_outside_the_helper(tmp_path, ("leads",)) == [
        "leads/export.py:4 csv.writer",
        "leads/other.py:1 from csv import {'DictWriter'}",
    ]
