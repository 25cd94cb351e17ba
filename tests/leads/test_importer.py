"""The streaming importer: messy files, the report, dedup, suppression, re-import, encodings."""

from __future__ import annotations

import io

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from campaigns.errors import DomainError
from campaigns.models import AuditEvent
from leads.importers import import_lead_records, import_leads_from_csv, lead_import_report
from leads.models import ImportIssueKind, Lead, LeadImportStatus
from leads.services import add_suppression
from tests.factories import CampaignFactory

MESSY_LINES = [
    "Name;E-mail;Job Title;Company;Country;Notes",  # semicolons, aliases, an extra column
    "Ada Lovelace;Ada@Example.com;CTO;Analytical;gb;likes engines",
    "",  # blank line
    "Ada again;ada@EXAMPLE.com;CTO;Analytical;GB;duplicate, mixed case",
    "Grace Hopper;grace@navy.example;Rear Admiral;Navy;US;",
    "No Address;not-an-email;;;DE;",
    "Blocked Person;someone@blocked.example;;;FR;suppressed domain",
    "Bad Country;bob@example.org;;;Narnia;",
    "Gmail Dots;j.o.e+list@gmail.com;;;;",
    "Gmail Plain;JOE@googlemail.com;;;;",
    " ; ; ; ; ; ",  # blank row made of delimiters
    "Linus;linus@kernel.example;;;FI;",
]


def messy_file(csv_bytes):
    return csv_bytes(*MESSY_LINES, bom=True)


def check_messy_report(report):
    assert report.status == LeadImportStatus.FINISHED
    assert report.encoding == "utf-8 (BOM)" and report.delimiter == ";"
    assert report.ignored_columns == ["Notes"]
    assert report.rows_read == 9
    assert report.blank_lines == 2
    assert (report.inserted, report.duplicates_in_file, report.duplicates_in_campaign) == (5, 2, 0)
    assert (report.suppressed, report.invalid, report.flagged) == (1, 1, 1)
    # Every row is accounted for exactly once.
    assert report.inserted + report.rejected == report.rows_read
    issues = {(i.row_number, i.kind, i.field) for i in report.issues.all()}
    assert issues == {
        (4, ImportIssueKind.DUPLICATE_IN_FILE, "email"),
        (6, ImportIssueKind.INVALID, "email"),
        (7, ImportIssueKind.SUPPRESSED, "email"),
        (8, ImportIssueKind.FLAGGED, "country"),  # imported, the country left empty
        (10, ImportIssueKind.DUPLICATE_IN_FILE, "email"),
    }


@pytest.mark.django_db
def test_messy_csv_is_fully_accounted_for_and_reimport_inserts_nothing(campaign, csv_bytes, operator):
    add_suppression(domain="blocked.example", reason="manual_dnc", client=campaign.client)
    report = import_leads_from_csv(campaign=campaign, file=messy_file(csv_bytes), actor=operator)
    check_messy_report(report)
    leads = {lead.normalized_email: lead for lead in Lead.objects.filter(campaign=campaign)}
    assert set(leads) == {
        "ada@example.com",
        "grace@navy.example",
        "bob@example.org",
        "joe@gmail.com",
        "linus@kernel.example",
    }
    assert leads["bob@example.org"].country == ""
    ada = leads["ada@example.com"]
    assert (ada.email, ada.first_name, ada.last_name, ada.title, ada.country) == (
        "Ada@Example.com",
        "Ada",
        "Lovelace",
        "CTO",
        "GB",
    )
    assert ada.source_import == report and ada.state == "new"
    assert AuditEvent.objects.filter(verb="leads.imported", campaign=campaign, actor=operator).exists()

    again = import_leads_from_csv(campaign=campaign, file=messy_file(csv_bytes))
    assert again.inserted == 0 and again.flagged == 0  # nothing imported, nothing flagged
    assert again.duplicates_in_campaign == 5 and again.duplicates_in_file == 2
    assert Lead.objects.filter(campaign=campaign).count() == 5


