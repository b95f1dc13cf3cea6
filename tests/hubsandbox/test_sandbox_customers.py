"""The customer simulator: inbound `Message` events (hub-api.md §4.2)."""

from __future__ import annotations

import random
import re
from typing import Any

import pytest

from hubsandbox import HubSandbox
from hubsandbox.customers import INBOUND_TYPES_BY_KIND, content_of_type
from tests.hubsandbox.sandbox_support import KINDS, RECIPIENTS, HubClient, Receiver, http

SENDER_PATTERNS = {
    "whatsapp": r"[1-9]\d{9,14}",
    "sms": r"\+[1-9]\d{9,14}",
    "instagram": r"\d{10,20}",
    "messenger": r"\d{10,20}",
    "telegram": r"\d{5,12}",
    "webchatt": r"v_[0-9a-f]+",
}


@pytest.mark.parametrize("kind", KINDS)
def test_a_customer_message_delivers_a_normalized_event(
    hub: HubSandbox, app: dict[str, Any], message_hook: Receiver, kind: str
) -> None:
    channel = app["by_kind"][kind]
    result = hub.customer_message(channel_id=channel["id"])
    (event,) = message_hook.events
    payload = event.json
    assert list(payload) == ["eventType", "channelId", "messageId", "from", "timestamp", "channel", "content"]
    assert payload["eventType"] == "Message"
    assert payload["channelId"] == channel["id"]
    assert payload["messageId"] == result["messageId"]
    assert payload["channel"] == ("web-chatt2me" if kind == "webchatt" else kind)
    assert re.fullmatch(SENDER_PATTERNS[kind], payload["from"])
    assert payload["content"]["type"]
    assert [d["status"] for d in result["deliveries"]] == ["Success"]


@pytest.mark.parametrize("kind", KINDS)
def test_a_simulated_sender_can_be_replied_to(
    hub: HubSandbox, client: HubClient, app: dict[str, Any], kind: str
) -> None:
    channel_id = app["by_kind"][kind]["id"]
    sender = hub.customer_message(channel_id=channel_id, content={"type": "text", "text": "oi"})["event"][
        "from"
    ]
    answer = client.send(kind, channel_id, sender, {"text": "Olá!"})
    assert answer.status == 200
    assert answer.body["messageId"]


def test_the_customer_pool_is_small_and_stable(hub: HubSandbox, app: dict[str, Any]) -> None:
    channel_id = app["by_kind"]["whatsapp"]["id"]
    senders = {hub.customer_message(channel_id=channel_id)["event"]["from"] for _ in range(30)}
    pool = {c["from"] for c in hub.customers(channel_id=channel_id)}
    assert senders <= pool
    assert 2 <= len(pool) <= 5
    assert all(c["name"] for c in hub.customers(channel_id=channel_id))


@pytest.mark.parametrize(
    "ctype",
    [
        "text",
        "image",
        "video",
        "audio",
        "document",
        "sticker",
        "location",
        "contacts",
        "button_reply",
        "list_reply",
        "reaction",
    ],
)
def test_the_generator_covers_every_inbound_content_type(ctype: str) -> None:
    content = content_of_type(ctype, random.Random(1), "http://sandbox", reply_targets=["wamid.X"])
    expected_type = "interactive" if ctype.endswith("_reply") else ctype
    assert content["type"] == expected_type
    assert expected_type in content
    if ctype in ("image", "video", "audio", "document", "sticker"):
        assert content[ctype]["url"].startswith("http://sandbox/_sandbox/media/")
        assert content[ctype]["mimeType"]
    if ctype.endswith("_reply"):
        assert content["interactive"]["type"] == ctype


def test_sms_customers_only_send_text_or_images() -> None:
    assert set(INBOUND_TYPES_BY_KIND["sms"]) == {"text", "image"}


def test_inbound_media_urls_resolve_with_a_content_type(hub: HubSandbox) -> None:
    answer = http("GET", hub.url + "/_sandbox/media/photo.png")
    assert answer.status == 200
    assert answer.headers["content-type"] == "image/png"
    assert answer.raw.startswith(b"\x89PNG")


@pytest.mark.parametrize("media_type", ["image", "video", "audio", "document", "sticker"])
def test_every_sample_media_file_is_a_real_file_of_its_type(hub: HubSandbox, media_type: str) -> None:
    import filetype

    from hubsandbox.customers import MEDIA

    name, mime = MEDIA[media_type]
    answer = http("GET", f"{hub.url}/_sandbox/media/{name}")

    assert answer.status == 200
    assert answer.headers["content-type"] == mime
    # Read from the bytes, as Hubdash reads an upload: a placeholder would not pass.
    assert filetype.guess(answer.raw).mime == mime
    assert 400 < len(answer.raw) < 100_000  # small enough to ship in the repository


def test_a_click_answers_the_buttons_last_sent_to_that_customer(
    hub: HubSandbox, client: HubClient, app: dict[str, Any]
) -> None:
    channel_id = app["by_kind"]["whatsapp"]["id"]
    buttons = {
        "interactive": {
            "type": "button",
            "body": {"text": "Escolha"},
            "action": {"buttons": [{"type": "reply", "reply": {"id": "ONLY", "title": "Única"}}]},
        }
    }
    client.send("whatsapp", channel_id, RECIPIENTS["whatsapp"], buttons)
    clicks = [
        hub.customer_message(channel_id=channel_id, sender=RECIPIENTS["whatsapp"])["event"]["content"]
        for _ in range(40)
    ]
    replies = [
        c["interactive"]["button_reply"]
        for c in clicks
        if c.get("interactive", {}).get("type") == "button_reply"
    ]
    assert replies
    assert all(r == {"id": "ONLY", "title": "Única"} for r in replies)


def test_the_control_endpoint_takes_explicit_sender_content_and_id(
    hub: HubSandbox, app: dict[str, Any], message_hook: Receiver
) -> None:
    body = {
        "channelId": app["by_kind"]["sms"]["id"],
        "from": "+14155550111",
        "content": {"type": "text", "text": "STOP"},
        "messageId": "SM123",
    }
    answer = http("POST", hub.url + "/_sandbox/customers/messages", body=body)
    assert answer.status == 200
    assert answer.body["messageId"] == "SM123"
    assert len(answer.body["deliveries"]) == 1
    event = message_hook.events[0].json
    assert (event["from"], event["content"], event["messageId"]) == ("+14155550111", body["content"], "SM123")
    unknown = http("POST", hub.url + "/_sandbox/customers/messages", body={"channelId": "nope"})
    assert unknown.status == 404


def test_the_background_simulator_writes_at_the_configured_rate(
    hub: HubSandbox, app: dict[str, Any], message_hook: Receiver
) -> None:
    hub.configure(customersRate=20)
    events = message_hook.wait_for(lambda events: len(events) >= 3, timeout=3)
    hub.configure(customersRate=0)
    channel_ids = {c["id"] for c in app["channels"]}
    assert all(e.json["channelId"] in channel_ids for e in events)
