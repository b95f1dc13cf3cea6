"""The inbox websocket on the real ASGI app: HTML frames, access per event, and a resync without gaps.

Each test drives `hubdash.asgi.application` with channels' WebsocketCommunicator, a session cookie as a
browser sends it, and the configured channel layer (in-memory, or Redis with REDIS_URL).
"""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import transaction
from django.utils import timezone

from channels_app.actions.applications import do_create_application
from channels_app.actions.team import do_set_access, do_set_membership, do_set_user_active
from channels_app.models import Channel, Membership
from conversations.actions.statuses import do_record_status, do_store_send_result
from conversations.actions.threads import do_assign
from conversations.events import publish_message_created
from conversations.models import Conversation, Message
from hubdash.asgi import application
from tests.inbox.inbox_support import (
    add_message,
    ago,
    connect,
    frames_until_quiet,
    make_conversation,
    sync_message,
)

pytestmark = pytest.mark.django_db(transaction=True)


def customer_writes(conversation: Conversation, text: str) -> Message:
    """What ingest does for an inbound message: store it, move the conversation, publish after commit."""
    with transaction.atomic():
        message = add_message(conversation, content={"type": "text", "text": text})
        Conversation.objects.filter(pk=conversation.pk).update(
            last_message=message,
            last_activity_at=timezone.now(),
            last_inbound_at=timezone.now(),
            unread_count=conversation.unread_count + 1,
        )
        publish_message_created(
            application_id=conversation.application_id, conversation_id=conversation.pk, message_id=message.pk
        )
    return message


def cursor_of(frame: str) -> str:
    match = re.search(r'data-cursor="([^"]+)"', frame)
    assert match, frame[:200]
    return match.group(1)


def bubble_ids(frames: list[str]) -> list[int]:
    return [int(i) for frame in frames for i in re.findall(r'<li id="msg-(\d+)"', frame)]


def run(scenario):
    return async_to_sync(scenario)()


# --- connecting -------------------------------------------------------------------------------------


def test_a_socket_without_a_session_is_closed_with_a_code_the_page_understands(db):
    async def scenario():
        communicator = WebsocketCommunicator(
            application, "/ws/inbox/", headers=[(b"origin", b"http://testserver"), (b"host", b"testserver")]
        )
        await communicator.connect(timeout=5)
        return await communicator.receive_output(timeout=5)

    message = run(scenario)

    # 4401, not a refused handshake: the page shows "Signed out" instead of reconnecting forever.
    assert message == {"type": "websocket.close", "code": 4401}


def test_first_sync_answers_with_the_list_and_a_cursor(agent_a, app_a):
    conversation = make_conversation(app_a, name="Joana")

    async def scenario():
        inbox = await connect(agent_a, application)
        await inbox.send_json_to(sync_message())
        frames = await frames_until_quiet(inbox)
        await inbox.disconnect()
        return frames

    frames = run(scenario)

    assert len(frames) == 1
    frame = frames[0]
    assert frame.startswith("<!--live-->")
    assert 'data-live="meta"' in frame and 'data-kind="sync"' in frame and 'data-gen="1"' in frame
    assert '<ul id="inbox-list"' in frame and 'data-live="replace"' in frame
    assert f'id="conv-{conversation.pk}"' in frame
    assert cursor_of(frame)


def test_ping_is_answered_and_garbage_is_ignored(agent_a, app_a):
    async def scenario():
        inbox = await connect(agent_a, application)
        await inbox.send_to(text_data="{not json")
        await inbox.send_json_to({"type": "ping"})
        frames = await frames_until_quiet(inbox)
        await inbox.disconnect()
        return frames

    frames = run(scenario)

    assert frames == ["<!--live-->"]  # before any sync: a bare pong, and the socket is still open


# --- live events ------------------------------------------------------------------------------------


