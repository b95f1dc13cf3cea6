"""The typed content model: each kind of content read once, from the Hub's inbound shape or from a reply,
and what the inbox preview, the bubble, the send payload and the channel checks make of that one value."""

from __future__ import annotations

import re

import pytest

from channels_app.hub.content import ContentError, build_reply_content, check_reply, parse_reply
from channels_app.hub.message_content import (
    Answer,
    Attachments,
    Contact,
    Contacts,
    Location,
    Media,
    Option,
    PaymentRequest,
    Prompt,
    Reaction,
    Template,
    Text,
    Unknown,
    Unsupported,
    parse_content,
)
from channels_app.hub.payloads import content_preview
from conversations.templatetags.inbox import build_view

B = "https://cdn.example.org"


def refused(reason: str) -> pytest.RaisesExc[ContentError]:
    """The reply is refused with exactly this reason (a ContentError an agent reads)."""
    return pytest.raises(ContentError, match=re.escape(reason))


BUTTONS = {
    "interactive": {
        "type": "button",
        "header": {"type": "text", "text": "Help desk"},
        "body": {"text": "Choose a topic"},
        "footer": {"text": "Tap a button"},
        "action": {
            "buttons": [
                {"type": "reply", "reply": {"id": "BILLING", "title": "Billing"}},
                {"type": "reply", "reply": {"id": "TECH", "title": "Tech"}},
            ]
        },
    }
}
OPTION_LIST = {
    "interactive": {
        "type": "list",
        "body": {"text": "Menu"},
        "action": {
            "button": "See options",
            "sections": [
                {"title": "Food", "rows": [{"id": "PIZZA", "title": "Pizzas", "description": "Hot"}]},
                {"rows": [{"id": "SALAD", "title": "Salads"}]},
            ],
        },
    }
}
LINK_BUTTON = {
    "interactive": {
        "type": "cta_url",
        "body": {"text": "Track it"},
        "action": {"name": "cta_url", "parameters": {"display_text": "Open", "url": f"{B}/t"}},
    }
}
LOCATION_REQUEST = {
    "interactive": {
        "type": "location_request_message",
        "body": {"text": "Where are you?"},
        "action": {"name": "send_location"},
    }
}
TEMPLATE = {
    "template": {
        "id": "9b1e4c2a",
        "components": [{"type": "body", "parameters": [{"type": "text", "text": "Joana"}]}],
    }
}
PAYMENT = {
    "paymentRequest": {
        "bodyText": "Pay with PIX",
        "referenceId": "order-1",
        "paymentMethod": "pix",
        "pix": {"code": "000201"},
        "totalAmountCents": 12990,
        "offset": 100,
    }
}

