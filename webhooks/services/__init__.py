"""The only code that writes the webhooks tables: endpoints, their secrets, replays and pings.

Delivery itself (fan-out of outbox events, signed POSTs, retries) is in ``.dispatch``.
"""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.core.validators import EmailValidator
from django.db import transaction
from django.utils import timezone

from campaigns.actors import acting_user
from campaigns.errors import DomainError
from campaigns.event_types import EVENT_TYPES
from campaigns.events import new_event_id
from campaigns.limits import InputLimitExceededError
from campaigns.models import Client, OutboxEvent, User
from campaigns.permissions import require_action, require_action_unless_system
from campaigns.services.audit import record_audit_event

from ..models import DeliveryKind, DeliveryStatus, WebhookDelivery, WebhookEndpoint
from ..selectors import forget_subscriptions
from ..signing import new_secret
from ..url_guard import check_url
from .dispatch import new_message_id, send_deliveries

logger = logging.getLogger(__name__)

MANAGE = "webhook.manage"
REPLAY = "webhook.replay"
MAX_ENDPOINTS = "AICMO_WEBHOOKS_MAX_ENDPOINTS_PER_CLIENT"
MAX_OVERLAP_SECONDS = 7 * 24 * 60 * 60


def _event_types(value: Any) -> list[str]:
    if not isinstance(value, list | tuple) or not value:
        raise DomainError('Give the event types to send, e.g. ["lead.won"].', field="event_types")
    names: list[str] = []
    for raw in value:
        name = str(raw).strip()
        if name not in EVENT_TYPES:
            raise DomainError(
                f"Unknown event type {name!r}; known: {', '.join(EVENT_TYPES)}.", field="event_types"
            )
        if name not in names:
            names.append(name)
    return names


def _contact_email(value: str) -> str:
    value = (value or "").strip()
    if value:
        try:
            EmailValidator()(value)
        except Exception:
            raise DomainError(f"{value!r} is not an email address.", field="contact_email") from None
    return value


def _changed(endpoint: WebhookEndpoint) -> None:
    """Emitters cache who subscribes: forget it now and once the change is visible to others."""
    client_id = endpoint.client_id
    forget_subscriptions(client_id)
    transaction.on_commit(lambda: forget_subscriptions(client_id))


def create_endpoint(
    *,
    client: Client,
    url: str,
    event_types: list[str],
    description: str = "",
    batch_enabled: bool = False,
    contact_email: str = "",
    actor: User | None = None,
) -> tuple[WebhookEndpoint, str]:
    """Create an endpoint; returns it and its signing secret (shown to the caller this once)."""
    require_action_unless_system(actor, MANAGE, client)
    target = check_url(url)
    types = _event_types(event_types)
    limit = int(getattr(settings, MAX_ENDPOINTS))
    now = timezone.now()
    with transaction.atomic():
        Client.objects.select_for_update().filter(pk=client.pk).first()  # serialises the count
        if WebhookEndpoint.objects.filter(client=client).count() >= limit:
            raise InputLimitExceededError(
                f"Client {client.pk} already has {limit} webhook endpoints, the most allowed.",
                limit=MAX_ENDPOINTS,
                code="too_many_endpoints",
                http_status=400,
            )
        secret = new_secret()
        endpoint = WebhookEndpoint.objects.create(
            client=client,
            url=url.strip(),
            description=(description or "").strip()[:300],
            event_types=types,
            batch_enabled=bool(batch_enabled),
            contact_email=_contact_email(contact_email),
            secret=secret,
            created_by=acting_user(actor),
            created_at=now,
            updated_at=now,
        )
        record_audit_event(
            verb="webhook_endpoint.created",
            actor=actor,
            target=endpoint,
            metadata={"client": client.pk, "host": target.hostname, "event_types": types},
        )
        _changed(endpoint)
    return endpoint, secret


UPDATABLE = ("url", "description", "event_types", "batch_enabled", "is_active", "contact_email")


