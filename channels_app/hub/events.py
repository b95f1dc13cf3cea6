"""The Hub's webhook bodies, parsed into typed events (docs/hub.md, Webhooks and signatures).

`parse_event(raw_body)` returns an `InboundMessage`, a `StatusUpdate` or an `UnknownEvent`, or raises
`EventError` whose message names the field that is wrong ("content.type: expected a string"). It never
touches the database: the ingest action decides what a parsed event means for our rows.

Accepted shapes:
- normalized `Message` (§4.2) and `MessageStatus` (§4.3), the Hub's current bodies;
- legacy `Message` (§4.4): `{"eventType", "timestamp": "<ISO>", "payload": {<raw Meta messaging>}}`, which has
  no `channelId` (the ingest action maps it to a channel) and whose content is converted to the normalized
  shape, the Meta object kept whole under `content["meta"]`;
- anything else with a string `eventType` (e.g. legacy `message_echoes`) is an `UnknownEvent`.

Strings PostgreSQL cannot store (a NUL, an unpaired surrogate) are stored with U+FFFD in place of each
such character (`clean_text`): the Hub does not retry a 400, so refusing the body would lose the customer's
message for good, and the delivery's exact bytes are kept on its WebhookEvent row anyway. Content may not
nest deeper than `MAX_DEPTH`; such a body is an error, not a crash.

Types: where the Hub documents a string (`messageId`, `from`, a text message's `text`), a number is read as
its decimal text (ids a provider keeps numeric: whole numbers only; digits a customer typed); null, a
boolean, an object, an array or nothing at all is an `EventError` (400: the body is kept as `invalid`, to
reprocess after a fix).
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.utils.dateparse import parse_datetime

MAX_DEPTH = 32
MAX_ID_LENGTH = 200  # Message.hub_message_id is 255; the dedup key adds a prefix
MAX_SENDER_LENGTH = 128  # Contact.external_id
# Plausible event times: anything outside is a unit or type mistake, not a real timestamp.
_MIN_TS = datetime(2000, 1, 1, tzinfo=UTC).timestamp()
_MAX_TS = datetime(2100, 1, 1, tzinfo=UTC).timestamp()

# §4.3 plus the [GAP] failure status; aliases seen at providers map onto ours.
STATUS_ALIASES = {
    "pending": "enqueued",
    "enqueued": "enqueued",
    "queued": "enqueued",
    "sent": "sent",
    "delivered": "delivered",
    "read": "read",
    "seen": "read",
    "failed": "failed",
    "error": "failed",
    "undelivered": "failed",
}


class EventError(ValueError):
    """The body is not an event we can read. `field` is the dotted path of the problem."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}" if field else problem)
        self.field = field
        self.problem = problem


@dataclass(frozen=True)
class InboundMessage:
    """A customer wrote (§4.2). `channel_id` is None for the legacy shape, which does not name it."""

    message_id: str
    sender: str
    sent_at: datetime | None
    content: dict[str, Any]
    channel_id: uuid.UUID | None
    channel: str = ""  # the event's `channel` name (whatsapp, instagram, …), informative only
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    event_type = "Message"


@dataclass(frozen=True)
class StatusUpdate:
    """A reply's delivery status changed (§4.3). `status` is None when the Hub sent a value we don't know."""

    message_id: str
    status: str | None
    reported_status: str
    occurred_at: datetime | None
    channel: str = ""
    error_code: str = ""
    error_message: str = ""
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    event_type = "MessageStatus"


@dataclass(frozen=True)
class UnknownEvent:
    """An event type we do not handle: kept and answered 200 (the Hub may add types)."""

    event_type: str
    reason: str


Event = InboundMessage | StatusUpdate | UnknownEvent


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def load_json(raw_body: bytes) -> Any:
    """The body as JSON, or EventError. Strict: NaN/Infinity are not JSON and cannot be stored."""
    if not raw_body or not raw_body.strip():
        raise EventError("body", "empty body, expected a JSON object")
    try:
        return json.loads(raw_body, parse_constant=_reject_constant)
    except RecursionError:
        raise EventError("body", "JSON nested too deeply") from None
    except UnicodeDecodeError:
        raise EventError("body", "not UTF-8 encoded JSON") from None
    except ValueError as exc:  # JSONDecodeError, huge integers
        raise EventError("body", f"malformed JSON ({exc})") from None


