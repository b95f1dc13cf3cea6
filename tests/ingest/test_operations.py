"""Operations: the received-events admin (filter, inspect, reprocess) and the webhook URL in the API
(for the Application's admins only)."""

from __future__ import annotations

import uuid

import pytest
from django.urls import reverse

from channels_app.models import Channel, Membership
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


def test_api_lists_the_users_applications_without_the_webhook_url_for_an_agent(
    agent_a, app_a, app_b, settings
):
    settings.PUBLIC_BASE_URL = "https://dash.example.org"

    response = login(agent_a).get("/api/applications/")

    assert response.status_code == 200
    [application] = response.json()
    assert application["id"] == app_a.pk
    assert application["name"] == app_a.name
    assert len(application["channels"]) == app_a.channels.count()
    assert "webhook_url" not in application
    assert str(app_a.public_id) not in response.content.decode()
    assert app_a.hub_api_key not in response.content.decode()
    assert "hub_api_key" not in application


def test_api_gives_the_webhook_url_to_the_applications_admin_only(admin, agent_a, app_a, app_b, settings):
    settings.PUBLIC_BASE_URL = "https://dash.example.org"
    # Ada administers A and only answers B: B's URL stays hidden from her, like from any agent of B.
    Membership.objects.create(user=admin, application=app_b, role=Membership.Role.AGENT)

    response = login(admin).get("/api/applications/")

    assert response.status_code == 200
    by_id = {application["id"]: application for application in response.json()}
    assert by_id[app_a.pk]["webhook_url"] == f"https://dash.example.org/hub/webhook/{app_a.public_id}/"
    assert "webhook_url" not in by_id[app_b.pk]
    assert str(app_b.public_id) not in response.content.decode()


def test_api_gives_a_superuser_every_webhook_url(superuser, app_a, app_b):
    response = login(superuser).get("/api/applications/")

    urls = {application["id"]: application["webhook_url"] for application in response.json()}
    assert urls[app_a.pk].endswith(f"/hub/webhook/{app_a.public_id}/")
    assert urls[app_b.pk].endswith(f"/hub/webhook/{app_b.public_id}/")


def test_api_requires_a_signed_in_user(client, app_a):
    # 401 with `WWW-Authenticate: Bearer`: the API also takes personal tokens (integrations/).
    response = client.get("/api/applications/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
