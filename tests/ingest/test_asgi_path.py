"""The lean ASGI door: what daphne serves for `POST /hub/webhook/<id>/`, past Django's middleware."""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync
from channels.testing import HttpCommunicator
from django.test import override_settings

from conversations.models import Message, WebhookEvent
from conversations.webhook import match_webhook
from hubdash.asgi import application
from tests.ingest.ingest_support import encode, message_event, signed, webhook_path

pytestmark = pytest.mark.django_db(transaction=True)


def asgi_request(method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None) -> dict:
    """A request through daphne's ASGI application; a POST is signed like the Hub's unless `headers` say."""
    if method == "POST" and headers is None:
        headers = signed(body)
    raw_headers = [(b"content-type", b"application/json"), (b"host", b"testserver")]
    raw_headers += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]

    async def call() -> dict:
        communicator = HttpCommunicator(application, method, path, body=body, headers=raw_headers)
        return await communicator.get_response(timeout=10)

    return async_to_sync(call)()


def test_lean_path_answers_the_handshake_with_the_token_as_a_json_string(app_a):
    response = asgi_request("POST", webhook_path(app_a), b"{}", {"X-Validation-Token": "abc"})

    assert response["status"] == 200
    assert response["body"] == b'"abc"'
    assert (b"content-type", b"application/json") in response["headers"]


def test_lean_path_stores_a_message(app_a, whatsapp_a):
    event = message_event(whatsapp_a)

    response = asgi_request("POST", webhook_path(app_a), encode(event))

    assert response["status"] == 200
    assert response["body"] == b'{"ok": true, "outcome": "processed"}'
    assert Message.objects.get().hub_message_id == event["messageId"]
    stored = WebhookEvent.objects.get()
    assert bytes(stored.body) == encode(event)
    assert stored.headers["content-type"] == "application/json"


def test_lean_path_answers_400_naming_the_field(app_a):
    response = asgi_request("POST", webhook_path(app_a), b'{"eventType": "Message"}')

    assert response["status"] == 400
    assert b"channelId: missing" in response["body"]


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1000)
def test_lean_path_refuses_a_body_over_the_limit(app_a, whatsapp_a):
    event = message_event(whatsapp_a, content={"type": "text", "text": "x" * 2000})

    response = asgi_request("POST", webhook_path(app_a), encode(event))

    assert response["status"] == 413
    assert not WebhookEvent.objects.exists()


def test_unknown_webhook_id_is_404_on_the_lean_path(app_a):
    response = asgi_request("POST", "/hub/webhook/00000000-0000-4000-8000-000000000000/", b"{}")

    assert response["status"] == 404


def test_everything_else_is_still_django(app_a):
    assert asgi_request("GET", webhook_path(app_a))["status"] == 405
    assert asgi_request("GET", "/accounts/login/")["status"] == 200


def test_only_post_to_the_webhook_path_takes_the_lean_path():
    path = "/hub/webhook/6a0f3e2d-1c4b-4a59-8e7d-3b2a1f0e9d8c/"
    assert match_webhook({"type": "http", "method": "POST", "path": path}) == path.split("/")[3]
    assert match_webhook({"type": "http", "method": "GET", "path": path}) is None
    assert match_webhook({"type": "http", "method": "POST", "path": path.rstrip("/")}) is None
    assert match_webhook({"type": "http", "method": "POST", "path": path + "x/"}) is None
    assert match_webhook({"type": "http", "method": "POST", "path": "/app" + path, "root_path": "/app"})
