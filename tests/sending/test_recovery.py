"""Crash safety: a pending reply whose worker died is made due again and sent; nothing else is touched.

The replies table is the queue, so there is no task to lose between a commit and a queue: a stored reply
is due until a worker leases it, and a lease that outlives its worker is the one thing to recover.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from conversations.actions.replies import do_recover_expired_leases, do_send_reply, due_replies
from conversations.models import Message, SendAttempt
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


def test_a_reply_stored_while_no_worker_ran_is_sent_when_one_starts(sandbox_a, app_a, agent_a, fast_sending):
    message = _reply(app_a, agent_a, "stored while down")

    with workers(1):
        wait_for(settled(message.pk), what="the reply sent")

    message.refresh_from_db()
    assert message.status == "sent"
    assert len(sandbox_a.accepted_sends()) == 1


def test_a_reply_a_killed_worker_was_sending_is_recovered_when_its_lease_expires(
    sandbox_a, app_a, agent_a, fast_sending
):
    message = _reply(app_a, agent_a, "killed mid-send")
    # What a worker killed during the Hub call leaves behind: a lease and an attempt in flight.
    now = timezone.now()
    Message.objects.filter(pk=message.pk).update(attempt_count=1, locked_until=now + timedelta(seconds=30))
    SendAttempt.objects.create(message=message, number=1, started_at=now)

    assert do_recover_expired_leases() == 0  # the lease still runs: maybe it is just slow
    assert not due_replies().exists()  # and no other worker takes it meanwhile
    Message.objects.filter(pk=message.pk).update(locked_until=now - timedelta(seconds=1))
    assert do_recover_expired_leases() == 1
    assert list(due_replies().values_list("pk", flat=True)) == [message.pk]

    with workers(1):
        wait_for(settled(message.pk), what="the reply sent")
    message.refresh_from_db()
    assert message.status == "sent"
    first, second = message.attempts.order_by("number")
    assert (first.outcome, first.error_code) == ("transient", "worker_lost")
    assert "may have sent it" in first.error_message
    assert (second.number, second.outcome) == (2, "accepted")


def test_the_sweep_leaves_replies_that_are_due_or_not_due_yet(sandbox_a, app_a, agent_a, fast_sending):
    due = _reply(app_a, agent_a, "due")
    later = _reply(app_a, agent_a, "later")
    Message.objects.filter(pk=later.pk).update(next_attempt_at=timezone.now() + timedelta(minutes=5))

    assert do_recover_expired_leases() == 0
    assert list(due_replies().values_list("pk", flat=True)) == [due.pk]
    assert not SendAttempt.objects.exists()


def test_the_sweep_gives_up_on_a_reply_that_keeps_killing_its_worker(sandbox_a, app_a, agent_a, fast_sending):
    fast_sending.HUB_SEND_MAX_ATTEMPTS = 2
    message = _reply(app_a, agent_a, "poison")
    past = timezone.now() - timedelta(seconds=1)
    Message.objects.filter(pk=message.pk).update(attempt_count=2, locked_until=past)
    SendAttempt.objects.create(message=message, number=1, started_at=past, outcome="transient")
    SendAttempt.objects.create(message=message, number=2, started_at=past)

    do_recover_expired_leases()

    message.refresh_from_db()
    assert message.status == "failed"
    assert message.error_code == "worker_lost"
    assert message.error_message == "Not sent after 2 attempts: the worker stopped while sending."
