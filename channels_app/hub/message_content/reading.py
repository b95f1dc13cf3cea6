"""`parse_content`: any stored content object, inbound or outbound, read into its typed value."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from channels_app.hub.capabilities import MEDIA_KEYS
from channels_app.hub.message_content.fields import JSONObject, array_of, number_of, object_of, text_of
from channels_app.hub.message_content.prompts import Answer, Link, Option, Prompt, Section
from channels_app.hub.message_content.values import (
    OPAQUE_TYPES,
    Attachments,
    Contact,
    Contacts,
    Empty,
    Location,
    Media,
    MessageContent,
    Opaque,
    PaymentItem,
    PaymentRequest,
    Reaction,
    Template,
    Text,
    Unknown,
    Unsupported,
)


def _coordinate(value: object, bound: float) -> float | None:
    """A latitude (bound 90) or longitude (180): a number, or a number's text as some providers send."""
    number = number_of(value)
    if number is None and isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return None
    return number if number is not None and -bound <= number <= bound else None


def _location(data: JSONObject) -> Location:
    lat, lng = _coordinate(data.get("latitude"), 90), _coordinate(data.get("longitude"), 180)
    if lat is None or lng is None:
        lat = lng = None
    name, address = data.get("name"), data.get("address")
    return Location(
        lat,
        lng,
        name=name if isinstance(name, str) else None,
        address=address if isinstance(address, str) else None,
    )


def _contact(card: object) -> Contact:
    name = object_of(card).get("name")
    phones = (text_of(object_of(phone).get("phone")) for phone in array_of(object_of(card).get("phones")))
    return Contact(
        name=text_of(name.get("formatted_name")) if isinstance(name, dict) else text_of(name),
        phones=tuple(phone for phone in phones if phone),
    )


def _contacts(cards: object) -> Contacts:
    given = tuple(cards) if isinstance(cards, list) else (cards,)
    return Contacts(tuple(map(_contact, given)), cards=given)


def _row(data: object) -> Option:
    row = object_of(data)
    return Option(text_of(row.get("id")), text_of(row.get("title")), text_of(row.get("description")))


def _button(data: object) -> Option:
    reply = object_of(object_of(data).get("reply"))
    return Option(text_of(reply.get("id")), text_of(reply.get("title")))


def _section(data: object) -> Section:
    section = object_of(data)
    return Section(text_of(section.get("title")), tuple(map(_row, array_of(section.get("rows")))))


def _interactive(data: JSONObject) -> Answer | Prompt:
    itype = text_of(data.get("type"))
    for key in ("button_reply", "list_reply"):  # the customer's answer (§4.2; list_reply [GAP])
        if isinstance(data.get(key), dict):
            return Answer(_row(data[key]), interactive_type=itype)
    action, header, footer = object_of(data.get("action")), data.get("header"), data.get("footer")
    params = object_of(action.get("parameters"))
    link = Link(text_of(params.get("display_text")), text_of(params.get("url")))
    return Prompt(
        itype,
        text_of(object_of(data.get("body")).get("text")),
        header=header if isinstance(header, dict) else None,
        footer=text_of(footer.get("text")) if isinstance(footer, dict) else None,
        buttons=tuple(map(_button, array_of(action.get("buttons")))),
        list_button=text_of(action.get("button")),
        sections=tuple(map(_section, array_of(action.get("sections")))),
        link=link if itype == "cta_url" else None,
        action_name=text_of(action.get("name")),
    )


def _template(data: JSONObject) -> Template:
    components = data.get("components")
    return Template(
        text_of(data.get("id")) or text_of(data.get("name")),
        tuple(c for c in components if isinstance(c, dict)) if isinstance(components, list) else None,
    )


def _payment(data: JSONObject) -> PaymentRequest:
    items = []
    for item in map(object_of, array_of(data.get("items"))):
        quantity = item.get("quantity")
        if isinstance(quantity, bool) or not isinstance(quantity, int | float | str) or not quantity:
            quantity = 1
        items.append(PaymentItem(text_of(item.get("name")), quantity))
    return PaymentRequest(
        data,
        body_text=text_of(data.get("bodyText")),
        method=text_of(data.get("paymentMethod")),
        reference=text_of(data.get("referenceId")),
        currency=text_of(data.get("currency")),
        total_cents=number_of(data.get("totalAmountCents")),
        offset=number_of(data.get("offset") or 100),
        pix_code=text_of(object_of(data.get("pix")).get("code")),
        boleto_line=text_of(object_of(data.get("boleto")).get("digitableLine")),
        link_url=text_of(object_of(data.get("paymentLink")).get("url")),
        items=tuple(items),
    )


def _attachments(content: JSONObject) -> Attachments:
    items = []
    for item in map(object_of, array_of(content.get("attachments")) or [content.get("attachment")]):
        kind = {"file": "document"}.get(text_of(item.get("type")), text_of(item.get("type")))
        if kind in MEDIA_KEYS:
            items.append((kind, text_of(object_of(item.get("payload")).get("url"))))
    return Attachments(tuple(items), text=text_of(content.get("text")))


