"""'Send a test to me': one email creative, rendered for a sample or a picked lead, to the operator's
own address through the campaign's sending path.

The same path as outreach's sends (``outreach/services/sending/provider.py``): the configured email
backend (``get_connection()``), an ``EmailMultiAlternatives`` with the text body and the HTML part,
From the campaign's sender (``creative.preview.sender_for``: its sequence's mailbox). What makes it
a test and nothing else:

- the subject starts with ``[TEST]`` and the ``X-AICMO-Test`` header names the creative;
- it is never outreach: no Message row (so no cap, no budget booking, no cost, no metrics), no
  ``X-AICMO-Message`` header or ``aicmo_message_id`` metadata (an ESP's events for it match nothing),
  and it goes only to the requesting user's own address;
- an AuditEvent ``creative.test_send`` records each attempt (``creative.test_send_failed`` a
  failure), and those events are the throttle: at most ``CREATIVE_TEST_SENDS_PER_HOUR`` per user in
  any hour;
- like every send, none while the system pause is on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.utils import timezone

from campaigns.errors import DomainError
from campaigns.models import AuditEvent, User
from campaigns.services.audit import record_audit_event
from campaigns.services.system_pause import ensure_system_not_paused

from ..models import CreativeVariant, Platform
from ..preview import sender_for
from .rendering import render_for_lead

TEST_SUBJECT_PREFIX = "[TEST] "
TEST_HEADER = "X-AICMO-Test"
SENT_VERB = "creative.test_send"
FAILED_VERB = "creative.test_send_failed"
WINDOW = timedelta(hours=1)


class TestSendLimitError(DomainError):
    """The user has had their test sends for this hour."""

    __test__ = False  # not a pytest test class, whatever its name
    code = "test_send_limit"


@dataclass(frozen=True)
class TestSendResult:
    __test__ = False

    to_email: str
    from_email: str
    subject: str
    lead_id: int | None
    missing: tuple[str, ...]  # merge fields that rendered empty for this lead


def _reserve(actor: User, variant: CreativeVariant, metadata: dict) -> None:
    """Count the user's test sends of the last hour and record this one, under a lock on the user's
    row so two requests at once cannot both take the last one."""
    limit = settings.CREATIVE_TEST_SENDS_PER_HOUR
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=actor.pk).first()
        now = timezone.now()
        recent = list(
            AuditEvent.objects.filter(actor=actor, verb=SENT_VERB, created_at__gt=now - WINDOW)
            .order_by("created_at")
            .values_list("created_at", flat=True)[:limit]
        )
        if len(recent) >= limit:
            wait = max(1, int((recent[0] + WINDOW - now).total_seconds()) + 1)
            raise TestSendLimitError(
                f"You have sent {limit} test emails in the last hour, the most allowed "
                f"(CREATIVE_TEST_SENDS_PER_HOUR); try again in {wait // 60 + 1} minute(s).",
                retry_after=wait,
            )
        record_audit_event(
            verb=SENT_VERB, actor=actor, campaign=variant.campaign, target=variant, metadata=metadata
        )


def send_test_email(
    *, variant: CreativeVariant | int, actor: User, lead_id: int | None = None
) -> TestSendResult:
    """Send ``variant`` rendered for ``lead_id`` (a lead of its campaign; None: the sample lead) to
    ``actor.email``. Raises DomainError (no address, not an email, lead elsewhere, system paused,
    backend failure) or TestSendLimitError."""
    variant_id = variant.pk if isinstance(variant, CreativeVariant) else int(variant)
    variant = CreativeVariant.objects.select_related("campaign").filter(pk=variant_id).first()
    if variant is None:
        raise DomainError(f"Creative {variant_id} does not exist.")
    if variant.platform != Platform.EMAIL:
        raise DomainError(
            f"Creative {variant.pk} is a {variant.get_platform_display()} post; only emails can be sent "
            "as a test.",
            field="creative",
        )
    to_email = (getattr(actor, "email", "") or "").strip()
    if not to_email:
        raise DomainError(
            "Your user has no email address, so there is nowhere to send the test: add one to your "
            "user account (ask an admin), then try again.",
            field="email",
        )
    ensure_system_not_paused()
    rendered = render_for_lead(variant=variant, lead_id=lead_id)
    from_email = sender_for(campaign=variant.campaign)
    # A subject is one line: a merge value with a line break must not start new headers.
    subject = TEST_SUBJECT_PREFIX + " ".join(rendered.subject.split())
    metadata = {"to": to_email, "from": from_email, "subject": subject, "lead": lead_id}
    _reserve(actor, variant, metadata)
    email = EmailMultiAlternatives(
        subject=subject,
        body=rendered.body,
        from_email=from_email,
        to=[to_email],
        headers={TEST_HEADER: f"creative={variant.pk}; campaign={variant.campaign_id}"},
    )
    if rendered.body_html:
        email.attach_alternative(rendered.body_html, "text/html")
    # Read by anymail ESP backends (ignored by others): a tag to filter tests out of ESP stats, and no
    # aicmo_message_id, so tracking events for this email are never matched to outreach.
    email.metadata = {"aicmo_test": "1", "creative_id": str(variant.pk)}
    email.tags = ["aicmo-test"]
    try:
        connection = get_connection(fail_silently=False)
        sent = connection.send_messages([email])
        if not sent:
            raise RuntimeError("the email backend accepted nothing (0 messages sent)")
    except Exception as exc:  # any backend's failure (SMTP, an ESP's API): recorded and explained
        error = f"{type(exc).__name__}: {exc}"[:500]
        record_audit_event(
            verb=FAILED_VERB,
            actor=actor,
            campaign=variant.campaign,
            target=variant,
            metadata={**metadata, "error": error},
        )
        raise DomainError(f"The test email to {to_email} could not be sent: {error}") from exc
    return TestSendResult(to_email, from_email, subject, lead_id, rendered.missing)
