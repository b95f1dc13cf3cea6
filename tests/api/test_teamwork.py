"""Notes and labels through the API: the inbox's actions and access (another tenant's conversation is a
404), and `note.created` for outgoing webhooks."""

from __future__ import annotations

import pytest

from conversations.actions.labels import do_create_label
from conversations.actions.notes import do_add_note
from conversations.models import Label, Mention, Message
from tests.api.test_outgoing_webhooks import drain, subscribe
from tests.inbox.inbox_support import make_conversation

pytestmark = pytest.mark.django_db


def test_notes_are_listed_and_written_with_mentions(api_agent_a, conversation_a, admin, agent_a):
    do_add_note(conversation=conversation_a, author=admin, text="first")
    path = f"/api/v1/conversations/{conversation_a.pk}/notes/"

    made = api_agent_a.post(path, {"text": "@ada <b>please</b> look"})

    assert made.status_code == 201, made.content
    assert made.json()["text"] == "@ada <b>please</b> look" and made.json()["mentions"] == ["ada"]
    assert Mention.objects.get().user_id == admin.pk
    listed = api_agent_a.get(path).json()
    assert [n["text"] for n in listed] == ["first", "@ada <b>please</b> look"]
    assert listed[0]["author"]["username"] == "ada"
    # Notes are not messages of the conversation (those pass between the customer and the team).
    messages = api_agent_a.get(f"/api/v1/conversations/{conversation_a.pk}/messages/").json()["results"]
    assert made.json()["id"] not in [m["id"] for m in messages]


@pytest.mark.parametrize(("text", "status"), [("", 400), ("   ", 422), ("x" * 10_001, 400)])
def test_a_bad_note_is_refused_with_nothing_stored(api_agent_a, conversation_a, text, status):
    response = api_agent_a.post(f"/api/v1/conversations/{conversation_a.pk}/notes/", {"text": text})

    assert response.status_code == status
    assert not Message.objects.filter(direction=Message.Direction.NOTE).exists()


def test_labels_are_listed_and_set(api_agent_a, conversation_a, admin, app_a):
    billing = do_create_label(actor=admin, application=app_a, name="Billing", colour="#e03131")
    urgent = do_create_label(actor=admin, application=app_a, name="Urgent", colour="#f08c00")
    path = f"/api/v1/conversations/{conversation_a.pk}/labels/"

    assert [
        label["name"] for label in api_agent_a.get(f"/api/v1/applications/{app_a.pk}/labels/").json()
    ] == [
        "Billing",
        "Urgent",
    ]
    assert [
        label["id"] for label in api_agent_a.put(path, {"label_ids": [urgent.pk, billing.pk]}).json()
    ] == [
        billing.pk,
        urgent.pk,
    ]
    assert [label["name"] for label in api_agent_a.put(path, {"label_ids": [urgent.pk]}).json()] == ["Urgent"]
    assert [label["name"] for label in api_agent_a.get(path).json()] == ["Urgent"]
    verbs = [
        m.content["activity"]["verb"]
        for m in Message.objects.filter(direction=Message.Direction.ACTIVITY).order_by("id")
    ]
    assert verbs == ["label_added", "label_added", "label_removed"]


def test_another_tenants_label_or_conversation_is_refused(
    api_agent_a, api_agent_b, conversation_a, app_b, admin, app_a
):
    theirs = Label.objects.create(application=app_b, name="Theirs")
    path = f"/api/v1/conversations/{conversation_a.pk}/labels/"

    assert api_agent_a.put(path, {"label_ids": [theirs.pk]}).status_code == 422
    assert not conversation_a.labels.exists()
    assert api_agent_b.get(path).status_code == 404
    assert api_agent_b.put(path, {"label_ids": []}).status_code == 404
    assert api_agent_b.get(f"/api/v1/conversations/{conversation_a.pk}/notes/").status_code == 404
    assert (
        api_agent_b.post(f"/api/v1/conversations/{conversation_a.pk}/notes/", {"text": "hi"}).status_code
        == 404
    )
    assert api_agent_b.get(f"/api/v1/applications/{app_a.pk}/labels/").status_code == 404
    assert not Message.objects.filter(direction=Message.Direction.NOTE).exists()


@pytest.mark.django_db(transaction=True)
def test_a_note_is_delivered_as_note_created(api_admin, api_agent_a, app_a, receiver, private_urls_allowed):
    conversation = make_conversation(app_a)
    made = subscribe(api_admin, app_a, receiver.url, events=["note.created"])
    receiver.secret = made["secret"]

    api_agent_a.post(f"/api/v1/conversations/{conversation.pk}/notes/", {"text": "for the team"})
    api_agent_a.post(
        f"/api/v1/conversations/{conversation.pk}/assign/", {"assignee_id": None}
    )  # no note: nothing
    drain()

    accepted = receiver.accepted()
    assert [e["type"] for e in accepted] == ["note.created"]
    assert accepted[0]["data"]["note"]["text"] == "for the team"
    assert accepted[0]["data"]["conversation"]["id"] == conversation.pk