def update_endpoint(
    *, endpoint: WebhookEndpoint, actor: User | None = None, **fields: Any
) -> WebhookEndpoint:
    """Change an endpoint. Re-activating a disabled one clears its failure record."""
    require_action_unless_system(actor, MANAGE, endpoint)
    unknown = set(fields) - set(UPDATABLE)
    if unknown:
        raise DomainError(f"Cannot change {', '.join(sorted(unknown))}.", field=sorted(unknown)[0])
    if "url" in fields:
        check_url(fields["url"])
        fields["url"] = fields["url"].strip()
    if "event_types" in fields:
        fields["event_types"] = _event_types(fields["event_types"])
    if "contact_email" in fields:
        fields["contact_email"] = _contact_email(fields["contact_email"])
    if "description" in fields:
        fields["description"] = (fields["description"] or "").strip()[:300]
    with transaction.atomic():
        locked = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
        before = {name: getattr(locked, name) for name in fields}
        for name, value in fields.items():
            setattr(locked, name, value)
        if fields.get("is_active") and not before.get("is_active", True):
            locked.disabled_at, locked.disabled_reason, locked.failing_since = None, "", None
        locked.updated_at = timezone.now()
        locked.save()
        changed = {k: [before[k], getattr(locked, k)] for k in fields if before[k] != getattr(locked, k)}
        if changed:
            record_audit_event(verb="webhook_endpoint.updated", actor=actor, target=locked, metadata=changed)
        _changed(locked)
    return locked


def delete_endpoint(*, endpoint: WebhookEndpoint, actor: User | None = None) -> None:
    require_action_unless_system(actor, MANAGE, endpoint)
    with transaction.atomic():
        record_audit_event(
            verb="webhook_endpoint.deleted",
            actor=actor,
            target=endpoint,
            metadata={"client": endpoint.client_id, "url": endpoint.url},
        )
        _changed(endpoint)
        endpoint.delete()


def rotate_secret(
    *, endpoint: WebhookEndpoint, actor: User | None = None, overlap_seconds: int | None = None
) -> str:
    """A new secret; the current one keeps signing alongside it for ``overlap_seconds`` (default
    AICMO_WEBHOOKS_SECRET_OVERLAP_SECONDS; 0 ends it at once), so receivers can switch over."""
    require_action_unless_system(actor, MANAGE, endpoint)
    overlap = settings.AICMO_WEBHOOKS_SECRET_OVERLAP_SECONDS if overlap_seconds is None else overlap_seconds
    if not 0 <= int(overlap) <= MAX_OVERLAP_SECONDS:
        raise DomainError(
            f"The overlap must be between 0 and {MAX_OVERLAP_SECONDS} seconds.", field="overlap_seconds"
        )
    now = timezone.now()
    with transaction.atomic():
        locked = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
        secret = new_secret()
        locked.previous_secret = locked.secret if overlap else ""
        locked.previous_secret_expires_at = now + timedelta(seconds=int(overlap)) if overlap else None
        locked.secret = secret
        locked.updated_at = now
        locked.save()
        record_audit_event(
            verb="webhook_endpoint.secret_rotated",
            actor=actor,
            target=locked,
            metadata={"overlap_seconds": int(overlap)},
        )
    return secret


def disable_endpoint(*, endpoint: WebhookEndpoint, reason: str, actor: User | None = None) -> None:
    """Switch a failing endpoint off (the dispatcher does, after AICMO_WEBHOOKS_DISABLE_AFTER_SECONDS
    of failures), audit it and email its owner once the change is committed (also audited)."""
    now = timezone.now()
    recipients = owner_emails(endpoint)
    with transaction.atomic():
        updated = WebhookEndpoint.objects.filter(pk=endpoint.pk, is_active=True).update(
            is_active=False, disabled_at=now, disabled_reason=reason[:500], updated_at=now
        )
        if not updated:
            return
        record_audit_event(verb="webhook_endpoint.disabled", actor=actor, target=endpoint, rationale=reason)
        record_audit_event(
            verb="webhook_endpoint.owner_notified",
            actor=actor,
            target=endpoint,
            metadata={"recipients": recipients},
        )
        _changed(endpoint)
        transaction.on_commit(lambda: _email_owner(endpoint, reason, recipients))


def owner_emails(endpoint: WebhookEndpoint) -> list[str]:
    if endpoint.contact_email:
        return [endpoint.contact_email]
    return sorted(
        set(
            User.objects.filter(client_id=endpoint.client_id, is_active=True)
            .exclude(email="")
            .values_list("email", flat=True)
        )
    )


