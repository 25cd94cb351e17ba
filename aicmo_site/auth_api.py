"""``POST /api/v1/auth/token/``: a username and password in, the user's API token out.

The one API endpoint without authentication (docs/SECURITY.md "Public endpoints"). Guessing is
bounded twice: a scoped throttle per client address (``API_THROTTLE_AUTH_TOKEN``, 10/min) and the
admin login's lockout (django-axes, per username + address): the password is checked by
``django.contrib.auth.authenticate`` with the request, exactly as the admin login form does, so a
failure here counts towards the same lockout and a locked-out pair is refused here too (429).
"""

from __future__ import annotations

from axes.helpers import get_cool_off
from django.contrib.auth import authenticate, user_logged_in
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import exceptions, serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from campaigns.api_tokens import api_token_for

from .throttling import FailOpenAddressScopedRateThrottle

INVALID_CREDENTIALS = "No active user with this username and password."


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(
        max_length=4096, trim_whitespace=False, write_only=True, style={"input_type": "password"}
    )


class TokenResponseSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="The key. Keep it secret: it acts as you.")
    authorization = serializers.CharField(
        help_text="The header value to send with every request: `Token <key>`."
    )
    username = serializers.CharField()
    client = serializers.IntegerField(
        allow_null=True, help_text="The client a client user belongs to; null for agency staff."
    )


class LoginLockedOut(exceptions.Throttled):
    default_detail = "Too many failed logins for this username from this address."
    default_code = "login_locked_out"


ERROR = inline_serializer(
    "TokenError", fields={"detail": serializers.CharField(), "code": serializers.CharField(required=False)}
)
# Wrong credentials: `detail`; a missing or invalid field: the field's messages.
BAD_REQUEST = inline_serializer(
    "TokenBadRequest",
    fields={
        "detail": serializers.CharField(required=False),
        "username": serializers.ListField(child=serializers.CharField(), required=False),
        "password": serializers.ListField(child=serializers.CharField(), required=False),
    },
)


class ObtainTokenView(APIView):
    """Get an API token with a username and password.

    Answers the user's token (the same key every time, until it is rotated or revoked in the
    admin). Send it as `Authorization: Token <key>` on every other request."""

    authentication_classes: list = []  # a stale or wrong token header must not stand in the way
    permission_classes = [AllowAny]
    throttle_classes = [FailOpenAddressScopedRateThrottle]
    throttle_scope = "auth_token"

    @extend_schema(
        operation_id="v1_auth_token_create",
        summary="Get an API token",
        tags=["auth"],
        request=TokenRequestSerializer,
        responses={
            200: TokenResponseSerializer,
            400: OpenApiResponse(
                BAD_REQUEST, description="A field is missing, or the username and password are wrong."
            ),
            429: OpenApiResponse(
                ERROR,
                description="Too many attempts: this address is throttled (`API_THROTTLE_AUTH_TOKEN`), "
                "or this username is locked out from this address after repeated failures "
                "(`AICMO_LOGIN_FAILURE_LIMIT`). `Retry-After` says when to try again.",
            ),
        },
        examples=[
            OpenApiExample(
                "A client user", value={"username": "acme-api", "password": "…"}, request_only=True
            ),
        ],
    )
    def post(self, request):
        form = TokenRequestSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        # The Django request, not DRF's wrapper: axes records the attempt (and its lockout flag)
        # on it, by the client's address, as for the admin login.
        http_request = request._request
        user = authenticate(
            http_request, username=form.validated_data["username"], password=form.validated_data["password"]
        )
        if user is None:
            if getattr(http_request, "axes_locked_out", False):
                # Answered here, as JSON with Retry-After; left set, AxesMiddleware would replace
                # this answer with its plain-text page.
                http_request.axes_locked_out = False
                cool_off = get_cool_off(http_request)
                raise LoginLockedOut(wait=cool_off.total_seconds() if cool_off else None)
            raise exceptions.ValidationError({"detail": INVALID_CREDENTIALS}, code="invalid_credentials")
        # A successful login as far as Django and axes are concerned: last_login is set and the
        # failures counted for this username + address are reset (AXES_RESET_ON_SUCCESS).
        user_logged_in.send(sender=user.__class__, request=http_request, user=user)
        token = api_token_for(user, actor=user)
        return Response(
            {
                "token": token.key,
                "authorization": f"Token {token.key}",
                "username": user.get_username(),
                "client": getattr(user, "client_id", None),
            }
        )
