"""Scheduled client reports: numbers identical to the dashboard's, periods in the client's time
zone, the review gate (held until approved, skipped, or sent at once when the client's settings
say so), and a real SMTP server receiving the email with its PDF."""

from __future__ import annotations

import datetime as dt
import email
from email import policy

import pytest
from django.core.management import call_command
from django.urls import reverse

from campaigns.models import AuditEvent
from deliverables.models import ClientReport, ClientReportSettings, Frequency, ReportSchedule, ReportState
from deliverables.selectors import last_complete_period
from deliverables.services import (
    approve_report,
    build_client_report,
    build_due_reports,
    edit_commentary,
    report_pdf_bytes,
    skip_report,
)
from leads.models import Lead
from reporting.services import record_outcome
from tests.deliverables.conftest import add_leads, add_messages, pdf_text
from tests.factories import ClientUserFactory

RECIPIENTS = "ceo@client.example, marketing@client.example"


@pytest.fixture
def reported_campaign(ab_campaign, operator):
    """A live A/B campaign with leads in every stage, live sends with opens and replies, a won deal."""
    campaign, (a, b) = ab_campaign
    add_leads(campaign, {"new": 7, "qualified": 3})
    add_messages(campaign, a, n=40, events={"opened": 18, "replied": 4})
    add_messages(campaign, b, n=40, events={"opened": 9, "replied": 1})
    lead = Lead.objects.filter(campaign=campaign, state="qualified").first()
    record_outcome(lead=lead, deal_value="1250.00", actor=operator)
    ClientReportSettings.objects.create(client=campaign.client, recipients=RECIPIENTS)
    return campaign


def _funnel_row(text: str) -> list[int]:
    """The numbers under the funnel's header row (Leads, Contacted+, Replied+, Qualified, Won)."""
    lines = [line for line in text.splitlines() if line.strip()]
    header = next(i for i, line in enumerate(lines) if "Contacted+" in line and "Replied+" in line)
    return [int(n) for n in lines[header + 1].split()]


def _figure(rate: float) -> str:
    return f"{rate * 100:.1f}%"


def test_report_numbers_are_the_dashboards_and_the_pdf_shows_them(reported_campaign, api_as, operator):
    campaign = reported_campaign

    report = build_client_report(client=campaign.client, campaign=campaign)

    dashboard = api_as(operator).get(f"/api/v1/campaigns/{campaign.pk}/reports/executive/").json()
    week = api_as(operator).get(f"/api/v1/campaigns/{campaign.pk}/reports/metrics/?days=7").json()
    (section,) = report.numbers["campaigns"]
    assert section["kpis"] == dashboard["kpis"]
    assert section["next_actions"] == dashboard["next_actions"]
    assert section["period_outreach"] == week["last_days_outreach"]
    # and the database agrees with both
    assert section["kpis"]["leads_total"] == Lead.objects.filter(campaign=campaign).count()
    assert section["kpis"]["won_deals"] == 1 and section["kpis"]["revenue"] == "1250.00"
    assert section["period_outreach"]["live_sent"] == 80
    assert section["period_outreach"]["replied"] == 5

    text = pdf_text(report_pdf_bytes(report))
    assert campaign.name in text and "Northwind Growth Partners" in text
    assert _funnel_row(text) == [stage["count"] for stage in section["funnel"]]
    assert section["funnel"][0]["count"] == section["kpis"]["leads_total"]
    assert _figure(section["period_outreach"]["reply_rate"]) in text  # 5 / 80 = 6.3 %
    assert _figure(section["period_outreach"]["open_rate"]) in text
    assert "1250.00" in text
    for step in section["ab"]:
        assert step["reply_rate_test"]["explanation"].split(".")[0] in text.replace("\n", " ")


def test_weekly_and_monthly_periods_end_at_midnight_in_the_clients_zone():
    sunday_evening_utc = dt.datetime(2026, 3, 1, 20, 0, tzinfo=dt.UTC)  # Monday 09:00 in Auckland
    assert last_complete_period(Frequency.WEEKLY, "UTC", sunday_evening_utc) == (
        dt.date(2026, 2, 16),
        dt.date(2026, 2, 22),
    )
    assert last_complete_period(Frequency.WEEKLY, "Pacific/Auckland", sunday_evening_utc) == (
        dt.date(2026, 2, 23),
        dt.date(2026, 3, 1),
    )
    new_year_utc = dt.datetime(2026, 12, 31, 12, 0, tzinfo=dt.UTC)  # Jan 1 in Auckland
    assert last_complete_period(Frequency.MONTHLY, "UTC", new_year_utc) == (
        dt.date(2026, 11, 1),
        dt.date(2026, 11, 30),
    )
    assert last_complete_period(Frequency.MONTHLY, "Pacific/Auckland", new_year_utc) == (
        dt.date(2026, 12, 1),
        dt.date(2026, 12, 31),
    )


def _messages(sink) -> list[email.message.EmailMessage]:
    return [email.message_from_bytes(raw, policy=policy.default) for _, _, raw in sink.envelopes]


