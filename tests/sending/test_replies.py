"""The send path: a reply is stored first, sent by a worker over real HTTP to the sandbox, and every
outcome (accepted, refused, failed for a while) ends in a state an agent can read."""

from __future__ import annotations

import itertools
import random
import threading

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from channels_app.hub.content import ContentError
from channels_app.models import Channel
from channels_app.realtime import application_group
from conversations.actions.replies import (
    NotRetriable,
    backoff_seconds,
    do_attempt_send,
    do_retry_reply,
    do_send_reply,
    due_replies,
)
from conversations.models import Message, SendAttempt
from tests.sending.conftest import key, make_conversation, settled, workers
from tests.support import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def _sends(sandbox, text: str) -> list[dict]:
    return [s for s in sandbox.accepted_sends() if s["content"].get("text") == text]


def test_a_reply_is_stored_pending_with_its_author_and_announced_at_once(
    sandbox_a, app_a, agent_a, fast_sending
):
    conversation = make_conversation(app_a, "telegram")
    layer = get_channel_layer()
    inbox = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(application_group(app_a.pk), inbox)

    message = do_send_reply(
        conversation=conversation, author=agent_a, content={"text": "On its way"}, idempotency_key=key()
    )

    message.refresh_from_db()
    assert (message.status, message.author, message.direction, message.preview) == (
        "pending",
        agent_a,
        "out",
        "On its way",
    )
    conversation.refresh_from_db()
    assert conversation.last_message_id == message.pk
    event = async_to_sync(layer.receive)(inbox)
    assert {k: event[k] for k in ("type", "application_id", "conversation_id", "message_id")} == {
        "type": "message.created",
        "application_id": app_a.pk,
        "conversation_id": conversation.pk,
        "message_id": message.pk,
    }
    # Due at once: it is the first reply a worker takes.
    assert list(due_replies().values_list("pk", flat=True)) == [message.pk]


def test_a_queued_reply_goes_out_once_and_keeps_the_hubs_id_and_status(
    sandbox_a, app_a, agent_a, fast_sending
):
    telegram = do_send_reply(
        conversation=make_conversation(app_a, "telegram"),
        author=agent_a,
        content={"text": "tg"},
        idempotency_key=key(),
    )
    whatsapp = do_send_reply(
        conversation=make_conversation(app_a, "whatsapp"),
        author=agent_a,
        content={"text": "wa"},
        idempotency_key=key(),
    )

    with workers(1):
        wait_for(settled(telegram.pk, whatsapp.pk), what="both replies sent")

    telegram.refresh_from_db()
    whatsapp.refresh_from_db()
    [tg_send] = _sends(sandbox_a, "tg")
    [wa_send] = _sends(sandbox_a, "wa")
    assert (telegram.status, telegram.hub_message_id) == ("sent", tg_send["messageId"])
    # docs/hub.md, Sending: WhatsApp answers `enqueued` (accepted into the provider's queue).
    assert (whatsapp.status, whatsapp.hub_message_id) == ("enqueued", wa_send["messageId"])
    assert tg_send["to"] == "987654321"
    [attempt] = telegram.attempts.all()
    assert (attempt.outcome, attempt.http_status, attempt.number) == ("accepted", 200, 1)
    assert attempt.finished_at is not None


def test_the_same_form_posted_twice_stores_one_message_and_sends_it_once(
    sandbox_a, app_a, agent_a, fast_sending
):
    conversation = make_conversation(app_a, "sms")
    form_key = key()
    first = do_send_reply(
        conversation=conversation, author=agent_a, content={"text": "once"}, idempotency_key=form_key
    )
    second = do_send_reply(
        conversation=conversation, author=agent_a, content={"text": "once"}, idempotency_key=form_key
    )
    assert first.pk == second.pk

    with workers(2):
        wait_for(settled(first.pk), what="the reply sent")
        # Nothing is left due, so no worker can send it again: the queue is the replies themselves.
        assert not due_replies().exists()

    assert Message.objects.filter(direction="out").count() == 1
    assert len(_sends(sandbox_a, "once")) == 1
    assert SendAttempt.objects.filter(message=first).count() == 1


