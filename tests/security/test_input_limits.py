"""Issue 15, point 6: bounded input.

Each limit is a setting (campaigns.limits / aicmo_site/settings.py), checked before memory grows,
and answered with a JSON 400/413 naming it. Sizes are scaled down with override_settings where the
real ones would be slow; the measured cases (a million columns, just over 1 MiB as text/csv,
10,000 pushed leads, 1,000-deep JSON) run at full size.
"""

from __future__ import annotations

import csv
import io
import json
import re
import tracemalloc
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client as DjangoClient
from django.test import override_settings
from django.urls import reverse
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from campaigns.errors import DomainError
from leads import csv_reading, importers
from leads.importers import import_leads_from_csv
from leads.models import Lead, LeadImport
from tests.api_fuzz.openapi import generated_schema
from tests.factories import CampaignFactory

REPO = Path(__file__).resolve().parents[2]
INPUT_LIMITS = (
    "AICMO_MAX_UPLOAD_BYTES",
    "AICMO_MAX_JSON_BODY_BYTES",
    "AICMO_MAX_JSON_DEPTH",
    "AICMO_MAX_CSV_COLUMNS",
    "AICMO_MAX_CSV_CELL_CHARS",
    "AICMO_MAX_PUSH_ROWS",
)
WITHOUT_LIMITS_MIDDLEWARE = [m for m in settings.MIDDLEWARE if "request_limits" not in m]


@pytest.fixture
def campaign(client_user):
    return CampaignFactory(client=client_user.client)


@pytest.fixture
def api(api_as, client_user):
    return api_as(client_user)


def leads_url(campaign) -> str:
    return f"/api/v1/campaigns/{campaign.pk}/leads/"


def assert_limit_answer(response, *, status: int, limit: str, code: str | None = None) -> dict:
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = response.json()
    assert body["limit"] == limit and body["max"] == getattr(settings, limit), body
    assert body["detail"] and (code is None or body["code"] == code), body
    return body


def csv_file(rows: int, *, extra: str = "") -> bytes:
    lines = ["email,first_name,company"] + [f"p{i}@example.com,Name{i},Acme{extra}" for i in range(rows)]
    return ("\n".join(lines) + "\n").encode()


# --- CSV columns and cells ----------------------------------------------------------------------


@pytest.mark.django_db
def test_a_million_columns_are_refused_before_the_header_is_parsed(api, campaign):
    """Measured: a 9.9 MB CSV with 1,000,000 columns cost ~350 MB per request. Now: a 400 naming the
    limit, and the request's memory stays small (the body itself is ~7 MB)."""
    body = ",".join(f"c{i}" for i in range(1_000_000)).encode() + b"\nx@example.com\n"
    tracemalloc.start()
    try:
        response = api.post(f"{leads_url(campaign)}import/", data=body, content_type="text/csv")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert_limit_answer(response, status=400, limit="AICMO_MAX_CSV_COLUMNS", code="too_many_columns")
    assert peak < 40 * 1024 * 1024, f"peak {peak / 1e6:.0f} MB"
    assert not Lead.objects.exists()


@pytest.mark.django_db
@override_settings(AICMO_MAX_CSV_COLUMNS=10)
def test_a_wide_row_after_the_header_is_refused_and_quoted_delimiters_are_not_columns(campaign):
    wide = "a@example.com" + ",x" * 10  # 11 cells
    with pytest.raises(DomainError) as refused:
        import_leads_from_csv(campaign=campaign, file=io.BytesIO(f"email,name\n{wide}\n".encode()))
    assert refused.value.as_dict()["limit"] == "AICMO_MAX_CSV_COLUMNS" and refused.value.details["line"] == 2
    # 40 commas inside quoted cells (one spanning two lines), 3 cells per row: within the limit.
    quoted = 'email,note,company\nb@example.com,"' + "a," * 20 + "\n" + "b," * 20 + '",Acme\n'
    report = import_leads_from_csv(campaign=campaign, file=io.BytesIO(quoted.encode()))
    assert report.inserted == 1 and Lead.objects.get().company == "Acme"