def _email_owner(endpoint: WebhookEndpoint, reason: str, recipients: list[str]) -> None:
    if not recipients:
        logger.warning("webhook endpoint %s disabled; nobody to email", endpoint.pk)
        return
    body = (
        f"The webhook endpoint {endpoint.url} (id {endpoint.pk}) was disabled:\n\n{reason}\n\n"
        "Events are kept: fix the receiver, switch the endpoint back on and replay the failed "
        f"deliveries.\n\n{settings.PUBLIC_BASE_URL}/admin/webhooks/webhookendpoint/{endpoint.pk}/change/\n"
    )
    try:
        send_mail(f"Webhook endpoint disabled: {endpoint}", body, None, recipients)
    except Exception:  # an unreachable mail server must not stop the dispatcher
        logger.exception("email about disabled webhook endpoint %s failed", endpoint.pk)


def replay_deliveries(*, deliveries: Any, actor: User | None = None) -> int:
    """Queue failed (dead-lettered) or pending deliveries again, now, with a fresh retry window;
    the same webhook-id and body, so a receiver that already had one ignores it."""
    if actor is not None:
        require_action(actor, REPLAY)
    now = timezone.now()
    with transaction.atomic():
        rows = list(
            WebhookDelivery.objects.select_for_update()
            .filter(pk__in=[d.pk if isinstance(d, WebhookDelivery) else int(d) for d in deliveries])
            .exclude(status=DeliveryStatus.DELIVERED)
            .exclude(kind=DeliveryKind.PING)
        )
        if not rows:
            return 0
        WebhookDelivery.objects.filter(pk__in=[r.pk for r in rows]).update(
            status=DeliveryStatus.PENDING, next_attempt_at=now, window_started_at=now, dead_at=None
        )
        for endpoint_id in sorted({r.endpoint_id for r in rows}):
            record_audit_event(
                verb="webhook_delivery.replayed",
                actor=actor,
                target=rows[0].endpoint if len(rows) == 1 else None,
                metadata={
                    "endpoint": endpoint_id,
                    "deliveries": [r.pk for r in rows if r.endpoint_id == endpoint_id][:200],
                },
            )
    return len(rows)


def replay_failed(*, endpoint: WebhookEndpoint, actor: User | None = None) -> int:
    failed = WebhookDelivery.objects.filter(endpoint=endpoint, status=DeliveryStatus.FAILED)
    return replay_deliveries(deliveries=list(failed.values_list("pk", flat=True)), actor=actor)


def prune_old_webhook_rows(*, cutoff) -> int:
    """Retention (campaigns.retention, daily): outbox events handed to the dispatcher and finished
    deliveries older than ``cutoff``. Pending deliveries are kept whatever their age."""
    events, _ = OutboxEvent.objects.filter(fanned_out_at__lt=cutoff).delete()
    deliveries, _ = (
        WebhookDelivery.objects.filter(created_at__lt=cutoff).exclude(status=DeliveryStatus.PENDING).delete()
    )
    return events + deliveries


def send_test_ping(*, endpoint: WebhookEndpoint, actor: User | None = None) -> WebhookDelivery:
    """POST a signed ``webhook.ping`` now (even to a disabled endpoint) and log it; no retries."""
    require_action_unless_system(actor, MANAGE, endpoint)
    now = timezone.now()
    event_id = new_event_id()
    body = {
        "type": "webhook.ping",
        "version": 1,
        "id": event_id,
        "occurred_at": now.isoformat(),
        "client": endpoint.client_id,
        "campaign": None,
        "data": {"endpoint_id": endpoint.pk},
    }
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint,
        message_id=new_message_id(),
        kind=DeliveryKind.PING,
        event_type="webhook.ping",
        event_ids=[event_id],
        payload=json.dumps(body, separators=(",", ":")),
        status=DeliveryStatus.PENDING,
        next_attempt_at=None,  # never picked up by the dispatcher: sent here, once
        window_started_at=now,
        created_at=now,
    )
    send_deliveries([delivery], now=now, retry=False)
    delivery.refresh_from_db()
    return delivery
