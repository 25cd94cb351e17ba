"""Batched ESP tracking webhooks: anymail's own views (its basic-auth check, signature checks and
payload parsing, its ``tracking`` signal to every receiver), with the events of one POST stored
set-based after the view accepted the whole request.

Mounted at ``/api/v1/webhooks/<esp>/tracking/`` for every ESP anymail has a tracking webhook for
(``sparkpost``, ``sendgrid``, ``mailjet``, ``mandrill``, … post many events per request). anymail's
own ``/anymail/<esp>/tracking/`` keeps working, storing each event as its signal arrives.

Both forms, and anymail's inbound URLs, refuse a post with ``DEBUG`` off until its authentication
is configured (``outreach.webhook_auth``): without the shared secret anymail would accept anyone's
post, and without the signing key some ESP views skip their signature check. With the settings
present anymail's own checks decide (basic auth, then the signature). ``DEBUG`` on keeps anymail's
behaviour (open, with its AnymailInsecureWebhookWarning) for local work.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import cache, wraps

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseForbidden
from django.urls import URLPattern
from django.views.decorators.csrf import csrf_exempt

from .receivers import collect_tracking_events
from .services.tracking import record_tracking_events
from .webhook_auth import missing_webhook_settings

logger = logging.getLogger(__name__)
# Nothing is stored on these: ESPs use HEAD or GET to validate a webhook URL when it is set up
# (Mandrill before it hands out the signing key), so they stay answerable.
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

try:  # Django ≥ 5.1: the webhook is authenticated by the ESP's credentials, never by a session
    from django.contrib.auth.decorators import login_not_required
except ImportError:  # pragma: no cover
    login_not_required = lambda view: view  # noqa: E731


@cache
def anymail_tracking_views() -> dict[str, object]:
    """{"sparkpost": anymail's view function, …} from anymail's own URL patterns."""
    from anymail import urls

    suffix = "_tracking_webhook"
    return {
        pattern.name.removesuffix(suffix): pattern.callback
        for pattern in urls.urlpatterns
        if getattr(pattern, "name", "") and pattern.name.endswith(suffix)
    }


def refuse_unauthenticated_webhook(request: HttpRequest, url_name: str) -> HttpResponse | None:
    """A 403 when ``DEBUG`` is off and the webhook's authentication is not configured (nothing is
    read or stored); None when anymail's own checks may decide."""
    if settings.DEBUG or request.method in SAFE_METHODS:
        return None
    missing = missing_webhook_settings(url_name)
    if not missing:
        return None
    logger.error(
        "webhook %s refused: %s not configured (see docs/SECURITY.md)", request.path, ", ".join(missing)
    )
    return HttpResponseForbidden("This webhook is disabled until its authentication is configured.")


def require_webhook_authentication(view: Callable, url_name: str) -> Callable:
    """anymail's view, refusing posts while its authentication is not configured (DEBUG off)."""

    @wraps(view)  # keeps csrf_exempt, login_not_required and view_class
    def guarded(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        refused = refuse_unauthenticated_webhook(request, url_name)
        return refused if refused is not None else view(request, *args, **kwargs)

    return guarded


def authenticated_anymail_urls() -> tuple[list[URLPattern], str]:
    """anymail's URL patterns (tracking and inbound, every ESP) with each view guarded; for
    ``include()`` in place of ``include("anymail.urls")``, keeping the ``anymail`` namespace."""
    from anymail import urls

    patterns = [
        URLPattern(p.pattern, require_webhook_authentication(p.callback, p.name), p.default_args, p.name)
        for p in urls.urlpatterns
    ]
    return patterns, urls.app_name


@csrf_exempt  # ESPs post without a session; anymail's view checks their credentials
@login_not_required
def batched_tracking_webhook(request: HttpRequest, esp: str) -> HttpResponse:
    view = anymail_tracking_views().get(esp)
    if view is None:
        raise Http404(f"No tracking webhook for ESP {esp!r}.")
    refused = refuse_unauthenticated_webhook(request, f"{esp}_tracking_webhook")
    if refused is not None:
        return refused
    with collect_tracking_events() as events:
        # A forged or malformed POST raises here (anymail answers 400): nothing is stored.
        response = view(request)
    if response.status_code < 300 and events:
        # A failure here answers 500, and the ESP posts the batch again (deduplicated on arrival).
        record_tracking_events(events)
    return response
