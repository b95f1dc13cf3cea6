"""End to end with the Hub sandbox: it verifies our endpoint, signs deliveries, and we store them.

The sandbox posts over real HTTP to pytest-django's live server (the Django view door).
"""

from __future__ import annotations

import json

import pytest
from django.db import transaction

from channels_app.actions.webhooks import do_connect_webhooks
from channels_app.hub import HubClient
from channels_app.models import SigningSecret
from conversations.actions.statuses import do_store_send_result
from conversations.models import Contact, Conversation, Message, WebhookEvent
from tests.conftest import register_in_sandbox
from tests.support import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def connected(live_server, hub_sandbox, app_a, settings):
    """app_a registered in the sandbox with both webhooks created, signed and verified against us."""
    settings.PUBLIC_BASE_URL = live_server.url
    register_in_sandbox(hub_sandbox, app_a)
    hooks = do_connect_webhooks(application=app_a)
    return hooks


def test_the_sandbox_handshake_marks_both_webhooks_verified(connected, hub_sandbox, app_a):
    assert {hook.event_type for hook in connected} == {"Message", "MessageStatus"}
    assert all(hook.is_verified for hook in connected)
    verifications = hub_sandbox.verifications()
    assert len(verifications) == 2
    for check in verifications:
        assert check["statusCode"] == 200
        assert check["responseBody"] == json.dumps(check["token"])
        assert check["isVerified"] is True
    hook_ids = [hook.hub_id for hook in connected]
    assert (
        SigningSecret.objects.filter(application=app_a, active=True, hub_webhook_id__in=hook_ids).count() == 2
    )
    assert not WebhookEvent.objects.exists()  # a handshake is not an event


def test_a_customer_writing_in_the_sandbox_arrives_signed_and_is_stored(connected, hub_sandbox, whatsapp_a):
    sent = hub_sandbox.customer_message(channel_id=str(whatsapp_a.hub_channel_id))

    assert [d["statusCode"] for d in sent["deliveries"]] == [200]
    assert hub_sandbox.webhook_deliveries()[-1]["signature"]  # signed by the sandbox, verified by us
    message = Message.objects.get(hub_message_id=sent["messageId"])
    assert message.content == sent["event"]["content"]
    assert message.conversation.contact.external_id == sent["event"]["from"]
    stored = WebhookEvent.objects.get()
    assert stored.outcome == WebhookEvent.Outcome.PROCESSED
    assert stored.headers["x-hub-signature"].startswith("t=")


def test_every_kind_of_customer_message_the_sandbox_sends_is_stored_with_a_preview(
    connected, hub_sandbox, app_a
):
    for channel in app_a.channels.all():
        for _ in range(4):
            sent = hub_sandbox.customer_message(channel_id=str(channel.hub_channel_id))
            assert [d["statusCode"] for d in sent["deliveries"]] == [200], sent["deliveries"]

    assert Message.objects.count() == 6 * 4
    assert not Message.objects.filter(preview="").exists()
    assert Conversation.objects.count() == Contact.objects.count()


def test_duplicated_deliveries_from_the_sandbox_store_one_message(connected, hub_sandbox, whatsapp_a):
    hub_sandbox.configure(webhookDuplicateRate=1.0)

    sent = hub_sandbox.customer_message(channel_id=str(whatsapp_a.hub_channel_id))

    assert len(sent["deliveries"]) >= 1
    wait_for(lambda: WebhookEvent.objects.count() >= 2, timeout=5, what="the duplicated delivery")
    assert Message.objects.filter(hub_message_id=sent["messageId"]).count() == 1
    assert Conversation.objects.get().unread_count == 1


def test_reordered_statuses_of_a_reply_end_at_read(connected, hub_sandbox, app_a, whatsapp_a):
    hub_sandbox.configure(webhookReorder=True)
    customer = hub_sandbox.customer_message(channel_id=str(whatsapp_a.hub_channel_id))
    conversation = Conversation.objects.get()
    reply = Message.objects.create(
        conversation=conversation,
        channel=whatsapp_a,
        direction=Message.Direction.OUTBOUND,
        content={"text": "Já verifico!"},
        status=Message.Status.PENDING,
    )

    result = HubClient.for_application(app_a).send_message(
        channel_kind="whatsapp",
        channel_id=str(whatsapp_a.hub_channel_id),
        to=customer["event"]["from"],
        content={"text": "Já verifico!"},
    )
    with transaction.atomic():
        locked = Message.objects.select_for_update().select_related("channel").get(pk=reply.pk)
        do_store_send_result(message=locked, hub_message_id=result.message_id, status=result.status)

    # The sandbox delivers read, delivered, sent — newest first — and all are kept.
    assert wait_for(lambda: reply.status_changes.filter(source="webhook").count() >= 3, timeout=5)
    reply.refresh_from_db()
    assert reply.status == Message.Status.READ
    assert {"sent", "delivered", "read"} <= set(reply.status_changes.values_list("status", flat=True))
