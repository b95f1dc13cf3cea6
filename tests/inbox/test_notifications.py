"""Notifications: the profile's settings, and the notices a customer's message sends to the tabs that may
notify of it (the browser decides by the settings it was given: static/js/triage.js)."""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from channels_app.models import AuditEntry, UserPreferences
from conversations.actions.notes import do_add_note
from conversations.events import publish_mentioned, publish_message_created
from conversations.models import Conversation
from hubdash.asgi import application
from tests.inbox.inbox_support import (
    add_message,
    connect,
    frames_until_quiet,
    make_conversation,
    sync_message,
)


def test_the_profile_saves_the_notification_settings_with_an_audit_entry(db, agent_a_client, agent_a):
    page = agent_a_client.get(reverse("profile")).content.decode()
    assert 'id="notifications"' in page and 'id="allow-notifications"' in page

    response = agent_a_client.post(
        reverse("notification_settings"), {"desktop_assigned_message": "on", "sound_new_conversation": "on"}
    )

    assert response.status_code == 302
    saved = UserPreferences.objects.get(user=agent_a)
    assert (saved.desktop_new_conversation, saved.desktop_assigned_message) == (False, True)
    assert (saved.sound_new_conversation, saved.sound_assigned_message) == (True, False)
    assert (saved.desktop_mention, saved.sound_mention) == (False, False)  # unchecked boxes are off
    entry = AuditEntry.objects.get(action="preferences.notifications_updated")
    assert entry.changes["sound_new_conversation"] == {"from": False, "to": True}
    inbox = agent_a_client.get("/").content.decode()
    assert 'data-notify="desktop:assigned sound:new"' in inbox


def test_a_new_user_gets_desktop_notifications_by_default(db, agent_a_client):
    assert (
        'data-notify="desktop:new desktop:assigned desktop:mention"'
        in agent_a_client.get("/").content.decode()
    )


def test_the_profile_has_a_mention_setting_for_the_desktop_and_the_sound(db, agent_a_client, agent_a):
    page = agent_a_client.get(reverse("profile")).content.decode()
    assert 'name="desktop_mention"' in page and 'name="sound_mention"' in page

    agent_a_client.post(reverse("notification_settings"), {"sound_mention": "on"})

    saved = UserPreferences.objects.get(user=agent_a)
    assert (saved.desktop_mention, saved.sound_mention) == (False, True)
    entry = AuditEntry.objects.get(action="preferences.notifications_updated")
    assert entry.changes["desktop_mention"] == {"from": True, "to": False}
    assert entry.changes["sound_mention"] == {"from": False, "to": True}
    assert 'data-notify="sound:mention"' in agent_a_client.get("/").content.decode()


def test_notification_settings_need_a_signed_in_user_and_a_post(db, client, agent_a_client):
    assert client.post(reverse("notification_settings"), {}).status_code == 302
    assert agent_a_client.get(reverse("notification_settings")).status_code == 405
    assert not UserPreferences.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_customer_message_notifies_its_assignee_and_a_new_conversation_everyone(agent_a, admin, app_a):
    mine = make_conversation(app_a, name="Clara", assignee=agent_a)
    theirs = make_conversation(app_a, name="Davi", assignee=admin)
    fresh = make_conversation(app_a, name="Eva", text=None)

    def customer_writes(conversation: Conversation, text: str, *, new: bool) -> None:
        with transaction.atomic():
            message = add_message(conversation, content={"type": "text", "text": text})
            Conversation.objects.filter(pk=conversation.pk).update(
                last_message=message, last_activity_at=timezone.now()
            )
            publish_message_created(
                application_id=app_a.pk,
                conversation_id=conversation.pk,
                message_id=message.pk,
                inbound=True,
                new_conversation=new,
            )

    async def scenario():
        alice = await connect(agent_a, application)
        await alice.send_json_to(sync_message(since=timezone.now().isoformat()))
        await frames_until_quiet(alice)
        frames = []
        for conversation, text, new in (
            (mine, "onde está?", False),
            (theirs, "olá", False),
            (fresh, "oi", True),
        ):
            await database_sync_to_async(customer_writes)(conversation, text, new=new)
            frames.append("".join(await frames_until_quiet(alice)))
        await alice.disconnect()
        return frames

    to_mine, to_theirs, new = async_to_sync(scenario)()

    assert 'data-live="notify"' in to_mine and 'data-reason="assigned"' in to_mine
    assert 'data-title="Clara"' in to_mine and 'data-body="onde está?"' in to_mine
    assert f"conv-{theirs.pk}" in to_theirs and 'data-live="notify"' not in to_theirs  # a colleague's
    assert 'data-reason="new"' in new and 'data-title="Eva"' in new


@pytest.mark.django_db(transaction=True)
def test_a_note_that_mentions_me_notifies_only_my_own_sockets(agent_a, admin, agent_b, app_a):
    conversation = make_conversation(app_a, name="Clara", assignee=admin)

    async def scenario():
        sockets = {user.username: await connect(user, application) for user in (agent_a, admin, agent_b)}
        for socket in sockets.values():
            await socket.send_json_to(sync_message(since=timezone.now().isoformat()))
            await frames_until_quiet(socket)
        # Ada mentions Alice and Bob (who works for another Application: plain text, no mention).
        await database_sync_to_async(do_add_note)(
            conversation=conversation, author=admin, text="@alice @bob can you call her back?"
        )
        heard = {name: "".join(await frames_until_quiet(socket)) for name, socket in sockets.items()}
        for socket in sockets.values():
            await socket.disconnect()
        return heard

    heard = async_to_sync(scenario)()

    alice = heard["alice"]
    assert 'data-live="notify"' in alice and 'data-reason="mention"' in alice
    assert f'data-conversation="{conversation.pk}"' in alice
    assert 'data-title="Ada Admin"' in alice and 'data-body="@alice @bob can you call her back?"' in alice
    assert 'id="nav-mentions"' in alice and 'data-count="1"' in alice
    assert 'data-live="notify"' not in heard["ada"]  # the author, in the same Application: no notice
    assert heard["bob"] == ""  # another tenant hears nothing at all


@pytest.mark.django_db(transaction=True)
def test_a_mention_notice_is_drawn_only_for_an_application_the_socket_sees(agent_a, admin, agent_b, app_a):
    conversation = make_conversation(app_a, name="Clara", assignee=admin)
    note = do_add_note(conversation=conversation, author=admin, text="@alice look")

    def tell(user_id: int) -> None:
        with transaction.atomic():
            publish_mentioned(
                user_ids=[user_id], application_id=app_a.pk, conversation_id=conversation.pk, note_id=note.pk
            )

    async def scenario():
        frames = {}
        for user in (agent_b, agent_a):  # Bob never sees Application A; Alice does (the control)
            socket = await connect(user, application)
            await socket.send_json_to(sync_message(since=timezone.now().isoformat()))
            await frames_until_quiet(socket)
            await database_sync_to_async(tell)(user.pk)
            frames[user.username] = "".join(await frames_until_quiet(socket))
            await socket.disconnect()
        return frames

    frames = async_to_sync(scenario)()

    assert 'id="nav-mentions"' in frames["bob"] and 'data-live="notify"' not in frames["bob"]
    assert "look" not in frames["bob"]
    assert 'data-reason="mention"' in frames["alice"] and 'data-body="@alice look"' in frames["alice"]
