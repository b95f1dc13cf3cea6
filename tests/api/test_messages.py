"""Messages through the API: pages both ways with status history and attempts, sending a reply under an
Idempotency-Key (same key and body: the same reply, 200; another body: 422), retrying a failed one."""

from __future__ import annotations

import pytest
from django.utils import timezone

from conversations.models import Message, MessageStatusChange, SendAttempt
from tests.api.api_support import error_of
from tests.inbox.inbox_support import add_message, make_conversation

pytestmark = pytest.mark.django_db


def messages_path(conversation) -> str:
    return f"/api/v1/conversations/{conversation.pk}/messages/"


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


@pytest.fixture
def long_thread(conversation_a) -> list[Message]:
    first = list(conversation_a.messages.all())
    more = [add_message(conversation_a, content={"type": "text", "text": f"message {i}"}) for i in range(6)]
    return first + more


def test_pages_go_back_with_older_and_forward_with_newer(api_agent_a, conversation_a, long_thread):
    path = messages_path(conversation_a)
    expected = [m.pk for m in long_thread]

    newest = api_agent_a.get(path, {"limit": 3}).json()
    assert [m["id"] for m in newest["results"]] == expected[-3:]
    middle = api_agent_a.get(path, {"limit": 3, "before": newest["older"]}).json()
    assert [m["id"] for m in middle["results"]] == expected[-6:-3]
    oldest = api_agent_a.get(path, {"limit": 3, "before": middle["older"]}).json()
    assert [m["id"] for m in oldest["results"]] == expected[:-6]
    assert oldest["older"] is None

    nothing_new = api_agent_a.get(path, {"after": newest["newer"]}).json()
    assert nothing_new["results"] == [] and nothing_new["newer"] == newest["newer"]
    arrived = add_message(conversation_a, content={"type": "text", "text": "new"})
    assert ids(api_agent_a.get(path, {"after": newest["newer"]})) == [arrived.pk]


@pytest.mark.parametrize(
    "params",
    [
        {"before": "x"},
        {"after": "bWVzc2FnZXMtYmVmb3JlOjE"},
        {"before": "bWVzc2FnZXMtYmVmb3JlOi0x"},
        {"limit": "lots"},
    ],
)
def test_bad_page_parameters_are_a_400(api_agent_a, conversation_a, params):
    response = api_agent_a.get(messages_path(conversation_a), params)

    assert response.status_code == 400
    assert set(error_of(response)["fields"]) <= {"before", "after", "limit"}


def test_a_reply_comes_with_its_status_history_and_attempts(api_agent_a, conversation_a, agent_a):
    reply = add_message(
        conversation_a, content={"text": "on its way"}, direction="out", status="delivered", author=agent_a
    )
    now = timezone.now()
    SendAttempt.objects.create(message=reply, number=1, started_at=now, finished_at=now, outcome="accepted")
    MessageStatusChange.objects.create(
        application=conversation_a.application,
        message=reply,
        status="delivered",
        occurred_at=now,
        applied=True,
    )

    body = api_agent_a.get(f"{messages_path(conversation_a)}{reply.pk}/").json()

    assert body["author"]["username"] == "alice"
    assert [c["status"] for c in body["status_history"]] == ["delivered"]
    assert body["status_history"][0]["source"] == "webhook"
    assert [a["outcome"] for a in body["attempts"]] == ["accepted"]
    listed = api_agent_a.get(messages_path(conversation_a)).json()["results"][-1]
    assert listed == body


def test_another_tenants_messages_are_a_404(api_agent_b, conversation_a):
    message = conversation_a.messages.first()

    assert api_agent_b.get(messages_path(conversation_a)).status_code == 404
    assert api_agent_b.get(f"{messages_path(conversation_a)}{message.pk}/").status_code == 404


def test_a_message_of_another_conversation_is_a_404(api_agent_a, conversation_a, app_a):
    other = make_conversation(app_a)

    response = api_agent_a.get(f"{messages_path(conversation_a)}{other.messages.first().pk}/")

    assert response.status_code == 404


