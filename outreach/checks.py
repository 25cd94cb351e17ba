"""System checks of outreach's production settings (``manage.py check --deploy``)."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, Tags, register

from .webhook_auth import esp_of_email_backend, signing_keys_for_esp, webhook_secret_configured

__all__ = ["check_webhook_authentication"]


@register(Tags.security, deploy=True)
def check_webhook_authentication(app_configs=None, **kwargs) -> list[Error]:
    """With DEBUG off, ESP webhooks need anymail's shared secret, and the configured ESP's signing
    key where it signs its posts: without them every webhook is refused (outreach.webhooks), so
    bounces, complaints and replies would go unrecorded."""
    if settings.DEBUG:
        return []
    errors = []
    if not webhook_secret_configured():
        errors.append(
            Error(
                "ESP webhooks have no shared secret: with DEBUG off every tracking and inbound "
                "webhook is refused.",
                hint="Set ANYMAIL_WEBHOOK_SECRET to a random 'user:password' and put it in the "
                "webhook URLs given to the ESP (https://user:password@host/...). See docs/SECURITY.md.",
                id="outreach.E001",
            )
        )
    esp = esp_of_email_backend(getattr(settings, "EMAIL_BACKEND", ""))
    for key in signing_keys_for_esp(esp):
        if not key.configured():
            errors.append(
                Error(
                    f"EMAIL_BACKEND sends through {esp}, which signs its webhooks, but "
                    f"ANYMAIL_{key.setting} is not set: with DEBUG off its webhooks are refused.",
                    hint=f"Set ANYMAIL_{key.setting} to the key from the ESP's webhook settings. "
                    "See docs/SECURITY.md.",
                    id="outreach.E002",
                )
            )
    return errors


SMTP_BACKENDS = ("django.core.mail.backends.smtp.EmailBackend", "outreach.smtp_backend.EmailBackend")


@register(Tags.security, deploy=True)
def check_sending_identity(app_configs=None, **kwargs) -> list[Error]:
    """With DEBUG off: the one-click unsubscribe in every email must be https (live sends with an
    http link are refused, ``outreach.services.sending.compose``), and an SMTP transport must not
    introduce itself as ``localhost`` (it refuses to connect)."""
    if settings.DEBUG:
        return []
    from .smtp_backend import helo_name, is_local_helo_name

    errors = []
    https = settings.PUBLIC_BASE_URL.lower().startswith("https://")
    if settings.AICMO_REQUIRE_HTTPS_UNSUBSCRIBE and not https:
        errors.append(
            Error(
                f"PUBLIC_BASE_URL is {settings.PUBLIC_BASE_URL!r}: the List-Unsubscribe links in live "
                "emails would not be https, so live sends are refused.",
                hint="Set PUBLIC_BASE_URL to the https address of this install (RFC 8058 one-click "
                "unsubscribe needs https).",
                id="outreach.E003",
            )
        )
    if settings.EMAIL_BACKEND in SMTP_BACKENDS and is_local_helo_name(helo_name()):
        errors.append(
            Error(
                f"The SMTP client would introduce itself as {helo_name()!r} (EHLO): receiving servers "
                "score that as spam, and outreach.smtp_backend refuses to connect with it.",
                hint="Set AICMO_SMTP_HELO_NAME to this host's public name (its reverse DNS name).",
                id="outreach.E004",
            )
        )
    return errors
