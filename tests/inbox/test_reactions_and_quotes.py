"""An agent reacts to a customer's message and quotes a message in a reply."""

from __future__ import annotations

import pytest
from django.urls import reverse

from conversations.models import Conversation, Message
from tests.inbox.inbox_support import add_message, ago, make_conversation

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def _customer_says(conversation, text: str, hub_id: str) -> Message:
    message = add_message(conversation, content={"type": "text", "text": text})
    Message.objects.filter(pk=message.pk).update(hub_message_id=hub_id)
    message.refresh_from_db()
    return message


def _react(client, message: Message, emoji: str):
    url = reverse("message_react", args=[message.conversation_id, message.pk])
    return client.post(url, {"emoji": emoji}, **HTMX)


def test_an_agent_reaction_is_sent_and_shows_on_the_customers_bubble_only(agent_a_client, app_a):
    conversation = make_conversation(app_a, at=ago(minutes=5), text="Oi")
    target = _customer_says(conversation, "Chegou!", "wamid.c1")
    before = Conversation.objects.get(pk=conversation.pk).last_message_id

    response = _react(agent_a_client, target, "👍")

    assert response.status_code == 200
    html = response.content.decode()
    assert f'id="msg-{target.pk}"' in html and 'data-who="agent"' in html and "👍" in html
    reaction = Message.objects.get(direction="out")
    assert reaction.content == {"reaction": {"messageId": "wamid.c1", "emoji": "👍"}}
    assert reaction.status == "pending"  # the worker sends it like any reply
    assert Conversation.objects.get(pk=conversation.pk).last_message_id == before  # no bump
    page = agent_a_client.get(reverse("conversation", args=[conversation.pk])).content.decode()
    assert f'id="msg-{reaction.pk}"' not in page  # no bubble of its own
    assert page.count('data-who="agent"') == 1


def test_an_agent_reaction_outside_the_palette_or_on_a_text_only_channel_is_refused(agent_a_client, app_a):
    conversation = make_conversation(app_a, at=ago(minutes=5), text="Oi")
    target = _customer_says(conversation, "Oi", "wamid.c2")
    sms = make_conversation(app_a, kind="sms", text=None)
    sms_target = _customer_says(sms, "Hi", "sms-1")

    odd = _react(agent_a_client, target, "<b>x</b>")
    unsupported = _react(agent_a_client, sms_target, "👍")

    assert odd.status_code == unsupported.status_code == 422
    assert "Pick one of the offered reactions." in odd.content.decode()
    assert "Reactions can&#x27;t be sent on SMS." in unsupported.content.decode()
    assert not Message.objects.filter(direction="out").exists()
    target.refresh_from_db()
    assert target.reactions == {}


def test_reacting_to_another_applications_message_is_404(agent_a_client, app_b):
    conversation = make_conversation(app_b, text=None)
    target = _customer_says(conversation, "B's", "wamid.b1")

    assert _react(agent_a_client, target, "👍").status_code == 404
    assert not Message.objects.filter(direction="out").exists()


def test_a_quote_reply_sends_reply_to_and_shows_the_quote_above_the_bubble(agent_a_client, app_a):
    conversation = make_conversation(app_a, at=ago(minutes=5), text="Oi")
    quoted = _customer_says(conversation, "Qual o prazo?", "wamid.q1")

    response = agent_a_client.post(
        reverse("reply", args=[conversation.pk]),
        {"text": "Dois dias", "reply_to": str(quoted.pk), "idempotency_key": "q-1"},
        **HTMX,
    )

    assert response.status_code == 200
    reply = Message.objects.get(direction="out")
    assert reply.content == {"text": "Dois dias", "replyTo": "wamid.q1"}
    assert 'class="msg-quote"' in response.content.decode()
    assert "Qual o prazo?" in response.content.decode()


def test_quoting_a_message_of_another_conversation_or_application_stores_nothing(
    agent_a_client, app_a, app_b
):
    conversation = make_conversation(app_a, at=ago(minutes=5), text="Oi")
    foreign = _customer_says(make_conversation(app_b, text=None), "B", "wamid.b2")
    other_thread = _customer_says(make_conversation(app_a, text=None), "A2", "wamid.a2")

    for target in (foreign, other_thread):
        response = agent_a_client.post(
            reverse("reply", args=[conversation.pk]),
            {"text": "x", "reply_to": str(target.pk), "idempotency_key": f"q-{target.pk}"},
            **HTMX,
        )
        assert response.status_code == 404
    assert not Message.objects.filter(direction="out").exists()
