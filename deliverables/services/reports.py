"""Client reports: the only writer of ``ClientReport``, ``ReportSchedule`` and
``ClientReportSettings`` rows.

A report is built as a draft with its numbers frozen (the dashboard's selectors at that moment,
``selectors.campaign_report_numbers``). It is sent only once approved: by an operator (who may
edit the commentary first, or skip it), or at once by the system when the client's settings say
"send without review". A draft nobody reviews stays a draft: held, never sent.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from email.mime.image import MIMEImage
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.mail import EmailMultiAlternatives
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone

from campaigns.actors import acting_user
from campaigns.errors import DomainError, TransitionNotAllowedError
from campaigns.models import Campaign, Client, User
from campaigns.permissions import require_action_unless_system
from campaigns.services.audit import record_audit_event
from campaigns.timezones import zone_or_utc

from ..models import ClientReport, ClientReportSettings, Frequency, ReportSchedule, ReportState
from ..rendering import branding, render_pdf
from ..selectors import (
    active_schedules,
    campaign_report_numbers,
    campaigns_for_report,
    last_complete_period,
    period_days,
    recipients_of,
    report_exists,
    report_settings_for,
    report_timezone,
    reports_to_send,
)
from ..storage import deliverables_storage

logger = logging.getLogger(__name__)
LOGO_CID = "agency-logo"


# --- settings and schedules (admin forms call these) ----------------------------------------------


def save_report_settings(
    *, instance: ClientReportSettings, actor: User | None = None
) -> ClientReportSettings:
    """Check the recipients and the time zone, save, and audit who changed them."""
    bad = []
    for address in recipients_of(instance):
        try:
            validate_email(address)
        except ValidationError:
            bad.append(address)
    if bad:
        raise DomainError(f"Not an email address: {', '.join(bad)}.", field="recipients")
    if instance.timezone and str(zone_or_utc(instance.timezone)) != instance.timezone:
        raise DomainError(f"Unknown time zone {instance.timezone!r}.", field="timezone")
    instance.save()
    record_audit_event(
        verb="client_report.settings_changed",
        actor=actor,
        metadata={
            "client": instance.client_id,
            "recipients": recipients_of(instance),
            "timezone": instance.timezone,
            "send_without_review": instance.send_without_review,
        },
    )
    return instance


def save_report_schedule(*, instance: ReportSchedule, actor: User | None = None) -> ReportSchedule:
    if instance.campaign_id and instance.campaign.client_id != instance.client_id:
        raise DomainError("The campaign belongs to another client.", field="campaign")
    instance.save()
    record_audit_event(
        verb="client_report.scheduled",
        actor=actor,
        campaign=instance.campaign,
        target=instance,
        metadata={
            "client": instance.client_id,
            "frequency": instance.frequency,
            "active": instance.is_active,
        },
    )
    return instance


# --- building -------------------------------------------------------------------------------------


def report_title(report: ClientReport) -> str:
    scope = report.campaign.name if report.campaign_id else report.client.name
    kind = "Weekly" if report.frequency == Frequency.WEEKLY else "Monthly"
    return f"{kind} report: {scope}"


def _document_context(report: ClientReport) -> dict[str, Any]:
    tz = zone_or_utc(report.timezone)
    return {
        "title": report_title(report),
        "report": report,
        "client": report.client,
        "campaigns": report.numbers.get("campaigns", []),
        "built_local": report.built_at.astimezone(tz),
    }


def report_pdf_bytes(report: ClientReport) -> bytes:
    return render_pdf("deliverables/report.html", _document_context(report))


def _store_pdf(report: ClientReport) -> None:
    storage = deliverables_storage()
    old = report.pdf.name if report.pdf else ""
    stem = f"deliverables/{report.client.slug}/reports/{report.period_start:%Y-%m-%d}-{secrets.token_hex(6)}"
    report.pdf = storage.save(f"{stem}.pdf", ContentFile(report_pdf_bytes(report)))
    if old:
        transaction.on_commit(lambda: storage.delete(old))


def build_client_report(
    *,
    client: Client,
    frequency: str = Frequency.WEEKLY,
    campaign: Campaign | None = None,
    period: tuple[dt.date, dt.date] | None = None,
    schedule: ReportSchedule | None = None,
    actor: User | None = None,
    now: dt.datetime | None = None,
) -> ClientReport:
    """A draft for the last complete week or month (in the client's zone), or for ``period``."""
    require_action_unless_system(actor, "client_report.review", campaign or client)
    now = now or timezone.now()
    tz_name = report_timezone(client, campaign)
    start, end = period or last_complete_period(frequency, tz_name, now)
    days = period_days(start, end)
    numbers = {
        "campaigns": [
            campaign_report_numbers(c, days=days, now=now) for c in campaigns_for_report(client, campaign)
        ]
    }
    report = ClientReport(
        schedule=schedule,
        client=client,
        campaign=campaign,
        frequency=frequency,
        period_start=start,
        period_end=end,
        timezone=tz_name,
        numbers=numbers,
        built_at=now,
    )
    with transaction.atomic():
        _store_pdf(report)
        report.save()
        record_audit_event(
            verb="client_report.built",
            actor=actor,
            campaign=campaign,
            target=report,
            metadata={"client": client.pk, "period": [str(start), str(end)], "frequency": frequency},
        )
    return report


# --- the review gate ------------------------------------------------------------------------------


def _locked_draft(report: ClientReport | int, actor: User | None, doing: str) -> ClientReport:
    report_id = report.pk if isinstance(report, ClientReport) else report
    locked = (
        ClientReport.objects.select_for_update(of=("self",))
        .select_related("client", "campaign")
        .get(pk=report_id)
    )
    require_action_unless_system(actor, "client_report.review", locked)
    if locked.state != ReportState.DRAFT:
        raise TransitionNotAllowedError(
            f"Report {locked.pk} is {locked.get_state_display().lower()}; only a draft can be {doing}.",
            state=locked.state,
        )
    return locked


def edit_commentary(*, report: ClientReport | int, commentary: str, actor: User | None) -> ClientReport:
    """The agency's words on page one; the PDF is rendered again with them."""
    with transaction.atomic():
        locked = _locked_draft(report, actor, "edited")
        locked.commentary = (commentary or "").strip()
        _store_pdf(locked)
        locked.save(update_fields=["commentary", "pdf"])
        record_audit_event(
            verb="client_report.commentary_edited", actor=actor, campaign=locked.campaign, target=locked
        )
    return locked


def _review(report, actor, rationale: str, state: str, verb: str, doing: str) -> ClientReport:
    with transaction.atomic():
        locked = _locked_draft(report, actor, doing)
        locked.state = state
        locked.reviewed_by = acting_user(actor)
        locked.reviewed_at = timezone.now()
        locked.review_rationale = (rationale or "").strip()
        locked.save(update_fields=["state", "reviewed_by", "reviewed_at", "review_rationale"])
        record_audit_event(
            verb=verb,
            actor=actor,
            campaign=locked.campaign,
            target=locked,
            rationale=locked.review_rationale,
            metadata={"client": locked.client_id},
        )
    return locked


def approve_report(*, report: ClientReport | int, actor: User | None, rationale: str = "") -> ClientReport:
    """Approve a draft and send it (a failed send stays approved and is tried again by beat)."""
    approved = _review(report, actor, rationale, ReportState.APPROVED, "client_report.approved", "approved")
    return send_report(report=approved)


def skip_report(*, report: ClientReport | int, actor: User | None, rationale: str = "") -> ClientReport:
    """This period's report is not sent (the reason is kept)."""
    return _review(report, actor, rationale, ReportState.SKIPPED, "client_report.skipped", "skipped")


# --- sending --------------------------------------------------------------------------------------


def report_email(report: ClientReport, recipients: list[str]) -> EmailMultiAlternatives:
    brand = branding()
    context = {**_document_context(report), "brand": brand, "logo_cid": LOGO_CID if brand.logo_bytes else ""}
    message = EmailMultiAlternatives(
        subject=f"{brand.agency_name}: {context['title']} ({report.period_start:%Y-%m-%d} to "
        f"{report.period_end:%Y-%m-%d})",
        body=render_to_string("deliverables/report_email.txt", context),
        from_email=getattr(settings, "AICMO_REPORTS_FROM_EMAIL", "") or settings.DEFAULT_FROM_EMAIL,
        to=recipients,
    )
    message.attach_alternative(render_to_string("deliverables/report_email.html", context), "text/html")
    if brand.logo_bytes and brand.logo_mime.startswith("image/") and "svg" not in brand.logo_mime:
        logo = MIMEImage(brand.logo_bytes, _subtype=brand.logo_mime.split("/", 1)[1])
        logo.add_header("Content-ID", f"<{LOGO_CID}>")
        logo.add_header("Content-Disposition", "inline", filename="logo")
        message.mixed_subtype = "related"
        message.attach(logo)
    with deliverables_storage().open(report.pdf.name, "rb") as pdf:
        message.attach(
            f"report-{report.client.slug}-{report.period_start:%Y-%m-%d}.pdf", pdf.read(), "application/pdf"
        )
    return message


def send_report(*, report: ClientReport | int) -> ClientReport:
    """Send an approved report to its client's recipients. The row stays locked while the email
    goes out, so two senders (beat and an approval) never send it twice."""
    report_id = report.pk if isinstance(report, ClientReport) else report
    with transaction.atomic():
        locked = (
            ClientReport.objects.select_for_update(of=("self",))
            .select_related("client", "campaign")
            .get(pk=report_id)
        )
        if locked.state != ReportState.APPROVED:
            return locked  # sent meanwhile, or never approved: nothing goes out
        recipients = recipients_of(report_settings_for(locked.client_id))
        locked.send_attempts += 1
        try:
            if not recipients:
                raise DomainError(f"{locked.client} has no report recipients (client report settings).")
            report_email(locked, recipients).send(fail_silently=False)
        except Exception as exc:  # SMTP, ESP or storage: kept on the row, tried again by beat
            locked.last_error = str(exc)[:1000]
            locked.save(update_fields=["send_attempts", "last_error"])
            record_audit_event(
                verb="client_report.send_failed",
                campaign=locked.campaign,
                target=locked,
                rationale=locked.last_error,
                metadata={"client": locked.client_id, "attempt": locked.send_attempts},
            )
            logger.warning("client report %s not sent: %s", locked.pk, exc)
            return locked
        locked.state = ReportState.SENT
        locked.sent_at = timezone.now()
        locked.recipients = recipients
        locked.last_error = ""
        locked.save(update_fields=["state", "sent_at", "recipients", "send_attempts", "last_error"])
        record_audit_event(
            verb="client_report.sent",
            campaign=locked.campaign,
            target=locked,
            metadata={
                "client": locked.client_id,
                "recipients": recipients,
                "period": [str(locked.period_start), str(locked.period_end)],
                "reviewed_by": locked.reviewed_by.get_username() if locked.reviewed_by else "system",
            },
        )
    return locked


# --- what beat runs -------------------------------------------------------------------------------


def build_due_reports(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Each active schedule's last complete period gets its draft (once: a second run finds it);
    clients that send without review have it approved by the system and sent; approved reports
    whose send failed are tried again. Safe to run any number of times a day."""
    now = now or timezone.now()
    counts = {"built": 0, "auto_approved": 0, "sent": 0, "held": 0}
    for schedule in active_schedules():
        client, campaign = schedule.client, schedule.campaign
        start, end = last_complete_period(schedule.frequency, report_timezone(client, campaign), now)
        if report_exists(schedule, start):
            continue
        try:
            with transaction.atomic():
                report = build_client_report(
                    client=client,
                    frequency=schedule.frequency,
                    campaign=campaign,
                    period=(start, end),
                    schedule=schedule,
                    now=now,
                )
        except IntegrityError:
            continue  # another run built it meanwhile
        counts["built"] += 1
        if report_settings_for(client).send_without_review:
            _review(
                report,
                None,
                "the client's settings send reports without review",
                ReportState.APPROVED,
                "client_report.approved",
                "approved",
            )
            counts["auto_approved"] += 1
        else:
            counts["held"] += 1
    for report in reports_to_send():
        if send_report(report=report).state == ReportState.SENT:
            counts["sent"] += 1
    return counts
