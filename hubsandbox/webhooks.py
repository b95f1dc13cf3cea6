"""Outbound HTTP of the sandbox: event deliveries, signatures and the verification handshake (§4)."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import queue
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

logger = logging.getLogger("hubsandbox")

RESPONSE_BODY_LIMIT = 2048  # log `responseBody` is truncated to 2 KB


def encode_event(payload: dict[str, Any]) -> bytes:
    """§4.6: the body is JSON.stringify(payload): compact, insertion order, raw UTF-8."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


def signature_header(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """`X-hub-Signature: t=<unix>,v1=<hex hmac-sha256(secret, "<t>.<body>")>` (§4.6)."""
    t = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={digest}"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    # A webhook POST answered with a redirect is a failure, like at any webhook provider: following it
    # would turn the POST into a GET and hide, e.g., a missing trailing slash on a Django URL.
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


# No proxy handler: a developer's http_proxy must not capture deliveries to localhost.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect())


@dataclass(frozen=True)
class HttpResult:
    status_code: int  # 0 = timeout / unreachable (§5.3)
    body: str | None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return 200 <= self.status_code < 300  # §4.1: 2xx is Success


def post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> HttpResult:
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            return HttpResult(response.status, _decode(response.read()))
    except urllib.error.HTTPError as exc:
        try:
            text = _decode(exc.read())
        except Exception:
            text = None
        return HttpResult(exc.code, text)
    except Exception as exc:
        return HttpResult(0, None, f"{type(exc).__name__}: {exc}")


def _decode(raw: bytes) -> str:
    return raw.decode("utf-8", errors="replace")


def build_headers(
    custom: list[dict[str, str]], body: bytes, secret: str | None, extra: dict[str, str] | None = None
) -> dict[str, str]:
    headers = {"Content-Type": "application/json", "User-Agent": "hubsandbox"}
    # §4.1: the configured custom headers travel with every delivery (and with the handshake, §4.5).
    for header in custom:
        headers[header["key"]] = header["value"]
    if extra:
        headers.update(extra)
    if secret:
        headers["X-hub-Signature"] = signature_header(secret, body)
    return headers


def handshake_accepted(result: HttpResult, token: str) -> bool:
    """§4.5 acceptance rule: status 200 and (body == token or json.loads(body) == token)."""
    if result.status_code != 200 or result.body is None:
        return False
    if result.body == token:
        return True
    try:
        return json.loads(result.body) == token
    except ValueError:
        return False


class WorkerPool:
    """A few daemon threads draining a queue: deliveries never block the thread that triggered them.

    Not concurrent.futures: its threads are joined at interpreter exit, so a delivery stuck on a slow
    endpoint would delay Ctrl-C of the CLI by the delivery timeout.
    """

    def __init__(self, size: int = 16) -> None:
        self._size = size
        self._queue: queue.Queue[Callable[[], None] | None] = queue.Queue()
        self._threads: list[threading.Thread] = []
        # Tasks submitted and not finished yet (queued or running): "is the Hub still delivering?"
        self._outstanding = 0
        self._count_lock = threading.Lock()

    def start(self) -> None:
        if self._threads:
            return
        for index in range(self._size):
            thread = threading.Thread(target=self._run, name=f"hubsandbox-delivery-{index}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        # Work already queued is finished first (FIFO), then each thread reads its sentinel and exits.
        for _ in self._threads:
            self._queue.put(None)
        self._threads = []

    def submit(self, task: Callable[[], None]) -> None:
        with self._count_lock:
            self._outstanding += 1
        self._queue.put(task)

    @property
    def outstanding(self) -> int:
        with self._count_lock:
            return self._outstanding

    def _run(self) -> None:
        while True:
            task = self._queue.get()
            if task is None:
                return
            try:
                task()
            except Exception:
                logger.exception("hubsandbox: delivery task failed")
            finally:
                with self._count_lock:
                    self._outstanding -= 1
