"""The sandbox fetches a send's media link before accepting it, as the Hub must, and refuses a dead one."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from hubsandbox import HubSandbox
from tests.hubsandbox.sandbox_support import RECIPIENTS, HubClient
from tests.hubsandbox.test_sandbox_sending import channel_id

BODY = b"%PDF-1.4 exact bytes\n"


class _Files(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path == "/invoice.pdf":
            self.send_response(200)
            self.send_header("Content-Type", "application/pdf")
            self.send_header("Content-Length", str(len(BODY)))
            self.end_headers()
            self.wfile.write(BODY)
        else:
            self.send_error(404)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def files() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Files)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_media_link_is_fetched_and_what_it_served_is_kept(
    hub: HubSandbox, app: dict[str, Any], client: HubClient, files: str
) -> None:
    body = BODY
    content = {"documentUrl": f"{files}/invoice.pdf", "filename": "invoice.pdf"}

    answer = client.send("whatsapp", channel_id(app, "whatsapp"), RECIPIENTS["whatsapp"], content)

    assert answer.status == 200, answer.body
    [send] = hub.accepted_sends()
    assert send["media"]["sha256"] == hashlib.sha256(body).hexdigest()
    assert send["media"]["size"] == len(body)
    assert send["media"]["contentType"] == "application/pdf"


def test_a_link_the_sandbox_cannot_fetch_is_refused_with_400(
    hub: HubSandbox, app: dict[str, Any], client: HubClient, files: str
) -> None:
    for url in (f"{files}/gone.png", "http://127.0.0.1:9/nothing-listens.png"):
        answer = client.send(
            "whatsapp", channel_id(app, "whatsapp"), RECIPIENTS["whatsapp"], {"imageUrl": url}
        )

        assert answer.status == 400
        assert answer.body["errorCode"] == "media_unreachable"
        assert "could not be fetched" in answer.body["errorMessage"]
    assert hub.accepted_sends() == []
