"""The OpenAPI schema's shape, in one place instead of a decorator on every view.

``AicmoAutoSchema`` (``DEFAULT_SCHEMA_CLASS``) gives every operation:

- a **tag** per resource, read from its path (``/campaigns/{campaign_id}/leads/…`` is "leads");
- a **summary**: the first sentence of the view method's own docstring when it is short, else one
  made from the path ("List leads", "Get a creative", "Get the budget");
- who may call it, from the permission layer itself: a write endpoint's declared action
  (``write_actions``, ``campaigns.api_permissions``) and that action's rule
  (``campaigns.permissions``): an action client users may never take is marked **staff only**
  in the summary and the description, with the permission and the role that has it;
- its **401** and, for writes, **403** answers.

A view's own ``@extend_schema`` (summary, tags, responses) wins over what is made here. Also here:
the token scheme's description (how to send a key, where to get one) and the hook that lists it
first in Swagger's Authorize dialog.
"""

from __future__ import annotations

import re

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from rest_framework import serializers
from rest_framework.permissions import SAFE_METHODS

from campaigns.api_permissions import declared_write_action
from campaigns.permissions import CLIENTS_IF_CLIENT_APPROVAL, CLIENTS_NEVER, action_rule, permission_needed

API_PREFIX = "/api/v1/"
TOKEN_SCHEME = "tokenAuth"

TOKEN_HOW_TO = (
    "Send `Authorization: Token <key>`: the word `Token`, a space, then the key. In Swagger's "
    "Authorize box type it the same way, e.g. `Token 9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b`; the "
    "bare key, or `Bearer <key>`, answers 401. Get your key with `POST /api/v1/auth/token/` "
    "(username and password; `make run` prints the demo client's), or from your agency (the admin's "
    "user page creates, rotates and revokes keys)."
)
SESSION_HOW_TO = (
    "The admin's session: signed in to /admin/ in this browser, Swagger's *Try it out* works without "
    "a token. For programs, use the token."
)

# One tag per resource, in the order Swagger lists them.
TAGS = [
    {"name": "auth", "description": "Get an API token with a username and password."},
    {"name": "campaigns", "description": "Campaigns, their lifecycle (pause, resume, kill, …) and budget."},
    {"name": "strategies", "description": "The brief, generated strategies, the decision and the plan."},
    {"name": "creatives", "description": "Generated copy per platform, its checks and its review."},
    {"name": "leads", "description": "Leads of a campaign: push, CSV import, list."},
    {"name": "outreach", "description": "Sending cycles: run one, or see what the next would do."},
    {"name": "tasks", "description": "Operator tasks (manual steps such as LinkedIn posts)."},
    {"name": "reports", "description": "Metrics, executive and A/B reports, weekly summaries, won deals."},
    {"name": "suppressions", "description": "The do-not-contact list."},
    {
        "name": "webhooks",
        "description": "Outbound event webhooks: your endpoints, their deliveries, the event types "
        "and their schemas (docs/webhooks.md).",
    },
]
# The resource a path is about: its first segment, or the one after `campaigns/{campaign_id}/`
# (a campaign's leads are "leads"; `campaigns/{id}/pause/` is still "campaigns"). A segment not
# listed is its own tag, so a new resource never lands in a catch-all.
SEGMENT_TAGS = {
    "auth": "auth",
    "campaigns": "campaigns",
    "brief": "strategies",
    "plan": "strategies",
    "calendar": "strategies",
    "strategies": "strategies",
    "creatives": "creatives",
    "leads": "leads",
    "run-cycle": "outreach",
    "cycle-preview": "outreach",
    "sequences": "outreach",
    "messages": "outreach",
    "tasks": "tasks",
    "reports": "reports",
    "outcomes": "reports",
    "suppressions": "suppressions",
}
SINGULAR = {
    "campaigns": "campaign",
    "strategies": "strategy",
    "creatives": "creative",
    "leads": "lead",
    "tasks": "task",
    "suppressions": "suppression",
    "outcomes": "won deal",
    "messages": "message",
    "sequences": "sequence",
}
WORDS = {"ab": "A/B", "run-cycle": "run cycle", "cycle-preview": "next cycle preview"}
# Where neither the docstring nor the path says it well.
SUMMARIES = {
    ("POST", "/api/v1/campaigns/{id}/budget/"): "Change the budget cap",
    ("POST", "/api/v1/campaigns/{campaign_id}/leads/"): "Push leads",
    ("POST", "/api/v1/campaigns/{campaign_id}/creatives/generate/"): "Generate creatives",
    ("GET", "/api/v1/suppressions/check/"): "Check whether an address is suppressed",
    ("POST", "/api/v1/tasks/{id}/fail/"): "Mark a task as failed",
    ("POST", "/api/v1/tasks/{id}/skip/"): "Skip a task",
}
PLURAL = {"calendar": "calendar items", "strategies": "strategy variants"}
STANDARD_ACTIONS = {"list", "retrieve", "create", "update", "partial_update", "destroy"}
MAX_SUMMARY = 60


