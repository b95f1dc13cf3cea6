"""Helpers shared by the Hub sandbox tests (a plain module, so test files can import it by name)."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

API_KEY = "key-app-a"
OTHER_API_KEY = "key-app-b"
KINDS = ("whatsapp", "instagram", "messenger", "telegram", "sms", "webchatt")
SEGMENTS = {
    "whatsapp": "whatsapp",
    "instagram": "instagram",
    "messenger": "messenger",
    "telegram": "telegram",
    "sms": "sms",
    "webchatt": "web-chatt2me",
}
# A valid `to` per channel (hub-api.md §2).
RECIPIENTS = {
    "whatsapp": "5521987654321",
    "instagram": "26203292189261166",
    "messenger": "26203292189261167",
    "telegram": "123456789",
    "sms": "+14155550123",
    "webchatt": "v_0123456789abcdef",
}
# Small delays keep status-event tests fast while keeping their order observable.
FAST_DELAYS = {"sent": 30, "delivered": 80, "read": 130}


@dataclass
class HttpAnswer:
    status: int
    body: Any
    headers: dict[str, str]
    raw: bytes


def http(method: str, url: str, *, body: Any = None, headers: dict[str, str] | None = None) -> HttpAnswer:
    data = json.dumps(body).encode() if body is not None else None
    all_headers = {"Content-Type": "application/json", **(headers or {})}
    request = urllib.request.Request(url, data=data, method=method, headers=all_headers)
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=10) as response:
            raw, status, answer_headers = response.read(), response.status, dict(response.headers)
    except urllib.error.HTTPError as exc:
        raw, status, answer_headers = exc.read(), exc.code, dict(exc.headers)
    lowered = {k.lower(): v for k, v in answer_headers.items()}
    parsed = (
        json.loads(raw) if raw and lowered.get("content-type", "").startswith("application/json") else None
    )
    return HttpAnswer(status, parsed, lowered, raw)


class HubClient:
    """A minimal Hub API client for tests (urllib: the product reserves `requests` for its own client)."""

    def __init__(self, base_url: str, api_key: str | None) -> None:
        self.base_url = base_url
        self.api_key = api_key

    def call(self, method: str, path: str, body: Any = None) -> HttpAnswer:
        headers = {"x-api-key": self.api_key} if self.api_key is not None else {}
        return http(method, self.base_url + path, body=body, headers=headers)

    def send(self, kind: str, sender: str, to: str, content: dict[str, Any]) -> HttpAnswer:
        return self.call(
            "POST",
            f"/v1/communication/{SEGMENTS[kind]}/message",
            {"from": sender, "to": to, "content": content},
        )

    def create_webhook(self, endpoint: str, event_type: str = "Message", **extra: Any) -> HttpAnswer:
        body = {
            "label": f"{event_type.lower()}-hook",
            "endpoint": endpoint,
            "eventType": event_type,
            "authenticationProtocol": "NoAuthentication",
            **extra,
        }
        return self.call("POST", "/v1/organization/webhook", body)


@dataclass
class Received:
    path: str
    headers: dict[str, str]  # lower-cased names
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """A webhook endpoint. `mode` decides the answer to the verification handshake."""

    url: str = ""
    mode: str = "json"  # "json" = json.dumps(token), "raw" = token, "wrong" = something else
    status: int = 200
    delay: float = 0.0
    requests: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def events(self) -> list[Received]:
        with self.lock:
            return [r for r in self.requests if "x-validation-token" not in r.headers]

    @property
    def handshakes(self) -> list[Received]:
        with self.lock:
            return [r for r in self.requests if "x-validation-token" in r.headers]

    def wait_for(self, predicate: Callable[[list[Received]], bool], timeout: float = 5.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            events = self.events
            if predicate(events):
                return events
            time.sleep(0.01)
        raise AssertionError(f"condition not met within {timeout}s; events: {[e.json for e in self.events]}")


def _make_handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers = {k.lower(): v for k, v in self.headers.items()}
            with receiver.lock:
                receiver.requests.append(Received(self.path, headers, body))
            if receiver.delay:
                time.sleep(receiver.delay)
            token = headers.get("x-validation-token")
            if token is not None:
                status = 200
                answer = {"json": json.dumps(token), "raw": token, "wrong": "not-the-token"}[receiver.mode]
            else:
                status, answer = receiver.status, "OK" if receiver.status < 300 else "receiver says no"
            payload = answer.encode()
            try:
                self.send_response(status)
                self.send_header(
                    "Content-Type", "application/json" if receiver.mode == "json" else "text/plain"
                )
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except OSError:
                pass

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


def start_receiver(**options: Any) -> tuple[Receiver, ThreadingHTTPServer]:
    receiver = Receiver(**options)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _make_handler(receiver))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hub/webhook/"
    return receiver, server
