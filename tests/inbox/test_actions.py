"""Conversation actions: assign, resolve / reopen, read / unread; each tells every open inbox."""

from __future__ import annotations

import asyncio
import re

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.urls import reverse
from django.utils import timezone

from channels_app.realtime import application_group
from conversations.actions.threads import (
    ThreadActionError,
    do_assign,
    do_mark_unread,
    do_rename_contact,
    do_set_status,
)
from conversations.models import Conversation
from tests.inbox.inbox_support import make_conversation

pytestmark = pytest.mark.django_db(transaction=True)

HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_CURRENT_URL": "http://testserver/conversations/1/"}


def events_during(application_id: int, action) -> tuple[object, list[dict]]:
    """Run `action` and return its result and what Application A's group heard (every open inbox of A).

    One event loop for all of it: the Redis layer binds a channel's receive buffer to its loop.
    """

    async def scenario():
        layer = get_channel_layer()
        channel = await layer.new_channel()
        await layer.group_add(application_group(application_id), channel)
        result = await database_sync_to_async(action)()
        events = []
        while True:
            try:
                events.append(await asyncio.wait_for(layer.receive(channel), timeout=0.5))
            except TimeoutError:
                break
        await layer.group_discard(application_group(application_id), channel)
        return result, events

    return async_to_sync(scenario)()


def test_assign_to_me_updates_row_and_header_and_tells_the_others(agent_a_client, app_a, agent_a):
    conversation = make_conversation(app_a)

    response, events = events_during(
        app_a.pk,
        lambda: agent_a_client.post(reverse("assign", args=[conversation.pk]), {"assignee": "me"}, **HTMX),
    )

    conversation.refresh_from_db()
    html = response.content.decode()
    assert conversation.assignee == agent_a
    assert f'id="conv-{conversation.pk}"' in html
    assert f'id="thread-header-{conversation.pk}"' in html
    assert f'data-assignee="{agent_a.pk}"' in html
    assert {
        "type": "conversation.updated",
        "application_id": app_a.pk,
        "conversation_id": conversation.pk,
    } in [{k: e[k] for k in ("type", "application_id", "conversation_id")} for e in events]


def test_assign_to_a_colleague_and_back_to_nobody(agent_a_client, app_a, admin):
    conversation = make_conversation(app_a)

    agent_a_client.post(reverse("assign", args=[conversation.pk]), {"assignee": str(admin.pk)}, **HTMX)
    conversation.refresh_from_db()
    assert conversation.assignee == admin

    agent_a_client.post(reverse("assign", args=[conversation.pk]), {"assignee": ""}, **HTMX)
    conversation.refresh_from_db()
    assert conversation.assignee is None


def test_resolve_then_reopen(agent_a_client, app_a):
    conversation = make_conversation(app_a)

    resolved = agent_a_client.post(
        reverse("set_status", args=[conversation.pk]), {"status": "resolved"}, **HTMX
    )
    conversation.refresh_from_db()
    assert conversation.status == Conversation.Status.RESOLVED
    assert 'data-action="reopen"' in resolved.content.decode()
    assert (conversation.status_changed_by.username, conversation.status_changed_at is not None) == (
        "alice",
        True,
    )
    assert re.search(r'data-role="status-by">by Alice Agent <time', resolved.content.decode())

    agent_a_client.post(reverse("set_status", args=[conversation.pk]), {"status": "open"}, **HTMX)
    conversation.refresh_from_db()
    assert conversation.status == Conversation.Status.OPEN


def test_a_row_that_leaves_the_filtered_list_is_removed(agent_a_client, app_a):
    conversation = make_conversation(app_a)
    headers = {
        **HTMX,
        "HTTP_HX_CURRENT_URL": f"http://testserver/conversations/{conversation.pk}/?status=open",
    }

    response = agent_a_client.post(
        reverse("set_status", args=[conversation.pk]), {"status": "resolved"}, **headers
    )

    assert f'<div id="conv-{conversation.pk}" data-live="remove"' in response.content.decode()


def test_mark_unread_flags_it_and_leaves_the_thread(agent_a_client, app_a):
    conversation = make_conversation(app_a, unread=0)
    headers = {
        **HTMX,
        "HTTP_HX_CURRENT_URL": f"http://testserver/conversations/{conversation.pk}/?kind=whatsapp",
    }

    response = agent_a_client.post(reverse("mark_unread", args=[conversation.pk]), **headers)

    conversation.refresh_from_db()
    assert conversation.unread_count == 1
    assert '"path": "/?kind=whatsapp"' in response["HX-Location"]
    assert '"target": "#thread-pane"' in response["HX-Location"]


