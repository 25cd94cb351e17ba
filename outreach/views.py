"""Public endpoints reached from emails: one-click unsubscribe (RFC 8058) and its confirmation page."""

from __future__ import annotations

from django.core import signing
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from .selectors.sending import unsubscribe_address
from .services.tracking import unsubscribe_enrollment
from .unsubscribe import masked_address, read_unsubscribe_token


@csrf_exempt  # mail clients POST "List-Unsubscribe=One-Click" with no session or CSRF token (RFC 8058)
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    try:
        link = read_unsubscribe_token(token)
    except signing.BadSignature:
        return render(request, "outreach/unsubscribe.html", {"state": "invalid"}, status=400)
    # A current token names only its enrollment; a first-format one also the address it was sent to.
    # '' when the enrollment is gone or its lead was erased: nothing is left to stop, and an erased
    # address must not come back as a suppression in clear text.
    current = unsubscribe_address(enrollment_id=link.enrollment_id)
    email = (link.email or current) if current else ""
    shown = masked_address(email)
    if request.method == "POST":
        if email:
            unsubscribe_enrollment(
                enrollment_id=link.enrollment_id,
                email=email,
                source="one-click" if request.POST.get("List-Unsubscribe") else "unsubscribe page",
            )
        return render(request, "outreach/unsubscribe.html", {"state": "done", "email": shown})
    if not email:
        return render(request, "outreach/unsubscribe.html", {"state": "done", "email": ""})
    return render(request, "outreach/unsubscribe.html", {"state": "confirm", "email": shown})
