"""Webhooks: the whole connect flow against the sandbox, the Hub's logs with retries, and recovery."""

import uuid

import pytest
from django.urls import reverse

from channels_app.hub import HubClient
from channels_app.hub.capabilities import ChannelKind
from channels_app.models import Application, AuditEntry, HubWebhook, SigningSecret
from conversations.models import Message
from tests.conftest import login, register_in_sandbox

KEY = "hubkey-delta-4242-4242-4242-dddd"


@pytest.mark.django_db(transaction=True)
def test_admin_connects_an_application_end_to_end_and_a_customer_message_arrives_signed(
    admin, hub_sandbox, live_server, settings
):
    """Create the Application with its key, register six channels, connect webhooks: the sandbox
    verifies both endpoints by the handshake, and a customer's signed message is then accepted."""
    settings.PUBLIC_BASE_URL = live_server.url
    channel_ids = {kind: uuid.uuid4() for kind in ChannelKind}
    # What the admin did in the Hub's own dashboard: an Application with a key and six channels.
    hub_sandbox.add_application(
        name="Delta",
        api_key=KEY,
        channels=[
            {"id": str(cid), "kind": kind.value, "name": kind.label} for kind, cid in channel_ids.items()
        ],
    )
    client = login(admin)

    response = client.post(reverse("settings:application_create"), {"name": "Delta", "api_key": KEY})
    assert response.status_code == 302, response.content.decode()
    application = Application.objects.get(name="Delta")
    for kind, channel_id in channel_ids.items():
        response = client.post(
            reverse("settings:channel_create", args=[application.pk]),
            {"hub_channel_id": str(channel_id), "kind": kind.value, "display_name": f"Delta {kind.label}"},
        )
        assert response.status_code == 302, response.content.decode()
    assert application.channels.count() == 6

    response = client.post(reverse("settings:webhooks_connect", args=[application.pk]), follow=True)

    body = response.content.decode()
    assert "Webhooks connected and verified by the Hub; signatures are required." in body
    hooks = {hook.event_type: hook for hook in application.hub_webhooks.all()}
    assert set(hooks) == {"Message", "MessageStatus"}
    assert all(hook.is_verified and hook.verified_at for hook in hooks.values())
    our_url = f"{live_server.url}/hub/webhook/{application.public_id}/"
    verifications = hub_sandbox.verifications()
    assert {v["endpoint"] for v in verifications} == {our_url}
    assert [v["isVerified"] for v in verifications] == [True, True]
    assert SigningSecret.objects.filter(application=application, active=True).count() == 2
    assert body.count('<span class="pill ok">verified</span>') == 2

    sent = hub_sandbox.customer_message(
        channel_id=str(channel_ids[ChannelKind.WHATSAPP]),
        sender="5521987654321",
        content={"type": "text", "text": "Oi!"},
    )

    [delivery] = sent["deliveries"]
    assert delivery["statusCode"] == 200
    assert hub_sandbox.webhook_deliveries()[-1]["signature"].startswith("t=")
    message = Message.objects.get(hub_message_id=sent["messageId"])
    assert message.channel.hub_channel_id == channel_ids[ChannelKind.WHATSAPP]
    assert message.direction == Message.Direction.INBOUND


@pytest.mark.django_db
def test_connecting_again_is_idempotent_and_audited_without_secrets(
    admin, admin_client_a, app_a, hub_sandbox, receiver
):
    register_in_sandbox(hub_sandbox, app_a)

    admin_client_a.post(reverse("settings:webhooks_connect", args=[app_a.pk]))
    first = {h.event_type: h.hub_id for h in app_a.hub_webhooks.all()}
    admin_client_a.post(reverse("settings:webhooks_connect", args=[app_a.pk]))

    assert {h.event_type: h.hub_id for h in app_a.hub_webhooks.all()} == first
    assert HubClient.for_application(app_a).list_webhooks().total == 2  # none created twice at the Hub
    first_entry, second_entry = AuditEntry.objects.filter(action="webhooks.connected").order_by("id")
    assert first_entry.changes["Message signing secret"] == {"from": None, "to": "changed"}
    assert first_entry.changes["Message is_verified"] == {"from": None, "to": True}
    assert second_entry.changes == {}  # nothing changed the second time
    secrets = list(SigningSecret.objects.values_list("secret", flat=True))
    assert not any(secret in str(first_entry.changes) for secret in secrets)


@pytest.mark.django_db
def test_a_webhook_the_hub_could_not_verify_is_said_and_connecting_again_reverifies(
    admin_client_a, app_a, hub_sandbox, settings, receiver
):
    register_in_sandbox(hub_sandbox, app_a)
    settings.PUBLIC_BASE_URL = "http://127.0.0.1:9"  # nothing listens: the handshake fails

    response = admin_client_a.post(reverse("settings:webhooks_connect", args=[app_a.pk]), follow=True)

    assert "the Hub could not verify Message, MessageStatus" in response.content.decode()
    assert not app_a.hub_webhooks.filter(is_verified=True).exists()

    settings.PUBLIC_BASE_URL = receiver.url  # fixed (e.g. the proxy now forwards): press the button again
    response = admin_client_a.post(reverse("settings:webhooks_connect", args=[app_a.pk]), follow=True)

    assert "Webhooks connected and verified" in response.content.decode()
    assert app_a.hub_webhooks.filter(is_verified=True).count() == 2
    assert app_a.hub_webhooks.filter(endpoint__startswith=receiver.url).count() == 2