def event_type_of(raw_body: bytes) -> str:
    """Best-effort `eventType` of any body, for labelling a delivery we could not parse."""
    try:
        data = json.loads(raw_body)
    except (ValueError, RecursionError):
        return ""
    value = data.get("eventType") if isinstance(data, dict) else None
    return clean_text(value)[:40] if isinstance(value, str) else ""


# What a text or jsonb column of PostgreSQL refuses: NUL, and any surrogate code point (in a Python str
# one can only be unpaired, or a pair JSON escapes did not combine; neither encodes to UTF-8).
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def clean_text(value: str) -> str:
    """`value` made storable: each NUL and each surrogate replaced by U+FFFD, the replacement character."""
    return _UNSTORABLE.sub("\ufffd", value)


def _storable(value: Any, path: str, depth: int = 0) -> Any:
    """`value` with every string in it (keys too) made storable by `clean_text`.

    Lists and objects are changed in place (they are ours, fresh from `json.loads`) so that the common
    body, with nothing to replace, costs one scan and no copy. Nesting deeper than MAX_DEPTH is an error.
    """
    if depth > MAX_DEPTH:
        raise EventError(path, f"nested deeper than {MAX_DEPTH} levels")
    if isinstance(value, str):
        return clean_text(value) if _UNSTORABLE.search(value) else value
    if isinstance(value, dict):
        renamed = []
        for key, item in value.items():
            cleaned = _storable(item, f"{path}.{key}", depth + 1)
            if cleaned is not item:
                value[key] = cleaned  # an existing key: the dict keeps its size while we iterate
            if _UNSTORABLE.search(key):
                renamed.append(key)
        for key in renamed:
            # Should the cleaned key exist already, the later one wins: the raw body keeps both anyway.
            value[clean_text(key)] = value.pop(key)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            cleaned = _storable(item, f"{path}[{index}]", depth + 1)
            if cleaned is not item:
                value[index] = cleaned
    return value


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    return {
        bool: "boolean",
        int: "number",
        float: "number",
        str: "string",
        list: "array",
        dict: "object",
    }.get(type(value), type(value).__name__)


def _require(data: dict[str, Any], key: str, path: str = "") -> Any:
    if key not in data or data[key] is None:
        raise EventError(f"{path}{key}", "missing")
    return data[key]


