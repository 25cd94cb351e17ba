"""Email sequences, enrollments, messages (an FSM with an idempotency key), tracking events, inbound
replies and the cycle lease; the mailboxes they are sent from are in ``mailboxes``."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django_fsm import FSMField, FSMModelMixin, transition

from campaigns.fsm import source_states
from campaigns.models import Campaign
from creative.models import CreativeVariant
from leads.models import Lead

from ..replies.categories import ReplyCategory
from .mailboxes import SendingMailbox

__all__ = [
    "CONFIRMING_EVENT_KINDS",
    "PENDING_STATES",
    "STOPPABLE_ENROLLMENT_STATES",
    "CycleLease",
    "Enrollment",
    "EnrollmentState",
    "InboundReply",
    "Message",
    "MessageEvent",
    "MessageEventDailySummary",
    "MessageEventKind",
    "MessageState",
    "ReplyMatch",
    "ReplySenderMatch",
    "SendResolution",
    "Sequence",
    "SequenceStep",
    "StepVariant",
    "StopReason",
]


class Sequence(models.Model):
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="sequences")
    name = models.CharField(max_length=200)
    mailbox = models.ForeignKey(
        SendingMailbox,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="sequences",
        help_text="Empty: DEFAULT_FROM_EMAIL.",
    )
    # The pool a lead's first step rotates over, with ``mailbox`` (its default); follow-ups stay on
    # the mailbox that sent the first step (outreach.services.sending.sequences).
    mailboxes = models.ManyToManyField(
        SendingMailbox,
        blank=True,
        related_name="pool_sequences",
        verbose_name="mailbox pool",
        help_text="More mailboxes to rotate first emails over, beside the mailbox above.",
    )
    is_active = models.BooleanField(default=True)
    # On by default: cold email reads as one person writing to another, and inbox providers weigh
    # HTML (and its remote images and links) against a sender nobody has written to yet.
    plain_text_only = models.BooleanField(
        default=True,
        help_text="Send the plain-text part only, no HTML (recommended for cold outreach).",
    )
    # Off by default: inbox providers count a tracking pixel and rewritten links against a cold
    # sender. On only with the client's own tracking domain and an HTML part (sequence_tracking).
    track_opens = models.BooleanField(
        default=False,
        help_text="Count opens with the ESP's pixel. Needs the client's tracking domain and HTML.",
    )
    track_clicks = models.BooleanField(
        default=False,
        help_text="Count clicks through the ESP's link redirect (never the unsubscribe link). Needs "
        "the client's tracking domain and HTML.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["campaign_id", "id"]

    def __str__(self) -> str:
        return self.name


class SequenceStep(models.Model):
    sequence = models.ForeignKey(Sequence, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveSmallIntegerField(help_text="1 for the first email.")
    channel = models.CharField(max_length=20, default="email")
    delay_days = models.PositiveSmallIntegerField(
        default=0, help_text="Days after the previous step (after enrollment for step 1)."
    )

    class Meta:
        ordering = ["sequence_id", "position"]
        constraints = [models.UniqueConstraint(fields=["sequence", "position"], name="one_step_per_position")]

    def __str__(self) -> str:
        return f"{self.sequence} · step {self.position}"


class StepVariant(models.Model):
    """An approved creative used by a step; several per step make an A/B test (by weight)."""

    step = models.ForeignKey(SequenceStep, on_delete=models.CASCADE, related_name="variants")
    creative = models.ForeignKey(CreativeVariant, on_delete=models.PROTECT, related_name="step_uses")
    weight = models.PositiveSmallIntegerField(default=1)
    label = models.CharField(max_length=20, help_text="A, B, C… as shown in A/B reports.")

    class Meta:
        ordering = ["step_id", "label"]
        constraints = [models.UniqueConstraint(fields=["step", "label"], name="one_label_per_step")]

    def __str__(self) -> str:
        return f"{self.step} · {self.label}"


class EnrollmentState(models.TextChoices):
    ACTIVE = "active", "Active"
    PAUSED = "paused", "Paused"
    COMPLETED = "completed", "Completed"
    STOPPED = "stopped", "Stopped"


class StopReason(models.TextChoices):
    REPLIED = "replied", "Replied"
    BOUNCED = "bounced", "Bounced"
    UNSUBSCRIBED = "unsubscribed", "Unsubscribed"
    COMPLAINED = "complained", "Complained"
    SUPPRESSED = "suppressed", "Suppressed or not contactable"
    KILLED = "killed", "Campaign killed"
    MANUAL = "manual", "Stopped by an operator"


class Enrollment(FSMModelMixin, models.Model):
    """One lead in one sequence. Delays live here (``next_send_at``), never in Celery countdowns."""

    # Both lead an index below (enrollment_due, one_enrollment_per_lead): no index of their own.
    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="enrollments", db_index=False
    )
    sequence = models.ForeignKey(
        Sequence, on_delete=models.CASCADE, related_name="enrollments", db_index=False
    )
    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="enrollments")
    current_step = models.PositiveSmallIntegerField(default=1, help_text="Position of the next step to send.")
    next_send_at = models.DateTimeField(null=True, blank=True)
    state = FSMField(default=EnrollmentState.ACTIVE, choices=EnrollmentState.choices, protected=True)
    stop_reason = models.CharField(max_length=20, choices=StopReason.choices, blank=True)
    enrolled_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["sequence", "lead"], name="one_enrollment_per_lead")]
        indexes = [models.Index(fields=["campaign", "state", "next_send_at"], name="enrollment_due")]

    def __str__(self) -> str:
        return f"{self.lead_id} in {self.sequence_id} ({self.state})"

    @transition(field=state, source=EnrollmentState.ACTIVE, target=EnrollmentState.PAUSED)
    def pause(self) -> None:
        pass

    @transition(field=state, source=EnrollmentState.PAUSED, target=EnrollmentState.ACTIVE)
    def resume(self) -> None:
        pass

    @transition(field=state, source=EnrollmentState.ACTIVE, target=EnrollmentState.COMPLETED)
    def complete(self) -> None:
        pass

    @transition(
        field=state, source=[EnrollmentState.ACTIVE, EnrollmentState.PAUSED], target=EnrollmentState.STOPPED
    )
    def stop(self) -> None:
        pass


# The enrollments a stop (reply, bounce, kill, …) applies to: the sources of its transition.
STOPPABLE_ENROLLMENT_STATES = source_states(Enrollment, "stop")


class MessageState(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    RETRY_SCHEDULED = "retry_scheduled", "Retry scheduled"
    DEAD = "dead", "Dead"
    CANCELLED = "cancelled", "Cancelled"
    UNKNOWN = "unknown", "Unknown (interrupted after the provider call)"


class SendResolution(models.TextChoices):
    """How a send interrupted after its provider call (``unknown``) was settled as sent."""

    CONFIRMED = "confirmed", "Confirmed by a provider event"
    ASSUMED = "assumed", "Assumed sent: no provider event within the window"


class Message(FSMModelMixin, models.Model):
    """One email of one enrollment step. (enrollment, step) is unique: no lead gets a step twice."""

    # Every index is written twice per email (claim, then send): the campaign, enrollment and
    # mailbox columns lead composite indexes below, so they get no single-column index of their own.
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="messages", db_index=False)
    enrollment = models.ForeignKey(
        Enrollment, on_delete=models.CASCADE, related_name="messages", db_index=False
    )
    step = models.ForeignKey(SequenceStep, on_delete=models.PROTECT, related_name="messages")
    step_variant = models.ForeignKey(StepVariant, on_delete=models.PROTECT, related_name="messages")
    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="messages")
    mailbox = models.ForeignKey(
        SendingMailbox,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="messages",
        db_index=False,
    )
    from_email = models.CharField(max_length=320)
    reply_to = models.CharField(
        max_length=320,
        blank=True,
        help_text="The mailbox's reply-to, else the sender identity's; empty: none.",
    )
    to_email = models.CharField(max_length=320)
    subject = models.CharField(max_length=300)
    body_text = models.TextField()
    body_html = models.TextField(blank=True)
    # Copied from the sequence when scheduled: the send threads read no sequence (compose.py).
    track_opens = models.BooleanField(default=False)
    track_clicks = models.BooleanField(default=False)
    unsubscribe_url = models.CharField(max_length=1000, blank=True, help_text="Signed one-click link.")
    dry_run = models.BooleanField(default=True, help_text="Rendered and recorded; no provider was called.")
    state = FSMField(default=MessageState.SCHEDULED, choices=MessageState.choices, protected=True)
    scheduled_for = models.DateTimeField(help_text="Not before this time (send window, retries).")
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    skip_reason = models.CharField(max_length=300, blank=True)
    provider_message_id = models.CharField(max_length=200, blank=True)
    send_resolution = models.CharField(
        max_length=10,
        choices=SendResolution.choices,
        blank=True,
        help_text="Set when the outcome of an interrupted send was settled: a provider event "
        "confirmed it, or none came within OUTREACH_UNKNOWN_RESOLVE_SECONDS and it counts as sent.",
    )
    cost_unbooked = models.BooleanField(
        default=False,
        help_text="Handed to the provider, its cost not yet in the campaign's spend ledger: set in the "
        "commit that records the send, cleared in the one that books it (so each is booked once).",
    )
    rfc_message_id = models.CharField(
        max_length=300, blank=True, help_text="Our Message-ID header; replies quote it."
    )
    # A follow-up's thread, set at scheduling: the previous step's Message-ID and its chain.
    in_reply_to = models.CharField(max_length=300, blank=True)
    references = models.TextField(blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["enrollment", "step"], name="message_idempotency_key"),
        ]
        indexes = [
            models.Index(fields=["campaign", "state", "scheduled_for"], name="message_due"),
            models.Index(fields=["campaign", "claimed_at"], name="message_claimed"),
            models.Index(fields=["mailbox", "claimed_at"], name="message_mailbox_claimed"),
            # Equality look-ups only (webhooks, replies): a plain index, without the extra
            # LIKE-pattern index PostgreSQL gets for db_index on a text column.
            models.Index(fields=["provider_message_id"], name="message_provider_id"),
            models.Index(fields=["rfc_message_id"], name="message_rfc_id"),
            # Small partial indexes: only the few sends awaiting their booking, and the few in flight
            # or unknown (the recovery sweep reads them across campaigns every beat).
            models.Index(fields=["campaign"], condition=Q(cost_unbooked=True), name="message_cost_unbooked"),
            models.Index(
                fields=["state", "claimed_at"],
                condition=Q(state__in=["sending", "unknown"]),
                name="message_in_flight",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} to {self.to_email}: {self.subject[:40]} ({self.state})"

    @property
    def idempotency_key(self) -> str:
        return f"{self.enrollment_id}:{self.step_id}"

    @transition(
        field=state,
        source=[MessageState.SCHEDULED, MessageState.RETRY_SCHEDULED],
        target=MessageState.SENDING,
    )
    def claim(self) -> None:
        pass

    @transition(field=state, source=MessageState.SENDING, target=MessageState.SENT)
    def mark_sent(self) -> None:
        pass

    @transition(field=state, source=MessageState.SENDING, target=MessageState.RETRY_SCHEDULED)
    def schedule_retry(self) -> None:
        pass

    @transition(field=state, source=MessageState.SENDING, target=MessageState.DEAD)
    def mark_dead(self) -> None:
        pass

    @transition(field=state, source=MessageState.SENDING, target=MessageState.SCHEDULED)
    def release(self) -> None:
        """Claimed but not sent (window closed, cap reached): back to the queue, no attempt used."""

    @transition(field=state, source=MessageState.SENDING, target=MessageState.UNKNOWN)
    def mark_unknown(self) -> None:
        pass

    @transition(field=state, source=MessageState.UNKNOWN, target=MessageState.SENT)
    def reconcile_sent(self) -> None:
        """A provider event confirmed it, or none came within the window: it counts as sent."""

    @transition(
        field=state,
        source=[MessageState.SCHEDULED, MessageState.RETRY_SCHEDULED, MessageState.SENDING],
        target=MessageState.CANCELLED,
    )
    def cancel(self) -> None:
        pass


class MessageEventKind(models.TextChoices):
    DELIVERED = "delivered", "Delivered"
    OPENED = "opened", "Opened"
    CLICKED = "clicked", "Clicked"
    BOUNCED = "bounced", "Bounced"
    DEFERRED = "deferred", "Deferred"
    COMPLAINED = "complained", "Complained"
    UNSUBSCRIBED = "unsubscribed", "Unsubscribed"
    REJECTED = "rejected", "Rejected"
    REPLIED = "replied", "Replied"


# What a claim takes (scheduled, retry scheduled): the sources of its transition.
PENDING_STATES = source_states(Message, "claim")


# Provider events that prove a message was handed over: they settle an `unknown` one as sent.
CONFIRMING_EVENT_KINDS = (
    MessageEventKind.DELIVERED,
    MessageEventKind.OPENED,
    MessageEventKind.CLICKED,
    MessageEventKind.BOUNCED,
)


class MessageEvent(models.Model):
    """A tracking event from the ESP (or our own unsubscribe / reply handling), deduplicated."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="message_events")
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=20, choices=MessageEventKind.choices)
    event_key = models.CharField(max_length=200, help_text="Provider event id, or a hash of the event.")
    provider = models.CharField(max_length=40, blank=True)
    hard = models.BooleanField(default=False, help_text="For bounces: permanent (hard) rather than soft.")
    occurred_at = models.DateTimeField()
    detail = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["event_key"], name="message_event_once")]
        indexes = [models.Index(fields=["campaign", "kind", "occurred_at"], name="event_campaign_kind")]

    def __str__(self) -> str:
        return f"{self.kind} for message {self.message_id}"


