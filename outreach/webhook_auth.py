"""What authenticates each ESP webhook, read through anymail's own settings look-up.

Every webhook needs anymail's shared secret (``WEBHOOK_SECRET``, HTTP basic auth). The ESPs that
sign their posts also need the key anymail checks the signature with; anymail itself skips some of
those checks (SendGrid, Resend, Mailtrap) or falls back to the API key (Mailgun) when the key is
missing, so with ``DEBUG`` off we require it explicitly. The rules are keyed by the name of
anymail's URL pattern (``mailgun_tracking_webhook``…); a webhook with no rule here is refused, so a
new anymail URL gets a decision before it can be reached.

Used by the webhook views (``outreach.webhooks``) and the deploy check (``outreach.checks``).
Settings only: no ORM, no request parsing.
"""

from __future__ import annotations

from dataclasses import dataclass

from anymail.utils import get_anymail_setting

__all__ = [
    "BASIC_AUTH_ONLY",
    "SIGNING_KEYS",
    "SigningKey",
    "esp_of_email_backend",
    "missing_webhook_settings",
    "signing_keys_for_esp",
    "webhook_secret_configured",
]


@dataclass(frozen=True)
class SigningKey:
    """An anymail setting, found as ``ANYMAIL["<setting>"]``, ``ANYMAIL_<setting>`` or (``bare``)
    ``<setting>``, the same places anymail's view looks."""

    setting: str
    bare: bool = False

    def configured(self) -> bool:
        return bool(get_anymail_setting(self.setting, default=None, allow_bare=self.bare))


_MAILGUN = SigningKey("MAILGUN_WEBHOOK_SIGNING_KEY")
_MANDRILL = SigningKey("MANDRILL_WEBHOOK_KEY", bare=True)
_POSTAL = SigningKey("POSTAL_WEBHOOK_KEY", bare=True)

# anymail URL name → the signature key its view verifies with (besides the shared secret).
SIGNING_KEYS: dict[str, SigningKey] = {
    "mailgun_tracking_webhook": _MAILGUN,
    "mailgun_inbound_webhook": _MAILGUN,
    "mandrill_webhook": _MANDRILL,
    "mandrill_tracking_webhook": _MANDRILL,
    "postal_tracking_webhook": _POSTAL,
    "postal_inbound_webhook": _POSTAL,
    "mailersend_tracking_webhook": SigningKey("MAILERSEND_SIGNING_SECRET"),
    "mailersend_inbound_webhook": SigningKey("MAILERSEND_INBOUND_SECRET"),
    "mailtrap_tracking_webhook": SigningKey("MAILTRAP_TRACKING_SECRET"),
    "mailtrap_inbound_webhook": SigningKey("MAILTRAP_INBOUND_SECRET"),
    "resend_tracking_webhook": SigningKey("RESEND_SIGNING_SECRET"),
    "resend_inbound_webhook": SigningKey("RESEND_INBOUND_SECRET"),
    "sendgrid_tracking_webhook": SigningKey("SENDGRID_TRACKING_WEBHOOK_VERIFICATION_KEY", bare=True),
    # Unisender Go signs each post with an MD5 over the body and the API key.
    "unisender_go_tracking_webhook": SigningKey("UNISENDER_GO_API_KEY", bare=True),
}

# anymail URL names whose ESP does not sign (or anymail does not verify it, e.g. Amazon SNS):
# the shared secret is their only authentication.
BASIC_AUTH_ONLY: frozenset[str] = frozenset(
    {
        "amazon_ses_tracking_webhook",
        "amazon_ses_inbound_webhook",
        "brevo_tracking_webhook",
        "brevo_inbound_webhook",
        "sendinblue_tracking_webhook",
        "sendinblue_inbound_webhook",
        "mailjet_tracking_webhook",
        "mailjet_inbound_webhook",
        "postmark_tracking_webhook",
        "postmark_inbound_webhook",
        "sparkpost_tracking_webhook",
        "sparkpost_inbound_webhook",
        "sendgrid_inbound_webhook",  # SendGrid's inbound parse is not signed
    }
)


def webhook_secret_configured() -> bool:
    """anymail's ``WEBHOOK_SECRET``: one ``user:password`` or a list of them (while rotating)."""
    secret = get_anymail_setting("webhook_secret", default=None)
    if isinstance(secret, (list, tuple)):
        return any(secret)
    return bool(secret)


def missing_webhook_settings(url_name: str) -> list[str]:
    """Settings the webhook named ``url_name`` still needs before a post to it can be trusted
    (empty: authenticated by anymail's checks). A webhook with no rule needs a code change."""
    missing = [] if webhook_secret_configured() else ["ANYMAIL_WEBHOOK_SECRET"]
    key = SIGNING_KEYS.get(url_name)
    if key is not None:
        if not key.configured():
            missing.append(f"ANYMAIL_{key.setting}")
    elif url_name not in BASIC_AUTH_ONLY:
        missing.append(f"an authentication rule for {url_name!r} in outreach/webhook_auth.py")
    return missing


def esp_of_email_backend(backend: str) -> str:
    """``anymail.backends.mailgun.EmailBackend`` → ``mailgun``; ``""`` for a non-anymail backend."""
    prefix = "anymail.backends."
    if not backend.startswith(prefix):
        return ""
    return backend.removeprefix(prefix).partition(".")[0]


def signing_keys_for_esp(esp: str) -> list[SigningKey]:
    """The signature key of the ESP's tracking webhook (the one every sending set-up points at)."""
    key = SIGNING_KEYS.get(f"{esp}_tracking_webhook") or SIGNING_KEYS.get(f"{esp}_webhook")
    return [key] if key is not None else []
