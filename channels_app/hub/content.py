"""Outbound content: the one adapter that turns what an agent composed into the Hub's `content` object.

Shapes are docs/hub.md, Content types (unified field names: `text`, `imageUrl`, `interactive`, `template`, ...;
the [GAP] ones — document, sticker, location, reaction, reply — follow the reference's recommendation).
Everything is checked against the channel's capabilities and limits *before* a reply is stored, so the
agent reads the reason at once instead of finding a failed message later. `ContentError`'s text is that
reason, written for an agent.

Public API (used by the inbox composer and `conversations.actions.replies`; keep it stable):
- `build_reply_content(channel_kind=, text=, media_url=, ...) -> dict`: build and check one reply.
- `check_content(channel_kind, content)`: check an already built content object (what the action does).
- `check_recipient(channel_kind, to)`: the customer id fits the channel.
- `window_closes_at(last_inbound_at, channel_kind)` and `check_window(...)`: Meta service windows.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any, TypeGuard
from urllib.parse import urlsplit

from django.utils import timezone

from channels_app.hub.capabilities import MEDIA_KEYS, capability, recipient_error


class ContentError(ValueError):
    """A reply that cannot go out as composed. `str(error)` is a sentence an agent understands."""


_TYPE_BY_KEY: dict[str, str] = {
    **{key: media for media, key in MEDIA_KEYS.items()},
    "location": "location",
    "contacts": "contacts",
    "interactive": "interactive",
    "template": "template",
    "reaction": "reaction",
    "paymentRequest": "payment_request",
    "orderStatus": "order_status",
    "markAsSeen": "seen",
}
# Keys that travel with a message type rather than being one (§3.3 caption, voice note, reply quote).
_MODIFIER_KEYS = frozenset({"text", "voice", "filename", "replyTo"})
# A caption (`text`) may accompany these only; the Hub answers 400 to text next to audio or a sticker.
_CAPTIONED = frozenset({"image", "video", "document"})

# §3.4: which `interactive.type` each channel kind takes (location requests are WhatsApp-only; Telegram
# has no reply buttons and shows an option list as a poll; Web Chatt takes the WhatsApp shapes).
INTERACTIVE_KINDS: dict[str, frozenset[str]] = {
    "button": frozenset({"whatsapp", "instagram", "messenger", "webchatt"}),
    "list": frozenset({"whatsapp", "instagram", "messenger", "telegram", "webchatt"}),
    "cta_url": frozenset({"whatsapp", "instagram", "messenger", "webchatt"}),
    "location_request_message": frozenset({"whatsapp"}),
}
_INTERACTIVE_LABELS = {
    "button": "Reply buttons",
    "list": "Option lists",
    "cta_url": "Link buttons",
    "location_request_message": "Location requests",
}
MAX_BUTTONS = 3
MAX_BUTTON_TITLE = 20  # §3.4: `reply.title` ≤ 20 characters

# [GAP] (docs/hub.md, Statuses): channels whose provider never reports `delivered`/`read` after `sent` (Telegram, Web Chatt):
# a reply `sent` there is as far as it goes, so the delivery review does not call it stuck.
DELIVERY_REPORTING_KINDS = frozenset({"whatsapp", "instagram", "messenger", "sms"})


def _label(kind: str) -> str:
    return capability(kind).label


def _supported(kind: str, content_type: str, what: str) -> None:
    if content_type not in capability(kind).content_types:
        raise ContentError(f"{what} can't be sent on {_label(kind)}.")


def _check_text(kind: str, text: Any, *, what: str = "The message") -> None:
    if not isinstance(text, str) or not text.strip():
        raise ContentError(f"{what} is empty.")
    limit = capability(kind).max_text_length
    if len(text) > limit:
        raise ContentError(f"{what} is {len(text)} characters long; {_label(kind)} allows at most {limit}.")


def _check_url(url: Any, *, what: str) -> None:
    # §3.3: the provider fetches media by public URL, so only an absolute http(s) URL can work.
    parts = urlsplit(url if isinstance(url, str) else "")
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ContentError(f"{what} must be a public link starting with https:// (or http://).")


def _is_number(value: object) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _check_location(location: Any) -> None:
    if not isinstance(location, dict):
        raise ContentError("A location needs a latitude and a longitude.")
    lat, lng = location.get("latitude"), location.get("longitude")
    if not (_is_number(lat) and -90 <= lat <= 90 and _is_number(lng) and -180 <= lng <= 180):
        raise ContentError(
            "A location needs a latitude between -90 and 90 and a longitude between -180 and 180."
        )
    for key in ("name", "address"):
        if key in location and not isinstance(location[key], str):
            raise ContentError(f"The location's {key} must be text.")


def _check_interactive(kind: str, interactive: Any) -> None:
    if not isinstance(interactive, dict):
        raise ContentError("This interactive message is malformed.")
    itype = interactive.get("type")
    if itype not in INTERACTIVE_KINDS:
        raise ContentError("Unknown kind of interactive message.")
    if kind not in INTERACTIVE_KINDS[itype]:
        hint = " Use an option list instead (shown as a poll)." if kind == "telegram" else ""
        raise ContentError(f"{_INTERACTIVE_LABELS[itype]} can't be sent on {_label(kind)}.{hint}")
    if kind != "whatsapp" and ("header" in interactive or "footer" in interactive):
        # §3.4: header and footer only work on WhatsApp; elsewhere they would silently vanish.
        raise ContentError(f"Headers and footers only work on WhatsApp, not on {_label(kind)}.")
    body = interactive.get("body")
    _check_text(kind, body.get("text") if isinstance(body, dict) else None, what="The message body")
    if itype == "location_request_message":
        return
    action = interactive.get("action")
    if not isinstance(action, dict):
        raise ContentError("This interactive message has no buttons or options.")
    if itype == "button":
        buttons = action.get("buttons")
        if not isinstance(buttons, list) or not 1 <= len(buttons) <= MAX_BUTTONS:
            raise ContentError(f"Reply buttons: give 1 to {MAX_BUTTONS} buttons.")
        ids: set[str] = set()
        for button in buttons:
            reply = button.get("reply") if isinstance(button, dict) else None
            if not isinstance(reply, dict) or button.get("type") != "reply":
                raise ContentError("Each reply button needs an id and a title.")
            title, button_id = reply.get("title"), reply.get("id")
            if (
                not isinstance(title, str)
                or not title.strip()
                or not isinstance(button_id, str)
                or not button_id
            ):
                raise ContentError("Each reply button needs an id and a title.")
            if len(title) > MAX_BUTTON_TITLE:
                raise ContentError(f"Button title “{title}” is longer than {MAX_BUTTON_TITLE} characters.")
            if button_id in ids:
                raise ContentError("Two buttons have the same id.")
            ids.add(button_id)
    elif itype == "list":
        if not isinstance(action.get("button"), str) or not action["button"].strip():
            raise ContentError("An option list needs the label of its button.")
        sections = action.get("sections")
        if not isinstance(sections, list) or not sections:
            raise ContentError("An option list needs at least one section.")
        for section in sections:
            rows = section.get("rows") if isinstance(section, dict) else None
            if not isinstance(rows, list) or not rows:
                raise ContentError("Each section of an option list needs at least one option.")
            for row in rows:
                if not (isinstance(row, dict) and row.get("id") and isinstance(row.get("title"), str)):
                    raise ContentError("Each option needs an id and a title.")
    elif itype == "cta_url":
        params = action.get("parameters")
        if not isinstance(params, dict) or not isinstance(params.get("display_text"), str):
            raise ContentError("A link button needs a label and a link.")
        _check_url(params.get("url"), what="The button's link")


def _check_template(template: Any) -> None:
    if not isinstance(template, dict) or not isinstance(template.get("id"), str) or not template["id"]:
        raise ContentError("Choose an approved template.")
    components = template.get("components")
    if components is not None and not (
        isinstance(components, list) and all(isinstance(c, dict) and "type" in c for c in components)
    ):
        raise ContentError("The template's parameters are malformed.")


def _check_reaction(reaction: Any) -> None:
    if not isinstance(reaction, dict) or not isinstance(reaction.get("messageId"), str):
        raise ContentError("Choose the message to react to.")
    if not reaction["messageId"] or not isinstance(reaction.get("emoji"), str):
        raise ContentError("Choose the message to react to and an emoji.")


def content_type_of(content: dict[str, Any]) -> str:
    """The capability name of a built content object (`text`, `image`, `template`, ...)."""
    types = [ctype for key, ctype in _TYPE_BY_KEY.items() if key in content]
    if len(types) > 1:
        raise ContentError(
            "A reply can carry only one thing at a time (e.g. a photo or a location, not both)."
        )
    if types:
        return types[0]
    if "text" in content:
        return "text"
    raise ContentError("The message is empty.")


def check_content(channel_kind: str, content: dict[str, Any]) -> str:
    """Check a content object against the channel's capabilities and limits; returns its type.

    Raises ContentError with an agent-readable reason. Only keys this adapter produces are accepted: an
    unknown key would be a 400 from the Hub, later and less clearly.
    """
    kind = str(channel_kind)
    if not isinstance(content, dict) or not content:
        raise ContentError("The message is empty.")
    unknown = set(content) - set(_TYPE_BY_KEY) - _MODIFIER_KEYS
    if unknown:
        raise ContentError(f"This reply has fields the Hub does not know: {', '.join(sorted(unknown))}.")
    ctype = content_type_of(content)
    what = {"text": "Text messages", "seen": "Read receipts", "payment_request": "Payment requests"}.get(
        ctype, f"{ctype.replace('_', ' ').capitalize()}s"
    )
    _supported(kind, ctype, what)
    if "text" in content:
        if ctype not in _CAPTIONED | {"text"}:
            raise ContentError(f"{what} can't carry a caption.")
        _check_text(kind, content["text"], what="The message" if ctype == "text" else "The caption")
    if "replyTo" in content:
        if ctype in ("reaction", "seen"):
            raise ContentError("A reaction can't quote a message.")
        _supported(kind, "reply", "Quoting a message")
        if not isinstance(content["replyTo"], str) or not content["replyTo"]:
            raise ContentError("Choose the message to quote.")
    if "voice" in content:
        if ctype != "audio" or not isinstance(content["voice"], bool):
            raise ContentError("Only audio can be sent as a voice note.")
        if content["voice"] and kind != "whatsapp":
            raise ContentError(f"Voice notes are WhatsApp-only; send it as normal audio on {_label(kind)}.")
    if "filename" in content and (ctype != "document" or not isinstance(content["filename"], str)):
        raise ContentError("Only a document has a file name.")
    match ctype:
        case "image" | "video" | "audio" | "document" | "sticker":
            _check_url(content[MEDIA_KEYS[ctype]], what="The attachment")
        case "location":
            _check_location(content["location"])
        case "interactive":
            _check_interactive(kind, content["interactive"])
        case "template":
            _check_template(content["template"])
        case "reaction":
            _check_reaction(content["reaction"])
        case "contacts":
            contacts = content["contacts"]
            if (
                not isinstance(contacts, list)
                or not contacts
                or not all(isinstance(c, dict) and c.get("name") for c in contacts)
            ):
                raise ContentError("Each shared contact needs a name.")
    return ctype


def _guess_media_type(url: str) -> str:
    guessed, _ = mimetypes.guess_type(urlsplit(url).path)
    if guessed:
        major = guessed.split("/", 1)[0]
        if major in ("image", "video", "audio"):
            return major
        if major in ("application", "text"):
            return "document"
    raise ContentError("Say whether the attachment is an image, a video, an audio, a document or a sticker.")


def build_reply_content(
    *,
    channel_kind: str,
    text: str = "",
    media_url: str = "",
    media_type: str = "",
    caption: str = "",
    filename: str = "",
    voice: bool = False,
    template_id: str = "",
    template_params: Iterable[str] = (),
    location: dict[str, Any] | None = None,
    reaction: dict[str, Any] | None = None,
    interactive: dict[str, Any] | None = None,
    reply_to: str = "",
) -> dict[str, Any]:
    """Build the Hub `content` object for one reply on a channel of `channel_kind`, checked.

    Give exactly one of: `text` alone; `media_url` (+ `media_type` image|video|audio|document|sticker,
    guessed from the URL's extension when empty; `caption` or `text` as caption; `filename` for a
    document; `voice=True` for a WhatsApp voice note); `template_id` (+ `template_params`, body
    parameters {{1}}, {{2}}…; WhatsApp only); `location` ({latitude, longitude, name?, address?});
    `reaction` ({messageId or message_id: the Hub id of the customer's message, emoji});
    `interactive` (docs/hub.md, Content types shape: {type: button|list|cta_url|location_request_message, body, action,
    header?, footer?}). `reply_to` quotes a message by its Hub id where the channel allows it.

    Returns e.g. {"text": "Hi"}, {"imageUrl": "https://…", "text": "caption"}, {"template": {"id", "components"}}.
    Raises ContentError (agent-readable) when the channel cannot carry it or a limit is exceeded.
    """
    kind = str(channel_kind)
    capability(kind)  # an unknown kind is a programming error: let it raise ValueError/KeyError
    chosen = [
        name
        for name, value in (
            ("an attachment", media_url),
            ("a template", template_id),
            ("a location", location),
            ("a reaction", reaction),
            ("an interactive message", interactive),
        )
        if value
    ]
    if len(chosen) > 1:
        raise ContentError(f"A reply can carry only one thing at a time, not {' and '.join(chosen)}.")
    content: dict[str, Any]
    if media_url:
        mtype = media_type or _guess_media_type(media_url)
        if mtype not in MEDIA_KEYS:
            raise ContentError(
                "Say whether the attachment is an image, a video, an audio, a document or a sticker."
            )
        content = {MEDIA_KEYS[mtype]: media_url.strip()}
        if caption or text:
            content["text"] = caption or text
        if filename:
            content["filename"] = filename
        if voice:
            content["voice"] = True
    elif template_id:
        content = {"template": {"id": template_id}}
        params = [str(p) for p in template_params]
        if params:
            content["template"]["components"] = [
                {"type": "body", "parameters": [{"type": "text", "text": p} for p in params]}
            ]
        if text:
            raise ContentError("A template carries its own text; fill in its parameters instead.")
    elif location:
        content = {"location": dict(location)}
    elif reaction:
        message_id = reaction.get("messageId") or reaction.get("message_id")
        content = {"reaction": {"messageId": message_id, "emoji": reaction.get("emoji", "")}}
    elif interactive:
        content = {"interactive": interactive}
    else:
        content = {"text": text}
    if reply_to:
        content["replyTo"] = reply_to
    check_content(kind, content)
    return content


def check_recipient(channel_kind: str, to: str) -> None:
    """Raise ContentError when `to` is not a valid recipient id on this channel kind (docs/hub.md, Channels and capabilities)."""
    problem = recipient_error(str(channel_kind), to)
    if problem:
        raise ContentError(problem)


def window_closes_at(last_inbound_at: datetime | None, channel_kind: str) -> datetime | None:
    """When the channel's customer-service window closes (docs/hub.md, Channels and capabilities: WhatsApp and Messenger 24 h,
    Instagram 7 days), counted from the customer's last message.

    None when there is no window to track: the channel has none (Telegram, SMS, Web Chatt) or the
    customer never wrote (see `check_window` for what that allows).
    """
    hours = capability(str(channel_kind)).window_hours
    if hours is None or last_inbound_at is None:
        return None
    return last_inbound_at + timedelta(hours=hours)


def check_window(
    *,
    channel_kind: str,
    content: dict[str, Any],
    last_inbound_at: datetime | None,
    now: datetime | None = None,
) -> None:
    """Raise ContentError when the channel's window forbids this reply now.

    Outside the window (or before the customer ever wrote) WhatsApp takes only approved templates, and
    Instagram and Messenger take nothing: they cannot start a conversation (docs/hub.md, Channels and capabilities).
    """
    kind = str(channel_kind)
    cap = capability(kind)
    if cap.window_hours is None:
        return
    now = now or timezone.now()
    closes = window_closes_at(last_inbound_at, kind)
    if closes is not None and now < closes:
        return
    if kind == "whatsapp":
        if "template" in content:
            return
        if closes is None:
            raise ContentError(
                "This customer never wrote on WhatsApp: only an approved template can start the conversation."
            )
        raise ContentError(
            f"The WhatsApp 24-hour window closed at {timezone.localtime(closes):%Y-%m-%d %H:%M}: "
            "only an approved template can be sent until the customer writes again."
        )
    if closes is None:
        raise ContentError(f"{cap.label} can't start a conversation: the customer must write first.")
    span = "7-day" if cap.window_hours == 24 * 7 else f"{cap.window_hours}-hour"
    raise ContentError(
        f"The {cap.label} {span} window closed at {timezone.localtime(closes):%Y-%m-%d %H:%M}: "
        "you can reply again once the customer writes."
    )