# --- sending ----------------------------------------------------------------------------------------


def send(api, conversation, body, key="key-1"):
    return api.post(messages_path(conversation), body, **{"Idempotency-Key": key})


def test_a_reply_is_stored_pending_for_the_worker(api_agent_a, conversation_a, agent_a):
    response = send(api_agent_a, conversation_a, {"text": "Your order ships today."})

    assert response.status_code == 201
    body = response.json()
    assert (body["status"], body["direction"], body["content"]) == (
        "pending",
        "out",
        {"text": "Your order ships today."},
    )
    stored = Message.objects.get(pk=body["id"])
    assert stored.author == agent_a and stored.next_attempt_at is not None


def test_the_same_key_and_body_is_the_same_reply(api_agent_a, conversation_a):
    first = send(api_agent_a, conversation_a, {"text": "Once"})
    again = send(api_agent_a, conversation_a, {"text": "Once"})

    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    assert Message.objects.filter(direction="out").count() == 1


def test_the_same_key_with_another_body_is_refused_and_stores_nothing(api_agent_a, conversation_a):
    send(api_agent_a, conversation_a, {"text": "Once"})

    refused = send(api_agent_a, conversation_a, {"text": "Something else"})

    assert refused.status_code == 422
    assert error_of(refused)["code"] == "idempotency_key_reused"
    assert list(Message.objects.filter(direction="out").values_list("content", flat=True)) == [
        {"text": "Once"}
    ]


def test_the_same_key_on_another_conversation_is_refused(api_agent_a, conversation_a, app_a):
    other = make_conversation(app_a)
    send(api_agent_a, conversation_a, {"text": "Once"})

    refused = send(api_agent_a, other, {"text": "Once"})

    assert refused.status_code == 422
    assert not other.messages.filter(direction="out").exists()


def test_keys_belong_to_their_user(api_agent_a, api_admin, conversation_a):
    mine = send(api_agent_a, conversation_a, {"text": "Hello"}, key="shared")
    theirs = send(api_admin, conversation_a, {"text": "Hello"}, key="shared")

    assert (mine.status_code, theirs.status_code) == (201, 201)
    assert mine.json()["id"] != theirs.json()["id"]


@pytest.mark.parametrize("key", [None, "", "   ", "x" * 256, "line\nbreak"])
def test_a_reply_needs_a_valid_idempotency_key(api_agent_a, conversation_a, key):
    headers = {} if key is None else {"Idempotency-Key": key}

    response = api_agent_a.post(messages_path(conversation_a), {"text": "hi"}, **headers)

    assert response.status_code == 400
    assert list(error_of(response)["fields"]) == ["Idempotency-Key"]
    assert not Message.objects.filter(direction="out").exists()


def test_a_reply_to_another_tenants_conversation_is_a_404_and_stores_nothing(api_agent_b, conversation_a):
    response = send(api_agent_b, conversation_a, {"text": "not mine"})

    assert response.status_code == 404
    assert not Message.objects.filter(direction="out").exists()


@pytest.mark.parametrize(
    ("kind", "body"),
    [
        ("sms", {"template_id": "order_update"}),  # templates are WhatsApp's
        ("sms", {"text": "x" * 1601}),  # over SMS's 1,600 characters
        ("whatsapp", {}),  # nothing to send
        ("whatsapp", {"template_id": "t1", "media_url": "https://cdn.example.com/a.jpg"}),  # two at once
        ("whatsapp", {"media_url": "javascript:alert(1)"}),
    ],
)
def test_content_the_channel_cannot_carry_is_a_422_and_stores_nothing(api_agent_a, app_a, kind, body):
    conversation = make_conversation(app_a, kind=kind)

    response = send(api_agent_a, conversation, body)

    assert response.status_code == 422, response.content
    assert error_of(response)["code"] == "unprocessable"
    assert not Message.objects.filter(direction="out").exists()


