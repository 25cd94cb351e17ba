"""Webhook endpoints (per client) and their deliveries: one row per POST, of one event or a batch.

The events themselves are ``campaigns.models.OutboxEvent`` rows; the dispatcher
(``webhooks.services.dispatch``) turns each into deliveries for the endpoints subscribed to it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from campaigns.models import Client

MAX_RESPONSE_BODY_CHARS = 1024


class WebhookEndpoint(models.Model):
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="webhook_endpoints")
    url = models.URLField(max_length=2000, help_text="https:// address that receives the POSTs.")
    description = models.CharField(max_length=300, blank=True)
    event_types = models.JSONField(default=list, help_text='Event types to send, e.g. ["lead.won"].')
    batch_enabled = models.BooleanField(
        default=False, help_text="Send high-volume events (message.sent) up to 100 per POST."
    )
    is_active = models.BooleanField(default=True)
    contact_email = models.EmailField(
        blank=True, help_text="Told when the endpoint is disabled; empty: the client's users."
    )
    # Signing secrets (whsec_…): shown once; the previous one signs alongside until it expires.
    secret = models.CharField(max_length=100, editable=False)
    previous_secret = models.CharField(max_length=100, blank=True, editable=False)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True, editable=False)
    failing_since = models.DateTimeField(
        null=True, blank=True, help_text="First failure since the last success (None: healthy)."
    )
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["client", "is_active"], name="webhook_endpoint_client")]

    def __str__(self) -> str:
        return self.description or self.url[:80]


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed (dead-lettered)"


class DeliveryKind(models.TextChoices):
    EVENT = "event", "One event"
    BATCH = "batch", "Batch of events"
    PING = "ping", "Test ping"


class WebhookDelivery(models.Model):
    """One POST to one endpoint, with a stable ``webhook-id`` (``message_id``) and body on every
    retry, so the receiver de-duplicates by it."""

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    message_id = models.CharField(max_length=40, unique=True, help_text="The webhook-id header (msg_…).")
    kind = models.CharField(max_length=10, choices=DeliveryKind.choices, default=DeliveryKind.EVENT)
    event_type = models.CharField(max_length=60)
    event_ids = models.JSONField(default=list, help_text="The evt_… ids this POST carries.")
    event_count = models.PositiveIntegerField(default=1)
    payload = models.TextField(help_text="The exact JSON body sent.")
    status = models.CharField(max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # Retries stop this long after it (AICMO_WEBHOOKS_MAX_AGE_SECONDS); a replay starts it again.
    window_started_at = models.DateTimeField()
    created_at = models.DateTimeField()
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_response_body = models.TextField(blank=True, help_text="The first 1 KB of the last answer.")
    last_error = models.CharField(max_length=500, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    dead_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "webhook deliveries"
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status="pending"),
                name="webhook_delivery_due",
            ),
            models.Index(fields=["endpoint", "status", "id"], name="webhook_delivery_log"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} → endpoint {self.endpoint_id} ({self.status})"
