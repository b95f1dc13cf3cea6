"""The one Hub client: requests, timeouts, typed results, and errors that say permanent or transient."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar

import requests
from django.conf import settings
from django.utils.dateparse import parse_datetime

from channels_app.hub.capabilities import capability

log = logging.getLogger(__name__)

# docs/hub.md, Basics and errors: these statuses mean the request itself is wrong; sending it again cannot help.
PERMANENT_STATUSES = frozenset({400, 401, 403, 404, 405, 409, 410, 413, 422})

_local = threading.local()


def _session() -> requests.Session:
    # One session (and its connection pool) per thread: requests.Session is not documented thread-safe,
    # and the worker and daphne call the Hub from several threads.
    session = getattr(_local, "session", None)
    if session is None:
        session = requests.Session()
        session.headers.update({"Content-Type": "application/json", "Accept": "application/json"})
        _local.session = session
    return session


class HubError(Exception):
    """A failed Hub call. `permanent` says whether trying again can help."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        error_code: str = "",
        permanent: bool,
        kind: str = "http",
        request_id: str = "",
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.error_code = error_code
        self.permanent = permanent
        # http | timeout | connect_timeout | connection | invalid_response
        self.kind = kind
        self.request_id = request_id

    @property
    def maybe_delivered(self) -> bool:
        """True when the Hub may have acted on the request although we got no answer (a read timeout)."""
        return self.kind == "timeout"

    def __str__(self) -> str:
        where = f"HTTP {self.status}" if self.status else self.kind
        code = f" [{self.error_code}]" if self.error_code else ""
        return f"{where}{code}: {self.message}"


@dataclass(frozen=True)
class SendResult:
    message_id: str | None
    status: str  # sent | enqueued | error (docs/hub.md, Sending)
    error_code: str = ""
    error_message: str = ""
    recipient_id: str = ""
    request_id: str = ""
    http_status: int = 200

    @property
    def accepted(self) -> bool:
        return self.status != "error" and bool(self.message_id)


@dataclass(frozen=True)
class WebhookInfo:
    id: str
    event_type: str
    endpoint: str
    label: str = ""
    active: bool = True
    is_verified: bool = False
    verified_at: datetime | None = None
    number_of_errors: int = 0
    requires_signature: bool = False
    # Only in create/update/redefine answers, once ([GAP] field name assumed "signingSecret").
    signing_secret: str = field(default="", repr=False)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> WebhookInfo:
        return cls(
            id=str(data.get("id", "")),
            event_type=str(data.get("eventType", "")),
            endpoint=str(data.get("endpoint", "")),
            label=str(data.get("label") or ""),
            active=bool(data.get("active", True)),
            is_verified=bool(data.get("isVerified", False)),
            verified_at=parse_datetime(data["verifiedAt"]) if data.get("verifiedAt") else None,
            number_of_errors=int(data.get("numberOfErrors") or 0),
            requires_signature=bool(data.get("requiresSignature", False)),
            signing_secret=str(data.get("signingSecret") or ""),
        )


@dataclass(frozen=True)
class WebhookLog:
    id: str
    webhook_id: str
    status: str  # Success | Failed (the OpenAPI says Error: we treat both as failed)
    status_code: int | None
    response_body: str
    message_id: str
    sent_at: datetime | None
    created_at: datetime | None

    @property
    def failed(self) -> bool:
        return self.status != "Success"

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> WebhookLog:
        return cls(
            id=str(data.get("id", "")),
            webhook_id=str(data.get("webhookId", "")),
            status=str(data.get("status", "")),
            status_code=data.get("statusCode"),
            response_body=str(data.get("responseBody") or ""),
            message_id=str(data.get("messageId") or ""),
            sent_at=parse_datetime(data["sendAt"]) if data.get("sendAt") else None,
            created_at=parse_datetime(data["createdDate"]) if data.get("createdDate") else None,
        )


@dataclass(frozen=True)
class RetryResult:
    log_id: str
    success: bool
    new_log_id: str | None


T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    offset: int
    limit: int
    total: int
    total_pages: int


def _error_text(body: Any, fallback: str) -> tuple[str, str]:
    """(message, code) from the Hub's error body: documented `errorMessage`/`errorCode`, or NestJS style."""
    if isinstance(body, dict):
        message = body.get("errorMessage") or body.get("message") or body.get("error") or fallback
        if isinstance(message, list):  # NestJS validation errors come as a list of strings
            message = "; ".join(str(m) for m in message)
        return str(message), str(body.get("errorCode") or "")
    return fallback, ""


