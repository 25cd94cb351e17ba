"""The user page's "API token" section: create or rotate, and revoke, a user's API token.

A mixin for the user admin (``campaigns.admin.UserAdmin``). The section shows whether the user has
a token and since when, never the key; "Create token" / "Rotate token" makes a new one and shows
its key once, on a page of its own (not in a message, which would keep it in the session or a
cookie). Who may: ``api_token.manage`` (``campaigns.api_tokens``). The buttons submit the change
form to their own URL (``formaction``), since a form may not hold another form.
"""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.decorators import method_decorator
from django.utils.html import format_html
from django.views.decorators.http import require_POST

from .api_tokens import MANAGE_ACTION, existing_api_token, revoke_api_token, rotate_api_token
from .permissions import is_allowed, require_action

TOKEN_FIELD = "api_token"


def _url_name(opts, view: str) -> str:
    return f"{opts.app_label}_{opts.model_name}_{view}"


class ApiTokenAdminMixin:
    """Adds the "API token" section and its two POST views to a user admin."""

    def get_urls(self):
        return [
            path(
                "<path:object_id>/api-token/rotate/",
                self.admin_site.admin_view(self.rotate_api_token_view),
                name=_url_name(self.model._meta, "api_token_rotate"),
            ),
            path(
                "<path:object_id>/api-token/revoke/",
                self.admin_site.admin_view(self.revoke_api_token_view),
                name=_url_name(self.model._meta, "api_token_revoke"),
            ),
            *super().get_urls(),
        ]

    def get_fieldsets(self, request: HttpRequest, obj=None):
        fieldsets = list(super().get_fieldsets(request, obj))
        if obj is not None and is_allowed(request.user, MANAGE_ACTION, obj):
            fieldsets.append(("API token", {"fields": (TOKEN_FIELD,)}))
        return fieldsets

    def get_readonly_fields(self, request: HttpRequest, obj=None):
        return (*super().get_readonly_fields(request, obj), TOKEN_FIELD)

    def api_token(self, obj) -> str:
        token = existing_api_token(obj)
        rotate = reverse("admin:" + _url_name(self.model._meta, "api_token_rotate"), args=[obj.pk])
        revoke = reverse("admin:" + _url_name(self.model._meta, "api_token_revoke"), args=[obj.pk])
        if token is None:
            return format_html(
                'No token: this user cannot call the API yet. <button type="submit" '
                'formaction="{}" formnovalidate class="button" id="api-token-rotate">Create token</button>',
                rotate,
            )
        return format_html(
            "Has a token since {} UTC (its key was shown once, when it was made). "
            '<button type="submit" formaction="{}" formnovalidate class="button" id="api-token-rotate">'
            "Rotate token</button> "
            '<button type="submit" formaction="{}" formnovalidate class="button" id="api-token-revoke">'
            "Revoke token</button>",
            token.created.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M"),
            rotate,
            revoke,
        )

    api_token.short_description = "API token"  # type: ignore[attr-defined]

    def _token_user(self, request: HttpRequest, object_id: str):
        user = get_object_or_404(self.model, pk=object_id)
        require_action(request.user, MANAGE_ACTION, user)  # 403 naming the permission and the role
        return user

    def _change_url(self, user) -> str:
        return reverse("admin:" + _url_name(self.model._meta, "change"), args=[user.pk])

    @method_decorator(require_POST)
    def rotate_api_token_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        user = self._token_user(request, object_id)
        token = rotate_api_token(user, actor=request.user)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": user,
            "title": f"API token for {user.get_username()}",
            "key": token.key,
            "change_url": self._change_url(user),
            "api_url": request.build_absolute_uri("/api/v1/campaigns/"),
        }
        response = TemplateResponse(request, "admin/campaigns/user/api_token.html", context)
        response["Cache-Control"] = "no-store"  # the key is on this page, once
        return response

    @method_decorator(require_POST)
    def revoke_api_token_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        user = self._token_user(request, object_id)
        if revoke_api_token(user, actor=request.user):
            messages.success(request, f"API token of {user.get_username()} revoked: its key answers 401 now.")
        else:
            messages.info(request, f"{user.get_username()} had no API token.")
        return HttpResponseRedirect(self._change_url(user))
