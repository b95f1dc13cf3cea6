"""The worker's batch path: a turn leases several due replies at once, their Hub calls run concurrently,
and their answers are stored together, with the same guarantees as one reply at a time."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import IntegrityError, connection

from channels_app.hub.client import SendResult
from channels_app.models import Application, Channel
from channels_app.realtime import application_group
from conversations.actions.replies import (
    SendLease,
    SendOutcome,
    do_send_reply,
    do_send_step,
    due_replies,
    send_to_hub,
)
from conversations.actions.statuses import do_record_status
from conversations.models import Message, MessageStatusChange, SendAttempt
from conversations.worker import ReplyWorker
from tests.sending.conftest import key, make_conversation, settled, workers
from tests.support import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def _replies(app, agent, kind: str, count: int, text: str = "r") -> list[Message]:
    conversation = make_conversation(app, kind)
    return [
        do_send_reply(
            conversation=conversation, author=agent, content={"text": f"{text} {n}"}, idempotency_key=key()
        )
        for n in range(count)
    ]


def _lease(want: int) -> list[SendLease]:
    step = do_send_step(want=want)
    assert step.outcomes == []
    return step.leases


def test_a_turn_leases_at_most_what_it_asks_for_oldest_first_each_with_an_attempt_in_flight(
    sandbox_a, app_a, agent_a, fast_sending
):
    replies = _replies(app_a, agent_a, "telegram", 5)

    leases = _lease(3)

    assert [lease.message_id for lease in leases] == [m.pk for m in replies[:3]]
    assert [lease.number for lease in leases] == [1, 1, 1]
    assert lease_contents(leases) == ["r 0", "r 1", "r 2"]
    in_flight = SendAttempt.objects.filter(outcome="in_flight")
    assert sorted(in_flight.values_list("message_id", flat=True)) == [m.pk for m in replies[:3]]
    assert sorted(due_replies().values_list("pk", flat=True)) == [m.pk for m in replies[3:]]
    assert {lease.to for lease in leases} == {"987654321"}
    assert {lease.hub_channel_id for lease in leases} == {
        str(Channel.objects.get(application=app_a, kind="telegram").hub_channel_id)
    }


def lease_contents(leases: list[SendLease]) -> list[str]:
    return [lease.content["text"] for lease in leases]


def test_two_workers_leasing_at_the_same_moment_never_take_the_same_reply(
    sandbox_a, app_a, agent_a, fast_sending
):
    replies = _replies(app_a, agent_a, "sms", 8)
    barrier = threading.Barrier(2)
    taken: list[list[int]] = []

    def take() -> None:
        try:
            barrier.wait()
            taken.append([lease.message_id for lease in do_send_step(want=6).leases])
        finally:
            connection.close()

    threads = [threading.Thread(target=take) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    first, second = taken
    assert not set(first) & set(second)
    assert len(first) + len(second) == 8  # 6 and 2: the second takes what the first left
    assert sorted(first + second) == [m.pk for m in replies]
    assert SendAttempt.objects.count() == 8


def test_answers_stored_in_one_turn_each_get_their_id_status_attempt_history_and_event(
    sandbox_a, app_a, agent_a, fast_sending
):
    telegram = _replies(app_a, agent_a, "telegram", 2, "tg")
    whatsapp = _replies(app_a, agent_a, "whatsapp", 1, "wa")
    layer = get_channel_layer()
    inbox = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(application_group(app_a.pk), inbox)

    outcomes = [send_to_hub(lease) for lease in _lease(5)]
    assert do_send_step(finished=outcomes).outcomes == ["sent", "sent", "sent"]

    sends = {send["content"]["text"]: send for send in sandbox_a.accepted_sends()}
    for message, status in [(telegram[0], "sent"), (telegram[1], "sent"), (whatsapp[0], "enqueued")]:
        message.refresh_from_db()
        send = sends[message.content["text"]]
        assert (message.status, message.hub_message_id) == (status, send["messageId"])
        assert message.locked_until is None and message.next_attempt_at is None
        assert message.sent_at is not None and message.status_changed_at == message.sent_at
        [attempt] = message.attempts.all()
        assert (attempt.outcome, attempt.http_status, attempt.error_message) == ("accepted", 200, "")
        assert attempt.hub_request_id and attempt.finished_at is not None
        [change] = message.status_changes.all()
        assert (change.status, change.source, change.applied, change.hub_message_id) == (
            status,
            "send",
            True,
            send["messageId"],
        )

    async def three_events() -> list[dict]:  # in one loop: channels-redis's receive keeps state per loop
        return [await layer.receive(inbox) for _ in range(3)]

    events = async_to_sync(three_events)()
    assert Counter((e["type"], e["message_id"], e["status"]) for e in events) == {
        ("message.status", telegram[0].pk, "sent"): 1,
        ("message.status", telegram[1].pk, "sent"): 1,
        ("message.status", whatsapp[0].pk, "enqueued"): 1,
    }
    assert not due_replies().exists()


def test_a_status_the_hub_reported_before_the_answer_was_stored_is_applied_with_it(
    sandbox_a, app_a, agent_a, fast_sending
):
    [message] = _replies(app_a, agent_a, "whatsapp", 1)
    [outcome] = [send_to_hub(lease) for lease in _lease(1)]
    assert outcome.result is not None and outcome.result.message_id
    # The Hub's `delivered` webhook beats our own storing of its answer: it is parked...
    do_record_status(application_id=app_a.pk, hub_message_id=outcome.result.message_id, status="delivered")
    assert MessageStatusChange.objects.filter(message__isnull=True).count() == 1

    do_send_step(finished=[outcome])

    # ...and applied once the answer is stored.
    message.refresh_from_db()
    assert message.status == "delivered"
    assert not MessageStatusChange.objects.filter(message__isnull=True).exists()
    assert list(message.status_changes.order_by("id").values_list("status", "source")) == [
        ("delivered", "webhook"),
        ("enqueued", "send"),
    ]


def test_storing_the_same_answers_again_changes_nothing(sandbox_a, app_a, agent_a, fast_sending):
    # What a worker does when it could not tell whether its commit went through: it stores them again.
    [message] = _replies(app_a, agent_a, "telegram", 1)
    outcomes = [send_to_hub(lease) for lease in _lease(1)]
    assert do_send_step(finished=outcomes).outcomes == ["sent"]

    assert do_send_step(finished=outcomes).outcomes == ["sent"]

    message.refresh_from_db()
    assert message.status == "sent"
    [attempt] = message.attempts.all()
    assert (attempt.outcome, attempt.error_message) == ("accepted", "")
    assert message.status_changes.count() == 1


def test_an_accepted_answer_for_a_reply_no_longer_pending_takes_the_full_status_rules(
    sandbox_a, app_a, agent_a, fast_sending
):
    given_up, normal = _replies(app_a, agent_a, "telegram", 2)
    outcomes = [send_to_hub(lease) for lease in _lease(2)]
    # Our answer came back after the sweep had given up on the reply (too many lost workers).
    Message.objects.filter(pk=given_up.pk).update(
        status="failed", error_code="worker_lost", locked_until=None
    )

    assert do_send_step(finished=outcomes).outcomes == ["sent", "sent"]

    for message in (given_up, normal):
        message.refresh_from_db()
        assert message.status == "sent"
        assert message.attempts.get().outcome == "accepted"
    assert list(given_up.status_changes.values_list("status", "source")) == [("sent", "send")]


def test_a_reply_whose_channel_was_deactivated_fails_at_lease_and_no_call_is_made(
    sandbox_a, app_a, agent_a, fast_sending
):
    [message] = _replies(app_a, agent_a, "sms", 1)
    Channel.objects.filter(pk=message.channel_id).update(active=False)

    step = do_send_step(want=4)

    assert (step.outcomes, step.leases) == (["failed"], [])
    message.refresh_from_db()
    assert (message.status, message.error_code) == ("failed", "channel_inactive")
    assert not message.attempts.exists()


def test_a_stored_key_that_cannot_be_decrypted_is_an_attempt_on_record_and_retried(
    sandbox_a, app_a, agent_a, fast_sending
):
    [message] = _replies(app_a, agent_a, "telegram", 1)
    with connection.cursor() as cursor:  # what a wrong FIELD_ENCRYPTION_KEYS looks like from here
        cursor.execute(
            f"UPDATE {Application._meta.db_table} SET hub_api_key = %s WHERE id = %s",
            ["not-a-token", app_a.pk],
        )

    [lease] = _lease(1)
    assert do_send_step(finished=[send_to_hub(lease)]).outcomes == ["retry"]

    attempt = message.attempts.get()
    assert (attempt.outcome, attempt.error_code) == ("transient", "internal")
    assert "FIELD_ENCRYPTION_KEYS" in attempt.error_message
    assert sandbox_a.send_attempts()["count"] == 0


def test_one_worker_keeps_several_calls_in_flight(sandbox_a, app_a, agent_a, fast_sending):
    sandbox_a.configure(latencyMs=100)
    replies = _replies(app_a, agent_a, "telegram", 8)

    with workers(1, threads=4):
        wait_for(settled(*(m.pk for m in replies)), what="the replies sent")

    assert Counter(Message.objects.filter(direction="out").values_list("status", flat=True)) == {"sent": 8}
    assert Counter(send["content"]["text"] for send in sandbox_a.accepted_sends()) == {
        f"r {n}": 1 for n in range(8)
    }
    # The first turn leased four replies at once (one attempt each, started together) for four threads.
    started_together = Counter(SendAttempt.objects.values_list("started_at", flat=True))
    assert max(started_together.values()) == 4


def test_an_answer_the_database_refuses_does_not_hold_up_the_others(sandbox_a, app_a, agent_a, fast_sending):
    first, second = _replies(app_a, agent_a, "telegram", 2)
    leases = _lease(2)
    # The Hub gives both the same id: the second cannot be stored (one message per Hub id and channel).
    same = SendResult(message_id="hub-id-given-twice", status="sent", request_id="r")
    outcomes = [SendOutcome(lease, same, None) for lease in leases]
    with pytest.raises(IntegrityError):
        do_send_step(finished=outcomes)

    assert ReplyWorker(worker_id="test")._store_one_by_one(outcomes) == 1

    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, first.hub_message_id) == ("sent", "hub-id-given-twice")
    # The other keeps its lease and in-flight attempt: the sweep sends it again once the lease expires.
    assert (second.status, second.hub_message_id) == ("pending", None)
    assert second.locked_until is not None
    assert second.attempts.get().outcome == "in_flight"


@pytest.mark.parametrize("hub_answer", ["accepted", "refused"])
def test_a_reply_deleted_during_its_hub_call_is_skipped_and_the_others_are_stored(
    sandbox_a, app_a, agent_a, fast_sending, hub_answer
):
    """A reply can vanish while its call is in flight (its conversation or its Application deleted, in
    the admin): its answer has nowhere to go, and the turn stores the others' as usual. Raising there
    ended the whole worker process, and with it every later reply's sending."""
    gone, kept = _replies(app_a, agent_a, "telegram", 2)
    leases = _lease(2)
    if hub_answer == "refused":
        sandbox_a.reset()  # the Hub no longer knows the key: 401, a permanent error
    outcomes = [send_to_hub(lease) for lease in leases]
    Message.objects.filter(pk=gone.pk).delete()  # its attempts go with it

    step = do_send_step(finished=outcomes)

    assert step.outcomes == ["skipped", "sent" if hub_answer == "accepted" else "failed"]
    kept.refresh_from_db()
    assert kept.status == ("sent" if hub_answer == "accepted" else "failed")
    assert kept.attempts.get().outcome == ("accepted" if hub_answer == "accepted" else "permanent")
    assert not Message.objects.filter(pk=gone.pk).exists()


