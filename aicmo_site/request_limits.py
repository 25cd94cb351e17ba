"""Bounded input at the HTTP edge: request size, JSON depth, Django's own body limits.

* ``RequestLimitsMiddleware`` refuses a body whose Content-Length passes ``AICMO_MAX_UPLOAD_BYTES``
  before anything reads it, checks the nesting depth of every JSON body before any view parses it
  (DRF views, and the ESP webhooks, which parse JSON themselves), and turns Django's own
  ``RequestDataTooBig`` / ``TooManyFieldsSent`` / ``TooManyFilesSent`` into a JSON answer naming
  the limit (Django itself answers them with an HTML 400).
* ``DepthLimitedJSONParser`` is DRF's JSON parser with the same depth check, never recursing.
* ``UploadSizeLimitHandler`` counts multipart upload bytes as they stream (a body whose
  Content-Length is missing or wrong is still cut at the limit).

The limits themselves are settings (``campaigns.limits``); docs/SECURITY.md lists them.
"""

from __future__ import annotations

import codecs
import json
import re

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.core.files.uploadhandler import FileUploadHandler
from django.http import HttpRequest, JsonResponse, UnreadablePostError
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser
from rest_framework.utils.json import strict_constant

from campaigns.limits import (
    MAX_JSON_BODY_BYTES,
    MAX_JSON_DEPTH,
    MAX_UPLOAD_BYTES,
    InputLimitExceededError,
    input_limit,
)

# --- the answer -------------------------------------------------------------------------------


def upload_too_large(size: int | None = None) -> InputLimitExceededError:
    maximum = input_limit(MAX_UPLOAD_BYTES)
    size_text = f"{size:,} bytes" if size is not None else f"more than {maximum:,} bytes"
    return InputLimitExceededError(
        f"The request body is {size_text}; at most {maximum:,} bytes are accepted.",
        limit=MAX_UPLOAD_BYTES,
    )


def as_limit_error(exc: BaseException) -> InputLimitExceededError | None:
    """The input-limit error for an exception, if it is one (ours or Django's own body limits)."""
    if isinstance(exc, InputLimitExceededError):
        return exc
    if isinstance(exc, RequestDataTooBig):
        maximum = input_limit(MAX_JSON_BODY_BYTES)
        return InputLimitExceededError(
            f"The request body (other than uploaded files) is larger than {maximum:,} bytes.",
            limit=MAX_JSON_BODY_BYTES,
        )
    if isinstance(exc, TooManyFieldsSent):
        return InputLimitExceededError(
            "The form has too many fields.",
            limit="DATA_UPLOAD_MAX_NUMBER_FIELDS",
            code="too_many_fields",
            http_status=400,
        )
    if isinstance(exc, TooManyFilesSent):
        return InputLimitExceededError(
            "The request has too many files.",
            limit="DATA_UPLOAD_MAX_NUMBER_FILES",
            code="too_many_files",
            http_status=400,
        )
    return None


def limit_response(error: InputLimitExceededError) -> JsonResponse:
    return JsonResponse(error.as_dict(), status=error.http_status)


# --- JSON depth, without recursion ----------------------------------------------------------------

_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')
_NOT_A_BRACKET = re.compile(r"[^\[\]{}]+")
_EMPTY_PAIR = re.compile(r"\[\]|\{\}")


def check_json_depth(text: str) -> None:
    """Raise InputLimitExceededError if arrays/objects nest deeper than AICMO_MAX_JSON_DEPTH, and
    ParseError if the brackets cannot be JSON at all. Never recurses; C-speed passes over the text.

    Strings are blanked out, leaving the brackets; each pass removes the innermost empty pairs,
    i.e. exactly one level of valid JSON. Valid JSON of depth d is empty after d passes."""
    max_depth = input_limit(MAX_JSON_DEPTH)
    if text.count("[") + text.count("{") <= max_depth:
        return  # cannot nest deeper than it has brackets
    brackets = _NOT_A_BRACKET.sub("", _JSON_STRING.sub("", text))
    for _ in range(max_depth):
        if not brackets:
            return
        brackets = _peel_one_level(brackets)
    if not brackets:
        return
    _peel_one_level(brackets)  # a ParseError if what is left cannot be JSON; else it is too deep
    raise InputLimitExceededError(
        f"The JSON body nests arrays/objects deeper than {max_depth} levels.",
        limit=MAX_JSON_DEPTH,
        code="too_deep",
        http_status=400,
    )


def _peel_one_level(brackets: str) -> str:
    reduced = _EMPTY_PAIR.sub("", brackets)
    if len(reduced) == len(brackets):
        raise ParseError("JSON parse error - unbalanced brackets or an unterminated string.")
    return reduced


def _is_json(content_type: str) -> bool:
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type == "application/json" or media_type.endswith("+json")


