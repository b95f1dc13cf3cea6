"""Validation of the send envelope and its `content` (hub-api.md §3.2–§3.7).

The real Hub's validation rules are only partly documented. Where the reference is silent the sandbox is
strict on purpose: a product that passes the sandbox sends only the shapes hub-api.md names, and an
unknown or misspelt field (`image_url`, `imageURL`) is reported instead of silently dropped.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import urlsplit

from .capabilities import (
    INTERACTIVE_KINDS_BY_TYPE,
    SEGMENT_BY_KIND,
    SUPPORTED_KINDS_BY_TYPE,
    TO_FORMAT_HINT,
    recipient_is_valid,
)


class SendValidationError(Exception):
    """A request-level problem: answered with HTTP 400 (§1)."""

    def __init__(self, message: str, code: str = "invalid_payload") -> None:
        super().__init__(message)
        self.message = message
        self.code = code


@dataclass(frozen=True)
class ContentPlan:
    """What a valid `content` turned out to be."""

    content_type: str  # one of capabilities.CONTENT_TYPES
    response_type: str  # the `type` field of the send response (§3.8)
    interactive_type: str | None = None
    is_reply: bool = False


# Unified (§3.3) keys that decide the message type. Exactly one may be present; `text` alone is a text.
_PRIMARY_KEYS: Final[dict[str, str]] = {
    "imageUrl": "image",
    "videoUrl": "video",
    "audioUrl": "audio",
    "documentUrl": "document",
    "stickerUrl": "sticker",
    "location": "location",
    "contacts": "contacts",
    "interactive": "interactive",
    "template": "template",
    "reaction": "reaction",
    "paymentRequest": "payment_request",
    "orderStatus": "order_status",
    "markAsSeen": "mark_as_seen",
}
# Modifiers that travel with a primary key (§3.3: caption text, `voice`, GAP `filename`, reply context).
_AUX_KEYS: Final = frozenset({"text", "voice", "filename", "replyTo", "context"})
# Meta Send-API fields accepted on Instagram/Messenger (§3.7, simulator: "accept both").
_NATIVE_KEYS: Final = frozenset({"attachment", "attachments", "quick_replies", "sender_action", "payload"})
_NATIVE_KINDS: Final = frozenset({"instagram", "messenger"})
_CAPTIONED: Final = frozenset({"image", "video", "document"})

# The `type` enum of the send response exists only for IG/Messenger in the OpenAPI (§3.8); WhatsApp-only
# kinds have no documented label, so the closest enum value is used.
_RESPONSE_TYPE: Final[dict[str, str]] = {
    "text": "Text",
    "image": "Image",
    "video": "Video",
    "audio": "Audio",
    "document": "File",
    "sticker": "Sticker",
    "location": "Location",
    "contacts": "Contact",
    "template": "Template",
    "reaction": "Reaction",
    "mark_as_seen": "Read",
    "payment_request": "Template",
    "order_status": "Template",
}
_INTERACTIVE_RESPONSE_TYPE: Final[dict[str, str]] = {
    "button": "Button",
    "list": "List",
    "cta_url": "Button",
    "location_request_message": "Button",
}
_ORDER_STATUSES: Final = frozenset(
    {"pending", "processing", "partially-shipped", "shipped", "completed", "canceled"}
)


def validate_envelope(body: Any) -> tuple[str, str, dict[str, Any]]:
    """Structural check of `{from, to, content}` (§3.2: all three required). Returns them."""
    if not isinstance(body, dict):
        raise SendValidationError("request body must be a JSON object")
    missing = [name for name in ("from", "to", "content") if name not in body or body[name] is None]
    if missing:
        raise SendValidationError(f"missing required field(s): {', '.join(missing)}", "missing_field")
    for name in ("from", "to"):
        if not isinstance(body[name], str) or not body[name].strip():
            raise SendValidationError(f"'{name}' must be a non-empty string", "invalid_field")
    if not isinstance(body["content"], dict) or not body["content"]:
        raise SendValidationError("'content' must be a non-empty object", "invalid_field")
    return body["from"], body["to"], body["content"]


def validate_recipient(kind: str, to: str) -> None:
    if not recipient_is_valid(kind, to):
        raise SendValidationError(
            f"invalid 'to' for {SEGMENT_BY_KIND[kind]}: expected {TO_FORMAT_HINT[kind]}", "invalid_recipient"
        )


def _unsupported(kind: str, what: str) -> SendValidationError:
    return SendValidationError(
        f"content type '{what}' is not supported on {SEGMENT_BY_KIND[kind]}", "unsupported_content_type"
    )


def _require_support(kind: str, content_type: str) -> None:
    if kind not in SUPPORTED_KINDS_BY_TYPE[content_type]:
        raise _unsupported(kind, content_type)


def validate_content(kind: str, content: dict[str, Any]) -> ContentPlan:
    unknown = sorted(set(content) - set(_PRIMARY_KEYS) - _AUX_KEYS - _NATIVE_KEYS)
    if unknown:
        raise SendValidationError(
            f"unknown content field(s): {', '.join(repr(k) for k in unknown)}", "invalid_content"
        )
    if set(content) & _NATIVE_KEYS:
        if kind not in _NATIVE_KINDS:
            raise SendValidationError(
                "Meta-native content (attachment, quick_replies, sender_action) is only accepted on "
                "instagram and messenger",
                "invalid_content",
            )
        return _validate_native(kind, content)

    primaries = [ctype for key, ctype in _PRIMARY_KEYS.items() if key in content]
    if len(primaries) > 1:
        raise SendValidationError(
            f"invalid combination: content has more than one message type ({', '.join(primaries)})",
            "invalid_combination",
        )
    content_type = primaries[0] if primaries else "text"
    if content_type == "text" and "text" not in content:
        raise SendValidationError("content has no message type", "invalid_content")
    if "text" in content and content_type not in _CAPTIONED | {"text"}:
        raise SendValidationError(
            f"invalid combination: 'text' cannot accompany {content_type}", "invalid_combination"
        )
    is_reply = "replyTo" in content or "context" in content

    _require_support(kind, content_type)
    if is_reply:
        if content_type in ("reaction", "mark_as_seen"):
            raise SendValidationError(
                f"invalid combination: a {content_type} cannot quote a message", "invalid_combination"
            )
        _require_support(kind, "reply")
        _check_reply(content)

    if "text" in content:
        _check_text(content["text"])
    if "voice" in content:
        if content_type != "audio" or not isinstance(content["voice"], bool):
            raise SendValidationError("'voice' must be a boolean and only accompanies audioUrl")
        if content["voice"] and kind != "whatsapp":
            # §3.3: "voice: true is WhatsApp-only".
            raise SendValidationError(f"voice notes are not supported on {SEGMENT_BY_KIND[kind]}")
    if "filename" in content and (content_type != "document" or not isinstance(content["filename"], str)):
        raise SendValidationError("'filename' must be a string and only accompanies documentUrl")

    interactive_type: str | None = None
    match content_type:
        case "image" | "video" | "audio" | "document" | "sticker":
            key = {"image": "imageUrl", "video": "videoUrl", "audio": "audioUrl"}.get(
                content_type, f"{content_type}Url"
            )
            _check_url(content[key], key)
        case "location":
            _check_location(content["location"])
        case "contacts":
            _check_contacts(content["contacts"])
        case "reaction":
            _check_reaction(content["reaction"])
        case "interactive":
            interactive_type = _check_interactive(kind, content["interactive"])
        case "template":
            _check_template(content["template"])
        case "payment_request":
            _check_payment_request(content["paymentRequest"])
        case "order_status":
            _check_order_status(content["orderStatus"])
        case "mark_as_seen":
            value = content["markAsSeen"]
            if value is not True and not (isinstance(value, str) and value):
                raise SendValidationError("'markAsSeen' must be true or the id of the message seen")
    response_type = (
        _INTERACTIVE_RESPONSE_TYPE[interactive_type] if interactive_type else _RESPONSE_TYPE[content_type]
    )
    return ContentPlan(content_type, response_type, interactive_type, is_reply)


# -- field checks -------------------------------------------------------------------------------------


def _check_text(value: Any, field: str = "text") -> None:
    if not isinstance(value, str) or not value.strip():
        raise SendValidationError(f"'{field}' must be a non-empty string")


def _check_url(value: Any, field: str) -> None:
    # §3.3: media goes by public URL; a relative path or a data: URI cannot be fetched by the provider.
    if not isinstance(value, str):
        raise SendValidationError(f"'{field}' must be a string URL")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise SendValidationError(f"'{field}' must be an absolute http(s) URL")


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _check_location(value: Any) -> None:
    if not isinstance(value, dict):
        raise SendValidationError("'location' must be an object with latitude and longitude")
    lat, lng = value.get("latitude"), value.get("longitude")
    if not (_is_number(lat) and -90 <= lat <= 90 and _is_number(lng) and -180 <= lng <= 180):
        raise SendValidationError("'location' needs numeric latitude (-90..90) and longitude (-180..180)")
    for field in ("name", "address"):
        if field in value and not isinstance(value[field], str):
            raise SendValidationError(f"'location.{field}' must be a string")


def _check_contacts(value: Any) -> None:
    # GAP §3.3: Meta contact objects, whose only required member is `name`.
    if not isinstance(value, list) or not value:
        raise SendValidationError("'contacts' must be a non-empty list of contact objects")
    for contact in value:
        if not isinstance(contact, dict) or "name" not in contact:
            raise SendValidationError("each contact must be an object with a 'name'")


def _check_reaction(value: Any) -> None:
    if not isinstance(value, dict):
        raise SendValidationError("'reaction' must be an object {messageId, emoji}")
    if not isinstance(value.get("messageId"), str) or not value["messageId"]:
        raise SendValidationError("'reaction.messageId' must be the id of the message reacted to")
    # An empty emoji removes a reaction in Meta's API, so only the type is checked.
    if not isinstance(value.get("emoji"), str):
        raise SendValidationError("'reaction.emoji' must be a string")


def _check_reply(content: dict[str, Any]) -> None:
    if "replyTo" in content and not (isinstance(content["replyTo"], str) and content["replyTo"]):
        raise SendValidationError("'replyTo' must be the id of the quoted message")
    if "context" in content:
        context = content["context"]
        if isinstance(context, dict):
            context = context.get("messageId") or context.get("message_id")
        if not (isinstance(context, str) and context):
            raise SendValidationError("'context' must be a message id or {messageId}")


def _check_interactive(kind: str, value: Any) -> str:
    if not isinstance(value, dict):
        raise SendValidationError("'interactive' must be an object")
    itype = value.get("type")
    # A type that is not a string (a list, an object) must be refused, not crash the dict lookup.
    if not isinstance(itype, str) or itype not in INTERACTIVE_KINDS_BY_TYPE:
        raise SendValidationError(f"unknown interactive type {itype!r}", "invalid_interactive_type")
    if kind not in INTERACTIVE_KINDS_BY_TYPE[itype]:
        raise SendValidationError(
            f"interactive type '{itype}' is not supported on {SEGMENT_BY_KIND[kind]}",
            "invalid_interactive_type",
        )
    body = value.get("body")
    if not isinstance(body, dict):
        raise SendValidationError("'interactive.body' must be an object with 'text'")
    _check_text(body.get("text"), "interactive.body.text")
    action = value.get("action")
    if itype == "location_request_message":
        return itype
    if not isinstance(action, dict):
        raise SendValidationError("'interactive.action' must be an object")
    if itype == "button":
        buttons = action.get("buttons")
        if not isinstance(buttons, list) or not 1 <= len(buttons) <= 3:
            raise SendValidationError("reply buttons: 'action.buttons' needs 1 to 3 buttons")
        ids: set[str] = set()
        for button in buttons:
            reply = button.get("reply") if isinstance(button, dict) else None
            if not isinstance(button, dict) or button.get("type") != "reply" or not isinstance(reply, dict):
                raise SendValidationError("each button must be {type: 'reply', reply: {id, title}}")
            _check_text(reply.get("id"), "reply.id")
            _check_text(reply.get("title"), "reply.title")
            if len(reply["title"]) > 20:
                raise SendValidationError("'reply.title' must be at most 20 characters")
            if reply["id"] in ids:
                raise SendValidationError("button ids must be unique")
            ids.add(reply["id"])
    elif itype == "list":
        _check_text(action.get("button"), "action.button")
        sections = action.get("sections")
        if not isinstance(sections, list) or not sections:
            raise SendValidationError("option list: 'action.sections' must be a non-empty list")
        for section in sections:
            rows = section.get("rows") if isinstance(section, dict) else None
            if not isinstance(rows, list) or not rows:
                raise SendValidationError("each section needs a non-empty 'rows' list")
            for row in rows:
                # GAP §3.4: Meta rows {id, title, description?}.
                if not isinstance(row, dict):
                    raise SendValidationError("each row must be an object {id, title, description?}")
                _check_text(row.get("id"), "row.id")
                _check_text(row.get("title"), "row.title")
    elif itype == "cta_url":
        params = action.get("parameters")
        if not isinstance(params, dict):
            raise SendValidationError("CTA URL: 'action.parameters' must be {display_text, url}")
        _check_text(params.get("display_text"), "parameters.display_text")
        _check_url(params.get("url"), "parameters.url")
    return itype


def _check_template(value: Any) -> None:
    # §3.5: the Hub template id (UUID) plus optional Meta-style components. ORDER_STATUS templates are
    # unknown to the sandbox (no template API exists), so that 400 rule is skipped.
    if not isinstance(value, dict) or not isinstance(value.get("id"), str) or not value["id"]:
        raise SendValidationError("'template.id' (the Hub template id) is required")
    try:
        # The id is the Hub's UUID, not the Meta template name: catches `{"id": "order_update"}`.
        uuid.UUID(value["id"])
    except ValueError as exc:
        raise SendValidationError("'template.id' must be the Hub template UUID, not its name") from exc
    components = value.get("components")
    if components is not None and (
        not isinstance(components, list) or not all(isinstance(c, dict) and "type" in c for c in components)
    ):
        raise SendValidationError("'template.components' must be a list of {type, parameters}")


def _check_payment_request(value: Any) -> None:
    if not isinstance(value, dict):
        raise SendValidationError("'paymentRequest' must be an object")
    _check_text(value.get("bodyText"), "paymentRequest.bodyText")
    _check_text(value.get("referenceId"), "paymentRequest.referenceId")
    method = value.get("paymentMethod")
    if method == "pix":
        pix = value.get("pix")
        if not isinstance(pix, dict):
            raise SendValidationError("'paymentRequest.pix' is required for paymentMethod pix")
        _check_text(pix.get("code"), "pix.code")
    elif method == "boleto":
        boleto = value.get("boleto")
        line = boleto.get("digitableLine") if isinstance(boleto, dict) else None
        if not (isinstance(line, str) and line.isdigit() and len(line) in (47, 48)):
            raise SendValidationError("'boleto.digitableLine' must have 47 or 48 digits")
    elif method == "payment_link":
        link = value.get("paymentLink")
        _check_url(link.get("url") if isinstance(link, dict) else None, "paymentLink.url")
    else:
        raise SendValidationError("'paymentMethod' must be one of pix, boleto, payment_link")
    for field in ("totalAmountCents", "subtotalCents", "offset"):
        if field in value and (not isinstance(value[field], int) or isinstance(value[field], bool)):
            raise SendValidationError(f"'paymentRequest.{field}' must be an integer")


def _check_order_status(value: Any) -> None:
    # GAP §3.6: assumed Meta order_status shape.
    if not isinstance(value, dict):
        raise SendValidationError("'orderStatus' must be an object {referenceId, status}")
    _check_text(value.get("referenceId"), "orderStatus.referenceId")
    if not isinstance(value.get("status"), str) or value["status"] not in _ORDER_STATUSES:
        raise SendValidationError(f"'orderStatus.status' must be one of {', '.join(sorted(_ORDER_STATUSES))}")


# -- Meta-native shapes (§3.7) ------------------------------------------------------------------------

_NATIVE_ATTACHMENT_TYPES: Final[dict[str, str]] = {
    "image": "image",
    "video": "video",
    "audio": "audio",
    "file": "document",  # §3.3 says no documents on IG/Messenger, so a `file` attachment is rejected
    "like_heart": "sticker",
    "template": "interactive",
}


def _validate_native(kind: str, content: dict[str, Any]) -> ContentPlan:
    unified = sorted(set(content) & set(_PRIMARY_KEYS) | (set(content) & {"replyTo", "context", "voice"}))
    if unified:
        raise SendValidationError(
            f"invalid combination: Meta-native fields mixed with unified field(s) {', '.join(unified)}",
            "invalid_combination",
        )
    if "sender_action" in content:
        return _validate_sender_action(kind, content)
    if "payload" in content:
        raise SendValidationError("'payload' only accompanies 'sender_action'")

    attachments: list[Any] = []
    if "attachment" in content:
        attachments.append(content["attachment"])
    if "attachments" in content:
        if not isinstance(content["attachments"], list) or not content["attachments"]:
            raise SendValidationError("'attachments' must be a non-empty list")
        attachments.extend(content["attachments"])
    if attachments and "text" in content:
        raise SendValidationError("invalid combination: 'text' and 'attachment'", "invalid_combination")

    plans: list[ContentPlan] = []
    for attachment in attachments:
        if not isinstance(attachment, dict) or not isinstance(attachment.get("payload", {}), dict):
            raise SendValidationError("an attachment must be {type, payload}")
        atype = attachment.get("type")
        if not isinstance(atype, str) or atype not in _NATIVE_ATTACHMENT_TYPES:
            raise SendValidationError(f"unknown attachment type {atype!r}")
        content_type = _NATIVE_ATTACHMENT_TYPES[atype]
        _require_support(kind, content_type)
        payload = attachment.get("payload") or {}
        if content_type == "interactive":
            template_type = payload.get("template_type")
            if template_type == "button":
                plans.append(ContentPlan("interactive", "Button", "button"))
            elif template_type == "generic":
                elements = payload.get("elements")
                if not isinstance(elements, list) or not elements:
                    raise SendValidationError("generic template needs a non-empty 'elements' list")
                plans.append(
                    ContentPlan("interactive", "Carousel" if len(elements) > 1 else "Card", "generic")
                )
            else:
                raise SendValidationError(f"unsupported template_type {template_type!r}")
        elif content_type == "sticker":
            plans.append(ContentPlan("sticker", "Sticker"))
        else:
            _check_url(payload.get("url"), "attachment.payload.url")
            plans.append(ContentPlan(content_type, _RESPONSE_TYPE[content_type]))

    if "quick_replies" in content:
        _check_quick_replies(content["quick_replies"])
        if not attachments and "text" not in content:
            raise SendValidationError("'quick_replies' need a 'text' or an 'attachment'")
        _require_support(kind, "interactive")
        if "text" in content:
            _check_text(content["text"])
        return ContentPlan("interactive", "QuickReply", "quick_replies")
    if plans:
        return plans[0]
    _check_text(content.get("text"))
    return ContentPlan("text", "Text")


def _check_quick_replies(value: Any) -> None:
    # §3.7: content_type, title and payload are all required.
    if not isinstance(value, list) or not value:
        raise SendValidationError("'quick_replies' must be a non-empty list")
    for item in value:
        if not isinstance(item, dict) or not all(
            isinstance(item.get(f), str) and item.get(f) for f in ("content_type", "title", "payload")
        ):
            raise SendValidationError("each quick reply needs content_type, title and payload")


def _validate_sender_action(kind: str, content: dict[str, Any]) -> ContentPlan:
    action = content["sender_action"]
    extra = sorted(set(content) - {"sender_action", "payload"})
    if extra:
        raise SendValidationError(
            f"invalid combination: 'sender_action' with {', '.join(extra)}", "invalid_combination"
        )
    if action in ("react", "unreact"):
        _require_support(kind, "reaction")
        payload = content.get("payload")
        if not isinstance(payload, dict) or not payload.get("message_id"):
            raise SendValidationError("reactions need payload.message_id")
        if action == "react" and not payload.get("reaction"):
            raise SendValidationError("'react' needs payload.reaction")
        return ContentPlan("reaction", "Reaction")
    if action in ("mark_seen", "typing_on", "typing_off"):
        _require_support(kind, "mark_as_seen")
        return ContentPlan("mark_as_seen", "Read")
    raise SendValidationError(f"unknown sender_action {action!r}")
