"""Crash safety: a pending reply whose worker died or whose task was lost is queued again, and only those."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from conversations.actions.replies import do_requeue_stalled_replies, do_send_reply
from conversations.models import Message, SendAttempt
from conversations.tasks import send_reply
from tests.sending.conftest import key, make_conversation, settled, workers
from tests.support import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def _reply(app, agent, text: str) -> Message:
    return do_send_reply(
        conversation=make_conversation(app, "telegram", external_id=str(abs(hash(text)) % 10**9)),
        author=agent,
        content={"text": text},
        idempotency_key=key(),
    )


def test_a_reply_whose_task_was_lost_is_queued_again_and_sent(sandbox_a, app_a, agent_a, fast_sending):
    message = _reply(app_a, agent_a, "lost task")
    DBTaskResult.objects.all().delete()  # e.g. the process died between the commit and queueing

    assert do_requeue_stalled_replies(grace_seconds=0) == 1
    with workers(1):
        wait_for(settled(message.pk), what="the reply sent")

    message.refresh_from_db()
    assert message.status == "sent"
    assert len(sandbox_a.accepted_sends()) == 1


def test_a_reply_a_killed_worker_was_sending_is_recovered_when_its_lease_expires(
    sandbox_a, app_a, agent_a, fast_sending
):
    message = _reply(app_a, agent_a, "killed mid-send")
    DBTaskResult.objects.all().delete()
    # What a worker killed during the Hub call leaves behind: a lease, an attempt in flight, a RUNNING task.
    now = timezone.now()
    Message.objects.filter(pk=message.pk).update(attempt_count=1, locked_until=now + timedelta(seconds=30))
    SendAttempt.objects.create(message=message, number=1, started_at=now)
    stale = send_reply.enqueue(message_id=message.pk).db_result
    DBTaskResult.objects.filter(pk=stale.pk).update(status="RUNNING", started_at=now - timedelta(minutes=5))

    assert do_requeue_stalled_replies(grace_seconds=0) == 0  # the lease still runs: maybe it is just slow
    Message.objects.filter(pk=message.pk).update(locked_until=now - timedelta(seconds=1))
    assert do_requeue_stalled_replies(grace_seconds=0) == 1

    with workers(1):
        wait_for(settled(message.pk), what="the reply sent")
    message.refresh_from_db()
    assert message.status == "sent"
    first, second = message.attempts.order_by("number")
    assert (first.outcome, first.error_code) == ("transient", "worker_lost")
    assert "may have sent it" in first.error_message
    assert (second.number, second.outcome) == (2, "accepted")
    assert DBTaskResult.objects.get(pk=stale.pk).status == "FAILED"  # the dead worker's task, tidied


def test_the_sweep_leaves_replies_that_have_a_task_or_are_not_due(sandbox_a, app_a, agent_a, fast_sending):
    queued = _reply(app_a, agent_a, "queued")
    later = _reply(app_a, agent_a, "later")
    DBTaskResult.objects.exclude(args_kwargs__kwargs__message_id=queued.pk).delete()
    Message.objects.filter(pk=later.pk).update(next_attempt_at=timezone.now() + timedelta(minutes=5))

    assert do_requeue_stalled_replies(grace_seconds=0) == 0
    assert DBTaskResult.objects.count() == 1


def test_the_sweep_gives_up_on_a_reply_that_keeps_killing_its_worker(sandbox_a, app_a, agent_a, fast_sending):
    fast_sending.HUB_SEND_MAX_ATTEMPTS = 2
    message = _reply(app_a, agent_a, "poison")
    past = timezone.now() - timedelta(seconds=1)
    Message.objects.filter(pk=message.pk).update(attempt_count=2, locked_until=past)
    SendAttempt.objects.create(message=message, number=1, started_at=past, outcome="transient")
    SendAttempt.objects.create(message=message, number=2, started_at=past)

    do_requeue_stalled_replies(grace_seconds=0)

    message.refresh_from_db()
    assert message.status == "failed"
    assert message.error_code == "worker_lost"
    assert message.error_message == "Not sent after 2 attempts: the worker stopped while sending."
