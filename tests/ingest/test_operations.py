"""Operations: the received-events admin (filter, inspect, reprocess) and the webhook URL in the API."""

from __future__ import annotations

import uuid

import pytest
from django.urls import reverse

from channels_app.models import Channel
from conversations.models import Message, WebhookEvent
from tests.conftest import login
from tests.ingest.ingest_support import message_event, post_event

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:conversations_webhookevent_changelist"


@pytest.fixture
def deliveries(hub, app_a, whatsapp_a):
    """One processed, one invalid and one ignored (unregistered channel) delivery."""
    post_event(hub, app_a, message_event(whatsapp_a, content={"type": "text", "text": "<b>hi</b>"}))
    post_event(hub, app_a, body=b'{"eventType": "Message", "channelId": 5}')
    stray = message_event(whatsapp_a, message_id="wamid.stray")
    stray["channelId"] = "0d9e8f7a-6b5c-4d3e-2f1a-0b9c8d7e6f5a"
    post_event(hub, app_a, stray)
    return {event.outcome: event for event in WebhookEvent.objects.all()}


def test_admin_lists_received_events_filtered_by_outcome(superuser, deliveries):
    client = login(superuser)

    everything = client.get(reverse(CHANGELIST))
    invalid_only = client.get(reverse(CHANGELIST), {"outcome__exact": "invalid"})

    assert everything.status_code == 200
    assert everything.context["cl"].result_count == 3
    assert [e.outcome for e in invalid_only.context["cl"].result_list] == ["invalid"]
    assert b"channelId: expected a UUID" in invalid_only.content


def test_admin_shows_the_raw_body_escaped(superuser, deliveries):
    processed = deliveries["processed"]

    page = login(superuser).get(reverse("admin:conversations_webhookevent_change", args=[processed.pk]))

    assert page.status_code == 200
    assert b"&lt;b&gt;hi&lt;/b&gt;" in page.content
    assert b"<b>hi</b>" not in page.content


def test_admin_reprocess_applies_an_event_once_its_channel_is_registered(superuser, app_a, deliveries):
    ignored = deliveries["ignored"]
    Channel.objects.create(
        application=app_a,
        hub_channel_id=uuid.UUID("0d9e8f7a-6b5c-4d3e-2f1a-0b9c8d7e6f5a"),
        kind="whatsapp",
        display_name="Second number",
    )

    response = login(superuser).post(
        reverse(CHANGELIST),
        {"action": "reprocess", "_selected_action": [ignored.pk, deliveries["invalid"].pk]},
        follow=True,
    )

    assert response.status_code == 200
    assert "Reprocessed: 1 invalid, 1 processed." in [str(m) for m in response.context["messages"]]
    ignored.refresh_from_db()
    assert (ignored.outcome, ignored.reprocessed_count) == ("processed", 1)
    assert Message.objects.filter(hub_message_id="wamid.stray").exists()


def test_admin_events_are_for_staff_with_permission_only(agent_a, deliveries):
    assert login(agent_a).get(reverse(CHANGELIST)).status_code == 302  # to the admin login


# --- API ------------------------------------------------------------------------------------------


def test_api_lists_the_users_applications_with_their_webhook_url(agent_a, app_a, app_b, settings):
    settings.PUBLIC_BASE_URL = "https://dash.example.org"

    response = login(agent_a).get("/api/applications/")

    assert response.status_code == 200
    [application] = response.json()
    assert application["id"] == app_a.pk
    assert application["webhook_url"] == f"https://dash.example.org/hub/webhook/{app_a.public_id}/"
    assert len(application["channels"]) == app_a.channels.count()
    assert app_a.hub_api_key not in response.content.decode()
    assert "hub_api_key" not in application


def test_api_requires_a_signed_in_user(client, app_a):
    assert client.get("/api/applications/").status_code == 403
