"""`manage.py demo` prints a report whose numbers are the database's, and can run again."""

from __future__ import annotations

import io
import re
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db.models import Sum

from campaigns.models import AuditEvent, Campaign, CampaignState
from leads.models import Lead, LeadImport, LeadState, Suppression
from outreach.models import InboundReply, Message, MessageEvent, MessageEventKind, MessageState
from reporting.models import Outcome

pytestmark = pytest.mark.django_db(transaction=False)


def run_demo() -> str:
    out = io.StringIO()
    call_command("demo", stdout=out)
    return out.getvalue()


def number(text: str, label: str) -> int:
    """The count printed after a row label (``Emails sent    72``, ``  Replied   1  ▌``)."""
    found = re.search(rf"^\s*{re.escape(label)}\s+(\d+)\b", text, flags=re.MULTILINE)
    assert found, f"{label!r} not in the report"
    return int(found.group(1))


def test_demo_report_matches_the_database_and_a_second_run_makes_a_second_campaign():
    first = run_demo()
    campaign = Campaign.objects.get(name__endswith="#1")
    live = Message.objects.filter(campaign=campaign, state=MessageState.SENT, dry_run=False)
    events = MessageEvent.objects.filter(campaign=campaign)
    leads = Lead.objects.filter(campaign=campaign)

    # The import table is the LeadImport row, and every row of the file is accounted for.
    lead_import = LeadImport.objects.get(campaign=campaign)
    assert number(first, "Rows read") == lead_import.rows_read == 48
    # One row has a country the import does not know: the lead is kept with that field flagged.
    assert number(first, "Inserted") == lead_import.inserted == leads.count() == 41
    assert lead_import.flagged == 1
    assert number(first, "Duplicates in the file") == lead_import.duplicates_in_file == 3
    assert number(first, "Invalid") == lead_import.invalid == 2
    assert number(first, "Suppressed") == lead_import.suppressed == 2
    assert number(first, "Blank lines") == lead_import.blank_lines == 1

    # Outreach counts are the messages and webhook events stored.
    assert number(first, "Emails sent") == live.count() > 20  # more than one day's cap: several days ran
    per_message = {
        "Opened": MessageEventKind.OPENED,
        "Clicked": MessageEventKind.CLICKED,
        "Replied": MessageEventKind.REPLIED,
    }
    for label, kind in per_message.items():
        printed = re.search(rf"^{label}\s+(\d+)\s+[\d.]+%", first, flags=re.MULTILINE)
        stored = events.filter(kind=kind).values("message").distinct().count()
        assert int(printed.group(1)) == stored, label
    assert (
        number(first, "Hard bounces") == events.filter(kind=MessageEventKind.BOUNCED, hard=True).count() == 1
    )
    assert number(first, "Complaints") == events.filter(kind=MessageEventKind.COMPLAINED).count() == 1

    # The funnel counts people.
    assert number(first, "Leads in the campaign") == leads.count()
    assert number(first, "Emailed") == live.values("lead").distinct().count()
    assert number(first, "Replied") == 1  # the out-of-office is stored but is not a reply
    assert InboundReply.objects.filter(campaign=campaign, is_auto_reply=True).count() == 1
    assert InboundReply.objects.filter(campaign=campaign, is_auto_reply=False).count() == 1
    assert number(first, "Won") == leads.filter(state=LeadState.WON).count() == 1

    # Money: revenue is the recorded outcome; the bounce and the complaint suppressed their address.
    revenue = Outcome.objects.filter(campaign=campaign).aggregate(total=Sum("deal_value"))["total"]
    assert revenue == Decimal("18000")
    assert re.search(r"^Revenue \(won deals\)\s+18000\.00$", first, flags=re.MULTILINE)
    for kind in (MessageEventKind.BOUNCED, MessageEventKind.COMPLAINED):
        address = events.get(kind=kind).message.lead.normalized_email
        assert Suppression.objects.filter(value=address).exists(), kind

    # The circuit breaker paused on the complaint; the approver resumed with a reason.
    assert campaign.audit_events.filter(
        verb="campaign.paused", rationale__startswith="Circuit breaker"
    ).exists()
    assert "cycle skipped: campaign is paused" in first
    campaign.refresh_from_db()
    assert campaign.state == CampaignState.ACTIVE

    # The timeline answers who approved what, when and why.
    approval = AuditEvent.objects.get(campaign=campaign, verb="strategy.approved")
    assert approval.actor.username == "approver"
    line = next(line for line in first.splitlines() if "strategy.approved" in line)
    assert "approver" in line and approval.rationale[:40] in line
    assert (
        approval.created_at.strftime("%d %b") in line
        or approval.created_at.astimezone().strftime("%d %b") in line
    )

    second = run_demo()
    assert Campaign.objects.filter(name__startswith="Demo: fleet managers").count() == 2
    again = Campaign.objects.get(name__endswith="#2")
    # The first run's bounce and complaint are on the client's suppression list now.
    assert LeadImport.objects.get(campaign=again).suppressed == 4
    assert (
        number(second, "Emails sent")
        == Message.objects.filter(campaign=again, state=MessageState.SENT, dry_run=False).count()
    )