def _object(value: Any, path: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise EventError(path, f"expected an object, got {_type_name(value)}")
    return value


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _identifier(value: Any, path: str, *, max_length: int) -> str:
    """An id the Hub documents as a string; a whole number is taken too (Telegram ids are numeric upstream)."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise EventError(path, f"expected a string, got {_type_name(value)}")
    text = str(value).strip()
    if not text:
        raise EventError(path, "empty")
    if len(text) > max_length:
        raise EventError(path, f"longer than {max_length} characters")
    return text


def _optional_text(data: dict[str, Any], key: str, path: str = "") -> str:
    value = data.get(key)
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise EventError(f"{path}{key}", f"expected a string, got {_type_name(value)}")
    return str(value)


def _timestamp(value: Any, path: str) -> datetime | None:
    """Unix seconds (§4.2), Unix milliseconds (Meta) or an ISO string (legacy §4.4); None when absent."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            parsed = parse_datetime(value.strip())
        except ValueError:
            parsed = None
        if parsed is None:
            raise EventError(path, "expected Unix seconds or an ISO 8601 date-time")
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        if not _MIN_TS <= parsed.timestamp() <= _MAX_TS:
            raise EventError(path, "out of range")
        return parsed
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise EventError(path, f"expected Unix seconds, got {_type_name(value)}")
    seconds = float(value)
    if seconds > _MAX_TS:  # milliseconds, as Meta sends them
        seconds /= 1000
    if not _MIN_TS <= seconds <= _MAX_TS:
        raise EventError(path, "out of range")
    return datetime.fromtimestamp(seconds, tz=UTC)


def _content(value: Any, path: str) -> dict[str, Any]:
    content = _object(value, path)
    kind = content.get("type")
    if not isinstance(kind, str) or not kind.strip():
        raise EventError(
            f"{path}.type", "missing" if kind is None else f"expected a string, got {_type_name(kind)}"
        )
    if kind == "text":
        content["text"] = _message_text(content, f"{path}.text")
    return content


def _message_text(content: dict[str, Any], path: str) -> str | dict[str, Any]:
    """A text message's `text`: a string (§4.2) or WhatsApp's `{"body": "..."}`, which the inbox reads too.

    A number is stored as its decimal text: a customer who typed only digits, turned into a number by some
    JSON layer, wrote exactly that. Anything else (null, a boolean, an object without a text `body`, an
    array, no `text` at all) says nothing an agent could read, and storing a made-up "true" or an empty
    bubble would hide that something is wrong: it is refused (400) and the body kept as `invalid`, so the
    Hub's log shows the failure and an admin reprocesses it once we know what the Hub meant. Nothing is lost
    either way: the delivery's exact bytes stay on its WebhookEvent row.
    """
    if "text" not in content:
        raise EventError(path, "missing")
    value = content["text"]
    if isinstance(value, str):
        return value
    if _is_number(value):
        return str(value)
    if isinstance(value, dict) and "body" in value:
        body = value["body"]
        if _is_number(body):
            value["body"] = str(body)
        elif not isinstance(body, str):
            raise EventError(f"{path}.body", f"expected a string, got {_type_name(body)}")
        return value
    raise EventError(path, f"expected a string, got {_type_name(value)}")


def parse_event(raw_body: bytes) -> Event:
    data = load_json(raw_body)
    body = _object(data, "body")
    event_type = body.get("eventType")
    if event_type is None:
        raise EventError("eventType", "missing")
    if not isinstance(event_type, str):
        raise EventError("eventType", f"expected a string, got {_type_name(event_type)}")
    if event_type in ("Message", "MessageStatus"):
        # Cleaned before anything is read, so that no field we store (ids, sender, content, raw, error
        # texts) can fail the insert.
        body = _storable(body, "body")
    if event_type == "Message":
        if "payload" in body and "channelId" not in body:
            return _legacy_message(body, raw_body)
        return _message(body)
    if event_type == "MessageStatus":
        return _status(body)
    if event_type == "message_echoes":
        return UnknownEvent(event_type, "legacy echo of a message sent from the page: nothing to store")
    return UnknownEvent(event_type[:40], f"unknown event type {event_type[:40]!r}")


def _message(body: dict[str, Any]) -> InboundMessage:
    channel_id_text = _identifier(_require(body, "channelId"), "channelId", max_length=64)
    try:
        channel_id = uuid.UUID(channel_id_text)
    except ValueError:
        raise EventError("channelId", "expected a UUID") from None
    return InboundMessage(
        message_id=_identifier(_require(body, "messageId"), "messageId", max_length=MAX_ID_LENGTH),
        sender=_identifier(_require(body, "from"), "from", max_length=MAX_SENDER_LENGTH),
        sent_at=_timestamp(body.get("timestamp"), "timestamp"),
        content=_content(_require(body, "content"), "content"),
        channel_id=channel_id,
        channel=_optional_text(body, "channel"),
        raw=body,
    )


def _status(body: dict[str, Any]) -> StatusUpdate:
    reported = _identifier(_require(body, "status"), "status", max_length=40)
    # [GAP] (docs/hub.md, Statuses): failure details are assumed as errorCode/errorMessage; an `error` object is read too.
    given_error = body.get("error")
    error: dict[str, Any] = given_error if isinstance(given_error, dict) else {}
    error_code = _optional_text(body, "errorCode") or _optional_text(error, "code", "error.")
    error_message = _optional_text(body, "errorMessage") or _optional_text(error, "message", "error.")
    return StatusUpdate(
        message_id=_identifier(_require(body, "messageId"), "messageId", max_length=MAX_ID_LENGTH),
        status=STATUS_ALIASES.get(reported.lower()),
        reported_status=reported,
        occurred_at=_timestamp(body.get("timestamp"), "timestamp"),
        channel=_optional_text(body, "channel"),
        error_code=error_code[:64],
        error_message=error_message,
        raw=body,
    )


# --- legacy §4.4 -----------------------------------------------------------------------------------

_META_MEDIA = {"image": "image", "video": "video", "audio": "audio", "file": "document", "sticker": "sticker"}


def _legacy_message(body: dict[str, Any], raw_body: bytes) -> InboundMessage | UnknownEvent:
    payload = _object(body["payload"], "payload")
    message = payload.get("message")
    reaction = payload.get("reaction")
    if message is None and payload.get("sender_action") in ("react", "unreact"):
        content = _sender_action_reaction(payload)
        mid = None
    elif message is None and isinstance(reaction, dict):
        content = _legacy_reaction(reaction)
        mid = None
    else:
        message = _object(_require(payload, "message", "payload."), "payload.message")
        if message.get("is_echo") is True:
            return UnknownEvent("Message", "legacy echo of a message sent from the page: nothing to store")
        content = _legacy_content(message)
        mid = message.get("mid")
    sender = _object(_require(payload, "sender", "payload."), "payload.sender")
    # Meta ids every message (`mid`); a body without one (the docs' sample) is keyed by its own bytes, which
    # a repeated delivery repeats, so it is still stored once.
    message_id = (
        _identifier(mid, "payload.message.mid", max_length=MAX_ID_LENGTH)
        if mid is not None
        else "legacy-" + hashlib.sha256(raw_body).hexdigest()[:40]
    )
    sent_at = _timestamp(payload.get("timestamp"), "payload.timestamp") or _timestamp(
        body.get("timestamp"), "timestamp"
    )
    return InboundMessage(
        message_id=message_id,
        sender=_identifier(_require(sender, "id", "payload.sender."), "payload.sender.id", max_length=128),
        sent_at=sent_at,
        content=content,
        channel_id=None,
        raw=body,
    )


def _legacy_reaction(reaction: dict[str, Any]) -> dict[str, Any]:
    emoji = (
        "" if reaction.get("action") == "unreact" else _optional_text(reaction, "emoji", "payload.reaction.")
    )
    return {
        "type": "reaction",
        "reaction": {"messageId": _optional_text(reaction, "mid", "payload.reaction."), "emoji": emoji},
        "meta": reaction,
    }


# Meta's reaction names (Send API `sender_action: "react"`); anything else is taken as the emoji itself.
_META_REACTIONS = {"love": "❤️", "like": "👍", "haha": "😆", "wow": "😮", "sad": "😢", "angry": "😠"}


def _sender_action_reaction(payload: dict[str, Any]) -> dict[str, Any]:
    """§4.4's `sender_action: "react"|"unreact"` body, with `payload.message_id`/`reaction`.

    [GAP] (README, Hub assumptions): the docs name those fields but show no sample, so both places are
    read: Meta's Send API nests them (`payload.payload.message_id`), a flat reading has them on `payload`.
    """
    given = payload.get("payload")
    inner: dict[str, Any] = given if isinstance(given, dict) else payload
    path = "payload.payload." if isinstance(given, dict) else "payload."
    target = _optional_text(inner, "message_id", path)
    if not target:
        raise EventError(f"{path}message_id", "missing")
    emoji = ""
    if payload.get("sender_action") == "react":
        emoji = _optional_text(inner, "reaction", path)
        emoji = _META_REACTIONS.get(emoji.lower(), emoji)[:32]
    return {
        "type": "reaction",
        "reaction": {"messageId": target, "emoji": emoji},
        "meta": {
            k: v for k, v in payload.items() if k in ("sender_action", "payload", "message_id", "reaction")
        },
    }


def _legacy_content(message: dict[str, Any]) -> dict[str, Any]:
    """Meta's `message` object in our normalized content shape; the original is kept under `meta`."""
    text = _optional_text(message, "text", "payload.message.")
    quick_reply = message.get("quick_reply")
    if isinstance(quick_reply, dict):
        reply_id = _optional_text(quick_reply, "payload", "payload.message.quick_reply.")
        return {
            "type": "interactive",
            "interactive": {"type": "button_reply", "button_reply": {"id": reply_id, "title": text}},
            "meta": message,
        }
    attachments = message.get("attachments")
    if attachments is not None:
        if not isinstance(attachments, list):
            raise EventError(
                "payload.message.attachments", f"expected an array, got {_type_name(attachments)}"
            )
        first = attachments[0] if attachments else None
        if isinstance(first, dict):
            kind = first.get("type")
            given_payload = first.get("payload")
            payload: dict[str, Any] = given_payload if isinstance(given_payload, dict) else {}
            if kind == "location" and isinstance(payload.get("coordinates"), dict):
                coordinates = payload["coordinates"]
                return {
                    "type": "location",
                    "location": {"latitude": coordinates.get("lat"), "longitude": coordinates.get("long")},
                    "meta": message,
                }
            if kind in _META_MEDIA:
                media = _META_MEDIA[kind]
                inner: dict[str, Any] = {"url": payload.get("url")}
                if text:
                    inner["caption"] = text
                return {"type": media, media: inner, "meta": message}
            return {"type": "attachment", "text": text, "meta": message}
    if text:
        return {"type": "text", "text": text, "meta": message}
    return {"type": "unsupported", "meta": message}
