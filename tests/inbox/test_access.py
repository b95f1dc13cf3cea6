"""Every inbox view checks Application membership: an agent of B never sees, searches or touches A."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from conversations.models import Conversation, Message
from tests.inbox.inbox_support import add_message, make_conversation

pytestmark = pytest.mark.django_db


@pytest.fixture
def a_conversation(app_a, agent_a):
    conversation = make_conversation(app_a, name="Acme Customer", text="segredo da Acme")
    reply = add_message(
        conversation,
        content={"text": "resposta interna"},
        direction=Message.Direction.OUTBOUND,
        status="failed",
        author=agent_a,
    )
    return conversation, reply


def urls_of(conversation: Conversation, reply: Message) -> list[tuple[str, str]]:
    c, m = conversation.pk, reply.pk
    return [
        ("get", reverse("conversation", args=[c])),
        ("get", reverse("thread_messages", args=[c]) + "?before=999999"),
        ("get", reverse("message_timeline", args=[c, m])),
        ("post", reverse("message_retry", args=[c, m])),
        ("post", reverse("reply", args=[c])),
        ("post", reverse("assign", args=[c])),
        ("post", reverse("set_status", args=[c])),
        ("post", reverse("mark_unread", args=[c])),
        ("post", reverse("mark_read", args=[c])),
        ("post", reverse("rename_contact", args=[c])),
    ]


def test_agent_of_b_gets_404_on_every_view_of_a_conversation_of_a(agent_b_client, a_conversation):
    conversation, reply = a_conversation
    data = {
        "text": "hi",
        "idempotency_key": "k1",
        "assignee": "me",
        "status": "resolved",
        "display_name": "X",
    }

    for method, url in urls_of(conversation, reply):
        response = getattr(agent_b_client, method)(url, data) if method == "post" else agent_b_client.get(url)
        assert response.status_code == 404, url

    conversation.refresh_from_db()
    assert conversation.assignee_id is None
    assert conversation.status == Conversation.Status.OPEN
    assert conversation.messages.count() == 2
    assert conversation.contact.display_name != "X"


def test_a_message_of_a_cannot_be_reached_through_a_conversation_of_b(agent_b_client, a_conversation, app_b):
    _, reply_of_a = a_conversation
    conversation_of_b = make_conversation(app_b)

    response = agent_b_client.get(reverse("message_timeline", args=[conversation_of_b.pk, reply_of_a.pk]))

    assert response.status_code == 404


def test_agent_of_b_never_sees_a_in_the_list_or_search(agent_b_client, a_conversation, app_b):
    make_conversation(app_b, name="Bravo Customer", text="segredo da Bravo")

    listing = agent_b_client.get("/").content.decode()
    searched = agent_b_client.get("/?q=segredo").content.decode()
    by_name = agent_b_client.get("/?q=Acme").content.decode()

    assert "Bravo Customer" in listing
    for html in (listing, searched, by_name):
        assert "Acme Customer" not in html
        assert "segredo da Acme" not in html
    assert "Bravo Customer" in searched


def test_filtering_on_an_application_one_may_not_see_is_a_404(agent_b_client, app_a):
    assert agent_b_client.get(f"/?application={app_a.pk}").status_code == 404


def test_superuser_sees_every_application(client, superuser, a_conversation, app_b):
    make_conversation(app_b, name="Bravo Customer")
    client.force_login(superuser)

    html = client.get("/").content.decode()

    assert "Acme Customer" in html
    assert "Bravo Customer" in html
    assert 'name="application"' in html  # two Applications: the filter is offered


def test_user_without_membership_sees_an_empty_inbox_with_an_explanation(client, a_conversation):
    from tests.conftest import _user

    client.force_login(_user("nobody"))
    html = client.get("/").content.decode()

    assert "Acme Customer" not in html
    assert "do not have access to any Application" in html


def test_cannot_assign_to_someone_who_cannot_see_the_application(agent_a_client, a_conversation, agent_b):
    conversation, _ = a_conversation

    response = agent_a_client.post(reverse("assign", args=[conversation.pk]), {"assignee": str(agent_b.pk)})

    assert response.status_code == 422
    conversation.refresh_from_db()
    assert conversation.assignee_id is None


@pytest.mark.parametrize("htmx", [False, True])
def test_assigning_to_an_unknown_id_or_to_another_applications_agent_is_refused_alike(
    agent_a_client, a_conversation, agent_b, admin, htmx
):
    conversation, _ = a_conversation
    url = reverse("assign", args=[conversation.pk])
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}

    def refusal(assignee: str) -> tuple[int, str]:
        response = agent_a_client.post(url, {"assignee": assignee}, **headers)
        # The page carries a fresh (masked) CSRF token each time; everything else must be the same.
        return response.status_code, re.sub(r"[A-Za-z0-9]{64}", "<token>", response.content.decode())

    unknown, foreign = refusal("99999"), refusal(str(agent_b.pk))

    # Nothing tells an id nobody has from a person of another Application.
    assert unknown == foreign
    assert foreign[0] == 422
    assert "That person cannot be assigned this conversation." in foreign[1]
    conversation.refresh_from_db()
    assert conversation.assignee_id is None
    # Control: a colleague of the same Application is assigned.
    assert agent_a_client.post(url, {"assignee": str(admin.pk)}, **headers).status_code in (200, 302)
    conversation.refresh_from_db()
    assert conversation.assignee_id == admin.pk


def test_anonymous_requests_are_sent_to_sign_in(client, a_conversation):
    conversation, reply = a_conversation

    for method, url in urls_of(conversation, reply):
        response = getattr(client, method)(url)
        assert response.status_code == 302, url
        assert reverse("login") in response["Location"]
