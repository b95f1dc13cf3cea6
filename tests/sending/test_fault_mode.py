"""The Done-when of issue 4, over real HTTP against the sandbox in fault mode."""

from __future__ import annotations

from collections import Counter

import pytest

from conversations.actions.replies import do_send_reply
from conversations.models import Message, SendAttempt
from tests.sending.conftest import key, make_conversation, settled, workers
from tests.support import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def test_200_replies_with_30_percent_of_sends_failing_all_go_out_each_exactly_once(
    sandbox_a, app_a, agent_a, fast_sending
):
    # ~30 % of sends fail: 500s, and timeouts where the Hub did NOT take the message (read timeout 0.4 s).
    sandbox_a.configure(sendErrorRate=0.15, sendTimeoutRate=0.18, timeoutSeconds=1.0)
    conversations = [make_conversation(app_a, "telegram", external_id=str(100000 + i)) for i in range(10)] + [
        make_conversation(app_a, "sms", external_id=f"+1415555{i:04d}") for i in range(10)
    ]
    ids = [
        do_send_reply(
            conversation=conversations[n % 20],
            author=agent_a,
            content={"text": f"reply #{n}"},
            idempotency_key=key(),
        ).pk
        for n in range(200)
    ]

    with workers(2):
        wait_for(settled(*ids), timeout=120, what="200 replies settled")

    statuses = Counter(Message.objects.filter(pk__in=ids).values_list("status", flat=True))
    assert statuses == {"sent": 200}
    accepted = Counter(send["content"]["text"] for send in sandbox_a.accepted_sends())
    assert accepted == {f"reply #{n}": 1 for n in range(200)}  # each exactly once
    attempts = sandbox_a.send_attempts()
    assert attempts["byStatus"].get("500", 0) > 10  # the faults really happened...
    transient = SendAttempt.objects.filter(message_id__in=ids, outcome="transient")
    assert transient.filter(error_code="timeout").count() > 10
    # ...and every HTTP call that reached the Hub is on record, failed or not. (A connect timeout never
    # reached it: with several calls in flight, the sandbox's short listen queue sometimes drops one.)
    reached = SendAttempt.objects.filter(message_id__in=ids).exclude(error_code="connect_timeout")
    assert reached.count() == attempts["count"]
    assert not SendAttempt.objects.filter(outcome="in_flight").exists()