class ApiError(serializers.Serializer):
    detail = serializers.CharField()
    code = serializers.CharField(required=False)


UNAUTHORIZED = (
    "Not authenticated: no `Authorization: Token <key>` header (nor an admin session), an unknown or "
    "revoked key, or a key sent without the word `Token` (`WWW-Authenticate: Token`). "
    "After repeated failures from one address: 429."
)
FORBIDDEN = (
    "Authenticated, but not allowed: `detail` names the permission needed, the role that has it "
    "and yours (`code`: `action_not_permitted`). Another client's object is a 404, not a 403."
)


def _words(segment: str) -> str:
    return WORDS.get(segment, segment.replace("-", " ").replace("_", " "))


def _first_sentence(doc: str) -> str:
    """The docstring's first sentence without parentheses, or "" when it does not read as a
    summary (it starts with "GET:", or is one word)."""
    text = " ".join(doc.split())
    if re.match(r"^[A-Z]{3,6}\b", text):  # "GET: … POST: …" describes several operations
        return ""
    text = re.sub(r"\s*\([^()]*\)", "", text)
    first = re.split(r"(?<=[A-Za-z0-9`])\. |\.$|(?<=\?) |: |; | — ", text, maxsplit=1)[0].strip()
    return first.rstrip(".") if len(first.split()) >= 2 else ""


