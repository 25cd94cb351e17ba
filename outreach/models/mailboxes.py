"""The mailboxes email is sent from: their transport (an ESP through anymail, or SMTP), IMAP settings
for the reply inbox, encrypted secrets, warm-up, readiness and health state (docs/senders.md)."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from campaigns.models import Client

from ..addresses import format_address
from ..secrets import decrypt, encrypt

__all__ = ["SECRET_NAMES", "MailboxTransport", "SendingMailbox", "SmtpSecurity"]


class MailboxTransport(models.TextChoices):
    ESP = "esp", "ESP (the site's EMAIL_BACKEND, through anymail)"
    SMTP = "smtp", "SMTP server of its own"


class SmtpSecurity(models.TextChoices):
    STARTTLS = "starttls", "STARTTLS (port 587)"
    TLS = "tls", "TLS from the start (port 465)"
    NONE = "none", "None (a test server only)"


class SendingMailbox(models.Model):
    """A From address with its own daily cap (ESPs and inbox providers judge each sender), its
    transport, the IMAP inbox its replies land in, and its sender readiness (docs/senders.md).
    Passwords are stored encrypted (``outreach.secrets``) and never shown back."""

    client = models.ForeignKey(
        Client,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="mailboxes",
        help_text="Empty: a shared agency mailbox any client's campaign may use.",
    )
    email = models.EmailField(unique=True)
    display_name = models.CharField(max_length=120, blank=True)
    daily_cap = models.PositiveIntegerField(default=50, help_text="Emails per day from this address.")
    reply_to = models.EmailField(blank=True)
    is_active = models.BooleanField(default=True)
    # --- warm-up (outreach.warmup): the day's allowance grows from the start volume to the cap --
    warmup_started_on = models.DateField(
        "warm-up started on",
        null=True,
        blank=True,
        help_text="Empty: no warm-up (the full daily cap from day one).",
    )
    warmup_start_volume = models.PositiveIntegerField(
        "warm-up start volume", default=5, help_text="Emails on the warm-up's first day."
    )
    warmup_daily_increase = models.PositiveIntegerField(
        "warm-up daily increase", default=2, help_text="Emails added each day until the daily cap."
    )
    # --- transport ---------------------------------------------------------------------------
    transport = models.CharField(
        max_length=10, choices=MailboxTransport.choices, default=MailboxTransport.ESP
    )
    smtp_host = models.CharField("SMTP host", max_length=253, blank=True)
    smtp_port = models.PositiveIntegerField("SMTP port", default=587)
    smtp_security = models.CharField(
        "SMTP security", max_length=10, choices=SmtpSecurity.choices, default=SmtpSecurity.STARTTLS
    )
    smtp_username = models.CharField("SMTP username", max_length=254, blank=True)
    smtp_password_token = models.TextField(
        blank=True, editable=False, help_text="The SMTP password, encrypted (outreach.secrets)."
    )
    # --- the inbox replies land in (read by the reply inbox) ---------------------------------
    imap_host = models.CharField("IMAP host", max_length=253, blank=True)
    imap_port = models.PositiveIntegerField("IMAP port", default=993)
    imap_ssl = models.BooleanField("IMAP over TLS", default=True, help_text="Off: STARTTLS on a plain port.")
    imap_username = models.CharField("IMAP username", max_length=254, blank=True)
    imap_password_token = models.TextField(
        blank=True, editable=False, help_text="The IMAP password, encrypted (outreach.secrets)."
    )
    imap_folder = models.CharField("IMAP folder", max_length=200, default="INBOX")
    # --- what the reply inbox's poll last saw (outreach.services.inbox.fetch) ----------------
    imap_uidvalidity = models.BigIntegerField(
        "IMAP UIDVALIDITY", null=True, blank=True, editable=False, help_text="The folder's, at the last poll."
    )
    imap_last_uid = models.BigIntegerField(
        "last IMAP UID read", default=0, editable=False, help_text="Messages above it are new."
    )
    imap_polled_at = models.DateTimeField("IMAP last polled", null=True, blank=True, editable=False)
    imap_last_error = models.CharField(
        "IMAP last error", max_length=500, blank=True, editable=False, help_text="Empty after a good poll."
    )
    # --- sender readiness (outreach.services.readiness) ----------------------------------------
    dkim_selector = models.CharField(
        "DKIM selector", max_length=63, blank=True, help_text="Empty: AICMO_DKIM_SELECTOR."
    )
    readiness_checked_at = models.DateTimeField(null=True, blank=True, editable=False)
    readiness_problems = models.JSONField(default=list, blank=True, editable=False)
    paused_reason = models.CharField(
        max_length=500, blank=True, editable=False, help_text="Why the daily readiness check paused it."
    )
    readiness_override = models.TextField(
        blank=True, editable=False, help_text="An approver's rationale for sending despite failed checks."
    )
    readiness_override_by = models.ForeignKey(
        "campaigns.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    readiness_override_at = models.DateTimeField(null=True, blank=True, editable=False)
    # --- health (outreach.services.mailbox_health) --------------------------------------------
    health_since = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text="Bounces and complaints count from here (an approver's resume).",
    )

    class Meta:
        verbose_name_plural = "sending mailboxes"  # Django's default would say "mailboxs"

    def __str__(self) -> str:
        return f"{self.display_name} <{self.email}>" if self.display_name else self.email

    def __repr__(self) -> str:  # never the tokens
        return f"<SendingMailbox {self.pk}: {self.email} ({self.transport})>"

    @property
    def domain(self) -> str:
        return self.email.rpartition("@")[2].lower()

    @property
    def selector(self) -> str:
        return self.dkim_selector or settings.AICMO_DKIM_SELECTOR

    # Secrets: set and read only here; the plaintext is never kept on the instance.
    def set_secret(self, name: str, plaintext: str) -> None:
        setattr(self, _secret_column(name), encrypt(plaintext))

    def secret(self, name: str) -> str:
        return decrypt(getattr(self, _secret_column(name)))

    def has_secret(self, name: str) -> bool:
        return bool(getattr(self, _secret_column(name)))

    @property
    def from_header(self) -> str:
        """The From value: the display name quoted when it holds a comma or other specials
        (``"Zoë Müller, Northwind" <zoe@…>``), else the bare name; Django encodes it on send."""
        return format_address(self.display_name, self.email)


SECRET_NAMES = ("smtp_password", "imap_password")


def _secret_column(name: str) -> str:
    if name not in SECRET_NAMES:
        raise ValueError(f"Not a mailbox secret: {name!r}.")
    return f"{name}_token"
