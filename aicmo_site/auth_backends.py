"""The first authentication backend: the admin login lockout (django-axes) and the demo-login refusal.

It authenticates nobody itself (``ModelBackend`` after it does); it refuses, by raising
``PermissionDenied``, which ``django.contrib.auth.authenticate`` turns into a failed login:

- with ``DEBUG`` off, a demo account's published password (``campaigns.demo_accounts``), even
  when that account exists with it;
- any login from a username + address pair that axes has locked out (``AXES_*`` settings).

axes counts per request address, so it needs the request; ``authenticate()`` called without one (the
test client's ``login()``, a shell) has no address to count and is not subject to the lockout.
"""

from __future__ import annotations

import logging

from axes.backends import AxesStandaloneBackend
from django.core.exceptions import PermissionDenied

from campaigns.demo_accounts import demo_accounts_allowed, is_published_demo_login

logger = logging.getLogger(__name__)


class LoginGuardBackend(AxesStandaloneBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        if not demo_accounts_allowed() and is_published_demo_login(username, password):
            logger.warning(
                "Refused a login as demo account %r with its published password (DEBUG off)", username
            )
            raise PermissionDenied("Demo accounts cannot log in with DEBUG off.")
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)