class DepthLimitedJSONParser(JSONParser):
    """DRF's JSON parser, with the body size and depth limits checked before ``json.loads``."""

    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        encoding = parser_context.get("encoding") or "utf-8"
        maximum = input_limit(MAX_JSON_BODY_BYTES)
        raw = stream.read(maximum + 1) if stream is not None else b""
        if len(raw) > maximum:
            raise as_limit_error(RequestDataTooBig())
        try:
            text = codecs.decode(raw, encoding)
        except (UnicodeDecodeError, LookupError) as exc:
            raise ParseError(f"JSON parse error - {exc}") from exc
        request = parser_context.get("request")
        if not getattr(request, "_aicmo_json_depth_checked", False):
            check_json_depth(text)
        try:
            return json.loads(text, parse_constant=strict_constant if self.strict else None)
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from exc


# --- multipart uploads, counted as they stream ------------------------------------------------------


class UploadSizeLimitHandler(FileUploadHandler):
    """First upload handler: refuses a multipart body past AICMO_MAX_UPLOAD_BYTES, counting file
    bytes as they arrive (the rest of the chain then spools them to disk as usual)."""

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        self.received = 0
        if content_length and content_length > input_limit(MAX_UPLOAD_BYTES):
            raise upload_too_large(content_length)

    def receive_data_chunk(self, raw_data, start):
        self.received = getattr(self, "received", 0) + len(raw_data)
        if self.received > input_limit(MAX_UPLOAD_BYTES):
            raise upload_too_large()
        return raw_data

    def file_complete(self, file_size):
        return None


# --- the middleware ---------------------------------------------------------------------------


def _content_length(request: HttpRequest) -> int | None:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except (TypeError, ValueError):
        return None


class RequestLimitsMiddleware:
    """Oversized bodies, too-deep JSON and Django's body limits answer JSON naming the limit."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        length = _content_length(request)
        if length and length > input_limit(MAX_UPLOAD_BYTES):
            return limit_response(upload_too_large(length))
        if (
            length
            and request.method not in ("GET", "HEAD", "OPTIONS")
            and _is_json(request.META.get("CONTENT_TYPE", ""))
        ):
            error = self._check_json_body(request)
            if error is not None:
                return error
        return self.get_response(request)

    def _check_json_body(self, request: HttpRequest):
        """Every JSON endpoint (DRF or not: the ESP webhooks parse JSON themselves) gets a body no
        deeper than the limit. The body is read once here (bounded by Django's body limit) and
        stays cached on the request for the view."""
        try:
            text = request.body.decode(request.encoding or "utf-8", errors="replace")
            check_json_depth(text)
        except ParseError:
            return None  # the view's parser reports invalid JSON in its own words
        except (RequestDataTooBig, InputLimitExceededError) as exc:
            return limit_response(as_limit_error(exc))
        request._aicmo_json_depth_checked = True
        return None

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs):
        # The CSRF check reads a form body before the view runs, where Django's limits would
        # answer an HTML 400; read it here first (listed before CsrfViewMiddleware). Views exempt
        # from CSRF (the API) read their body themselves, inside DRF's exception handling.
        if request.method != "POST" or getattr(view_func, "csrf_exempt", False):
            return None
        try:
            request.POST  # noqa: B018 (parses the form; the result stays cached on the request)
        except UnreadablePostError:
            return None
        except (RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent, InputLimitExceededError) as exc:
            return limit_response(as_limit_error(exc))
        return None

    def process_exception(self, request: HttpRequest, exception: Exception):
        error = as_limit_error(exception)
        return None if error is None else limit_response(error)


# --- the OpenAPI schema -------------------------------------------------------------------------

LIMIT_ERROR_COMPONENT = "InputLimitError"


def document_limit_responses(result, generator, request, public):
    """drf-spectacular post-processing hook: every operation that takes a request body may answer
    413 (a body over AICMO_MAX_UPLOAD_BYTES / AICMO_MAX_JSON_BODY_BYTES); document it."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas[LIMIT_ERROR_COMPONENT] = {
        "type": "object",
        "description": "An input limit was exceeded; `limit` names the setting, `max` its value.",
        "properties": {
            "detail": {"type": "string"},
            "code": {"type": "string"},
            "limit": {"type": "string"},
            "max": {"type": "integer", "nullable": True},
        },
        "required": ["detail", "code", "limit", "max"],
    }
    reference = {"$ref": f"#/components/schemas/{LIMIT_ERROR_COMPONENT}"}
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            if not isinstance(operation, dict) or "requestBody" not in operation:
                continue
            operation.setdefault("responses", {}).setdefault(
                "413",
                {
                    "description": "The body is larger than the input limit named in the answer.",
                    "content": {"application/json": {"schema": reference}},
                },
            )
    return result
