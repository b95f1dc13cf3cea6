"""Outgoing webhooks: admins subscribe URLs (refused when they point inside our network), events become
deliveries after their write commits (never failing it), the worker POSTs them signed, retries with
backoff, turns a failing subscription off with an alert on the health panel, and an admin resends."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.test import Client
from django.utils import timezone

from channels_app.actions.webhooks import do_store_signing_secret
from channels_app.models import Application, Membership
from conversations.actions.statuses import apply_status_change
from conversations.actions.threads import do_set_status
from conversations.models import Conversation, Message, MessageStatusChange
from integrations.actions.deliveries import do_deliver_next_due, queue_deliveries
from integrations.models import WebhookDelivery, WebhookSubscription
from integrations.signing import sign, verify
from tests.api.api_support import Api, error_of, token_for
from tests.conftest import login
from tests.inbox.inbox_support import add_message, make_conversation
from tests.ingest.ingest_support import HUB_SECRET, message_event, post_event
from tests.support import free_port

pytestmark = pytest.mark.django_db


@pytest.fixture
def fast_retries(settings):
    settings.OUTGOING_WEBHOOK_BACKOFF_BASE = 0.01
    settings.OUTGOING_WEBHOOK_BACKOFF_MAX = 0.05
    settings.OUTGOING_WEBHOOK_TIMEOUT = 2.0


def subscribe(api, app, url, events=("message.created",)):
    response = api.post(f"/api/v1/applications/{app.pk}/webhooks/", {"url": url, "events": list(events)})
    assert response.status_code == 201, response.content
    return response.json()


def drain() -> list[str]:
    """Run the worker's step until nothing is due; the outcomes in order."""
    outcomes = []
    while (outcome := do_deliver_next_due()) is not None:
        outcomes.append(outcome)
    return outcomes


# --- subscribing ----------------------------------------------------------------------------------


def test_the_secret_is_shown_once_and_stored_encrypted(api_admin, app_a):
    made = subscribe(
        api_admin, app_a, "https://93.184.216.34/hooks", events=["message.created", "conversation.resolved"]
    )

    assert made["secret"].startswith("whsec_") and made["events"] == [
        "conversation.resolved",
        "message.created",
    ]
    again = api_admin.get(f"/api/v1/webhooks/{made['id']}/")
    assert "secret" not in again.json() and made["secret"] not in again.content.decode()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT secret FROM {WebhookSubscription._meta.db_table}")
        assert made["secret"] not in cursor.fetchone()[0]
    rotated = api_admin.post(f"/api/v1/webhooks/{made['id']}/rotate-secret/").json()
    assert rotated["secret"] != made["secret"]
    assert WebhookSubscription.objects.get().secret == rotated["secret"]


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/hook",
        "http://localhost/hook",
        "http://api.localhost/hook",
        "http://10.0.0.5/hook",
        "http://192.168.1.20/hook",
        "http://172.16.0.1/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://0.0.0.0/hook",
        "ftp://example.com/hook",
        "file:///etc/passwd",
        "javascript:alert(1)",
        "http://user:password@93.184.216.34/hook",
        "https://",
        "not a url",
    ],
)
def test_urls_inside_our_network_or_not_http_are_refused(api_admin, app_a, url):
    response = api_admin.post(
        f"/api/v1/applications/{app_a.pk}/webhooks/", {"url": url, "events": ["message.created"]}
    )

    assert response.status_code == 400
    assert list(error_of(response)["fields"]) == ["url"]
    assert not WebhookSubscription.objects.exists()


def test_private_urls_are_allowed_when_configured(api_admin, app_a, settings):
    settings.OUTGOING_WEBHOOK_ALLOW_PRIVATE_URLS = True
    subscribe(api_admin, app_a, "http://127.0.0.1:9/hook")
    settings.OUTGOING_WEBHOOK_ALLOW_PRIVATE_URLS = False
    settings.DEBUG = True
    subscribe(api_admin, app_a, "http://10.1.2.3/hook")


@pytest.mark.parametrize("events", [[], ["message.deleted"], "message.created", [1]])
def test_events_must_be_from_the_list(api_admin, app_a, events):
    response = api_admin.post(
        f"/api/v1/applications/{app_a.pk}/webhooks/", {"url": "https://93.184.216.34/h", "events": events}
    )

    assert response.status_code == 400
    assert {name.split(".")[0] for name in error_of(response)["fields"]} == {
        "events"
    }  # "events.0": the first


