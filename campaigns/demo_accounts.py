"""The demo logins whose passwords are published (README, ``seed_demo`` and ``demo`` output).

They exist for ``make run`` on a developer's machine. With ``DEBUG`` off they are never created
(``demo_accounts_allowed``), they cannot log in with the published password (the authentication
backend ``aicmo_site.auth_backends.LoginGuardBackend``), and ``manage.py check --deploy`` reports any
that still has it (``aicmo_site.checks``). One list, so the three always agree.
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Mapping

from django.conf import settings
from django.contrib.auth.hashers import check_password

from .roles import ADMIN, APPROVER, OPERATOR, sync_role_groups

# username -> published password
DEMO_PASSWORDS: dict[str, str] = {
    "operator": "operator-demo-pass",  # seed_demo and demo: a staff user in the operator role
    "approver": "approver-demo-pass",  # seed_demo and demo: the approver role
    "agency-admin": "admin-demo-pass",  # seed_demo: the admin role (not "admin": often a superuser's name)
    "acme-api": "acme-demo-pass",  # seed_demo: Acme's client API user
    "northwind-api": "northwind-demo-pass",  # demo: Northwind's client API user
}

# The demo's agency staff, one per role (campaigns.roles): username -> (role, first name, last name).
# None is a superuser: each has exactly what its role grants, as a real agency's staff would.
DEMO_STAFF: dict[str, tuple[str, str, str]] = {
    "operator": (OPERATOR, "Olivia", "Operator"),
    "approver": (APPROVER, "Dana", "Approver"),
    "agency-admin": (ADMIN, "Ada", "Admin"),
}

# The demo client users, the one whose client holds the `make run` demo campaign (Northwind, made by
# `manage.py demo`) first: its campaign has leads, messages and reports to look at through the API.
DEMO_CLIENT_USERS = ("northwind-api", "acme-api")

DEMO_REFUSED_MESSAGE = (
    "Demo accounts have published passwords and are only created with DEBUG on (a developer's "
    "machine). DEBUG is off here: create real users with `manage.py createsuperuser` / "
    "`create_api_user` instead."
)


def demo_accounts_allowed() -> bool:
    return bool(settings.DEBUG)


def ensure_demo_staff_user(username: str):
    """The demo staff user ``username`` (a key of DEMO_STAFF) in its role's group, created with the
    published password when missing. An existing one keeps its password, and loses superuser status
    if an older seed gave it that (its password is published: it gets its role, nothing more)."""
    # Here, not at the top: the login backend imports this module before the apps are ready.
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    role, first_name, last_name = DEMO_STAFF[username]
    User = get_user_model()
    user = User.objects.filter(username=username).first()
    if user is None:
        user = User.objects.create_user(
            username,
            f"{username}@agency.example",
            DEMO_PASSWORDS[username],
            first_name=first_name,
            last_name=last_name,
            is_staff=True,
        )
    elif user.is_superuser or not user.is_staff:
        user.is_superuser, user.is_staff = False, True
        user.save(update_fields=["is_superuser", "is_staff"])
    group = Group.objects.filter(name=role).first()
    if group is None:
        sync_role_groups()
        group = Group.objects.get(name=role)
    user.groups.add(group)
    return user


def is_published_demo_login(username: str | None, password: str | None) -> bool:
    """True when ``username`` / ``password`` are a demo account's published pair."""
    published = DEMO_PASSWORDS.get(username or "")
    # As bytes: compare_digest refuses str with non-ASCII characters (a 500 on any such password).
    return (
        published is not None
        and password is not None
        and hmac.compare_digest(published.encode(), password.encode("utf-8", "surrogatepass"))
    )


def demo_users_with_published_passwords(users) -> list[str]:
    """Usernames among ``users`` (User objects) whose password is still the published one.

    Compares with the hashers directly: ``User.check_password`` would re-save an outdated hash."""
    return sorted(
        user.username
        for user in users
        if user.username in DEMO_PASSWORDS and check_password(DEMO_PASSWORDS[user.username], user.password)
    )


def local_base_url(environ: Mapping[str, str] | None = None) -> str:
    """Where ``make run`` serves (the Procfile's ``runserver ${AICMO_BIND:-127.0.0.1}:${AICMO_PORT:-8000}``),
    as a URL to print: the bind address itself, or ``localhost`` when it binds every interface."""
    environ = os.environ if environ is None else environ
    port = (environ.get("AICMO_PORT") or "8000").strip()
    host = (environ.get("AICMO_BIND") or "127.0.0.1").strip().strip("[]")
    if host in ("0.0.0.0", "::", ""):
        host = "localhost"
    if ":" in host:  # an IPv6 address
        host = f"[{host}]"
    return f"http://{host}:{port}"
