"""The inbox websocket at a team's scale: one read per event per process, lost frames noticed, and an
open socket that follows its user's session and rights as they change."""

from __future__ import annotations

import re

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.exceptions import ChannelFull
from channels.layers import channel_layers, get_channel_layer
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from channels_app.models import Membership
from channels_app.realtime import application_group, stamp
from conversations import fanout
from hubdash.asgi import application
from tests.conftest import PASSWORD, _user
from tests.inbox.inbox_support import (
    browser_headers,
    connect,
    frames_until_quiet,
    make_conversation,
    sync_message,
)
from tests.inbox.test_websocket import customer_writes

pytestmark = pytest.mark.django_db(transaction=True)


def run(scenario):
    return async_to_sync(scenario)()


def meta_of(frame: str) -> str:
    match = re.search(r'<div data-live="meta"[^>]*>', frame)
    assert match, frame[:300]
    return match.group(0)


# --- one read per event per process -------------------------------------------------------------------


def test_an_event_is_read_once_for_every_socket_of_the_process(app_a, agent_a, admin, monkeypatch):
    others = [_user(f"agent{n}") for n in range(4)]
    for user in others:
        Membership.objects.create(user=user, application=app_a, role=Membership.Role.AGENT)
    # Already unread: the message moves no count, so no count frame joins the event's (live_counts.py).
    conversation = make_conversation(app_a, name="Joana", unread=1)
    reads: list[int] = []
    real_live_row = fanout.live_row

    def counted_live_row(*, conversation_id: int):
        reads.append(conversation_id)
        return real_live_row(conversation_id=conversation_id)

    monkeypatch.setattr(fanout, "live_row", counted_live_row)

    async def scenario():
        sockets = [await connect(user, application) for user in [agent_a, admin, *others]]
        for socket in sockets:
            await socket.send_json_to(sync_message(since=timezone.now().isoformat()))
            await frames_until_quiet(socket)
        await database_sync_to_async(customer_writes)(conversation, "Bom dia")
        heard = [await frames_until_quiet(socket) for socket in sockets]
        for socket in sockets:
            await socket.disconnect()
        return heard

    heard = run(scenario)

    assert all(len(frames) == 1 and "Bom dia" in frames[0] for frames in heard)
    assert reads == [conversation.pk]  # six tabs, one read


def test_viewer_specific_words_stay_per_viewer_when_the_row_is_shared(app_a, agent_a, admin):
    conversation = make_conversation(app_a, name="Joana", assignee=agent_a)

    async def scenario():
        mine, theirs = await connect(agent_a, application), await connect(admin, application)
        for socket in (mine, theirs):
            await socket.send_json_to(sync_message(since=timezone.now().isoformat()))
            await frames_until_quiet(socket)
        await database_sync_to_async(customer_writes)(conversation, "Oi")
        heard = ["".join(await frames_until_quiet(s)) for s in (mine, theirs)]
        for socket in (mine, theirs):
            await socket.disconnect()
        return heard

    mine, theirs = run(scenario)

    assert '<span class="conv-assignee" title="Assigned to Alice Agent">Mine</span>' in mine
    assert '<span class="conv-assignee" title="Assigned to Alice Agent">Alice Agent</span>' in theirs


# --- frames that can be missed are noticed --------------------------------------------------------------


def test_a_frame_dropped_at_the_channel_layers_capacity_makes_the_tab_resync(app_a, agent_a):
    conversation = make_conversation(app_a, name="Joana")
    # A channel that holds one message: the second and third sent before the socket reads are dropped,
    # as group_send does (silently) past a channel's capacity, on Redis as in memory.
    layers = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer", "CONFIG": {"capacity": 1}}}
    group = application_group(app_a.pk)
    event = {"type": "conversation.updated", "application_id": app_a.pk, "conversation_id": conversation.pk}

    async def scenario():
        inbox = await connect(agent_a, application)
        await inbox.send_json_to(sync_message(since=timezone.now().isoformat()))
        await frames_until_quiet(inbox)
        layer = get_channel_layer()
        (channel,) = layer.groups[group]  # the socket's own channel
        dropped = 0
        for _ in range(3):  # back to back, never yielding: the socket reads none of them in between
            try:
                await layer.send(channel, stamp(group, event))
            except ChannelFull:
                dropped += 1
        assert dropped == 2
        first = await frames_until_quiet(inbox)
        await layer.group_send(group, stamp(group, event))
        after_the_drop = await frames_until_quiet(inbox)
        await inbox.disconnect()
        return first, after_the_drop

    original = settings.CHANNEL_LAYERS
    settings.CHANNEL_LAYERS = layers
    channel_layers.backends.pop("default", None)
    try:
        first, after_the_drop = run(scenario)
    finally:
        settings.CHANNEL_LAYERS = original
        channel_layers.backends.pop("default", None)

    # The control: the first event arrived as usual, with a cursor and no gap.
    assert len(first) == 1 and "data-gap" not in meta_of(first[0]) and 'data-cursor="2' in meta_of(first[0])
    # Two were dropped: the next frame says so, without a cursor the tab could wrongly move past them to.
    assert len(after_the_drop) == 1
    meta = meta_of(after_the_drop[0])
    assert 'data-gap="1"' in meta and 'data-cursor=""' in meta
    assert f'<li id="conv-{conversation.pk}"' in after_the_drop[0]


