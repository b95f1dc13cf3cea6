"""The indexes every stored message writes to: each serves a read that no other index serves.

A message from a customer writes its delivery row, the message and its thread's counters; every index on
those tables is one more entry written per event (the thread's row changes indexed columns, so each of its
indexes too). An index whose columns lead another index serves no read the other cannot: it was dropped,
and this keeps it so. Indexes that only some rows need are partial, so a customer's message skips them.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from conversations.models import Message
from tests.ingest.ingest_support import make_reply, message_event, post_event, status_event, store_send_result

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's catalogue and plans"),
]

WRITE_PATH = ("conversations_webhookevent", "conversations_message", "conversations_conversation")


def _btree_indexes(table: str) -> list[tuple[str, bool, bool, tuple[str, ...]]]:
    """(name, unique, partial, key columns) of each B-tree index of `table`."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT i.relname, x.indisunique, x.indpred IS NOT NULL,
                ARRAY(
                    SELECT a.attname FROM generate_subscripts(x.indkey, 1) AS k(n)
                    JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = x.indkey[k.n]
                    WHERE k.n < x.indnkeyatts ORDER BY k.n
                )
            FROM pg_index x
            JOIN pg_class i ON i.oid = x.indexrelid
            JOIN pg_class t ON t.oid = x.indrelid
            JOIN pg_am am ON am.oid = i.relam
            WHERE t.relname = %s AND am.amname = 'btree'
            """,
            [table],
        )
        return [
            (name, unique, partial, tuple(columns)) for name, unique, partial, columns in cursor.fetchall()
        ]


@pytest.mark.parametrize("table", WRITE_PATH)
def test_no_index_on_the_write_path_is_served_by_another(table):
    indexes = _btree_indexes(table)
    assert indexes  # the catalogue query found the table's indexes
    full = [(name, columns) for name, _unique, partial, columns in indexes if not partial]

    redundant = [
        (name, other)
        for name, unique, partial, columns in indexes
        if not unique and not partial
        for other, longer in full
        if other != name and longer[: len(columns)] == columns
    ]

    assert redundant == []


def _rows_in(index: str, message_id: int) -> int:
    """Whether a partial index holds this message: it holds exactly the rows its condition admits."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_get_expr(x.indpred, x.indrelid) FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid"
            " WHERE i.relname = %s",
            [index],
        )
        (condition,) = cursor.fetchone()
        cursor.execute(
            f"SELECT count(*) FROM conversations_message WHERE id = %s AND ({condition})", [message_id]
        )
        return cursor.fetchone()[0]


def test_a_customers_message_skips_the_indexes_of_replies_and_authors(hub, app_a, whatsapp_a, agent_a):
    assert post_event(hub, app_a, message_event(whatsapp_a, message_id="wamid.in-1")).status_code == 200
    customers = Message.objects.get(hub_message_id="wamid.in-1")
    reply = make_reply(whatsapp_a, external_id="5521900000001")
    Message.objects.filter(pk=reply.pk).update(author=agent_a)
    store_send_result(reply, "wamid.reply-1", "enqueued")

    assert [_rows_in(index, customers.pk) for index in ("reply_hub_id", "message_author")] == [0, 0]
    assert [_rows_in(index, reply.pk) for index in ("reply_hub_id", "message_author")] == [1, 1]


def test_a_status_report_finds_its_reply_through_an_index(hub, app_a, whatsapp_a):
    reply = make_reply(whatsapp_a)
    store_send_result(reply, "wamid.reply-7", "enqueued")

    with CaptureQueriesContext(connection) as queries:
        response = post_event(hub, app_a, status_event("wamid.reply-7", "delivered", timestamp=1767225662))
    assert response.json()["outcome"] == "processed"
    reply.refresh_from_db()
    assert reply.status == Message.Status.DELIVERED

    # The lookup the report ran, planned again with a full scan priced out: only an index answers it.
    lookup = next(
        q["sql"]
        for q in queries.captured_queries
        if "FOR UPDATE" in q["sql"] and "hub_message_id" in q["sql"]
    )
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + lookup)
        plan = "\n".join(row for (row,) in cursor.fetchall())
    assert "reply_hub_id" in plan, plan
