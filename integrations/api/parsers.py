"""JSON bodies, refused before parsing when they are larger than API_MAX_BODY_BYTES (413)."""

from __future__ import annotations

import io
from typing import Any

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, status
from rest_framework.parsers import JSONParser


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = _("The request body is too large.")
    default_code = "payload_too_large"


class BoundedJSONParser(JSONParser):
    """DRF reads the request stream itself, past Django's DATA_UPLOAD_MAX_MEMORY_SIZE check: so the API
    counts the bytes here, from the Content-Length when given and by reading at most one byte more than
    the limit otherwise (a chunked body)."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        limit = int(settings.API_MAX_BODY_BYTES)
        request = (parser_context or {}).get("request")
        declared = request.META.get("CONTENT_LENGTH") if request is not None else None
        if declared and str(declared).isdigit() and int(declared) > limit:
            raise PayloadTooLarge()
        data = stream.read(limit + 1) if stream is not None else b""
        if len(data) > limit:
            raise PayloadTooLarge()
        return super().parse(io.BytesIO(data), media_type, parser_context)
