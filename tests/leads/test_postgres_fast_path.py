"""The PostgreSQL fast path (COPY + set-based SQL) gives exactly what the Python path gives.

Each example imports the same bytes twice into twin campaigns of one client: once through the fast
path (the default on PostgreSQL) and once through the Python path (an explicit batch size larger
than the file, so both see the whole file as one batch). The reports, the leads and the issues
must be identical; files the fast path cannot take must fall back to the Python path.
"""

from __future__ import annotations

import io
import re
import sys
from importlib import resources

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from leads import importers
from leads.importers import PYTHON_WHITESPACE, import_leads_from_csv
from leads.importers.runner import IMPORT_COUNTS
from leads.models import Lead
from leads.services import add_suppression, forget_person
from tests.factories import CampaignFactory, ClientFactory

REPORT_FIELDS = (
    "status",
    "encoding",
    "delimiter",
    "column_mapping",
    "ignored_columns",
    *IMPORT_COUNTS,
    "blank_lines",
)
LEAD_FIELDS = ("email", "normalized_email", "email_domain", *importers.IMPORTABLE_FIELDS, "source", "state")

# Addresses chosen to hit every rule: case, Gmail dots and tags, IDNA, quoted and odd local parts,
# special-use TLDs, "ab--" labels, label and part lengths, no @-sign, display names, suppression.
EMAILS = [
    "ada@example.com",
    "ADA@Example.COM",
    " ada@example.com ",
    "\u00a0ada@example.com\u2003",
    "j.o.e+list@gmail.com",
    "JOE@googlemail.com",
    ".+x@gmail.com",
    "+tag@gmail.com",
    "grace@bücher.example",
    "grace@xn--bcher-kva.example",
    "zoë@example.com",
    "\uff46\uff55\uff4c\uff4c@example.com",  # full-width letters
    '"quoted local"@example.com',
    "a..b@example.com",
    ".a@example.com",
    "a.@example.com",
    "x@example.test",
    "x@example.local",
    "x@ab--cd.example",
    "x@xn--cd.example",
    "x@a-.example",
    "x@-a.example",
    "x@" + "a" * 63 + ".example",
    "x@" + "a" * 64 + ".example",
    "y" * 64 + "@example.com",
    "y" * 65 + "@example.com",
    "x@example.c",
    "x@example.c0m",
    "x@123.example",
    "not-an-email",
    "broken at example",
    "a\\b",
    "<ada@example.com>",
    "Ada <ada@example.com>",
    "a@b@example.com",
    "@example.com",
    "x@",
    "",
    "   ",
    "blocked@blocked.example",
    "someone@blocked.example",
    "Dropped@Example.org",
    "erased.person@example.net",
    "ERASED.PERSON@example.net",
    "k\u212aelvin@example.com",
]
NAMES = ["Ada", "Ada Lovelace", "  Ada   Lovelace ", "Ada\tLovelace", "Zoë Größe", "", " ", "x" * 101, "İ"]
COUNTRIES = [
    *["", "de", " DE ", "UK", "gb", "Narnia", "XX", "ß", "\u0131t", "EL", "D", "DEU", "é"],
    # names: decided in SQL (ASCII spellings of the table) or by Python (the rest), alike
    *[
        "Germany",
        "GERMANY",
        "united states",
        "U.S.",
        "Deutschland",
        "Österreich",
        "Atlantis",
        "The Netherlands",
    ],
]
TIMEZONES = ["", "Europe/Berlin", "europe/berlin", "Mars/Olympus", "UTC", " UTC "]
COMPANIES = ["", "Acme", "c" * 200, "c" * 201, "Café Größe"]

row_values = st.fixed_dictionaries(
    {
        "email": st.one_of(
            st.sampled_from(EMAILS),
            st.text(alphabet="aZ.+-_@!< ü9", max_size=12),
            st.builds(
                lambda local, domain: f"{local}@{domain}",
                st.sampled_from(["x", "X.Y", "a+b"]),
                st.sampled_from(["gmail.com", "example.com", "blocked.example", "EXAMPLE.com"]),
            ),
        ),
        "name": st.sampled_from(NAMES),
        "first": st.sampled_from(["", "Grace", " Grace "]),
        "country": st.sampled_from(COUNTRIES),
        "timezone": st.sampled_from(TIMEZONES),
        "company": st.sampled_from(COMPANIES),
    }
)
HEADER = ["E-mail", "Name", "First Name", "Country", "Time Zone", "Company", "Notes"]