# (channel kind, the reply's Hub content, its type, the list preview, the bubble's kind)
REPLIES = [
    ("sms", {"text": "Olá!"}, Text, "Olá!", "text"),
    ("telegram", {"text": "Yes", "replyTo": "m_9"}, Text, "Yes", "text"),
    ("whatsapp", {"imageUrl": f"{B}/p.png", "text": "Receipt"}, Media, "Photo: Receipt", "media"),
    ("telegram", {"videoUrl": f"{B}/v.mp4"}, Media, "Video", "media"),
    ("whatsapp", {"audioUrl": f"{B}/n.ogg", "voice": True}, Media, "Voice message", "media"),
    ("webchatt", {"documentUrl": f"{B}/t.pdf", "filename": "t.pdf"}, Media, "Document", "media"),
    ("telegram", {"stickerUrl": f"{B}/s.webp"}, Media, "Sticker", "media"),
    ("telegram", {"location": {"latitude": -22.9, "longitude": -43.1, "name": "Shop"}}, Location,
     "Location: Shop", "location"),
    ("whatsapp", {"contacts": [{"name": {"formatted_name": "Rita"}, "phones": [{"phone": "+55"}]}]}, Contacts,
     "Contact: Rita", "contacts"),
    ("whatsapp", TEMPLATE, Template, "Template message", "template"),
    ("messenger", {"reaction": {"messageId": "m_1", "emoji": "👍"}}, Reaction, "Reacted 👍", "reaction"),
    ("whatsapp", BUTTONS, Prompt, "Buttons: Choose a topic", "prompt"),
    ("telegram", OPTION_LIST, Prompt, "List: Menu", "prompt"),
    ("instagram", LINK_BUTTON, Prompt, "Link button: Track it", "prompt"),
    ("whatsapp", LOCATION_REQUEST, Prompt, "Location request: Where are you?", "prompt"),
    ("whatsapp", PAYMENT, PaymentRequest, "Payment request: Pay with PIX", "payment"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("kind", "payload", "value_type", "preview", "bubble"),
    REPLIES,
    ids=[f"{kind}-{value_type.__name__}-{i}" for i, (kind, _, value_type, _, _) in enumerate(REPLIES)],
)
def test_a_reply_reads_into_its_type_and_gives_back_the_same_payload(
    kind, payload, value_type, preview, bubble
):
    value = check_reply(kind, payload)

    assert type(value) is value_type
    assert value.payload() == payload
    assert parse_content(payload) == value  # the stored row reads as the same value
    assert value.preview() == content_preview(payload) == preview
    assert build_view(payload).kind == bubble


# (the Hub's inbound content, its value, the list preview)
INBOUND = [
    ({"type": "text", "text": "Oi"}, Text("Oi"), "Oi"),
    ({"type": "text", "text": {"body": "Oi"}}, Text("Oi"), "Oi"),  # WhatsApp's own shape
    (
        {"type": "image", "image": {"url": f"{B}/p.png", "mimeType": "image/png", "caption": "Veja"}},
        Media("image", f"{B}/p.png", caption="Veja", mime="image/png"),
        "Photo: Veja",
    ),
    ({"type": "audio", "audio": {"url": f"{B}/a.ogg", "voice": True}}, Media("audio", f"{B}/a.ogg", voice=True),
     "Voice message"),
    ({"type": "voice", "voice": {"url": f"{B}/a.ogg"}}, Media("audio", f"{B}/a.ogg", voice=True), "Voice message"),
    ({"type": "file", "file": {"link": f"{B}/f.pdf"}}, Media("document", f"{B}/f.pdf"), "Document"),
    ({"type": "location", "location": {"latitude": "-22.9", "longitude": -43.1}}, Location(-22.9, -43.1),
     "Location"),
    ({"type": "location", "location": {"latitude": 95, "longitude": 0, "address": "Rua 1"}},
     Location(None, None, address="Rua 1"), "Location: Rua 1"),
    ({"type": "contacts", "contacts": [{"name": "Ana"}, {"name": "Bia"}]},
     Contacts((Contact("Ana"), Contact("Bia")), cards=({"name": "Ana"}, {"name": "Bia"})), "2 contacts"),
    ({"type": "interactive", "interactive": {"type": "button_reply", "button_reply": {"id": "B", "title": "Billing"}}},
     Answer(Option("B", "Billing"), interactive_type="button_reply"), "Billing"),
    ({"type": "interactive", "interactive": {"type": "list_reply", "list_reply": {"id": "P", "title": "Pizzas",
                                                                                  "description": "Hot"}}},
     Answer(Option("P", "Pizzas", "Hot"), interactive_type="list_reply"), "Pizzas"),
    ({"type": "button", "button": {"text": "Yes", "payload": "YES"}}, Answer(Option("YES", "Yes"), quick_reply=True),
     "Yes"),
    ({"type": "reaction", "reaction": {"messageId": "wamid.1", "emoji": ""}}, Reaction("wamid.1", ""),
     "Removed a reaction"),
    ({"type": "attachment", "text": "see this", "meta": {}}, Attachments((), text="see this"), "Attachment: see this"),
    ({"type": "unsupported", "meta": {}}, Unsupported(label="unsupported"), "Unsupported message"),
    ({"type": "hologram", "hologram": {"depth": 3}}, Unknown(label="hologram"), "[hologram]"),
]  # fmt: skip


@pytest.mark.parametrize(("content", "value", "preview"), INBOUND, ids=[c["type"] for c, _, _ in INBOUND])
def test_an_inbound_message_reads_into_its_type_with_a_preview(content, value, preview):
    assert parse_content(content) == value
    assert content_preview(content) == preview


def test_meta_native_attachments_read_as_one_file_or_several():
    one = {"attachment": {"type": "image", "payload": {"url": f"{B}/x.jpg"}}}
    several = {"attachments": [{"type": "image", "payload": {"url": f"{B}/x.jpg"}},
                               {"type": "file", "payload": {"url": f"{B}/y.pdf"}}]}  # fmt: skip

    assert parse_content(several) == Attachments((("image", f"{B}/x.jpg"), ("document", f"{B}/y.pdf")))
    assert build_view(one).kind == "media" and build_view(one).media_kind == "image"
    assert build_view(several).attachments == [("image", f"{B}/x.jpg"), ("document", f"{B}/y.pdf")]
    assert content_preview(several) == "Attachment"


def test_a_prompt_offers_its_option_ids_and_an_answer_names_the_one_chosen():
    answer = {"type": "interactive", "interactive": {"type": "list_reply", "list_reply": {"id": "SALAD"}}}
    template_button = {"type": "button", "button": {"text": "Yes", "payload": "SALAD"}}

    assert parse_content(OPTION_LIST).option_ids == ("PIZZA", "SALAD")
    assert parse_content(BUTTONS).option_ids == ("BILLING", "TECH")
    assert parse_content(answer).answered_option_id == "SALAD"
    # A template's quick-reply button answers no prompt of ours, whatever its payload.
    assert parse_content(template_button).answered_option_id == ""
    assert parse_content({"text": "SALAD"}).option_ids == ()
    assert parse_content(answer).option_ids == ()


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ({}, "The message is empty."),
        ({"text": "   "}, "The message is empty."),
        ({"text": "hi", "image_url": f"{B}/a.png"}, "This reply has fields the Hub does not know: image_url."),
        ({"imageUrl": f"{B}/a.png", "location": {"latitude": 1, "longitude": 1}}, "only one thing at a time"),
        ({"audioUrl": f"{B}/n.ogg", "text": "listen"}, "Audios can't carry a caption."),
        ({"imageUrl": f"{B}/a.png", "text": " "}, "The caption is empty."),
        ({"imageUrl": "javascript:alert(1)"}, "The attachment must be a public link starting with https://"),
        ({"text": "hi", "replyTo": ""}, "Choose the message to quote."),
        ({"imageUrl": f"{B}/a.png", "voice": True}, "Only audio can be sent as a voice note."),
        ({"location": {"latitude": 91, "longitude": 0}}, "a latitude between -90 and 90"),
        ({"location": {"latitude": 1, "longitude": 2, "name": 5}}, "The location's name must be text."),
        ({"contacts": [{"phones": []}]}, "Each shared contact needs a name."),
        ({"interactive": "buttons"}, "This interactive message is malformed."),
        ({"interactive": {"type": "carousel", "body": {"text": "Pick"}}}, "Unknown kind of interactive message."),
        ({"interactive": {"type": "button", "body": {"text": "Pick"}}}, "has no buttons or options"),
        ({"interactive": {"type": "button", "body": {}, "action": {}}}, "The message body is empty."),
        (
            {"interactive": {"type": "button", "body": {"text": "Pick"}, "action": {"buttons": [
                {"type": "reply", "reply": {"id": "A", "title": "One"}},
                {"type": "reply", "reply": {"id": "A", "title": "Two"}},
            ]}}},
            "Two buttons have the same id.",
        ),
        (
            {"interactive": {"type": "list", "body": {"text": "Menu"}, "action": {"button": "See", "sections": [
                {"rows": [{"id": 7, "title": "Pizzas"}]}]}}},
            "Each option needs an id and a title.",
        ),
        ({"interactive": {**LOCATION_REQUEST["interactive"], "footer": "Thanks"}}, "The footer of this interactive"),
        ({"template": {"id": ""}}, "Choose an approved template."),
        ({"template": {"id": "t", "components": [{"parameters": []}]}}, "The template's parameters are malformed."),
        ({"reaction": {"messageId": "m_1"}}, "Choose the message to react to and an emoji."),
        ({"paymentRequest": "pix"}, "A payment request needs its details."),
    ],
)  # fmt: skip
def test_a_malformed_reply_is_refused_with_a_reason_an_agent_can_act_on(content, reason):
    with refused(reason):
        parse_reply(content)
    # The same content stored (an older row, a customer's message) still reads, without an error.
    assert isinstance(parse_content(content).preview(), str)


