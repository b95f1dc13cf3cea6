"""What each Hub channel kind accepts: paths, recipient formats, content types and limits.

This is our reading of docs/hub.md, Channels and capabilities, and Content types. Every Hub assumption the product makes lives in this package
(`channels_app.hub`), so a change in the Hub's behaviour is a change here only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


class ChannelKind(StrEnum):
    WHATSAPP = "whatsapp"
    INSTAGRAM = "instagram"
    MESSENGER = "messenger"
    TELEGRAM = "telegram"
    SMS = "sms"
    WEBCHATT = "webchatt"

    @property
    def label(self) -> str:
        return CAPABILITIES[self].label


@dataclass(frozen=True)
class Capability:
    label: str
    path: str  # segment in POST /v1/communication/{path}/message
    to_pattern: re.Pattern[str]
    to_help: StrOrPromise  # what an admin or agent is told when a recipient id does not fit
    content_types: frozenset[str]
    max_text_length: int
    # Meta-style customer service window, in hours (None: the channel has none). docs/hub.md, Channels and capabilities.
    window_hours: int | None = None
    # §3.4: the `interactive.type`s the channel takes (location requests are WhatsApp-only; Telegram has
    # no reply buttons and shows an option list as a poll; Web Chatt takes the WhatsApp shapes).
    interactive_types: frozenset[str] = frozenset()
    interactive_hint: StrOrPromise = ""  # said after "… can't be sent on <channel>." for an interactive type
    # §3.4: an interactive message's header and footer, and §3.3: `voice: true`, work on WhatsApp only.
    headers_and_footers: bool = False
    voice_notes: bool = False


_ALL_BUT_TEMPLATE = frozenset(
    {
        "text", "image", "video", "audio", "document", "sticker", "location", "contacts",
        "interactive", "reaction", "reply",
    }
)  # fmt: skip

# What each content type is called when a channel refuses it ("Videos can't be sent on SMS.").
CONTENT_TYPE_LABELS: dict[str, StrOrPromise] = {
    "text": _("Text messages"), "image": _("Images"), "video": _("Videos"), "audio": _("Audios"),
    "document": _("Documents"), "sticker": _("Stickers"), "location": _("Locations"),
    "contacts": _("Contacts"), "interactive": _("Interactives"), "template": _("Templates"),
    "reaction": _("Reactions"), "reply": _("Quoting a message"), "seen": _("Read receipts"),
    "payment_request": _("Payment requests"), "order_status": _("Order statuses"),
}  # fmt: skip

# §3.4: what each `interactive.type` is called when a channel refuses it.
INTERACTIVE_LABELS: dict[str, StrOrPromise] = {
    "button": _("Reply buttons"),
    "list": _("Option lists"),
    "cta_url": _("Link buttons"),
    "location_request_message": _("Location requests"),
}
_META_INTERACTIVE = frozenset({"button", "list", "cta_url"})

CAPABILITIES: dict[ChannelKind, Capability] = {
    ChannelKind.WHATSAPP: Capability(
        label="WhatsApp",
        path="whatsapp",
        to_pattern=re.compile(r"^[1-9]\d{7,14}$"),
        to_help=_("E.164 digits without '+', e.g. 5521987654321"),
        content_types=_ALL_BUT_TEMPLATE | {"template", "payment_request", "order_status"},
        max_text_length=4096,
        window_hours=24,
        interactive_types=frozenset(INTERACTIVE_LABELS),
        headers_and_footers=True,
        voice_notes=True,
    ),
    ChannelKind.INSTAGRAM: Capability(
        label="Instagram",
        path="instagram",
        to_pattern=re.compile(r"^\d{5,32}$"),
        to_help=_("an Instagram-scoped id (IGSID): digits, taken from an inbound message"),
        content_types=frozenset(
            {"text", "image", "video", "audio", "sticker", "interactive", "reaction", "seen"}
        ),
        max_text_length=1000,
        window_hours=24 * 7,
        interactive_types=_META_INTERACTIVE,
    ),
    ChannelKind.MESSENGER: Capability(
        label="Messenger",
        path="messenger",
        to_pattern=re.compile(r"^\d{5,32}$"),
        to_help=_("a page-scoped id (PSID): digits, taken from an inbound message"),
        content_types=frozenset({"text", "image", "video", "audio", "interactive", "reaction", "seen"}),
        max_text_length=2000,
        window_hours=24,
        interactive_types=_META_INTERACTIVE,
    ),
    ChannelKind.TELEGRAM: Capability(
        label="Telegram",
        path="telegram",
        to_pattern=re.compile(r"^-?\d{1,20}$"),
        to_help=_("a Telegram chat id: digits (groups start with '-')"),
        content_types=_ALL_BUT_TEMPLATE,
        max_text_length=4096,
        interactive_types=frozenset({"list"}),
        interactive_hint=_("Use an option list instead (shown as a poll)."),
    ),
    ChannelKind.SMS: Capability(
        label="SMS",
        path="sms",
        to_pattern=re.compile(r"^\+[1-9]\d{7,14}$"),
        to_help=_("E.164 with '+', e.g. +14155550123"),
        content_types=frozenset({"text", "image"}),
        # Auto-split into segments by the Hub; we cap a reply at 10 segments of 160 characters.
        max_text_length=1600,
    ),
    ChannelKind.WEBCHATT: Capability(
        label="Web Chatt",
        path="web-chatt2me",
        to_pattern=re.compile(r"^[A-Za-z0-9_.:-]{1,128}$"),
        to_help=_("the visitor id received in the visitor's messages"),
        content_types=_ALL_BUT_TEMPLATE,
        max_text_length=4096,
        interactive_types=_META_INTERACTIVE,
    ),
}

# Media sent by URL: our capability name (Capability.content_types) -> the Hub's content key (§3.3).
MEDIA_KEYS: dict[str, str] = {
    "image": "imageUrl",
    "video": "videoUrl",
    "audio": "audioUrl",
    "document": "documentUrl",
    "sticker": "stickerUrl",
}


def capability(kind: str) -> Capability:
    return CAPABILITIES[ChannelKind(kind)]


def recipient_error(kind: str, to: str) -> str | None:
    """Why `to` is not a valid recipient on this channel kind, or None when it is."""
    cap = capability(kind)
    if cap.to_pattern.match(to or ""):
        return None
    return gettext("'%(to)s' is not a valid %(channel)s recipient: expected %(format)s.") % {
        "to": to,
        "channel": cap.label,
        "format": cap.to_help,
    }
