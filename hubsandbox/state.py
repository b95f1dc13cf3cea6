"""In-memory state of the sandbox: applications, channels, webhooks, logs, sends and settings.

Plain dataclasses guarded by one lock owned by `HubSandbox` (every read and write of these objects happens
with that lock held; HTTP calls to webhook endpoints never do).
"""

from __future__ import annotations

import copy
import json
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .capabilities import KINDS


def now_iso() -> str:
    """Hub date-times look like `2026-01-05T14:02:11.000Z` (§5.2 example)."""
    now = datetime.now(UTC)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


def new_id() -> str:
    return str(uuid.uuid4())


def new_signing_secret() -> str:
    # GAP §4.6: format undocumented; a Stripe/Svix-like prefix makes it recognisable in logs.
    return "whsec_" + secrets.token_urlsafe(24)[:32]


@dataclass
class Channel:
    id: str
    kind: str
    name: str
    address: str | None  # the §2 alternate `from` (phone number, username, page id, bot username)
    application_id: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "name": self.name,
            "address": self.address,
            "applicationId": self.application_id,
        }


@dataclass
class Application:
    id: str
    name: str
    api_key: str
    channels: dict[str, Channel] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "apiKey": self.api_key,
            "channels": [c.as_dict() for c in self.channels.values()],
        }


@dataclass
class Webhook:
    id: str
    application_id: str
    label: str
    endpoint: str
    event_type: str
    authentication_protocol: str
    headers: list[dict[str, str]]
    requires_signature: bool
    signing_secret: str | None
    scope: str | None
    active: bool = True
    is_verified: bool = False
    verified_at: str | None = None
    number_of_errors: int = 0
    created_date: str = field(default_factory=now_iso)
    last_modified_date: str = field(default_factory=now_iso)
    verification_seq: int = 0  # guards against a slow, older handshake overwriting a newer result

    def as_dict(self) -> dict[str, Any]:
        # Exactly the §5.1 fields. Custom header values are never echoed back (§5.1 GAP: "assume not").
        return {
            "id": self.id,
            "applicationId": self.application_id,
            "active": self.active,
            "label": self.label,
            "eventType": self.event_type,
            "endpoint": self.endpoint,
            "numberOfErrors": self.number_of_errors,
            "authenticationProtocol": self.authentication_protocol,
            "scope": self.scope,
            "isVerified": self.is_verified,
            "verifiedAt": self.verified_at,
            "requiresSignature": self.requires_signature,
            "createdDate": self.created_date,
            "lastModifiedDate": self.last_modified_date,
        }

    @property
    def receives_events(self) -> bool:
        # GAP §4.5: unverified webhooks are assumed not to receive events; inactive ones obviously don't.
        return self.active and self.is_verified


@dataclass
class DeliveryLog:
    id: str
    webhook_id: str
    application_id: str
    endpoint: str
    event_type: str
    message_id: str | None
    body: bytes  # the exact bytes delivered, re-sent as-is by a retry (§4.6, §5.3)
    status_code: int | None = None
    response_body: str | None = None
    status: str = "Failed"
    send_at: str | None = None
    created_date: str = field(default_factory=now_iso)
    retry_of: str | None = None
    signature: str | None = None
    event_id: str | None = None  # the event this delivery carries (sandbox ledger); kept by retries

    def as_dict(self) -> dict[str, Any]:
        """The §5.3 log object."""
        return {
            "id": self.id,
            "webhookId": self.webhook_id,
            "statusCode": self.status_code,
            "responseBody": self.response_body,
            "status": self.status,
            "sendAt": self.send_at,
            "createdDate": self.created_date,
            "messageId": self.message_id,
            "isDeleted": False,
            "webhook": {"id": self.webhook_id, "endpoint": self.endpoint, "eventType": self.event_type},
        }

    def as_sandbox_dict(self) -> dict[str, Any]:
        """The log object plus what tests want to inspect (sandbox-only, not part of the Hub API)."""
        data = self.as_dict()
        data.update(
            {
                "applicationId": self.application_id,
                "eventType": self.event_type,
                "payload": json.loads(self.body),
                "signature": self.signature,
                "retryOf": self.retry_of,
                "eventId": self.event_id,
            }
        )
        return data


@dataclass
class LedgerEntry:
    """One event the Hub owed one webhook, and what became of it (sandbox-only, not part of the Hub API).

    The delivery logs say what happened to each attempt; this says what had to arrive: an event the
    receiver never accepted (`accepted` 0) is one it lost, unless a retry of its failed log brings it in.
    """

    event_id: str
    webhook_id: str
    application_id: str
    event_type: str
    message_id: str | None
    status: str | None  # MessageStatus events
    timestamp: int | None
    channel_id: str | None  # Message events
    sender: str | None  # Message events
    copies: int  # 2 when the duplicate fault hit it
    reordered: bool  # held back behind a later event of the same thread (webhookReorderRate)
    deliveries: int = 0  # attempts, retries included
    accepted: int = 0  # attempts answered 2xx
    created_date: str = field(default_factory=now_iso)

    def as_dict(self) -> dict[str, Any]:
        return {
            "eventId": self.event_id,
            "webhookId": self.webhook_id,
            "applicationId": self.application_id,
            "eventType": self.event_type,
            "messageId": self.message_id,
            "status": self.status,
            "timestamp": self.timestamp,
            "channelId": self.channel_id,
            "from": self.sender,
            "copies": self.copies,
            "reordered": self.reordered,
            "deliveries": self.deliveries,
            "accepted": self.accepted,
            "createdDate": self.created_date,
        }


