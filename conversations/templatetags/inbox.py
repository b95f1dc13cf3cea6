"""Template helpers for the inbox: message content made safe to show, ticks, channel icons, times.

`message_view` turns a Hub content object (inbound normalized shapes, outbound unified ones, or the
Meta-native §3.7 ones), read once into the adapter's typed content model
(`channels_app/hub/message_content/`), into a small description the bubble template renders with
autoescape on (`build_view`: one function per content type).
Nothing here marks customer text safe without escaping it first; media and links are kept only when
they are http(s) URLs, so a `javascript:` URL in a payload is dropped, not rendered. A customer's image,
video, audio or sticker is not embedded: the bubble names its host and loads it on a click (`deferred`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import singledispatch
from typing import Any
from urllib.parse import urlencode, urlsplit

from django import template
from django.template.defaultfilters import linebreaksbr
from django.utils import dateformat, timezone
from django.utils.dateparse import parse_datetime
from django.utils.html import urlize
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, pgettext_lazy

from channels_app.access import person_name as access_person_name
from channels_app.hub import message_content as mc
from channels_app.hub.capabilities import MEDIA_KEYS, ChannelKind
from channels_app.hub.message_content import Option
from channels_app.hub.payloads import content_preview
from conversations.actions.reactions import AGENT_REACTIONS
from conversations.selectors.inbox import sort_key
from conversations.selectors.thread import message_sort_key

register = template.Library()

MEDIA_KINDS = tuple(MEDIA_KEYS)


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


def _filename(url: str) -> str:
    path = urlsplit(url).path
    return path.rsplit("/", 1)[-1] if path else ""


# One function per content type: the bubble of each kind of typed content value.
@singledispatch
def _view(content: mc.MessageContent) -> MessageView:
    return MessageView(kind="unknown", label=content.preview() or _("Message"))


@_view.register
def _empty_view(content: mc.Empty) -> MessageView:
    return MessageView(kind="unknown", label=_("Empty message"))


@_view.register
def _unknown_view(content: mc.Unknown) -> MessageView:
    return MessageView(kind="unknown", label=content.label or _("Message"), text=content.text)


@_view.register
def _text_view(content: mc.Text) -> MessageView:
    return MessageView(kind="text", text=content.text)


@_view.register
def _media_view(content: mc.Media) -> MessageView:
    url = safe_url(content.url)
    return MessageView(
        kind="media",
        media_kind=content.kind,
        url=url,
        text=content.caption,
        filename=content.filename or _filename(url),
        mime=content.mime,
        voice=content.voice,
    )


@_view.register
def _attachments_view(content: mc.Attachments) -> MessageView:
    found = [(kind, safe_url(url)) for kind, url in content.items if safe_url(url)]
    if len(found) == 1:
        kind, url = found[0]
        return _media_view(mc.Media(kind, url, caption=content.text))
    if not found:
        return MessageView(kind="unknown", label=_("Attachment"), text=content.text)
    return MessageView(kind="media", text=content.text, attachments=found)


@_view.register
def _location_view(content: mc.Location) -> MessageView:
    view = MessageView(kind="location", place=content.name or "", address=content.address or "")
    if content.latitude is not None and content.longitude is not None:
        lat, lng = float(content.latitude), float(content.longitude)
        view.latitude, view.longitude = lat, lng
        query = urlencode({"mlat": f"{lat:.6f}", "mlon": f"{lng:.6f}"})
        view.map_url = f"https://www.openstreetmap.org/?{query}#map=16/{lat:.6f}/{lng:.6f}"
    return view


@_view.register
def _contacts_view(content: mc.Contacts) -> MessageView:
    contacts = [{"name": c.name or _("Contact"), "phones": list(c.phones)} for c in content.contacts]
    return MessageView(kind="contacts", contacts=contacts)


@_view.register
def _prompt_view(content: mc.Prompt) -> MessageView:
    link = content.link
    return MessageView(
        kind="prompt",
        interactive_type=content.interactive_type,
        text=content.body,
        header=content.header_text,
        footer=content.footer or "",
        options=list(content.options),
        list_button=content.list_button,
        link_text=link.text if link else "",
        url=safe_url(link.url) if link else "",
    )


@_view.register
def _answer_view(content: mc.Answer) -> MessageView:
    return MessageView(kind="answer", interactive_type=content.interactive_type, answer=content.option)


@_view.register
def _template_view(content: mc.Template) -> MessageView:
    return MessageView(kind="template", template_id=content.id, template_params=content.params)


_PAYMENT_METHODS = {"pix": "PIX", "boleto": "Boleto", "payment_link": gettext_lazy("Payment link")}


@_view.register
def _payment_view(content: mc.PaymentRequest) -> MessageView:
    amount = ""
    if content.total_cents is not None and content.offset:
        amount = f"{content.currency or 'BRL'} {content.total_cents / content.offset:,.2f}"
    payment = {
        "method": str(_PAYMENT_METHODS.get(content.method, content.method)),
        "reference": content.reference,
        "amount": amount,
        "pix_code": content.pix_code,
        "boleto_line": content.boleto_line,
        "link": safe_url(content.link_url),
        "items": [{"name": item.name, "quantity": item.quantity} for item in content.items],
    }
    return MessageView(kind="payment", text=content.body_text, payment=payment)


@_view.register
def _reaction_view(content: mc.Reaction) -> MessageView:
    return MessageView(kind="reaction", emoji=content.emoji)


def build_view(content: Any) -> MessageView:
    """Describe a content object for the bubble (see the module docstring)."""
    return _view(mc.parse_content(content))


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


@register.simple_tag
def agent_reactions() -> tuple[str, ...]:
    """`{% agent_reactions as palette %}`: the reactions a bubble offers an agent."""
    return AGENT_REACTIONS


@register.filter
def resend_draft(content: Any) -> dict[str, str]:
    """What "Edit and resend" puts back in the composer: the text (or caption) and a media link."""
    value = mc.parse_content(content)
    if isinstance(value, mc.Text):
        return {"text": value.text, "media_url": ""}
    if isinstance(value, mc.Media):
        return {"text": value.caption, "media_url": safe_url(value.url)}
    return {"text": value.preview(), "media_url": ""}


@register.filter(is_safe=True)
def linkify(text: Any) -> SafeString:
    """Escape, then turn URLs into links that open in a new tab, then keep line breaks.

    urlize escapes the text, links included (autoescape=True); the only `<a` left in its output are its
    own, so adding target/rel to them cannot touch the customer's text.
    """
    html = urlize(_s(text), nofollow=False, autoescape=True)
    html = html.replace("<a href=", '<a target="_blank" rel="noopener noreferrer nofollow" href=')
    return linebreaksbr(mark_safe(html), autoescape=True)  # escaped by urlize above


# What a list preview calls a message that is not text, in the viewer's language, beside its icon.
_PREVIEW_LABELS = {
    "image": gettext_lazy("Photo"),
    "video": gettext_lazy("Video"),
    "audio": gettext_lazy("Audio"),
    "voice": gettext_lazy("Voice message"),
    "document": gettext_lazy("Document"),
    "sticker": gettext_lazy("Sticker"),
}


# The sprite symbol (static/icons.svg) of each content type that is not text or media.
_PREVIEW_ICONS: dict[type[mc.MessageContent], str] = {
    mc.Location: "i-location",
    mc.Contacts: "i-contact",
    mc.Template: "i-template",
    mc.PaymentRequest: "i-payment",
    mc.Attachments: "i-attachment",
    mc.Answer: "i-answer",
}


@register.filter
def preview_icon(message: Any) -> str:
    """The sprite symbol (static/icons.svg) for a non-text message's content type, or ""."""
    if message is None:
        return ""
    content = mc.parse_content(message.content)
    if isinstance(content, mc.Media):
        return "i-voice" if content.kind == "audio" and content.voice else f"i-{content.kind}"
    return _PREVIEW_ICONS.get(type(content), "")


