"""Reading the Hub's content objects (inbound webhooks and outbound sends) for people.

Inbound shapes are docs/hub.md, Webhooks and signatures (normalized: `{"type": ..., "<type>": {...}}`) and, for media, the
[GAP] assumption `{"type": "image", "image": {"url", "mimeType", "caption"}}`; outbound shapes are §3.3
(`text`, `imageUrl`, `interactive`, `template`, ...) and the Meta-native §3.7 ones.
"""

from __future__ import annotations

from typing import Any

from channels_app.hub.capabilities import MEDIA_KEYS

PREVIEW_LENGTH = 280

_MEDIA_LABELS = {
    "image": "📷 Photo",
    "video": "🎬 Video",
    "audio": "🎤 Audio",
    "voice": "🎤 Voice message",
    "document": "📄 Document",
    "file": "📄 Document",
    "sticker": "Sticker",
}


def _clip(text: str) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= PREVIEW_LENGTH else text[: PREVIEW_LENGTH - 1] + "…"


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _interactive_preview(interactive: dict[str, Any]) -> str:
    kind = _str(interactive.get("type"))
    for reply_key in ("button_reply", "list_reply"):
        reply = interactive.get(reply_key)
        if isinstance(reply, dict):
            return f"☑ {_str(reply.get('title')) or _str(reply.get('id'))}"
    body = interactive.get("body")
    body_text = _str(body.get("text")) if isinstance(body, dict) else ""
    label = {
        "button": "Buttons",
        "list": "List",
        "cta_url": "Link button",
        "location_request_message": "Location request",
    }
    return (
        f"{label.get(kind, 'Interactive')}: {body_text}"
        if body_text
        else label.get(kind, "Interactive message")
    )


def content_preview(content: Any) -> str:
    """One line that says what a message is, for the inbox list and notifications (never HTML)."""
    if not isinstance(content, dict):
        return ""
    kind = _str(content.get("type"))
    # Inbound, normalized: {"type": "image", "image": {...}}.
    if kind:
        inner = content.get(kind)
        if kind == "text":
            return _clip(
                _str(content.get("text")) or (_str(inner.get("body")) if isinstance(inner, dict) else "")
            )
        if kind in _MEDIA_LABELS:
            caption = _str(inner.get("caption")) if isinstance(inner, dict) else ""
            label = _MEDIA_LABELS[kind]
            if kind == "audio" and isinstance(inner, dict) and inner.get("voice") is True:
                label = _MEDIA_LABELS["voice"]
            return _clip(f"{label}{': ' + caption if caption else ''}")
        if kind == "location" and isinstance(inner, dict):
            name = _str(inner.get("name")) or _str(inner.get("address"))
            return _clip(f"📍 Location{': ' + name if name else ''}")
        if kind == "contacts":
            count = len(inner) if isinstance(inner, list) else 1
            if count == 1 and isinstance(inner, list) and isinstance(inner[0], dict):
                given = inner[0].get("name")
                name = _str(given.get("formatted_name")) if isinstance(given, dict) else _str(given)
                return _clip(f"👤 Contact{': ' + name if name else ''}")
            return "👤 Contact" if count == 1 else f"👤 {count} contacts"
        if kind == "interactive" and isinstance(inner, dict):
            return _clip(_interactive_preview(inner))
        if kind == "reaction" and isinstance(inner, dict):
            emoji = _str(inner.get("emoji"))
            return f"Reacted {emoji}" if emoji else "Removed a reaction"
        if kind == "button" and isinstance(inner, dict):  # a tap on a template's quick-reply button
            return _clip(f"☑ {_str(inner.get('text')) or _str(inner.get('payload'))}")
        if kind == "attachment":  # legacy Meta attachment of a type we don't map
            text = _str(content.get("text"))
            return _clip(f"📎 Attachment{': ' + text if text else ''}")
        if kind == "unsupported":
            return "Unsupported message"
        return _clip(_str(content.get("text")) or f"[{kind}]")
    # Outbound (unified fields).
    text = _str(content.get("text"))
    for media, key in MEDIA_KEYS.items():
        if content.get(key):
            return _clip(f"{_MEDIA_LABELS[media]}{': ' + text if text else ''}")
    if isinstance(content.get("template"), dict):
        return "📝 Template message"
    if isinstance(content.get("interactive"), dict):
        return _clip(_interactive_preview(content["interactive"]))
    if isinstance(content.get("location"), dict):
        return _clip(f"📍 Location: {_str(content['location'].get('name'))}".rstrip(": "))
    if isinstance(content.get("reaction"), dict):
        return f"Reacted {_str(content['reaction'].get('emoji'))}".strip()
    if isinstance(content.get("paymentRequest"), dict):
        return _clip(f"💳 Payment request: {_str(content['paymentRequest'].get('bodyText'))}")
    if content.get("contacts"):
        return "👤 Contact"
    if content.get("attachment") or content.get("attachments"):  # Meta-native (docs/hub.md, Content types)
        return _clip(f"📎 Attachment{': ' + text if text else ''}")
    return _clip(text)
