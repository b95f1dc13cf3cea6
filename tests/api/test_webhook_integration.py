"""End to end: a local receiver subscribed to every event, the real `manage.py run_worker` delivering,
and the receiver down for a while (an outage). Every event arrives once, signed, after its retries."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from channels_app.actions.webhooks import do_store_signing_secret
from conversations.models import Message
from integrations.models import WebhookDelivery, WebhookDeliveryAttempt
from tests.api.api_support import Api, database_url, token_for
from tests.api.receiver import Receiver
from tests.conftest import register_in_sandbox
from tests.ingest.ingest_support import HUB_SECRET, message_event, post_event
from tests.support import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def start_worker(tmp: str, sandbox_url: str) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "HUB_BASE_URL": sandbox_url,
        "OUTGOING_WEBHOOK_ALLOW_PRIVATE_URLS": "true",  # the receiver is on loopback
        "OUTGOING_WEBHOOK_CACHE_SECONDS": "0",
        "OUTGOING_WEBHOOK_BACKOFF_BASE": "0.2",
        "OUTGOING_WEBHOOK_BACKOFF_MAX": "0.5",
        "OUTGOING_WEBHOOK_POLL_INTERVAL": "0.05",
        "OUTGOING_WEBHOOK_TIMEOUT": "2",
        "LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
    }
    with Path(tmp, "worker.log").open("ab") as log:  # the child keeps its own handle
        return subprocess.Popen(
            [sys.executable, str(Path(settings.BASE_DIR) / "manage.py"), "run_worker", "--interval", "0.05"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )


def test_every_event_reaches_the_receiver_once_across_an_outage(
    app_a, admin, agent_a, hub_sandbox, settings, tmp_path
):
    settings.OUTGOING_WEBHOOK_ALLOW_PRIVATE_URLS = True
    register_in_sandbox(hub_sandbox, app_a)
    do_store_signing_secret(application=app_a, hub_webhook_id="hook", secret=HUB_SECRET)
    receiver = Receiver().start()
    made = (
        Api(token_for(admin))
        .post(
            f"/api/v1/applications/{app_a.pk}/webhooks/",
            {
                "url": receiver.url,
                "events": [
                    "message.created",
                    "message.status_changed",
                    "conversation.created",
                    "conversation.updated",
                    "conversation.resolved",
                ],
            },
        )
        .json()
    )
    receiver.secret = made["secret"]
    agent = Api(token_for(agent_a))
    worker = start_worker(str(tmp_path), hub_sandbox.url)
    try:
        receiver.stop()  # the outage begins before any event happens

        # A customer writes (a new conversation), an agent answers through the API, then resolves it.
        whatsapp = app_a.channels.get(kind="whatsapp")
        assert post_event(Client(), app_a, message_event(whatsapp)).status_code == 200
        conversation_id = agent.get("/api/v1/conversations/").json()["results"][0]["id"]
        reply = agent.post(
            f"/api/v1/conversations/{conversation_id}/messages/",
            {"text": "On its way!"},
            **{"Idempotency-Key": "k1"},
        )
        assert reply.status_code == 201
        assert (
            agent.post(f"/api/v1/conversations/{conversation_id}/status/", {"status": "resolved"}).status_code
            == 200
        )
        # The worker sends the reply to the Hub (its status changes, in the worker's process) and keeps
        # failing to reach the receiver.
        wait_for(
            lambda: Message.objects.get(pk=reply.json()["id"]).status != "pending",
            timeout=30,
            what="the reply sent",
        )
        wait_for(
            lambda: WebhookDelivery.objects.filter(event="message.status_changed").exists(),
            timeout=30,
            what="the status change queued by the worker",
        )
        wait_for(
            lambda: (
                WebhookDeliveryAttempt.objects.filter(succeeded=False).values("delivery").distinct().count()
                == WebhookDelivery.objects.count()
            ),
            timeout=30,
            what="every delivery failed at least once during the outage",
        )
        assert not receiver.accepted()

        receiver.start()  # the outage ends, on the same port
        wait_for(
            lambda: not WebhookDelivery.objects.exclude(status="delivered").exists(),
            timeout=60,
            what="every delivery delivered after the outage",
        )
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        receiver.stop()
        print(Path(tmp_path, "worker.log").read_text(errors="replace")[-4000:])

    accepted = receiver.accepted()
    ids = [event["id"] for event in accepted]
    assert len(ids) == len(set(ids)), "an event was accepted twice"
    assert set(ids) == {str(i) for i in WebhookDelivery.objects.values_list("event_id", flat=True)}
    assert all(post.signature_ok for post in receiver.posts)
    kinds = Counter(event["type"] for event in accepted)
    assert kinds["conversation.created"] == 1 and kinds["message.created"] == 2
    assert kinds["conversation.resolved"] == 1 and kinds["conversation.updated"] >= 1
    assert kinds["message.status_changed"] >= 1
    assert all(d.attempt_count >= 2 for d in WebhookDelivery.objects.all())  # each was retried
    assert worker.returncode == 0
