"""The named rows that carry a checked row to the writers: their fields are the models' columns,
so the ORM, the PostgreSQL batch COPY and the file path's COPY all write what the names say."""

from __future__ import annotations

from leads.importers.columns import IMPORTABLE_FIELDS, resolve_columns
from leads.importers.rows import LEAD_COLUMNS, IssueRow, LeadRow, RowPlan, check_row, make_issue
from leads.models import ImportIssueKind, Lead, LeadImport, LeadImportIssue


def test_an_issue_row_names_the_issue_model_columns_in_copy_order():
    model_columns = [f.name for f in LeadImportIssue._meta.concrete_fields]
    assert set(IssueRow._fields) <= set(model_columns)
    issue = make_issue(7, ImportIssueKind.INVALID, "email", "r" * 5000, "v" * 5000)
    saved = issue.to_model(LeadImport(pk=3))
    assert (saved.lead_import_id, saved.row_number, saved.kind, saved.field) == (3, 7, "invalid", "email")
    # make_issue cuts the reason and value to what the columns hold.
    assert len(saved.reason) == LeadImportIssue._meta.get_field("reason").max_length
    assert len(saved.value) == LeadImportIssue._meta.get_field("value").max_length


def test_a_lead_row_flattens_in_lead_column_order_and_fills_lead_fields_by_name():
    values = [f"{name}-value" for name in IMPORTABLE_FIELDS]
    lead = LeadRow(4, "Ann@Example.com", "ann@example.com", "example.com", values)
    flat = lead.as_db_row()
    assert flat[0] == 4 and len(flat) == 1 + len(LEAD_COLUMNS)
    fields = lead.model_fields()
    assert list(fields) == list(LEAD_COLUMNS)
    assert dict(zip(LEAD_COLUMNS, flat[1:], strict=True)) == fields
    assert fields["normalized_email"] == "ann@example.com" and fields["email_domain"] == "example.com"
    assert fields["company"] == "company-value"
    model_fields = {f.name for f in Lead._meta.concrete_fields}
    assert set(fields) <= model_fields


def test_check_row_reports_by_name_what_it_kept_and_what_it_flagged():
    layout = resolve_columns(["email", "full_name", "country", "timezone"], {})
    plan = RowPlan.for_layout(layout)
    checked = check_row(2, [" Ann@Example.COM ", "Ann Smith", "Narnia", "europe/berlin"], plan)
    assert checked.raw_email == " Ann@Example.COM " and checked.normalized == "ann@example.com"
    assert not checked.problems
    values = dict(zip(IMPORTABLE_FIELDS, checked.values, strict=True))
    assert values["first_name"] == "Ann" and values["last_name"] == "Smith"
    assert values["country"] == "" and values["timezone"] == "Europe/Berlin"
    [warning] = checked.warnings
    assert (warning.row_number, warning.kind, warning.field) == (2, "flagged", "country")
    assert warning.value == "Narnia"

    rejected = check_row(3, ["not-an-address", "", "", ""], plan)
    assert rejected.normalized == "" and [p.field for p in rejected.problems] == ["email"]
    [problem] = rejected.problems
    assert problem.kind == ImportIssueKind.INVALID and problem.value == "not-an-address"
