"""The API's side of ``campaigns.permissions``: every write endpoint names its action.

A view declares ``write_actions``: viewset action name (or, for a plain APIView, the lower-case
HTTP method) → action, e.g. ``{"budget": "campaign.change_budget"}``. ``ActionPermission`` (in
``DEFAULT_PERMISSION_CLASSES``) asks ``require_action`` for it:

- reads (GET, HEAD, OPTIONS) are not actions: every list and detail is scoped to the caller's
  client by its queryset;
- a write without a declared action is refused (403): a new endpoint is closed until someone
  decides who may use it (and ``tests/security/test_role_matrix.py`` fails until then);
- staff are judged at once (their rights do not depend on the object);
- client users are judged on the object: the campaign of a ``campaign_id`` route, or what the
  view's ``get_object()`` finds. Another client's id therefore stays a 404, never a 403.
"""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import SAFE_METHODS, BasePermission

from .permissions import is_client_user, require_action
from .selectors import campaigns_visible_to


def declared_write_action(view_class: type, method: str, view_action: str | None = None) -> str | None:
    """The action a write to ``view_class`` (``method``; ``view_action`` for viewsets) declares."""
    declared: dict[str, str] = getattr(view_class, "write_actions", {}) or {}
    key = view_action or method.lower()
    return declared.get(key)


def _declared(request, view) -> str | None:
    return declared_write_action(type(view), request.method, getattr(view, "action", None))


class ActionPermission(BasePermission):
    message = "This endpoint declares no permission decision; it stays closed until it does."

    def has_permission(self, request, view) -> bool:
        if request.method in SAFE_METHODS:
            return True
        action = _declared(request, view)
        if action is None:
            return False
        user = request.user
        if is_client_user(user):
            campaign_id = view.kwargs.get("campaign_id")
            if campaign_id is not None:
                campaign = campaigns_visible_to(user).filter(pk=campaign_id).first()
                if campaign is not None:  # else the view answers 404
                    require_action(user, action, campaign)
                return True
            lookup = getattr(view, "lookup_url_kwarg", None) or getattr(view, "lookup_field", None)
            if lookup and lookup in view.kwargs:
                return True  # decided in has_object_permission, once get_object() found it
        require_action(user, action)
        return True

    def has_object_permission(self, request, view, obj: Any) -> bool:
        if request.method in SAFE_METHODS:
            return True
        action = _declared(request, view)
        if action is None:
            return False
        require_action(request.user, action, obj)
        return True