@pytest.mark.django_db
def test_connect_with_a_refused_key_shows_the_hub_error(admin_client_a, app_a, hub_sandbox):
    response = admin_client_a.post(reverse("settings:webhooks_connect", args=[app_a.pk]), follow=True)
    assert "Could not connect the webhooks. HTTP 401" in response.content.decode()
    assert not HubWebhook.objects.exists()


@pytest.fixture
def failing_deliveries(admin_client_a, app_a, hub_sandbox, receiver):
    """App A connected to a receiver that is down: 23 customer messages, 23 failed deliveries."""
    register_in_sandbox(hub_sandbox, app_a)
    admin_client_a.post(reverse("settings:webhooks_connect", args=[app_a.pk]))
    channel = app_a.channels.get(kind="telegram")
    for n in range(23):
        hub_sandbox.customer_message(
            channel_id=str(channel.hub_channel_id),
            sender="123456789",
            content={"type": "text", "text": f"#{n}"},
        )
    return [d for d in hub_sandbox.webhook_deliveries() if d["status"] == "Failed"]


def _logs_page(client, app, **params):
    return client.get(reverse("settings:webhook_logs", args=[app.pk]), params)


@pytest.mark.django_db
def test_the_hubs_webhook_logs_are_filtered_by_status_and_paginated(
    admin_client_a, app_a, failing_deliveries
):
    assert len(failing_deliveries) == 23

    first = _logs_page(admin_client_a, app_a, status="Failed")
    second = _logs_page(admin_client_a, app_a, status="Failed", page=2)
    successes = _logs_page(admin_client_a, app_a, status="Success")

    assert len(first.context["logs"].logs) == 20 and len(second.context["logs"].logs) == 3
    assert all(log.status == "Failed" and log.status_code == 503 for log in first.context["logs"].logs)
    assert "Page 1 of 2 · 23 logs" in first.content.decode()
    assert first.context["next_url"].endswith("status=Failed&page=2")
    assert second.context["previous_url"] and not second.context["next_url"]
    assert successes.context["logs"].logs == []
    assert "maintenance" in first.content.decode()  # our endpoint's answer, escaped in the table


@pytest.mark.django_db
def test_retrying_one_failed_log_after_the_fix_delivers_it(
    admin_client_a, app_a, failing_deliveries, receiver, hub_sandbox
):
    receiver.failing = False
    log_id = failing_deliveries[0]["id"]

    response = admin_client_a.post(
        reverse("settings:webhook_logs_retry", args=[app_a.pk]),
        {"event": "Message", "status": "Failed", "log_ids": [log_id]},
        follow=True,
    )

    assert "1 delivery sent again" in response.content.decode()
    [retry] = [d for d in hub_sandbox.webhook_deliveries() if d["retryOf"] == log_id]
    assert retry["status"] == "Success"
    entry = AuditEntry.objects.get(action="webhook_logs.retried")
    assert entry.changes["retried logs"] == {"from": None, "to": [log_id]}


@pytest.mark.django_db
def test_retrying_many_logs_uses_one_bulk_call_and_reports_refusals(
    admin_client_a, app_a, failing_deliveries, receiver
):
    receiver.failing = False
    ids = [d["id"] for d in failing_deliveries[:3]]
    unknown = str(uuid.uuid4())

    response = admin_client_a.post(
        reverse("settings:webhook_logs_retry", args=[app_a.pk]),
        {"event": "Message", "log_ids": [*ids, unknown]},
        follow=True,
    )

    body = response.content.decode()
    assert "3 deliveries sent again" in body
    assert "1 delivery could not be retried" in body
    successes = _logs_page(admin_client_a, app_a, status="Success")
    assert len(successes.context["logs"].logs) == 3


@pytest.mark.django_db
def test_a_successful_log_cannot_be_retried_and_the_hub_says_why(
    admin_client_a, app_a, failing_deliveries, receiver
):
    receiver.failing = False
    admin_client_a.post(
        reverse("settings:webhook_logs_retry", args=[app_a.pk]),
        {"event": "Message", "log_ids": [failing_deliveries[0]["id"]]},
    )
    [success] = _logs_page(admin_client_a, app_a, status="Success").context["logs"].logs

    response = admin_client_a.post(
        reverse("settings:webhook_logs_retry", args=[app_a.pk]),
        {"event": "Message", "log_ids": [success.id]},
        follow=True,
    )

    assert "1 delivery could not be retried (log cannot be retried" in response.content.decode()


