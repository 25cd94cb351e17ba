from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from leads.models import Lead, Suppression


@pytest.mark.django_db
def test_import_leads_command_prints_a_summary_and_reimports_nothing(campaign, tmp_path):
    path = tmp_path / "leads.csv"
    path.write_text("Work Email,Given\nann@example.com,Ann\nbad-address,Bob\nANN@example.com,Ann\n")
    out, err = io.StringIO(), io.StringIO()
    call_command(
        "import_leads",
        str(campaign.pk),
        str(path),
        "--mapping",
        "email=Work Email,first_name=Given",
        stdout=out,
        stderr=err,
    )
    text = out.getvalue()
    assert "3 rows read" in text and "rows/s" in text
    assert "inserted" in text and "row 3: email" in text
    assert "rows" in err.getvalue()  # the progress bar
    assert Lead.objects.get(campaign=campaign).first_name == "Ann"

    out = io.StringIO()
    call_command(
        "import_leads",
        str(campaign.pk),
        str(path),
        "--mapping",
        "email=Work Email",
        "--no-progress",
        stdout=out,
    )
    assert "inserted                           0" in out.getvalue()
    assert Lead.objects.filter(campaign=campaign).count() == 1


@pytest.mark.django_db
def test_import_leads_command_errors_are_clear(campaign, tmp_path):
    with pytest.raises(CommandError, match="does not exist"):
        call_command("import_leads", "999999", str(tmp_path / "x.csv"))
    with pytest.raises(CommandError, match="No such file"):
        call_command("import_leads", str(campaign.pk), str(tmp_path / "missing.csv"))
    path = tmp_path / "no-email.csv"
    path.write_text("name\nAnn\n")
    with pytest.raises(CommandError, match="no email column"):
        call_command("import_leads", str(campaign.pk), str(path), "--no-progress")


@pytest.mark.django_db
def test_forget_person_command(campaign):
    out = io.StringIO()
    call_command("forget_person", "someone@example.com", "--reason", "ticket 9", stdout=out)
    assert "Erased" in out.getvalue()
    assert Suppression.objects.filter(kind="erased_email").count() == 1
