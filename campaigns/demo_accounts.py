"""The demo logins whose passwords are published (README, ``seed_demo`` and ``demo`` output).

They exist for ``make run`` on a developer's machine. With ``DEBUG`` off they are never created
(``demo_accounts_allowed``), they cannot log in with the published password (the authentication
backend ``aicmo_site.auth_backends.LoginGuardBackend``), and ``manage.py check --deploy`` reports any
that still has it (``aicmo_site.checks``). One list, so the three always agree.
"""

from __future__ import annotations

import hmac

from django.conf import settings
from django.contrib.auth.hashers import check_password

# username -> published password
DEMO_PASSWORDS: dict[str, str] = {
    "operator": "operator-demo-pass",  # seed_demo and demo: an operator-role staff user
    "approver": "approver-demo-pass",  # demo: operator + approver roles
    "acme-api": "acme-demo-pass",  # seed_demo: Acme's client API user
    "northwind-api": "northwind-demo-pass",  # demo: Northwind's client API user
}

DEMO_REFUSED_MESSAGE = (
    "Demo accounts have published passwords and are only created with DEBUG on (a developer's "
    "machine). DEBUG is off here: create real users with `manage.py createsuperuser` / "
    "`create_api_user` instead."
)


def demo_accounts_allowed() -> bool:
    return bool(settings.DEBUG)


def is_published_demo_login(username: str | None, password: str | None) -> bool:
    """True when ``username`` / ``password`` are a demo account's published pair."""
    published = DEMO_PASSWORDS.get(username or "")
    return published is not None and password is not None and hmac.compare_digest(published, password)


def demo_users_with_published_passwords(users) -> list[str]:
    """Usernames among ``users`` (User objects) whose password is still the published one.

    Compares with the hashers directly: ``User.check_password`` would re-save an outdated hash."""
    return sorted(
        user.username
        for user in users
        if user.username in DEMO_PASSWORDS and check_password(DEMO_PASSWORDS[user.username], user.password)
    )
