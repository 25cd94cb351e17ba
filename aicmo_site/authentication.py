"""Token authentication that throttles failures per client address.

DRF authenticates before its throttles run, so a wrong token is answered 401 however often it is
tried. Here each failure is counted per client address (``aicmo_site.client_address``); after
``AICMO_AUTH_FAILURE_LIMIT`` failures within ``AICMO_AUTH_FAILURE_WINDOW_SECONDS`` every token
request from that address is answered 429 with ``Retry-After`` until the window ends, the right
token included (otherwise a 200 among the 429s would still tell a guesser it hit). Requests without
a token (session or anonymous) are not affected. The counter fails open when the cache is down.

A key sent without its keyword (a bare 40-character key, or ``Bearer <key>``, as API tools and
Swagger's Authorize box invite) is answered 401 saying how to send it, instead of DRF's
"credentials were not provided". Other schemes (``Basic`` from a proxy's login) are left alone.
"""

from __future__ import annotations

import re

from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication, get_authorization_header

from .client_address import client_address
from .throttling import failed_auth_retry_after, record_failed_auth


class FailedAuthThrottled(exceptions.Throttled):
    default_detail = "Too many failed authentication attempts from this address."
    default_code = "authentication_throttled"


HOW_TO_SEND = "send it as `Authorization: Token <key>` (the word Token, a space, then the key)"
_BARE_KEY = re.compile(rb"[0-9a-f]{40}", re.IGNORECASE)


def misformatted_key_hint(auth: list[bytes]) -> str | None:
    """What is wrong with an Authorization header that carries a key in another form, or None."""
    if len(auth) == 1 and _BARE_KEY.fullmatch(auth[0]):
        return f"The Authorization header holds a bare key: {HOW_TO_SEND}."
    if len(auth) == 2 and auth[0].lower() == b"bearer":
        return f"This API does not take Bearer tokens: {HOW_TO_SEND}."
    return None


class ThrottledTokenAuthentication(TokenAuthentication):
    def authenticate(self, request):
        auth = get_authorization_header(request).split()
        if not auth:
            return None
        if auth[0].lower() != self.keyword.lower().encode():
            hint = misformatted_key_hint(auth)
            if hint:  # not counted as a failure: a key in this form is never accepted, so no guess
                raise exceptions.AuthenticationFailed(hint)
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