def test_a_scheduled_report_is_held_until_an_operator_approves_it_then_reaches_smtp(
    reported_campaign, smtp_sink, client, operator_role_user, frozen_now
):
    campaign = reported_campaign
    ReportSchedule.objects.create(client=campaign.client, campaign=campaign, frequency=Frequency.WEEKLY)

    counts = build_due_reports()
    assert counts == {"built": 1, "auto_approved": 0, "sent": 0, "held": 1}
    frozen_now.shift(dt.timedelta(days=3))
    assert build_due_reports()["built"] == 0  # the same week is built once
    assert smtp_sink.envelopes == []  # unreviewed: held, never sent
    report = ClientReport.objects.get()
    assert report.state == ReportState.DRAFT
    assert (report.period_start, report.period_end) == (dt.date(2026, 2, 23), dt.date(2026, 3, 1))

    client.force_login(operator_role_user)
    change = reverse("admin:deliverables_clientreport_change", args=[report.pk])
    assert client.get(change).status_code == 200
    saved = client.post(change, {"commentary": "Strong week: variant A leads on replies."})
    assert saved.status_code == 302, saved.content.decode()[:2000]
    approved = client.post(
        reverse("admin:deliverables_clientreport_changelist"),
        {"action": "approve_and_send", "_selected_action": [report.pk], "rationale": "numbers checked"},
    )
    assert approved.status_code == 302

    report.refresh_from_db()
    assert report.state == ReportState.SENT and report.reviewed_by == operator_role_user
    ((_sender, rcpt_tos, _),) = smtp_sink.envelopes
    assert sorted(rcpt_tos) == ["ceo@client.example", "marketing@client.example"]
    (message,) = _messages(smtp_sink)
    assert "Northwind Growth Partners" in message["Subject"]
    html = message.get_body(preferencelist=("html",)).get_content()
    assert campaign.name in html and "Strong week" in html
    (attachment,) = list(message.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    text = pdf_text(attachment.get_content())
    assert campaign.name in text and "Strong week: variant A leads on replies." in text
    sent = AuditEvent.objects.get(verb="client_report.sent")
    assert (
        sent.metadata["recipients"] == report.recipients
        and sent.metadata["reviewed_by"] == operator_role_user.username
    )
    # sent once: approving again is refused, beat finds nothing to send
    assert build_due_reports()["sent"] == 0 and len(smtp_sink.envelopes) == 1


def test_a_skipped_report_is_never_sent(reported_campaign, smtp_sink, operator_role_user):
    campaign = reported_campaign
    ReportSchedule.objects.create(client=campaign.client, frequency=Frequency.MONTHLY)
    build_due_reports()
    report = ClientReport.objects.get()
    assert report.campaign is None and [c["campaign_id"] for c in report.numbers["campaigns"]] == [
        campaign.pk
    ]

    skip_report(report=report, actor=operator_role_user, rationale="client on holiday")
    build_due_reports()

    report.refresh_from_db()
    assert report.state == ReportState.SKIPPED and smtp_sink.envelopes == []
    assert AuditEvent.objects.filter(verb="client_report.skipped", rationale="client on holiday").exists()


def test_send_without_review_sends_as_soon_as_built(reported_campaign, smtp_sink):
    campaign = reported_campaign
    ClientReportSettings.objects.filter(client=campaign.client).update(send_without_review=True)
    ReportSchedule.objects.create(client=campaign.client, campaign=campaign)

    assert build_due_reports() == {"built": 1, "auto_approved": 1, "sent": 1, "held": 0}

    report = ClientReport.objects.get()
    assert report.state == ReportState.SENT and report.reviewed_by is None
    assert len(smtp_sink.envelopes) == 1


def test_a_failed_send_stays_approved_and_beat_sends_it_later(
    reported_campaign, smtp_sink, operator_role_user, settings
):
    campaign = reported_campaign
    report = build_client_report(client=campaign.client, campaign=campaign)
    sink_port, settings.EMAIL_PORT = settings.EMAIL_PORT, 9  # nothing listens on 9
    report = approve_report(report=report, actor=operator_role_user)
    assert report.state == ReportState.APPROVED and report.last_error and report.send_attempts == 1
    assert AuditEvent.objects.filter(verb="client_report.send_failed").count() == 1

    settings.EMAIL_PORT = sink_port
    assert build_due_reports()["sent"] == 1
    report.refresh_from_db()
    assert report.state == ReportState.SENT and len(smtp_sink.envelopes) == 1


def test_only_a_draft_is_edited_and_client_users_cannot_review(reported_campaign, operator_role_user):
    campaign = reported_campaign
    report = build_client_report(client=campaign.client, campaign=campaign)
    client_user = ClientUserFactory(client=campaign.client)
    from campaigns.errors import ActionNotPermittedError, TransitionNotAllowedError

    with pytest.raises(ActionNotPermittedError):
        approve_report(report=report, actor=client_user)
    skip_report(report=report, actor=operator_role_user, rationale="not this week")
    with pytest.raises(TransitionNotAllowedError):
        edit_commentary(report=report, commentary="late words", actor=operator_role_user)


def test_client_report_command_builds_and_sends(reported_campaign, smtp_sink, capsys):
    campaign = reported_campaign
    call_command("client_report", str(campaign.pk))
    assert ClientReport.objects.get().state == ReportState.DRAFT and smtp_sink.envelopes == []
    call_command("client_report", str(campaign.pk), "--send")
    assert ClientReport.objects.filter(state=ReportState.SENT).count() == 1
    assert len(smtp_sink.envelopes) == 1 and "Sent to ceo@client.example" in capsys.readouterr().out