@pytest.mark.django_db
def test_retry_refuses_ids_that_are_not_log_ids(admin_client_a, app_a, failing_deliveries):
    response = admin_client_a.post(
        reverse("settings:webhook_logs_retry", args=[app_a.pk]),
        {"event": "Message", "log_ids": ["../../etc"]},
        follow=True,
    )
    assert "is not a log id" in response.content.decode()
    assert not AuditEntry.objects.filter(action="webhook_logs.retried").exists()


@pytest.mark.django_db
def test_the_recovery_button_has_the_hub_resend_failed_deliveries(
    admin_client_a, app_a, failing_deliveries, receiver
):
    receiver.failing = False
    delivered_before = len(receiver.events)

    response = admin_client_a.post(reverse("settings:webhooks_recover", args=[app_a.pk]), follow=True)

    body = response.content.decode()
    assert "Recovery done: 23 failed deliveries on 2 webhooks: 23 re-sent" in body
    assert len(receiver.events) == delivered_before + 23
    entry = AuditEntry.objects.get(action="deliveries.recovered")
    assert entry.changes == {"re-sent deliveries": {"from": None, "to": 23}}


@pytest.mark.django_db
def test_refresh_reads_number_of_errors_from_the_hub(admin_client_a, app_a, failing_deliveries):
    response = admin_client_a.post(reverse("settings:webhooks_refresh", args=[app_a.pk]), follow=True)

    hook = app_a.hub_webhooks.get(event_type="Message")
    assert hook.number_of_errors == 23
    assert "Webhook status read from the Hub." in response.content.decode()
    assert '<span class="pill warn" data-testid="errors">23</span>' in response.content.decode()


@pytest.mark.django_db
def test_the_webhook_url_is_shown_with_a_copy_button(admin_client_a, app_a, settings):
    body = admin_client_a.get(reverse("settings:webhooks", args=[app_a.pk])).content.decode()
    url = f"{settings.PUBLIC_BASE_URL}/hub/webhook/{app_a.public_id}/"
    assert f'value="{url}" readonly' in body
    assert 'data-copy="webhook-url"' in body


def _resends_of(sandbox, log_id: str) -> int:
    return sum(1 for d in sandbox.webhook_deliveries() if d["retryOf"] == log_id)


@pytest.mark.django_db
def test_a_log_retried_by_hand_is_not_resent_by_the_recovery_button(
    admin_client_a, app_a, failing_deliveries, receiver, hub_sandbox
):
    receiver.failing = False
    log_id = failing_deliveries[0]["id"]
    admin_client_a.post(
        reverse("settings:webhook_logs_retry", args=[app_a.pk]), {"event": "Message", "log_ids": [log_id]}
    )
    delivered_before = len(receiver.events)

    response = admin_client_a.post(reverse("settings:webhooks_recover", args=[app_a.pk]), follow=True)

    body = response.content.decode()
    assert "Recovery done: 23 failed deliveries on 2 webhooks: 22 re-sent, 1 already re-sent before" in body
    assert len(receiver.events) == delivered_before + 22
    assert _resends_of(hub_sandbox, log_id) == 1


@pytest.mark.django_db
def test_a_log_already_resent_is_marked_on_the_logs_page_and_not_retried_again(
    admin_client_a, app_a, failing_deliveries, receiver, hub_sandbox
):
    receiver.failing = False
    admin_client_a.post(reverse("settings:webhooks_recover", args=[app_a.pk]))
    log_id = failing_deliveries[-1]["id"]  # the newest: on the first page

    page = _logs_page(admin_client_a, app_a, status="Failed").content.decode()
    response = admin_client_a.post(
        reverse("settings:webhook_logs_retry", args=[app_a.pk]),
        {"event": "Message", "status": "Failed", "log_ids": [log_id]},
        follow=True,
    )

    row = page[page.index(f'data-log="{log_id}"') :].split("</tr>")[0]
    assert "Re-sent" in row
    assert 'value="' + log_id + '">Retry</button>' not in row
    assert "1 delivery was already sent again" in response.content.decode()
    assert _resends_of(hub_sandbox, log_id) == 1


@pytest.mark.django_db
def test_only_failed_deliveries_offer_a_retry(
    admin_client_a, app_a, failing_deliveries, receiver, hub_sandbox
):
    receiver.failing = False
    channel = app_a.channels.get(kind="telegram")
    hub_sandbox.customer_message(
        channel_id=str(channel.hub_channel_id), sender="123456789", content={"type": "text", "text": "ok"}
    )
    [success] = [d for d in hub_sandbox.webhook_deliveries() if d["status"] == "Success"]

    page = _logs_page(admin_client_a, app_a).content.decode()

    success_row = page.split(f'<tr data-log="{success["id"]}">')[1].split("</tr>")[0]
    failed_row = page.split(f'<tr data-log="{failing_deliveries[-1]["id"]}">')[1].split("</tr>")[0]
    assert "Success" in success_row
    assert "Retry" not in success_row and 'name="log_ids"' not in success_row
    assert ">Retry</button>" in failed_row and 'name="log_ids"' in failed_row  # the control