def test_new_message_reaches_the_open_thread_and_moves_its_row(agent_a, app_a):
    # Already unread: the message moves no count, so no count frame joins the event's (live_counts.py).
    conversation = make_conversation(app_a, name="Joana", unread=1)
    other = make_conversation(app_a, name="Pedro")

    async def scenario():
        inbox = await connect(agent_a, application)
        await inbox.send_json_to(sync_message(conversation=conversation.pk, since=timezone.now().isoformat()))
        await frames_until_quiet(inbox)
        message = await database_sync_to_async(customer_writes)(conversation, "Chegou?\nObrigada")
        frames = await frames_until_quiet(inbox)
        await inbox.disconnect()
        return message, frames

    message, frames = run(scenario)

    html = "".join(frames)
    # One frame, each part drawn once: the bubble, the row and the header.
    assert len(frames) == 1
    assert html.count(f'<li id="msg-{message.pk}"') == 1
    assert html.count(f'<li id="conv-{conversation.pk}"') == 1
    assert html.count(f'id="thread-header-{conversation.pk}"') == 1
    assert f'data-live-into="thread-messages-{conversation.pk}"' in html
    assert "Chegou?<br>Obrigada" in html
    assert f'<li id="conv-{conversation.pk}"' in html  # the row, with its new sort key
    assert f'id="thread-header-{conversation.pk}"' in html
    assert f'id="window-state-{conversation.pk}"' in html
    assert f'id="conv-{other.pk}"' not in html


def test_a_message_in_another_thread_updates_only_its_row(agent_a, app_a):
    open_one = make_conversation(app_a)
    other = make_conversation(app_a, unread=1)  # already unread: no count frame (live_counts.py)

    async def scenario():
        inbox = await connect(agent_a, application)
        await inbox.send_json_to(sync_message(conversation=open_one.pk, since=timezone.now().isoformat()))
        await frames_until_quiet(inbox)
        message = await database_sync_to_async(customer_writes)(other, "Another thread")
        frames = await frames_until_quiet(inbox)
        await inbox.disconnect()
        return message, frames

    message, frames = run(scenario)

    html = "".join(frames)
    assert len(frames) == 1 and html.count(f'id="conv-{other.pk}"') == 1  # one frame, the row drawn once
    assert f'id="msg-{message.pk}"' not in html
    assert "thread-header" not in html


def test_ticks_move_as_statuses_arrive(agent_a, app_a):
    conversation = make_conversation(app_a)
    reply = add_message(
        conversation, content={"text": "Olá"}, direction=Message.Direction.OUTBOUND, author=agent_a
    )

    def accepted() -> None:
        with transaction.atomic():
            locked = Message.objects.select_for_update().select_related("channel").get(pk=reply.pk)
            do_store_send_result(message=locked, hub_message_id="wamid.42", status="sent")

    def reported(status: str):
        return lambda: do_record_status(application_id=app_a.pk, hub_message_id="wamid.42", status=status)

    async def scenario():
        inbox = await connect(agent_a, application)
        await inbox.send_json_to(sync_message(conversation=conversation.pk, since=timezone.now().isoformat()))
        await frames_until_quiet(inbox)
        seen = []
        for step in (accepted, reported("delivered"), reported("read")):
            await database_sync_to_async(step)()
            frame = "".join(await frames_until_quiet(inbox))
            found = re.search(
                rf'data-message-id="{reply.pk}" data-direction="out" data-status="(\w+)"', frame
            )
            seen.append(found.group(1) if found else None)
        await inbox.disconnect()
        return seen

    assert run(scenario) == ["sent", "delivered", "read"]


def test_assignment_by_a_colleague_updates_row_and_header(agent_a, admin, app_a):
    conversation = make_conversation(app_a)

    async def scenario():
        inbox = await connect(agent_a, application)
        await inbox.send_json_to(sync_message(conversation=conversation.pk, since=timezone.now().isoformat()))
        await frames_until_quiet(inbox)
        await database_sync_to_async(do_assign)(conversation=conversation, assignee=admin, actor=admin)
        frames = await frames_until_quiet(inbox)
        await inbox.disconnect()
        return frames

    frames = run(scenario)

    html = "".join(frames)
    assert f'<li id="conv-{conversation.pk}"' in html and f'data-assignee="{admin.pk}"' in html
    assert f'id="thread-header-{conversation.pk}"' in html


