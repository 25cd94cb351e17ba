"""Token authentication that throttles failures per client address.

DRF authenticates before its throttles run, so a wrong token is answered 401 however often it is
tried. Here each failure is counted per client address (``aicmo_site.client_address``); after
``AICMO_AUTH_FAILURE_LIMIT`` failures within ``AICMO_AUTH_FAILURE_WINDOW_SECONDS`` every token
request from that address is answered 429 with ``Retry-After`` until the window ends, the right
token included (otherwise a 200 among the 429s would still tell a guesser it hit). Requests without
a token (session or anonymous) are not affected. The counter fails open when the cache is down.
"""

from __future__ import annotations

from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication, get_authorization_header

from .client_address import client_address
from .throttling import failed_auth_retry_after, record_failed_auth


class FailedAuthThrottled(exceptions.Throttled):
    default_detail = "Too many failed authentication attempts from this address."
    default_code = "authentication_throttled"


class ThrottledTokenAuthentication(TokenAuthentication):
    def authenticate(self, request):
        auth = get_authorization_header(request).split()
        if not auth or auth[0].lower() != self.keyword.lower().encode():
            return None
        address = client_address(request)
        wait = failed_auth_retry_after(address)
        if wait is not None:
            raise FailedAuthThrottled(wait=wait)
        try:
            return super().authenticate(request)
        except exceptions.AuthenticationFailed:
            record_failed_auth(address)
            raise
