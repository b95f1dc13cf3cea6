"""A socket that fails on an event closes (4500), so its tab reconnects and resyncs, rather than staying
open and deaf; and a live frame survives PostgreSQL cutting the connections it would be drawn on (the
soak's `pg_terminate_backend` fault, docs/benchmarks.md)."""

from __future__ import annotations

import asyncio

import psycopg
import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import OperationalError, connection
from django.utils import timezone

from channels_app.database import read_again_if_cut
from channels_app.realtime import application_group, local_groups, stamp
from conversations.consumers import CLOSE_FAILED
from hubdash.asgi import application
from tests.inbox.inbox_support import connect, frames_until_quiet, make_conversation, sync_message
from tests.inbox.test_websocket import customer_writes

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_socket_that_fails_on_an_event_is_closed_and_the_process_keeps_delivering(agent_a, app_a):
    """The failing socket was the process's last member of the group: before the fix, leaving stopped
    the process's reader from inside that very reader, which cancelled it, close and all."""
    conversation = make_conversation(app_a)

    async def scenario():
        from channels.db import database_sync_to_async

        layer = get_channel_layer()
        group = application_group(app_a.pk)
        failing = await connect(agent_a, application)
        await failing.send_json_to(sync_message(since=timezone.now().isoformat()))
        await frames_until_quiet(failing)
        reader = local_groups(layer)._reader
        # An event no consumer can handle: `dispatch` raises, as a draw failing on the database did.
        await layer.group_send(group, stamp(group, {"type": "no.such.event", "application_id": app_a.pk}))
        closed = await failing.receive_output(timeout=10)
        # With its last socket gone, the process's reader ends by reading its stop, not by a
        # cancellation (which, in daphne, could take the failed socket's close with it).
        await asyncio.wait({reader}, timeout=10)
        reader_cancelled = reader.cancelled()

        # The process still hears its groups: a tab that connects now gets the next event live.
        fresh = await connect(agent_a, application)
        await fresh.send_json_to(sync_message(since=timezone.now().isoformat()))
        await frames_until_quiet(fresh)
        await database_sync_to_async(customer_writes)(conversation, "After the failure")
        heard = await frames_until_quiet(fresh, first=15)
        await fresh.disconnect()
        return closed, reader_cancelled, heard

    closed, reader_cancelled, heard = async_to_sync(scenario)()

    assert closed == {"type": "websocket.close", "code": CLOSE_FAILED}
    assert not reader_cancelled
    assert "After the failure" in "".join(heard)


@pytest.fixture
def heal_after():
    """Leave the pool as the next test expects it: its dead connections replaced."""
    yield
    connection.close()
    connection.pool.check()


def _cut_every_other_connection() -> int:
    """What the soak's fault does: end every backend of the test database but a fresh one of our own."""
    params = connection.get_connection_params()
    with psycopg.connect(
        dbname=settings.DATABASES["default"]["NAME"],
        **{k: params[k] for k in ("host", "port", "user") if params.get(k)},
        autocommit=True,
    ) as own:
        return len(
            own.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            ).fetchall()
        )


@pytest.mark.skipif(connection.vendor != "postgresql", reason="cuts PostgreSQL's connections")
def test_a_read_whose_connection_was_cut_is_read_again_on_a_fresh_one(app_a, heal_after):
    def application_name() -> str:
        with connection.cursor() as cursor:
            cursor.execute("SELECT name FROM channels_app_application WHERE id = %s", [app_a.pk])
            return str(cursor.fetchone()[0])

    assert application_name() == app_a.name  # this thread now holds a connection
    assert _cut_every_other_connection() >= 1
    assert read_again_if_cut(application_name)() == app_a.name

    # The positive control: cut again, and the bare read fails as the frame's draw did.
    assert _cut_every_other_connection() >= 1
    with pytest.raises(OperationalError):
        application_name()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="cuts PostgreSQL's connections")
def test_a_live_frame_is_drawn_after_postgresql_cut_the_connections(agent_a, app_a, heal_after):
    conversation = make_conversation(app_a)

    async def scenario():
        from channels.db import database_sync_to_async

        layer = get_channel_layer()
        group = application_group(app_a.pk)
        inbox = await connect(agent_a, application)
        # Written before the tab syncs (so its own event draws nothing) and after what the sync covers.
        await database_sync_to_async(customer_writes)(conversation, "Written before the cut")
        await inbox.send_json_to(sync_message(since=timezone.now().isoformat()))
        await frames_until_quiet(inbox)
        # Every pooled connection, the one the frame will be drawn on among them, is dead after this;
        # then an event about that conversation, as the next action would publish it.
        await database_sync_to_async(_cut_every_other_connection)()
        event = {
            "type": "conversation.updated",
            "application_id": app_a.pk,
            "conversation_id": conversation.pk,
        }
        await layer.group_send(group, stamp(group, event))
        frames = await frames_until_quiet(inbox, first=15)
        await inbox.disconnect()
        return frames

    frames = async_to_sync(scenario)()
    assert len(frames) == 1
    assert "Written before the cut" in frames[0]