def _inbound_media(content: JSONObject, kind: str) -> Media:
    data = object_of(content.get(kind))
    media_kind = {"voice": "audio", "file": "document"}.get(kind, kind)
    return Media(
        media_kind,
        text_of(data.get("url")) or text_of(data.get("link")),
        caption=text_of(data.get("caption")),
        filename=text_of(data.get("filename")),
        mime=text_of(data.get("mimeType")),
        voice=kind == "voice" or (media_kind == "audio" and data.get("voice") is True),
    )


def _inbound_text(content: JSONObject, kind: str) -> Text:
    # §4.2's `text` is a string; WhatsApp's `{"body": ...}` is read too (events.py).
    text = content.get("text")
    return Text(text_of(text) or text_of(object_of(text).get("body")))


def _inbound_button(content: JSONObject, kind: str) -> Answer:
    data = object_of(content.get(kind))  # a tap on a template's quick-reply button
    return Answer(Option(text_of(data.get("payload")), text_of(data.get("text"))), quick_reply=True)


def _inbound_reaction(content: JSONObject, kind: str) -> Reaction:
    data = object_of(content.get(kind))
    return Reaction(text_of(data.get("messageId")), text_of(data.get("emoji")))


def _inbound_unsupported(content: JSONObject, kind: str) -> Unsupported:
    return Unsupported(label=kind, text=text_of(content.get("text")))


# Inbound, normalized (§4.2 and events.py's legacy conversion): {"type": X, X: {...}}, read by X.
_INBOUND: dict[str, Callable[[JSONObject, str], MessageContent]] = {
    "text": _inbound_text,
    **{kind: _inbound_media for kind in (*MEDIA_KEYS, "voice", "file")},
    "location": lambda content, kind: _location(object_of(content.get(kind))),
    "contacts": lambda content, kind: _contacts(content.get(kind)),
    "interactive": lambda content, kind: _interactive(object_of(content.get(kind))),
    "button": _inbound_button,
    "reaction": _inbound_reaction,
    "attachment": lambda content, kind: _attachments(content),
    "unsupported": _inbound_unsupported,
}


# Outbound readers take the value under their key and the whole object (a caption sits beside its
# media); None means "not this type after all" (e.g. a `template` that is not an object).
_Reader = Callable[[object, JSONObject], MessageContent | None]


def _outbound_media(media_kind: str) -> _Reader:
    def read(url: object, content: JSONObject) -> Media:
        return Media(
            media_kind,
            text_of(url),
            caption=text_of(content.get("text")),
            filename=text_of(content.get("filename")),
            voice=media_kind == "audio" and content.get("voice") is True,
        )

    return read


def _if_object(read: Callable[[JSONObject], MessageContent]) -> _Reader:
    def read_object(value: object, content: JSONObject) -> MessageContent | None:
        return read(value) if isinstance(value, dict) else None

    return read_object


def _if_given(read: Callable[[object, JSONObject], MessageContent]) -> _Reader:
    def read_given(value: object, content: JSONObject) -> MessageContent | None:
        return read(value, content) if value else None

    return read_given


def _opaque(key: str) -> _Reader:
    return lambda value, content: Opaque(key, value)


def _outbound_reaction(data: JSONObject) -> Reaction:
    return Reaction(text_of(data.get("messageId")), text_of(data.get("emoji")))


# Outbound, unified (§3.3–§3.6) and Meta-native (§3.7): the first key present that reads as its type wins.
_OUTBOUND: tuple[tuple[str, _Reader], ...] = (
    *((key, _outbound_media(kind)) for kind, key in MEDIA_KEYS.items()),
    ("template", _if_object(_template)),
    ("interactive", _if_object(_interactive)),
    ("location", _if_object(_location)),
    ("contacts", _if_given(lambda cards, content: _contacts(cards))),
    ("paymentRequest", _if_object(_payment)),
    ("reaction", _if_object(_outbound_reaction)),
    ("attachment", _if_given(lambda value, content: _attachments(content))),
    ("attachments", _if_given(lambda value, content: _attachments(content))),
    ("text", lambda text, content: Text(text_of(text))),
    *((key, _opaque(key)) for key in OPAQUE_TYPES),
)


def _outbound(content: JSONObject) -> MessageContent:
    for key, read in _OUTBOUND:
        if key in content and (value := read(content[key], content)) is not None:
            reply_to = text_of(content.get("replyTo"))
            return replace(value, reply_to=reply_to) if reply_to else value
    return Unknown()


def parse_content(content: object) -> MessageContent:
    """The typed value of any stored content object, inbound or outbound. Never raises (see the package)."""
    if not isinstance(content, dict):
        return Empty()
    kind = content.get("type")
    if isinstance(kind, str) and kind:
        read = _INBOUND.get(kind)
        return read(content, kind) if read else Unknown(label=kind, text=text_of(content.get("text")))
    return _outbound(content)