@register.filter
def preview_of(message: Any) -> str:
    """The one-line preview of a message: a non-text one is named in the viewer's language (its icon
    comes from `preview_icon`); text is as stored by ingest/sending (computed for older rows)."""
    if message is None:
        return ""
    content = mc.parse_content(message.content)
    if isinstance(content, mc.Media):
        label = _PREVIEW_LABELS["voice" if content.kind == "audio" and content.voice else content.kind]
        return mc.clip(f"{label}: {content.caption}" if content.caption else str(label))
    if isinstance(content, mc.Location):
        place = content.name or content.address
        return mc.clip(_("Location: %(place)s") % {"place": place} if place else _("Location"))
    if isinstance(content, mc.Contacts):
        if len(content.contacts) != 1:
            count = len(content.contacts)
            return ngettext("%(count)s contact", "%(count)s contacts", count) % {"count": count}
        name = content.contacts[0].name
        return mc.clip(_("Contact: %(name)s") % {"name": name} if name else _("Contact"))
    if isinstance(content, mc.Template):
        # A library template's reply stores its rendered text as the preview (actions/replies.py).
        stored = message.preview
        return stored if stored and stored != content.preview() else _("Template message")
    if isinstance(content, mc.PaymentRequest):
        return mc.clip(_("Payment request: %(text)s") % {"text": content.body_text})
    if isinstance(content, mc.Attachments):
        return mc.clip(
            _("Attachment: %(text)s") % {"text": content.text} if content.text else _("Attachment")
        )
    return message.preview or content_preview(message.content)


