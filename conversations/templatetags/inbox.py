"""Template helpers for the inbox: message content made safe to show, ticks, channel icons, times.

`message_view` turns a Hub content object (inbound normalized shapes, outbound unified ones, or the
Meta-native §3.7 ones) into a small, typed description the bubble template renders with autoescape on.
Nothing here marks customer text safe without escaping it first; media and links are kept only when
they are http(s) URLs, so a `javascript:` URL in a payload is dropped, not rendered. A customer's image,
video, audio or sticker is not embedded: the bubble names its host and loads it on a click (`deferred`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit

from django import template
from django.template.defaultfilters import linebreaksbr
from django.utils import timezone
from django.utils.html import urlize
from django.utils.safestring import SafeString, mark_safe

from channels_app.hub.capabilities import MEDIA_KEYS, ChannelKind
from channels_app.hub.payloads import content_preview
from conversations.selectors.inbox import sort_key
from conversations.selectors.thread import message_sort_key

register = template.Library()

MEDIA_KINDS = tuple(MEDIA_KEYS)
_OUTBOUND_MEDIA = {key: media for media, key in MEDIA_KEYS.items()}


def safe_url(value: Any) -> str:
    """`value` if it is an absolute http(s) URL, else "" (no javascript:, data: or relative URLs)."""
    if not isinstance(value, str):
        return ""
    value = value.strip()
    parts = urlsplit(value)
    return value if parts.scheme in ("http", "https") and parts.netloc else ""


# A host as the browser will print it: ASCII (IDNA) letters, digits, dots and dashes, or an IPv6 literal.
_PLAIN_HOST = re.compile(r"^(?:[a-z0-9.-]+|\[[0-9a-f:.]+\])$")
_DEFAULT_PORTS = {"http": 80, "https": 443}
# Embedded, these fetch from the sender's server as soon as the bubble is drawn; a document is a link.
DEFERRED_MEDIA = ("image", "video", "audio", "sticker")


def media_host(url: str) -> str:
    """The host (and non-default port) a browser would fetch `url` from, or "" if that is not certain.

    The agent decides from this name whether to load a customer's file, so it must be the host the
    browser really contacts: a backslash (`https://evil.example\\@shop.example/`, which a browser reads as
    evil.example) or a host the browser would rewrite (percent-escapes, odd IPv4 forms) is refused.
    """
    if not url or "\\" in url:
        return ""
    parts = urlsplit(url)
    try:
        host, port = (parts.hostname or "").lower(), parts.port
        host = f"[{host}]" if ":" in host else host.encode("idna").decode("ascii")
    except (UnicodeError, ValueError):
        return ""
    if not _PLAIN_HOST.match(host):
        return ""
    return host if port in (None, _DEFAULT_PORTS.get(parts.scheme)) else f"{host}:{port}"


def _s(value: Any) -> str:
    return value if isinstance(value, str) else ("" if value is None else str(value))


def _d(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


@dataclass
class Option:
    id: str
    title: str
    description: str = ""


@dataclass
class MessageView:
    """What a bubble shows. `kind` picks the template branch; only the fields of that kind are set."""

    kind: (
        str  # text | media | location | contacts | prompt | answer | template | payment | reaction | unknown
    )
    text: str = ""  # the text, caption or body
    media_kind: str = ""
    url: str = ""
    filename: str = ""
    mime: str = ""
    voice: bool = False
    latitude: float | None = None
    longitude: float | None = None
    place: str = ""
    address: str = ""
    map_url: str = ""
    contacts: list[dict[str, Any]] = field(default_factory=list)
    interactive_type: str = ""
    header: str = ""
    footer: str = ""
    options: list[Option] = field(default_factory=list)
    list_button: str = ""
    link_text: str = ""
    answer: Option | None = None
    template_id: str = ""
    template_params: list[str] = field(default_factory=list)
    payment: dict[str, Any] = field(default_factory=dict)
    emoji: str = ""
    attachments: list[tuple[str, str]] = field(default_factory=list)  # (media kind, url)
    label: str = ""  # for unknown content: what it is
    host: str = ""  # where `url` is fetched from, shown before a deferred file is loaded
    deferred: bool = False  # a customer's image/video/audio/sticker: loaded only when the agent clicks


def _media(kind: str, url: Any, *, text: str = "", filename: str = "", mime: str = "", voice: bool = False):
    return MessageView(
        kind="media",
        media_kind=kind,
        url=safe_url(url),
        text=text,
        filename=filename or _filename(safe_url(url)),
        mime=mime,
        voice=voice,
    )


def _filename(url: Any) -> str:
    path = urlsplit(_s(url)).path
    return path.rsplit("/", 1)[-1] if path else ""


def _location(data: dict[str, Any]) -> MessageView:
    view = MessageView(kind="location", place=_s(data.get("name")), address=_s(data.get("address")))
    try:
        lat, lng = float(data["latitude"]), float(data["longitude"])
    except (KeyError, TypeError, ValueError):
        return view
    if -90 <= lat <= 90 and -180 <= lng <= 180:
        view.latitude, view.longitude = lat, lng
        query = urlencode({"mlat": f"{lat:.6f}", "mlon": f"{lng:.6f}"})
        view.map_url = f"https://www.openstreetmap.org/?{query}#map=16/{lat:.6f}/{lng:.6f}"
    return view


def _contacts(items: Any) -> MessageView:
    contacts = []
    for item in items if isinstance(items, list) else [items]:
        item = _d(item)
        name = item.get("name")
        name = _s(_d(name).get("formatted_name")) if isinstance(name, dict) else _s(name)
        phones = [_s(_d(p).get("phone")) for p in item.get("phones") or [] if _d(p).get("phone")]
        contacts.append({"name": name or "Contact", "phones": phones})
    return MessageView(kind="contacts", contacts=contacts)


def _interactive(data: dict[str, Any]) -> MessageView:
    itype = _s(data.get("type"))
    for key in ("button_reply", "list_reply"):
        reply = data.get(key)
        if isinstance(reply, dict):
            answer = Option(_s(reply.get("id")), _s(reply.get("title")), _s(reply.get("description")))
            return MessageView(kind="answer", interactive_type=itype, answer=answer)
    header = _d(data.get("header"))
    view = MessageView(
        kind="prompt",
        interactive_type=itype,
        text=_s(_d(data.get("body")).get("text")),
        header=_s(header.get("text")),
        footer=_s(_d(data.get("footer")).get("text")),
    )
    action = _d(data.get("action"))
    for button in action.get("buttons") or []:
        reply = _d(_d(button).get("reply"))
        view.options.append(Option(_s(reply.get("id")), _s(reply.get("title"))))
    for section in action.get("sections") or []:
        for row in _d(section).get("rows") or []:
            row = _d(row)
            view.options.append(Option(_s(row.get("id")), _s(row.get("title")), _s(row.get("description"))))
    view.list_button = _s(action.get("button"))
    params = _d(action.get("parameters"))
    if itype == "cta_url":
        view.link_text, view.url = _s(params.get("display_text")), safe_url(params.get("url"))
    return view


def _template(data: dict[str, Any]) -> MessageView:
    params = []
    for component in data.get("components") or []:
        for param in _d(component).get("parameters") or []:
            param = _d(param)
            params.append(_s(param.get("text") or param.get("type")))
    return MessageView(
        kind="template", template_id=_s(data.get("id") or data.get("name")), template_params=params
    )


def _payment(data: dict[str, Any]) -> MessageView:
    method = _s(data.get("paymentMethod"))
    offset = data.get("offset") or 100
    total = data.get("totalAmountCents")
    amount = ""
    if isinstance(total, int | float) and isinstance(offset, int | float) and offset:
        amount = f"{_s(data.get('currency')) or 'BRL'} {total / offset:,.2f}"
    payment = {
        "method": {"pix": "PIX", "boleto": "Boleto", "payment_link": "Payment link"}.get(method, method),
        "reference": _s(data.get("referenceId")),
        "amount": amount,
        "pix_code": _s(_d(data.get("pix")).get("code")),
        "boleto_line": _s(_d(data.get("boleto")).get("digitableLine")),
        "link": safe_url(_d(data.get("paymentLink")).get("url")),
        "items": [
            {"name": _s(_d(i).get("name")), "quantity": _d(i).get("quantity") or 1}
            for i in data.get("items") or []
        ],
    }
    return MessageView(kind="payment", text=_s(data.get("bodyText")), payment=payment)


def _meta_attachments(content: dict[str, Any]) -> MessageView:
    items = content.get("attachments") or [content.get("attachment")]
    view = MessageView(kind="media", text=_s(content.get("text")))
    for item in items:
        item = _d(item)
        kind = _s(item.get("type"))
        url = safe_url(_d(item.get("payload")).get("url"))
        if kind == "file":
            kind = "document"
        if kind in MEDIA_KINDS and url:
            view.attachments.append((kind, url))
    if len(view.attachments) == 1:
        kind, url = view.attachments[0]
        return _media(kind, url, text=view.text)
    if not view.attachments:
        return MessageView(kind="unknown", label="Attachment", text=view.text)
    return view


def build_view(content: Any) -> MessageView:
    """Describe a content object for the bubble (see the module docstring)."""
    if not isinstance(content, dict):
        return MessageView(kind="unknown", label="Empty message")
    ctype = _s(content.get("type"))
    if ctype:  # inbound, normalized: {"type": "image", "image": {...}}
        inner = content.get(ctype)
        if ctype == "text":
            return MessageView(kind="text", text=_s(content.get("text")) or _s(_d(inner).get("body")))
        if ctype in MEDIA_KINDS:
            data = _d(inner)
            return _media(
                ctype,
                data.get("url") or data.get("link"),
                text=_s(data.get("caption")),
                filename=_s(data.get("filename")),
                mime=_s(data.get("mimeType")),
                voice=data.get("voice") is True,
            )
        if ctype == "location":
            return _location(_d(inner))
        if ctype == "contacts":
            return _contacts(inner)
        if ctype == "interactive":
            return _interactive(_d(inner))
        if ctype == "button":  # a tap on a template's quick-reply button
            data = _d(inner)
            return MessageView(kind="answer", answer=Option(_s(data.get("payload")), _s(data.get("text"))))
        if ctype == "reaction":
            return MessageView(kind="reaction", emoji=_s(_d(inner).get("emoji")))
        if ctype == "attachment":
            return _meta_attachments(content)
        return MessageView(kind="unknown", label=ctype, text=_s(content.get("text")))
    # Outbound (unified) or Meta-native shapes.
    text = _s(content.get("text"))
    for key, kind in _OUTBOUND_MEDIA.items():
        if key in content:
            return _media(
                kind,
                content[key],
                text=text,
                filename=_s(content.get("filename")),
                voice=content.get("voice") is True,
            )
    if isinstance(content.get("template"), dict):
        return _template(content["template"])
    if isinstance(content.get("interactive"), dict):
        return _interactive(content["interactive"])
    if isinstance(content.get("location"), dict):
        return _location(content["location"])
    if content.get("contacts"):
        return _contacts(content["contacts"])
    if isinstance(content.get("paymentRequest"), dict):
        return _payment(content["paymentRequest"])
    if isinstance(content.get("reaction"), dict):
        return MessageView(kind="reaction", emoji=_s(content["reaction"].get("emoji")))
    if content.get("attachment") or content.get("attachments"):
        return _meta_attachments(content)
    if "text" in content:
        return MessageView(kind="text", text=text)
    return MessageView(kind="unknown", label=content_preview(content) or "Message")


def build_message_view(content: Any, direction: str = "in") -> MessageView:
    """`build_view`, plus the click-to-load decision, which depends on who sent the file.

    A customer's media is deferred: its URL points at a server the sender may control, and loading it
    when the thread opens would tell them when, and from which address, an agent read it (a tracking
    pixel). Media our own agents sent loads directly: an agent chose that URL (usually the company's
    own storage), so there is no one to tell. Anything but "out" counts as the customer's.
    """
    view = build_view(content)
    if view.kind == "media" and view.url:
        view.host = media_host(view.url)
        if direction != "out" and view.media_kind in DEFERRED_MEDIA:
            view.deferred = True
    return view


@register.filter
def message_view(content: Any, direction: str = "in") -> MessageView:
    """`{{ m.content|message_view:m.direction }}`: the view a bubble renders (see `build_message_view`)."""
    return build_message_view(content, direction)


@register.filter(is_safe=True)
def linkify(text: Any) -> SafeString:
    """Escape, then turn URLs into links that open in a new tab, then keep line breaks.

    urlize escapes the text, links included (autoescape=True); the only `<a` left in its output are its
    own, so adding target/rel to them cannot touch the customer's text.
    """
    html = urlize(_s(text), nofollow=False, autoescape=True)
    html = html.replace("<a href=", '<a target="_blank" rel="noopener noreferrer nofollow" href=')
    return linebreaksbr(mark_safe(html), autoescape=True)  # escaped by urlize above


@register.filter
def preview_of(message: Any) -> str:
    """The one-line preview of a message (stored by ingest/sending; computed for older rows)."""
    if message is None:
        return ""
    return message.preview or content_preview(message.content)


@register.filter
def row_sort(conversation: Any) -> str:
    return sort_key(conversation)


@register.filter
def msg_sort(message: Any) -> str:
    return message_sort_key(message.pk)


@register.filter
def kind_label(kind: str) -> str:
    try:
        return ChannelKind(kind).label
    except ValueError:
        return kind


@register.filter
def person_name(user: Any) -> str:
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()


@register.filter
def initials(label: Any) -> str:
    words = [w for w in _s(label).replace("+", " ").split() if w[:1].isalnum()]
    if not words:
        return "?"
    if len(words) == 1:
        return words[0][:2].upper()
    return (words[0][0] + words[-1][0]).upper()


@register.filter
def avatar_hue(value: Any) -> int:
    """A stable hue per contact, so avatars tell people apart without images."""
    return sum(ord(c) for c in _s(value)) * 37 % 360


@register.filter
def short_time(value: datetime | None) -> str:
    """14:05 today, "Yesterday", a weekday this week, else "12 Mar" (JS re-renders in the viewer's zone)."""
    if value is None:
        return ""
    local = timezone.localtime(value)
    today = timezone.localdate()
    if local.date() == today:
        return f"{local:%H:%M}"
    if local.date() == today - timedelta(days=1):
        return "Yesterday"
    if (today - local.date()).days < 7:
        return f"{local:%a}"
    return f"{local:%d %b}" if local.year == today.year else f"{local:%d %b %Y}"


@register.filter
def iso(value: datetime | None) -> str:
    return value.isoformat() if value else ""


STATUS_LABELS = {
    "pending": "Sending",
    "enqueued": "Queued at the Hub",
    "sent": "Sent",
    "delivered": "Delivered",
    "read": "Read",
    "failed": "Failed",
}


@register.filter
def status_label(status: str) -> str:
    return STATUS_LABELS.get(status, status)
