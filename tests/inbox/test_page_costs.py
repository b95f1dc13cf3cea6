"""What the inbox and thread pages ask the database: each fact once, and no write when nothing changes."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from channels_app.models import Membership
from channels_app.selectors import channel_kinds
from conversations.models import Conversation, Label
from conversations.selectors.thread import conversation_for, thread_page
from tests.conftest import login
from tests.inbox.inbox_support import add_message, channel_of, header_of, make_conversation, row_of

pytestmark = pytest.mark.django_db


def _sql(queries: CaptureQueriesContext) -> list[str]:
    return [q["sql"].upper() for q in queries.captured_queries]


def _values(page: str, opening: str, closing: str) -> list[str]:
    """The `value`s inside the first element that starts with `opening` (up to its `closing` tag)."""
    start = page.index(opening)
    return re.findall(r'value="([^"]*)"', page[start : page.index(closing, start)])


def _by_user(queries: CaptureQueriesContext, table: str) -> list[str]:
    """Queries of `table` that pick the signed-in user's rows (`"user_id" = 5`, not a join on it)."""
    return [sql for sql in _sql(queries) if table in sql and re.search(r'"USER_ID" = \d', sql)]


@pytest.mark.parametrize("page", ["inbox", "thread"])
@pytest.mark.parametrize("role", ["agent", "admin"])
def test_a_page_reads_the_users_applications_once(agent_a_client, admin_client_a, app_a, page, role):
    conversation = make_conversation(app_a)
    url = "/" if page == "inbox" else reverse("conversation", args=[conversation.pk])
    client = admin_client_a if role == "admin" else agent_a_client

    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)

    assert response.status_code == 200
    # Which Applications the user sees, and whether they administer one (the nav's "Delivery" and
    # "Settings"): one read, handed to the access check, the list, the filter bar and the nav.
    assert len(_by_user(queries, "CHANNELS_APP_MEMBERSHIP")) == 1
    nav = response.content.decode()
    assert (f'href="{reverse("settings:index")}"' in nav) is (role == "admin")
    assert (f'href="{reverse("review:list")}"' in nav) is (role == "admin")
    # The user's language and time zone come with the user: no query of their own.
    assert not _by_user(queries, "CHANNELS_APP_USERPREFERENCES")


def test_a_thread_page_reads_members_and_labels_once(app_a, app_b, agent_a, agent_b):
    # Alice answers for both Applications; Bob only for B.
    Membership.objects.create(user=agent_a, application=app_b, role=Membership.Role.AGENT)
    vip = Label.objects.create(application=app_a, name="VIP", colour="#b91c1c")
    billing = Label.objects.create(application=app_b, name="Billing", colour="#1d4ed8")
    conversation = make_conversation(app_a)

    with CaptureQueriesContext(connection) as queries:
        response = login(agent_a).get(reverse("conversation", args=[conversation.pk]))

    assert response.status_code == 200
    page = response.content.decode()
    # The thread's assignee menu offers its own Application's members; the bulk bar, colleagues of any.
    assignees = _values(page, f'<select id="assignee-{conversation.pk}"', "</select>")
    assert str(agent_a.pk) in assignees and str(agent_b.pk) not in assignees
    assert _values(page, '<select id="bulk-assignee"', "</select>") == ["me", "", str(agent_b.pk)]
    # The label menu: the thread's Application's labels; the filter bar: every visible one's.
    assert _values(
        page, '<form method="post" action="' + reverse("set_label", args=[conversation.pk]), "</form>"
    )[-1:] == [f"{vip.pk}:add"]
    assert sorted(_values(page, '<details class="label-filter"', "</details>")) == sorted(
        [str(vip.pk), str(billing.pk)]
    )
    # Members once (by Application); the Applications' labels once, besides the list rows' chips and the
    # thread's own (both through the conversations' labels).
    members = [s for s in _sql(queries) if "CHANNELS_APP_MEMBERSHIP" in s and "AUTH_USER" in s]
    assert len(members) == 1
    labels = [s for s in _sql(queries) if 'FROM "CONVERSATIONS_LABEL"' in s]
    assert len([s for s in labels if "CONVERSATIONS_CONVERSATION_LABELS" not in s]) == 1


def test_opening_a_thread_counts_mentions_once_when_none_are_unread(agent_a_client, app_a):
    conversation = make_conversation(app_a)

    with CaptureQueriesContext(connection) as queries:
        response = agent_a_client.get(reverse("conversation", args=[conversation.pk]))

    assert response.status_code == 200
    mentions = [s for s in _sql(queries) if "CONVERSATIONS_MENTION" in s]
    assert len(mentions) == 1 and mentions[0].startswith("SELECT COUNT")
    assert 'id="nav-mentions"' in response.content.decode()