@pytest.mark.django_db
@override_settings(AICMO_MAX_CSV_CELL_CHARS=100)
def test_a_cell_over_the_limit_is_refused_one_at_the_limit_is_read(api, campaign, monkeypatch):
    monkeypatch.setattr(importers, "FILE_PATH_MIN_BYTES", 0)  # PostgreSQL: the file path too
    at_limit = csv_file(3, extra="n" * 96)  # "Acme" + 96 = 100 characters
    response = api.post(f"{leads_url(campaign)}import/", data=at_limit, content_type="text/csv")
    assert response.status_code == 201, response.content
    assert response.json()["rows_read"] == 3
    over = csv_file(3, extra="n" * 97)
    response = api.post(f"{leads_url(campaign)}import/", data=over, content_type="text/csv")
    assert_limit_answer(response, status=400, limit="AICMO_MAX_CSV_CELL_CHARS", code="cell_too_long")
    quoted_over = b'email,note\nz@example.com,"' + b"x\n" * 60 + b'"\n'  # 120 characters over 60 lines
    response = api.post(f"{leads_url(campaign)}import/", data=quoted_over, content_type="text/csv")
    assert_limit_answer(response, status=400, limit="AICMO_MAX_CSV_CELL_CHARS", code="cell_too_long")
    assert Lead.objects.count() == 3


@pytest.mark.django_db
@override_settings(AICMO_MAX_CSV_COLUMNS=5, AICMO_MAX_CSV_CELL_CHARS=10)
def test_one_endless_line_is_cut_at_the_longest_line_the_limits_allow(campaign, monkeypatch):
    """A 5 MB line with no delimiter: the reader refuses it after 5 * (2 * 10 + 3) + 1 characters.
    (PostgreSQL's file path streams 1 MB chunks to COPY and measures cells in SQL: not this test.)"""
    monkeypatch.setattr(importers, "FILE_PATH_MIN_BYTES", 10**12)
    body = b"email\n" + b"x" * 5_000_000 + b"\n"
    tracemalloc.start()
    try:
        with pytest.raises(DomainError) as refused:
            import_leads_from_csv(campaign=campaign, file=io.BytesIO(body))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert refused.value.code == "cell_too_long" and peak < 2 * 1024 * 1024


@pytest.mark.django_db
@override_settings(AICMO_MAX_CSV_COLUMNS=3)
def test_the_admin_upload_shows_the_limit_on_the_form(operator, campaign):
    browser = DjangoClient()
    browser.force_login(operator)
    upload = SimpleUploadedFile("wide.csv", b"email,a,b,c\nx@example.com,1,2,3\n", "text/csv")
    page = browser.post(reverse("admin:leads_leadimport_upload"), {"campaign": campaign.pk, "file": upload})
    assert page.status_code == 200 and "AICMO_MAX_CSV_COLUMNS" in page.content.decode()
    assert not LeadImport.objects.exists()


# --- upload size --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_text_csv_body_just_over_one_mib_is_imported(api, campaign):
    """Measured: 500 (TypeError: the spooled file's .name is an int once it rolls over to disk)."""
    body = csv_file(40_000)
    assert 1024 * 1024 < len(body) < 2 * 1024 * 1024
    response = api.post(f"{leads_url(campaign)}import/", data=body, content_type="text/csv")
    assert response.status_code == 201, response.content[:500]
    assert response.json()["inserted"] == 40_000 and response.json()["filename"] == ""