def test_what_the_channel_cannot_take_is_said_before_what_is_wrong_with_the_shape():
    untitled = {"interactive": {"type": "button", "body": {"text": "Pick"}, "action": {"buttons": [
        {"type": "reply", "reply": {"id": "A"}}]}}}  # fmt: skip

    with refused("Reply buttons can't be sent on Telegram. Use an option list"):
        check_reply("telegram", untitled)
    with refused("Locations can't be sent on Instagram."):
        check_reply("instagram", {"location": "here"})
    with refused("Each reply button needs an id and a title."):
        check_reply("whatsapp", untitled)


def test_a_value_checks_itself_against_each_channels_capabilities():
    voice_note = Media("audio", f"{B}/n.ogg", voice=True)

    voice_note.check("whatsapp")
    with refused("Voice notes are WhatsApp-only; send it as normal audio on Telegram."):
        voice_note.check("telegram")
    with pytest.raises(ContentError, match=r"^Contacts can't be sent on Instagram\.$"):
        Contacts((Contact("Rita"),)).check("instagram")
    with refused("Quoting a message can't be sent on Messenger."):
        Text("hi", reply_to="m_1").check("messenger")
    with refused("The message is 1001 characters long; Instagram allows at most 1000."):
        Text("x" * 1001).check("instagram")
    with refused("Headers and footers only work on WhatsApp, not on Messenger."):
        parse_content(BUTTONS).check("messenger")
    with refused("Location requests can't be sent on Web Chatt."):
        parse_content(LOCATION_REQUEST).check("webchatt")


