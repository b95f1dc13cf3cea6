"""Concurrent deliveries: real transactions from real threads, each with its own database connection.

On PostgreSQL the unique indexes make the losers wait for the winner and then fail their insert; on
SQLite the IMMEDIATE transactions queue the writers. Either way: one message, one contact, one thread.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from django.test import Client

from conversations.models import Contact, Conversation, Message, WebhookEvent
from tests.ingest.ingest_support import encode, message_event, signed, webhook_path

pytestmark = pytest.mark.django_db(transaction=True)

THREADS = 10


def post_from_threads(application, bodies: list[bytes]) -> list[int]:
    barrier = threading.Barrier(len(bodies))

    def deliver(body: bytes) -> int:
        client = Client()
        try:
            barrier.wait(timeout=10)  # all threads post at the same moment
            return client.post(
                webhook_path(application), data=body, content_type="application/json", headers=signed(body)
            ).status_code
        finally:
            connection.close()  # this thread's own connection

    with ThreadPoolExecutor(max_workers=len(bodies)) as pool:
        return list(pool.map(deliver, bodies))


def test_same_message_posted_by_ten_threads_at_once_is_stored_once(app_a, whatsapp_a):
    body = encode(message_event(whatsapp_a, message_id="wamid.concurrent"))

    statuses = post_from_threads(app_a, [body] * THREADS)

    assert statuses == [200] * THREADS
    assert Message.objects.count() == 1
    assert Contact.objects.count() == 1
    assert Conversation.objects.count() == 1
    assert Conversation.objects.get().unread_count == 1
    outcomes = sorted(WebhookEvent.objects.values_list("outcome", flat=True))
    assert outcomes == ["duplicate"] * (THREADS - 1) + ["processed"]


def test_ten_different_messages_of_a_new_customer_at_once_make_one_conversation(app_a, whatsapp_a):
    bodies = [encode(message_event(whatsapp_a, message_id=f"wamid.{n}")) for n in range(THREADS)]

    statuses = post_from_threads(app_a, bodies)

    assert statuses == [200] * THREADS
    assert Contact.objects.count() == 1
    conversation = Conversation.objects.get()
    assert conversation.messages.count() == THREADS
    assert conversation.unread_count == THREADS  # every increment kept: counted under the row lock
    assert conversation.last_message is not None


# A customer we know: on PostgreSQL the hot path, one statement per delivery (conversations/actions/inbound.py).


def test_same_message_of_a_known_customer_posted_by_ten_threads_at_once_is_stored_once(app_a, whatsapp_a):
    post_from_threads(app_a, [encode(message_event(whatsapp_a, message_id="wamid.first"))])
    body = encode(message_event(whatsapp_a, message_id="wamid.concurrent"))

    statuses = post_from_threads(app_a, [body] * THREADS)

    assert statuses == [200] * THREADS
    assert Message.objects.filter(hub_message_id="wamid.concurrent").count() == 1
    assert Conversation.objects.get().unread_count == 2
    outcomes = sorted(
        WebhookEvent.objects.exclude(dedup_key__endswith=":wamid.first").values_list("outcome", flat=True)
    )
    assert outcomes == ["duplicate"] * (THREADS - 1) + ["processed"]


def test_ten_messages_of_a_known_customer_at_once_each_count_once(app_a, whatsapp_a):
    post_from_threads(app_a, [encode(message_event(whatsapp_a, message_id="wamid.first"))])
    bodies = [encode(message_event(whatsapp_a, message_id=f"wamid.{n}")) for n in range(THREADS)]

    statuses = post_from_threads(app_a, bodies)

    assert statuses == [200] * THREADS
    conversation = Conversation.objects.get()
    assert conversation.messages.count() == THREADS + 1
    assert conversation.unread_count == THREADS + 1  # every increment kept: counted under the row lock
    assert conversation.last_message is not None