def test_mark_read_clears_the_badge(agent_a_client, app_a):
    conversation = make_conversation(app_a, unread=4)

    agent_a_client.post(reverse("mark_read", args=[conversation.pk]), **HTMX)

    conversation.refresh_from_db()
    assert conversation.unread_count == 0


def test_an_action_that_changes_nothing_publishes_nothing(app_a, agent_a):
    conversation = make_conversation(app_a, unread=2)

    def no_change() -> None:
        do_set_status(conversation=conversation, status="open", actor=agent_a)
        do_mark_unread(conversation=conversation, actor=agent_a)

    _, events = events_during(app_a.pk, no_change)

    assert events == []


def test_unknown_status_and_foreign_assignee_are_refused(app_a, agent_a, agent_b):
    conversation = make_conversation(app_a)

    with pytest.raises(ThreadActionError):
        do_set_status(conversation=conversation, status="archived", actor=agent_a)
    with pytest.raises(ThreadActionError):
        do_assign(conversation=conversation, assignee=agent_b, actor=agent_a)


def test_naming_a_contact_redraws_row_and_header_and_tells_the_others(agent_a_client, app_a, agent_a):
    conversation = make_conversation(app_a, external_id="5521987650001")

    response, events = events_during(
        app_a.pk,
        lambda: agent_a_client.post(
            reverse("rename_contact", args=[conversation.pk]),
            {"display_name": "  Joana   <b>Silva</b> "},
            **HTMX,
        ),
    )

    conversation.contact.refresh_from_db()
    html = response.content.decode()
    assert conversation.contact.display_name == "Joana <b>Silva</b>"  # stored as typed, spaces tidied
    assert "Joana &lt;b&gt;Silva&lt;/b&gt;" in html and "<b>Silva</b>" not in html  # shown as text
    assert f'id="conv-{conversation.pk}"' in html and f'id="thread-header-{conversation.pk}"' in html
    assert "5521987650001" in html  # the channel id stays visible under the name
    assert [e["conversation_id"] for e in events if e["type"] == "conversation.updated"] == [conversation.pk]


def test_an_empty_name_shows_the_channel_id_again_and_a_long_one_is_refused(agent_a_client, app_a, agent_a):
    conversation = make_conversation(app_a, name="Joana", external_id="5521987650002")

    refused = agent_a_client.post(
        reverse("rename_contact", args=[conversation.pk]), {"display_name": "x" * 121}, **HTMX
    )
    conversation.contact.refresh_from_db()
    assert refused.status_code == 422
    assert "A name has at most 120 characters." in refused.content.decode()
    assert conversation.contact.display_name == "Joana"

    cleared = agent_a_client.post(
        reverse("rename_contact", args=[conversation.pk]), {"display_name": " "}, **HTMX
    )
    conversation.contact.refresh_from_db()
    assert conversation.contact.display_name == ""
    assert '<h2 id="thread-title">5521987650002</h2>' in cleared.content.decode()


def test_renaming_to_the_same_name_publishes_nothing(app_a, agent_a):
    conversation = make_conversation(app_a, name="Joana")

    _, events = events_during(
        app_a.pk, lambda: do_rename_contact(conversation=conversation, display_name="Joana", actor=agent_a)
    )

    assert events == []


def test_after_a_rename_the_thread_shows_only_the_new_name(agent_a_client, app_a):
    conversation = make_conversation(app_a, name="Joana Prado", text="Oi, tudo bem?")
    agent_a_client.post(
        reverse("rename_contact", args=[conversation.pk]), {"display_name": "Maria Prado"}, **HTMX
    )

    page = agent_a_client.get(reverse("conversation", args=[conversation.pk])).content.decode()

    assert "Maria Prado" in page and "Oi, tudo bem?" in page
    assert "Joana Prado" not in page  # bubbles do not repeat the customer's name, so none is left stale


def test_the_header_says_when_the_customer_reopened_the_thread(agent_a_client, app_a):
    conversation = make_conversation(app_a)
    never_changed = agent_a_client.get(reverse("conversation", args=[conversation.pk])).content.decode()
    Conversation.objects.filter(pk=conversation.pk).update(
        status_changed_at=timezone.now(), status_changed_by=None
    )

    page = agent_a_client.get(reverse("conversation", args=[conversation.pk])).content.decode()

    assert 'data-role="status-by"' not in never_changed
    assert re.search(r'data-role="status-by">reopened by the customer <time', page)
