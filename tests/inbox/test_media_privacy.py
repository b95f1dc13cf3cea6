"""A customer's image, video, audio or sticker is not fetched when a thread is shown: the bubble names the
host it would come from and offers a "Load …" button (static/js/inbox.js swaps the element in), in pages
and in live frames alike. Our agents' own media still embeds. The click itself: tests/browser/test_media_privacy.py.
"""

from __future__ import annotations

import re

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from conversations.events import publish_message_created
from conversations.models import Conversation, Message
from conversations.templatetags.inbox import build_message_view, media_host
from hubdash.asgi import application
from tests.inbox.inbox_support import (
    add_message,
    connect,
    frames_until_quiet,
    make_conversation,
    sync_message,
)

HOST = "media.customer-host.example"
IMAGE = f"https://{HOST}/pixel.png?agent=1&t=2"
ESCAPED_IMAGE = f"https://{HOST}/pixel.png?agent=1&amp;t=2"


def image(url: str = IMAGE) -> dict:
    return {"type": "image", "image": {"url": url, "caption": "Is this the one?"}}


def thread_html(client, conversation) -> str:
    return client.get(reverse("conversation", args=[conversation.pk])).content.decode()


def bubble(html: str, message: Message) -> str:
    start = html.index(f'<li id="msg-{message.pk}"')
    return html[start : html.index("</li>", start)]


def assert_click_to_load(html: str) -> None:
    assert not re.search(r"<(img|video|audio|source)\b[^>]*\bsrc=\"https?://" + re.escape(HOST), html)
    assert f'data-media-url="{ESCAPED_IMAGE}"' in html
    assert f'data-media-host="{HOST}"' in html
    assert f'Image from <span class="mono">{HOST}</span>' in html
    assert '<button type="button" class="msg-media-load" data-action="load-media">Load image</button>' in html


@pytest.mark.django_db
def test_a_customers_image_in_the_thread_is_a_placeholder_with_its_host_and_a_load_button(
    agent_a_client, app_a
):
    conversation = make_conversation(app_a, text=None)
    message = add_message(conversation, content=image())

    html = bubble(thread_html(agent_a_client, conversation), message)

    assert_click_to_load(html)
    assert "Is this the one?" in html  # the caption is text: shown at once


@pytest.mark.django_db
def test_an_agents_own_image_still_embeds(agent_a_client, app_a, agent_a):
    conversation = make_conversation(app_a, text=None)
    message = add_message(
        conversation, content={"imageUrl": IMAGE}, direction=Message.Direction.OUTBOUND, author=agent_a
    )

    html = bubble(thread_html(agent_a_client, conversation), message)

    assert f'<img class="msg-image" src="{ESCAPED_IMAGE}"' in html
    assert 'referrerpolicy="no-referrer"' in html
    assert "load-media" not in html


@pytest.mark.django_db
@pytest.mark.parametrize("kind", ["video", "audio", "sticker"])
def test_a_customers_video_audio_and_sticker_wait_for_a_click_too(agent_a_client, app_a, kind):
    conversation = make_conversation(app_a, text=None)
    message = add_message(conversation, content={"type": kind, kind: {"url": f"https://{HOST}/f"}})

    html = bubble(thread_html(agent_a_client, conversation), message)

    assert f"<{kind if kind != 'sticker' else 'img'}" not in html
    assert f"Load {kind}</button>" in html and f'data-media-host="{HOST}"' in html


@pytest.mark.django_db
def test_a_customers_document_stays_a_link_that_sends_no_referrer(agent_a_client, app_a):
    conversation = make_conversation(app_a, text=None)
    url = f"https://{HOST}/invoice.pdf"
    message = add_message(conversation, content={"type": "document", "document": {"url": url}})

    html = bubble(thread_html(agent_a_client, conversation), message)

    assert (
        f'<a class="msg-doc" href="{url}" target="_blank" rel="noopener noreferrer nofollow"'
        ' referrerpolicy="no-referrer">'
    ) in html
    assert "load-media" not in html


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url", ["javascript:alert(1)", "data:image/png;base64,iVBORw0KGgo=", "ftp://x/y.png"]
)
def test_a_non_http_image_url_gets_no_button(agent_a_client, app_a, url):
    conversation = make_conversation(app_a, text=None)
    message = add_message(conversation, content=image(url))

    html = bubble(thread_html(agent_a_client, conversation), message)

    assert "load-media" not in html and "data-media-url" not in html
    assert "javascript:" not in html and "data:image" not in html
    assert "no usable link" in html
    # The control: the same message with an https URL does get the button.
    control = add_message(conversation, content=image())
    assert "load-media" in bubble(thread_html(agent_a_client, conversation), control)


@pytest.mark.django_db
def test_a_url_whose_host_a_browser_reads_differently_is_shown_as_text_without_a_button(
    agent_a_client, app_a
):
    conversation = make_conversation(app_a, text=None)
    # Python's urlsplit sees shop.example; a browser turns the backslash into a slash and fetches evil.example.
    message = add_message(conversation, content=image("https://evil.example\\@shop.example/p.png"))

    html = bubble(thread_html(agent_a_client, conversation), message)

    assert "load-media" not in html and "data-media-url" not in html
    assert "address cannot be checked" in html and "evil.example\\@shop.example" in html


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("https://CDN.example.org:443/p.png", "cdn.example.org"),
        ("http://127.0.0.1:8123/p.png", "127.0.0.1:8123"),
        ("https://shop.example@evil.example/p.png", "evil.example"),  # the user info is not the host
        ("https://bücher.example/p.png", "xn--bcher-kva.example"),  # as the browser contacts it
        ("https://%65vil.example/p.png", ""),
        ("https://evil.example\\@shop.example/p.png", ""),
    ],
)
def test_the_host_shown_is_the_one_the_browser_contacts(url, host):
    assert media_host(url) == host


def test_only_inbound_media_is_deferred():
    assert build_message_view(image(), "in").deferred
    assert not build_message_view({"imageUrl": IMAGE}, "out").deferred
    assert not build_message_view({"type": "document", "document": {"url": IMAGE}}, "in").deferred


@pytest.mark.django_db(transaction=True)
def test_a_customers_image_in_a_live_frame_is_a_placeholder_too(agent_a, app_a):
    conversation = make_conversation(app_a)

    def customer_sends_an_image() -> Message:
        with transaction.atomic():
            message = add_message(conversation, content=image())
            Conversation.objects.filter(pk=conversation.pk).update(
                last_message=message, last_activity_at=timezone.now(), last_inbound_at=timezone.now()
            )
            publish_message_created(
                application_id=conversation.application_id,
                conversation_id=conversation.pk,
                message_id=message.pk,
            )
        return message

    async def scenario():
        inbox = await connect(agent_a, application)
        await inbox.send_json_to(sync_message(conversation=conversation.pk, since=timezone.now().isoformat()))
        await frames_until_quiet(inbox)
        message = await database_sync_to_async(customer_sends_an_image)()
        frames = await frames_until_quiet(inbox)
        await inbox.disconnect()
        return message, frames

    message, frames = async_to_sync(scenario)()

    html = "".join(frames)
    assert f'<li id="msg-{message.pk}"' in html  # the control: the bubble did arrive
    assert_click_to_load(bubble(html, message))
