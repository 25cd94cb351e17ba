"""Batched ESP tracking webhooks: anymail's own views (its basic-auth check, signature checks and
payload parsing, its ``tracking`` signal to every receiver), with the events of one POST stored
set-based after the view accepted the whole request.

Mounted at ``/api/v1/webhooks/<esp>/tracking/`` for every ESP anymail has a tracking webhook for
(``sparkpost``, ``sendgrid``, ``mailjet``, ``mandrill``, … post many events per request). anymail's
own ``/anymail/<esp>/tracking/`` keeps working, storing each event as its signal arrives.
"""

from __future__ import annotations

from functools import cache

from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from .receivers import collect_tracking_events
from .services.tracking import record_tracking_events

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


@csrf_exempt  # ESPs post without a session; anymail's view checks their credentials
@login_not_required
def batched_tracking_webhook(request: HttpRequest, esp: str) -> HttpResponse:
    view = anymail_tracking_views().get(esp)
    if view is None:
        raise Http404(f"No tracking webhook for ESP {esp!r}.")
    with collect_tracking_events() as events:
        # A forged or malformed POST raises here (anymail answers 400): nothing is stored.
        response = view(request)
    if response.status_code < 300 and events:
        # A failure here answers 500, and the ESP posts the batch again (deduplicated on arrival).
        record_tracking_events(events)
    return response
