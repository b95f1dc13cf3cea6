"""Every content type is shown safely and usefully; customer text is always escaped."""

from __future__ import annotations

import pytest
from django.urls import reverse

from conversations.models import Message
from conversations.templatetags.inbox import build_view, linkify
from tests.inbox.inbox_support import add_message, make_conversation

pytestmark = pytest.mark.django_db

ATTACKS = [
    "<script>alert('x')</script>",
    "<img src=x onerror=alert(1)>",
    '"><svg onload=alert(1)>',
]


def thread_html(client, conversation) -> str:
    return client.get(reverse("conversation", args=[conversation.pk])).content.decode()


@pytest.mark.parametrize("attack", ATTACKS)
def test_hostile_text_is_shown_as_text_in_the_thread_and_the_list(agent_a_client, app_a, attack):
    conversation = make_conversation(app_a, name=attack, text=attack)

    html = thread_html(agent_a_client, conversation)

    assert attack not in html
    assert "<script>alert" not in html and "<img src=x" not in html and "<svg onload" not in html
    assert "&lt;" in html


def test_hostile_captions_names_and_buttons_are_escaped(agent_a_client, app_a):
    conversation = make_conversation(app_a, text=None)
    for content in (
        {"type": "image", "image": {"url": "https://cdn.example.org/p.png", "caption": ATTACKS[1]}},
        {"type": "document", "document": {"url": "https://cdn.example.org/f.pdf", "filename": ATTACKS[0]}},
        {"type": "location", "location": {"latitude": 1, "longitude": 2, "name": ATTACKS[0]}},
        {
            "type": "interactive",
            "interactive": {"type": "button_reply", "button_reply": {"id": "X", "title": ATTACKS[1]}},
        },
        {"type": "contacts", "contacts": [{"name": {"formatted_name": ATTACKS[0]}}]},
    ):
        add_message(conversation, content=content)

    html = thread_html(agent_a_client, conversation)

    assert "<script>alert" not in html
    assert "<img src=x" not in html


def test_links_in_text_are_clickable_and_safe():
    html = linkify("See https://shop.example.org/o?id=1&x=<b>\nthen javascript:alert(1)")

    assert (
        '<a target="_blank" rel="noopener noreferrer nofollow" href="https://shop.example.org/o?id=1&amp;x=">'
        in html
    )
    assert "<br>" in html
    assert 'href="javascript' not in html
    assert "&lt;b&gt;" in html


@pytest.mark.parametrize(
    "url", ["javascript:alert(1)", "data:text/html,<script>x</script>", "/relative.png", ""]
)
def test_media_without_an_http_url_is_not_rendered_as_media(agent_a_client, app_a, url):
    conversation = make_conversation(app_a, text=None)
    add_message(conversation, content={"type": "image", "image": {"url": url}})

    html = thread_html(agent_a_client, conversation)

    assert "javascript:" not in html
    assert 'class="msg-image' not in html
    assert "no usable link" in html


def test_each_content_type_renders_usefully(agent_a_client, app_a, agent_a):
    conversation = make_conversation(app_a, text=None)
    base = "https://cdn.example.org"
    inbound = [
        {"type": "image", "image": {"url": f"{base}/p.png", "caption": "A photo"}},
        {"type": "video", "video": {"url": f"{base}/v.mp4"}},
        {"type": "audio", "audio": {"url": f"{base}/a.ogg", "voice": True}},
        {"type": "document", "document": {"url": f"{base}/invoice.pdf", "filename": "invoice.pdf"}},
        {"type": "sticker", "sticker": {"url": f"{base}/s.webp"}},
        {"type": "location", "location": {"latitude": -22.9068, "longitude": -43.1729, "name": "Centro"}},
        {
            "type": "contacts",
            "contacts": [{"name": {"formatted_name": "Rita Melo"}, "phones": [{"phone": "+55 21 9"}]}],
        },
        {"type": "reaction", "reaction": {"messageId": "wamid.1", "emoji": "👍"}},
    ]
    for content in inbound:
        add_message(conversation, content=content)
    outbound = [
        {"template": {"id": "order_update", "components": [{"type": "body", "parameters": [{"type": "text", "text": "Joana"}]}]}},
        {"paymentRequest": {"bodyText": "Pague com PIX", "referenceId": "ped-1", "paymentMethod": "pix",
                            "pix": {"code": "000201"}, "totalAmountCents": 12990, "offset": 100}},
        {"interactive": {"type": "cta_url", "body": {"text": "Track it"},
                         "action": {"name": "cta_url", "parameters": {"display_text": "Open", "url": f"{base}/t"}}}},
        {"documentUrl": f"{base}/terms.pdf", "filename": "terms.pdf"},
    ]  # fmt: skip
    for content in outbound:
        add_message(conversation, content=content, direction=Message.Direction.OUTBOUND, author=agent_a)

    html = thread_html(agent_a_client, conversation)

    # The customer's image, video, audio and sticker wait for a click (tests/inbox/test_media_privacy.py).
    assert f'data-media-url="{base}/p.png"' in html and 'data-media-label="A photo"' in html
    assert f'data-media-url="{base}/v.mp4"' in html and "Load video" in html
    assert f'data-media-url="{base}/a.ogg"' in html and 'data-media-voice="Voice message"' in html
    assert f'href="{base}/invoice.pdf"' in html and "invoice.pdf</span>" in html
    assert f'data-media-url="{base}/s.webp"' in html and "Load sticker" in html
    assert "https://www.openstreetmap.org/?mlat=-22.906800&amp;mlon=-43.172900" in html
    assert "Rita Melo" in html
    assert "Reacted" in html and "👍" in html
    assert "order_update" in html and "Joana" in html
    assert "BRL 129.90" in html and "ped-1" in html
    assert f'href="{base}/t"' in html and ">Open</a>" in html
    assert "terms.pdf" in html


