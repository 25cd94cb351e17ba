"""The sender identity through the API (docs/senders.md): a client's, and a campaign's overrides.

``GET``/``PUT``/``PATCH /api/v1/clients/{id}/sender-identity/`` and
``/api/v1/campaigns/{id}/sender-identity/``. Reads follow the caller's scope (a client user sees
their own client's); writes are staff's (``sender_identity.set``), through ``set_sender_identity``.
"""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from .models import Campaign, Client
from .selectors import campaigns_visible_to
from .sender_identity import IDENTITY_FIELDS, client_identity, sender_identity
from .services.sender_identity import set_sender_identity

ACTION = "sender_identity.set"


class SenderIdentityFieldsSerializer(serializers.Serializer):
    sender_from_name = serializers.CharField(max_length=120, allow_blank=True, required=False)
    sender_from_email = serializers.EmailField(allow_blank=True, required=False)
    sender_reply_to = serializers.EmailField(allow_blank=True, required=False)
    sending_domain = serializers.CharField(max_length=253, allow_blank=True, required=False)
    sender_postal_address = serializers.CharField(max_length=1000, allow_blank=True, required=False)
    tracking_domain = serializers.CharField(
        max_length=253,
        allow_blank=True,
        required=False,
        help_text="The client's own domain for tracked links (needed before a sequence tracks "
        "opens or clicks).",
    )


class EffectiveIdentitySerializer(serializers.Serializer):
    from_name = serializers.CharField()
    from_email = serializers.CharField()
    reply_to = serializers.CharField()
    sending_domain = serializers.CharField(help_text="The domain readiness checks.")
    postal_address = serializers.CharField()
    tracking_domain = serializers.CharField()
    sources = serializers.DictField(
        child=serializers.CharField(), help_text="Where each value comes from: campaign, client or policy."
    )


class SenderIdentityResponseSerializer(SenderIdentityFieldsSerializer):
    effective = EffectiveIdentitySerializer(read_only=True)


def _effective(identity) -> dict:
    return {
        "from_name": identity.from_name,
        "from_email": identity.from_email,
        "reply_to": identity.reply_to,
        "sending_domain": identity.domain,
        "postal_address": identity.postal_address,
        "tracking_domain": identity.tracking_domain,
        "sources": identity.sources,
    }


_WRITE_SCHEMA = extend_schema(
    request=SenderIdentityFieldsSerializer, responses=SenderIdentityResponseSerializer
)


# One schema for both views: the subclasses inherit these methods, and with them their schema.
@extend_schema_view(
    get=extend_schema(responses=SenderIdentityResponseSerializer), put=_WRITE_SCHEMA, patch=_WRITE_SCHEMA
)
class _SenderIdentityView(APIView):
    lookup_field = "id"  # client users' writes are judged on the object (ActionPermission)
    write_actions = {"put": ACTION, "patch": ACTION}

    def get_object(self):
        raise NotImplementedError

    def identity_of(self, obj):
        raise NotImplementedError

    def _body(self, obj) -> dict:
        return {
            **{name: getattr(obj, name) for name in IDENTITY_FIELDS},
            "effective": _effective(self.identity_of(obj)),
        }

    def get(self, request, id: int):
        return Response(self._body(self.get_object()))

    def _write(self, request, *, partial: bool):
        obj = self.get_object()
        self.check_object_permissions(request, obj)
        serializer = SenderIdentityFieldsSerializer(data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        values = dict(serializer.validated_data)
        if not partial:  # PUT: what is left out is cleared
            values = {name: values.get(name, "") for name in IDENTITY_FIELDS}
        set_sender_identity(target=obj, values=values, actor=request.user)
        return Response(self._body(obj))

    def put(self, request, id: int):
        return self._write(request, partial=False)

    def patch(self, request, id: int):
        return self._write(request, partial=True)


@extend_schema(tags=["sender identity"])
class ClientSenderIdentityView(_SenderIdentityView):
    """A client's sender identity: from name and address, reply-to, sending domain, postal address."""

    def get_object(self) -> Client:
        user = self.request.user
        clients = Client.objects.all() if user.is_staff else Client.objects.filter(pk=user.client_id or 0)
        return get_object_or_404(clients, pk=self.kwargs["id"])

    def identity_of(self, obj):
        return client_identity(obj)


@extend_schema(tags=["sender identity"])
class CampaignSenderIdentityView(_SenderIdentityView):
    """A campaign's overrides of its client's sender identity (empty: the client's), and the result."""

    def get_object(self) -> Campaign:
        campaigns = campaigns_visible_to(self.request.user).select_related("client")
        return get_object_or_404(campaigns, pk=self.kwargs["id"])

    def identity_of(self, obj):
        return sender_identity(obj)
