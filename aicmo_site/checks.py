"""Deploy checks (``manage.py check --deploy``) for the hardening settings: demo logins, HSTS."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, Tags, register
from django.db import DatabaseError

from campaigns.demo_accounts import DEMO_PASSWORDS, demo_users_with_published_passwords

ONE_YEAR = 31_536_000


@register(Tags.security, deploy=True)
def check_demo_accounts(app_configs=None, **kwargs) -> list[Error]:
    """With DEBUG off, no demo account may still have its published password."""
    if settings.DEBUG:
        return []
    from django.contrib.auth import get_user_model

    try:
        users = list(get_user_model().objects.filter(username__in=DEMO_PASSWORDS))
        usable = demo_users_with_published_passwords(users)
    except DatabaseError:  # not migrated yet: there are no users to report
        return []
    if not usable:
        return []
    return [
        Error(
            "Demo accounts still have the passwords published in the README: " + ", ".join(usable) + ".",
            hint="Delete them (or set real passwords with `manage.py changepassword`). With DEBUG off "
            "their published passwords are refused at login, but they should not exist in production.",
            id="aicmo_site.E001",
        )
    ]


@register(Tags.security, deploy=True)
def check_hsts_preload(app_configs=None, **kwargs) -> list[Error]:
    """Asking browsers to preload HSTS needs what the preload list requires: a year and subdomains."""
    if not getattr(settings, "SECURE_HSTS_PRELOAD", False):
        return []
    if settings.SECURE_HSTS_SECONDS >= ONE_YEAR and settings.SECURE_HSTS_INCLUDE_SUBDOMAINS:
        return []
    return [
        Error(
            f"SECURE_HSTS_PRELOAD is on with SECURE_HSTS_SECONDS={settings.SECURE_HSTS_SECONDS} and "
            f"SECURE_HSTS_INCLUDE_SUBDOMAINS={settings.SECURE_HSTS_INCLUDE_SUBDOMAINS}: the preload list "
            "needs at least one year (31536000) and includeSubDomains.",
            hint="Raise SECURE_HSTS_SECONDS to 31536000 or more, or leave SECURE_HSTS_PRELOAD off.",
            id="aicmo_site.E002",
        )
    ]
