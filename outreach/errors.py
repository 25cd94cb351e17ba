"""How a provider failure is treated: transient ones retry, permanent ones do not."""

from __future__ import annotations

import smtplib
import socket

from anymail.exceptions import AnymailAPIError, AnymailInvalidAddress, AnymailRecipientsRefused


class TransientSendError(Exception):
    """Worth retrying later: timeouts, connection drops, 429, 5xx."""


class PermanentSendError(Exception):
    """Will not succeed by retrying: invalid recipient, 4xx other than 429."""


def classify_send_error(exc: BaseException) -> type[Exception]:
    if isinstance(exc, TransientSendError | PermanentSendError):
        return type(exc)
    if isinstance(exc, AnymailRecipientsRefused | AnymailInvalidAddress):
        return PermanentSendError
    if isinstance(exc, AnymailAPIError):
        status = getattr(exc, "status_code", None)
        if status is None or status == 429 or status >= 500:
            return TransientSendError
        return PermanentSendError
    if isinstance(exc, smtplib.SMTPRecipientsRefused | smtplib.SMTPSenderRefused):
        return PermanentSendError
    if isinstance(exc, smtplib.SMTPResponseException):
        return TransientSendError if 400 <= exc.smtp_code < 500 else PermanentSendError
    if isinstance(
        exc, smtplib.SMTPServerDisconnected | ConnectionError | TimeoutError | socket.timeout | OSError
    ):
        return TransientSendError
    return TransientSendError