class HubClient:
    """Calls the Hub with one Application's API key."""

    def __init__(
        self,
        *,
        api_key: str,
        base_url: str | None = None,
        connect_timeout: float | None = None,
        read_timeout: float | None = None,
    ) -> None:
        self.api_key = api_key
        self.base_url = (base_url or settings.HUB_BASE_URL).rstrip("/")
        self.timeout = (
            connect_timeout if connect_timeout is not None else settings.HUB_CONNECT_TIMEOUT,
            read_timeout if read_timeout is not None else settings.HUB_READ_TIMEOUT,
        )

    @classmethod
    def for_application(cls, application: Any) -> HubClient:
        return cls(api_key=application.hub_api_key)

    # --- transport ------------------------------------------------------------------------------
    def _request(
        self, method: str, path: str, *, json: Any = None, params: dict[str, Any] | None = None
    ) -> tuple[int, Any, str]:
        url = f"{self.base_url}{path}"
        try:
            response = _session().request(
                method,
                url,
                json=json,
                params=params,
                headers={"x-api-key": self.api_key},
                timeout=self.timeout,
            )
        except requests.ConnectTimeout as exc:
            raise HubError(
                f"could not connect to the Hub: {exc}", permanent=False, kind="connect_timeout"
            ) from exc
        except requests.ReadTimeout as exc:
            raise HubError(
                f"the Hub did not answer within {self.timeout[1]:g} s", permanent=False, kind="timeout"
            ) from exc
        except requests.ConnectionError as exc:
            raise HubError(f"could not reach the Hub: {exc}", permanent=False, kind="connection") from exc
        except requests.RequestException as exc:
            raise HubError(f"request to the Hub failed: {exc}", permanent=False, kind="connection") from exc

        request_id = response.headers.get("x-request-id", "")
        try:
            body = response.json() if response.content else None
        except ValueError:
            body = None
        if response.status_code >= 400:
            message, code = _error_text(body, response.text[:300] or response.reason or "error")
            if response.status_code == 401:
                message = f"the Hub refused the API key ({message})"
            log.info("hub %s %s -> %s %s request_id=%s", method, path, response.status_code, code, request_id)
            raise HubError(
                message,
                status=response.status_code,
                error_code=code,
                permanent=response.status_code in PERMANENT_STATUSES,
                request_id=request_id,
            )
        return response.status_code, body, request_id

    def _json_object(self, body: Any, what: str) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise HubError(
                f"the Hub answered {what} with an unexpected body", permanent=False, kind="invalid_response"
            )
        return body

    # --- sending (docs/hub.md, Sending) ------------------------------------------------------------------
    def send_message(
        self, *, channel_kind: str, channel_id: str, to: str, content: dict[str, Any]
    ) -> SendResult:
        path = f"/v1/communication/{capability(channel_kind).path}/message"
        status, body, request_id = self._request(
            "POST", path, json={"from": str(channel_id), "to": to, "content": content}
        )
        data = self._json_object(body, "a send")
        # [GAP] (docs/hub.md, Sending): `status` may be missing on some channels (IG/Messenger answer recipientId/type):
        # a messageId with no status means the Hub took it, so we call it sent.
        hub_status = str(data.get("status") or ("sent" if data.get("messageId") else "error"))
        return SendResult(
            message_id=str(data["messageId"]) if data.get("messageId") else None,
            status=hub_status,
            error_code=str(data.get("errorCode") or ""),
            error_message=str(data.get("errorMessage") or ""),
            recipient_id=str(data.get("recipientId") or ""),
            request_id=request_id,
            http_status=status,
        )

    # --- webhooks (docs/hub.md, Webhooks and signatures) -----------------------------------------------------------------
    def create_webhook(
        self,
        *,
        label: str,
        endpoint: str,
        event_type: str,
        requires_signature: bool = True,
        headers: list[dict[str, str]] | None = None,
    ) -> WebhookInfo:
        payload: dict[str, Any] = {
            "label": label,
            "endpoint": endpoint,
            "eventType": event_type,
            "authenticationProtocol": "NoAuthentication",
            "requiresSignature": requires_signature,
        }
        if headers:
            payload["headers"] = headers
        _, body, _ = self._request("POST", "/v1/organization/webhook", json=payload)
        return WebhookInfo.from_json(self._json_object(body, "webhook creation"))

    def list_webhooks(self, *, offset: int = 0, limit: int = 50) -> Page[WebhookInfo]:
        _, body, _ = self._request(
            "GET", "/v1/organization/webhook", params={"offset": offset, "limit": limit}
        )
        return self._page(body, WebhookInfo.from_json)

    def get_webhook(self, webhook_id: str) -> WebhookInfo:
        _, body, _ = self._request("GET", f"/v1/organization/webhook/{webhook_id}")
        return WebhookInfo.from_json(self._json_object(body, "a webhook"))

    def update_webhook(self, webhook_id: str, **fields: Any) -> WebhookInfo:
        """PATCH with Hub field names (camelCase), e.g. endpoint=..., requiresSignature=True."""
        _, body, _ = self._request("PATCH", f"/v1/organization/webhook/{webhook_id}", json=fields)
        return WebhookInfo.from_json(self._json_object(body, "a webhook update"))

    def delete_webhook(self, webhook_id: str) -> None:
        self._request("DELETE", f"/v1/organization/webhook/{webhook_id}")

    def redefine_signature(self, webhook_id: str) -> str:
        # [GAP] (docs/hub.md, Webhooks and signatures): path and field name of "redefine signature" are assumed.
        _, body, _ = self._request("POST", f"/v1/organization/webhook/{webhook_id}/redefine-signature")
        secret = self._json_object(body, "redefine-signature").get("signingSecret")
        if not secret:
            raise HubError("the Hub returned no signing secret", permanent=False, kind="invalid_response")
        return str(secret)

    def list_webhook_logs(
        self, webhook_id: str, *, status: str | None = None, offset: int = 0, limit: int = 50
    ) -> Page[WebhookLog]:
        params: dict[str, Any] = {"offset": offset, "limit": limit}
        if status:
            params["status"] = status
        _, body, _ = self._request("GET", f"/v1/organization/webhook/{webhook_id}/webhook-log", params=params)
        return self._page(body, WebhookLog.from_json)

    def retry_webhook_log(self, webhook_id: str, log_id: str) -> RetryResult:
        _, body, _ = self._request(
            "POST", f"/v1/organization/webhook/{webhook_id}/webhook-log/{log_id}/retry"
        )
        data = self._json_object(body, "a retry")
        return RetryResult(log_id=log_id, success=bool(data.get("success")), new_log_id=data.get("newLogId"))

    def retry_webhook_logs(self, webhook_id: str, log_ids: list[str]) -> list[RetryResult]:
        _, body, _ = self._request(
            "POST",
            f"/v1/organization/webhook/{webhook_id}/webhook-log/retry",
            json={"webhookLogIds": log_ids},
        )
        results = self._json_object(body, "a bulk retry").get("results") or []
        return [
            RetryResult(
                log_id=str(r.get("webhookLogId")),
                success=bool(r.get("success")),
                new_log_id=r.get("newLogId"),
            )
            for r in results
            if isinstance(r, dict)
        ]

    def _page(self, body: Any, parse: Any) -> Page[Any]:
        data = self._json_object(body, "a list")
        pagination = data.get("pagination") or {}
        items = [parse(item) for item in data.get("data") or [] if isinstance(item, dict)]
        return Page(
            items=items,
            offset=int(pagination.get("offset", 0)),
            limit=int(pagination.get("limit", len(items))),
            total=int(pagination.get("total", len(items))),
            total_pages=int(pagination.get("totalPages", 1)),
        )


def sandbox_control(
    method: str, path: str, payload: dict[str, Any] | None = None, *, base_url: str | None = None
) -> Any:
    """Call the local Hub sandbox's control API (`/_sandbox/...`, not part of the real Hub).

    Only `make run` and the demo seeding use it: the real Hub has no API to create applications or
    channels (docs/hub.md, Basics and errors), so the sandbox is told about the demo ones directly.
    """
    url = f"{(base_url or settings.HUB_BASE_URL).rstrip('/')}{path}"
    response = _session().request(method, url, json=payload, timeout=(3.05, 10))
    response.raise_for_status()
    return response.json() if response.content else None
