"""The API's errors: one JSON shape for every failure, DRF's own included.

    {"error": {"code": "sync_running", "message": "...", ...extra keys}}

`code` is stable and meant for programs; `message` is for people. Extra keys depend on the
code: `status` (412), `retryAfter` (429), `fields` (400 validation errors).
"""

import logging
import math

from django.conf import settings
from django.core.exceptions import PermissionDenied, SuspiciousOperation, TooManyFieldsSent
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import set_rollback

from syncapp import startup

log = logging.getLogger(__name__)


class SyncRunningError(exceptions.APIException):
    """RestartSync refused: a cycle is Queued or Processing and `force` was not given."""

    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_code = "sync_running"
    default_detail = "A synchronization cycle is running. Use force=true to restart anyway."

    def __init__(self, message, sync_status):
        super().__init__(message)
        self.extra = {"status": sync_status}


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "payload_too_large"
    default_detail = "The request body is too large."


class LengthRequired(exceptions.APIException):
    """A body sent without a Content-Length (chunked): the WSGI server hands the app none of it,
    so it cannot be checked, and is refused rather than taken as empty."""

    status_code = status.HTTP_411_LENGTH_REQUIRED
    default_code = "length_required"
    default_detail = (
        "Send the request with a Content-Length (a chunked body is not read). These endpoints "
        "take no body: send none, or `{}`."
    )


class BadRequest(exceptions.APIException):
    """A 400 with a code of our own (DRF's ValidationError always says `invalid`)."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "bad_request"
    default_detail = "The request is malformed."

    def __init__(self, message, code, **extra):
        super().__init__(message, code)
        self.extra = extra


def error_body(code, message, **extra):
    return {"error": {"code": code, "message": message, **extra}}


def _message_and_code(exc):
    detail = exc.detail
    if isinstance(detail, exceptions.ErrorDetail):
        return str(detail), detail.code or exc.default_code
    return str(exc.default_detail), exc.default_code


def api_exception_handler(exc, context):
    """REST_FRAMEWORK["EXCEPTION_HANDLER"]: every error in the stable shape."""
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, TooManyFieldsSent):
        # Django refuses to parse the query string: a malformed request, not a bug.
        exc = BadRequest(
            f"Too many query parameters (at most {settings.DATA_UPLOAD_MAX_NUMBER_FIELDS}).",
            "too_many_parameters",
        )
    elif isinstance(exc, SuspiciousOperation):
        exc = BadRequest("The request is malformed.", "bad_request")

    headers = {}
    if isinstance(exc, exceptions.ValidationError):
        code, message = "invalid", "The request is invalid; see fields."
        extra = {"fields": exc.detail}
    elif isinstance(exc, exceptions.APIException):
        message, code = _message_and_code(exc)
        extra = dict(getattr(exc, "extra", {}))
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header
        if getattr(exc, "wait", None) is not None:
            # DRF truncates the wait (41.7 -> 41): a client that obeys would come back early
            # and be throttled again. Round up instead.
            wait = max(1, math.ceil(exc.wait))
            headers["Retry-After"] = str(wait)
            extra["retryAfter"] = wait
            message = f"Too many requests. Try again in {wait} seconds."
    elif startup.is_connection_error(exc) and (problem := startup.explain(exc)):
        # The database or the broker is gone: an operations problem, not a bug. One log line
        # naming the variable and the address; the client is told to come back later.
        log.error("%s: %s", context.get("view").__class__.__name__, problem)
        set_rollback()
        return Response(
            error_body("unavailable", "The service cannot reach its database or broker."),
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": "30"},
        )
    else:
        # Anything else is a bug; answer in the same shape and keep the traceback in the log.
        log.exception("Unhandled error in %s", context.get("view").__class__.__name__)
        set_rollback()
        return Response(
            error_body("server_error", "An unexpected error occurred."),
            status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )

    set_rollback()
    return Response(error_body(code, message, **extra), status=exc.status_code, headers=headers)