def file_bytes(rows: list[dict], delimiter: str, *, bom: bool, crlf: bool) -> bytes:
    lines = [delimiter.join(HEADER)]
    for row in rows:
        cells = [
            row["email"],
            row["name"],
            row["first"],
            row["country"],
            row["timezone"],
            row["company"],
            "n",
        ]
        # No quote characters: those files go through the Python path (tested below).
        lines.append(delimiter.join(cell.replace(delimiter, " ").replace('"', "'") for cell in cells))
    newline = "\r\n" if crlf else "\n"
    return (b"\xef\xbb\xbf" if bom else b"") + (newline.join(lines) + newline).encode()


def snapshot(report) -> tuple:
    report.refresh_from_db()
    leads = list(
        Lead.objects.filter(campaign_id=report.campaign_id)
        .order_by("normalized_email")
        .values_list(*LEAD_FIELDS)
    )
    issues = list(
        report.issues.order_by("row_number", "id").values_list(
            "row_number", "kind", "field", "reason", "value"
        )
    )
    return {name: getattr(report, name) for name in REPORT_FIELDS}, leads, issues


@pytest.fixture
def fast_path_outcomes(monkeypatch):
    """Records, for each fast-path attempt, whether it finished or handed over to the Python path."""
    outcomes: list[str] = []
    original = importers.PostgresFileImport.run

    def run(self):
        try:
            original(self)
        except importers.UseThePythonPath:
            outcomes.append("python")
            raise
        outcomes.append("fast")

    monkeypatch.setattr(importers.PostgresFileImport, "run", run)
    return outcomes


def import_both_ways(data: bytes, *, existing: list[str] = ()) -> tuple[tuple, tuple]:
    client = ClientFactory()
    add_suppression(domain="blocked.example", reason="manual_dnc", client=client)
    add_suppression(email="Dropped@example.org", reason="unsubscribed", client=client)
    results = []
    for batch_size in (None, 10**6):
        campaign = CampaignFactory(client=client)
        if existing:
            import_leads_from_csv(
                campaign=campaign, file=io.BytesIO(("email\n" + "\n".join(existing)).encode()), batch_size=10
            )
        report = import_leads_from_csv(campaign=campaign, file=io.BytesIO(data), batch_size=batch_size)
        results.append(snapshot(report))
    return results[0], results[1]


@pytest.mark.postgres
@pytest.mark.django_db
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    rows=st.lists(row_values, min_size=1, max_size=25),
    delimiter=st.sampled_from([",", ";", "\t", "|"]),
    bom=st.booleans(),
    crlf=st.booleans(),
    existing=st.lists(
        st.sampled_from(["ada@example.com", "joe@gmail.com", "x@example.com"]), max_size=2, unique=True
    ),
)
@example(
    rows=[
        {"email": e, "name": "Ada Lovelace", "first": "", "country": "de", "timezone": "", "company": ""}
        for e in EMAILS
    ],
    delimiter=",",
    bom=True,
    crlf=True,
    existing=["ada@example.com"],
)
def test_fast_path_and_python_path_give_the_same_report_leads_and_issues(
    rows, delimiter, bom, crlf, existing, fast_path_outcomes
):
    forget_person(email="erased.person@example.net")
    fast_path_outcomes.clear()
    fast, python = import_both_ways(file_bytes(rows, delimiter, bom=bom, crlf=crlf), existing=existing)
    assert fast_path_outcomes == ["fast"]  # the file was eligible and the fast path finished
    assert fast == python


