"""The content values: one class per kind of message content, with what each answers (see the package)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from django.utils.translation import gettext as _

from channels_app.hub.capabilities import CONTENT_TYPE_LABELS, MEDIA_KEYS, Capability, capability
from channels_app.hub.message_content.fields import JSONObject, array_of, object_of, text_of

PREVIEW_LENGTH = 280

# Stored previews (and what the search matches) name the type in words; the inbox draws its icon from
# the sprite (static/icons.svg) and the words in the viewer's language (templatetags/inbox.py). No emoji:
# without an emoji font they render as empty boxes.
_MEDIA_LABELS = {
    "image": "Photo",
    "video": "Video",
    "audio": "Audio",
    "voice": "Voice message",
    "document": "Document",
    "sticker": "Sticker",
}


class ContentError(ValueError):
    """A reply that cannot go out as composed. `str(error)` is a sentence an agent understands."""


def clip(text: str) -> str:
    """`text` on one line, at most PREVIEW_LENGTH characters."""
    text = " ".join(text.split())
    return text if len(text) <= PREVIEW_LENGTH else text[: PREVIEW_LENGTH - 1] + "…"


def check_supported(cap: Capability, content_type: str) -> None:
    if content_type not in cap.content_types:
        label = CONTENT_TYPE_LABELS.get(content_type, _("This kind of message"))
        raise ContentError(
            _("%(kind)s can't be sent on %(channel)s.") % {"kind": label, "channel": cap.label}
        )


def check_length(cap: Capability, text: str, what: str) -> None:
    if len(text) > cap.max_text_length:
        raise ContentError(
            _("%(what)s is %(length)d characters long; %(channel)s allows at most %(max)d.")
            % {"what": what, "length": len(text), "channel": cap.label, "max": cap.max_text_length}
        )


@dataclass(frozen=True, slots=True)
class MessageContent:
    """What every content value answers. `reply_to` is the Hub id of the message a reply quotes."""

    reply_to: str = field(default="", kw_only=True)

    # The capability name (`Capability.content_types`); "" for what we never send.
    TYPE: ClassVar[str] = ""

    @property
    def content_type(self) -> str:
        return self.TYPE

    def preview(self) -> str:
        return ""

    def payload(self) -> JSONObject:
        """The Hub `content` object that sends this (docs/hub.md, Content types)."""
        body = self._payload()
        if self.reply_to:
            body["replyTo"] = self.reply_to
        return body

    def _payload(self) -> JSONObject:
        raise ContentError(_("This kind of message can't be sent."))

    def check(self, kind: str) -> None:
        """Raise ContentError unless a channel of this kind can carry the value, within its limits."""
        cap = capability(kind)
        check_supported(cap, self.content_type)
        if self.reply_to:
            check_supported(cap, "reply")
        self._check_limits(cap)

    def _check_limits(self, cap: Capability) -> None:
        """What a channel that takes this type may still refuse (lengths, voice notes, headers)."""

    @property
    def option_ids(self) -> tuple[str, ...]:
        """The ids of the buttons or list rows this message offers."""
        return ()

    @property
    def answered_option_id(self) -> str:
        """The id of the button or list row this message chose, or ""."""
        return ""


@dataclass(frozen=True, slots=True)
class Text(MessageContent):
    text: str
    TYPE = "text"

    def preview(self) -> str:
        return clip(self.text)

    def _payload(self) -> JSONObject:
        return {"text": self.text}

    def _check_limits(self, cap: Capability) -> None:
        check_length(cap, self.text, _("The message"))


@dataclass(frozen=True, slots=True)
class Media(MessageContent):
    kind: str  # image | video | audio | document | sticker (the keys of capabilities.MEDIA_KEYS)
    url: str
    caption: str = ""
    filename: str = ""
    mime: str = ""
    voice: bool = False  # an audio recorded as a voice note (never set on other kinds)

    @property
    def content_type(self) -> str:
        return self.kind

    def preview(self) -> str:
        label = _MEDIA_LABELS["voice" if self.kind == "audio" and self.voice else self.kind]
        return clip(f"{label}: {self.caption}" if self.caption else label)

    def _payload(self) -> JSONObject:
        body: JSONObject = {MEDIA_KEYS[self.kind]: self.url}
        if self.caption:
            body["text"] = self.caption
        if self.filename:
            body["filename"] = self.filename
        if self.voice:
            body["voice"] = True
        return body

    def _check_limits(self, cap: Capability) -> None:
        check_length(cap, self.caption, _("The caption"))
        if self.voice and not cap.voice_notes:
            raise ContentError(
                _("Voice notes are WhatsApp-only; send it as normal audio on %(channel)s.")
                % {"channel": cap.label}
            )


@dataclass(frozen=True, slots=True)
class Location(MessageContent):
    # Both None when the coordinates are missing or out of range (a customer's message is shown anyway).
    latitude: float | None
    longitude: float | None
    name: str | None = None
    address: str | None = None
    TYPE = "location"

    def preview(self) -> str:
        place = self.name or self.address
        return clip(f"Location: {place}" if place else "Location")

    def _payload(self) -> JSONObject:
        body: JSONObject = {"latitude": self.latitude, "longitude": self.longitude}
        body.update({k: v for k, v in (("name", self.name), ("address", self.address)) if v is not None})
        return {"location": body}


@dataclass(frozen=True, slots=True)
class Contact:
    name: str
    phones: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Contacts(MessageContent):
    contacts: tuple[Contact, ...]
    # The shared cards as given: Meta contact objects (§3.3 [GAP]), sent on unchanged.
    cards: tuple[Any, ...] = ()
    TYPE = "contacts"

    def preview(self) -> str:
        if len(self.contacts) != 1:
            return f"{len(self.contacts)} contacts"
        name = self.contacts[0].name
        return clip(f"Contact: {name}" if name else "Contact")

    def _payload(self) -> JSONObject:
        return {"contacts": list(self.cards)}


@dataclass(frozen=True, slots=True)
class Template(MessageContent):
    """A WhatsApp template by its Hub id (§3.5)."""

    id: str
    components: tuple[JSONObject, ...] | None = None  # Meta's components, sent on unchanged
    TYPE = "template"

    @property
    def params(self) -> list[str]:
        """Each parameter's text (or its type, for a media parameter), in order."""
        return [
            text_of(param.get("text") or param.get("type"))
            for component in self.components or ()
            for param in map(object_of, array_of(component.get("parameters")))
        ]

    def preview(self) -> str:
        return "Template message"

    def _payload(self) -> JSONObject:
        template: JSONObject = {"id": self.id}
        if self.components is not None:
            template["components"] = list(self.components)
        return {"template": template}