def test_the_composer_fields_become_one_checked_payload():
    assert build_reply_content(channel_kind="whatsapp", text="Hi", reply_to="wamid.7") == {
        "text": "Hi",
        "replyTo": "wamid.7",
    }
    assert build_reply_content(channel_kind="messenger", reaction={"message_id": "m_1", "emoji": "👍"}) == {
        "reaction": {"messageId": "m_1", "emoji": "👍"}
    }
    # An undocumented field inside an object is not sent on: the payload is what the model reads.
    location = {"latitude": 1, "longitude": 2, "name": "Shop", "zoom": 3}
    assert build_reply_content(channel_kind="telegram", location=location) == {
        "location": {"latitude": 1, "longitude": 2, "name": "Shop"}
    }


@pytest.mark.parametrize(
    "content",
    [
        None,
        [],
        "just text",
        5,
        {},
        {"type": 5, "text": "Olá"},
        {"type": "image", "image": "not an object"},
        {"type": "contacts", "contacts": [{"name": {"formatted_name": "Ana"}, "phones": 5}]},
        {"type": "interactive", "interactive": {"type": "button", "action": {"buttons": 5, "sections": "x"}}},
        {"type": "location", "location": {"latitude": True, "longitude": "west"}},
        {"interactive": {"type": "list", "action": {"sections": [{"rows": {"id": "x"}}]}}},
        {"template": {"id": "t", "components": {"type": "body"}}},
        {"paymentRequest": {"totalAmountCents": "lots", "offset": 0, "items": [None, {"quantity": True}]}},
        {"markAsSeen": True},
    ],
)
def test_any_stored_content_reads_and_renders_without_error(content):
    value = parse_content(content)

    assert isinstance(value.preview(), str)
    assert isinstance(value.option_ids, tuple) and isinstance(value.answered_option_id, str)
    assert build_view(content).kind