class MessageEventDailySummary(models.Model):
    """What retention keeps of pruned message events: counts per campaign, day and kind."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="message_event_summaries")
    day = models.DateField()
    kind = models.CharField(max_length=20, choices=MessageEventKind.choices)
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["campaign", "day", "kind"], name="event_summary_once")]

    def __str__(self) -> str:
        return f"{self.day} {self.kind}: {self.count}"


class ReplySenderMatch(models.TextChoices):
    """How a reply's sender compares with the lead of the message it answers. Only a reply from the
    lead's own address acts (lead replied, sequence stopped): a quoted Message-ID alone proves
    nothing, anyone can write one."""

    MATCHED = "matched", "From the lead"
    LOOSE = "loose", "Loose: same domain, other sender (review)"
    UNMATCHED = "unmatched", "Unmatched: other domain (review)"


class ReplyMatch(models.TextChoices):
    """How a reply was tied to our outreach (the reply inbox's matching, outreach.services.inbox)."""

    THREAD = "thread", "By thread (In-Reply-To / References quote our Message-ID)"
    SENDER = "sender", "Loose: by the sender's address among the campaigns' leads"
    NONE = "none", "Unmatched: kept for an operator"


class InboundReply(models.Model):
    """One email that came back: from a mailbox's IMAP inbox or an ESP's inbound webhook, matched,
    categorised and acted on (docs/reply-inbox.md). Unmatched mail is kept, campaign empty."""

    campaign = models.ForeignKey(
        Campaign, null=True, blank=True, on_delete=models.CASCADE, related_name="inbound_replies"
    )
    message = models.ForeignKey(
        Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="replies"
    )
    mailbox = models.ForeignKey(
        SendingMailbox,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="inbound_replies",
        help_text="The inbox it was read from; empty for ESP inbound webhooks.",
    )
    from_email = models.CharField(max_length=320)
    subject = models.CharField(max_length=500, blank=True)
    text = models.TextField(blank=True)
    is_auto_reply = models.BooleanField(default=False)
    sender_match = models.CharField(
        max_length=10,
        choices=ReplySenderMatch.choices,
        default=ReplySenderMatch.MATCHED,
        help_text="Only replies from the lead's own address mark the lead replied and stop its "
        "sequence; loose and unmatched ones are kept for an operator to review.",
    )
    matched_by = models.CharField(max_length=10, choices=ReplyMatch.choices, default=ReplyMatch.THREAD)
    message_id_header = models.CharField(max_length=500, blank=True)
    in_reply_to = models.CharField(max_length=500, blank=True, help_text="Its In-Reply-To header.")
    received_at = models.DateTimeField()
    # --- where it was read (IMAP): (mailbox, UIDVALIDITY, UID) is recorded once ----------------
    imap_uidvalidity = models.BigIntegerField(null=True, blank=True)
    imap_uid = models.BigIntegerField(null=True, blank=True)
    raw_size = models.PositiveIntegerField(default=0, help_text="Bytes of the whole email as received.")
    truncated = models.BooleanField(
        default=False, help_text="The text was cut at AICMO_REPLY_MAX_TEXT_BYTES."
    )
    size_note = models.CharField(
        max_length=500, blank=True, help_text="What was not stored: the cut text, attachments left out."
    )
    # --- its category (outreach.replies.classifier), and an operator's correction --------------
    category = models.CharField(max_length=30, choices=ReplyCategory.choices, blank=True)
    classifier_category = models.CharField(
        max_length=30, choices=ReplyCategory.choices, blank=True, help_text="What the classifier said."
    )
    category_reason = models.CharField(max_length=500, blank=True)
    confidence = models.FloatField(null=True, blank=True)
    corrected = models.BooleanField(default=False, help_text="An operator re-categorised it.")
    return_date = models.DateField(null=True, blank=True, help_text="Out of office: back on this day.")
    referred_email = models.CharField(max_length=320, blank=True, help_text="Wrong person: who to write to.")
    bounce_kind = models.CharField(max_length=10, blank=True)
    actions = models.JSONField(default=list, blank=True, help_text="What was done about it, with why.")
    handled_at = models.DateTimeField(null=True, blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-received_at"]
        verbose_name_plural = "inbound replies"
        constraints = [
            models.UniqueConstraint(
                fields=["message_id_header"], condition=~Q(message_id_header=""), name="inbound_reply_once"
            ),
            models.UniqueConstraint(
                fields=["mailbox", "imap_uidvalidity", "imap_uid"],
                condition=Q(imap_uid__isnull=False),
                name="inbound_reply_imap_once",
            ),
        ]
        indexes = [
            # The inbox's default view: the unhandled ones, newest first.
            models.Index(fields=["handled_at", "received_at"], name="inbound_reply_inbox"),
        ]

    def __str__(self) -> str:
        return f"Reply from {self.from_email}: {self.subject[:40]}"


class CycleLease(models.Model):
    """Who runs a campaign's cycle right now: two cycles of one campaign never overlap."""

    campaign = models.OneToOneField(Campaign, on_delete=models.CASCADE, related_name="cycle_lease")
    holder = models.CharField(max_length=100, blank=True)
    expires_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"cycle lease of campaign {self.campaign_id} until {self.expires_at:%H:%M:%S}"
