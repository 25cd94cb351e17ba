"""The dispatcher: outbox events → deliveries (fan-out), then signed POSTs with retries.

1. ``fan_out`` takes outbox events not yet handled (``SKIP LOCKED`` on PostgreSQL, so dispatchers
   running at once split the work) and creates one delivery per subscribed active endpoint, or, for
   an endpoint that opted in to batching, one per up to 100 events of a batchable type. Each
   delivery has its webhook-id and body fixed from then on.
2. ``send_due`` claims due deliveries (a lease moves their ``next_attempt_at`` past the POST's time,
   so a crashed dispatcher's claims come back by themselves: at-least-once; receivers de-duplicate
   by webhook-id) and POSTs them from a few threads; the outcomes are written in one transaction.
   A failure is retried after an exponential backoff with full jitter
   (``outreach.backoff.retry_delay``) until AICMO_WEBHOOKS_MAX_AGE_SECONDS after the delivery was
   created (or replayed), then dead-lettered. An endpoint whose every attempt failed for
   AICMO_WEBHOOKS_DISABLE_AFTER_SECONDS is disabled (``disable_endpoint``).
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from campaigns.event_types import EVENT_TYPES
from campaigns.models import OutboxEvent
from outreach.backoff import retry_delay

from ..models import MAX_RESPONSE_BODY_CHARS, DeliveryKind, DeliveryStatus, WebhookDelivery, WebhookEndpoint
from ..signing import signed_headers
from ..transport import HttpResult, Transport

logger = logging.getLogger(__name__)

BATCH_SIZE = 100
FAN_OUT_LIMIT = 2000
SEND_LIMIT = 500


def new_message_id() -> str:
    return f"msg_{uuid.uuid4().hex}"


def _dumps(body: dict) -> str:
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False)


def envelope(event: OutboxEvent) -> dict:
    return {
        "type": event.type,
        "version": event.version,
        "id": event.event_id,
        "occurred_at": event.occurred_at.isoformat(),
        "client": event.client_id,
        "campaign": event.campaign_id,
        "data": event.data,
    }


@dataclass
class DispatchResult:
    fanned_out: int = 0
    created: int = 0
    delivered: int = 0
    retrying: int = 0
    dead: int = 0
    disabled: int = 0

    def add(self, other: DispatchResult) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


def _delivery(endpoint: WebhookEndpoint, kind: str, event_type: str, events: list[OutboxEvent], now):
    message_id = new_message_id()
    if kind == DeliveryKind.BATCH:
        body = {
            "type": "batch",
            "version": 1,
            "id": message_id,
            "occurred_at": now.isoformat(),
            "client": endpoint.client_id,
            "campaign": None,
            "data": {"count": len(events), "events": [envelope(e) for e in events]},
        }
    else:
        body = envelope(events[0])
    return WebhookDelivery(
        endpoint=endpoint,
        message_id=message_id,
        kind=kind,
        event_type=event_type,
        event_ids=[e.event_id for e in events],
        event_count=len(events),
        payload=_dumps(body),
        status=DeliveryStatus.PENDING,
        next_attempt_at=now,
        window_started_at=now,
        created_at=now,
    )


def fan_out(*, limit: int = FAN_OUT_LIMIT, now: datetime | None = None) -> DispatchResult:
    """Turn up to ``limit`` new outbox events into deliveries, in one transaction."""
    now = now or timezone.now()
    result = DispatchResult()
    with transaction.atomic():
        events = list(
            OutboxEvent.objects.select_for_update(skip_locked=True)
            .filter(fanned_out_at__isnull=True)
            .order_by("id")[:limit]
        )
        if not events:
            return result
        by_client: dict[int, list[OutboxEvent]] = defaultdict(list)
        for event in events:
            by_client[event.client_id].append(event)
        # Endpoints as they are now: one switched off since the event was written gets nothing.
        endpoints = WebhookEndpoint.objects.filter(client_id__in=by_client, is_active=True).order_by("id")
        rows: list[WebhookDelivery] = []
        for endpoint in endpoints:
            wanted = set(endpoint.event_types or ())
            batches: dict[str, list[OutboxEvent]] = defaultdict(list)
            for event in by_client[endpoint.client_id]:
                if event.type not in wanted:
                    continue
                kind = EVENT_TYPES.get(event.type)
                if endpoint.batch_enabled and kind is not None and kind.batchable:
                    batches[event.type].append(event)
                else:
                    rows.append(_delivery(endpoint, DeliveryKind.EVENT, event.type, [event], now))
            for type_name, batch in batches.items():
                for start in range(0, len(batch), BATCH_SIZE):
                    chunk = batch[start : start + BATCH_SIZE]
                    kind = DeliveryKind.BATCH if len(chunk) > 1 else DeliveryKind.EVENT
                    rows.append(_delivery(endpoint, kind, type_name, chunk, now))
        WebhookDelivery.objects.bulk_create(rows, batch_size=500)
        OutboxEvent.objects.filter(pk__in=[e.pk for e in events]).update(fanned_out_at=now)
    result.fanned_out, result.created = len(events), len(rows)
    return result


def _lease() -> timedelta:
    return timedelta(seconds=2 * settings.AICMO_WEBHOOKS_TIMEOUT_SECONDS + 60)


def claim_due(*, limit: int = SEND_LIMIT, now: datetime | None = None) -> list[WebhookDelivery]:
    now = now or timezone.now()
    with transaction.atomic():
        ids = list(
            WebhookDelivery.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now, endpoint__is_active=True)
            .order_by("next_attempt_at", "id")
            .values_list("pk", flat=True)[:limit]
        )
        if ids:
            WebhookDelivery.objects.filter(pk__in=ids).update(next_attempt_at=now + _lease())
    return list(WebhookDelivery.objects.filter(pk__in=ids).select_related("endpoint").order_by("id"))


def send_due(*, limit: int = SEND_LIMIT, now: datetime | None = None, transport=None) -> DispatchResult:
    deliveries = claim_due(limit=limit, now=now)
    if not deliveries:
        return DispatchResult()
    return send_deliveries(deliveries, now=now, transport=transport)


def _secrets(endpoint: WebhookEndpoint, now: datetime) -> list[str]:
    expires = endpoint.previous_secret_expires_at
    if endpoint.previous_secret and expires is not None and expires > now:
        return [endpoint.secret, endpoint.previous_secret]
    return [endpoint.secret]


def send_deliveries(
    deliveries: list[WebhookDelivery],
    *,
    now: datetime | None = None,
    retry: bool = True,
    transport: Transport | None = None,
) -> DispatchResult:
    """POST each delivery (signed at the moment it is sent) and record what happened."""
    own = transport is None
    transport = transport or Transport(
        timeout=settings.AICMO_WEBHOOKS_TIMEOUT_SECONDS, maxsize=settings.AICMO_WEBHOOKS_CONCURRENCY
    )

    def post(delivery: WebhookDelivery) -> HttpResult:
        body = delivery.payload.encode("utf-8")
        sent_at = timezone.now()
        headers = signed_headers(_secrets(delivery.endpoint, sent_at), delivery.message_id, sent_at, body)
        try:
            return transport.post(delivery.endpoint.url, body, headers)
        except Exception as exc:  # whatever goes wrong with one POST is that delivery's failure
            logger.exception("webhook delivery %s failed unexpectedly", delivery.pk)
            return HttpResult(error=f"{type(exc).__name__}: {exc}"[:500])

    try:
        workers = max(1, min(settings.AICMO_WEBHOOKS_CONCURRENCY, len(deliveries)))
        if workers == 1:
            results = [post(d) for d in deliveries]
        else:
            with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="webhook") as pool:
                results = list(pool.map(post, deliveries))
    finally:
        if own:
            transport.close()
    return _record(deliveries, results, now=now or timezone.now(), retry=retry)


def _record(
    deliveries: list[WebhookDelivery], results: list[HttpResult], *, now: datetime, retry: bool
) -> DispatchResult:
    result = DispatchResult()
    max_age = timedelta(seconds=settings.AICMO_WEBHOOKS_MAX_AGE_SECONDS)
    healthy: set[int] = set()
    failing: set[int] = set()
    # Successes mostly share their answer (200, the same short body): one UPDATE per distinct
    # answer instead of a row-by-row bulk_update, which costs more than the POSTs themselves.
    delivered: dict[tuple[int | None, str], list[int]] = defaultdict(list)
    failed: list[WebhookDelivery] = []
    for delivery, outcome in zip(deliveries, results, strict=True):
        if outcome.ok:
            delivered[(outcome.status, outcome.body[:MAX_RESPONSE_BODY_CHARS])].append(delivery.pk)
            healthy.add(delivery.endpoint_id)
            result.delivered += 1
            continue
        delivery.attempts += 1
        delivery.last_attempt_at = now
        delivery.last_status_code = outcome.status
        delivery.last_response_body = outcome.body[:MAX_RESPONSE_BODY_CHARS]
        delivery.last_error = outcome.error or f"HTTP {outcome.status}"
        failed.append(delivery)
        if delivery.kind != DeliveryKind.PING:
            failing.add(delivery.endpoint_id)
        deadline = delivery.window_started_at + max_age
        if not retry or delivery.kind == DeliveryKind.PING:
            delivery.status, delivery.next_attempt_at = DeliveryStatus.FAILED, None
            result.dead += 1
        elif now >= deadline:
            delivery.status, delivery.dead_at, delivery.next_attempt_at = DeliveryStatus.FAILED, now, None
            result.dead += 1
        else:
            delay = retry_delay(
                delivery.attempts,
                base=float(settings.AICMO_WEBHOOKS_RETRY_BASE_SECONDS),
                cap=float(settings.AICMO_WEBHOOKS_RETRY_CAP_SECONDS),
            )
            delivery.next_attempt_at = min(now + delay, deadline)
            result.retrying += 1
    fields = [
        "attempts",
        "last_attempt_at",
        "last_status_code",
        "last_response_body",
        "last_error",
        "status",
        "next_attempt_at",
        "dead_at",
    ]
    with transaction.atomic():
        for (code, body), pks in delivered.items():
            for start in range(0, len(pks), 500):
                WebhookDelivery.objects.filter(pk__in=pks[start : start + 500]).update(
                    status=DeliveryStatus.DELIVERED,
                    attempts=F("attempts") + 1,
                    last_attempt_at=now,
                    last_status_code=code,
                    last_response_body=body,
                    last_error="",
                    delivered_at=now,
                    next_attempt_at=None,
                )
        if failed:
            WebhookDelivery.objects.bulk_update(failed, fields, batch_size=200)
        if healthy:
            WebhookEndpoint.objects.filter(pk__in=healthy, failing_since__isnull=False).update(
                failing_since=None
            )
        failing -= healthy
        if failing:
            WebhookEndpoint.objects.filter(pk__in=failing, failing_since__isnull=True).update(
                failing_since=now
            )
    if failing:
        result.disabled = _disable_long_failing(failing, now)
    return result


def _disable_long_failing(endpoint_ids: set[int], now: datetime) -> int:
    from . import disable_endpoint  # the endpoint services sit beside this module

    after = timedelta(seconds=settings.AICMO_WEBHOOKS_DISABLE_AFTER_SECONDS)
    due = WebhookEndpoint.objects.filter(pk__in=endpoint_ids, is_active=True, failing_since__lte=now - after)
    disabled = 0
    for endpoint in due:
        hours = (now - endpoint.failing_since).total_seconds() / 3600
        since = f"{endpoint.failing_since:%Y-%m-%d %H:%M} UTC"
        reason = f"Every delivery failed for {hours:.1f} hours (since {since})."
        disable_endpoint(endpoint=endpoint, reason=reason)
        disabled += 1
    return disabled


def dispatch(*, budget_seconds: float = 50.0) -> DispatchResult:
    """What beat runs: fan out new events and send what is due, until both are done or the time
    budget is spent (the next run carries on)."""
    started = time.monotonic()
    total = DispatchResult()
    transport = Transport(
        timeout=settings.AICMO_WEBHOOKS_TIMEOUT_SECONDS, maxsize=settings.AICMO_WEBHOOKS_CONCURRENCY
    )
    try:
        while time.monotonic() - started < budget_seconds:
            step = fan_out()
            sent = send_due(transport=transport)
            step.add(sent)
            total.add(step)
            # Stop when a round delivered nothing new: failures wait for their backoff (and the
            # next beat tick) instead of being hammered within this run.
            if not step.fanned_out and not sent.delivered:
                break
    finally:
        transport.close()
    return total