def test_a_row_that_no_longer_matches_the_tabs_filters_is_removed(agent_a, app_a):
    conversation = make_conversation(app_a)

    async def scenario():
        inbox = await connect(agent_a, application)
        await inbox.send_json_to(
            sync_message(filters="assigned=unassigned", since=timezone.now().isoformat())
        )
        await frames_until_quiet(inbox)
        await database_sync_to_async(do_assign)(conversation=conversation, assignee=agent_a, actor=agent_a)
        frames = await frames_until_quiet(inbox)
        await inbox.disconnect()
        return frames

    frames = run(scenario)

    assert f'<div id="conv-{conversation.pk}" data-live="remove"' in "".join(frames)


def test_customer_text_is_escaped_in_frames(agent_a, app_a):
    conversation = make_conversation(app_a)
    attack = "<script>alert(1)</script><img src=x onerror=alert(2)>"

    async def scenario():
        inbox = await connect(agent_a, application)
        await inbox.send_json_to(sync_message(conversation=conversation.pk, since=timezone.now().isoformat()))
        await frames_until_quiet(inbox)
        await database_sync_to_async(customer_writes)(conversation, attack)
        frames = await frames_until_quiet(inbox)
        await inbox.disconnect()
        return frames

    html = "".join(run(scenario))

    assert "&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;" in html
    assert "<script" not in html
    assert "<img src=x" not in html


# --- access -----------------------------------------------------------------------------------------


def test_an_agent_of_b_hears_nothing_of_a(agent_a, agent_b, app_a, app_b):
    conversation = make_conversation(app_a, name="Acme Customer")

    async def scenario():
        inbox = await connect(agent_b, application)
        own = await connect(agent_a, application)  # the control: A's own agent does hear it
        await own.send_json_to(sync_message())
        await frames_until_quiet(own)
        # Even asking for A's conversation by id, and for everything since long ago.
        await inbox.send_json_to(
            sync_message(
                conversation=conversation.pk, since=(timezone.now() - timedelta(hours=1)).isoformat()
            )
        )
        first = await frames_until_quiet(inbox)
        await database_sync_to_async(customer_writes)(conversation, "segredo da Acme")
        later = await frames_until_quiet(inbox)
        heard = await frames_until_quiet(own)
        await inbox.disconnect()
        await own.disconnect()
        return first, later, heard

    first, later, heard = run(scenario)

    assert any("segredo da Acme" in frame for frame in heard)
    assert later == []
    html = "".join(first)
    assert f"conv-{conversation.pk}" not in html
    assert "Acme Customer" not in html
    assert "thread-header" not in html


def test_frames_stop_when_membership_is_revoked_even_outside_settings(agent_a, admin, app_a):
    """Deleted straight from the table (the Django admin does this): the open tab still hears of it."""
    conversation = make_conversation(app_a, name="Acme Customer")

    async def scenario():
        inbox = await connect(agent_a, application)
        control = await connect(admin, application)  # still a member: hears the same message
        for socket in (inbox, control):
            await socket.send_json_to(sync_message(since=timezone.now().isoformat()))
            await frames_until_quiet(socket)
        await database_sync_to_async(Membership.objects.filter(user=agent_a).delete)()
        revoked = await frames_until_quiet(inbox)
        await database_sync_to_async(customer_writes)(conversation, "after revocation")
        after = await frames_until_quiet(inbox)
        heard = await frames_until_quiet(control)
        for socket in (inbox, control):
            await socket.disconnect()
        return revoked, after, heard

    revoked, after, heard = run(scenario)

    assert any("after revocation" in frame for frame in heard)
    # The revoked tab's list is rebuilt without the Application's rows, and nothing arrives after it.
    assert len(revoked) == 1 and "No conversations yet" in revoked[0]
    assert f"conv-{conversation.pk}" not in revoked[0]
    assert after == []


