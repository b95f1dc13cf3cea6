"""The view tabs' counts follow live events without a count query per event (conversations/live_counts.py)."""

from __future__ import annotations

import re

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from django.utils import timezone

from conversations.actions.threads import do_assign
from conversations.live_counts import board
from conversations.models import Conversation
from hubdash.asgi import application
from tests.inbox.inbox_support import connect, frames_until_quiet, make_conversation, sync_message

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
