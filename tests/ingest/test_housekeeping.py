"""Housekeeping: old deliveries that need nothing more are deleted; what an admin must still act on, the
queue itself and anything recent stay; a pruned event delivered again is still stored once."""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from channels_app.models import SigningSecret
from conversations.actions.housekeeping import PruneReport, do_prune_history
from conversations.models import Message, MessageStatusChange, WebhookEvent
from conversations.worker import start_sweeper
from tests.conftest import login
from tests.ingest.ingest_support import message_event, post_event, status_event
from tests.support import wait_for

pytestmark = pytest.mark.django_db


def age(rows, *, days: float) -> None:
    """Make `rows` look as if they were received `days` ago."""
    rows.update(received_at=timezone.now() - timedelta(days=days))


def deliveries(hub, app, channel) -> dict[str, WebhookEvent]:
    """One delivery of each outcome, through the real endpoint (and one `failed`, which needs a bug)."""
    event = message_event(channel)
    post_event(hub, app, event)
    post_event(hub, app, event)
    post_event(hub, app, {"eventType": "ContactUpdated", "id": "x"})
    post_event(hub, app, body=b"{not json")
    post_event(hub, app, status_event("hub-id-we-never-sent", "delivered"))
    WebhookEvent.objects.create(
        application=app, body=b"{}", outcome=WebhookEvent.Outcome.FAILED, error="boom"
    )
    SigningSecret.objects.create(application=app, secret="whsec_0123456789abcdef", hub_webhook_id="h")
    post_event(hub, app, message_event(channel), secret="whsec_somebody-else")
    rows = {}
    for row in WebhookEvent.objects.order_by("id"):
        rows.setdefault(row.outcome, row)
    assert set(rows) == {"processed", "duplicate", "ignored", "invalid", "failed", "rejected"}
    return rows


@pytest.mark.parametrize("days", [31, 29])
def test_old_deliveries_that_need_no_action_are_pruned_and_the_rest_kept(hub, app_a, whatsapp_a, days):
    rows = deliveries(hub, app_a, whatsapp_a)
    newest = WebhookEvent.objects.filter(application=app_a).latest("id")
    assert newest.outcome == "rejected"
    age(WebhookEvent.objects.all(), days=days)
    age(MessageStatusChange.objects.all(), days=days)

    report = do_prune_history()

    left = set(WebhookEvent.objects.values_list("outcome", flat=True))
    if days > 30:  # WEBHOOK_EVENT_RETENTION_DAYS
        # processed (2: the message and the unmatched status) and duplicate; not the newest (rejected)
        assert report == PruneReport(webhook_events=3, orphan_statuses=1)
        # An admin must still fix and reprocess these, and the health panel shows the newest's time.
        assert left == {"invalid", "failed", "ignored", "rejected"}
        assert WebhookEvent.objects.filter(outcome="rejected").get() == newest
        assert not MessageStatusChange.objects.exists()
    else:
        assert report == PruneReport()
        assert left == set(rows)
        assert MessageStatusChange.objects.count() == 1
    assert Message.objects.count() == 1  # the conversation itself is never housekeeping's business


def test_a_message_for_an_unregistered_channel_is_kept_to_be_reprocessed(hub, app_a, whatsapp_a):
    stray = message_event(whatsapp_a)
    stray["channelId"] = str(uuid.uuid4())  # a channel the admin has not registered yet
    post_event(hub, app_a, stray)
    for _ in range(2):  # newer ones, so the stray is not kept as merely the newest
        post_event(hub, app_a, message_event(whatsapp_a))
    age(WebhookEvent.objects.all(), days=90)

    assert do_prune_history().webhook_events == 1  # the older of the two processed ones

    kept = WebhookEvent.objects.get(outcome="ignored")
    assert stray["messageId"] in bytes(kept.body).decode()


def test_the_health_panel_still_shows_a_quiet_applications_last_event(hub, app_a, whatsapp_a, admin):
    for _ in range(3):
        post_event(hub, app_a, message_event(whatsapp_a))
    age(WebhookEvent.objects.all(), days=45)

    do_prune_history()

    assert WebhookEvent.objects.count() == 1
    page = login(admin).get(reverse("settings:health")).content.decode()
    assert "never" not in page.split("Acme Support", 1)[1].split("</tr>", 1)[0]


def test_a_pruned_message_delivered_again_is_still_stored_once(hub, app_a, whatsapp_a):
    event = message_event(whatsapp_a)
    post_event(hub, app_a, event)
    post_event(hub, app_a, message_event(whatsapp_a))  # a later one, kept as the newest
    age(WebhookEvent.objects.all(), days=45)
    do_prune_history()
    assert WebhookEvent.objects.count() == 1

    again = post_event(hub, app_a, event)  # e.g. recover_webhooks re-sending an old failed delivery

    assert again.status_code == 200 and again.json()["outcome"] == "duplicate"
    assert Message.objects.count() == 2


def test_pruning_works_through_batches(hub, app_a, whatsapp_a):
    for _ in range(8):
        post_event(hub, app_a, message_event(whatsapp_a))
    age(WebhookEvent.objects.all(), days=31)

    assert do_prune_history(batch_size=3) == PruneReport(webhook_events=7)
    assert WebhookEvent.objects.count() == 1  # the newest


def test_the_command_says_what_it_deleted(hub, app_a, whatsapp_a, capsys):
    post_event(hub, app_a, message_event(whatsapp_a))
    post_event(hub, app_a, message_event(whatsapp_a))
    age(WebhookEvent.objects.all(), days=31)

    call_command("prune_history")

    assert capsys.readouterr().out.startswith(
        "Deleted 1 webhook deliveries and 0 unmatched statuses older than 30"
    )
    assert WebhookEvent.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_worker_runs_housekeeping_on_its_own(hub, app_a, whatsapp_a, settings):
    settings.PRUNE_INTERVAL = 0.2
    post_event(hub, app_a, message_event(whatsapp_a))
    post_event(hub, app_a, message_event(whatsapp_a))
    age(WebhookEvent.objects.all(), days=31)
    stop = threading.Event()
    threads = start_sweeper(stop, 0.1)
    try:
        wait_for(lambda: WebhookEvent.objects.count() == 1, timeout=10, what="the old delivery pruned")
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=10)
    assert Message.objects.count() == 2
