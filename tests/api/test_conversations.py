"""Conversations through the API: the inbox's filters and keyset pages (opaque cursors, never an offset),
a conversation's detail, status and assignment, with another tenant's conversation a 404."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from conversations.models import Conversation
from tests.api.api_support import error_of
from tests.inbox.inbox_support import make_conversation

pytestmark = pytest.mark.django_db

LIST = "/api/v1/conversations/"


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def test_the_list_is_the_users_inbox_newest_first(api_agent_a, app_a, conversation_b):
    older = make_conversation(app_a, at=timezone.now() - timedelta(hours=1))
    newer = make_conversation(app_a)

    assert ids(api_agent_a.get(LIST)) == [newer.pk, older.pk]


def test_a_row_carries_what_the_inbox_row_shows(api_agent_a, conversation_a, agent_a):
    Conversation.objects.filter(pk=conversation_a.pk).update(assignee=agent_a)

    row = api_agent_a.get(LIST).json()["results"][0]

    assert row["contact"]["display_name"] == "Carla"
    assert row["channel"]["kind"] == "whatsapp"
    assert row["assignee"] == {"id": agent_a.pk, "username": "alice", "name": "Alice Agent"}
    assert row["last_message"]["preview"] == "Where is my order?"
    assert row["unread_count"] == 1 and row["status"] == "open"
    assert row["last_activity_at"].endswith(("Z", "+00:00"))


def test_the_inbox_filters_apply(api_agent_a, app_a, agent_a):
    mine = make_conversation(app_a, assignee=agent_a, text="refund please")
    resolved = make_conversation(app_a, status="resolved")
    unread = make_conversation(app_a, unread=2, kind="sms")

    assert ids(api_agent_a.get(LIST, {"assigned": "mine"})) == [mine.pk]
    assert ids(api_agent_a.get(LIST, {"status": "resolved"})) == [resolved.pk]
    assert ids(api_agent_a.get(LIST, {"unread": "true"})) == [unread.pk]
    assert ids(api_agent_a.get(LIST, {"kind": "sms"})) == [unread.pk]
    assert ids(api_agent_a.get(LIST, {"q": "refund"})) == [mine.pk]
    assert ids(api_agent_a.get(LIST, {"application": app_a.pk, "assigned": "mine"})) == [mine.pk]


def test_another_tenants_application_filter_is_a_404(api_agent_a, app_b):
    response = api_agent_a.get(LIST, {"application": app_b.pk})

    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


@pytest.mark.parametrize(
    "params", [{"status": "closed"}, {"limit": 0}, {"limit": 101}, {"unread": "maybe"}, {"x": 1}]
)
def test_a_bad_filter_is_a_400_on_it(api_agent_a, params):
    response = api_agent_a.get(LIST, params)

    assert response.status_code == 400
    assert list(error_of(response)["fields"]) == list(params)


def test_keyset_pages_cover_every_conversation_once_even_while_rows_move(api_agent_a, app_a):
    now = timezone.now()
    made = [make_conversation(app_a, at=now - timedelta(minutes=i)) for i in range(7)]
    seen: list[int] = []
    page = api_agent_a.get(LIST, {"limit": 3}).json()
    seen += [row["id"] for row in page["results"]]
    # The top conversation gets a new message meanwhile: it moves up, the next pages are not shifted.
    Conversation.objects.filter(pk=made[0].pk).update(last_activity_at=now + timedelta(minutes=1))
    while page["next"]:
        page = api_agent_a.get(LIST, {"limit": 3, "cursor": page["next"]}).json()
        seen += [row["id"] for row in page["results"]]

    assert seen == [c.pk for c in made]


@pytest.mark.parametrize(
    "cursor",
    [
        "nope",
        "Y29udmVyc2F0aW9uczp4",
        "bWVzc2FnZXMtYmVmb3JlOjE",
        "%%%",
        "Y29udmVyc2F0aW9uczo5OTk5OTk5OTk5OTk5OTk5OTk5LTE",
    ],
)
def test_a_cursor_that_is_not_ours_is_a_400(api_agent_a, cursor):
    response = api_agent_a.get(LIST, {"cursor": cursor})

    assert response.status_code == 400
    assert list(error_of(response)["fields"]) == ["cursor"]


def test_the_list_costs_the_same_queries_whatever_its_length(
    api_agent_a, app_a, django_assert_max_num_queries
):
    for _ in range(3):
        make_conversation(app_a)
    with django_assert_max_num_queries(8) as few:
        api_agent_a.get(LIST)
    for _ in range(12):
        make_conversation(app_a)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(ids(api_agent_a.get(LIST))) == 15


def test_detail_and_another_tenants_conversation(api_agent_a, api_agent_b, api_superuser, conversation_a):
    path = f"{LIST}{conversation_a.pk}/"

    assert api_agent_a.get(path).json()["id"] == conversation_a.pk
    assert api_superuser.get(path).status_code == 200
    refused = api_agent_b.get(path)
    assert refused.status_code == 404
    assert "Carla" not in refused.content.decode()


def test_resolve_and_reopen(api_agent_a, conversation_a, agent_a):
    path = f"{LIST}{conversation_a.pk}/status/"

    resolved = api_agent_a.post(path, {"status": "resolved"})

    assert resolved.status_code == 200
    body = resolved.json()
    assert body["status"] == "resolved" and body["status_changed_by"]["id"] == agent_a.pk
    assert api_agent_a.post(path, {"status": "open"}).json()["status"] == "open"


def test_another_tenant_cannot_change_the_status(api_agent_b, conversation_a):
    response = api_agent_b.post(f"{LIST}{conversation_a.pk}/status/", {"status": "resolved"})

    assert response.status_code == 404
    conversation_a.refresh_from_db()
    assert conversation_a.status == "open"


def test_assign_to_a_member_and_to_nobody(api_agent_a, conversation_a, admin):
    path = f"{LIST}{conversation_a.pk}/assign/"

    assert api_agent_a.post(path, {"assignee_id": admin.pk}).json()["assignee"]["id"] == admin.pk
    assert api_agent_a.post(path, {"assignee_id": None}).json()["assignee"] is None


def test_assigning_someone_of_another_tenant_or_nobody_known_is_refused_alike(
    api_agent_a, conversation_a, agent_b
):
    path = f"{LIST}{conversation_a.pk}/assign/"

    other = api_agent_a.post(path, {"assignee_id": agent_b.pk})
    unknown = api_agent_a.post(path, {"assignee_id": 99999})

    assert other.status_code == unknown.status_code == 422
    assert error_of(other)["message"] == error_of(unknown)["message"]
    conversation_a.refresh_from_db()
    assert conversation_a.assignee_id is None