TEMPLATE = {
    "hub_template_id": "9b1e4c2a-55f0-4e3b-8d7a-2c6f1e0a9d34",
    "name": "order_shipped",
    "language": "pt_BR",
    "category": "UTILITY",
    "body": "Olá {{1}}, seu pedido {{2}} saiu hoje.",
}


def test_a_template_of_the_channels_library_is_sent_with_its_text(api_agent_a, conversation_a):
    conversation_a.channel.templates.create(**TEMPLATE)

    response = send(
        api_agent_a,
        conversation_a,
        {"template_id": TEMPLATE["hub_template_id"], "template_params": ["Ana", "4411"]},
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["content"]["template"]["id"] == TEMPLATE["hub_template_id"]
    assert body["preview"] == "Olá Ana, seu pedido 4411 saiu hoje."  # what the bubble and the row show
    assert Message.objects.get(pk=body["id"]).template["name"] == "order_shipped"


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({"template_id": "not-in-the-library", "template_params": ["Ana", "4411"]}, "templates"),
        ({"template_id": TEMPLATE["hub_template_id"], "template_params": ["Ana"]}, "2"),  # one missing
    ],
)
def test_a_template_outside_the_library_or_unfilled_is_a_422(api_agent_a, conversation_a, app_b, body, says):
    conversation_a.channel.templates.create(**TEMPLATE)
    # Another tenant's library holds the id asked for: it is still not this channel's.
    app_b.channels.get(kind="whatsapp").templates.create(
        **{**TEMPLATE, "hub_template_id": "not-in-the-library"}
    )

    response = send(api_agent_a, conversation_a, body)

    assert response.status_code == 422, response.content
    assert says in error_of(response)["message"]
    assert not Message.objects.filter(direction="out").exists()


def test_a_closed_whatsapp_window_is_a_422(api_agent_a, app_a):
    conversation = make_conversation(app_a, at=timezone.now() - timezone.timedelta(days=2))

    response = send(api_agent_a, conversation, {"text": "late"})

    assert response.status_code == 422
    assert "24" in error_of(response)["message"]


def test_a_replayed_key_still_answers_after_the_window_closed(api_agent_a, conversation_a):
    first = send(api_agent_a, conversation_a, {"text": "in time"})
    conversation_a.last_inbound_at = timezone.now() - timezone.timedelta(days=2)
    conversation_a.save(update_fields=["last_inbound_at"])

    again = send(api_agent_a, conversation_a, {"text": "in time"})

    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]


# --- retry ------------------------------------------------------------------------------------------


def test_a_failed_reply_is_sent_again(api_agent_a, conversation_a, agent_a):
    failed = add_message(
        conversation_a,
        content={"text": "hi"},
        direction="out",
        status="failed",
        author=agent_a,
        error_code="131026",
    )

    response = api_agent_a.post(f"{messages_path(conversation_a)}{failed.pk}/retry/")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "pending" and body["error_code"] == ""
    assert [c["source"] for c in body["status_history"]] == ["retry"]


def test_only_a_failed_reply_can_be_retried(api_agent_a, conversation_a, agent_a):
    delivered = add_message(
        conversation_a, content={"text": "hi"}, direction="out", status="delivered", author=agent_a
    )

    response = api_agent_a.post(f"{messages_path(conversation_a)}{delivered.pk}/retry/")

    assert response.status_code == 422
    delivered.refresh_from_db()
    assert delivered.status == "delivered"


def test_another_tenant_cannot_retry(api_agent_b, conversation_a, agent_a):
    failed = add_message(
        conversation_a, content={"text": "hi"}, direction="out", status="failed", author=agent_a
    )

    assert api_agent_b.post(f"{messages_path(conversation_a)}{failed.pk}/retry/").status_code == 404
    failed.refresh_from_db()
    assert failed.status == "failed"