@pytest.mark.django_db
@override_settings(AICMO_MAX_UPLOAD_BYTES=100_000)
def test_an_upload_over_the_limit_is_refused_before_it_is_read(api, campaign):
    """Measured: a 200 MB upload was accepted. Scaled down: 100 kB limit, ~190 kB file."""
    body = csv_file(5_000)
    assert len(body) > 100_000
    as_text = api.post(f"{leads_url(campaign)}import/", data=body, content_type="text/csv")
    assert_limit_answer(as_text, status=413, limit="AICMO_MAX_UPLOAD_BYTES", code="too_large")
    upload = SimpleUploadedFile("big.csv", body, "text/csv")
    as_file = api.post(f"{leads_url(campaign)}import/", {"file": upload}, format="multipart")
    assert_limit_answer(as_file, status=413, limit="AICMO_MAX_UPLOAD_BYTES")
    assert not LeadImport.objects.exists()


@pytest.mark.django_db
@override_settings(AICMO_MAX_UPLOAD_BYTES=100_000, MIDDLEWARE=WITHOUT_LIMITS_MIDDLEWARE)
def test_the_upload_is_also_cut_as_it_streams(api, campaign):
    """Without the Content-Length check (a body whose length the server does not know), the text/csv
    parser and the multipart upload handler count the bytes and stop at the limit."""
    body = csv_file(5_000)
    as_text = api.post(f"{leads_url(campaign)}import/", data=body, content_type="text/csv")
    assert_limit_answer(as_text, status=413, limit="AICMO_MAX_UPLOAD_BYTES")
    upload = SimpleUploadedFile("big.csv", body, "text/csv")
    as_file = api.post(f"{leads_url(campaign)}import/", {"file": upload}, format="multipart")
    assert_limit_answer(as_file, status=413, limit="AICMO_MAX_UPLOAD_BYTES")
    assert not LeadImport.objects.exists()


# --- JSON -----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_documented_maximum_push_of_10000_leads_is_accepted(api, campaign):
    """Measured: HTML 400 (Django's 2.5 MB body limit) for the documented maximum."""
    leads = [
        {
            "email": f"person{i}@example.com",
            "first_name": "Firstname",
            "last_name": "Lastname",
            "title": "Head of Marketing and Growth",
            "company": "Example Company Ltd",
            "industry": "Software",
            "country": "DE",
            "timezone": "Europe/Berlin",
            "linkedin_url": f"https://www.linkedin.com/in/person-{i}-example",
        }
        for i in range(10_000)
    ]
    body = json.dumps({"leads": leads})
    assert len(body) > 2.5 * 1024 * 1024
    response = api.post(leads_url(campaign), data=body, content_type="application/json")
    assert response.status_code == 201, response.content[:300]
    assert response.json()["inserted"] == 10_000 == settings.AICMO_MAX_PUSH_ROWS


@pytest.mark.django_db
@override_settings(AICMO_MAX_PUSH_ROWS=5)
def test_a_push_over_the_row_limit_names_it(api, campaign):
    leads = [{"email": f"p{i}@example.com"} for i in range(6)]
    response = api.post(leads_url(campaign), {"leads": leads}, format="json")
    assert_limit_answer(response, status=400, limit="AICMO_MAX_PUSH_ROWS", code="too_many_rows")
    assert api.post(leads_url(campaign), {"leads": leads[:5]}, format="json").status_code == 201


@pytest.mark.django_db
@override_settings(AICMO_MAX_JSON_BODY_BYTES=2_000, DATA_UPLOAD_MAX_MEMORY_SIZE=2_000)
def test_a_json_body_over_the_limit_is_a_json_413(api, campaign):
    leads = [{"email": f"person{i}@example.com"} for i in range(100)]
    response = api.post(leads_url(campaign), {"leads": leads}, format="json")
    assert_limit_answer(response, status=413, limit="AICMO_MAX_JSON_BODY_BYTES", code="too_large")
    with override_settings(MIDDLEWARE=WITHOUT_LIMITS_MIDDLEWARE):  # Django's own check, through DRF
        response = api.post(leads_url(campaign), {"leads": leads}, format="json")
    assert_limit_answer(response, status=413, limit="AICMO_MAX_JSON_BODY_BYTES")
    assert not Lead.objects.exists()