def test_an_agent_given_an_application_sees_its_inbox_without_a_reload(admin, agent_b, app_a, app_b):
    conversation = make_conversation(app_a, name="Acme Customer")

    async def scenario():
        inbox = await connect(agent_b, application)
        await inbox.send_json_to(sync_message())
        before = await frames_until_quiet(inbox)
        await database_sync_to_async(do_set_membership)(
            actor=admin, user=agent_b, application=app_a, role=Membership.Role.AGENT
        )
        granted = await frames_until_quiet(inbox)
        await database_sync_to_async(customer_writes)(conversation, "first message Bob may see")
        later = await frames_until_quiet(inbox)
        await inbox.disconnect()
        return before, granted, later

    before, granted, later = run(scenario)

    assert "Acme Customer" not in "".join(before)
    assert len(granted) == 1  # the whole list, rebuilt: A's conversation is in it
    assert '<ul id="inbox-list"' in granted[0] and "Acme Customer" in granted[0]
    assert any("first message Bob may see" in frame for frame in later)  # and the socket hears A now


def test_an_agent_whose_access_is_revoked_loses_the_rows_and_the_events(admin, agent_a, app_a, app_b):
    # Alice keeps B: an admin may not revoke a user's last Application (tests/settings/test_team.py).
    Membership.objects.create(user=agent_a, application=app_b, role=Membership.Role.AGENT)
    conversation = make_conversation(app_a, name="Acme Customer")

    async def scenario():
        inbox = await connect(agent_a, application)
        await inbox.send_json_to(sync_message())
        before = await frames_until_quiet(inbox)
        await database_sync_to_async(do_set_membership)(
            actor=admin, user=agent_a, application=app_a, role=None
        )
        revoked = await frames_until_quiet(inbox)
        await database_sync_to_async(customer_writes)(conversation, "not for Alice any more")
        later = await frames_until_quiet(inbox)
        await inbox.disconnect()
        return before, revoked, later

    before, revoked, later = run(scenario)

    assert "Acme Customer" in "".join(before)
    assert len(revoked) == 1 and '<ul id="inbox-list"' in revoked[0]
    assert "Acme Customer" not in revoked[0]
    assert later == []


def test_a_superusers_open_tab_hears_an_application_created_by_someone_else(
    superuser, admin, app_a, hub_sandbox
):
    hub_sandbox.add_application(name="Charlie Co", api_key="hubkey-charlie-7777-8888-9999-cccc", channels=[])

    async def scenario():
        inbox = await connect(superuser, application)
        await inbox.send_json_to(sync_message())
        await frames_until_quiet(inbox)
        charlie = await database_sync_to_async(do_create_application)(
            actor=admin, name="Charlie Co", api_key="hubkey-charlie-7777-8888-9999-cccc"
        )
        rebuilt = await frames_until_quiet(inbox)
        conversation = await database_sync_to_async(_conversation_in_new_application)(charlie)
        await database_sync_to_async(customer_writes)(conversation, "first message to Charlie")
        later = await frames_until_quiet(inbox)
        await inbox.disconnect()
        return rebuilt, later

    rebuilt, later = run(scenario)

    assert len(rebuilt) == 1 and '<ul id="inbox-list"' in rebuilt[0]  # the socket re-joined its groups
    assert any("first message to Charlie" in frame for frame in later)


def _conversation_in_new_application(app) -> Conversation:
    Channel.objects.create(application=app, hub_channel_id=uuid.uuid4(), kind="whatsapp", display_name="C")
    return make_conversation(app, name="Charlie's customer")


def test_a_whole_access_form_tells_each_open_tab_once(admin, agent_b, app_a, app_b):
    async def scenario():
        inbox = await connect(agent_b, application)
        await inbox.send_json_to(sync_message())
        await frames_until_quiet(inbox)
        await database_sync_to_async(do_set_access)(
            actor=admin, user=agent_b, access={app_a: Membership.Role.AGENT, app_b: Membership.Role.ADMIN}
        )
        frames = await frames_until_quiet(inbox)
        await inbox.disconnect()
        return frames

    frames = run(scenario)

    assert len(frames) == 1 and '<ul id="inbox-list"' in frames[0]


