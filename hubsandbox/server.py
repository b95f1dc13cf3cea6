"""`HubSandbox`: a local emulator of the Hub Chatt2.me API (hub-api.md §3–§5) plus `/_sandbox/` controls.

Threads: the HTTP server answers each request on its own thread; a scheduler thread times the
`MessageStatus` events; a small worker pool does every outbound delivery, so answering a send never
waits for a webhook endpoint; an optional customer-simulator thread writes inbound messages.
All state lives behind `self._lock`; no HTTP call is ever made while holding it.
"""

from __future__ import annotations

import base64
import copy
import json
import logging
import math
import random
import re
import secrets
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Final
from urllib.parse import parse_qs, urlsplit

from .capabilities import (
    EVENT_CHANNEL_BY_KIND,
    KIND_BY_SEGMENT,
    KINDS,
    SEGMENT_BY_KIND,
    SEND_STATUS_BY_KIND,
    STATUSES_BY_KIND,
    UNDELIVERABLE_ERROR_BY_KIND,
    normalize_alternate_from,
)
from .customers import customer_pool, generate_content, media_file
from .scheduler import Scheduler
from .state import (
    DEFAULT_SETTINGS,
    Application,
    Channel,
    DeliveryLog,
    LedgerEntry,
    Send,
    Webhook,
    merge_settings,
    new_id,
    new_signing_secret,
    now_iso,
    validate_channel_spec,
)
from .validation import SendValidationError, validate_content, validate_envelope, validate_recipient
from .webhooks import (
    RESPONSE_BODY_LIMIT,
    WorkerPool,
    build_headers,
    encode_event,
    handshake_accepted,
    post,
)

logger = logging.getLogger("hubsandbox")

EVENT_TYPES: Final = ("Message", "MessageStatus")
AUTH_PROTOCOLS: Final = (
    "NoAuthentication",
    "Oauth20",
    "PasswordAuthentication",
    "AWSSignatureV4",
    "JWT",
    "JWTExchange",
)
_WEBHOOK_FIELDS: Final = frozenset(
    {"label", "endpoint", "eventType", "authenticationProtocol", "headers", "requiresSignature", "scope"}
)
# `active` is not in the documented PATCH schema (§5.2 GAP); accepting it lets the product pause a webhook.
_WEBHOOK_WRITABLE: Final = _WEBHOOK_FIELDS | {"active"}
_STATUS_RANK: Final = {"enqueued": 0, "sent": 1, "delivered": 2, "read": 3, "failed": 4}
_HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")


