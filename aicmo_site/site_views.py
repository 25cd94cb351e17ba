"""The few pages of the site itself: the favicon (every browser asks for /favicon.ico)."""

from __future__ import annotations

from pathlib import Path

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_safe

# One icon, an SVG: also linked from the admin's <head> (templates/admin/base_site.html) as a static
# file; served here as well because browsers ask for /favicon.ico on pages that link none (JSON).
FAVICON_SVG = (Path(__file__).resolve().parent / "static" / "aicmo" / "favicon.svg").read_bytes()


@require_safe
def favicon(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(FAVICON_SVG, content_type="image/svg+xml")
    response["Cache-Control"] = "public, max-age=86400"
    return response
