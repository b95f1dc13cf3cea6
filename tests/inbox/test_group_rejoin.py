"""A tab whose group memberships the channel layer lost (a Redis restart, channels-redis' one-day expiry)
hears events again after its next heartbeat, and resyncs what it missed meanwhile."""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.utils import timezone

from channels_app.realtime import application_group, local_groups
from hubdash.asgi import application
from tests.inbox.inbox_support import connect, frames_until_quiet, make_conversation, sync_message
from tests.inbox.test_websocket import customer_writes

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_tab_whose_memberships_were_lost_hears_again_after_a_heartbeat(agent_a, app_a):
    conversation = make_conversation(app_a)

    async def scenario():
        from channels.db import database_sync_to_async

        inbox = await connect(agent_a, application)
        await inbox.send_json_to(sync_message(since=timezone.now().isoformat()))
        await frames_until_quiet(inbox)
        layer = get_channel_layer()
        # What a Redis restart does: the process's channel is no longer in the Application's group.
        await layer.group_discard(application_group(app_a.pk), local_groups(layer).channel)

        await database_sync_to_async(customer_writes)(conversation, "While deaf")
        deaf = await frames_until_quiet(inbox)

        await inbox.send_json_to({"type": "ping"})
        pong = await frames_until_quiet(inbox, first=15)
        await database_sync_to_async(customer_writes)(conversation, "Heard again")
        heard = await frames_until_quiet(inbox, first=15)  # a busy machine draws slowly
        await inbox.disconnect()
        return deaf, pong, heard

    deaf, pong, heard = async_to_sync(scenario)()

    assert deaf == []  # the positive control: with the membership gone, nothing arrives
    assert len(pong) == 1 and pong[0].startswith("<!--live-->")
    html = "".join(heard)
    assert "Heard again" in html
    # The event published while deaf is missing from the publisher's sequence: the frame says so, and
    # the page resyncs from its cursor (which brings "While deaf").
    assert "data-gap" in html


def test_the_process_joins_its_groups_again_by_itself_without_a_heartbeat(agent_a, app_a):
    """A restarted Redis may never make a read fail: the process joins its groups again on a timer, so
    tabs hear again within seconds, not at their next heartbeat (25 s)."""
    conversation = make_conversation(app_a)

    async def scenario():
        import asyncio

        from channels.db import database_sync_to_async

        layer = get_channel_layer()
        local_groups(layer).REJOIN_EVERY = 0.2  # this test's loop's own instance
        inbox = await connect(agent_a, application)
        await inbox.send_json_to(sync_message(since=timezone.now().isoformat()))
        await frames_until_quiet(inbox)
        await layer.group_discard(application_group(app_a.pk), local_groups(layer).channel)

        deadline = asyncio.get_running_loop().time() + 20
        heard: list[str] = []
        n = 0
        while not heard and asyncio.get_running_loop().time() < deadline:
            n += 1
            await database_sync_to_async(customer_writes)(conversation, f"Anyone there {n}")
            heard = await frames_until_quiet(inbox, first=1.0)
        await inbox.disconnect()
        return heard

    html = "".join(async_to_sync(scenario)())
    assert "Anyone there" in html
