"""The inbox websocket opens only for a page of this very origin (scheme, host and port) or a trusted one.

Driven through `hubdash.asgi.application` with a signed-in session cookie, as a browser on another page
would send it: a refused handshake is closed before it is accepted (daphne answers it with HTTP 403).
"""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator

from hubdash.asgi import application
from tests.inbox.inbox_support import session_headers

pytestmark = pytest.mark.django_db(transaction=True)


def opens(user, *, host: str, origin: str | None, scheme: str = "ws", extra=()) -> bool:
    """Whether a signed-in socket opened on `host` by a page of `origin` is accepted."""
    cookie = [h for h in session_headers(user) if h[0] == b"cookie"]
    headers = [*cookie, (b"host", host.encode()), *extra]
    if origin is not None:
        headers.append((b"origin", origin.encode()))

    async def handshake() -> bool:
        communicator = WebsocketCommunicator(application, "/ws/inbox/", headers=headers)
        communicator.scope["scheme"] = scheme
        connected, _ = await communicator.connect(timeout=5)
        await communicator.disconnect()  # what the server tells the app once the socket is gone
        return connected

    return async_to_sync(handshake)()


@pytest.mark.parametrize(
    ("host", "origin"),
    [
        ("testserver", "http://testserver"),
        ("testserver:80", "http://testserver"),  # the default port, written or not
        ("127.0.0.1:8000", "http://127.0.0.1:8000"),
        ("localhost:8000", "http://LOCALHOST:8000"),
    ],
)
def test_a_page_of_the_same_origin_opens_its_socket(agent_a, host, origin):
    assert opens(agent_a, host=host, origin=origin)


@pytest.mark.parametrize(
    ("host", "origin"),
    [
        ("127.0.0.1:8000", "http://127.0.0.1:8476"),  # another port of the same host
        ("localhost:8000", "http://localhost:1234"),
        ("testserver", "http://testserver:8080"),
        ("testserver", "https://testserver"),  # another scheme
        ("testserver", "http://evil.example"),
        ("testserver", "http://testserver.evil.example"),
        ("testserver", "null"),  # a sandboxed iframe, a file:// page
        ("testserver", "http://testserver/inbox/"),
        ("testserver", None),
        ("evil.example", "http://evil.example"),  # a Host we do not serve (DNS rebinding)
    ],
)
def test_a_page_of_any_other_origin_is_refused(agent_a, host, origin):
    assert not opens(agent_a, host=host, origin=origin)


def test_over_tls_the_page_origin_is_https(agent_a, settings):
    assert opens(agent_a, host="testserver", origin="https://testserver", scheme="wss")
    assert not opens(agent_a, host="testserver", origin="http://testserver", scheme="wss")

    # Behind a TLS-terminating proxy that says so (production's SECURE_PROXY_SSL_HEADER).
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    proto = [(b"x-forwarded-proto", b"https")]
    assert opens(agent_a, host="testserver", origin="https://testserver", extra=proto)
    assert not opens(agent_a, host="testserver", origin="http://testserver", extra=proto)


def test_an_origin_in_csrf_trusted_origins_is_accepted_and_only_that_one(agent_a, settings):
    # A proxy that forwards to us under an internal Host: the public origin differs from it.
    public = "https://dash.example.org"
    assert not opens(agent_a, host="127.0.0.1:8000", origin=public)

    settings.CSRF_TRUSTED_ORIGINS = [public]
    assert opens(agent_a, host="127.0.0.1:8000", origin=public)
    assert not opens(agent_a, host="127.0.0.1:8000", origin="https://dash.example.org:8443")
    assert not opens(agent_a, host="127.0.0.1:8000", origin="http://dash.example.org")

    settings.CSRF_TRUSTED_ORIGINS = ["https://*.example.org"]
    assert opens(agent_a, host="127.0.0.1:8000", origin="https://eu.dash.example.org")
    assert not opens(agent_a, host="127.0.0.1:8000", origin="https://example.org.evil.example")