@register.filter
def row_sort(conversation: Any) -> str:
    return sort_key(conversation)


@register.filter
def msg_sort(message: Any) -> str:
    return message_sort_key(message.pk)


@register.filter
def kind_icon(kind: str) -> str:
    """The sprite symbol (static/icons.svg) of a channel kind; a globe for one we do not know."""
    return f"i-{kind}" if kind in ChannelKind._value2member_map_ else "i-webchatt"


@register.filter
def kind_label(kind: str) -> str:
    try:
        return ChannelKind(kind).label
    except ValueError:
        return kind


@register.filter
def person_name(user: Any) -> str:
    return access_person_name(user)


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
        return _("Yesterday")
    # Django's own names (dateformat), so the weekday and month read in the active language.
    if (today - local.date()).days < 7:
        return dateformat.format(local, "D")
    return dateformat.format(local, "j M" if local.year == today.year else "j M Y")


@register.filter
def iso(value: datetime | None) -> str:
    return value.isoformat() if value else ""


@register.filter
def parse_iso(value: Any) -> datetime | None:
    """An ISO time stored as text (an activity line's snooze end), or None."""
    try:
        return parse_datetime(str(value or ""))
    except ValueError:
        return None


# A reply's delivery status as the ticks' label says it (a message: "Delivered", "Read").
STATUS_LABELS = {
    "pending": pgettext_lazy("message status", "Sending"),
    "enqueued": pgettext_lazy("message status", "Queued at the Hub"),
    "sent": pgettext_lazy("message status", "Sent"),
    "delivered": pgettext_lazy("message status", "Delivered"),
    "read": pgettext_lazy("message status", "Read"),
    "failed": pgettext_lazy("message status", "Failed"),
}


@register.filter
def status_label(status: str) -> str:
    return str(STATUS_LABELS.get(status, status))


# Where a status change came from (MessageStatusChange.source), in the details dialog and the review.
STATUS_SOURCES = {
    "webhook": pgettext_lazy("status source", "Hub webhook"),
    "send": pgettext_lazy("status source", "send response"),
    "retry": pgettext_lazy("status source", "retry requested"),
}


@register.filter
def status_source(source: str) -> str:
    return str(STATUS_SOURCES.get(source, source))
