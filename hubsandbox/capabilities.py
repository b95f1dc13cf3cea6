"""The sandbox's own reading of hub-api.md §2, §3.3, §3.4 and §4.3.

Deliberately independent from the product's capability table (conventions.md): if both readings agree
the product is probably right, and if they disagree a test fails and someone re-reads the reference.
"""

from __future__ import annotations

import re
from typing import Final

KINDS: Final = ("whatsapp", "instagram", "messenger", "telegram", "sms", "webchatt")

# Path segment of POST /v1/communication/{segment}/message (§3.1).
SEGMENT_BY_KIND: Final[dict[str, str]] = {
    "whatsapp": "whatsapp",
    "instagram": "instagram",
    "messenger": "messenger",
    "telegram": "telegram",
    "sms": "sms",
    "webchatt": "web-chatt2me",
}
KIND_BY_SEGMENT: Final[dict[str, str]] = {segment: kind for kind, segment in SEGMENT_BY_KIND.items()}

# `channel` value inside webhook events (§4.2). Web Chatt is not in the documented enum; the GAP
# recommendation is `web-chatt2me`, i.e. the same spelling as its send path.
EVENT_CHANNEL_BY_KIND: Final[dict[str, str]] = dict(SEGMENT_BY_KIND)

# Status answered by a successful send (§3.8, "Concepts" page): queued channels say `enqueued`.
SEND_STATUS_BY_KIND: Final[dict[str, str]] = {
    "whatsapp": "enqueued",
    "messenger": "enqueued",
    "instagram": "sent",
    "telegram": "sent",
    "sms": "sent",
    "webchatt": "sent",
}

# MessageStatus events each channel reports after an accepted send (§4.3 GAP assumption).
STATUSES_BY_KIND: Final[dict[str, tuple[str, ...]]] = {
    "whatsapp": ("sent", "delivered", "read"),
    "messenger": ("delivered", "read"),
    "instagram": ("delivered", "read"),
    "sms": ("sent", "delivered"),
    "telegram": ("sent",),
    "webchatt": ("sent",),
}

# Provider error used for `undeliverableRecipients` (§4.3 GAP: failure status carries errorCode/Message;
# codes are "the provider's own code" per §3.8, so each channel gets a plausible one of its provider).
UNDELIVERABLE_ERROR_BY_KIND: Final[dict[str, tuple[str, str]]] = {
    "whatsapp": ("131026", "Message undeliverable"),
    "messenger": ("551", "This person isn't available right now"),
    "instagram": ("551", "This person isn't available right now"),
    "sms": ("30003", "Unreachable destination handset"),
    "telegram": ("403", "Forbidden: bot was blocked by the user"),
    "webchatt": ("session_not_found", "The visitor closed the widget session"),
}

# §3.3 availability table. Keys are the sandbox's content type names; the values list the channel kinds
# on which that type may be sent.
CONTENT_TYPES: Final = (
    "text",
    "image",
    "video",
    "audio",
    "document",
    "sticker",
    "location",
    "contacts",
    "interactive",
    "template",
    "reaction",
    "reply",
    "mark_as_seen",
    "payment_request",
    "order_status",
)
_ALL: Final = frozenset(KINDS)
_WA: Final = frozenset({"whatsapp"})
SUPPORTED_KINDS_BY_TYPE: Final[dict[str, frozenset[str]]] = {
    "text": _ALL,
    "image": _ALL,  # SMS sends it as MMS
    "video": _ALL - {"sms"},
    "audio": _ALL - {"sms"},
    "document": frozenset({"whatsapp", "telegram", "webchatt"}),
    "sticker": _ALL - {"sms", "messenger"},
    "location": frozenset({"whatsapp", "telegram", "webchatt"}),
    "contacts": frozenset({"whatsapp", "telegram", "webchatt"}),
    "interactive": _ALL - {"sms"},
    "template": _WA,
    "reaction": _ALL - {"sms"},
    "reply": frozenset({"whatsapp", "telegram", "webchatt"}),
    "mark_as_seen": frozenset({"instagram", "messenger"}),
    "payment_request": _WA,
    "order_status": _WA,
}

# §3.4: which `interactive.type` each channel accepts. Web Chatt takes "the same WhatsApp-style content
# minus the WhatsApp-only types" (§3.3), and location_request_message is WhatsApp-only.
INTERACTIVE_KINDS_BY_TYPE: Final[dict[str, frozenset[str]]] = {
    "button": frozenset({"whatsapp", "instagram", "messenger", "webchatt"}),
    "list": frozenset({"whatsapp", "instagram", "messenger", "telegram", "webchatt"}),
    "cta_url": frozenset({"whatsapp", "instagram", "messenger", "webchatt"}),
    "location_request_message": _WA,
}

# §2 `to` formats. Web Chatt visitor ids have no documented format (§6 GAP), so any token-like string is
# accepted there and the session check does the real work. Telegram group chat_ids are negative.
_TO_PATTERNS: Final[dict[str, re.Pattern[str]]] = {
    "whatsapp": re.compile(r"[1-9]\d{7,14}"),
    "sms": re.compile(r"\+[1-9]\d{7,14}"),
    "instagram": re.compile(r"\d{5,30}"),
    "messenger": re.compile(r"\d{5,30}"),
    "telegram": re.compile(r"-?\d{1,20}"),
    "webchatt": re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:\-]{0,127}"),
}
TO_FORMAT_HINT: Final[dict[str, str]] = {
    "whatsapp": "E.164 digits without '+', e.g. 5521987654321",
    "sms": "E.164 with '+', e.g. +14155550123",
    "instagram": "a numeric IGSID received in a webhook",
    "messenger": "a numeric PSID received in a webhook",
    "telegram": "a numeric chat_id",
    "webchatt": "the visitor id received in a webhook",
}


def recipient_is_valid(kind: str, to: str) -> bool:
    return _TO_PATTERNS[kind].fullmatch(to) is not None


def normalize_alternate_from(kind: str, value: str) -> str | None:
    """Normalise a non-UUID `from` (§2 last column) so '+5521...' and '5521...' compare equal.

    Returns None for kinds that accept the UUID only (Web Chatt).
    """
    value = value.strip()
    if kind in ("whatsapp", "sms"):
        return value.removeprefix("+")
    if kind in ("instagram", "telegram"):
        return value.removeprefix("@").lower()
    if kind == "messenger":
        return value
    return None
