"""The view tabs' counts follow live events without a count query per event (conversations/live_counts.py)."""

from __future__ import annotations

import asyncio
import re

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from channels_app.actions.webhooks import do_store_signing_secret
from conversations.actions.threads import do_assign
from conversations.live_counts import board
from conversations.models import Conversation
from conversations.selectors.inbox import INBOX_PAGE_SIZE
from hubdash.asgi import application
from tests.inbox.inbox_support import connect, frames_until_quiet, make_conversation, sync_message
from tests.ingest.ingest_support import HUB_SECRET, message_event, post_event

pytestmark = pytest.mark.django_db(transaction=True)


def counts_in(frames: list[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for frame in frames:
        for tab, n in re.findall(r'id="tab-count-(\w+)"[^>]*>(\d+)<', frame):
            counts[tab] = int(n)
    return counts


def test_a_burst_of_assignments_moves_the_tab_counts_with_one_recount(agent_a, app_a):
    conversations = [make_conversation(app_a) for _ in range(6)]

    def assign_all() -> None:
        for conversation in conversations:
            do_assign(conversation=conversation, assignee=agent_a, actor=agent_a)

    async def scenario():
        inbox = await connect(agent_a, application)
        await inbox.send_json_to(sync_message(since=timezone.now().isoformat()))
        synced = await frames_until_quiet(inbox)
        recounts = board.recounts
        await database_sync_to_async(assign_all)()
        later = await frames_until_quiet(inbox, quiet=2.5)
        await inbox.disconnect()
        return synced, later, board.recounts - recounts

    synced, later, recounts = async_to_sync(scenario)()

    assert counts_in(synced) == {"mine": 0, "unassigned": 6, "all": 6}
    assert counts_in(later) == {"mine": 6, "unassigned": 0, "all": 6}
    # Six events, one grouped query for the whole burst (two if it straddled the board's delay).
    assert 1 <= recounts <= 2


def test_an_event_that_moves_no_count_sends_no_counts(agent_a, app_a):
    conversation = make_conversation(app_a)

    def write() -> None:
        Conversation.objects.filter(pk=conversation.pk).update(unread_count=3)
        do_assign(conversation=conversation, assignee=None, actor=agent_a)  # already unassigned: no event
        do_assign(conversation=conversation, assignee=agent_a, actor=agent_a)
        do_assign(conversation=conversation, assignee=None, actor=agent_a)

    async def scenario():
        inbox = await connect(agent_a, application)
        await inbox.send_json_to(sync_message(since=timezone.now().isoformat()))
        await frames_until_quiet(inbox)
        await database_sync_to_async(write)()
        later = await frames_until_quiet(inbox, quiet=2.5)
        await inbox.disconnect()
        return later

    later = async_to_sync(scenario)()

    # Assigned and unassigned again, mostly within the board's delay: the rows moved, the counts end
    # where they were (sent only if a recount fell between the two on a slow machine).
    assert later  # the control: the row frames came
    assert counts_in(later) in ({}, {"mine": 0, "unassigned": 1, "all": 1})


# --- The view's unread number: the page title's and the favicon's count --------------------------------

UNREAD = re.compile(r'id="view-unread"[^>]*data-count="(\d+)"')


def unread_in(html: str) -> int | None:
    """The view's unread number the last element of `html` carries (None: it carries none)."""
    found = UNREAD.findall(html)
    return int(found[-1]) if found else None


async def frame_with_unread(inbox, n: int, *, timeout: float = 15.0) -> str:
    """The first frame that carries the view's unread number `n` (earlier frames, e.g. rows, skipped)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    seen: list[int | None] = []
    while (left := deadline - loop.time()) > 0:
        frame = (await inbox.receive_output(timeout=left))["text"]
        seen.append(unread_in(frame))
        if seen[-1] == n:
            return frame
    raise AssertionError(f"no frame with {n} unread; unread numbers seen: {seen}")


def test_the_page_and_the_sync_count_every_unread_conversation_of_the_view_not_only_the_first_page(
    agent_a_client, agent_a, app_a, app_b
):
    unread = [make_conversation(app_a, unread=1 + n % 3) for n in range(40)]  # more than a page
    make_conversation(app_a, unread=0)  # read: listed, not counted
    make_conversation(app_a, unread=2, status="resolved")  # another status: not this view's
    make_conversation(app_b, unread=5)  # another tenant's

    page = agent_a_client.get("/").content.decode()

    assert len(re.findall(r'<li id="conv-\d+"', page)) == INBOX_PAGE_SIZE
    assert unread_in(page) == 40
    # The same filters as the tabs' counts: the Mine tab, another status.
    do_assign(conversation=unread[0], assignee=agent_a, actor=agent_a)
    assert unread_in(agent_a_client.get("/?assigned=mine").content.decode()) == 1
    assert unread_in(agent_a_client.get("/?assigned=unassigned").content.decode()) == 39
    assert unread_in(agent_a_client.get("/?status=resolved").content.decode()) == 1
    # Another tab chosen in place (htmx swaps the list): the number follows, out of band like the counts.
    swapped = agent_a_client.get(
        "/?assigned=mine", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="inbox-list-wrap"
    ).content.decode()
    assert '<span id="view-unread" hidden hx-swap-oob="true" data-count="1" ' in swapped

    async def scenario():
        inbox = await connect(agent_a, application)
        await inbox.send_json_to(sync_message(since=timezone.now().isoformat()))
        synced = await frame_with_unread(inbox, 40)
        await inbox.disconnect()
        return synced

    assert 'data-live="replace"' in async_to_sync(scenario)()


def test_reading_a_conversation_takes_it_off_the_unread_number_live_and_a_customer_message_adds_one(
    agent_a_client, agent_a, app_a
):
    do_store_signing_secret(application=app_a, hub_webhook_id="hook-unread", secret=HUB_SECRET)
    conversations = [make_conversation(app_a, unread=1) for _ in range(40)]
    oldest = conversations[0]  # not on the first page: counting the loaded rows would miss it
    quiet = make_conversation(app_a, unread=0)

    def agent_opens_the_oldest() -> None:
        response = agent_a_client.get(reverse("conversation", args=[oldest.pk]))  # opening reads it
        assert response.status_code == 200
        assert unread_in(response.content.decode()) == 39  # the page counts after its own read

    def customer_writes() -> None:
        event = message_event(quiet.channel, sender=quiet.contact.external_id)
        assert post_event(Client(), app_a, event).status_code == 200

    async def scenario():
        inbox = await connect(agent_a, application)
        await inbox.send_json_to(sync_message(since=timezone.now().isoformat()))
        await frame_with_unread(inbox, 40)
        await database_sync_to_async(agent_opens_the_oldest)()
        after_read = await frame_with_unread(inbox, 39)
        await database_sync_to_async(customer_writes)()
        after_message = await frame_with_unread(inbox, 40)
        await inbox.disconnect()
        return after_read, after_message

    after_read, after_message = async_to_sync(scenario)()

    assert after_read.startswith("<!--live-->")
    assert after_message.startswith("<!--live-->")
    oldest.refresh_from_db()
    quiet.refresh_from_db()
    assert (oldest.unread_count, quiet.unread_count) == (0, 1)


def test_a_typed_search_resyncs_the_list_without_recounting_the_tabs(agent_a, app_a):
    """The list's own resync after a search is typed: the tab's counts stand (the term changes none of
    them, and the process keeps them live); another status is counted and sent."""
    make_conversation(app_a, name="Marta")
    make_conversation(app_a, name="Pedro", status="resolved")
    since = timezone.now().isoformat()

    async def scenario():
        socket = await connect(agent_a, application)
        await socket.send_json_to(sync_message(since=since))
        connected = await frames_until_quiet(socket)
        recounts = board.recounts
        await socket.send_json_to(sync_message(gen=2, since=since, filters="q=Marta", scope="list"))
        typed = await frames_until_quiet(socket)
        await socket.send_json_to(sync_message(gen=3, since=since, filters="status=resolved", scope="list"))
        other = await frames_until_quiet(socket)
        await socket.disconnect()
        return connected, typed, other, board.recounts - recounts

    connected, typed, other, recounts = async_to_sync(scenario)()

    assert counts_in(connected)["all"] == 1
    assert typed and counts_in(typed) == {}  # the list came, not the counts
    assert counts_in(other)["all"] == 1 and 'data-counted="resolved|' in "".join(other)
    assert recounts == 0  # nor did the process recount for it
