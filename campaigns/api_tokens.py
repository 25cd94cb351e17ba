"""API tokens: the one place that creates, rotates and revokes a user's token.

Called by the token endpoint (``POST /api/v1/auth/token/``, ``aicmo_site/auth_api.py``), the user
page of the admin (``campaigns/admin_tokens.py``), ``create_api_user`` and ``seed_demo``. A user
has at most one token (DRF's ``Token``: the key is the secret, stored as is). Every change is in
the audit log, never with the key. Not a service module: services stay free of REST framework.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from rest_framework.authtoken.models import Token

from .permissions import require_action_unless_system
from .services.audit import record_audit_event

MANAGE_ACTION = "api_token.manage"


def existing_api_token(user: Any) -> Token | None:
    return Token.objects.filter(user=user).first()


def api_token_for(user: Any, *, actor: Any = None) -> Token:
    """The user's token, created when it has none. For the user themself (the token endpoint,
    after their password was checked) and the system (commands); no further check."""
    with transaction.atomic():
        token, created = Token.objects.get_or_create(user=user)
        if created:
            record_audit_event(
                verb="api_token.created", actor=actor, target=user, metadata={"user": user.get_username()}
            )
    return token


def rotate_api_token(user: Any, *, actor: Any) -> Token:
    """A new token for ``user``; the old key stops working at once. ``actor`` needs
    ``api_token.manage`` (``actor=None``: the system)."""
    require_action_unless_system(actor, MANAGE_ACTION, user)
    with transaction.atomic():
        replaced = Token.objects.filter(user=user).delete()[0] > 0
        token = Token.objects.create(user=user)
        record_audit_event(
            verb="api_token.rotated" if replaced else "api_token.created",
            actor=actor,
            target=user,
            metadata={"user": user.get_username()},
        )
    return token


def revoke_api_token(user: Any, *, actor: Any) -> bool:
    """Delete ``user``'s token (the API answers 401 to it from now on); False when it had none."""
    require_action_unless_system(actor, MANAGE_ACTION, user)
    with transaction.atomic():
        revoked = Token.objects.filter(user=user).delete()[0] > 0
        if revoked:
            record_audit_event(
                verb="api_token.revoked", actor=actor, target=user, metadata={"user": user.get_username()}
            )
    return revoked