def test_a_double_click_racing_itself_still_stores_one_message(sandbox_a, app_a, agent_a, fast_sending):
    conversation = make_conversation(app_a, "telegram")
    form_key = key()
    results: list[int] = []
    barrier = threading.Barrier(2)

    def click() -> None:
        from django.db import connection

        try:
            barrier.wait()
            results.append(
                do_send_reply(
                    conversation=conversation,
                    author=agent_a,
                    content={"text": "race"},
                    idempotency_key=form_key,
                ).pk
            )
        finally:
            connection.close()

    threads = [threading.Thread(target=click) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 2 and results[0] == results[1]
    with workers(1):
        wait_for(settled(results[0]), what="the reply sent")
    assert len(_sends(sandbox_a, "race")) == 1


def test_an_invalid_api_key_fails_at_once_with_a_reason_an_agent_understands(
    sandbox_a, app_a, agent_a, fast_sending
):
    app_a.set_api_key("hubkey-revoked-0000-0000-0000-dead")
    app_a.save()
    message = do_send_reply(
        conversation=make_conversation(app_a, "telegram"),
        author=agent_a,
        content={"text": "k"},
        idempotency_key=key(),
    )

    with workers(1):
        wait_for(settled(message.pk), what="the reply failed")
        assert not due_replies().exists()  # and no later attempt is waiting

    message.refresh_from_db()
    assert message.status == "failed"
    assert (
        message.error_message
        == "The Hub refused this Application's API key (401) — ask an admin to check it."
    )
    [attempt] = message.attempts.all()  # no retry
    assert (attempt.outcome, attempt.http_status) == ("permanent", 401)
    assert sandbox_a.accepted_sends() == []


def test_a_400_from_the_hub_fails_the_reply_with_the_hubs_error_message(
    sandbox_a, app_a, agent_a, fast_sending
):
    # A reply stored before our checks learnt a rule: the Hub's 400 must still reach the agent verbatim.
    conversation = make_conversation(app_a, "whatsapp")
    message = Message.objects.create(
        conversation=conversation,
        channel=conversation.channel,
        direction="out",
        content={"text": "see", "image_url": "https://x.example/a.png"},
        status="pending",
        author=agent_a,
    )

    assert do_attempt_send(message_id=message.pk) == "failed"

    message.refresh_from_db()
    assert message.status == "failed"
    assert "unknown content field(s): 'image_url'" in message.error_message
    assert message.error_message.startswith("The Hub rejected this reply (HTTP 400)")
    [attempt] = message.attempts.all()
    assert (attempt.outcome, attempt.http_status) == ("permanent", 400)


def test_a_channel_refusal_with_http_200_fails_with_the_providers_code_and_message(
    sandbox_a, app_a, agent_a, fast_sending
):
    sandbox_a.configure(
        failingRecipients={
            "5521987654321": {"errorCode": "131026", "errorMessage": "Recipient is not a WhatsApp user"}
        }
    )
    message = do_send_reply(
        conversation=make_conversation(app_a, "whatsapp"),
        author=agent_a,
        content={"text": "x"},
        idempotency_key=key(),
    )

    assert do_attempt_send(message_id=message.pk) == "failed"

    message.refresh_from_db()
    assert (message.status, message.error_code, message.error_message) == (
        "failed",
        "131026",
        "Recipient is not a WhatsApp user",
    )
    assert message.attempts.get().outcome == "rejected"
    assert message.status_changes.filter(status="failed", source="send").count() == 1


def test_transient_failures_are_retried_with_growing_waits_then_fail_with_the_last_reason(
    sandbox_a, app_a, agent_a, fast_sending
):
    fast_sending.HUB_SEND_MAX_ATTEMPTS = 4
    fast_sending.HUB_SEND_BACKOFF_BASE = 0.1
    fast_sending.HUB_SEND_BACKOFF_MAX = 1.0
    sandbox_a.configure(sendErrorRate=1.0)
    message = do_send_reply(
        conversation=make_conversation(app_a, "telegram"),
        author=agent_a,
        content={"text": "t"},
        idempotency_key=key(),
    )

    with workers(1):
        wait_for(settled(message.pk), timeout=20, what="the reply failed")

    message.refresh_from_db()
    attempts = list(message.attempts.order_by("number"))
    assert [a.outcome for a in attempts] == ["transient"] * 4
    assert {a.http_status for a in attempts} == {500}
    gaps = [(b.started_at - a.finished_at).total_seconds() for a, b in itertools.pairwise(attempts)]
    # Equal jitter: at least half of 0.1, 0.2, 0.4 s.
    assert all(gap >= floor for gap, floor in zip(gaps, [0.05, 0.1, 0.2], strict=True)), gaps
    assert message.status == "failed"
    assert message.error_message.startswith(
        "Not sent after 4 attempts. Last error: The Hub had an internal error (HTTP 500"
    )
    assert sandbox_a.send_attempts()["count"] == 4


def test_backoff_grows_exponentially_with_jitter_and_is_capped(settings):
    settings.HUB_SEND_BACKOFF_BASE = 2.0
    settings.HUB_SEND_BACKOFF_MAX = 300.0
    rng = random.Random(7)
    for attempt, ceiling in [(1, 2), (2, 4), (3, 8), (8, 256), (9, 300), (20, 300)]:
        waits = [backoff_seconds(attempt, rng=rng) for _ in range(50)]
        assert all(ceiling / 2 <= w <= ceiling for w in waits)
        assert len(set(waits)) > 1  # jittered


def test_a_read_timeout_after_the_hub_accepted_is_retried_the_documented_at_least_once_window(
    sandbox_a, app_a, agent_a, fast_sending
):
    sandbox_a.configure(sendTimeoutAfterAcceptRate=1.0, timeoutSeconds=1.0)
    message = do_send_reply(
        conversation=make_conversation(app_a, "telegram"),
        author=agent_a,
        content={"text": "maybe"},
        idempotency_key=key(),
    )

    assert do_attempt_send(message_id=message.pk) == "retry"
    message.refresh_from_db()
    assert message.status == "pending"
    assert message.attempts.get().error_code == "timeout"

    sandbox_a.configure(sendTimeoutAfterAcceptRate=0.0)
    with workers(1):
        wait_for(settled(message.pk), what="the reply sent")
    message.refresh_from_db()
    assert message.status == "sent"
    # The Hub got it twice: the price of never losing a reply when its answer is lost (README).
    assert len(_sends(sandbox_a, "maybe")) == 2


def test_a_read_timeout_fails_the_reply_when_configured_at_most_once(sandbox_a, app_a, agent_a, fast_sending):
    fast_sending.HUB_SEND_RETRY_ON_READ_TIMEOUT = False
    sandbox_a.configure(sendTimeoutAfterAcceptRate=1.0, timeoutSeconds=1.0)
    message = do_send_reply(
        conversation=make_conversation(app_a, "telegram"),
        author=agent_a,
        content={"text": "m"},
        idempotency_key=key(),
    )

    assert do_attempt_send(message_id=message.pk) == "failed"

    message.refresh_from_db()
    assert message.status == "failed"
    assert "may have sent the reply" in message.error_message
    assert "Check with the customer" in message.error_message


def test_a_manual_retry_really_sends_again_as_a_new_attempt(sandbox_a, app_a, agent_a, fast_sending):
    # A transient failure that used up its attempts: the one kind of failure a retry can mend.
    fast_sending.HUB_SEND_MAX_ATTEMPTS = 1
    sandbox_a.configure(sendErrorRate=1.0)
    message = do_send_reply(
        conversation=make_conversation(app_a, "telegram"),
        author=agent_a,
        content={"text": "again"},
        idempotency_key=key(),
    )
    assert do_attempt_send(message_id=message.pk) == "failed"
    message.refresh_from_db()
    assert not message.permanent_failure
    sandbox_a.configure(sendErrorRate=0.0)

    do_retry_reply(message_id=message.pk, actor=agent_a)
    message.refresh_from_db()
    assert (message.status, message.error_message) == ("pending", "")
    with workers(1):
        wait_for(settled(message.pk), what="the retried reply sent")

    message.refresh_from_db()
    assert message.status == "sent"
    attempts = list(message.attempts.order_by("number"))
    assert [(a.number, a.outcome, a.manual) for a in attempts] == [
        (1, "transient", False),
        (2, "accepted", True),
    ]
    assert attempts[0].http_status == 500  # the history keeps the old reason
    assert list(message.status_changes.values_list("status", "source")) == [
        ("failed", "send"),
        ("pending", "retry"),
        ("sent", "send"),
    ]
    assert len(_sends(sandbox_a, "again")) == 1


def test_only_a_failed_reply_can_be_retried(sandbox_a, app_a, agent_a, fast_sending):
    message = do_send_reply(
        conversation=make_conversation(app_a, "telegram"),
        author=agent_a,
        content={"text": "ok"},
        idempotency_key=key(),
    )
    with pytest.raises(ContentError, match="Only a failed reply"):
        do_retry_reply(message_id=message.pk, actor=agent_a)


def test_nothing_is_stored_for_a_reply_the_channel_cannot_carry(app_a, agent_a):
    conversation = make_conversation(app_a, "sms")
    with pytest.raises(ContentError, match="Locations can't be sent on SMS"):
        do_send_reply(
            conversation=conversation,
            author=agent_a,
            content={"location": {"latitude": 1, "longitude": 2}},
            idempotency_key=key(),
        )
    Channel.objects.filter(pk=conversation.channel_id).update(active=False)
    with pytest.raises(ContentError, match="deactivated"):
        do_send_reply(
            conversation=conversation, author=agent_a, content={"text": "hi"}, idempotency_key=key()
        )
    closed = make_conversation(app_a, "whatsapp", wrote_minutes_ago=60 * 25)
    with pytest.raises(ContentError, match="24-hour window closed"):
        do_send_reply(conversation=closed, author=agent_a, content={"text": "hi"}, idempotency_key=key())
    assert not Message.objects.exists()
    assert not due_replies().exists()


def test_replies_wait_pending_while_the_hub_is_down_and_go_out_when_it_is_back(
    sandbox_a, app_a, agent_a, fast_sending
):
    conversations = [make_conversation(app_a, kind) for kind in ("telegram", "sms", "instagram")]
    sandbox_a.stop()
    try:
        ids = [
            do_send_reply(
                conversation=c, author=agent_a, content={"text": f"down {i}"}, idempotency_key=key()
            ).pk
            for i, c in enumerate(conversations)
        ]
        with workers(1):
            wait_for(
                lambda: SendAttempt.objects.filter(message_id__in=ids, outcome="transient").count() >= 6,
                what="a few failed attempts while the Hub is down",
            )
            assert set(Message.objects.filter(pk__in=ids).values_list("status", flat=True)) == {"pending"}
            assert (
                "could not reach the Hub"
                in SendAttempt.objects.filter(message_id__in=ids).first().error_message
            )
        sandbox_a.start()
        with workers(1):
            wait_for(settled(*ids), what="the replies sent once the Hub is back")
    finally:
        sandbox_a.start()

    assert set(Message.objects.filter(pk__in=ids).values_list("status", flat=True)) == {"sent"}
    for i in range(3):
        assert len(_sends(sandbox_a, f"down {i}")) == 1


@pytest.mark.parametrize(
    "setup",
    [
        {
            "failingRecipients": {
                "987654321": {"errorCode": "403", "errorMessage": "bot was blocked by the user"}
            }
        },
        {"failingRecipients": {}},  # the 400 below
    ],
    ids=["channel-refusal", "http-400"],
)
def test_a_reply_refused_for_its_content_is_not_retried_as_is(sandbox_a, app_a, agent_a, fast_sending, setup):
    sandbox_a.configure(**setup)
    conversation = make_conversation(app_a, "telegram")
    content = (
        {"text": "again"} if setup["failingRecipients"] else {"text": "x", "image_url": "https://x.example/a"}
    )
    message = Message.objects.create(
        conversation=conversation, channel=conversation.channel, direction="out", content=content,
        status="pending", author=agent_a,
    )  # fmt: skip
    assert do_attempt_send(message_id=message.pk) == "failed"
    message.refresh_from_db()
    assert message.permanent_failure

    with pytest.raises(NotRetriable, match="Edit and resend"):
        do_retry_reply(message_id=message.pk, actor=agent_a)
    message.refresh_from_db()
    assert (message.status, message.attempts.count()) == ("failed", 1)  # nothing half-done