def _json_operations() -> list[tuple[str, str]]:
    operations = []
    for path, methods in generated_schema()["paths"].items():
        for method, operation in methods.items():
            content = (operation.get("requestBody") or {}).get("content", {})
            if "application/json" in content:
                operations.append((method.upper(), re.sub(r"\{[^}]+\}", "1", path)))
    return operations


@pytest.mark.django_db
def test_json_nested_1000_deep_is_a_400_on_every_json_endpoint(api, operator, api_as):
    """Measured: 500 (RecursionError) on every JSON endpoint."""
    deep = "[" * 1000 + "]" * 1000
    operations = _json_operations()
    assert len(operations) > 10
    for method, path in operations:
        for caller in (api, api_as(operator)):
            response = caller.generic(method, path, deep, content_type="application/json")
            assert_limit_answer(response, status=400, limit="AICMO_MAX_JSON_DEPTH", code="too_deep")
    # the ESP webhooks (ours and anymail's) parse JSON themselves
    for webhook in ("/api/v1/webhooks/postmark/tracking/", "/anymail/postmark/tracking/"):
        response = DjangoClient().post(webhook, deep, content_type="application/json")
        assert_limit_answer(response, status=400, limit="AICMO_MAX_JSON_DEPTH")


@pytest.mark.django_db
@override_settings(AICMO_MAX_JSON_DEPTH=3)
def test_the_depth_limit_is_exact_and_holds_in_drf_s_parser_too(api, campaign):
    at_limit = {"leads": [{"email": "a@example.com"}]}  # object > array > object: 3
    assert api.post(leads_url(campaign), at_limit, format="json").status_code == 201
    too_deep = {"leads": [{"email": "b@example.com", "tags": ["x"]}]}
    response = api.post(leads_url(campaign), too_deep, format="json")
    assert_limit_answer(response, status=400, limit="AICMO_MAX_JSON_DEPTH")
    brackets_in_strings = {"leads": [{"email": "c@example.com", "title": "[[[[{{{{"}]}
    assert api.post(leads_url(campaign), brackets_in_strings, format="json").status_code == 201
    with override_settings(MIDDLEWARE=WITHOUT_LIMITS_MIDDLEWARE):
        response = api.post(leads_url(campaign), too_deep, format="json")
        assert_limit_answer(response, status=400, limit="AICMO_MAX_JSON_DEPTH")
        unclosed = api.post(leads_url(campaign), "[" * 5000, content_type="application/json")
        assert unclosed.status_code == 400 and "JSON parse error" in unclosed.json()["detail"]
    assert Lead.objects.count() == 2


# --- Django's own limits, before DRF ----------------------------------------------------------------


@pytest.mark.django_db
@override_settings(DATA_UPLOAD_MAX_NUMBER_FIELDS=5)
def test_too_many_form_fields_is_json_in_the_api_and_the_admin(api, operator, campaign):
    fields = {f"f{i}": "x" for i in range(10)}
    response = api.post(f"{leads_url(campaign)}import/", fields, format="multipart")
    assert_limit_answer(response, status=400, limit="DATA_UPLOAD_MAX_NUMBER_FIELDS", code="too_many_fields")
    browser = DjangoClient()
    browser.force_login(operator)
    response = browser.post(reverse("admin:leads_leadimport_upload"), fields)  # CSRF reads it first
    assert_limit_answer(response, status=400, limit="DATA_UPLOAD_MAX_NUMBER_FIELDS")


@pytest.mark.django_db
@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1_000, AICMO_MAX_JSON_BODY_BYTES=1_000)
def test_a_form_body_over_django_s_limit_is_json_in_the_admin(operator, campaign):
    browser = DjangoClient()
    browser.force_login(operator)
    response = browser.post(reverse("admin:leads_leadimport_upload"), {"mapping": "x" * 5_000})
    assert_limit_answer(response, status=413, limit="AICMO_MAX_JSON_BODY_BYTES")


