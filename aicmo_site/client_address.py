"""The address a request comes from, for the failed-login lockout and the failed-token throttle.

Both count failures per address, so the address must be one the client cannot choose. By default
that is ``REMOTE_ADDR`` (the TCP peer): a client can put anything in ``X-Forwarded-For``. Behind
reverse proxies set ``AICMO_TRUSTED_PROXY_COUNT`` to how many of them append to
``X-Forwarded-For``; the address is then the entry the outermost trusted proxy appended (the Nth from
the right), never one the client wrote.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def client_address(request: HttpRequest) -> str | None:
    trusted_proxies = getattr(settings, "AICMO_TRUSTED_PROXY_COUNT", 0)
    remote_addr = request.META.get("REMOTE_ADDR") or None
    if trusted_proxies <= 0:
        return remote_addr
    forwarded = [
        hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()
    ]
    if len(forwarded) < trusted_proxies:
        # Fewer hops than proxies: the request did not come through all of them (or the header was
        # stripped); the peer is the best address there is.
        return remote_addr
    return forwarded[-trusted_proxies]