def test_a_deactivated_users_open_tab_is_signed_out(admin, agent_a, app_a):
    async def scenario():
        inbox = await connect(agent_a, application)
        await inbox.send_json_to(sync_message())
        await frames_until_quiet(inbox)
        await database_sync_to_async(do_set_user_active)(actor=admin, user=agent_a, active=False)
        closed = await inbox.receive_output(timeout=5)
        await inbox.disconnect()
        return closed

    assert run(scenario) == {"type": "websocket.close", "code": 4401}


def test_an_idle_socket_stays_open_and_still_hears_events(agent_a, app_a):
    # Regression: with redis-py 8 a read gives up after 5 s by default, exactly as long as channels-redis
    # waits for the next message, so every idle socket was dropped about every 5 s on Redis.
    conversation = make_conversation(app_a)

    async def scenario():
        inbox = await connect(agent_a, application)
        await inbox.send_json_to(sync_message(since=timezone.now().isoformat()))
        await frames_until_quiet(inbox)
        idle = await inbox.receive_nothing(timeout=7)
        await database_sync_to_async(customer_writes)(conversation, "after a quiet spell")
        frames = await frames_until_quiet(inbox)
        await inbox.disconnect()
        return idle, frames

    idle, frames = run(scenario)

    assert idle  # no close, no error frame while nothing happened
    assert any("after a quiet spell" in frame for frame in frames)


# --- resync -----------------------------------------------------------------------------------------


def test_reconnecting_tab_gets_every_missed_message_once_and_current_ticks(agent_a, app_a):
    conversation = make_conversation(app_a, text=None)
    seen = [add_message(conversation, content={"type": "text", "text": f"seen {i}"}) for i in range(3)]
    reply = add_message(
        conversation, content={"text": "our reply"}, direction=Message.Direction.OUTBOUND, author=agent_a
    )

    async def scenario():
        inbox = await connect(agent_a, application)
        await inbox.send_json_to(sync_message(conversation=conversation.pk, since=timezone.now().isoformat()))
        cursor = cursor_of((await frames_until_quiet(inbox))[-1])
        await inbox.disconnect()  # the websocket drops...

        # ...while the customer writes and the Hub reports on our reply.
        missed = [
            await database_sync_to_async(customer_writes)(conversation, f"missed {i}") for i in range(3)
        ]

        def hub_reports():
            with transaction.atomic():
                locked = Message.objects.select_for_update().select_related("channel").get(pk=reply.pk)
                do_store_send_result(message=locked, hub_message_id="wamid.7", status="sent")
            do_record_status(application_id=app_a.pk, hub_message_id="wamid.7", status="delivered")

        await database_sync_to_async(hub_reports)()

        inbox = await connect(agent_a, application)
        await inbox.send_json_to(
            sync_message(
                gen=2, conversation=conversation.pk, since=cursor, after=reply.pk, rows=[conversation.pk]
            )
        )
        frames = await frames_until_quiet(inbox)
        await inbox.disconnect()
        return missed, frames

    missed, frames = run(scenario)

    assert len(frames) == 1
    ids = bubble_ids(frames)
    for message in missed:
        assert ids.count(message.pk) == 1
    assert len(ids) == len(set(ids))  # none twice
    assert f'data-message-id="{reply.pk}" data-direction="out" data-status="delivered"' in frames[0]
    assert f'<li id="conv-{conversation.pk}"' in frames[0]
    # What the tab already had is not sent again unless it changed (or is within the overlap window).
    assert set(ids) <= {m.pk for m in [*missed, reply, *seen]}


def test_a_message_committed_out_of_id_order_is_not_missed(agent_a, app_a):
    conversation = make_conversation(app_a, text=None)
    late = add_message(conversation, content={"type": "text", "text": "lower id, committed late"})
    newest = add_message(conversation, content={"type": "text", "text": "higher id"})

    async def scenario():
        inbox = await connect(agent_a, application)
        since = (timezone.now() - timedelta(seconds=5)).isoformat()
        # The tab has `newest` (after=newest.pk) but not `late`, which has a lower id.
        await inbox.send_json_to(sync_message(conversation=conversation.pk, since=since, after=newest.pk))
        frames = await frames_until_quiet(inbox)
        await inbox.disconnect()
        return frames

    assert late.pk in bubble_ids(run(scenario))