class AicmoAutoSchema(AutoSchema):
    def _segments(self) -> list[str]:
        path = self.path[len(API_PREFIX) :] if self.path.startswith(API_PREFIX) else self.path
        return [s for s in path.strip("/").split("/") if s]

    def _resource(self) -> str:
        segments = self._segments()
        if len(segments) > 2 and segments[0] == "campaigns" and segments[1] == "{campaign_id}":
            return segments[2]
        return segments[0] if segments else "api"

    def get_tags(self) -> list[str]:
        resource = self._resource()
        return [SEGMENT_TAGS.get(resource, resource)]

    # --- summaries --------------------------------------------------------------------------

    def _own_docstring(self) -> str:
        """The docstring of the method handling this operation, if our code defines it (DRF's
        list/retrieve/create have none worth showing)."""
        name = getattr(self.view, "action", None) or self.method.lower()
        method = getattr(type(self.view), name, None)
        if method is None or (getattr(method, "__module__", "") or "").startswith("rest_framework"):
            return ""
        return method.__doc__ or ""

    def _generated_summary(self) -> str:
        segments = self._segments()
        resource = self._resource()
        tail = [s for s in segments[segments.index(resource) + 1 :] if not s.startswith("{")]
        singular = SINGULAR.get(resource, _words(resource))
        if self.method == "GET" and resource == "reports" and tail:
            kind = " ".join(map(_words, tail))
            return f"List {kind} reports" if self._is_list_view() else f"Get the {kind} report"
        if self.method == "GET":
            if self._is_list_view():
                return (
                    f"List {' '.join(map(_words, tail))} {singular}s"
                    if tail
                    else f"List {PLURAL.get(resource, _words(resource))}"
                )
            if tail:
                of = f" of a {singular}" if "{" in "".join(segments[segments.index(resource) :]) else ""
                return f"Get the {' '.join(map(_words, tail))}{of}"
            if segments and segments[-1].startswith("{"):
                return f"Get a {singular}"
            return f"Get the {_words(resource)}"
        if self._is_create_operation() and not tail:
            return f"Create a {singular}"
        verb = {"PUT": "Replace", "PATCH": "Update", "DELETE": "Delete"}.get(self.method)
        if verb:
            return f"{verb} the {_words(resource)}" if not tail else f"{verb} {' '.join(map(_words, tail))}"
        action = " ".join(_words(s) for s in tail) or "create"
        return f"{action.capitalize()} a {singular}"

    def get_summary(self) -> str | None:
        fixed = SUMMARIES.get((self.method, self.path))
        if fixed:
            return fixed
        # Reads and the standard actions read best made from the path ("List leads", "Get the
        # plan"); other writes are best said by their docstring ("Pause an active campaign").
        if self.method != "GET" and getattr(self.view, "action", None) not in STANDARD_ACTIONS:
            own = _first_sentence(self._own_docstring())
            if own and len(own) <= MAX_SUMMARY:
                return own
        return self._generated_summary()

    # --- who may call it ----------------------------------------------------------------------

    def _write_rule(self):
        if self.method in SAFE_METHODS:
            return None
        action = declared_write_action(type(self.view), self.method, getattr(self.view, "action", None))
        return action_rule(action) if action else None

    def _is_public(self) -> bool:
        return not self.view.get_authenticators()

    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None or self._is_public():
            return operation
        rule = self._write_rule()
        if rule is not None:
            staff_needs = permission_needed(rule.staff_permission)
            if rule.clients == CLIENTS_NEVER:
                operation["summary"] = f"{operation.get('summary') or self._generated_summary()} (staff only)"
                who = f"**Staff only**: agency staff with {staff_needs}; a client user gets 403."
            elif rule.clients == CLIENTS_IF_CLIENT_APPROVAL:
                who = (
                    f"**Who**: agency staff with {staff_needs}; a client user on its own client's "
                    "campaigns only where the campaign allows client approval."
                )
            else:
                who = f"**Who**: agency staff with {staff_needs}; a client user on its own client's objects."
            who += f" (Action `{rule.name}`.)"
            operation["description"] = "\n\n".join(p for p in (operation.get("description"), who) if p)
        error = {"application/json": {"schema": self.resolve_serializer(ApiError, "response").ref}}
        responses = operation.setdefault("responses", {})
        responses.setdefault("401", {"description": UNAUTHORIZED, "content": error})
        if self.method not in SAFE_METHODS:
            responses.setdefault("403", {"description": FORBIDDEN, "content": error})
        return operation


class TokenScheme(OpenApiAuthenticationExtension):
    """The token scheme, described: how to send the key and where to get one."""

    target_class = "aicmo_site.authentication.ThrottledTokenAuthentication"
    name = TOKEN_SCHEME
    priority = 1

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "header", "name": "Authorization", "description": TOKEN_HOW_TO}


class SessionScheme(OpenApiAuthenticationExtension):
    target_class = "rest_framework.authentication.SessionAuthentication"
    name = "cookieAuth"
    priority = 1

    def get_security_definition(self, auto_schema):
        from django.conf import settings

        return {
            "type": "apiKey",
            "in": "cookie",
            "name": settings.SESSION_COOKIE_NAME,
            "description": SESSION_HOW_TO,
        }


def tags_and_token_first(result, generator, request, public):
    """Postprocessing hook: the tags in use, described, in the order of ``TAGS`` (others after);
    and the token scheme first in ``securitySchemes`` (Swagger's Authorize dialog lists them in
    that order; drf-spectacular sorts them by name, which would put the session first)."""
    used = {
        tag
        for item in result.get("paths", {}).values()
        for operation in item.values()
        if isinstance(operation, dict)
        for tag in operation.get("tags", ())
    }
    known = [tag for tag in TAGS if tag["name"] in used]
    result["tags"] = known + [{"name": name} for name in sorted(used - {t["name"] for t in known})]
    schemes = result.get("components", {}).get("securitySchemes")
    if schemes and TOKEN_SCHEME in schemes:
        result["components"]["securitySchemes"] = {
            TOKEN_SCHEME: schemes[TOKEN_SCHEME],
            **{name: scheme for name, scheme in schemes.items() if name != TOKEN_SCHEME},
        }
    return result
