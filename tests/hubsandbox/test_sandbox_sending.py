"""Send endpoint of the sandbox (hub-api.md §1–§3): auth, ownership, validation and the answers."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest

from hubsandbox import HubSandbox
from tests.hubsandbox.sandbox_support import KINDS, RECIPIENTS, SEGMENTS, HubClient

TEXT = {"text": "Olá! Seu pedido saiu para entrega."}


def channel_id(app: dict[str, Any], kind: str) -> str:
    return app["by_kind"][kind]["id"]


def test_a_send_without_api_key_is_401(hub: HubSandbox, app: dict[str, Any]) -> None:
    answer = HubClient(hub.url, None).send(
        "whatsapp", channel_id(app, "whatsapp"), RECIPIENTS["whatsapp"], TEXT
    )
    assert answer.status == 401
    assert set(answer.body) == {"errorMessage", "errorCode"}


def test_a_send_with_an_unknown_api_key_is_401(hub: HubSandbox, app: dict[str, Any]) -> None:
    answer = HubClient(hub.url, "nope").send("sms", channel_id(app, "sms"), RECIPIENTS["sms"], TEXT)
    assert answer.status == 401


def test_webhook_management_without_api_key_is_401(hub: HubSandbox, app: dict[str, Any]) -> None:
    assert HubClient(hub.url, None).call("GET", "/v1/organization/webhook").status == 401


def test_every_response_carries_an_x_request_id(client: HubClient, app: dict[str, Any]) -> None:
    ok = client.send("telegram", channel_id(app, "telegram"), RECIPIENTS["telegram"], TEXT)
    bad = client.send("telegram", channel_id(app, "telegram"), "not-a-chat-id", TEXT)
    assert ok.headers["x-request-id"] != bad.headers["x-request-id"]


@pytest.mark.parametrize(
    ("kind", "status"),
    [
        ("whatsapp", "enqueued"),
        ("messenger", "enqueued"),
        ("instagram", "sent"),
        ("telegram", "sent"),
        ("sms", "sent"),
        ("webchatt", "sent"),
    ],
)
def test_each_channel_answers_its_documented_send_status(
    hub: HubSandbox, client: HubClient, app: dict[str, Any], kind: str, status: str
) -> None:
    if kind == "webchatt":
        hub.open_webchatt_session(channel_id=channel_id(app, kind), visitor_id=RECIPIENTS[kind])
    answer = client.send(kind, channel_id(app, kind), RECIPIENTS[kind], TEXT)
    assert answer.status == 200
    assert answer.body["status"] == status
    assert answer.body["recipientId"] == RECIPIENTS[kind]
    assert answer.body["type"] == "Text"


@pytest.mark.parametrize(
    ("kind", "pattern"),
    [
        ("whatsapp", r"wamid\.[A-Za-z0-9]+"),
        ("instagram", r"m_[A-Za-z0-9_\-]+"),
        ("messenger", r"m_[A-Za-z0-9_\-]+"),
        ("telegram", r"[0-9a-f\-]{36}"),
        ("sms", r"[0-9a-f\-]{36}"),
    ],
)
def test_message_ids_look_like_the_providers_ids(
    client: HubClient, app: dict[str, Any], kind: str, pattern: str
) -> None:
    answer = client.send(kind, channel_id(app, kind), RECIPIENTS[kind], TEXT)
    assert re.fullmatch(pattern, answer.body["messageId"])


def test_an_unknown_from_is_404(client: HubClient) -> None:
    answer = client.send("whatsapp", str(uuid.uuid4()), RECIPIENTS["whatsapp"], TEXT)
    assert answer.status == 404
    assert answer.body["errorCode"] == "channel_not_found"


def test_a_from_of_another_application_is_404(
    client: HubClient, other_app: dict[str, Any], app: dict[str, Any]
) -> None:
    answer = client.send("sms", channel_id(other_app, "sms"), RECIPIENTS["sms"], TEXT)
    assert answer.status == 404


def test_a_from_of_another_kind_than_the_path_is_404(client: HubClient, app: dict[str, Any]) -> None:
    answer = client.send("telegram", channel_id(app, "whatsapp"), RECIPIENTS["telegram"], TEXT)
    assert answer.status == 404


def test_an_unknown_channel_path_is_404(client: HubClient, app: dict[str, Any]) -> None:
    answer = client.call(
        "POST", "/v1/communication/signal/message", {"from": "x", "to": "1", "content": TEXT}
    )
    assert answer.status == 404


@pytest.mark.parametrize(
    ("kind", "alternate"),
    [
        ("whatsapp", "+5521900000001"),
        ("whatsapp", "5521900000001"),
        ("sms", "+14155550100"),
        ("sms", "14155550100"),
        ("instagram", "@loja_exemplo"),
        ("instagram", "loja_exemplo"),
        ("telegram", "@loja_bot"),
        ("messenger", "112233445566"),
    ],
)
def test_documented_alternate_froms_are_accepted(hub: HubSandbox, kind: str, alternate: str) -> None:
    addresses = {
        "whatsapp": "5521900000001",
        "sms": "+14155550100",
        "instagram": "loja_exemplo",
        "telegram": "loja_bot",
        "messenger": "112233445566",
    }
    hub.add_application(name="Alt", api_key="alt-key", channels=[{"kind": kind, "address": addresses[kind]}])
    answer = HubClient(hub.url, "alt-key").send(kind, alternate, RECIPIENTS[kind], TEXT)
    assert answer.status == 200, answer.body


@pytest.mark.parametrize(
    ("body", "missing"),
    [
        ({"to": "5521987654321", "content": TEXT}, "from"),
        ({"from": "X", "content": TEXT}, "to"),
        ({"from": "X", "to": "5521987654321"}, "content"),
    ],
)
def test_a_missing_envelope_field_is_400_naming_it(
    client: HubClient, app: dict[str, Any], body: dict[str, Any], missing: str
) -> None:
    if "from" in body:
        body = {**body, "from": channel_id(app, "whatsapp")}
    answer = client.call("POST", "/v1/communication/whatsapp/message", body)
    assert answer.status == 400
    assert missing in answer.body["errorMessage"]


@pytest.mark.parametrize(
    "body",
    [
        {"to": 5521987654321, "content": TEXT},
        {"to": "5521987654321", "content": "hello"},
        {"to": "5521987654321", "content": {}},
    ],
)
def test_envelope_fields_of_the_wrong_type_are_400(client: HubClient, app: dict[str, Any], body: Any) -> None:
    answer = client.call(
        "POST", "/v1/communication/whatsapp/message", {"from": channel_id(app, "whatsapp"), **body}
    )
    assert answer.status == 400


def test_a_body_that_is_not_json_is_400(hub: HubSandbox, app: dict[str, Any]) -> None:
    import urllib.request

    request = urllib.request.Request(
        hub.url + "/v1/communication/whatsapp/message",
        data=b"{not json",
        method="POST",
        headers={"x-api-key": "key-app-a", "Content-Type": "application/json"},
    )
    with pytest.raises(urllib.error.HTTPError) as exc:
        urllib.request.urlopen(request, timeout=5)
    assert exc.value.code == 400


@pytest.mark.parametrize(
    ("kind", "to"),
    [
        ("whatsapp", "+5521987654321"),  # WhatsApp wants digits without '+'
        ("whatsapp", "(21) 98765-4321"),
        ("sms", "14155550123"),  # SMS wants E.164 with '+'
        ("sms", "+1 415 555 0123"),
        ("instagram", "@someone"),
        ("messenger", "psid-abc"),
        ("telegram", "@someone"),
        ("webchatt", "visitor with spaces"),
    ],
)
def test_a_recipient_in_the_wrong_format_for_the_channel_is_400(
    client: HubClient, app: dict[str, Any], kind: str, to: str
) -> None:
    answer = client.send(kind, channel_id(app, kind), to, TEXT)
    assert answer.status == 400
    assert answer.body["errorCode"] == "invalid_recipient"


@pytest.fixture(autouse=True)
def made_up_media_links(hub: HubSandbox) -> None:
    # These tests check the content rules with links to cdn.example.org, which nobody serves; the
    # sandbox fetching a link (and refusing a dead one) is tested in test_sandbox_media_fetch.py.
    hub.configure(fetchMedia=False)


# One valid unified `content` per §3.3 row (GAP shapes per the recommendations of hub-api.md §3.3–§3.6).
CONTENT_EXAMPLES: dict[str, dict[str, Any]] = {
    "text": TEXT,
    "image": {"imageUrl": "https://cdn.example.org/p/123.png", "text": "caption"},
    "video": {"videoUrl": "https://cdn.example.org/v/intro.mp4"},
    "audio": {"audioUrl": "https://cdn.example.org/a/note.ogg"},
    "document": {"documentUrl": "https://cdn.example.org/d/invoice.pdf", "filename": "invoice.pdf"},
    "sticker": {"stickerUrl": "https://cdn.example.org/s/hi.webp"},
    "location": {"location": {"latitude": -22.9068, "longitude": -43.1729, "name": "Centro"}},
    "contacts": {"contacts": [{"name": {"formatted_name": "Joana Silva"}, "phones": [{"phone": "+5521"}]}]},
    "interactive": {
        "interactive": {
            "type": "list",
            "body": {"text": "Escolha uma categoria"},
            "action": {
                "button": "Ver opções",
                "sections": [{"title": "Pratos", "rows": [{"id": "1", "title": "A"}]}],
            },
        }
    },
    "template": {"template": {"id": "9b1e4c2a-55f0-4e3b-8d7a-2c6f1e0a9d34"}},
    "reaction": {"reaction": {"messageId": "wamid.ABC", "emoji": "👍"}},
    "reply": {"text": "Sim, saiu hoje", "replyTo": "wamid.ABC"},
    "mark_as_seen": {"markAsSeen": True},
    "payment_request": {
        "paymentRequest": {
            "bodyText": "Pague seu pedido com PIX",
            "referenceId": "pedido-20931",
            "paymentMethod": "pix",
            "pix": {
                "code": "000201010212",
                "merchantName": "Loja",
                "key": "12345678000199",
                "keyType": "CNPJ",
            },
            "totalAmountCents": 12990,
            "offset": 100,
        }
    },
    "order_status": {"orderStatus": {"referenceId": "pedido-20931", "status": "shipped"}},
}
# hub-api.md §3.3 table, typed in again here from the reference (not imported from hubsandbox).
TABLE: dict[str, set[str]] = {
    "text": {"whatsapp", "instagram", "messenger", "telegram", "sms", "webchatt"},
    "image": {"whatsapp", "instagram", "messenger", "telegram", "sms", "webchatt"},
    "video": {"whatsapp", "instagram", "messenger", "telegram", "webchatt"},
    "audio": {"whatsapp", "instagram", "messenger", "telegram", "webchatt"},
    "document": {"whatsapp", "telegram", "webchatt"},
    "sticker": {"whatsapp", "instagram", "telegram", "webchatt"},
    "location": {"whatsapp", "telegram", "webchatt"},
    "contacts": {"whatsapp", "telegram", "webchatt"},
    "interactive": {"whatsapp", "instagram", "messenger", "telegram", "webchatt"},
    "template": {"whatsapp"},
    "reaction": {"whatsapp", "instagram", "messenger", "telegram", "webchatt"},
    "reply": {"whatsapp", "telegram", "webchatt"},
    "mark_as_seen": {"instagram", "messenger"},
    "payment_request": {"whatsapp"},
    "order_status": {"whatsapp"},
}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("content_type", sorted(TABLE))
def test_content_types_follow_the_availability_table(
    hub: HubSandbox, client: HubClient, app: dict[str, Any], content_type: str, kind: str
) -> None:
    if kind == "webchatt":
        hub.open_webchatt_session(channel_id=channel_id(app, kind), visitor_id=RECIPIENTS[kind])
    answer = client.send(kind, channel_id(app, kind), RECIPIENTS[kind], CONTENT_EXAMPLES[content_type])
    if kind in TABLE[content_type]:
        assert answer.status == 200, answer.body
        assert answer.body["messageId"]
    else:
        assert answer.status == 400, answer.body
        assert SEGMENTS[kind] in answer.body["errorMessage"]


def test_an_unsupported_content_type_is_named_in_the_error(client: HubClient, app: dict[str, Any]) -> None:
    answer = client.send(
        "instagram", channel_id(app, "instagram"), RECIPIENTS["instagram"], CONTENT_EXAMPLES["document"]
    )
    assert answer.body["errorMessage"] == "content type 'document' is not supported on instagram"


def button_content() -> dict[str, Any]:
    return {
        "interactive": {
            "type": "button",
            "body": {"text": "Escolha um assunto"},
            "action": {"buttons": [{"type": "reply", "reply": {"id": "BILLING", "title": "Financeiro"}}]},
        }
    }


@pytest.mark.parametrize(
    ("kind", "itype", "ok"),
    [
        ("whatsapp", "button", True),
        ("telegram", "button", False),  # §3.4: reply buttons are not on Telegram
        ("telegram", "list", True),  # rendered as a poll
        ("instagram", "cta_url", True),
        ("telegram", "cta_url", False),
        ("whatsapp", "location_request_message", True),
        ("messenger", "location_request_message", False),  # WhatsApp only
    ],
)
def test_interactive_types_are_checked_per_channel(
    client: HubClient, app: dict[str, Any], kind: str, itype: str, ok: bool
) -> None:
    interactive: dict[str, Any] = {
        "button": button_content()["interactive"],
        "list": CONTENT_EXAMPLES["interactive"]["interactive"],
        "cta_url": {
            "type": "cta_url",
            "body": {"text": "Acompanhe"},
            "action": {
                "name": "cta_url",
                "parameters": {"display_text": "Abrir", "url": "https://x.example/"},
            },
        },
        "location_request_message": {
            "type": "location_request_message",
            "body": {"text": "Onde você está?"},
            "action": {"name": "send_location"},
        },
    }[itype]
    answer = client.send(kind, channel_id(app, kind), RECIPIENTS[kind], {"interactive": interactive})
    assert answer.status == (200 if ok else 400), answer.body
    if not ok:
        assert answer.body["errorCode"] == "invalid_interactive_type"


@pytest.mark.parametrize(
    "content",
    [
        {"image_url": "https://cdn.example.org/p.png"},  # misspelt field
        {"imageUrl": "/relative.png"},
        {"imageUrl": "https://cdn.example.org/p.png", "videoUrl": "https://cdn.example.org/v.mp4"},
        {"location": {"latitude": "north", "longitude": 1}},
        {"interactive": {"type": "button", "body": {"text": "x"}, "action": {"buttons": []}}},
        {
            "interactive": {
                "type": "button",
                "body": {"text": "x"},
                "action": {"buttons": [{"type": "reply", "reply": {"id": "A", "title": "x" * 21}}]},
            }
        },
        {"template": {"name": "order_update"}},
        {"template": {"id": "order_update"}},
        {"paymentRequest": {"bodyText": "x", "referenceId": "r", "paymentMethod": "cash"}},
        {"audioUrl": "https://cdn.example.org/a.ogg", "voice": "yes"},
    ],
)
def test_malformed_content_is_400(client: HubClient, app: dict[str, Any], content: dict[str, Any]) -> None:
    answer = client.send("whatsapp", channel_id(app, "whatsapp"), RECIPIENTS["whatsapp"], content)
    assert answer.status == 400, answer.body


def test_voice_notes_are_whatsapp_only(client: HubClient, app: dict[str, Any]) -> None:
    content = {"audioUrl": "https://cdn.example.org/a.ogg", "voice": True}
    assert client.send("whatsapp", channel_id(app, "whatsapp"), RECIPIENTS["whatsapp"], content).status == 200
    assert client.send("telegram", channel_id(app, "telegram"), RECIPIENTS["telegram"], content).status == 400


@pytest.mark.parametrize(
    ("kind", "content", "expected_type"),
    [
        (
            "messenger",
            {"attachment": {"type": "image", "payload": {"url": "https://cdn.example.org/p.png"}}},
            "Image",
        ),
        (
            "instagram",
            {
                "text": "Escolha",
                "quick_replies": [{"content_type": "text", "title": "Sim", "payload": "YES"}],
            },
            "QuickReply",
        ),
        (
            "messenger",
            {
                "attachment": {
                    "type": "template",
                    "payload": {"template_type": "generic", "elements": [{"title": "A"}, {"title": "B"}]},
                }
            },
            "Carousel",
        ),
        ("instagram", {"attachment": {"type": "like_heart"}}, "Sticker"),
        (
            "messenger",
            {"sender_action": "react", "payload": {"message_id": "m_1", "reaction": "love"}},
            "Reaction",
        ),
        ("instagram", {"sender_action": "mark_seen"}, "Read"),
    ],
)
def test_instagram_and_messenger_also_take_meta_native_content(
    client: HubClient, app: dict[str, Any], kind: str, content: dict[str, Any], expected_type: str
) -> None:
    answer = client.send(kind, channel_id(app, kind), RECIPIENTS[kind], content)
    assert answer.status == 200, answer.body
    assert answer.body["type"] == expected_type


def test_meta_native_content_is_rejected_on_other_channels(client: HubClient, app: dict[str, Any]) -> None:
    content = {"attachment": {"type": "image", "payload": {"url": "https://cdn.example.org/p.png"}}}
    assert client.send("whatsapp", channel_id(app, "whatsapp"), RECIPIENTS["whatsapp"], content).status == 400


def test_messenger_rejects_the_like_heart_sticker(client: HubClient, app: dict[str, Any]) -> None:
    content = {"attachment": {"type": "like_heart"}}
    assert (
        client.send("messenger", channel_id(app, "messenger"), RECIPIENTS["messenger"], content).status == 400
    )


def test_web_chatt_without_a_session_answers_session_not_found(
    client: HubClient, app: dict[str, Any]
) -> None:
    answer = client.send("webchatt", channel_id(app, "webchatt"), "v_unknown", TEXT)
    assert answer.status == 200
    assert answer.body["messageId"] is None
    assert answer.body["status"] == "error"
    assert answer.body["errorCode"] == "session_not_found"
    assert answer.body["errorMessage"]


def test_a_visitor_message_opens_a_web_chatt_session(
    hub: HubSandbox, client: HubClient, app: dict[str, Any]
) -> None:
    hub.customer_message(
        channel_id=channel_id(app, "webchatt"), sender="v_cafe01", content={"type": "text", "text": "oi"}
    )
    answer = client.send("webchatt", channel_id(app, "webchatt"), "v_cafe01", TEXT)
    assert answer.body["status"] == "sent"


def test_the_session_control_endpoint_opens_and_closes_sessions(
    hub: HubSandbox, client: HubClient, app: dict[str, Any]
) -> None:
    from tests.hubsandbox.sandbox_support import http

    session = {"channelId": channel_id(app, "webchatt"), "visitorId": "v_beef02"}
    assert http("POST", hub.url + "/_sandbox/webchatt/sessions", body=session).status == 201
    assert client.send("webchatt", session["channelId"], "v_beef02", TEXT).body["status"] == "sent"
    assert http("DELETE", hub.url + "/_sandbox/webchatt/sessions", body=session).status == 200
    assert (
        client.send("webchatt", session["channelId"], "v_beef02", TEXT).body["errorCode"]
        == "session_not_found"
    )


def test_failing_recipients_get_a_provider_error_with_http_200(
    hub: HubSandbox, client: HubClient, app: dict[str, Any]
) -> None:
    hub.configure(
        failingRecipients={
            "5521900000009": {"errorCode": "131026", "errorMessage": "Recipient is not a WhatsApp user"}
        }
    )
    answer = client.send("whatsapp", channel_id(app, "whatsapp"), "5521900000009", TEXT)
    assert answer.status == 200
    assert answer.body == {
        "messageId": None,
        "status": "error",
        "errorCode": "131026",
        "errorMessage": "Recipient is not a WhatsApp user",
    }
    assert hub.accepted_sends() == []


def test_accepted_sends_lists_only_what_the_sandbox_accepted(
    hub: HubSandbox, client: HubClient, app: dict[str, Any]
) -> None:
    wa = channel_id(app, "whatsapp")
    ok = client.send("whatsapp", wa, RECIPIENTS["whatsapp"], TEXT)
    client.send("whatsapp", wa, "+bad", TEXT)
    client.send(
        "sms", channel_id(app, "sms"), RECIPIENTS["sms"], {"videoUrl": "https://cdn.example.org/v.mp4"}
    )
    sends = hub.accepted_sends()
    assert [s["messageId"] for s in sends] == [ok.body["messageId"]]
    assert sends[0]["to"] == RECIPIENTS["whatsapp"]
    assert sends[0]["content"] == TEXT
    assert sends[0]["channelId"] == wa
    assert hub.accepted_sends(channel_id=channel_id(app, "sms")) == []
