"""Helpers for the settings tests: every settings URL, so access tests cannot forget one."""

from __future__ import annotations

import pytest
from django.urls import reverse

from channels_app.models import Application


def settings_pages(app: Application) -> list[str]:
    """Every GET page of the settings area, for Application `app` (the objects named are app's)."""
    channel = app.channels.order_by("pk").first()
    member = app.memberships.order_by("pk").first()
    pages = [
        reverse("settings:index"),
        reverse("settings:application_create"),
        reverse("settings:application", args=[app.pk]),
        reverse("settings:channel_create", args=[app.pk]),
        reverse("settings:webhooks", args=[app.pk]),
        reverse("settings:webhook_logs", args=[app.pk]),
        reverse("settings:team"),
        reverse("settings:user_create"),
        reverse("settings:audit"),
        reverse("settings:health"),
    ]
    if channel is not None:
        pages.append(reverse("settings:channel", args=[channel.pk]))
    if member is not None:
        pages.append(reverse("settings:user", args=[member.user_id]))
    return pages


def settings_posts(app: Application) -> list[str]:
    """Every POST-only endpoint of the settings area, for Application `app`."""
    channel = app.channels.order_by("pk").first()
    member = app.memberships.order_by("pk").first()
    posts = [
        reverse("settings:application_key", args=[app.pk]),
        reverse("settings:application_test_connection", args=[app.pk]),
        reverse("settings:webhooks_connect", args=[app.pk]),
        reverse("settings:webhooks_refresh", args=[app.pk]),
        reverse("settings:webhooks_recover", args=[app.pk]),
        reverse("settings:webhooks_accept_unsigned", args=[app.pk]),
        reverse("settings:webhook_logs_retry", args=[app.pk]),
    ]
    if channel is not None:
        posts += [
            reverse("settings:channel_active", args=[channel.pk]),
            reverse("settings:channel_test_message", args=[channel.pk]),
        ]
    if member is not None:
        posts.append(reverse("settings:user_active", args=[member.user_id]))
    return posts


@pytest.fixture
def admin_b(app_b):
    """An admin of Application B only (the other tenant)."""
    from channels_app.models import Membership
    from tests.conftest import _user

    user = _user("bea", first_name="Bea", last_name="Admin")
    Membership.objects.create(user=user, application=app_b, role=Membership.Role.ADMIN)
    return user


# --- A stand-in for "our endpoint" that we can break and fix at will ---------------------------------


class Receiver:
    """An HTTP endpoint the Hub sandbox delivers to: it always passes the verification handshake, and
    answers events 200 or 503 depending on `failing` (our server "down for maintenance")."""

    def __init__(self) -> None:
        import json
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        receiver = self
        self.failing = True
        self.events: list[bytes] = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                token = self.headers.get("X-Validation-Token")
                if token:
                    status, answer = 200, json.dumps(token).encode()
                else:
                    receiver.events.append(body)
                    status, answer = (503, b"maintenance") if receiver.failing else (200, b"OK")
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def receiver(settings):
    """Our webhook URL points at a Receiver (PUBLIC_BASE_URL), failing events until told otherwise."""
    server = Receiver()
    settings.PUBLIC_BASE_URL = server.url
    yield server
    server.stop()


# --- Conversation rows for the health panel and history tests ---------------------------------------


def make_message(channel, *, direction: str, status: str, external_id: str = "5521999990000", **fields):
    from django.utils import timezone

    from conversations.models import Contact, Conversation, Message

    contact, _ = Contact.objects.get_or_create(channel=channel, external_id=external_id)
    conversation, _ = Conversation.objects.get_or_create(
        contact=contact,
        defaults={"application": channel.application, "channel": channel, "last_activity_at": timezone.now()},
    )
    created_at = fields.pop("created_at", None)
    message = Message.objects.create(
        conversation=conversation,
        channel=channel,
        direction=direction,
        content={"type": "text", "text": "hello"},
        preview="hello",
        status=status,
        **fields,
    )
    if created_at is not None:  # auto_now_add: set afterwards to place it in the past
        Message.objects.filter(pk=message.pk).update(created_at=created_at)
        message.created_at = created_at
    return message