def test_a_slow_hub_call_does_not_hold_up_the_replies_that_fall_due_meanwhile(
    sandbox_a, app_a, agent_a, settings
):
    """A worker with threads free keeps taking due replies while one call hangs (up to its read timeout,
    10 s by default): it used to wait for that call's answer before leasing anything else."""
    settings.HUB_READ_TIMEOUT = 60  # the slow call stays in flight for the whole test
    settings.HUB_SEND_LEASE_SECONDS = 120
    sandbox_a.configure(sendTimeoutAfterAcceptRate=1.0, timeoutSeconds=60)  # the Hub takes it, then hangs
    (slow,) = _replies(app_a, agent_a, "telegram", 1, "slow")
    try:
        with workers(1, threads=4):
            wait_for(lambda: sandbox_a.accepted_sends(), what="the Hub to take the slow reply")
            sandbox_a.configure(sendTimeoutAfterAcceptRate=0.0)
            quick = do_send_reply(
                conversation=slow.conversation,
                author=agent_a,
                content={"text": "quick"},
                idempotency_key=key(),
            )

            wait_for(settled(quick.pk), timeout=10, what="the reply that fell due during the slow call")

            quick.refresh_from_db()
            slow.refresh_from_db()
            assert quick.status == "sent"
            assert slow.status == "pending"  # its call is still in flight
            sandbox_a.reset()  # releases the hanging call, so the worker can stop
    finally:
        sandbox_a.reset()
