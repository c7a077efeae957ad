"""One error envelope for the whole API: `{"message": ..., "errors": {...}}`."""

import logging

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.http import Http404, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from .api import json_response

logger = logging.getLogger(__name__)


class ApplicationError(Exception):
    """A domain error a client can act on; `message` is written for a person."""

    status_code = status.HTTP_400_BAD_REQUEST

    def __init__(self, message: str, *, errors: dict | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors or {}


NOT_AUTHENTICATED = "Authentication credentials were not provided or are invalid."


class NotAuthenticatedError(ApplicationError):
    status_code = status.HTTP_401_UNAUTHORIZED


class NotFoundError(ApplicationError):
    status_code = status.HTTP_404_NOT_FOUND


class ConflictError(ApplicationError):
    status_code = status.HTTP_409_CONFLICT


class ServiceUnavailableError(ApplicationError):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE


class TooManyRequestsError(ApplicationError):
    status_code = status.HTTP_429_TOO_MANY_REQUESTS

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def error_body(message: str, errors: dict | None = None) -> dict:
    return {"message": message, "errors": errors or {}}


def _validation_message(detail) -> str:
    if isinstance(detail, dict):
        fields = ", ".join(sorted(detail))
        if set(detail) == {"non_field_errors"}:
            return str(detail["non_field_errors"][0])
        return f"Invalid input: {fields}."
    if isinstance(detail, list) and detail:
        return str(detail[0])
    return "Invalid input."


def _field_errors(detail) -> dict:
    if isinstance(detail, dict):
        return {
            field: [str(item) for item in (value if isinstance(value, list) else [value])]
            for field, value in detail.items()
        }
    return {}


def api_exception_handler(exc, context) -> Response | None:
    if isinstance(exc, ApplicationError):
        headers = {}
        if isinstance(exc, TooManyRequestsError):
            headers["Retry-After"] = str(exc.retry_after)
        return Response(error_body(exc.message, exc.errors), status=exc.status_code, headers=headers)
    if isinstance(exc, RequestDataTooBig):
        return Response(error_body("The request body is too large."), status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()

    response = exception_handler(exc, context)
    if response is None:
        logger.exception("Unhandled API error", exc_info=exc)
        return Response(
            error_body("Something went wrong on our side. Please try again."),
            status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )
    if isinstance(exc, exceptions.ValidationError):
        response.data = error_body(_validation_message(exc.detail), _field_errors(exc.detail))
    elif isinstance(exc, exceptions.NotFound):
        response.data = error_body("Not found.")
    elif isinstance(exc, exceptions.NotAuthenticated) or (
        # An unusable access token: simplejwt's detail is a dict of its checks, not a sentence.
        isinstance(exc, exceptions.AuthenticationFailed) and not isinstance(exc.detail, str)
    ):
        response.data = error_body(NOT_AUTHENTICATED)
    else:
        response.data = error_body(str(exc.detail) if hasattr(exc, "detail") else str(exc))
    return response


def json_error(message: str, *, status_code: int, errors: dict | None = None, headers=None) -> HttpResponse:
    """The same envelope, in the same bytes, for plain Django views (the SSE endpoint, 404s)."""
    return json_response(error_body(message, errors), status=status_code, headers=headers)


def handler404(request, exception=None) -> HttpResponse:
    return json_error("Not found.", status_code=404)


@csrf_exempt
async def path_not_found(request, path: str = "") -> HttpResponse:
    """Every path no route matches: the JSON 404 even with DEBUG on, where Django would show its
    HTML debug page instead of calling `handler404`. Any method, and no CSRF check, so a POST
    to a mistyped path is a 404 too, not a 403."""
    return handler404(request)


def handler500(request) -> HttpResponse:
    return json_error("Something went wrong on our side. Please try again.", status_code=500)