@dataclass
class Send:
    message_id: str
    application_id: str
    channel_id: str
    kind: str
    to: str
    content: dict[str, Any]
    status: str
    accepted_at: str = field(default_factory=now_iso)
    last_status: str | None = None
    media: dict[str, Any] | None = None  # what was fetched from the media URL (media_fetch.py)

    def as_dict(self) -> dict[str, Any]:
        return {
            "messageId": self.message_id,
            "channelId": self.channel_id,
            "channel": self.kind,
            "to": self.to,
            "content": self.content,
            "status": self.status,
            "lastStatus": self.last_status or self.status,
            "acceptedAt": self.accepted_at,
            "media": self.media,
        }


# -- settings -----------------------------------------------------------------------------------------

DEFAULT_SETTINGS: dict[str, Any] = {
    "sendErrorRate": 0.0,
    "sendRateLimitRate": 0.0,
    "sendTimeoutRate": 0.0,
    "sendTimeoutAfterAcceptRate": 0.0,
    "sendRefusalRate": 0.0,
    "timeoutSeconds": 30.0,
    "latencyMs": 0,
    "webhookDuplicateRate": 0.0,
    "webhookDelayMs": [0, 0],
    "webhookReorder": False,
    "webhookReorderRate": 0.0,
    "webhookReorderHoldMs": 2000,
    "failingRecipients": {},
    "undeliverableRecipients": [],
    "statusDelaysMs": {"sent": 300, "delivered": 1200, "read": 3000},
    "customersRate": 0.0,
    "verificationTimeoutSeconds": 5.0,
    "webhookTimeoutSeconds": 5.0,
    # Fetch every media URL before accepting a send, as the Hub must (media_fetch.py); off only for
    # tests of other rules that use made-up links.
    "fetchMedia": True,
    "mediaFetchTimeoutSeconds": 5.0,
}

_RATES = (
    "sendErrorRate",
    "sendRateLimitRate",
    "sendTimeoutRate",
    "sendTimeoutAfterAcceptRate",
    "sendRefusalRate",
)


def _number(value: Any, key: str, *, low: float = 0.0, high: float | None = None) -> float:
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise ValueError(f"setting {key!r} must be a number")
    if value < low or (high is not None and value > high):
        raise ValueError(f"setting {key!r} must be between {low} and {high if high is not None else 'inf'}")
    return value


def merge_settings(current: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """Validate `changes` and return a new settings dict (raises ValueError naming the bad key)."""
    merged = copy.deepcopy(current)
    for key, value in changes.items():
        if key not in DEFAULT_SETTINGS:
            raise ValueError(f"unknown setting {key!r}")
        if key in (*_RATES, "webhookDuplicateRate", "webhookReorderRate"):
            merged[key] = _number(value, key, high=1.0)
        elif key in (
            "timeoutSeconds",
            "verificationTimeoutSeconds",
            "webhookTimeoutSeconds",
            "mediaFetchTimeoutSeconds",
        ):
            merged[key] = _number(value, key, low=0.01)
        elif key in ("latencyMs", "customersRate", "webhookReorderHoldMs"):
            merged[key] = _number(value, key)
        elif key in ("webhookReorder", "fetchMedia"):
            if not isinstance(value, bool):
                raise ValueError(f"setting {key!r} must be a boolean")
            merged[key] = value
        elif key == "webhookDelayMs":
            # A single number means a fixed delay; a pair is a [min, max] range picked per delivery.
            pair = [value, value] if isinstance(value, int | float) else value
            if not (isinstance(pair, list | tuple) and len(pair) == 2):
                raise ValueError("setting 'webhookDelayMs' must be a number or [min, max]")
            low, high = (_number(v, key) for v in pair)
            if low > high:
                raise ValueError("setting 'webhookDelayMs' must be [min, max] with min <= max")
            merged[key] = [low, high]
        elif key == "failingRecipients":
            if not isinstance(value, dict) or not all(
                isinstance(v, dict) and isinstance(v.get("errorCode", ""), str) for v in value.values()
            ):
                raise ValueError("setting 'failingRecipients' must be {to: {errorCode, errorMessage}}")
            merged[key] = copy.deepcopy(value)
        elif key == "undeliverableRecipients":
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ValueError("setting 'undeliverableRecipients' must be a list of recipients")
            merged[key] = list(value)
        elif key == "statusDelaysMs":
            if not isinstance(value, dict):
                raise ValueError("setting 'statusDelaysMs' must be an object {status: milliseconds}")
            delays = dict(merged[key])
            for status, ms in value.items():
                if status not in ("sent", "delivered", "read", "failed"):
                    raise ValueError(f"unknown status {status!r} in 'statusDelaysMs'")
                delays[status] = _number(ms, f"statusDelaysMs.{status}")
            merged[key] = delays
    return merged


def validate_channel_spec(spec: Any) -> dict[str, Any]:
    if not isinstance(spec, dict) or spec.get("kind") not in KINDS:
        raise ValueError(f"each channel needs a 'kind' among {', '.join(KINDS)}")
    for key in ("id", "name", "address"):
        if spec.get(key) is not None and not isinstance(spec[key], str):
            raise ValueError(f"channel '{key}' must be a string")
    if spec.get("kind") == "webchatt" and spec.get("address"):
        raise ValueError("Web Chatt channels accept only their UUID as 'from' (§2): no 'address'")
    return spec