def test_opening_a_read_thread_takes_no_lock(agent_a_client, app_a):
    conversation = make_conversation(app_a, unread=0)

    with CaptureQueriesContext(connection) as queries:
        assert agent_a_client.get(reverse("conversation", args=[conversation.pk])).status_code == 200

    assert not [sql for sql in _sql(queries) if "FOR UPDATE" in sql]


def test_opening_an_unread_thread_still_marks_it_read(agent_a_client, app_a):
    conversation = make_conversation(app_a, unread=3)

    agent_a_client.get(reverse("conversation", args=[conversation.pk]))

    conversation.refresh_from_db()
    assert conversation.unread_count == 0


def test_a_page_of_messages_is_one_query_in_every_direction(app_a):
    conversation = make_conversation(app_a, text=None)
    messages = [add_message(conversation, content={"text": f"m{i}"}) for i in range(6)]

    for kwargs in ({}, {"before_id": messages[4].pk}, {"after_id": messages[1].pk}):
        with CaptureQueriesContext(connection) as queries:
            page = thread_page(conversation=conversation, limit=3, **kwargs)
            [m.author for m in page.messages]  # joined, not read per bubble
        assert len(queries) == 1, kwargs


def test_checking_access_to_a_conversation_is_one_query(app_a, agent_a, agent_b):
    conversation = make_conversation(app_a)

    with CaptureQueriesContext(connection) as queries:
        assert conversation_for(agent_a, conversation.pk).pk == conversation.pk
    with pytest.raises(Exception) as refused:
        conversation_for(agent_b, conversation.pk)

    assert len(queries) == 1
    assert refused.type.__name__ == "Http404"
    assert Conversation.objects.filter(pk=conversation.pk).exists()


def test_a_channels_kind_is_read_once_per_process_until_the_channel_is_saved(app_a):
    channel = channel_of(app_a, "whatsapp")
    assert channel_kinds([channel.pk]) == {channel.pk: "whatsapp"}

    with CaptureQueriesContext(connection) as queries:
        assert channel_kinds([channel.pk, 999_999]) == {channel.pk: "whatsapp"}  # an unknown id: left out
    assert len(queries) == 1  # only the unknown id was asked for

    channel.kind = "telegram"  # never done by Hubdash itself (a kind is fixed at registration)
    channel.save()
    assert channel_kinds([channel.pk]) == {channel.pk: "telegram"}


@pytest.mark.parametrize(("status", "expected"), [("open", 2), ("resolved", 1), ("all", 3)])
def test_a_pages_tabs_count_only_the_status_it_shows(agent_a_client, app_a, status, expected):
    make_conversation(app_a, status="open")
    make_conversation(app_a, status="open")
    make_conversation(app_a, status="resolved")

    with CaptureQueriesContext(connection) as queries:
        response = agent_a_client.get("/", {"status": status})

    assert f'id="tab-count-all" class="tab-count" data-live="replace" data-count="{expected}"' in (
        response.content.decode()
    )
    counts = [sql for sql in _sql(queries) if "GROUP BY" in sql and "COUNT(*)" in sql]
    assert len(counts) == 1
    assert ("\"STATUS\" = 'OPEN'" in counts[0] or "\"STATUS\" = 'RESOLVED'" in counts[0]) is (status != "all")


def test_the_rows_labels_are_one_query_for_the_whole_list(agent_a_client, app_a):
    zeta = Label.objects.create(application=app_a, name="Zeta", colour="#b91c1c")
    alpha = Label.objects.create(application=app_a, name="Alpha", colour="#1d4ed8")
    labelled = [make_conversation(app_a) for _ in range(3)]
    for conversation in labelled:
        conversation.labels.add(zeta, alpha)
    bare = make_conversation(app_a)

    with CaptureQueriesContext(connection) as queries:
        page = agent_a_client.get("/").content.decode()

    assert len([sql for sql in _sql(queries) if "CONVERSATIONS_CONVERSATION_LABELS" in sql]) == 1
    for conversation in labelled:  # each row's chips, by name
        row = page[page.index(f'<li id="conv-{conversation.pk}"') :]
        row = row[: row.index("</li>")]
        assert 0 < row.index(">Alpha<") < row.index(">Zeta<")
    row = page[page.index(f'<li id="conv-{bare.pk}"') :]
    assert ">Alpha<" not in row[: row.index("</li>")]