def test_a_tab_that_missed_an_access_grant_gets_the_new_applications_rows_on_reconnect(agent_b, app_a, app_b):
    old_of_a = make_conversation(app_a, name="Acme Customer", at=ago(hours=2))
    own = make_conversation(app_b, name="Bravo Customer", at=ago(hours=3))

    async def scenario():
        inbox = await connect(agent_b, application)
        await inbox.send_json_to(sync_message())
        cursor = cursor_of((await frames_until_quiet(inbox))[0])
        await inbox.disconnect()
        # Granted while the tab was away: no socket heard the live access change.
        await database_sync_to_async(Membership.objects.create)(user=agent_b, application=app_a)
        again = await connect(agent_b, application)
        await again.send_json_to(sync_message(since=cursor, rows=[own.pk]))
        frames = await frames_until_quiet(again)
        await again.disconnect()
        return frames

    frames = run(scenario)

    assert len(frames) == 1
    # The whole list again, A's two-hour-old conversation in it (a catch-up of the last few seconds
    # would only have brought rows active since the cursor).
    assert '<ul id="inbox-list"' in frames[0]
    assert f'id="conv-{old_of_a.pk}"' in frames[0] and f'id="conv-{own.pk}"' in frames[0]


def test_a_tab_away_too_long_gets_fresh_regions(agent_a, app_a):
    conversation = make_conversation(app_a)

    async def scenario():
        inbox = await connect(agent_a, application)
        long_ago = (timezone.now() - timedelta(days=2)).isoformat()
        await inbox.send_json_to(sync_message(conversation=conversation.pk, since=long_ago, after=1))
        frames = await frames_until_quiet(inbox)
        await inbox.disconnect()
        return frames

    frame = run(scenario)[0]

    assert '<ul id="inbox-list"' in frame
    assert (
        f'<ol id="thread-messages-{conversation.pk}" class="thread-messages" data-live-order="asc" data-live="replace"'
        in frame
    )


def test_two_agents_see_each_others_replies(agent_a, admin, app_a):
    from conversations.actions.replies import do_send_reply

    conversation = make_conversation(app_a)

    async def scenario():
        alice = await connect(agent_a, application)
        ada = await connect(admin, application)
        for inbox in (alice, ada):
            await inbox.send_json_to(
                sync_message(conversation=conversation.pk, since=timezone.now().isoformat())
            )
            await frames_until_quiet(inbox)
        reply = await database_sync_to_async(do_send_reply)(
            conversation=conversation, author=admin, content={"text": "Ada here"}, idempotency_key="ada-1"
        )
        frames = await frames_until_quiet(alice)
        await alice.disconnect()
        await ada.disconnect()
        return reply, frames

    reply, frames = run(scenario)

    html = "".join(frames)
    assert f'<li id="msg-{reply.pk}"' in html
    assert "Ada Admin" in html and "Ada here" in html


def test_a_reply_nobody_wrote_is_not_you_in_anyones_live_row(agent_a, app_a):
    """An outbound message without an author (sent from outside the inbox) reads "Agent:" live, as it does
    on a page load: no viewer may take it for their own."""
    conversation = make_conversation(app_a)

    async def scenario():
        alice = await connect(agent_a, application)
        await alice.send_json_to(sync_message(since=timezone.now().isoformat()))
        await frames_until_quiet(alice)

        def store() -> None:
            with transaction.atomic():
                message = add_message(
                    conversation,
                    content={"type": "text", "text": "Sent elsewhere"},
                    direction=Message.Direction.OUTBOUND,
                )
                Conversation.objects.filter(pk=conversation.pk).update(
                    last_message=message, last_activity_at=timezone.now()
                )
                publish_message_created(
                    application_id=conversation.application_id,
                    conversation_id=conversation.pk,
                    message_id=message.pk,
                )

        await database_sync_to_async(store)()
        frames = await frames_until_quiet(alice, first=15)  # a busy machine draws slowly
        await alice.disconnect()
        return frames

    html = "".join(run(scenario))
    assert "Sent elsewhere" in html
    assert "You:" not in html