class HubError(Exception):
    """An HTTP error answer with the recommended `{errorMessage, errorCode}` body (§1 GAP)."""

    def __init__(self, status: int, message: str, code: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code


@dataclass
class Response:
    status: int
    body: Any = None  # JSON-serialisable, or None for an empty body (204)
    raw: bytes | None = None
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


def _not_found(what: str) -> HubError:
    return HubError(404, f"{what} not found", f"{what.lower().replace(' ', '_')}_not_found")


def _bad_request(message: str, code: str = "invalid_payload") -> HubError:
    return HubError(400, message, code)


def _new_message_id(kind: str, to: str) -> str:
    """Provider-looking ids (§3.8 examples): `wamid.<base64>` on WhatsApp, `m_<...>` on Meta, else UUIDs."""
    if kind == "whatsapp":
        raw = base64.b64encode(f"\x18\r{to}\x15\x02\x00\x11\x18\x12".encode() + secrets.token_bytes(12))
        return "wamid." + raw.decode().rstrip("=").replace("+", "A").replace("/", "B")
    if kind in ("instagram", "messenger"):
        return "m_" + secrets.token_urlsafe(48)[:64]
    return str(uuid.uuid4())


_KIND_LABELS: Final = {
    "whatsapp": "WhatsApp",
    "instagram": "Instagram",
    "messenger": "Messenger",
    "telegram": "Telegram",
    "sms": "SMS",
    "webchatt": "Web Chatt",
}


def _default_address(kind: str, channel_id: str) -> str | None:
    rng = random.Random(channel_id)
    digits = "".join(rng.choice("0123456789") for _ in range(9))
    return {
        "whatsapp": f"5511{digits}",
        "sms": f"+1415{digits[:7]}",
        "instagram": f"sandbox_ig_{channel_id[:6]}",
        "messenger": "1" + digits + digits[:5],
        "telegram": f"sandbox_{channel_id[:6]}_bot",
        "webchatt": None,
    }[kind]


@dataclass(frozen=True)
class _Held:
    """A delivery the reorder fault holds back (all its copies)."""

    webhook_id: str
    thread: str
    body: bytes
    message_id: str | None
    generation: int
    event_id: str
    copies: int


def _thread_of(event_type: str, payload: dict[str, Any]) -> str:
    """What "out of order" is measured against: one customer's chat on a channel, or one message's
    statuses. Reordering unrelated events would change nothing a receiver could notice."""
    if event_type == "Message":
        return f"message:{payload.get('channelId')}:{payload.get('from')}"
    return f"status:{payload.get('messageId')}"


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    block_on_close = False  # stop() must not wait for a handler sleeping in a timeout fault
    # socketserver's listen queue is 5: a worker with 8 or more sends in flight, or a burst of clients,
    # would see connections wait ~1 s for a SYN retransmit, which no real Hub makes a client do.
    request_queue_size = 128
    sandbox: HubSandbox


class _Handler(BaseHTTPRequestHandler):
    server: _HTTPServer
    server_version = "hubsandbox"
    # HTTP/1.0: one request per connection. With keep-alive, a handler thread would keep serving an open
    # connection after stop(), and "the Hub is down" would not be true for a client with a session pool.
    protocol_version = "HTTP/1.0"

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def do_PATCH(self) -> None:
        self._handle("PATCH")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    def _handle(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length > 0 else b""
        response = self.server.sandbox._dispatch(method, self.path, dict(self.headers.items()), raw)
        if response.raw is not None:
            payload = response.raw
        elif response.body is None:
            payload = b""
        else:
            payload = json.dumps(response.body, ensure_ascii=False).encode()
        try:
            self.send_response(response.status)
            if payload or response.status != 204:
                self.send_header("Content-Type", response.content_type)
            self.send_header("Content-Length", str(len(payload)))
            for name, value in response.headers.items():
                self.send_header(name, value)
            self.end_headers()
            if payload:
                self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            # The client gave up (e.g. its read timeout during a timeout fault): nothing to answer.
            pass

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s - %s", self.address_string(), format % args)


class HubSandbox:
    """The emulator. `start()` serves in the background; the helpers below mirror the control API."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, seed: int | None = None) -> None:
        self._host = host
        self._port = port
        self._seed = seed
        self._lock = threading.RLock()
        self._pool = WorkerPool()
        self._scheduler = Scheduler(self._pool.submit)
        self._httpd: _HTTPServer | None = None
        self._simulator_stop = threading.Event()
        self._simulator: threading.Thread | None = None
        # Set to release handlers sleeping in a timeout fault when the sandbox is reset or stopped.
        self._interrupt = threading.Event()
        self._generation = 0
        self._init_state()

    # -- lifecycle ----------------------------------------------------------------------------------

    def _init_state(self) -> None:
        self._rng = random.Random(self._seed)
        self._apps: dict[str, Application] = {}
        self._apps_by_key: dict[str, Application] = {}
        self._channels: dict[str, Channel] = {}
        self._webhooks: dict[str, Webhook] = {}
        self._logs: dict[str, DeliveryLog] = {}
        self._ledger: dict[str, LedgerEntry] = {}
        # Deliveries held back by the reorder fault, per (webhook, thread): released after the next
        # delivery of the same thread, or when their hold time is up.
        self._held: dict[tuple[str, str], list[_Held]] = {}
        self._sends: dict[str, Send] = {}
        self._send_attempts = 0
        self._send_outcomes: Counter[int] = Counter()
        self._sessions: set[tuple[str, str]] = set()
        self._verifications: list[dict[str, Any]] = []
        self._settings: dict[str, Any] = copy.deepcopy(DEFAULT_SETTINGS)

    def start(self) -> HubSandbox:
        if self._httpd is not None:
            return self
        httpd = _HTTPServer((self._host, self._port), _Handler)
        httpd.sandbox = self
        # Remember the real port so a later start() (after stop()) comes back on the same address.
        self._port = httpd.server_address[1]
        self._httpd = httpd
        self._interrupt.clear()
        self._pool.start()
        self._scheduler.start()
        self._simulator_stop.clear()
        self._simulator = threading.Thread(target=self._simulate_customers, name="hubsandbox-customers")
        self._simulator.daemon = True
        self._simulator.start()
        threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="hubsandbox-http", daemon=True
        ).start()
        logger.info("hubsandbox listening on %s", self.url)
        return self

    def stop(self) -> None:
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        httpd.shutdown()
        httpd.server_close()
        self._interrupt.set()
        self._simulator_stop.set()
        self._scheduler.stop()
        self._pool.stop()

    def __enter__(self) -> HubSandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        return self._port

    @property
    def url(self) -> str:
        host = "127.0.0.1" if self._host in ("", "0.0.0.0") else self._host
        return f"http://{host}:{self._port}"

    # -- test helpers (same behaviour as the /_sandbox/ endpoints) ------------------------------------

    def reset(self) -> None:
        with self._lock:
            # Bumping the generation makes already-scheduled or in-flight work from before the reset a
            # no-op, so a test never sees a late event from the previous one.
            self._generation += 1
            self._scheduler.clear()
            self._init_state()
        self._interrupt.set()
        if self._httpd is not None:
            self._interrupt.clear()

    def add_application(self, *, name: str, api_key: str | None = None, channels: list[dict]) -> dict:
        if not isinstance(name, str) or not name:
            raise ValueError("'name' is required")
        if not isinstance(channels, list):
            raise ValueError("'channels' must be a list")
        specs = [validate_channel_spec(spec) for spec in channels]
        with self._lock:
            app = self._apps_by_key.get(api_key) if api_key else None
            if app is None:
                app = Application(new_id(), name, api_key or "hub_sk_" + secrets.token_urlsafe(24), {})
            for spec in specs:
                channel_id = spec.get("id") or new_id()
                existing = self._channels.get(channel_id)
                if existing is not None:
                    if existing.application_id != app.id:
                        raise ValueError(f"channel {channel_id} belongs to another application")
                    continue  # idempotent: a known channel id is kept as it is
                kind = spec["kind"]
                address = spec.get("address") or _default_address(kind, channel_id)
                channel = Channel(
                    channel_id, kind, spec.get("name") or f"{_KIND_LABELS[kind]} sandbox", address, app.id
                )
                app.channels[channel_id] = channel
            # Register only after every channel was accepted, so a rejected spec leaves no half-app.
            self._apps[app.id] = app
            self._apps_by_key[app.api_key] = app
            for channel in app.channels.values():
                self._channels[channel.id] = channel
            return app.as_dict()

    def applications(self) -> list[dict]:
        with self._lock:
            return [app.as_dict() for app in self._apps.values()]

    def configure(self, **settings: Any) -> None:
        with self._lock:
            self._settings = merge_settings(self._settings, settings)

    def settings(self) -> dict[str, Any]:
        with self._lock:
            return copy.deepcopy(self._settings)

    def accepted_sends(self, *, channel_id: str | None = None) -> list[dict]:
        with self._lock:
            return [
                send.as_dict()
                for send in self._sends.values()
                if channel_id is None or send.channel_id == channel_id
            ]

    def send_attempts(self) -> dict[str, Any]:
        with self._lock:
            return {
                "count": self._send_attempts,
                "accepted": len(self._sends),
                "byStatus": {str(code): n for code, n in sorted(self._send_outcomes.items())},
            }

    def open_webchatt_session(self, *, channel_id: str, visitor_id: str, active: bool = True) -> dict:
        with self._lock:
            channel = self._channels.get(channel_id)
            if channel is None or channel.kind != "webchatt":
                raise KeyError(f"no Web Chatt channel {channel_id}")
            if active:
                self._sessions.add((channel_id, visitor_id))
            else:
                self._sessions.discard((channel_id, visitor_id))
            return {"channelId": channel_id, "visitorId": visitor_id, "active": active}

    def customers(self, *, channel_id: str) -> list[dict]:
        with self._lock:
            channel = self._channels.get(channel_id)
            if channel is None:
                raise KeyError(f"unknown channel {channel_id}")
            return [c.as_dict() for c in customer_pool(channel.kind, channel.id)]

    def customer_message(
        self,
        *,
        channel_id: str,
        sender: str | None = None,
        content: dict | None = None,
        message_id: str | None = None,
        synchronous: bool = True,
    ) -> dict:
        """A customer writes to `channel_id`: the `Message` event is delivered before this returns (with
        `synchronous`, the default: `deliveries` lists the attempts; otherwise it is queued)."""
        if content is not None and not (isinstance(content, dict) and isinstance(content.get("type"), str)):
            raise ValueError("'content' must be a normalized content object with a 'type' (§4.2)")
        with self._lock:
            channel = self._channels.get(channel_id)
            if channel is None:
                raise KeyError(f"unknown channel {channel_id}")
            if sender is None:
                sender = self._rng.choice(customer_pool(channel.kind, channel.id)).sender
            if content is None:
                content = self._generated_content(channel, sender)
            if channel.kind == "webchatt":
                # A visitor writing means their widget is open: replies can reach them (§3.8).
                self._sessions.add((channel.id, sender))
            payload = {
                "eventType": "Message",
                "channelId": channel.id,
                "messageId": message_id or new_id(),
                "from": sender,
                "timestamp": int(time.time()),
                "channel": EVENT_CHANNEL_BY_KIND[channel.kind],
                "content": content,
            }
            generation = self._generation
        logs = self._dispatch_event(
            channel.application_id, "Message", payload, generation, synchronous=synchronous
        )
        return {
            "messageId": payload["messageId"],
            "event": payload,
            "deliveries": [log.as_dict() for log in logs],
        }

    def emit_status(
        self,
        *,
        message_id: str,
        status: str,
        error_code: str | None = None,
        error_message: str | None = None,
    ) -> list[dict]:
        """Deliver one `MessageStatus` event for an accepted send, now (synchronously)."""
        if status not in ("sent", "delivered", "read", "failed"):
            raise ValueError("status must be one of sent, delivered, read, failed")
        with self._lock:
            send = self._sends.get(message_id)
            if send is None:
                raise KeyError(f"unknown messageId {message_id}")
            payload = self._status_payload(send, status, int(time.time()), error_code, error_message)
            generation = self._generation
        logs = self._dispatch_event(
            send.application_id, "MessageStatus", payload, generation, synchronous=True
        )
        return [log.as_dict() for log in logs]

    def webhook_deliveries(self) -> list[dict]:
        """Every delivery attempt, oldest first, with the delivered payload (sandbox view of the logs)."""
        with self._lock:
            return [log.as_sandbox_dict() for log in self._logs.values()]

    def events(self, *, event_type: str | None = None) -> list[dict]:
        """Every event owed to a webhook, oldest first, with its attempts and 2xx answers (the ledger)."""
        with self._lock:
            return [
                entry.as_dict()
                for entry in self._ledger.values()
                if event_type is None or entry.event_type == event_type
            ]

    def pending_deliveries(self) -> int:
        """Deliveries not made yet: timed (statuses, delays), queued or running, or held back."""
        with self._lock:
            held = sum(len(items) for items in self._held.values())
        return self._scheduler.pending() + self._pool.outstanding + held

    def verifications(self) -> list[dict]:
        with self._lock:
            return copy.deepcopy(self._verifications)

    def verify_webhook(self, webhook_id: str) -> dict:
        """Re-run the §4.5 handshake (sandbox-only: the Hub documents no re-verify operation)."""
        self._verify(webhook_id)
        with self._lock:
            webhook = self._webhooks.get(webhook_id)
            if webhook is None:
                raise KeyError(webhook_id)
            return webhook.as_dict()

    # -- request dispatch ---------------------------------------------------------------------------

    def _dispatch(self, method: str, target: str, headers: dict[str, str], raw: bytes) -> Response:
        parts = urlsplit(target)
        path = parts.path.rstrip("/") or "/"
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        lowered = {k.lower(): v for k, v in headers.items()}
        try:
            if path.startswith("/_sandbox/"):
                response = self._control(method, path, query, raw)
            elif path.startswith("/v1/"):
                response = self._hub(method, path, query, lowered, raw)
            else:
                raise HubError(404, f"no route for {method} {path}", "not_found")
        except HubError as exc:
            response = Response(exc.status, {"errorMessage": exc.message, "errorCode": exc.code})
        except Exception as exc:
            logger.exception("hubsandbox: unexpected error")
            response = Response(500, {"errorMessage": f"sandbox bug: {exc}", "errorCode": "internal_error"})
        # §1 GAP: support asks for `x-request-id` "if available"; the sandbox always sends one.
        response.headers.setdefault("x-request-id", str(uuid.uuid4()))
        return response

    @staticmethod
    def _json_body(raw: bytes, *, required: bool = True) -> Any:
        if not raw.strip():
            if required:
                raise _bad_request("request body must be a JSON object", "invalid_json")
            return {}
        try:
            return json.loads(raw)
        except ValueError as exc:
            raise _bad_request(f"request body is not valid JSON: {exc}", "invalid_json") from exc

    # -- Hub API (/v1) ------------------------------------------------------------------------------

    def _hub(
        self, method: str, path: str, query: dict[str, str], headers: dict[str, str], raw: bytes
    ) -> Response:
        with self._lock:
            latency_ms = self._settings["latencyMs"]
        if latency_ms:
            time.sleep(latency_ms / 1000)
        send_match = re.fullmatch(r"/v1/communication/([^/]+)/message", path)
        if send_match and method == "POST":
            status = 500
            try:
                response = self._send(send_match.group(1), headers, raw)
                status = response.status
                return response
            except HubError as exc:
                status = exc.status
                raise
            finally:
                with self._lock:
                    self._send_outcomes[status] += 1
        app = self._authenticate(headers)
        routes: list[tuple[str, str, Callable[..., Response]]] = [
            ("POST", r"/v1/organization/webhook", self._create_webhook),
            ("GET", r"/v1/organization/webhook", self._list_webhooks),
            ("GET", r"/v1/organization/webhook/([^/]+)", self._get_webhook),
            ("PATCH", r"/v1/organization/webhook/([^/]+)", self._update_webhook),
            ("DELETE", r"/v1/organization/webhook/([^/]+)", self._delete_webhook),
            ("POST", r"/v1/organization/webhook/([^/]+)/redefine-signature", self._redefine_signature),
            ("GET", r"/v1/organization/webhook/([^/]+)/webhook-log", self._list_logs),
            ("POST", r"/v1/organization/webhook/([^/]+)/webhook-log/retry", self._retry_many),
            ("POST", r"/v1/organization/webhook/([^/]+)/webhook-log/([^/]+)/retry", self._retry_one),
        ]
        path_known = False
        for route_method, pattern, view in routes:
            match = re.fullmatch(pattern, path)
            if match is None:
                continue
            path_known = True
            if route_method == method:
                return view(app, *match.groups(), query=query, raw=raw)
        if path_known or send_match:
            raise HubError(405, f"method {method} not allowed on {path}", "method_not_allowed")
        raise HubError(404, f"no route for {method} {path}", "not_found")

    def _authenticate(self, headers: dict[str, str]) -> Application:
        key = headers.get("x-api-key")
        if not key:
            raise HubError(401, "missing x-api-key header", "unauthorized")
        with self._lock:
            app = self._apps_by_key.get(key)
        if app is None:
            raise HubError(401, "invalid API key", "unauthorized")
        return app

    def _send(self, segment: str, headers: dict[str, str], raw: bytes) -> Response:
        with self._lock:
            # Counted before anything can fail: /_sandbox/requests/count is "every attempt".
            self._send_attempts += 1
        app = self._authenticate(headers)
        kind = KIND_BY_SEGMENT.get(segment)
        if kind is None:
            raise HubError(404, f"unknown channel type '{segment}'", "not_found")
        self._send_faults_before_accept()
        body = self._json_body(raw)
        try:
            sender, to, content = validate_envelope(body)
            with self._lock:
                channel = self._resolve_from(app, kind, sender)
            validate_recipient(kind, to)
            plan = validate_content(kind, content)
        except SendValidationError as exc:
            raise _bad_request(exc.message, exc.code) from exc

        with self._lock:
            settings = self._settings
            if kind == "webchatt" and (channel.id, to) not in self._sessions:
                # §3.8: provider-level outcome, so HTTP 200 with status error.
                return Response(
                    200,
                    {
                        "messageId": None,
                        "status": "error",
                        "errorCode": "session_not_found",
                        "errorMessage": f"visitor {to} has no active widget session",
                    },
                )
            if settings["sendRefusalRate"] > 0 and self._rng.random() < settings["sendRefusalRate"]:
                # The fault mode's provider refusal (§3.8): answered, not accepted, not worth retrying.
                return Response(
                    200,
                    {
                        "messageId": None,
                        "status": "error",
                        "errorCode": "sandbox_refused",
                        "errorMessage": "The provider refused the message (sandbox fault mode)",
                    },
                )
            failing = settings["failingRecipients"].get(to)
            if failing is not None:
                return Response(
                    200,
                    {
                        "messageId": None,
                        "status": "error",
                        "errorCode": str(failing.get("errorCode", "131026")),
                        "errorMessage": failing.get("errorMessage", "Recipient cannot receive messages"),
                    },
                )
            message_id = _new_message_id(kind, to)
            send = Send(
                message_id, app.id, channel.id, kind, to, copy.deepcopy(content), SEND_STATUS_BY_KIND[kind]
            )
            self._sends[message_id] = send
            if plan.content_type != "mark_as_seen":  # a read receipt is an action, not a message
                self._schedule_statuses(send)
            after_accept_rate = settings["sendTimeoutAfterAcceptRate"]
            sleep_after_accept = after_accept_rate > 0 and self._rng.random() < after_accept_rate
            timeout_seconds = settings["timeoutSeconds"]
        if sleep_after_accept:
            # The at-least-once window: the Hub has the message but the client will see a timeout.
            self._interrupt.wait(timeout_seconds)
        return Response(
            200,
            {"messageId": message_id, "status": send.status, "recipientId": to, "type": plan.response_type},
        )

    def _send_faults_before_accept(self) -> None:
        with self._lock:
            settings = self._settings

            # One draw per enabled fault, in a fixed order, so a seed gives the same sequence every run.
            def roll(key: str) -> bool:
                return settings[key] > 0 and self._rng.random() < settings[key]

            rate_limited = roll("sendRateLimitRate")
            errored = not rate_limited and roll("sendErrorRate")
            timed_out = not (rate_limited or errored) and roll("sendTimeoutRate")
            timeout_seconds = settings["timeoutSeconds"]
        if rate_limited:
            raise HubError(429, "Too many requests, back off and retry later", "rate_limited")
        if errored:
            raise HubError(500, "Internal server error", "internal_error")
        if timed_out:
            # The send is NOT recorded: a client that times out and retries must not create a double.
            self._interrupt.wait(timeout_seconds)
            raise HubError(504, "Upstream provider timed out", "gateway_timeout")

    def _resolve_from(self, app: Application, kind: str, sender: str) -> Channel:
        """§2: the UUID always works; WhatsApp/SMS numbers, IG/Telegram usernames, Messenger page ids too."""
        channel = self._channels.get(sender)
        if channel is not None:
            if channel.application_id != app.id:
                # Same answer as an unknown id: a key must not learn about other applications' channels.
                raise _not_found_channel(sender)
            if channel.kind != kind:
                raise HubError(
                    404,
                    f"channel {sender} is a {SEGMENT_BY_KIND[channel.kind]} channel, not {SEGMENT_BY_KIND[kind]}",
                    "channel_not_found",
                )
            return channel
        wanted = normalize_alternate_from(kind, sender)
        if wanted is not None:
            for candidate in app.channels.values():
                if (
                    candidate.kind == kind
                    and candidate.address
                    and normalize_alternate_from(kind, candidate.address) == wanted
                ):
                    return candidate
        raise _not_found_channel(sender)

    # -- status events ------------------------------------------------------------------------------

    def _status_payload(
        self, send: Send, status: str, timestamp: int, error_code: str | None, error_message: str | None
    ) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "eventType": "MessageStatus",
            "messageId": send.message_id,
            "status": status,
            "timestamp": timestamp,
            "channel": EVENT_CHANNEL_BY_KIND[send.kind],
        }
        if status == "failed":
            # §4.3 GAP: failure carries errorCode/errorMessage like a failed send (§3.8).
            default_code, default_message = UNDELIVERABLE_ERROR_BY_KIND[send.kind]
            payload["errorCode"] = error_code or default_code
            payload["errorMessage"] = error_message or default_message
        if _STATUS_RANK.get(status, 0) >= _STATUS_RANK.get(send.last_status or "", 0):
            send.last_status = status
        return payload

    def _schedule_statuses(self, send: Send) -> None:
        """Called with the lock held, right after a send was accepted (§4.3 per-channel sets)."""
        statuses = list(STATUSES_BY_KIND[send.kind])
        if send.to in self._settings["undeliverableRecipients"]:
            # The failure replaces what the channel would report once the message leaves its server.
            cut = statuses.index("delivered") if "delivered" in statuses else 0
            statuses = [*statuses[:cut], "failed"]
        delays_ms = self._settings["statusDelaysMs"]
        accepted = time.time()
        plan: list[tuple[float, str]] = []
        for status in statuses:
            delay = delays_ms.get(status, delays_ms["delivered"]) / 1000
            plan.append((delay, status))
        generation = self._generation
        message_id = send.message_id

        def fire(status: str, delay: float) -> None:
            with self._lock:
                current = self._sends.get(message_id)
                if current is None or generation != self._generation:
                    return
                payload = self._status_payload(current, status, int(accepted + delay), None, None)
            self._dispatch_event(send.application_id, "MessageStatus", payload, generation)

        if self._settings["webhookReorder"]:
            # All events at the last due time, newest status first, delivered one after the other so the
            # reversed order actually reaches the endpoint.
            last = max(delay for delay, _ in plan)

            def fire_reversed() -> None:
                for delay, status in reversed(plan):
                    with self._lock:
                        current = self._sends.get(message_id)
                        if current is None or generation != self._generation:
                            return
                        payload = self._status_payload(current, status, int(accepted + delay), None, None)
                    self._dispatch_event(
                        send.application_id, "MessageStatus", payload, generation, synchronous=True
                    )

            self._scheduler.schedule(last, fire_reversed)
            return
        for delay, status in plan:
            self._scheduler.schedule(delay, lambda s=status, d=delay: fire(s, d))

    # -- deliveries ---------------------------------------------------------------------------------

    def _dispatch_event(
        self,
        application_id: str,
        event_type: str,
        payload: dict[str, Any],
        generation: int,
        *,
        synchronous: bool = False,
    ) -> list[DeliveryLog]:
        """Deliver one event to every active, verified webhook of its type for the application (§4.1).

        Fault mode: a duplicated event is delivered twice; a reordered one is held back until the next
        event of the same thread (a customer's chat, or one message's statuses) has been delivered to that
        webhook, or for at most `webhookReorderHoldMs`.
        """
        body = encode_event(payload)
        message_id = payload.get("messageId")
        thread = _thread_of(event_type, payload)
        with self._lock:
            if generation != self._generation:
                return []
            targets = [
                w.id
                for w in self._webhooks.values()
                if w.application_id == application_id and w.event_type == event_type and w.receives_events
            ]
            duplicate_rate = self._settings["webhookDuplicateRate"]
            reorder_rate = self._settings["webhookReorderRate"]
            hold_seconds = self._settings["webhookReorderHoldMs"] / 1000
            low, high = self._settings["webhookDelayMs"]
            plans: list[tuple[LedgerEntry, list[float]]] = []
            for webhook_id in targets:
                copies = 2 if duplicate_rate > 0 and self._rng.random() < duplicate_rate else 1
                delays = [self._rng.uniform(low, high) / 1000 if high else 0.0 for _ in range(copies)]
                reordered = reorder_rate > 0 and self._rng.random() < reorder_rate
                entry = LedgerEntry(
                    event_id=new_id(),
                    webhook_id=webhook_id,
                    application_id=application_id,
                    event_type=event_type,
                    message_id=message_id,
                    status=payload.get("status"),
                    timestamp=payload.get("timestamp"),
                    channel_id=payload.get("channelId"),
                    sender=payload.get("from"),
                    copies=copies,
                    reordered=reordered,
                )
                self._ledger[entry.event_id] = entry
                plans.append((entry, delays))
        logs: list[DeliveryLog] = []
        for entry, delays in plans:
            webhook_id, event_id = entry.webhook_id, entry.event_id
            if entry.reordered:
                self._hold(_Held(webhook_id, thread, body, message_id, generation, event_id, len(delays)))
                self._scheduler.schedule(
                    hold_seconds, lambda w=webhook_id, e=event_id: self._release_held(w, thread, only=e)
                )
                continue
            for index, delay in enumerate(delays):
                # The first copy releases what was held behind this event: they reach the endpoint after it.
                releases = index == 0

                def task(
                    w: str = webhook_id, e: str = event_id, release: bool = releases
                ) -> list[DeliveryLog]:
                    delivered = self._deliver(w, body, message_id, generation, event_id=e)
                    found = [delivered] if delivered is not None else []
                    return found + (self._release_held(w, thread) if release else [])

                if synchronous:
                    if delay:
                        time.sleep(delay)
                    logs += task()
                elif delay:
                    self._scheduler.schedule(delay, task)
                else:
                    self._pool.submit(task)
        return logs

    def _hold(self, held: _Held) -> None:
        with self._lock:
            self._held.setdefault((held.webhook_id, held.thread), []).append(held)

    def _release_held(self, webhook_id: str, thread: str, *, only: str | None = None) -> list[DeliveryLog]:
        """Deliver what the reorder fault held back for this thread (or just event `only`, when its hold
        time is up and nothing released it before). Returns the new logs."""
        with self._lock:
            waiting = self._held.get((webhook_id, thread), [])
            released = [h for h in waiting if only is None or h.event_id == only]
            remaining = [h for h in waiting if h not in released]
            if remaining:
                self._held[(webhook_id, thread)] = remaining
            else:
                self._held.pop((webhook_id, thread), None)
        logs: list[DeliveryLog] = []
        for held in released:
            for _ in range(held.copies):
                log = self._deliver(
                    held.webhook_id, held.body, held.message_id, held.generation, event_id=held.event_id
                )
                if log is not None:
                    logs.append(log)
        return logs

    def _deliver(
        self,
        webhook_id: str,
        body: bytes,
        message_id: str | None,
        generation: int,
        retry_of: str | None = None,
        event_id: str | None = None,
    ) -> DeliveryLog | None:
        with self._lock:
            webhook = self._webhooks.get(webhook_id)
            if webhook is None or generation != self._generation:
                return None
            endpoint = webhook.endpoint
            custom_headers = list(webhook.headers)
            secret = webhook.signing_secret if webhook.requires_signature else None
            timeout = self._settings["webhookTimeoutSeconds"]
            event_type = webhook.event_type
            application_id = webhook.application_id
        # Signed per attempt: a retry carries the same bytes with a fresh `t` (§4.6, §5.3).
        headers = build_headers(custom_headers, body, secret)
        sent_at = now_iso()
        result = post(endpoint, body, headers, timeout)
        response_body = result.body[:RESPONSE_BODY_LIMIT] if result.body is not None else None
        log = DeliveryLog(
            id=new_id(),
            webhook_id=webhook_id,
            application_id=application_id,
            endpoint=endpoint,
            event_type=event_type,
            message_id=message_id,
            body=body,
            status_code=result.status_code,
            response_body=response_body,
            status="Success" if result.ok else "Failed",
            send_at=sent_at,
            created_date=sent_at,
            retry_of=retry_of,
            signature=headers.get("X-hub-Signature"),
            event_id=event_id,
        )
        with self._lock:
            if generation != self._generation:
                return None
            self._logs[log.id] = log
            current = self._webhooks.get(webhook_id)
            if current is not None and not result.ok:
                current.number_of_errors += 1
            entry = self._ledger.get(event_id) if event_id else None
            if entry is not None:
                entry.deliveries += 1
                entry.accepted += result.ok
        if not result.ok:
            logger.info(
                "hubsandbox: delivery to %s failed (%s %s)", endpoint, result.status_code, result.error
            )
        return log

    def _verify(self, webhook_id: str) -> None:
        """§4.5 handshake. Synchronous but bounded by verificationTimeoutSeconds, never under the lock."""
        with self._lock:
            webhook = self._webhooks.get(webhook_id)
            if webhook is None:
                return
            webhook.verification_seq += 1
            seq = webhook.verification_seq
            endpoint = webhook.endpoint
            custom_headers = list(webhook.headers)
            secret = webhook.signing_secret if webhook.requires_signature else None
            timeout = self._settings["verificationTimeoutSeconds"]
            generation = self._generation
        token = secrets.token_urlsafe(32)  # a new token on every run (§4.5)
        body = b"{}"  # GAP §4.5: body assumed `{}`, signed when requiresSignature
        headers = build_headers(custom_headers, body, secret, {"X-Validation-Token": token})
        result = post(endpoint, body, headers, timeout)
        verified = handshake_accepted(result, token)
        with self._lock:
            if generation != self._generation:
                return
            self._verifications.append(
                {
                    "webhookId": webhook_id,
                    "endpoint": endpoint,
                    "statusCode": result.status_code,
                    "responseBody": (result.body or "")[:RESPONSE_BODY_LIMIT]
                    if result.body is not None
                    else None,
                    "token": token,
                    "isVerified": verified,
                    "at": now_iso(),
                }
            )
            webhook = self._webhooks.get(webhook_id)
            # A slower, older handshake must not overwrite the result of a newer one.
            if webhook is not None and webhook.verification_seq == seq:
                webhook.is_verified = verified
                webhook.verified_at = now_iso() if verified else None
                webhook.last_modified_date = now_iso()

    # -- webhook management (§5) --------------------------------------------------------------------

    def _webhook_for(self, app: Application, webhook_id: str) -> Webhook:
        webhook = self._webhooks.get(webhook_id)
        if webhook is None or webhook.application_id != app.id:
            raise _not_found("Webhook")
        return webhook

    def _validated_webhook_fields(self, body: Any, *, creating: bool) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise _bad_request("request body must be a JSON object")
        unknown = sorted(set(body) - _WEBHOOK_WRITABLE)
        if unknown:
            raise _bad_request(f"unknown field(s): {', '.join(unknown)}")
        if creating:
            missing = [
                f for f in ("label", "endpoint", "eventType", "authenticationProtocol") if body.get(f) is None
            ]
            if missing:
                raise _bad_request(f"missing required field(s): {', '.join(missing)}", "missing_field")
        fields: dict[str, Any] = {}
        if "label" in body:
            if not isinstance(body["label"], str) or not body["label"].strip():
                raise _bad_request("'label' must be a non-empty string")
            fields["label"] = body["label"]
        if "endpoint" in body:
            endpoint = body["endpoint"]
            parts = urlsplit(endpoint) if isinstance(endpoint, str) else None
            # The Hub wants HTTPS (§1, §4.5). The sandbox also takes http:// because it runs next to a
            # local dashboard that has no certificate; production-readiness is the product's check.
            if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
                raise _bad_request("'endpoint' must be an absolute http(s) URL")
            fields["endpoint"] = endpoint
        if "eventType" in body:
            if body["eventType"] not in EVENT_TYPES:
                raise _bad_request(f"'eventType' must be one of {', '.join(EVENT_TYPES)}")
            fields["eventType"] = body["eventType"]
        if "authenticationProtocol" in body:
            # Only NoAuthentication has a documented behaviour; the others are accepted and change nothing.
            if body["authenticationProtocol"] not in AUTH_PROTOCOLS:
                raise _bad_request(f"'authenticationProtocol' must be one of {', '.join(AUTH_PROTOCOLS)}")
            fields["authenticationProtocol"] = body["authenticationProtocol"]
        if "headers" in body:
            headers = body["headers"] if body["headers"] is not None else []
            if not isinstance(headers, list) or not all(
                isinstance(h, dict)
                and set(h) == {"key", "value"}
                and isinstance(h["key"], str)
                and _HEADER_NAME.fullmatch(h["key"])
                and isinstance(h["value"], str)
                for h in headers
            ):
                raise _bad_request("'headers' must be a list of {key, value} strings")
            fields["headers"] = [{"key": h["key"], "value": h["value"]} for h in headers]
        for flag in ("requiresSignature", "active"):
            if flag in body:
                if not isinstance(body[flag], bool):
                    raise _bad_request(f"'{flag}' must be a boolean")
                fields[flag] = body[flag]
        if "scope" in body:
            if body["scope"] is not None and not isinstance(body["scope"], str):
                raise _bad_request("'scope' must be a string or null")
            fields["scope"] = body["scope"]
        return fields

    def _create_webhook(self, app: Application, *, query: dict[str, str], raw: bytes) -> Response:
        fields = self._validated_webhook_fields(self._json_body(raw), creating=True)
        requires_signature = fields.get("requiresSignature", False)
        webhook = Webhook(
            id=new_id(),
            application_id=app.id,
            label=fields["label"],
            endpoint=fields["endpoint"],
            event_type=fields["eventType"],
            authentication_protocol=fields["authenticationProtocol"],
            headers=fields.get("headers", []),
            requires_signature=requires_signature,
            signing_secret=new_signing_secret() if requires_signature else None,
            scope=fields.get("scope"),
            active=fields.get("active", True),
        )
        with self._lock:
            self._webhooks[webhook.id] = webhook
        self._verify(webhook.id)
        with self._lock:
            data = webhook.as_dict()
        if requires_signature:
            data["signingSecret"] = webhook.signing_secret  # returned once (§4.6, §5.2)
        return Response(201, data)

    def _list_webhooks(self, app: Application, *, query: dict[str, str], raw: bytes) -> Response:
        with self._lock:
            items = [w.as_dict() for w in self._webhooks.values() if w.application_id == app.id]
        return Response(200, _paginate(items, query))

    def _get_webhook(
        self, app: Application, webhook_id: str, *, query: dict[str, str], raw: bytes
    ) -> Response:
        with self._lock:
            return Response(200, self._webhook_for(app, webhook_id).as_dict())

    def _update_webhook(
        self, app: Application, webhook_id: str, *, query: dict[str, str], raw: bytes
    ) -> Response:
        fields = self._validated_webhook_fields(self._json_body(raw), creating=False)
        new_secret: str | None = None
        with self._lock:
            webhook = self._webhook_for(app, webhook_id)
            attribute_by_field = {
                "label": "label",
                "eventType": "event_type",
                "authenticationProtocol": "authentication_protocol",
                "headers": "headers",  # replaces the list (§5.2 GAP: "assume replace")
                "scope": "scope",
                "active": "active",
            }
            for name, attribute in attribute_by_field.items():
                if name in fields:
                    setattr(webhook, attribute, fields[name])
            if "requiresSignature" in fields:
                webhook.requires_signature = fields["requiresSignature"]
                # Turning signing on (again) issues a fresh secret, shown in this response only (§4.6).
                webhook.signing_secret = new_signing_secret() if fields["requiresSignature"] else None
                new_secret = webhook.signing_secret
            reverify = "endpoint" in fields
            if reverify:
                # §4.5: any update that touches the endpoint re-runs verification; until it passes the
                # webhook gets no events.
                webhook.endpoint = fields["endpoint"]
                webhook.is_verified = False
                webhook.verified_at = None
            webhook.last_modified_date = now_iso()
        if reverify:
            self._verify(webhook_id)
        with self._lock:
            data = webhook.as_dict()
        if new_secret:
            data["signingSecret"] = new_secret
        return Response(200, data)

    def _delete_webhook(
        self, app: Application, webhook_id: str, *, query: dict[str, str], raw: bytes
    ) -> Response:
        with self._lock:
            self._webhook_for(app, webhook_id)
            del self._webhooks[webhook_id]
        return Response(204)

    def _redefine_signature(
        self, app: Application, webhook_id: str, *, query: dict[str, str], raw: bytes
    ) -> Response:
        with self._lock:
            webhook = self._webhook_for(app, webhook_id)
            # GAP §4.6: path and answer assumed. The secret rotates; `requiresSignature` is left as it is,
            # so rotating a secret never silently turns signing on or off.
            webhook.signing_secret = new_signing_secret()
            webhook.last_modified_date = now_iso()
            return Response(200, {"signingSecret": webhook.signing_secret})

    def _list_logs(self, app: Application, webhook_id: str, *, query: dict[str, str], raw: bytes) -> Response:
        wanted = query.get("status")
        if wanted is not None:
            # Docs say `Failed`, the OpenAPI enum says `Error` (§5.3): both filter failures.
            aliases = {"failed": "Failed", "error": "Failed", "success": "Success"}
            if wanted.lower() not in aliases:
                raise _bad_request("'status' must be Success or Failed")
            wanted = aliases[wanted.lower()]
        with self._lock:
            self._webhook_for(app, webhook_id)
            logs = [
                log.as_dict()
                for log in reversed(self._logs.values())  # newest first
                if log.webhook_id == webhook_id and (wanted is None or log.status == wanted)
            ]
        return Response(200, _paginate(logs, query))

    def _retry(self, app: Application, webhook_id: str, log_id: str) -> str:
        """Re-send a failed log's bytes (re-signed); returns the new log id or raises HubError."""
        with self._lock:
            self._webhook_for(app, webhook_id)
            log = self._logs.get(log_id)
            if log is None or log.webhook_id != webhook_id:
                raise _not_found("Log")
            if log.status == "Success":
                raise _bad_request(
                    "log cannot be retried: it was delivered successfully", "log_not_retryable"
                )
            body, message_id, generation = log.body, log.message_id, self._generation
            event_id = log.event_id
        new_log = self._deliver(webhook_id, body, message_id, generation, retry_of=log_id, event_id=event_id)
        if new_log is None:
            raise _not_found("Webhook")
        return new_log.id

    def _retry_one(
        self, app: Application, webhook_id: str, log_id: str, *, query: dict[str, str], raw: bytes
    ) -> Response:
        new_log_id = self._retry(app, webhook_id, log_id)
        return Response(200, {"success": True, "newLogId": new_log_id})

    def _retry_many(
        self, app: Application, webhook_id: str, *, query: dict[str, str], raw: bytes
    ) -> Response:
        body = self._json_body(raw)
        ids = body.get("webhookLogIds") if isinstance(body, dict) else None
        if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
            raise _bad_request("'webhookLogIds' must be a non-empty list of log ids")
        with self._lock:
            self._webhook_for(app, webhook_id)
        results = []
        for log_id in ids:
            try:
                new_log_id: str | None = self._retry(app, webhook_id, log_id)
            except HubError:
                new_log_id = None  # §5.3: success:false for an invalid or deleted log
            results.append(
                {"webhookLogId": log_id, "success": new_log_id is not None, "newLogId": new_log_id}
            )
        return Response(200, {"results": results})

    # -- control API (/_sandbox) --------------------------------------------------------------------

    def _control(self, method: str, path: str, query: dict[str, str], raw: bytes) -> Response:
        route = (method, path)
        try:
            if route == ("POST", "/_sandbox/reset"):
                self.reset()
                return Response(200, {"reset": True})
            if route == ("GET", "/_sandbox/applications"):
                return Response(200, {"data": self.applications()})
            if route == ("POST", "/_sandbox/applications"):
                body = self._json_body(raw)
                if not isinstance(body, dict):
                    raise _bad_request("body must be {name, apiKey?, channels}")
                app = self.add_application(
                    name=body.get("name"), api_key=body.get("apiKey"), channels=body.get("channels", [])
                )
                return Response(201, app)
            if route == ("GET", "/_sandbox/settings"):
                return Response(200, self.settings())
            if route == ("PUT", "/_sandbox/settings"):
                body = self._json_body(raw)
                if not isinstance(body, dict):
                    raise _bad_request("body must be an object of settings")
                self.configure(**body)
                return Response(200, self.settings())
            if route == ("GET", "/_sandbox/sends"):
                sends = self.accepted_sends(channel_id=query.get("channelId"))
                return Response(200, {"count": len(sends), "data": sends})
            if route == ("GET", "/_sandbox/requests/count"):
                return Response(200, self.send_attempts())
            if route == ("GET", "/_sandbox/customers"):
                if "channelId" not in query:
                    raise _bad_request("'channelId' query parameter is required")
                return Response(200, {"data": self.customers(channel_id=query["channelId"])})
            if route == ("POST", "/_sandbox/customers/messages"):
                body = self._json_body(raw)
                if not isinstance(body, dict) or not isinstance(body.get("channelId"), str):
                    raise _bad_request("body must be {channelId, from?, content?, messageId?}")
                result = self.customer_message(
                    channel_id=body["channelId"],
                    sender=body.get("from"),
                    content=body.get("content"),
                    message_id=body.get("messageId"),
                )
                return Response(200, result)
            if route == ("POST", "/_sandbox/statuses"):
                body = self._json_body(raw)
                if not isinstance(body, dict):
                    raise _bad_request("body must be {messageId, status, errorCode?, errorMessage?}")
                logs = self.emit_status(
                    message_id=body.get("messageId", ""),
                    status=body.get("status", ""),
                    error_code=body.get("errorCode"),
                    error_message=body.get("errorMessage"),
                )
                return Response(200, {"deliveries": logs})
            if path == "/_sandbox/webchatt/sessions" and method in ("POST", "DELETE"):
                body = self._json_body(raw)
                if not isinstance(body, dict) or not all(
                    isinstance(body.get(k), str) and body[k] for k in ("channelId", "visitorId")
                ):
                    raise _bad_request("body must be {channelId, visitorId}")
                session = self.open_webchatt_session(
                    channel_id=body["channelId"], visitor_id=body["visitorId"], active=method == "POST"
                )
                return Response(201 if method == "POST" else 200, session)
            if route == ("GET", "/_sandbox/deliveries"):
                deliveries = [
                    d
                    for d in self.webhook_deliveries()
                    if all(
                        d.get(k) == query[k] for k in ("webhookId", "messageId", "eventType") if k in query
                    )
                ]
                return Response(200, {"count": len(deliveries), "data": deliveries})
            if route == ("GET", "/_sandbox/events"):
                events = self.events(event_type=query.get("eventType"))
                return Response(
                    200, {"count": len(events), "pending": self.pending_deliveries(), "data": events}
                )
            if route == ("GET", "/_sandbox/verifications"):
                return Response(200, {"data": self.verifications()})
            match = re.fullmatch(r"/_sandbox/webhooks/([^/]+)/verify", path)
            if match and method == "POST":
                return Response(200, self.verify_webhook(match.group(1)))
            match = re.fullmatch(r"/_sandbox/media/([^/]+)", path)
            if match and method == "GET":
                found = media_file(match.group(1))
                if found is None:
                    raise _not_found("Media")
                return Response(200, raw=found[0], content_type=found[1])
        except ValueError as exc:
            raise _bad_request(str(exc), "invalid_control_request") from exc
        except KeyError as exc:
            raise HubError(404, str(exc.args[0]) if exc.args else "not found", "not_found") from exc
        raise HubError(404, f"no sandbox route for {method} {path}", "not_found")

    # -- customer simulator -------------------------------------------------------------------------

    def _generated_content(self, channel: Channel, sender: str) -> dict[str, Any]:
        """Lock held. Reactions target messages sent to this customer; button clicks answer real buttons."""
        to_customer = [s for s in self._sends.values() if s.channel_id == channel.id and s.to == sender]
        buttons: list[tuple[str, str]] = []
        for send in reversed(to_customer):
            interactive = send.content.get("interactive")
            if isinstance(interactive, dict) and interactive.get("type") == "button":
                buttons = [
                    (b["reply"]["id"], b["reply"]["title"])
                    for b in interactive.get("action", {}).get("buttons", [])
                ]
                break
        return generate_content(
            channel.kind,
            self._rng,
            self.url,
            reply_targets=[s.message_id for s in to_customer[-5:]],
            buttons=buttons or None,
        )

    def _simulate_customers(self) -> None:
        """Customers write at `customersRate` per second, paced on the clock and delivered through the
        pool, so a slow or failing receiver does not slow the customers down (nor would it at the Hub)."""
        stop = self._simulator_stop
        due: float | None = None
        while not stop.is_set():
            with self._lock:
                rate = self._settings["customersRate"]
            if rate <= 0:
                due = None
                stop.wait(0.2)
                continue
            now = time.monotonic()
            # A stalled thread (a busy machine) catches up at most one second's worth, not in one burst.
            due = max(now + 1 / rate if due is None else due, now - 1.0)
            if due > now and stop.wait(due - now):
                return
            due += 1 / rate
            with self._lock:
                # Only channels whose application would actually receive the event are worth writing to.
                listening = {
                    w.application_id
                    for w in self._webhooks.values()
                    if w.event_type == "Message" and w.receives_events
                }
                candidates = [c.id for c in self._channels.values() if c.application_id in listening]
                channel_id = self._rng.choice(candidates) if candidates else None
            if channel_id is not None:
                try:
                    self.customer_message(channel_id=channel_id, synchronous=False)
                except Exception:
                    logger.exception("hubsandbox: simulated customer message failed")


def _not_found_channel(sender: str) -> HubError:
    return HubError(404, f"channel '{sender}' not found for this API key", "channel_not_found")


def _paginate(items: list[dict[str, Any]], query: dict[str, str]) -> dict[str, Any]:
    """§5.2 pagination: offset >= 0 (default 0), limit 1..50 (default 20)."""
    try:
        offset = int(query.get("offset", 0))
        limit = int(query.get("limit", 20))
    except ValueError as exc:
        raise _bad_request("'offset' and 'limit' must be integers") from exc
    if offset < 0 or not 1 <= limit <= 50:
        raise _bad_request("'offset' must be >= 0 and 'limit' between 1 and 50")
    total = len(items)
    return {
        "data": items[offset : offset + limit],
        "pagination": {
            "offset": offset,
            "limit": limit,
            "total": total,
            "totalPages": math.ceil(total / limit),
        },
    }


__all__ = ["KINDS", "HubError", "HubSandbox"]
