"""Deliveries that failed while we were down or refusing them are recovered from the Hub's logs."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from channels_app.actions.redelivery import do_recover_failed_deliveries, do_retry_webhook_logs
from channels_app.actions.webhooks import do_connect_webhooks
from channels_app.models import HubDeliveryRetry, SigningSecret
from conversations.models import Message, WebhookEvent
from tests.conftest import register_in_sandbox

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def connected(live_server, hub_sandbox, app_a, settings):
    settings.PUBLIC_BASE_URL = live_server.url
    register_in_sandbox(hub_sandbox, app_a)
    return do_connect_webhooks(application=app_a)


def failed_statuses(sandbox) -> list[int]:
    return [d["statusCode"] for d in sandbox.webhook_deliveries() if d["status"] != "Success"]


def resends_of(sandbox, log_id: str) -> int:
    """How many times the Hub delivered the event of log `log_id` again (its own log shows each one)."""
    return sum(1 for d in sandbox.webhook_deliveries() if d["retryOf"] == log_id)


def missed_while_broken(sandbox, channel, settings, count: int) -> list[str]:
    """`count` customer messages refused (413, nothing stored) while we were broken; their log ids."""
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10
    for _ in range(count):
        sandbox.customer_message(channel_id=str(channel.hub_channel_id))
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440  # fixed
    return [d["id"] for d in sandbox.webhook_deliveries() if d["status"] != "Success"]


def test_messages_missed_while_we_were_broken_are_recovered_once(
    connected, hub_sandbox, app_a, whatsapp_a, settings
):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10  # every delivery is refused (413) and nothing is stored
    missed = [hub_sandbox.customer_message(channel_id=str(whatsapp_a.hub_channel_id)) for _ in range(3)]
    assert failed_statuses(hub_sandbox) == [413, 413, 413]
    assert not Message.objects.exists()
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440  # fixed

    report = do_recover_failed_deliveries(application=app_a)

    assert (report.failed_logs, report.resent, report.errors) == (3, 3, [])
    assert sorted(Message.objects.values_list("hub_message_id", flat=True)) == sorted(
        m["messageId"] for m in missed
    )
    # Asked once per failed log: a second run re-sends nothing and stores nothing twice.
    again = do_recover_failed_deliveries(application=app_a)
    assert (again.failed_logs, again.resent, again.already_resent) == (3, 0, 3)
    assert Message.objects.count() == 3
    assert HubDeliveryRetry.objects.filter(application=app_a, accepted=True).count() == 3


def test_deliveries_rejected_for_their_signature_are_recovered_once_the_secret_is_right(
    connected, hub_sandbox, app_a, whatsapp_a
):
    right = list(SigningSecret.objects.filter(application=app_a, active=True).values_list("pk", flat=True))
    SigningSecret.objects.filter(pk__in=right).update(active=False)
    SigningSecret.objects.create(application=app_a, secret="whsec_not-the-hubs", hub_webhook_id="x")
    sent = hub_sandbox.customer_message(channel_id=str(whatsapp_a.hub_channel_id))
    assert failed_statuses(hub_sandbox) == [401]
    assert WebhookEvent.objects.get().outcome == WebhookEvent.Outcome.REJECTED
    SigningSecret.objects.filter(pk__in=right).update(active=True)

    report = do_recover_failed_deliveries(application=app_a)

    assert report.resent == 1
    assert Message.objects.get().hub_message_id == sent["messageId"]


def test_deliveries_we_kept_as_invalid_are_not_resent(connected, hub_sandbox, app_a, whatsapp_a):
    hub_sandbox.customer_message(
        channel_id=str(whatsapp_a.hub_channel_id), content={"type": "text", "text": None}
    )
    assert failed_statuses(hub_sandbox) == [400]
    assert WebhookEvent.objects.get().outcome == WebhookEvent.Outcome.INVALID

    report = do_recover_failed_deliveries(application=app_a)

    assert (report.failed_logs, report.kept_here, report.resent) == (1, 1, 0)
    assert WebhookEvent.objects.count() == 1


def test_recover_webhooks_command_reports_what_it_did(connected, hub_sandbox, app_a, whatsapp_a, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10
    hub_sandbox.customer_message(channel_id=str(whatsapp_a.hub_channel_id))
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
    out = StringIO()

    call_command("recover_webhooks", app_a.name, stdout=out)

    assert f"{app_a.name}: 1 failed delivery on 2 webhooks: 1 re-sent" in out.getvalue()
    assert Message.objects.count() == 1


def test_a_delivery_an_admin_retried_by_hand_is_not_resent_by_recovery(
    connected, hub_sandbox, app_a, whatsapp_a, admin, settings
):
    by_hand, missed = missed_while_broken(hub_sandbox, whatsapp_a, settings, 2)
    [retried] = do_retry_webhook_logs(actor=admin, application=app_a, event_type="Message", log_ids=[by_hand])
    assert retried.success
    out = StringIO()

    call_command("recover_webhooks", app_a.name, stdout=out)

    assert "2 failed deliveries on 2 webhooks: 1 re-sent, 1 already re-sent before" in out.getvalue()
    assert (resends_of(hub_sandbox, by_hand), resends_of(hub_sandbox, missed)) == (1, 1)
    assert Message.objects.count() == 2
    asked = HubDeliveryRetry.objects.get(hub_log_id=by_hand)
    assert (asked.source, asked.requested_by, asked.accepted) == ("logs", admin, True)


def test_a_delivery_recovery_resent_is_not_resent_by_hand(
    connected, hub_sandbox, app_a, whatsapp_a, admin, settings
):
    [log_id] = missed_while_broken(hub_sandbox, whatsapp_a, settings, 1)
    assert do_recover_failed_deliveries(application=app_a).resent == 1

    [outcome] = do_retry_webhook_logs(actor=admin, application=app_a, event_type="Message", log_ids=[log_id])

    assert (outcome.success, outcome.already_resent) == (False, True)
    assert resends_of(hub_sandbox, log_id) == 1
    asked = HubDeliveryRetry.objects.get(hub_log_id=log_id)
    assert (asked.source, asked.requested_by) == ("recovery", None)


def test_retrying_the_same_logs_by_hand_twice_resends_them_once(
    connected, hub_sandbox, app_a, whatsapp_a, admin, settings
):
    log_ids = missed_while_broken(hub_sandbox, whatsapp_a, settings, 3)

    first = do_retry_webhook_logs(actor=admin, application=app_a, event_type="Message", log_ids=log_ids)
    second = do_retry_webhook_logs(actor=admin, application=app_a, event_type="Message", log_ids=log_ids)

    assert [o.success for o in first] == [True] * 3
    assert [(o.success, o.already_resent) for o in second] == [(False, True)] * 3
    assert [resends_of(hub_sandbox, log_id) for log_id in log_ids] == [1, 1, 1]
    assert Message.objects.count() == 3