def test_agents_get_403_and_other_tenants_404(api_agent_a, api_admin, app_a, app_b, agent_b):
    admin_b = Api(token_for(agent_b))
    Membership.objects.filter(user=agent_b).update(role="admin")
    made = subscribe(api_admin, app_a, "https://93.184.216.34/hooks")

    assert api_agent_a.get(f"/api/v1/applications/{app_a.pk}/webhooks/").status_code == 403
    assert api_agent_a.get(f"/api/v1/webhooks/{made['id']}/").status_code == 403
    assert admin_b.get(f"/api/v1/webhooks/{made['id']}/").status_code == 404
    assert admin_b.delete(f"/api/v1/webhooks/{made['id']}/").status_code == 404
    assert (
        admin_b.post(
            f"/api/v1/applications/{app_a.pk}/webhooks/",
            {"url": "https://93.184.216.34/x", "events": ["message.created"]},
        ).status_code
        == 404
    )
    assert WebhookSubscription.objects.count() == 1
    assert api_admin.delete(f"/api/v1/webhooks/{made['id']}/").status_code == 204
    assert not WebhookSubscription.objects.exists()


# --- events become deliveries --------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_new_conversation_and_its_message_are_delivered_signed(
    api_admin, app_a, receiver, private_urls_allowed
):
    made = subscribe(api_admin, app_a, receiver.url, events=["conversation.created", "message.created"])
    receiver.secret = made["secret"]
    do_store_signing_secret(application=app_a, hub_webhook_id="hook", secret=HUB_SECRET)
    whatsapp = app_a.channels.get(kind="whatsapp")

    assert post_event(Client(), app_a, message_event(whatsapp)).status_code == 200

    assert drain() == ["delivered", "delivered"]
    events = receiver.accepted()
    assert [e["type"] for e in events] == ["conversation.created", "message.created"]
    assert all(p.signature_ok for p in receiver.posts)
    message = events[1]["data"]["message"]
    assert message["direction"] == "in" and message["content"]["text"] == "Quero saber o prazo de entrega"
    assert events[1]["application_id"] == app_a.pk
    headers = receiver.posts[1].headers
    assert headers["Hubdash-Event"] == "message.created" and headers["Hubdash-Delivery"] == events[1]["id"]


@pytest.mark.django_db(transaction=True)
def test_resolving_sends_updated_and_resolved_once(
    api_admin, api_agent_a, app_a, receiver, private_urls_allowed, agent_a
):
    conversation = make_conversation(app_a)
    made = subscribe(api_admin, app_a, receiver.url, events=["conversation.updated", "conversation.resolved"])
    receiver.secret = made["secret"]
    path = f"/api/v1/conversations/{conversation.pk}"

    api_agent_a.post(f"{path}/status/", {"status": "resolved"})
    api_agent_a.post(f"{path}/assign/", {"assignee_id": agent_a.pk})  # still resolved: not resolved twice
    drain()

    assert [e["type"] for e in receiver.accepted()] == [
        "conversation.updated",
        "conversation.resolved",
        "conversation.updated",
    ]
    assert receiver.accepted()[1]["data"]["conversation"]["status"] == "resolved"


@pytest.mark.django_db(transaction=True)
def test_a_status_change_is_delivered(api_admin, api_agent_a, app_a, receiver, private_urls_allowed, agent_a):
    conversation = make_conversation(app_a)
    reply = add_message(conversation, content={"text": "hi"}, direction="out", status="sent", author=agent_a)
    made = subscribe(api_admin, app_a, receiver.url, events=["message.status_changed"])
    receiver.secret = made["secret"]

    with transaction.atomic():
        locked = Message.objects.select_for_update().get(pk=reply.pk)
        change = MessageStatusChange(
            application=app_a,
            message=locked,
            status="delivered",
            occurred_at=timezone.now(),
            source="webhook",
        )
        apply_status_change(locked, change)
        change.save()
    drain()

    [event] = receiver.accepted()
    assert event["type"] == "message.status_changed"
    assert event["data"]["status"] == "delivered" and event["data"]["message"]["id"] == reply.pk


def test_the_same_event_heard_twice_is_one_delivery(api_admin, app_a, private_urls_allowed):
    conversation = make_conversation(app_a)
    subscribe(api_admin, app_a, "http://127.0.0.1:9/x", events=["message.created", "conversation.created"])
    message = conversation.messages.get()
    event = {
        "type": "message.created",
        "application_id": app_a.pk,
        "conversation_id": conversation.pk,
        "message_id": message.pk,
    }

    queue_deliveries(event)
    queue_deliveries(event)

    assert sorted(WebhookDelivery.objects.values_list("event", flat=True)) == [
        "conversation.created",
        "message.created",
    ]


