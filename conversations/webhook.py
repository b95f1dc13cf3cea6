"""Placeholder: the ingest endpoint is being written (issue: webhook ingest)."""

import json

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt


@csrf_exempt
def hub_webhook(request: HttpRequest, public_id) -> HttpResponse:
    token = request.headers.get("X-Validation-Token")
    if token:
        return HttpResponse(json.dumps(token), content_type="application/json")
    return HttpResponse("OK")
