"""Framework models (auth groups, API tokens, periodic-task schedules, login lockouts, …) in the
admin: shown to superusers and the admin role only. Operators and approvers see the back office
they work in, even where someone granted them a framework model's permission by hand.

A framework model is one whose app lives outside the project (an installed package): new
framework apps are covered without a list to keep.
"""

from __future__ import annotations

from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.contrib.admin import AdminSite
from django.http import HttpRequest

from campaigns.permissions import user_role
from campaigns.roles import ADMIN

_ALLOWED = "_aicmo_may_see_framework"  # per-request cache: the index asks once per model


def is_framework_app(app_label: str) -> bool:
    path = Path(apps.get_app_config(app_label).path).resolve()
    root = Path(settings.BASE_DIR).resolve()
    return root not in path.parents or "site-packages" in path.parts


def may_see_framework_models(request: HttpRequest) -> bool:
    allowed = getattr(request, _ALLOWED, None)
    if allowed is None:
        user = request.user
        allowed = bool(user.is_active and (user.is_superuser or user_role(user) == ADMIN))
        setattr(request, _ALLOWED, allowed)
    return allowed


class FrameworkModelAdminMixin:
    """Every permission of a framework model's admin needs the admin role first."""

    def has_module_permission(self, request):
        return may_see_framework_models(request) and super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        return may_see_framework_models(request) and super().has_view_permission(request, obj)

    def has_add_permission(self, request, *args):
        return may_see_framework_models(request) and super().has_add_permission(request, *args)

    def has_change_permission(self, request, obj=None):
        return may_see_framework_models(request) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return may_see_framework_models(request) and super().has_delete_permission(request, obj)


def restrict_framework_models(site: AdminSite) -> list[str]:
    """Re-register every framework model's admin with ``FrameworkModelAdminMixin`` in front.
    Idempotent; returns the models it restricted ("app_label.Model")."""
    restricted = []
    for model, model_admin in list(site._registry.items()):
        cls = type(model_admin)
        if not is_framework_app(model._meta.app_label):
            continue
        if not issubclass(cls, FrameworkModelAdminMixin):
            site.unregister(model)
            site.register(model, type(f"Framework{cls.__name__}", (FrameworkModelAdminMixin, cls), {}))
        restricted.append(model._meta.label)
    return sorted(restricted)
