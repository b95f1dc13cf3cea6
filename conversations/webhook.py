"""The Hub's webhook endpoint: the product's hottest path, so it has two doors to one function.

- `hub_webhook_asgi`: what daphne serves. `hubdash/asgi.py` routes `POST /hub/webhook/<public_id>/` here,
  past Django's middleware stack (sessions, CSRF, auth, messages: none of which a webhook uses), and the
  whole database part runs in one `sync_to_async(thread_sensitive=False)` call so deliveries are not
  queued behind each other on Django's single sync thread.
- `hub_webhook`: the same thing as a Django view, so the test client and any WSGI deployment work too.

Both call `do_ingest_webhook`, which decides the status and writes; nothing here renders a template.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import close_old_connections
from django.http import HttpRequest, JsonResponse
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from conversations.actions.inbound import IngestResult, do_ingest_webhook

log = logging.getLogger(__name__)


@csrf_exempt
@require_POST
def hub_webhook(request: HttpRequest, public_id: uuid.UUID) -> JsonResponse:
    try:
        body = request.body
    except RequestDataTooBig:
        # 413 like the ASGI door, not Django's 400: our 400 means "kept here as invalid", and this was not.
        return JsonResponse({"error": "body too large"}, status=413)
    headers = {name.lower(): value for name, value in request.headers.items()}
    result = do_ingest_webhook(public_id=public_id, body=body, headers=headers)
    return JsonResponse(result.body, status=result.status, safe=False)


# --- the lean ASGI door ---------------------------------------------------------------------------

_path_pattern: re.Pattern[str] | None = None


def webhook_path_pattern() -> re.Pattern[str]:
    """The webhook's path as a regex, taken from the URLconf so the two doors cannot drift apart."""
    global _path_pattern
    if _path_pattern is None:
        sample = uuid.UUID(int=0)
        prefix, suffix = reverse("hub_webhook", args=[sample]).split(str(sample))
        _path_pattern = re.compile(
            re.escape(prefix)
            + r"(?P<public_id>[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12})"
            + re.escape(suffix)
        )
    return _path_pattern


def match_webhook(scope: dict[str, Any]) -> str | None:
    """The public id when `scope` is a POST to the webhook URL (else None: Django serves it)."""
    if scope.get("type") != "http" or scope.get("method") != "POST":
        return None
    path: str = scope.get("path", "")
    root = scope.get("root_path", "")
    if root and path.startswith(root):
        path = path[len(root) :]
    match = webhook_path_pattern().fullmatch(path)
    return match["public_id"] if match else None


def _ingest_in_thread(public_id: str, body: bytes, headers: dict[str, str]) -> IngestResult:
    # What Django's request_started/finished signals do for a view: this thread's connection goes back
    # to the pool (or is closed) when the delivery is done, never leaked to the next one.
    close_old_connections()
    try:
        return do_ingest_webhook(public_id=public_id, body=body, headers=headers)
    finally:
        close_old_connections()


# Made once: building the wrapper for each delivery cost 4 % of its CPU.
_ingest = sync_to_async(_ingest_in_thread, thread_sensitive=False)


async def _respond(send: Any, status: int, payload: Any) -> None:
    body = json.dumps(payload).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def hub_webhook_asgi(scope: dict[str, Any], receive: Any, send: Any, *, public_id: str) -> None:
    # The same limit Django applies to request.body (Hub events are small JSON; media come as URLs).
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE or float("inf")
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            await _respond(send, 413, {"error": "body too large"})
            return
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    headers: dict[str, str] = {}
    for raw_name, raw_value in scope.get("headers", []):
        name = raw_name.decode("latin-1").lower()
        value = raw_value.decode("latin-1")
        headers[name] = f"{headers[name]},{value}" if name in headers else value
    try:
        result = await _ingest(public_id, b"".join(chunks), headers)
    except Exception:  # do_ingest_webhook never raises; this is the last guard (e.g. no database)
        log.exception("hub webhook crashed")
        await _respond(send, 503, {"error": "temporarily unavailable"})
        return
    await _respond(send, result.status, result.body)