@dataclass(frozen=True, slots=True)
class Reaction(MessageContent):
    message_id: str
    emoji: str  # "" removes a reaction
    TYPE = "reaction"

    def preview(self) -> str:
        return f"Reacted {self.emoji}" if self.emoji else "Removed a reaction"

    def _payload(self) -> JSONObject:
        return {"reaction": {"messageId": self.message_id, "emoji": self.emoji}}


@dataclass(frozen=True, slots=True)
class PaymentItem:
    name: str
    quantity: int | float | str = 1


@dataclass(frozen=True, slots=True)
class PaymentRequest(MessageContent):
    """A WhatsApp payment request (§3.6). `details` is the object as given, sent on unchanged."""

    details: JSONObject
    body_text: str = ""
    method: str = ""  # pix | boleto | payment_link
    reference: str = ""
    currency: str = ""
    total_cents: float | None = None
    offset: float | None = None
    pix_code: str = ""
    boleto_line: str = ""
    link_url: str = ""
    items: tuple[PaymentItem, ...] = ()
    TYPE = "payment_request"

    def preview(self) -> str:
        return clip(f"Payment request: {self.body_text}")

    def _payload(self) -> JSONObject:
        return {"paymentRequest": self.details}


@dataclass(frozen=True, slots=True)
class Attachments(MessageContent):
    """Meta-native attachments (§3.7), or a legacy attachment of a kind we do not map (events.py)."""

    items: tuple[tuple[str, str], ...]  # (media kind, url)
    text: str = ""

    def preview(self) -> str:
        return clip(f"Attachment: {self.text}" if self.text else "Attachment")


# The keys of content we send on as given, and their capability names.
OPAQUE_TYPES = {"markAsSeen": "seen", "orderStatus": "order_status"}


@dataclass(frozen=True, slots=True)
class Opaque(MessageContent):
    """Content we send on as given and do not show: `markAsSeen`, `orderStatus` (§3.3, §3.6 [GAP])."""

    key: str
    value: Any  # whatever the caller put there: the Hub documents no shape for it

    @property
    def content_type(self) -> str:
        return OPAQUE_TYPES[self.key]

    def _payload(self) -> JSONObject:
        return {self.key: self.value}


@dataclass(frozen=True, slots=True)
class Unknown(MessageContent):
    """An inbound type we do not know (`label` is its name), or an object with no key we know."""

    label: str = ""
    text: str = ""

    def preview(self) -> str:
        return clip(self.text or (f"[{self.label}]" if self.label else ""))


@dataclass(frozen=True, slots=True)
class Unsupported(Unknown):
    """What the legacy parser makes of a Meta message with nothing we can read (events.py)."""

    def preview(self) -> str:
        return "Unsupported message"


@dataclass(frozen=True, slots=True)
class Empty(MessageContent):
    """Content that is not a JSON object at all."""