def test_unsubscribed_events_and_other_applications_get_nothing(
    api_admin, app_a, app_b, private_urls_allowed
):
    subscribe(api_admin, app_a, "http://127.0.0.1:9/x", events=["conversation.resolved"])
    mine, theirs = make_conversation(app_a), make_conversation(app_b)
    for conversation in (mine, theirs):
        queue_deliveries(
            {
                "type": "message.created",
                "application_id": conversation.application_id,
                "conversation_id": conversation.pk,
                "message_id": conversation.messages.get().pk,
            }
        )

    assert not WebhookDelivery.objects.exists()


def test_a_broken_queue_never_fails_the_write(
    api_agent_a, api_admin, app_a, private_urls_allowed, monkeypatch, django_capture_on_commit_callbacks
):
    conversation = make_conversation(app_a)
    subscribe(api_admin, app_a, "http://127.0.0.1:9/x", events=["conversation.updated"])

    def broken(event):
        raise RuntimeError("the queue is down")

    monkeypatch.setattr("integrations.actions.deliveries.outgoing_events", broken)
    with django_capture_on_commit_callbacks(execute=True):
        response = api_agent_a.post(
            f"/api/v1/conversations/{conversation.pk}/status/", {"status": "resolved"}
        )

    assert response.status_code == 200
    assert Conversation.objects.get(pk=conversation.pk).status == "resolved"
    assert not WebhookDelivery.objects.exists()


# --- sending, retrying, turning off --------------------------------------------------------------


def test_a_failed_delivery_is_retried_with_backoff_then_delivered(
    api_admin, app_a, receiver, private_urls_allowed, django_capture_on_commit_callbacks, admin, settings
):
    settings.OUTGOING_WEBHOOK_BACKOFF_BASE = 60.0
    conversation = make_conversation(app_a)
    made = subscribe(api_admin, app_a, receiver.url, events=["conversation.updated"])
    receiver.secret = made["secret"]
    receiver.status = 503
    with django_capture_on_commit_callbacks(execute=True):
        do_set_status(conversation=conversation, status="pending", actor=admin)

    assert drain() == ["retry"]
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "pending" and delivery.last_http_status == 503
    # The first retry waits between half and all of the base (equal jitter), not at once.
    assert (
        timezone.now() + timedelta(seconds=25)
        < delivery.next_attempt_at
        < timezone.now() + timedelta(seconds=61)
    )
    receiver.status = 200
    WebhookDelivery.objects.update(next_attempt_at=timezone.now())  # its time has come

    assert drain() == ["delivered"]
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempt_count) == ("delivered", 2)
    assert [p.answered for p in receiver.posts] == [503, 200]
    assert receiver.posts[0].event["id"] == receiver.posts[1].event["id"]  # the same event, retried
    assert WebhookSubscription.objects.get().consecutive_failures == 0


def test_a_delivery_gives_up_after_the_attempt_limit(
    api_admin, app_a, private_urls_allowed, fast_retries, django_capture_on_commit_callbacks, admin, settings
):
    settings.OUTGOING_WEBHOOK_MAX_ATTEMPTS = 3
    conversation = make_conversation(app_a)
    subscribe(api_admin, app_a, f"http://127.0.0.1:{free_port()}/down", events=["conversation.updated"])
    with django_capture_on_commit_callbacks(execute=True):
        do_set_status(conversation=conversation, status="pending", actor=admin)

    outcomes = []
    for _ in range(3):
        outcomes += drain()
        WebhookDelivery.objects.filter(status="pending").update(next_attempt_at=timezone.now())

    assert outcomes == ["retry", "retry", "failed"]
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "failed" and "connection failed" in delivery.last_error
    assert delivery.attempts.count() == 3


def test_a_run_of_failures_turns_the_subscription_off_with_an_alert_until_an_admin_turns_it_on(
    api_admin,
    admin_client_a,
    app_a,
    receiver,
    private_urls_allowed,
    fast_retries,
    settings,
    admin,
    django_capture_on_commit_callbacks,
):
    settings.OUTGOING_WEBHOOK_DISABLE_AFTER = 3
    made = subscribe(api_admin, app_a, receiver.url, events=["conversation.updated"])
    receiver.secret = made["secret"]
    receiver.status = 500
    conversations = [make_conversation(app_a) for _ in range(4)]
    with django_capture_on_commit_callbacks(execute=True):
        for conversation in conversations:
            do_set_status(conversation=conversation, status="pending", actor=admin)
    health = admin_client_a.get("/settings/health/").content.decode()
    assert 'data-testid="integration-alert"' not in health  # the control

    assert drain() == ["retry", "retry", "retry"]  # then it is off: the fourth is not even tried

    subscription = WebhookSubscription.objects.get()
    assert not subscription.active and subscription.disabled_at is not None
    assert "3 failed deliveries in a row" in subscription.disabled_reason
    health = admin_client_a.get("/settings/health/").content.decode()
    assert 'data-testid="integration-alert"' in health and receiver.url in health
    WebhookDelivery.objects.update(next_attempt_at=timezone.now())
    assert drain() == []  # nothing is sent while it is off

    receiver.status = 204
    turned_on = api_admin.patch(f"/api/v1/webhooks/{made['id']}/", {"active": True}).json()
    assert turned_on["active"] and turned_on["consecutive_failures"] == 0 and turned_on["disabled_at"] is None
    assert drain() == ["delivered"] * 4
    assert len({e["id"] for e in receiver.accepted()}) == 4
    assert 'data-testid="integration-alert"' not in admin_client_a.get("/settings/health/").content.decode()


