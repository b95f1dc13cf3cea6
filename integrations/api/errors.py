"""One JSON shape for every error of the API:

    {"error": {"code": "not_found", "message": "No such conversation.", "fields": {}}}

`code` is stable and machine-readable, `message` is for a person (translated), `fields` maps each
invalid input to its problems (`{"text": ["This field is required."]}`; nested inputs as `a.b`, errors
not tied to one field under `non_field_errors`). Validation (400), authentication (401), a missing
role (403), another tenant's or an unknown object (404), throttling (429, with `Retry-After`) and
server errors (500) all use it, and so do unknown URLs under /api/v1/.
"""

from __future__ import annotations

import logging
import math
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, JsonResponse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import set_rollback

log = logging.getLogger(__name__)


class Unprocessable(exceptions.APIException):
    """Well-formed, but it cannot be done (a closed service window, a reply that is not failed…)."""

    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = _("The request cannot be carried out.")
    default_code = "unprocessable"


class IdempotencyKeyReused(Unprocessable):
    default_detail = _("This Idempotency-Key was already used with a different request.")
    default_code = "idempotency_key_reused"


class HubUnavailable(exceptions.APIException):
    status_code = status.HTTP_502_BAD_GATEWAY
    default_detail = _("The Hub could not be reached; nothing was changed. Try again later.")
    default_code = "hub_unavailable"


def error_body(code: str, message: str, fields: dict[str, list[str]] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "fields": fields or {}}}


def _flatten(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested validation detail as {"field" or "a.b" or "items.0": [messages]}."""
    if isinstance(detail, dict):
        out: dict[str, list[str]] = {}
        for key, value in detail.items():
            out.update(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
        return out
    if isinstance(detail, list):
        if all(not isinstance(item, dict | list) for item in detail):
            return {prefix or "non_field_errors": [str(item) for item in detail]}
        out = {}
        for index, item in enumerate(detail):
            out.update(_flatten(item, f"{prefix}.{index}" if prefix else str(index)))
        return out
    return {prefix or "non_field_errors": [str(detail)]}


def _code(exc: exceptions.APIException) -> str:
    codes = exc.get_codes()
    return codes if isinstance(codes, str) else str(exc.default_code)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    """DRF's EXCEPTION_HANDLER: every exception of an API view becomes the error shape."""
    if isinstance(exc, Http404):
        # The access helpers' 404s (channels_app/access.py…) say it in English: the API says it translated.
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)

    if not isinstance(exc, exceptions.APIException):
        # A bug: logged with its traceback; the client gets the shape and nothing of the internals.
        log.exception("unhandled error in %s", context.get("view").__class__.__name__, exc_info=exc)
        set_rollback()
        body = error_body("server_error", gettext("Something went wrong on our side; it has been logged."))
        return Response(body, status=status.HTTP_500_INTERNAL_SERVER_ERROR)

    headers: dict[str, str] = {}
    auth_header = getattr(exc, "auth_header", None)
    if auth_header:
        headers["WWW-Authenticate"] = auth_header
    wait = getattr(exc, "wait", None)
    if isinstance(exc, exceptions.Throttled):
        headers["Retry-After"] = str(max(math.ceil(wait or 1), 1))

    if isinstance(exc, exceptions.ValidationError):
        body = error_body("invalid", gettext("Some fields are invalid."), _flatten(exc.detail))
    elif isinstance(exc, exceptions.Throttled):
        body = error_body(
            "throttled",
            gettext("Too many requests: try again in %(seconds)s s.") % {"seconds": headers["Retry-After"]},
        )
    else:
        body = error_body(_code(exc), str(exc.detail))
    set_rollback()
    return Response(body, status=exc.status_code, headers=headers)


def not_found(request: HttpRequest, rest: str = "") -> JsonResponse:
    """Any other URL under /api/v1/: the same 404 shape as an unknown object."""
    return JsonResponse(error_body("not_found", gettext("No such API endpoint.")), status=404)