def test_typing_a_search_answers_the_list_and_the_tab_counts_only(agent_a_client, app_a):
    marta = make_conversation(app_a, name="Marta")
    pedro = make_conversation(app_a, name="Pedro")

    with CaptureQueriesContext(connection) as queries:
        response = agent_a_client.get(
            "/", {"q": "Marta"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="inbox-list-wrap"
        )

    page = response.content.decode()
    assert page.startswith('<ul id="inbox-list"')
    assert f'id="conv-{marta.pk}"' in page and f'id="conv-{pedro.pk}"' not in page
    # The tabs count under the new filters, out of band; nothing else of the page comes back.
    assert 'id="tab-count-all" class="tab-count" hx-swap-oob="true" data-count="2"' in page
    assert 'id="bulk-form"' not in page and 'class="label-filter"' not in page
    # So the bulk bar's members and the filter bar's labels are not read.
    assert not [sql for sql in _sql(queries) if "CHANNELS_APP_MEMBERSHIP" in sql and "AUTH_USER" in sql]
    assert not [
        sql
        for sql in _sql(queries)
        if 'FROM "CONVERSATIONS_LABEL"' in sql and "CONVERSATIONS_CONVERSATION_LABELS" not in sql
    ]


def test_a_search_typed_under_the_same_tab_filters_leaves_the_counts_out(agent_a_client, app_a):
    make_conversation(app_a, name="Marta")
    make_conversation(app_a, name="Pedro", status="resolved")
    page = agent_a_client.get("/").content.decode()
    counted = re.search(r'id="view-unread"[^>]*data-counted="([^"]*)"', page).group(1)
    list_only = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "inbox-list-wrap"}

    # A search term typed: the same tab filters, so the counts the tab shows stand.
    with CaptureQueriesContext(connection) as queries:
        typed = agent_a_client.get("/", {"q": "Marta"}, HTTP_X_HUBDASH_COUNTED=counted, **list_only)
    assert "Marta" in typed.content.decode()
    assert "tab-count" not in typed.content.decode() and "view-unread" not in typed.content.decode()
    assert not [sql for sql in _sql(queries) if "GROUP BY" in sql]

    # Another status counts differently: the answer carries the new counts, and what they count under.
    other = agent_a_client.get(
        "/", {"q": "", "status": "resolved"}, HTTP_X_HUBDASH_COUNTED=counted, **list_only
    ).content.decode()
    assert 'id="tab-count-all" class="tab-count" hx-swap-oob="true" data-count="1"' in other
    assert re.search(r'id="view-unread"[^>]*data-counted="([^"]*)"', other).group(1) != counted


def test_the_open_threads_labels_come_with_the_list_rows_in_one_query(agent_a_client, app_a):
    vip = Label.objects.create(application=app_a, name="VIP", colour="#b91c1c")
    listed = make_conversation(app_a)
    # Resolved: the page's list (open ones) does not show it; its header shows its labels all the same.
    unlisted = make_conversation(app_a, status=Conversation.Status.RESOLVED)
    for conversation in (listed, unlisted):
        conversation.labels.add(vip)

    for conversation in (listed, unlisted):
        with CaptureQueriesContext(connection) as queries:
            page = agent_a_client.get(reverse("conversation", args=[conversation.pk])).content.decode()

        assert (f'<li id="conv-{conversation.pk}"' in page) is (conversation is listed)
        assert f'data-label="{vip.pk}">VIP</span>' in row_of(page, listed)
        header = header_of(page, conversation)
        assert f'data-label="{vip.pk}">VIP</span>' in header
        assert f'value="{vip.pk}:remove"' in header  # the label menu knows it is on
        assert len([sql for sql in _sql(queries) if "CONVERSATIONS_CONVERSATION_LABELS" in sql]) == 1


def test_an_unlinked_contacts_panel_is_drawn_from_the_thread_already_read(agent_a_client, app_a):
    conversation = make_conversation(app_a, name="Marta", external_id="5521999990000")

    with CaptureQueriesContext(connection) as queries:
        page = agent_a_client.get(reverse("conversation", args=[conversation.pk])).content.decode()

    start = page.index(f'id="contact-panel-{conversation.pk}"')
    panel = page[start : page.index("</details>", start)]
    assert "Marta" in panel and "5521999990000" in panel and "this conversation" in panel
    last_seen = panel[panel.index("Last seen") :]
    assert f'datetime="{conversation.last_inbound_at.isoformat()}"' in last_seen
    assert 'data-action="unlink"' not in panel  # nothing to unlink from
    assert not [sql for sql in _sql(queries) if 'FROM "CONVERSATIONS_CONTACT"' in sql]