def test_the_customers_choice_is_shown_on_the_buttons_it_answers(agent_a_client, app_a, agent_a):
    conversation = make_conversation(app_a, text=None)
    prompt = add_message(
        conversation,
        content={"interactive": {"type": "button", "body": {"text": "Pick one"}, "action": {"buttons": [
            {"type": "reply", "reply": {"id": "HOME", "title": "At home"}},
            {"type": "reply", "reply": {"id": "SHOP", "title": "In the shop"}},
        ]}}},
        direction=Message.Direction.OUTBOUND,
        author=agent_a,
    )  # fmt: skip
    add_message(
        conversation,
        content={"type": "interactive", "interactive": {"type": "button_reply", "button_reply": {"id": "SHOP", "title": "In the shop"}}},
    )  # fmt: skip

    html = thread_html(agent_a_client, conversation)
    bubble = html[html.index(f'id="msg-{prompt.pk}"') :]
    bubble = bubble[: bubble.index("</ul>")]

    assert """<li class="option-chip is-chosen" aria-label="In the shop (the customer's choice)">""" in bubble
    assert "At home" in bubble
    assert "Chose" in html


def test_list_rows_and_unknown_types_do_not_break_the_page(agent_a_client, app_a, agent_a):
    conversation = make_conversation(app_a, text=None)
    add_message(
        conversation,
        content={"interactive": {"type": "list", "body": {"text": "Menu"}, "action": {"button": "See", "sections": [
            {"title": "Food", "rows": [{"id": "PIZZA", "title": "Pizzas", "description": "Hot"}]}]}}},
        direction=Message.Direction.OUTBOUND,
        author=agent_a,
    )  # fmt: skip
    add_message(conversation, content={"type": "hologram", "hologram": {"x": 1}})
    add_message(conversation, content=["not", "a", "dict"])

    html = thread_html(agent_a_client, conversation)

    assert "Pizzas" in html and "Hot" in html
    assert "hologram" in html


def test_view_of_meta_native_attachments():
    view = build_view({"attachment": {"type": "image", "payload": {"url": "https://cdn.example.org/x.jpg"}}})

    assert view.kind == "media" and view.media_kind == "image" and view.url == "https://cdn.example.org/x.jpg"


def test_whatsapp_shaped_text_voice_notes_and_files_render_as_what_they_are(agent_a_client, app_a):
    conversation = make_conversation(app_a, text=None)
    base = "https://cdn.example.org"
    add_message(conversation, content={"type": "text", "text": {"body": "Hello from WhatsApp"}})
    add_message(conversation, content={"type": "voice", "voice": {"url": f"{base}/v.ogg"}})
    add_message(conversation, content={"type": "file", "file": {"url": f"{base}/contract.pdf"}})
    # A malformed field (phones that are not a list) shows what can be read instead of breaking the page.
    add_message(conversation, content={"type": "contacts", "contacts": [{"name": "Ana Lima", "phones": 5}]})

    html = thread_html(agent_a_client, conversation)

    assert "Hello from WhatsApp" in html and "{&#x27;body&#x27;" not in html
    assert f'data-media-url="{base}/v.ogg"' in html and 'data-media-voice="Voice message"' in html
    assert f'href="{base}/contract.pdf"' in html and "contract.pdf</span>" in html
    assert "Ana Lima" in html
