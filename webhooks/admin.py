"""Admin for webhooks: endpoints (the secret shown once, at creation or rotation), the delivery log
per endpoint (status, attempts, last response code and the first 1 KB of the answer), replay of one
or all failed deliveries, and a test ping. Every change goes through ``webhooks.services``."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from campaigns.admin_kit.base import NOBODY, AicmoModelAdmin
from campaigns.errors import DomainError
from campaigns.event_types import EVENT_TYPES
from campaigns.permissions import is_allowed

from .models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from .services import (
    create_endpoint,
    delete_endpoint,
    replay_deliveries,
    replay_failed,
    rotate_secret,
    send_test_ping,
    update_endpoint,
)
from .url_guard import check_url

EDITABLE = ["url", "description", "event_types", "batch_enabled", "is_active", "contact_email"]


class EndpointForm(forms.ModelForm):
    url = forms.URLField(
        max_length=2000, assume_scheme="https", help_text="https:// address of the receiver."
    )
    event_types = forms.MultipleChoiceField(
        choices=[(name, f"{name} — {kind.description}") for name, kind in sorted(EVENT_TYPES.items())],
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["client", *EDITABLE]

    def clean_url(self) -> str:
        url = self.cleaned_data["url"]
        try:
            check_url(url)  # the same SSRF guard the service applies, shown on the field
        except DomainError as exc:
            raise forms.ValidationError(exc.message) from None
        return url


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(AicmoModelAdmin):
    change_action = "webhook.manage"
    form = EndpointForm
    list_display = ["id", "client", "url", "is_active", "batch_enabled", "failing_since", "delivery_log"]
    list_filter = ["is_active", "batch_enabled", "client"]
    search_fields = ["url", "description", "client__name"]
    readonly_fields = [
        "failing_since",
        "disabled_at",
        "disabled_reason",
        "previous_secret_expires_at",
        "created_by",
        "created_at",
        "updated_at",
        "delivery_log",
    ]
    actions = ["send_ping", "replay_all_failed", "rotate_signing_secret"]

    def get_readonly_fields(self, request: HttpRequest, obj=None):
        # The client of an existing endpoint does not change (its events are that client's).
        return [*self.readonly_fields, "client"] if obj is not None else self.readonly_fields

    @admin.display(description="Delivery log")
    def delivery_log(self, obj: WebhookEndpoint) -> str:
        url = reverse("admin:webhooks_webhookdelivery_changelist") + f"?endpoint__id__exact={obj.pk}"
        failed = obj.deliveries.filter(status=DeliveryStatus.FAILED).count()
        return format_html('<a href="{}">deliveries</a> ({} failed)', url, failed)

    def save_model(self, request: HttpRequest, obj: WebhookEndpoint, form, change: bool) -> None:
        if change:
            fields = {name: form.cleaned_data[name] for name in form.changed_data if name in EDITABLE}
            if fields:
                update_endpoint(endpoint=obj, actor=request.user, **fields)
            obj.refresh_from_db()
            return
        data = {name: form.cleaned_data[name] for name in EDITABLE if name != "is_active"}
        endpoint, secret = create_endpoint(client=form.cleaned_data["client"], actor=request.user, **data)
        obj.pk, obj.secret, obj.created_at, obj.updated_at = (
            endpoint.pk,
            endpoint.secret,
            endpoint.created_at,
            endpoint.updated_at,
        )
        self._show_secret(request, endpoint, secret, "created")

    def _show_secret(self, request: HttpRequest, endpoint: WebhookEndpoint, secret: str, verb: str) -> None:
        messages.warning(
            request,
            format_html(
                "Endpoint {} {}. Its signing secret, shown this once — give it to the receiver now: "
                "<code>{}</code>",
                endpoint.pk,
                verb,
                secret,
            ),
        )

    def delete_model(self, request: HttpRequest, obj: WebhookEndpoint) -> None:
        delete_endpoint(endpoint=obj, actor=request.user)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        for endpoint in queryset:
            delete_endpoint(endpoint=endpoint, actor=request.user)

    @admin.action(description="Send a test ping", permissions=["change"])
    def send_ping(self, request: HttpRequest, queryset: QuerySet) -> None:
        for endpoint in queryset:
            delivery = send_test_ping(endpoint=endpoint, actor=request.user)
            level = messages.SUCCESS if delivery.status == DeliveryStatus.DELIVERED else messages.ERROR
            answer = delivery.last_status_code or delivery.last_error
            self.message_user(request, f"Endpoint {endpoint.pk}: ping {delivery.status} ({answer}).", level)

    @admin.action(description="Replay all failed deliveries", permissions=["replay"])
    def replay_all_failed(self, request: HttpRequest, queryset: QuerySet) -> None:
        total = sum(replay_failed(endpoint=endpoint, actor=request.user) for endpoint in queryset)
        self.message_user(request, f"{total} failed deliveries queued again.", messages.SUCCESS)

    @admin.action(
        description="Rotate the signing secret (the old one signs 24 h more)", permissions=["change"]
    )
    def rotate_signing_secret(self, request: HttpRequest, queryset: QuerySet) -> None:
        for endpoint in queryset:
            self._show_secret(
                request, endpoint, rotate_secret(endpoint=endpoint, actor=request.user), "rotated"
            )

    def has_replay_permission(self, request: HttpRequest) -> bool:
        return is_allowed(request.user, "webhook.replay")


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(AicmoModelAdmin):
    add_action = NOBODY  # deliveries come from events, pings and replays, never by hand
    delete_action = NOBODY
    list_display = [
        "id",
        "endpoint",
        "event_type",
        "event_count",
        "status",
        "attempts",
        "last_status_code",
        "last_attempt_at",
        "next_attempt_at",
    ]
    list_filter = ["status", "kind", "event_type", "endpoint"]
    search_fields = ["message_id", "event_type"]
    list_select_related = ["endpoint"]
    actions = ["replay_selected"]
    readonly_fields = [field.name for field in WebhookDelivery._meta.fields]

    def has_replay_permission(self, request: HttpRequest) -> bool:
        return is_allowed(request.user, "webhook.replay")

    @admin.action(description="Replay the selected deliveries (failed or pending)", permissions=["replay"])
    def replay_selected(self, request: HttpRequest, queryset: QuerySet) -> None:
        queued = replay_deliveries(deliveries=list(queryset), actor=request.user)
        self.message_user(request, f"{queued} deliveries queued again.", messages.SUCCESS)
