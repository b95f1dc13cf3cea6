"""Assignment on first reply: an unassigned conversation goes to the agent who replies first, with an
activity line; an assigned one stays, and the Application can turn it off."""

from __future__ import annotations

import uuid

import pytest

from channels_app.actions.applications import do_update_application
from conversations.actions.replies import do_send_reply
from conversations.models import Activity, Conversation, Message
from tests.conftest import login
from tests.inbox.inbox_support import make_conversation

pytestmark = pytest.mark.django_db


def reply(conversation, author, text="On it"):
    return do_send_reply(
        conversation=conversation,
        author=author,
        content={"text": text},
        idempotency_key=uuid.uuid4().hex,
    )


def activity_verbs(conversation) -> list[str]:
    return [
        m.content["activity"]["verb"]
        for m in Message.objects.filter(
            conversation=conversation, direction=Message.Direction.ACTIVITY
        ).order_by("id")
    ]


def test_the_first_reply_assigns_an_unassigned_conversation_with_an_activity_line(agent_a, admin, app_a):
    conversation = make_conversation(app_a)

    reply(conversation, agent_a)
    reply(conversation, admin, "me too")

    assert Conversation.objects.get(pk=conversation.pk).assignee_id == agent_a.pk
    assert activity_verbs(conversation) == [Activity.AUTO_ASSIGNED]
    page = login(admin).get(f"/conversations/{conversation.pk}/").content.decode()
    assert "Assigned to Alice Agent on their first reply" in page


def test_an_assigned_conversation_keeps_its_assignee(agent_a, admin, app_a):
    conversation = make_conversation(app_a, assignee=admin)

    reply(conversation, agent_a)

    assert Conversation.objects.get(pk=conversation.pk).assignee_id == admin.pk
    assert activity_verbs(conversation) == []


def test_the_application_can_turn_it_off_from_its_settings(agent_a, admin, app_a):
    client = login(admin)
    page = client.get(f"/settings/applications/{app_a.pk}/").content.decode()
    assert 'name="auto_assign_on_reply"' in page and 'name="auto_assign_shown"' in page
    client.post(f"/settings/applications/{app_a.pk}/", {"name": "Acme renamed"})  # no box shown: unchanged
    app_a.refresh_from_db()
    assert (app_a.name, app_a.auto_assign_on_reply) == ("Acme renamed", True)
    response = client.post(
        f"/settings/applications/{app_a.pk}/", {"name": app_a.name, "auto_assign_shown": "1"}
    )
    assert response.status_code == 302  # the page's form with the box unticked: off
    app_a.refresh_from_db()
    assert app_a.auto_assign_on_reply is False
    conversation = make_conversation(app_a)

    reply(conversation, agent_a)

    assert Conversation.objects.get(pk=conversation.pk).assignee_id is None
    assert activity_verbs(conversation) == []
    # The control: on again, the next unassigned conversation is assigned.
    do_update_application(actor=admin, application=app_a, name=app_a.name, auto_assign_on_reply=True)
    other = make_conversation(app_a)
    reply(other, agent_a)
    assert Conversation.objects.get(pk=other.pk).assignee_id == agent_a.pk
