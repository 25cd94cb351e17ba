"""Maps domain errors raised by services to HTTP answers with a clear message."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from aicmo_site.request_limits import as_limit_error
from campaigns.errors import (
    ApprovalNotPermittedError,
    DomainError,
    SystemPausedError,
    TransitionNotAllowedError,
)


def exception_handler(exc, context):
    # Input limits (ours, and Django's RequestDataTooBig / TooManyFieldsSent): 413/400 naming the limit.
    if (limit_error := as_limit_error(exc)) is not None:
        return Response(limit_error.as_dict(), status=limit_error.http_status)
    if isinstance(exc, ApprovalNotPermittedError):
        return Response(exc.as_dict(), status=status.HTTP_403_FORBIDDEN)
    if isinstance(exc, TransitionNotAllowedError | SystemPausedError):
        return Response(exc.as_dict(), status=status.HTTP_409_CONFLICT)
    if isinstance(exc, DomainError):
        return Response(exc.as_dict(), status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        return Response(detail, status=status.HTTP_400_BAD_REQUEST)
    return drf_exception_handler(exc, context)
