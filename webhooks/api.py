"""Webhooks API: a client's endpoints (create, change, delete, rotate the secret, ping), the
delivery log of each, and the event types with their JSON schemas.

Client users see and manage their own client's endpoints only (another client's id is a 404);
staff see every endpoint and name the client when creating one.
"""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from campaigns.api import BadRequestSerializer, ErrorSerializer
from campaigns.event_types import ENVELOPE_SCHEMA, EVENT_TYPES
from campaigns.models import Client
from campaigns.selectors import clients_visible_to

from .models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from .selectors import deliveries_of, endpoints_visible_to
from .services import (
    MAX_OVERLAP_SECONDS,
    create_endpoint,
    delete_endpoint,
    rotate_secret,
    send_test_ping,
    update_endpoint,
)
from .url_guard import MAX_URL_CHARS

EVENT_TYPE_CHOICES = sorted(EVENT_TYPES)
NOT_FOUND = OpenApiResponse(description="No such endpoint for this client.")


class EndpointSerializer(serializers.ModelSerializer):
    contact_email = serializers.CharField(read_only=True, help_text="Told if disabled; empty: your users.")
    secret_overlap_until = serializers.DateTimeField(
        source="previous_secret_expires_at",
        read_only=True,
        allow_null=True,
        help_text="After a rotation: until when the previous secret still signs alongside the new one.",
    )

    class Meta:
        model = WebhookEndpoint
        fields = [
            "id",
            "client",
            "url",
            "description",
            "event_types",
            "batch_enabled",
            "is_active",
            "contact_email",
            "failing_since",
            "disabled_at",
            "disabled_reason",
            "secret_overlap_until",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class EndpointWithSecretSerializer(EndpointSerializer):
    secret = serializers.CharField(
        read_only=True, help_text="The signing secret (whsec_…). Shown this once: store it now."
    )

    class Meta(EndpointSerializer.Meta):
        fields = [*EndpointSerializer.Meta.fields, "secret"]
        read_only_fields = fields


class _EndpointFields(serializers.Serializer):
    url = serializers.CharField(
        max_length=MAX_URL_CHARS, help_text="https:// address on the public internet."
    )
    description = serializers.CharField(max_length=300, required=False, allow_blank=True)
    event_types = serializers.ListField(
        child=serializers.ChoiceField(choices=EVENT_TYPE_CHOICES),
        min_length=1,
        max_length=len(EVENT_TYPE_CHOICES),
        help_text="The event types to send (GET /api/v1/webhooks/event-types/ lists them).",
    )
    batch_enabled = serializers.BooleanField(
        required=False, help_text="Send message.sent in batches of up to 100 events per POST."
    )
    contact_email = serializers.EmailField(
        required=False, allow_blank=True, help_text="Told if the endpoint is disabled; empty: your users."
    )


class EndpointCreateSerializer(_EndpointFields):
    client = serializers.PrimaryKeyRelatedField(
        queryset=Client.objects.all(),
        required=False,
        help_text="Staff only: the client. Client users always create for their own client.",
    )


class EndpointUpdateSerializer(_EndpointFields):
    is_active = serializers.BooleanField(
        required=False, help_text="Switch off, or back on (a disabled endpoint's failures are cleared)."
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.required = False


class RotateSecretSerializer(serializers.Serializer):
    overlap_seconds = serializers.IntegerField(
        required=False,
        min_value=0,
        max_value=MAX_OVERLAP_SECONDS,
        help_text="How long the current secret keeps signing alongside the new one (default 24 h).",
    )


class DeliverySerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "message_id",
            "kind",
            "event_type",
            "event_ids",
            "event_count",
            "status",
            "attempts",
            "next_attempt_at",
            "created_at",
            "last_attempt_at",
            "last_status_code",
            "last_response_body",
            "last_error",
            "delivered_at",
            "dead_at",
        ]
        read_only_fields = fields


_write_errors = {
    400: OpenApiResponse(BadRequestSerializer, description="Invalid fields, or a refused (unsafe) URL."),
    403: OpenApiResponse(ErrorSerializer, description="The caller's role may not manage webhooks."),
}


class WebhookEndpointViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Webhook endpoints of the caller's client (staff: all clients)."""

    serializer_class = EndpointSerializer
    write_actions = {
        "create": "webhook.manage",
        "partial_update": "webhook.manage",
        "destroy": "webhook.manage",
        "rotate_secret": "webhook.manage",
        "ping": "webhook.manage",
    }

    def get_queryset(self):
        return endpoints_visible_to(self.request.user).order_by("id")

    @extend_schema(
        request=EndpointCreateSerializer,
        responses={201: EndpointWithSecretSerializer, **_write_errors},
    )
    def create(self, request: Request, *args, **kwargs) -> Response:
        """Create an endpoint. The answer carries its signing secret, shown this once."""
        body = EndpointCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        requested = data.pop("client", None)
        user = request.user
        if user.is_staff:
            if requested is None:
                raise serializers.ValidationError({"client": "Staff must say which client it is for."})
            client = requested
        else:
            client = get_object_or_404(clients_visible_to(user))
            if requested is not None and requested.pk != client.pk:
                raise PermissionDenied("You can only create webhook endpoints for your own client.")
        endpoint, secret = create_endpoint(client=client, actor=user, **data)
        endpoint.secret = secret
        return Response(EndpointWithSecretSerializer(endpoint).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=EndpointUpdateSerializer, responses={200: EndpointSerializer, **_write_errors})
    def partial_update(self, request: Request, *args, **kwargs) -> Response:
        """Change an endpoint's URL, description, event types, batching, contact or active flag."""
        endpoint = self.get_object()
        body = EndpointUpdateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        updated = update_endpoint(endpoint=endpoint, actor=request.user, **body.validated_data)
        return Response(EndpointSerializer(updated).data)

    @extend_schema(responses={204: None, 403: _write_errors[403], 404: NOT_FOUND})
    def destroy(self, request: Request, *args, **kwargs) -> Response:
        """Delete an endpoint and its delivery log."""
        delete_endpoint(endpoint=self.get_object(), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        request=RotateSecretSerializer,
        responses={
            200: inline_serializer(
                "RotatedSecret",
                {
                    "secret": serializers.CharField(help_text="The new secret, shown this once."),
                    "previous_secret_expires_at": serializers.DateTimeField(allow_null=True),
                },
            ),
            **_write_errors,
            404: NOT_FOUND,
        },
    )
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request: Request, pk: str | None = None) -> Response:
        """Rotate the signing secret; the old one keeps signing alongside it for the overlap."""
        endpoint = self.get_object()
        body = RotateSecretSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        secret = rotate_secret(
            endpoint=endpoint, actor=request.user, overlap_seconds=body.validated_data.get("overlap_seconds")
        )
        endpoint.refresh_from_db()
        return Response({"secret": secret, "previous_secret_expires_at": endpoint.previous_secret_expires_at})

    @extend_schema(request=None, responses={200: DeliverySerializer, **_write_errors, 404: NOT_FOUND})
    @action(detail=True, methods=["post"])
    def ping(self, request: Request, pk: str | None = None) -> Response:
        """Send a signed webhook.ping now and answer with its delivery (status, response code)."""
        delivery = send_test_ping(endpoint=self.get_object(), actor=request.user)
        return Response(DeliverySerializer(delivery).data)

    @extend_schema(
        parameters=[
            OpenApiParameter("status", str, enum=DeliveryStatus.values, description="Only this status.")
        ],
        responses={200: DeliverySerializer(many=True), 404: NOT_FOUND},
    )
    @action(detail=True, methods=["get"])
    def deliveries(self, request: Request, pk: str | None = None) -> Response:
        """The endpoint's delivery log, newest first."""
        deliveries = deliveries_of(self.get_object())
        wanted = request.query_params.get("status")
        if wanted:
            if wanted not in DeliveryStatus.values:
                raise serializers.ValidationError({"status": f"One of {', '.join(DeliveryStatus.values)}."})
            deliveries = deliveries.filter(status=wanted)
        page = self.paginate_queryset(deliveries)
        return self.get_paginated_response(DeliverySerializer(page, many=True).data)


class EventTypeSerializer(serializers.Serializer):
    type = serializers.CharField()
    version = serializers.IntegerField()
    description = serializers.CharField()
    batchable = serializers.BooleanField(help_text="Sent up to 100 per POST to endpoints that batch.")
    emitted = serializers.BooleanField(help_text="False: declared, but nothing sends it yet.")
    schema = serializers.JSONField(help_text="JSON Schema (2020-12) of the event's data.")


class EventTypesView(APIView):
    """The event types, their versions and the JSON schema of each one's ``data``."""

    @extend_schema(
        responses=inline_serializer(
            "WebhookEventTypes",
            {
                "envelope": serializers.JSONField(help_text="JSON Schema of every event's envelope."),
                "event_types": EventTypeSerializer(many=True),
            },
        )
    )
    def get(self, request: Request) -> Response:
        """List the webhook event types with their JSON schemas."""
        return Response(
            {
                "envelope": ENVELOPE_SCHEMA,
                "event_types": [EVENT_TYPES[name].as_dict() for name in EVENT_TYPE_CHOICES],
            }
        )
