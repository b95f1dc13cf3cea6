"""Through daphne itself, not the test communicator: a socket that fails on an event is closed with a
code daphne's websocket library accepts and the page reconnects on, so its tab resyncs instead of staying
open with no group (deaf). Daphne refuses an application's 1011; the communicator does not.

Not a Playwright test, but it needs the browser suite's stack: a committed database, Redis, and daphne
started as a subprocess (tests/browser/conftest.py).
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import pytest
from channels.layers import get_channel_layer

from channels_app.realtime import application_group, stamp
from conversations.consumers import CLOSE_FAILED
from tests.browser.browser_support import session_cookie, synced_inbox_socket

pytestmark = pytest.mark.browser


def test_a_socket_that_fails_on_an_event_is_closed_for_its_page_to_reconnect(stack, app_a, agent_a):
    import websockets

    cookie = session_cookie(agent_a)
    group = application_group(app_a.pk)

    async def scenario() -> int | None:
        ws = await synced_inbox_socket(stack.base_url, cookie)
        # An event the consumer cannot handle: it fails on it, as when its draw fails on the database.
        await get_channel_layer().group_send(
            group, stamp(group, {"type": "no.such.event", "application_id": app_a.pk})
        )
        try:
            while True:
                await asyncio.wait_for(ws.recv(), 15)  # a socket left open and deaf times out here
        except websockets.ConnectionClosed as closed:
            return closed.rcvd.code if closed.rcvd else None

    # In a thread of its own: Playwright's sync API may have left an event loop running in this one.
    with ThreadPoolExecutor(max_workers=1) as pool:
        code = pool.submit(asyncio.run, scenario()).result()

    assert code == CLOSE_FAILED
