"""The webhook's per-process cache of secrets and channels never costs an event."""

import json
import time
import uuid

import pytest

from channels_app.actions.webhooks import do_store_signing_secret
from channels_app.hub.signatures import sign
from channels_app.models import Channel
from conversations.models import Message, WebhookEvent


def _post(client, app, body: bytes, secret: str):
    return client.post(
        f"/hub/webhook/{app.public_id}/",
        data=body,
        content_type="application/json",
        HTTP_X_HUB_SIGNATURE=sign(body, secret),
    )


def _event(channel_id, n: int) -> bytes:
    event = {
        "eventType": "Message",
        "channelId": str(channel_id),
        "messageId": f"wamid.cache.{n}",
        "from": "5521987654321",
        "timestamp": int(time.time()),
        "channel": "whatsapp",
        "content": {"type": "text", "text": f"message {n}"},
    }
    return json.dumps(event, separators=(",", ":")).encode()


@pytest.fixture
def cached(settings):
    settings.WEBHOOK_ROUTE_CACHE_SECONDS = 60


@pytest.mark.django_db
def test_a_secret_stored_after_the_route_was_cached_is_accepted_at_once(cached, client, app_a):
    do_store_signing_secret(application=app_a, hub_webhook_id="wh", secret="whsec_first")
    whatsapp = app_a.channels.get(kind="whatsapp")
    assert _post(client, app_a, _event(whatsapp.hub_channel_id, 1), "whsec_first").status_code == 200

    do_store_signing_secret(application=app_a, hub_webhook_id="wh", secret="whsec_rotated")
    assert _post(client, app_a, _event(whatsapp.hub_channel_id, 2), "whsec_rotated").status_code == 200

    assert sorted(Message.objects.values_list("preview", flat=True)) == ["message 1", "message 2"]


@pytest.mark.django_db
def test_a_channel_registered_after_the_route_was_cached_receives_at_once(cached, client, app_a):
    do_store_signing_secret(application=app_a, hub_webhook_id="wh", secret="whsec_k")
    whatsapp = app_a.channels.get(kind="whatsapp")
    assert _post(client, app_a, _event(whatsapp.hub_channel_id, 1), "whsec_k").status_code == 200
    new = Channel.objects.create(
        application=app_a, hub_channel_id=uuid.uuid4(), kind="whatsapp", display_name="New"
    )

    assert _post(client, app_a, _event(new.hub_channel_id, 2), "whsec_k").status_code == 200

    assert Message.objects.get(hub_message_id="wamid.cache.2").channel == new
    assert not WebhookEvent.objects.filter(outcome=WebhookEvent.Outcome.IGNORED).exists()


@pytest.mark.django_db
def test_a_wrong_signature_is_still_refused_with_the_cache_on(cached, client, app_a):
    do_store_signing_secret(application=app_a, hub_webhook_id="wh", secret="whsec_k")
    whatsapp = app_a.channels.get(kind="whatsapp")
    assert _post(client, app_a, _event(whatsapp.hub_channel_id, 1), "whsec_k").status_code == 200
    assert _post(client, app_a, _event(whatsapp.hub_channel_id, 2), "whsec_wrong").status_code == 401
    assert Message.objects.count() == 1