@pytest.mark.django_db
def test_small_batches_give_the_same_report(campaign, csv_bytes):
    add_suppression(domain="blocked.example", reason="manual_dnc", client=campaign.client)
    report = import_leads_from_csv(campaign=campaign, file=messy_file(csv_bytes), batch_size=1)
    check_messy_report(report)


@pytest.mark.django_db
def test_latin1_file_and_tab_delimiter(campaign):
    data = "email\tfirst_name\tcompany\nzoe@example.com\tZoë\tCafé Größe\n".encode("latin-1")
    report = import_leads_from_csv(campaign=campaign, file=io.BytesIO(data))
    assert report.encoding == "latin-1" and report.delimiter == "\t"
    lead = Lead.objects.get(campaign=campaign)
    assert (lead.first_name, lead.company) == ("Zoë", "Café Größe")


@pytest.mark.django_db
def test_explicit_mapping_overrides_aliases(campaign, csv_bytes):
    file = csv_bytes("Private Mail,Work Address,Given", "me@home.example,pat@work.example,Pat")
    report = import_leads_from_csv(
        campaign=campaign, file=file, mapping="email=Work Address,first_name=Given"
    )
    assert report.inserted == 1
    assert Lead.objects.get(campaign=campaign).email == "pat@work.example"
    assert report.column_mapping == {"email": "Work Address", "first_name": "Given"}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("lines", "mapping", "message"),
    [
        (["name,company", "x,y"], None, "no email column"),
        (["email", "a@example.com"], "email=Mail", "no such column"),
        (["email", "a@example.com"], "shoe_size=email", "Unknown lead field"),
        ([""], None, "empty"),
    ],
)
def test_unusable_files_are_refused_with_a_clear_message(campaign, csv_bytes, lines, mapping, message):
    with pytest.raises(DomainError) as err:
        import_leads_from_csv(campaign=campaign, file=csv_bytes(*lines), mapping=mapping)
    assert message in str(err.value)


@pytest.mark.django_db
def test_over_long_values_and_unknown_time_zones_are_flagged_not_rejected(campaign, csv_bytes):
    file = csv_bytes(
        "email,company,timezone",
        f"a@example.com,{'x' * 201},Europe/Berlin",
        "b@example.com,Acme,Mars/Olympus",
        "c@example.com,Acme,europe/berlin",
    )
    report = import_leads_from_csv(campaign=campaign, file=file)
    assert (report.inserted, report.invalid, report.flagged) == (3, 0, 2)
    reasons = dict(report.issues.values_list("field", "reason"))
    assert reasons["company"] == "company too long: 201 characters, at most 200; left empty."
    assert "time zone 'Mars/Olympus' not recognised" in reasons["timezone"]
    leads = {lead.email: lead for lead in Lead.objects.filter(campaign=campaign)}
    assert (leads["a@example.com"].company, leads["a@example.com"].timezone) == ("", "Europe/Berlin")
    assert (leads["b@example.com"].company, leads["b@example.com"].timezone) == ("Acme", "")
    assert leads["c@example.com"].timezone == "Europe/Berlin"  # the tz database's spelling


@pytest.mark.django_db
def test_erased_and_global_suppressions_are_reported_not_inserted(campaign, csv_bytes):
    add_suppression(email="gone@example.com", reason="hard_bounce")
    report = import_leads_from_csv(
        campaign=campaign, file=csv_bytes("email", "Gone@example.com", "ok@example.com")
    )
    assert (report.inserted, report.suppressed) == (1, 1)


@pytest.mark.django_db
def test_api_push_records_go_through_the_same_checks(campaign):
    report = import_lead_records(
        campaign=campaign,
        records=[
            {"email": "a@example.com", "Job Title": "CEO"},
            {"email": "A@example.com"},
            {"email": "nope"},
        ],
    )
    assert (report.inserted, report.duplicates_in_file, report.invalid) == (1, 1, 1)
    assert Lead.objects.get(campaign=campaign).title == "CEO"
    assert Lead.objects.get(campaign=campaign).source == "api"


@pytest.mark.django_db
def test_report_as_data_lists_issues(campaign, csv_bytes):
    report = import_leads_from_csv(campaign=campaign, file=csv_bytes("email", "x", "a@example.com"))
    data = lead_import_report(report)
    assert data["inserted"] == 1 and data["invalid"] == 1 and data["issues_total"] == 1
    assert data["issues"][0]["row_number"] == 2 and data["issues"][0]["field"] == "email"


