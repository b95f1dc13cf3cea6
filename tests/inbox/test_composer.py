"""The composer: a reply is stored pending at once; channel limits and windows are enforced first."""

from __future__ import annotations

import pytest
from django.urls import reverse

from conversations.models import Message
from tests.inbox.inbox_support import add_message, ago, make_conversation

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def post_reply(client, conversation, **data):
    data.setdefault("idempotency_key", "key-" + str(conversation.pk) + "-" + str(len(data)))
    return client.post(reverse("reply", args=[conversation.pk]), data, **HTMX)


def test_reply_is_stored_pending_and_its_bubble_comes_back_at_once(agent_a_client, app_a, agent_a):
    conversation = make_conversation(app_a, at=ago(minutes=5))

    response = post_reply(agent_a_client, conversation, text="Olá!\nJá verifico.", idempotency_key="k-1")
    html = response.content.decode()

    reply = Message.objects.get(direction=Message.Direction.OUTBOUND)
    assert response.status_code == 200
    assert html.startswith("<!--live-->")
    assert f'id="msg-{reply.pk}"' in html
    assert 'data-status="pending"' in html
    assert "Olá!<br>Já verifico." in html
    assert reply.content == {"text": "Olá!\nJá verifico."}
    assert reply.author == agent_a
    assert reply.status == Message.Status.PENDING


def test_the_same_form_sent_twice_stores_one_reply(agent_a_client, app_a):
    conversation = make_conversation(app_a, at=ago(minutes=5))

    first = post_reply(agent_a_client, conversation, text="Once", idempotency_key="same-key")
    second = post_reply(agent_a_client, conversation, text="Once", idempotency_key="same-key")

    assert first.status_code == second.status_code == 200
    assert Message.objects.filter(direction=Message.Direction.OUTBOUND).count() == 1


def test_text_longer_than_the_channel_allows_is_refused_with_the_reason(agent_a_client, app_a):
    conversation = make_conversation(app_a, kind="sms")

    response = post_reply(agent_a_client, conversation, text="x" * 1601)

    assert response.status_code == 422
    assert f'id="composer-error-{conversation.pk}"' in response.content.decode()
    assert "at most 1600" in response.content.decode()
    assert not Message.objects.filter(direction=Message.Direction.OUTBOUND).exists()


def test_media_type_the_channel_cannot_carry_is_refused(agent_a_client, app_a):
    conversation = make_conversation(app_a, kind="sms")

    response = post_reply(
        agent_a_client, conversation, media_url="https://cdn.example.org/v.mp4", media_type="video"
    )

    assert response.status_code == 422
    assert "can&#x27;t be sent on SMS" in response.content.decode()


def test_media_by_url_goes_out_with_the_text_as_caption(agent_a_client, app_a):
    conversation = make_conversation(app_a, at=ago(minutes=5))

    response = post_reply(
        agent_a_client,
        conversation,
        text="A etiqueta",
        media_url="https://cdn.example.org/label.png",
        media_type="image",
    )

    assert response.status_code == 200
    reply = Message.objects.get(direction=Message.Direction.OUTBOUND)
    assert reply.content == {"imageUrl": "https://cdn.example.org/label.png", "text": "A etiqueta"}
    assert 'src="https://cdn.example.org/label.png"' in response.content.decode()


def test_free_text_outside_the_whatsapp_window_is_refused(agent_a_client, app_a):
    conversation = make_conversation(app_a, at=ago(hours=25))

    response = post_reply(agent_a_client, conversation, text="Still there?")

    assert response.status_code == 422
    assert "window" in response.content.decode()
    assert not Message.objects.filter(direction=Message.Direction.OUTBOUND).exists()


def test_a_template_goes_out_when_the_window_is_closed(agent_a_client, app_a):
    conversation = make_conversation(app_a, at=ago(hours=25))
    template = conversation.channel.templates.create(
        hub_template_id="9b1e4c2a-55f0-4e3b-8d7a-2c6f1e0a9d34", name="order_shipped", language="pt_BR",
        category="UTILITY", body="Olá {{1}}, seu pedido {{2}} saiu.",
    )  # fmt: skip

    response = post_reply(
        agent_a_client, conversation, template=template.pk, template_params=["Joana", "#A-7781"]
    )

    assert response.status_code == 200
    reply = Message.objects.get(direction=Message.Direction.OUTBOUND)
    assert reply.content == {
        "template": {
            "id": "9b1e4c2a-55f0-4e3b-8d7a-2c6f1e0a9d34",
            "components": [
                {
                    "type": "body",
                    "parameters": [{"type": "text", "text": "Joana"}, {"type": "text", "text": "#A-7781"}],
                }
            ],
        }
    }
    assert "Olá Joana, seu pedido #A-7781 saiu." in response.content.decode()  # the text, not the id


def test_without_javascript_the_reply_redirects_back_to_the_thread(agent_a_client, app_a):
    conversation = make_conversation(app_a, at=ago(minutes=5))

    response = agent_a_client.post(
        reverse("reply", args=[conversation.pk]), {"text": "Hi", "idempotency_key": "plain-1"}
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("conversation", args=[conversation.pk])


def test_retry_puts_a_failed_reply_back_to_pending(agent_a_client, app_a, agent_a):
    conversation = make_conversation(app_a, at=ago(minutes=5))
    failed = add_message(
        conversation,
        content={"text": "Hello"},
        direction=Message.Direction.OUTBOUND,
        status="failed",
        author=agent_a,
        error_message="Temporary failure",
    )

    response = agent_a_client.post(reverse("message_retry", args=[conversation.pk, failed.pk]), **HTMX)

    failed.refresh_from_db()
    assert response.status_code == 200
    assert failed.status == Message.Status.PENDING
    assert f'id="msg-{failed.pk}"' in response.content.decode()
    assert 'data-status="pending"' in response.content.decode()


def test_retrying_a_reply_that_did_not_fail_says_why(agent_a_client, app_a, agent_a):
    conversation = make_conversation(app_a, at=ago(minutes=5))
    delivered = add_message(
        conversation, content={"text": "Hello"}, direction=Message.Direction.OUTBOUND, status="delivered"
    )

    response = agent_a_client.post(reverse("message_retry", args=[conversation.pk, delivered.pk]), **HTMX)

    assert response.status_code == 422
    assert 'id="inbox-toast"' in response.content.decode()
    assert "Only a failed reply" in response.content.decode()
