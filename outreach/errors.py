"""How a provider failure is treated: transient ones retry (with backoff), permanent ones do not.

SMTP says which is which in its reply code: 4xx is "try again later" (greylisting's 450, a full
mailbox's 452, a rate limit's 421), 5xx is final (RFC 5321 §4.2.1) — for a refused recipient or
sender too: a greylisted first attempt answers RCPT TO with 450. An ESP's HTTP API answers in HTTP:
408, 425 and 429 and any 5xx are worth retrying, other 4xx (a bad request, a refused key) are not —
unless the ESP passes on the receiving server's SMTP answer and that is a 4xx.
"""

from __future__ import annotations

import re
import smtplib
import socket

from anymail.exceptions import AnymailAPIError, AnymailInvalidAddress, AnymailRecipientsRefused


class TransientSendError(Exception):
    """Worth retrying later: time-outs, connection drops, SMTP 4xx, HTTP 408/425/429/5xx."""


class PermanentSendError(Exception):
    """Will not succeed by retrying: invalid recipient, SMTP 5xx, HTTP 4xx other than 408/425/429."""


RETRYABLE_HTTP_4XX = frozenset({408, 425, 429})
# The receiving server's answer an ESP quotes in its error, by its enhanced status code ("450 4.2.0
# greylisted" → 4.2.0): a bare "4xx" would also match the ESP's own HTTP status in anymail's text.
_SMTP_TRANSIENT_REPLY = re.compile(r"(?<![\d.])4\.[0-9]{1,3}\.[0-9]{1,3}(?![\d.])")


def _smtp_kind(code: int) -> type[Exception]:
    return TransientSendError if 400 <= code < 500 else PermanentSendError


def classify_send_error(exc: BaseException) -> type[Exception]:
    if isinstance(exc, TransientSendError | PermanentSendError):
        return type(exc)
    if isinstance(exc, AnymailRecipientsRefused | AnymailInvalidAddress):
        return PermanentSendError
    if isinstance(exc, AnymailAPIError):
        status = getattr(exc, "status_code", None)
        if status is None or status in RETRYABLE_HTTP_4XX or status >= 500:
            return TransientSendError
        if _SMTP_TRANSIENT_REPLY.search(str(exc)):
            return TransientSendError
        return PermanentSendError
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        # {address: (code, message)}: one recipient per email here; retry when any refusal was a 4xx
        codes = [code for code, _ in exc.recipients.values()]
        return TransientSendError if any(400 <= code < 500 for code in codes) else PermanentSendError
    if isinstance(exc, smtplib.SMTPResponseException):  # sender refused, data refused, auth, connect
        return _smtp_kind(exc.smtp_code)
    if isinstance(
        exc, smtplib.SMTPServerDisconnected | ConnectionError | TimeoutError | socket.timeout | OSError
    ):
        return TransientSendError
    return TransientSendError