ADDRESSES = [
    "a@example.com",
    "A@example.com",
    "b@example.com",
    "b.x@gmail.com",
    "bx+1@gmail.com",
    "bad",
    "c@x.io",
]


@pytest.mark.django_db
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.sampled_from(ADDRESSES), min_size=1, max_size=12), data=st.data())
def test_dedup_gives_the_same_result_in_any_row_order(rows, data, csv_bytes):
    shuffled = data.draw(st.permutations(rows))
    results = []
    for ordering in (rows, shuffled):
        campaign = CampaignFactory()
        report = import_leads_from_csv(campaign=campaign, file=csv_bytes("email", *ordering), batch_size=3)
        stored = set(Lead.objects.filter(campaign=campaign).values_list("normalized_email", flat=True))
        results.append(
            (
                stored,
                report.inserted,
                report.duplicates_in_file + report.duplicates_in_campaign,
                report.invalid,
            )
        )
    assert results[0] == results[1]


@pytest.mark.django_db
def test_a_crash_mid_file_keeps_committed_batches_and_a_rerun_inserts_the_rest(
    campaign, csv_bytes, monkeypatch
):
    from django.db import connection

    from leads import importers

    lines = ["email", *[f"p{i}@example.com" for i in range(9)]]
    writer_class = (
        importers.PostgresBatchWriter if connection.vendor == "postgresql" else importers.OrmBatchWriter
    )
    original_write = writer_class.write
    calls = []

    def crash_on_second_batch(self, lead_import, batch, now):
        calls.append(len(batch.leads))
        counts = original_write(self, lead_import, batch, now)  # rows written, then the crash
        if len(calls) == 2:
            raise RuntimeError("power cut")
        return counts

    monkeypatch.setattr(writer_class, "write", crash_on_second_batch)
    with pytest.raises(RuntimeError):
        import_leads_from_csv(campaign=campaign, file=csv_bytes(*lines), batch_size=3)
    failed = campaign.lead_imports.get()
    assert failed.status == LeadImportStatus.FAILED and "power cut" in failed.error
    assert failed.inserted == 3 and failed.rows_read == 3  # the report matches what was committed
    assert set(Lead.objects.filter(campaign=campaign).values_list("email", flat=True)) == {
        "p0@example.com",
        "p1@example.com",
        "p2@example.com",
    }

    monkeypatch.setattr(writer_class, "write", original_write)
    rerun = import_leads_from_csv(campaign=campaign, file=csv_bytes(*lines), batch_size=3)
    assert (rerun.inserted, rerun.duplicates_in_campaign) == (6, 3)
    assert Lead.objects.filter(campaign=campaign).count() == 9


@pytest.mark.django_db
def test_final_campaigns_take_no_leads(campaign_in_state, csv_bytes):
    cancelled = campaign_in_state("cancelled")
    with pytest.raises(DomainError, match="takes no new leads"):
        import_leads_from_csv(campaign=cancelled, file=csv_bytes("email", "a@example.com"))


@pytest.mark.django_db
def test_an_unreadable_line_stops_the_import_naming_the_line(campaign):
    huge = "x" * (200 * 1024)
    data = f'email,notes\na@example.com,ok\nb@example.com,"{huge}"\n'.encode()
    with pytest.raises(DomainError, match="Line 3"):
        import_leads_from_csv(campaign=campaign, file=io.BytesIO(data))
    assert campaign.lead_imports.get().status == LeadImportStatus.FAILED


@pytest.mark.django_db
def test_awkward_characters_survive_the_bulk_path(campaign):
    data = b'email,company,title\na@example.com,"Back\\\\slash\tTab","Two\nlines"\n'
    report = import_leads_from_csv(campaign=campaign, file=io.BytesIO(data))
    assert report.inserted == 1
    lead = Lead.objects.get(campaign=campaign)
    assert (lead.company, lead.title) == ("Back\\\\slash\tTab", "Two\nlines")