# --- the schema and the documentation ------------------------------------------------------------


def test_the_schema_documents_413_where_a_body_is_taken():
    paths = generated_schema()["paths"]
    upload = paths["/api/v1/campaigns/{campaign_id}/leads/import/"]["post"]["responses"]
    push = paths["/api/v1/campaigns/{campaign_id}/leads/"]["post"]["responses"]
    assert "413" in upload and "413" in push
    for methods in paths.values():
        for operation in methods.values():
            if "requestBody" in operation:
                assert "413" in operation["responses"]


def _documented_limits() -> dict[str, str]:
    text = (REPO / "docs" / "SECURITY.md").read_text(encoding="utf-8")
    section = text.split("## Input limits", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) >= 4 and cells[1].startswith("`AICMO_"):
            rows[cells[1].strip("`")] = cells[2]
    return rows


def test_the_documented_limits_are_the_real_ones():
    """docs/SECURITY.md's table lists every limit with the default the settings use."""
    documented = _documented_limits()
    from campaigns.limits import INPUT_LIMITS as REGISTERED

    assert set(documented) == set(INPUT_LIMITS) == set(REGISTERED)
    for name, default in documented.items():
        number = int(re.sub(r"[^0-9]", "", default.split("(")[0]))
        assert number == getattr(settings, name), (name, default)
    assert settings.DATA_UPLOAD_MAX_MEMORY_SIZE == settings.AICMO_MAX_JSON_BODY_BYTES


def test_every_limit_is_read_from_the_environment():
    source = (REPO / "aicmo_site" / "settings.py").read_text(encoding="utf-8")
    for name in INPUT_LIMITS:
        assert f'{name} = env_int("{name}",' in source


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the PostgreSQL file path")
@pytest.mark.django_db
@override_settings(AICMO_MAX_CSV_COLUMNS=4)
def test_the_postgres_file_path_keeps_the_column_limit(campaign, monkeypatch):
    monkeypatch.setattr(importers, "FILE_PATH_MIN_BYTES", 0)
    with pytest.raises(DomainError):
        import_leads_from_csv(campaign=campaign, file=io.BytesIO(b"email,a,b,c,d\nx@example.com,1,2,3,4\n"))
    report = import_leads_from_csv(campaign=campaign, file=io.BytesIO(b"email,a,b,c\nx@example.com,1,2,3\n"))
    assert report.inserted == 1


# --- the streaming checks are exact: the same rows as the CSV reader, refused exactly past a limit --

_RAW_CSV = st.text(alphabet=st.sampled_from(["a", "b", ",", '"', "\n", "\r", " "]), min_size=1, max_size=60)


@hypothesis_settings(max_examples=400, deadline=None, derandomize=True)
@given(_RAW_CSV)
def test_the_bounded_reader_reads_what_the_csv_reader_reads_and_refuses_exactly_past_a_limit(text):
    try:
        expected = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error:
        return
    cells = max((len(row) for row in expected), default=0)
    longest = max((len(cell) for row in expected for cell in row), default=0)
    if not cells:
        return

    def read(columns: int, cell: int) -> list[list[str]]:
        with override_settings(AICMO_MAX_CSV_COLUMNS=columns, AICMO_MAX_CSV_CELL_CHARS=cell):
            return list(csv_reading.open_csv(io.BytesIO(text.encode())).rows)

    assert read(cells, max(longest, 1)) == expected
    if cells > 1:
        with pytest.raises(DomainError) as refused:
            read(cells - 1, max(longest, 1))
        assert refused.value.code == "too_many_columns"
    if longest > 1:
        with pytest.raises(DomainError) as refused:
            read(cells, longest - 1)
        assert refused.value.code == "cell_too_long"