# --- an open socket follows its user's session and rights ------------------------------------------------


async def open_socket(browser: Client) -> tuple[WebsocketCommunicator, list[str]]:
    """The browser's inbox page opening its socket with the cookie it holds now, and its first sync."""
    socket = WebsocketCommunicator(application, "/ws/inbox/", headers=browser_headers(browser))
    connected, _ = await socket.connect(timeout=5)
    assert connected
    await socket.send_json_to(sync_message(since=timezone.now().isoformat()))
    return socket, await frames_until_quiet(socket)


async def connect_with_client(user) -> tuple[Client, WebsocketCommunicator]:
    """A socket opened with a real browser session, and that browser (to sign out, change password)."""
    client = Client()
    await database_sync_to_async(client.force_login)(user)
    socket, synced = await open_socket(client)
    assert synced
    return client, socket


@pytest.mark.parametrize("change", ["logout", "deactivated in the admin"])
def test_a_socket_is_signed_out_when_its_session_ends(change, app_a, agent_a):
    conversation = make_conversation(app_a, name="Joana")

    async def scenario():
        browser, inbox = await connect_with_client(agent_a)
        _, control = await connect_with_client(agent_a)  # the same user, in another browser
        if change == "logout":
            await database_sync_to_async(browser.post)("/accounts/logout/")
        else:

            def deactivate() -> None:
                user = get_user_model().objects.get(pk=agent_a.pk)
                user.is_active = False
                user.save()  # what the Django admin's change form does

            await database_sync_to_async(deactivate)()
        closed = await inbox.receive_output(timeout=5)
        if change == "deactivated in the admin":
            # Every session of the user ends: the other browser's socket is closed too.
            return closed, await control.receive_output(timeout=5)
        await database_sync_to_async(customer_writes)(conversation, "depois")
        control_frames = await frames_until_quiet(control)
        await control.disconnect()
        return closed, control_frames

    closed, other = run(scenario)

    assert closed == {"type": "websocket.close", "code": 4401}
    if change == "deactivated in the admin":
        assert other == {"type": "websocket.close", "code": 4401}
    else:
        # The control: the same user's other browser is still signed in and hears the message.
        assert any("depois" in frame for frame in other)


def test_a_password_change_signs_out_the_other_browsers_sockets_only(app_a, agent_a):
    conversation = make_conversation(app_a, name="Joana")

    async def scenario():
        _, elsewhere = await connect_with_client(agent_a)
        changer, own = await connect_with_client(agent_a)
        response = await database_sync_to_async(changer.post)(
            "/accounts/password_change/",
            {"old_password": PASSWORD, "new_password1": "N3w-secret-pw!", "new_password2": "N3w-secret-pw!"},
        )
        assert response.status_code == 302, response.content[:300]
        elsewhere_closed = await elsewhere.receive_output(timeout=5)
        # Django gave the changing browser a new session key: its page reconnects with the new cookie.
        own_closed = await own.receive_output(timeout=5)
        again, _ = await open_socket(changer)
        await database_sync_to_async(customer_writes)(conversation, "depois")
        heard = await frames_until_quiet(again)
        await again.disconnect()
        return elsewhere_closed, own_closed, heard

    elsewhere_closed, own_closed, heard = run(scenario)

    assert elsewhere_closed == {"type": "websocket.close", "code": 4401}
    assert own_closed == {"type": "websocket.close", "code": 4001}
    assert any("depois" in frame for frame in heard)


def test_a_demoted_superuser_stops_hearing_applications_they_are_not_a_member_of(app_a, app_b, superuser):
    # Already unread: "antes" moves no count, so no late count frame lands among the rebuilt ones.
    conversation = make_conversation(app_b, name="Bruna", unread=1)

    async def scenario():
        _, inbox = await connect_with_client(superuser)
        await database_sync_to_async(customer_writes)(conversation, "antes")
        before = await frames_until_quiet(inbox)

        def demote() -> None:
            user = get_user_model().objects.get(pk=superuser.pk)
            user.is_superuser = False
            user.save()

        await database_sync_to_async(demote)()
        rebuilt = await frames_until_quiet(inbox)
        await database_sync_to_async(customer_writes)(conversation, "depois")
        after = await frames_until_quiet(inbox)
        await inbox.disconnect()
        return before, rebuilt, after

    before, rebuilt, after = run(scenario)

    assert any("antes" in frame for frame in before)  # the control: as a superuser, B's events arrive
    assert len(rebuilt) == 1 and f"conv-{conversation.pk}" not in rebuilt[0]
    assert after == []