def test_an_admin_resends_a_delivery_with_the_same_id(
    api_admin, app_a, receiver, private_urls_allowed, admin, django_capture_on_commit_callbacks
):
    made = subscribe(api_admin, app_a, receiver.url, events=["conversation.updated"])
    receiver.secret = made["secret"]
    with django_capture_on_commit_callbacks(execute=True):
        do_set_status(conversation=make_conversation(app_a), status="pending", actor=admin)
    drain()
    delivery = WebhookDelivery.objects.get()
    log = api_admin.get(f"/api/v1/webhooks/{made['id']}/deliveries/").json()["results"]
    assert [d["status"] for d in log] == ["delivered"]

    resent = api_admin.post(f"/api/v1/webhooks/{made['id']}/deliveries/{delivery.pk}/resend/")

    assert resent.status_code == 202 and resent.json()["status"] == "pending"
    assert drain() == ["delivered"]
    detail = api_admin.get(f"/api/v1/webhooks/{made['id']}/deliveries/{delivery.pk}/").json()
    assert [a["manual"] for a in detail["attempts"]] == [False, True]
    assert json.loads(detail["body"])["id"] == str(delivery.event_id)
    assert [p.event["id"] for p in receiver.posts] == [str(delivery.event_id)] * 2


def test_a_url_that_turned_private_is_not_posted_to(
    api_admin, app_a, settings, admin, django_capture_on_commit_callbacks, receiver
):
    settings.OUTGOING_WEBHOOK_ALLOW_PRIVATE_URLS = True
    subscribe(api_admin, app_a, receiver.url, events=["conversation.updated"])
    settings.OUTGOING_WEBHOOK_ALLOW_PRIVATE_URLS = False  # as if its name now resolved to 127.0.0.1
    with django_capture_on_commit_callbacks(execute=True):
        do_set_status(conversation=make_conversation(app_a), status="pending", actor=admin)

    assert drain() == ["retry"]
    assert receiver.posts == []
    assert "private network" in WebhookDelivery.objects.get().last_error


def test_the_signature_scheme():
    body = b'{"id":"1"}'
    header = sign("whsec_x", body, now=1_700_000_000)

    assert header.startswith("t=1700000000,v1=")
    assert verify("whsec_x", body, header, now=1_700_000_010)
    assert not verify("whsec_y", body, header, now=1_700_000_010)
    assert not verify("whsec_x", body + b" ", header, now=1_700_000_010)
    assert not verify("whsec_x", body, header, now=1_700_000_000 + 301)  # a replay, later


def test_the_settings_pages_add_a_webhook_and_show_its_log(admin_client_a, agent_a_client, app_a, settings):
    settings.OUTGOING_WEBHOOK_ALLOW_PRIVATE_URLS = True
    page = f"/settings/applications/{app_a.pk}/outgoing-webhooks/"

    created = admin_client_a.post(page, {"url": "http://127.0.0.1:9/h", "events": ["message.created"]})

    assert created.status_code == 200
    subscription = WebhookSubscription.objects.get()
    assert subscription.secret in created.content.decode()
    assert subscription.secret not in admin_client_a.get(page).content.decode()
    detail = admin_client_a.get(f"/settings/outgoing-webhooks/{subscription.pk}/")
    assert detail.status_code == 200 and "Delivery log" in detail.content.decode()
    assert agent_a_client.get(page).status_code == 403
    assert login_b_admin(app_a).get(f"/settings/outgoing-webhooks/{subscription.pk}/").status_code in (
        403,
        404,
    )


def login_b_admin(app_a):
    other = Application.objects.create(name="Other")
    user = get_user_model().objects.create_user("other-admin")
    Membership.objects.create(user=user, application=other, role="admin")
    return login(user)
