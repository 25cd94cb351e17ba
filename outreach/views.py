"""Public endpoints reached from emails: one-click unsubscribe (RFC 8058) and its confirmation page."""

from __future__ import annotations

from django.core import signing
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from .services.tracking import unsubscribe_enrollment
from .unsubscribe import read_unsubscribe_token


@csrf_exempt  # mail clients POST "List-Unsubscribe=One-Click" with no session or CSRF token (RFC 8058)
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    try:
        enrollment_id, email = read_unsubscribe_token(token)
    except signing.BadSignature:
        return render(request, "outreach/unsubscribe.html", {"state": "invalid"}, status=400)
    if request.method == "POST":
        unsubscribe_enrollment(
            enrollment_id=enrollment_id,
            email=email,
            source="one-click" if request.POST.get("List-Unsubscribe") else "unsubscribe page",
        )
        return render(request, "outreach/unsubscribe.html", {"state": "done", "email": email})
    return render(request, "outreach/unsubscribe.html", {"state": "confirm", "email": email})
