"""Outbound content: the one adapter that turns what an agent composed into the Hub's `content` object.

Shapes are docs/hub.md, Content types (unified field names: `text`, `imageUrl`, `interactive`, `template`, ...;
the [GAP] ones — document, sticker, location, reaction, reply — follow the reference's recommendation).
A reply is read strictly into the typed content model (`message_content.py`): `parse_reply` checks its
shape, then the value checks itself against the channel's capabilities and limits (`MessageContent.check`),
*before* a reply is stored, so the agent reads the reason at once instead of finding a failed message later.
`ContentError`'s text is that reason, written for an agent.

Public API (used by the inbox composer and `conversations.actions.replies`; keep it stable):
- `build_reply_content(channel_kind=, text=, media_url=, ...) -> dict`: build and check one reply.
- `check_content(channel_kind, content)`: check an already built content object (what the action does).
- `parse_reply(content) -> MessageContent`: the typed value of a reply, its shape checked.
- `check_recipient(channel_kind, to)`: the customer id fits the channel.
- `window_closes_at(last_inbound_at, channel_kind)` and `check_window(...)`: Meta service windows.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any, TypeGuard
from urllib.parse import urlsplit

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from channels_app.hub.capabilities import (
    CONTENT_TYPE_LABELS,
    INTERACTIVE_LABELS,
    MEDIA_KEYS,
    capability,
    recipient_error,
)
from channels_app.hub.message_content import (
    ContentError,
    JSONObject,
    MessageContent,
    check_supported,
    parse_content,
)

__all__ = [
    "DELIVERY_REPORTING_KINDS",
    "ContentError",
    "build_reply_content",
    "check_content",
    "check_recipient",
    "check_reply",
    "check_window",
    "content_type_of",
    "parse_reply",
    "window_closes_at",
]

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
_KEY_BY_TYPE = {ctype: key for key, ctype in _TYPE_BY_KEY.items()}
# Keys that travel with a message type rather than being one (§3.3 caption, voice note, reply quote).
_MODIFIER_KEYS = frozenset({"text", "voice", "filename", "replyTo"})
# A caption (`text`) may accompany these only; the Hub answers 400 to text next to audio or a sticker.
_CAPTIONED = frozenset({"image", "video", "document"})
MAX_BUTTONS = 3
MAX_BUTTON_TITLE = 20  # §3.4: `reply.title` ≤ 20 characters

# [GAP] (docs/hub.md, Statuses): channels whose provider never reports `delivered`/`read` after `sent` (Telegram, Web Chatt):
# a reply `sent` there is as far as it goes, so the delivery review does not call it stuck.
DELIVERY_REPORTING_KINDS = frozenset({"whatsapp", "instagram", "messenger", "sms"})


# --- The shape of a reply (the same on every channel) ---------------------------------------------


def _require_text(text: object, what: str) -> None:
    if not isinstance(text, str) or not text.strip():
        raise ContentError(_("%(what)s is empty.") % {"what": what})


def _check_url(url: object, *, what: str) -> None:
    # §3.3: the provider fetches media by public URL, so only an absolute http(s) URL can work.
    parts = urlsplit(url if isinstance(url, str) else "")
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ContentError(
            _("%(what)s must be a public link starting with https:// (or http://).") % {"what": what}
        )


def _is_number(value: object) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _check_location(location: object) -> None:
    if not isinstance(location, dict):
        raise ContentError(_("A location needs a latitude and a longitude."))
    lat, lng = location.get("latitude"), location.get("longitude")
    if not (_is_number(lat) and -90 <= lat <= 90 and _is_number(lng) and -180 <= lng <= 180):
        raise ContentError(
            _("A location needs a latitude between -90 and 90 and a longitude between -180 and 180.")
        )
    for key in ("name", "address"):
        if key in location and not isinstance(location[key], str):
            raise ContentError(
                _("The location's name must be text.")
                if key == "name"
                else _("The location's address must be text.")
            )


def _check_contacts(contacts: object) -> None:
    if not (
        isinstance(contacts, list)
        and contacts
        and all(isinstance(c, dict) and c.get("name") for c in contacts)
    ):
        raise ContentError(_("Each shared contact needs a name."))


def _check_buttons(action: JSONObject) -> None:
    buttons = action.get("buttons")
    if not isinstance(buttons, list) or not 1 <= len(buttons) <= MAX_BUTTONS:
        raise ContentError(_("Reply buttons: give 1 to %(max)d buttons.") % {"max": MAX_BUTTONS})
    ids: set[str] = set()
    for button in buttons:
        reply = button.get("reply") if isinstance(button, dict) and button.get("type") == "reply" else None
        title, button_id = (reply.get("title"), reply.get("id")) if isinstance(reply, dict) else (None, None)
        if not isinstance(title, str) or not title.strip() or not isinstance(button_id, str) or not button_id:
            raise ContentError(_("Each reply button needs an id and a title."))
        if len(title) > MAX_BUTTON_TITLE:
            raise ContentError(
                _("Button title “%(title)s” is longer than %(max)d characters.")
                % {"title": title, "max": MAX_BUTTON_TITLE}
            )
        if button_id in ids:
            raise ContentError(_("Two buttons have the same id."))
        ids.add(button_id)


def _check_list(action: JSONObject) -> None:
    if not isinstance(action.get("button"), str) or not action["button"].strip():
        raise ContentError(_("An option list needs the label of its button."))
    sections = action.get("sections")
    if not isinstance(sections, list) or not sections:
        raise ContentError(_("An option list needs at least one section."))
    for section in sections:
        rows = section.get("rows") if isinstance(section, dict) else None
        if not isinstance(rows, list) or not rows:
            raise ContentError(_("Each section of an option list needs at least one option."))
        for row in rows:
            # Ids come back in the customer's answer (§4.2), matched as text: a number is refused too.
            if not (isinstance(row, dict) and _is_text(row.get("id")) and isinstance(row.get("title"), str)):
                raise ContentError(_("Each option needs an id and a title."))


def _check_link(action: JSONObject) -> None:
    params = action.get("parameters")
    if not isinstance(params, dict) or not isinstance(params.get("display_text"), str):
        raise ContentError(_("A link button needs a label and a link."))
    _check_url(params.get("url"), what=_("The button's link"))


def _is_text(value: object) -> TypeGuard[str]:
    return isinstance(value, str) and bool(value)


# §3.4: what `action` holds, per `interactive.type` (a location request needs none).
_ACTION_CHECKS: dict[str, Callable[[JSONObject], None]] = {
    "button": _check_buttons,
    "list": _check_list,
    "cta_url": _check_link,
}


def _check_interactive(interactive: object) -> None:
    if not isinstance(interactive, dict):
        raise ContentError(_("This interactive message is malformed."))
    itype = interactive.get("type")
    if not isinstance(itype, str) or itype not in INTERACTIVE_LABELS:
        raise ContentError(_("Unknown kind of interactive message."))
    body = interactive.get("body")
    _require_text(body.get("text") if isinstance(body, dict) else None, _("The message body"))
    # Meta's header is an object (text, or an image/video/document); the footer has only text.
    if "header" in interactive and not isinstance(interactive["header"], dict):
        raise ContentError(_("The header of this interactive message is malformed."))
    footer = interactive.get("footer", {"text": ""})
    if not (isinstance(footer, dict) and isinstance(footer.get("text"), str)):
        raise ContentError(_("The footer of this interactive message is malformed."))
    if itype in _ACTION_CHECKS:
        action = interactive.get("action")
        if not isinstance(action, dict):
            raise ContentError(_("This interactive message has no buttons or options."))
        _ACTION_CHECKS[itype](action)


def _check_template(template: object) -> None:
    if not isinstance(template, dict) or not _is_text(template.get("id")):
        raise ContentError(_("Choose an approved template."))
    components = template.get("components")
    if components is not None and not (
        isinstance(components, list) and all(isinstance(c, dict) and "type" in c for c in components)
    ):
        raise ContentError(_("The template's parameters are malformed."))


def _check_reaction(reaction: object) -> None:
    if not isinstance(reaction, dict) or not isinstance(reaction.get("messageId"), str):
        raise ContentError(_("Choose the message to react to."))
    if not reaction["messageId"] or not isinstance(reaction.get("emoji"), str):
        raise ContentError(_("Choose the message to react to and an emoji."))


def _check_payment(details: object) -> None:
    if not isinstance(details, dict):
        raise ContentError(_("A payment request needs its details."))


def _check_media(url: object) -> None:
    _check_url(url, what=_("The attachment"))


# The shape of the value under each type's key (text is checked with the other modifiers).
_SHAPE_CHECKS: dict[str, Callable[[object], None]] = {
    **dict.fromkeys(MEDIA_KEYS, _check_media),
    "location": _check_location,
    "contacts": _check_contacts,
    "interactive": _check_interactive,
    "template": _check_template,
    "reaction": _check_reaction,
    "payment_request": _check_payment,
}


def _check_modifiers(ctype: str, content: JSONObject) -> None:
    """The keys that travel with a type: a caption, a quote, a voice-note flag, a file name."""
    if "text" in content:
        if ctype not in _CAPTIONED | {"text"}:
            raise ContentError(_("%(kind)s can't carry a caption.") % {"kind": CONTENT_TYPE_LABELS[ctype]})
        _require_text(content["text"], _("The message") if ctype == "text" else _("The caption"))
    if "replyTo" in content:
        if ctype in ("reaction", "seen"):
            raise ContentError(_("A reaction can't quote a message."))
        if not _is_text(content["replyTo"]):
            raise ContentError(_("Choose the message to quote."))
    if "voice" in content and (ctype != "audio" or not isinstance(content["voice"], bool)):
        raise ContentError(_("Only audio can be sent as a voice note."))
    if "filename" in content and (ctype != "document" or not isinstance(content["filename"], str)):
        raise ContentError(_("Only a document has a file name."))


def content_type_of(content: dict[str, Any]) -> str:
    """The capability name of a built content object (`text`, `image`, `template`, ...)."""
    types = [ctype for key, ctype in _TYPE_BY_KEY.items() if key in content]
    if len(types) > 1:
        raise ContentError(
            _("A reply can carry only one thing at a time (e.g. a photo or a location, not both).")
        )
    if types:
        return types[0]
    if "text" in content:
        return "text"
    raise ContentError(_("The message is empty."))


def _reply_type(content: object) -> tuple[str, JSONObject]:
    """A reply's content type, and the content as an object with only keys this adapter produces (an
    unknown key would be a 400 from the Hub, later and less clearly)."""
    if not isinstance(content, dict) or not content:
        raise ContentError(_("The message is empty."))
    unknown = set(content) - set(_TYPE_BY_KEY) - _MODIFIER_KEYS
    if unknown:
        raise ContentError(
            _("This reply has fields the Hub does not know: %(fields)s.")
            % {"fields": ", ".join(sorted(unknown))}
        )
    return content_type_of(content), content


def _check_shape(ctype: str, content: JSONObject) -> None:
    _check_modifiers(ctype, content)
    if ctype in _SHAPE_CHECKS:
        _SHAPE_CHECKS[ctype](content[_KEY_BY_TYPE[ctype]])


def parse_reply(content: object) -> MessageContent:
    """The typed value of a reply's content object, its shape checked (the same on every channel).

    Raises ContentError with an agent-readable reason. Inside an object, what the model does not read
    (an undocumented field of a location or a button) is left out of `payload()`.
    """
    ctype, reply = _reply_type(content)
    _check_shape(ctype, reply)
    return parse_content(reply)


def check_reply(channel_kind: str, content: object) -> MessageContent:
    """The typed value of a reply, checked against the channel's capabilities and limits, and its shape.

    What the channel cannot take is said first: there is no point fixing reply buttons that Telegram
    refuses anyway. So the value the forgiving reader makes of the content is checked against the
    channel, then the shape; a well-formed reply reads exactly as given, so that value is the reply.
    Raises ContentError with an agent-readable reason (see `parse_reply`).
    """
    kind = str(channel_kind)
    ctype, given = _reply_type(content)
    check_supported(capability(kind), ctype)
    reply = parse_content(given)
    if reply.content_type == ctype:  # else the shape is wrong, which _check_shape says
        reply.check(kind)
    _check_shape(ctype, given)
    return reply


def check_content(channel_kind: str, content: dict[str, Any]) -> str:
    """Check a content object as `check_reply` does; returns its type (`text`, `image`, `template`, ...)."""
    return check_reply(channel_kind, content).content_type


# --- Building a reply from the composer's fields -----------------------------------------------------


def _guess_media_type(url: str) -> str:
    guessed, _encoding = mimetypes.guess_type(urlsplit(url).path)
    if guessed:
        major = guessed.split("/", 1)[0]
        if major in ("image", "video", "audio"):
            return major
        if major in ("application", "text"):
            return "document"
    raise ContentError(
        _("Say whether the attachment is an image, a video, an audio, a document or a sticker.")
    )


def _media_content(media_url: str, media_type: str, caption: str, filename: str, voice: bool) -> JSONObject:
    mtype = media_type or _guess_media_type(media_url)
    if mtype not in MEDIA_KEYS:
        raise ContentError(
            _("Say whether the attachment is an image, a video, an audio, a document or a sticker.")
        )
    content: JSONObject = {MEDIA_KEYS[mtype]: media_url.strip()}
    if caption:
        content["text"] = caption
    if filename:
        content["filename"] = filename
    if voice:
        content["voice"] = True
    return content


def _template_content(template_id: str, params: list[str], text: str) -> JSONObject:
    if text:
        raise ContentError(_("A template carries its own text; fill in its parameters instead."))
    template: JSONObject = {"id": template_id}
    if params:
        template["components"] = [
            {"type": "body", "parameters": [{"type": "text", "text": p} for p in params]}
        ]
    return {"template": template}


def _reaction_content(reaction: dict[str, Any]) -> JSONObject:
    message_id = reaction.get("messageId") or reaction.get("message_id")
    return {"reaction": {"messageId": message_id, "emoji": reaction.get("emoji", "")}}


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
    # What the composer's fields describe, in the Hub's shape; the first one given is the reply.
    builders: list[tuple[str, object, Callable[[], JSONObject]]] = [
        ("an attachment", media_url,
         lambda: _media_content(media_url, media_type, caption or text, filename, voice)),
        ("a template", template_id,
         lambda: _template_content(template_id, [str(p) for p in template_params], text)),
        ("a location", location, lambda: {"location": dict(location or {})}),
        ("a reaction", reaction, lambda: _reaction_content(reaction or {})),
        ("an interactive message", interactive, lambda: {"interactive": interactive}),
    ]  # fmt: skip
    chosen = [(name, build) for name, value, build in builders if value]
    if len(chosen) > 1:
        raise ContentError(
            _("A reply can carry only one thing at a time, not %(things)s.")
            % {"things": _(" and ").join(str(name) for name, _build in chosen)}
        )
    content = chosen[0][1]() if chosen else {"text": text}
    if reply_to:
        content["replyTo"] = reply_to
    return check_reply(kind, content).payload()


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
                _(
                    "This customer never wrote on WhatsApp: only an approved template can start the conversation."
                )
            )
        raise ContentError(
            _(
                "The WhatsApp 24-hour window closed at %(time)s: "
                "only an approved template can be sent until the customer writes again."
            )
            % {"time": _when(closes)}
        )
    if closes is None:
        raise ContentError(
            _("%(channel)s can't start a conversation: the customer must write first.")
            % {"channel": cap.label}
        )
    closed = {"channel": cap.label, "hours": cap.window_hours, "time": _when(closes)}
    if cap.window_hours == 24 * 7:
        raise ContentError(
            _(
                "The %(channel)s 7-day window closed at %(time)s: you can reply again once the customer writes."
            )
            % closed
        )
    raise ContentError(
        _(
            "The %(channel)s %(hours)d-hour window closed at %(time)s: "
            "you can reply again once the customer writes."
        )
        % closed
    )


def _when(moment: datetime) -> str:
    """A time in the user's zone and language, as the composer's error says it."""
    return date_format(timezone.localtime(moment), "SHORT_DATETIME_FORMAT", use_l10n=True)