@pytest.mark.postgres
@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "why"),
    [
        (b'email,name\n"a@example.com",Ada\nb@example.com,"Lovelace, Ada"\n', "quotes"),
        (b"email,name\na@example.com,Ada\n\nb@example.com,Bob\n", "a blank line"),
        (b"email,name\na@example.com\nb@example.com,Bob,extra\n", "ragged rows"),
        (b"\nemail,name\na@example.com,Ada\n", "a blank line before the header"),
        (b"email,name\na@example.com,Ad\\.a\n", "COPY's end-of-data marker"),
        (b"email,name\na@example.com,Ada\nb@example.com,Bj\xf6rn\n" + b"x@example.com,X\n" * 5, "not UTF-8"),
        (b"email;name\r\na@example.com;Ada\nb@example.com;Bob\r\n", "mixed line endings"),
        (b"email," + b",".join(b"c%d" % i for i in range(1200)) + b"\na@example.com\n", "too many columns"),
    ],
)
def test_files_the_fast_path_cannot_take_go_through_the_python_path(data, why, fast_path_outcomes, settings):
    # Past the file path's own 1,000 columns; the input limit itself is tested in tests/security.
    settings.AICMO_MAX_CSV_COLUMNS = 2000
    fast, python = import_both_ways(data)
    assert fast == python, why
    assert "fast" not in fast_path_outcomes, why


@pytest.mark.postgres
@pytest.mark.django_db
def test_the_fast_path_takes_a_plain_file_and_counts_every_row_once(fast_path_outcomes):
    lines = ["Email,First Name,Country"] + [f"p{i}@example.com,P{i},de" for i in range(50)]
    lines += ["P1@EXAMPLE.com,Dup,", "no-at-sign,X,", "p99@example.com,Bad country,Narnia"]
    lines += ["p100@example.com,Named,Germany", "p101@example.com,Named,Deutschland"]
    fast, python = import_both_ways(("\n".join(lines) + "\n").encode(), existing=["p2@example.com"])
    assert fast_path_outcomes == ["fast"]
    assert fast == python
    report = fast[0]
    assert (report["inserted"], report["duplicates_in_file"], report["duplicates_in_campaign"]) == (52, 1, 1)
    assert (report["invalid"], report["flagged"], report["rows_read"]) == (1, 1, 55)


def test_the_sql_trims_exactly_what_python_strips():
    assert set(PYTHON_WHITESPACE) == {chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace()}


@pytest.mark.parametrize("name", ["checked_rows", "insert_leads"])
def test_the_file_path_sql_takes_every_limit_and_list_as_a_parameter(name):
    """The rules live in Python under their public names (leads.normalization, leads.importers.rows);
    the file path's statements receive them as parameters and hold no limit or list of their own."""
    text = resources.files("leads.importers").joinpath("sql").joinpath(f"{name}.sql").read_text("utf-8")
    code = re.sub(r"--(?!')[^\n]*", "", text)  # comments out; the '--' literal stays
    assert set(re.findall(r"\b\d+\b", code)) <= {"0", "1", "2"}
    assert not re.search(r"gmail|\barpa\b|localhost|\[a-z", code, re.IGNORECASE)


@settings(max_examples=300, deadline=None)
@given(
    text=st.text(alphabet=st.characters(max_codepoint=127, exclude_characters='@<"'), min_size=1, max_size=20)
)
def test_an_ascii_text_without_at_sign_is_refused_with_the_words_the_sql_uses(text):
    from leads.normalization import InvalidEmailError, validate_and_normalize_email

    assume(text.strip())
    with pytest.raises(InvalidEmailError) as err:
        validate_and_normalize_email(text)
    assert str(err.value) == importers.NO_AT_SIGN_REASON


@pytest.mark.postgres
def test_small_files_take_the_batch_path_and_big_ones_the_file_path(db, monkeypatch, fast_path_outcomes):
    monkeypatch.setattr(importers, "FILE_PATH_MIN_BYTES", 512 * 1024)
    rows = ["Email,First Name"] + [f"p{i}@small.example,P{i}" for i in range(20)]
    small = io.BytesIO(("\n".join(rows) + "\n").encode())
    report = import_leads_from_csv(campaign=CampaignFactory(), file=small, filename="small.csv")
    assert (report.inserted, fast_path_outcomes) == (20, [])  # never tried: the batch path took it
    monkeypatch.setattr(importers, "FILE_PATH_MIN_BYTES", len(small.getvalue()))
    small.seek(0)
    report = import_leads_from_csv(campaign=CampaignFactory(), file=small, filename="small.csv")
    assert (report.inserted, fast_path_outcomes) == (20, ["fast"])
