"""Who is here: another agent viewing or typing in the same thread, over the inbox websocket only (no
database write), to the tabs of that thread in that Application, and gone when they leave."""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync

from conversations.models import Conversation, Message
from tests.inbox.inbox_support import frames_until_quiet, make_conversation
from tests.teamwork.teamwork_support import open_thread

pytestmark = pytest.mark.django_db(transaction=True)


def presence_of(frames: list[str], user) -> list[str]:
    """What the frames said about `user`: their state, or "left"."""
    said = []
    for frame in frames:
        if f'data-name="{user.get_full_name()}"' in frame:
            said.append(frame.split('data-state="')[1].split('"')[0])
        elif f'-{user.pk}" data-live="remove"' in frame:
            said.append("left")
    return said


def test_another_agent_viewing_then_typing_then_leaving_is_shown_to_the_thread_only(agent_a, admin, app_a):
    conversation = make_conversation(app_a)
    other = make_conversation(app_a)
    before = (Message.objects.count(), list(Conversation.objects.values_list("pk", "last_activity_at")))

    async def scenario():
        alice = await open_thread(agent_a, conversation)
        elsewhere = await open_thread(agent_a, other)  # the control: a tab on another thread hears nothing
        ada = await open_thread(admin, conversation)
        await ada.send_json_to({"type": "presence", "state": "viewing"})
        for _ in range(3):
            await ada.send_json_to({"type": "presence", "state": "typing"})
        heard = await frames_until_quiet(alice)
        await ada.disconnect()
        heard += await frames_until_quiet(alice)
        not_there = await frames_until_quiet(elsewhere)
        await alice.disconnect()
        await elsewhere.disconnect()
        return heard, not_there

    heard, not_there = async_to_sync(scenario)()

    assert presence_of(heard, admin) == ["viewing", "typing", "typing", "typing", "left"]
    assert not_there == []
    # Nothing was written: no message, no activity, no conversation changed.
    assert (
        Message.objects.count(),
        list(Conversation.objects.values_list("pk", "last_activity_at")),
    ) == before


def test_an_agent_never_hears_their_own_presence(agent_a, app_a):
    conversation = make_conversation(app_a)

    async def scenario():
        first = await open_thread(agent_a, conversation)
        second = await open_thread(agent_a, conversation)
        await second.send_json_to({"type": "presence", "state": "typing"})
        heard = await frames_until_quiet(first)
        await first.disconnect()
        await second.disconnect()
        return heard

    assert presence_of(async_to_sync(scenario)(), agent_a) == []


def test_an_agent_of_b_neither_hears_nor_announces_presence_in_a(agent_a, agent_b, admin, app_a, app_b):
    conversation = make_conversation(app_a)

    async def scenario():
        alice = await open_thread(agent_a, conversation)
        bob = await open_thread(agent_b, conversation)  # asks for A's thread by id: refused by the sync
        await bob.send_json_to({"type": "presence", "state": "typing"})
        from_bob = await frames_until_quiet(alice)
        ada = await open_thread(admin, conversation)
        await ada.send_json_to({"type": "presence", "state": "typing"})
        to_bob = await frames_until_quiet(bob)
        from_ada = await frames_until_quiet(alice)  # the control: A's own admin is heard
        for tab in (alice, bob, ada):
            await tab.disconnect()
        return from_bob, to_bob, from_ada

    from_bob, to_bob, from_ada = async_to_sync(scenario)()

    assert presence_of(from_bob, agent_b) == []
    assert to_bob == []
    assert presence_of(from_ada, admin) == ["typing"]


def test_a_name_in_a_presence_frame_is_escaped(agent_a, app_a):
    from django.contrib.auth import get_user_model

    from channels_app.models import Membership

    mallory = get_user_model().objects.create_user(
        username="mallory", first_name='<img src=x onerror="alert(1)">'
    )
    Membership.objects.create(user=mallory, application=app_a, role=Membership.Role.AGENT)
    conversation = make_conversation(app_a)

    async def scenario():
        alice = await open_thread(agent_a, conversation)
        evil = await open_thread(mallory, conversation)
        await evil.send_json_to({"type": "presence", "state": "typing"})
        heard = await frames_until_quiet(alice)
        await alice.disconnect()
        await evil.disconnect()
        return heard

    html = "".join(async_to_sync(scenario)())
    assert "<img" not in html and 'data-name="&lt;img src=x onerror=&quot;alert(1)&quot;&gt;"' in html
