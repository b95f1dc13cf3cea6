"""Working a busy queue: the view tabs and their counts, snooze and pending, bulk actions, and the
Unread view that keeps the open conversation."""

from __future__ import annotations

import re
import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from channels_app.models import AuditEntry
from conversations.actions.snooze import do_snooze, do_wake_due_snoozes
from conversations.actions.threads import ThreadActionError
from conversations.forms import snooze_preset_time
from conversations.models import Conversation
from conversations.worker import sweep_forever
from tests.inbox.inbox_support import make_conversation
from tests.support import wait_for

pytestmark = pytest.mark.django_db


def tab_count(html: str, tab: str) -> int:
    match = re.search(rf'id="tab-count-{tab}"[^>]*>(\d+)<', html)
    assert match, f"no count for {tab}"
    return int(match.group(1))


def shown_ids(html: str) -> set[int]:
    return {int(i) for i in re.findall(r'<li id="conv-(\d+)"', html)}


# --- views and counts -------------------------------------------------------------------------------


def test_the_tabs_count_the_views_under_the_chosen_status(agent_a_client, app_a, agent_a, admin):
    make_conversation(app_a, assignee=agent_a)
    make_conversation(app_a, assignee=admin)
    make_conversation(app_a)
    make_conversation(app_a, status="resolved")
    make_conversation(app_a, status="pending", assignee=agent_a)

    page = agent_a_client.get("/").content.decode()
    resolved = agent_a_client.get("/?status=resolved").content.decode()
    every = agent_a_client.get("/?status=all&assigned=mine").content.decode()

    assert [tab_count(page, t) for t in ("mine", "unassigned", "all")] == [1, 1, 3]
    assert [tab_count(resolved, t) for t in ("mine", "unassigned", "all")] == [0, 1, 1]
    assert [tab_count(every, t) for t in ("mine", "unassigned", "all")] == [2, 2, 5]
    assert len(shown_ids(every)) == 2  # the Mine tab lists what it counts


def test_the_tab_counts_cost_the_same_queries_whatever_the_number_of_conversations(
    agent_a_client, app_a, agent_a
):
    def queries_for_inbox() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert agent_a_client.get("/").status_code == 200
        return len(queries)

    make_conversation(app_a, assignee=agent_a)
    queries_for_inbox()  # the process learns the channel's kind (selectors.channel_kinds)
    few = queries_for_inbox()
    for n in range(40):
        make_conversation(app_a, assignee=agent_a if n % 2 else None, status="resolved" if n % 3 else "open")
    many = queries_for_inbox()

    assert many == few
    assert tab_count(agent_a_client.get("/").content.decode(), "all") == 15


def test_another_tenants_conversations_are_not_counted(agent_b_client, app_a, app_b):
    make_conversation(app_a)
    make_conversation(app_b)

    assert tab_count(agent_b_client.get("/").content.decode(), "all") == 1


def test_changing_the_filters_sends_the_tabs_their_new_counts(agent_a_client, app_a):
    make_conversation(app_a)
    make_conversation(app_a, status="pending")

    html = agent_a_client.get(
        "/?status=pending", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="inbox-list-wrap"
    ).content.decode()

    assert 'id="tab-count-all" class="tab-count" hx-swap-oob="true" data-count="1"' in html


# --- Unread view --------------------------------------------------------------------------------------


def test_opening_a_conversation_in_the_unread_view_keeps_it_in_the_list(agent_a_client, app_a):
    opened = make_conversation(app_a, unread=2)
    other = make_conversation(app_a, unread=0)

    html = agent_a_client.get(reverse("conversation", args=[opened.pk]) + "?unread=1").content.decode()
    listed = agent_a_client.get("/?unread=1").content.decode()

    opened.refresh_from_db()
    assert opened.unread_count == 0
    assert opened.pk in shown_ids(html)  # read, and still in the Unread list it was opened from
    assert other.pk not in shown_ids(html)
    assert opened.pk not in shown_ids(listed)  # the view refreshed: gone


# --- snooze and pending -------------------------------------------------------------------------------


def test_a_snoozed_conversation_leaves_the_open_view(agent_a_client, app_a):
    conversation = make_conversation(app_a)

    response = agent_a_client.post(
        reverse("snooze", args=[conversation.pk]), {"preset": "1h"}, HTTP_HX_REQUEST="true"
    )

    assert response.status_code == 200
    conversation.refresh_from_db()
    assert conversation.status == "snoozed"
    assert timedelta(minutes=59) < conversation.snoozed_until - timezone.now() <= timedelta(hours=1)
    assert conversation.pk not in shown_ids(agent_a_client.get("/").content.decode())
    assert conversation.pk in shown_ids(agent_a_client.get("/?status=snoozed").content.decode())


def test_a_snooze_time_in_the_past_is_refused_and_nothing_changes(agent_a_client, app_a):
    conversation = make_conversation(app_a)
    past = timezone.localtime(timezone.now() - timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")

    response = agent_a_client.post(
        reverse("snooze", args=[conversation.pk]), {"until": past}, HTTP_HX_REQUEST="true"
    )

    assert response.status_code == 422
    assert "Choose a time in the future" in response.content.decode()
    conversation.refresh_from_db()
    assert (conversation.status, conversation.snoozed_until) == ("open", None)


def test_snoozing_a_resolved_conversation_is_refused(agent_a_client, app_a):
    conversation = make_conversation(app_a, status="resolved")

    response = agent_a_client.post(
        reverse("snooze", args=[conversation.pk]), {"preset": "tomorrow"}, HTTP_HX_REQUEST="true"
    )

    assert response.status_code == 422
    assert "reopen it first" in response.content.decode()
    conversation.refresh_from_db()
    assert conversation.status == "resolved"


def test_a_snooze_without_a_time_is_refused(agent_a_client, app_a):
    conversation = make_conversation(app_a)

    response = agent_a_client.post(reverse("snooze", args=[conversation.pk]), {}, HTTP_HX_REQUEST="true")

    assert response.status_code == 422
    conversation.refresh_from_db()
    assert conversation.status == "open"


def test_another_tenant_cannot_snooze(agent_b_client, app_a):
    conversation = make_conversation(app_a)

    response = agent_b_client.post(reverse("snooze", args=[conversation.pk]), {"preset": "1h"})

    assert response.status_code == 404
    conversation.refresh_from_db()
    assert conversation.status == "open"


def test_a_custom_snooze_time_is_read_in_the_agents_time_zone(agent_a_client, agent_a, app_a):
    from channels_app.models import UserPreferences

    UserPreferences.objects.create(user=agent_a, time_zone="America/Sao_Paulo")
    conversation = make_conversation(app_a)

    agent_a_client.post(reverse("snooze", args=[conversation.pk]), {"until": "2999-01-05T09:30"})

    conversation.refresh_from_db()
    assert conversation.snoozed_until.isoformat() == "2999-01-05T12:30:00+00:00"


def test_the_presets_fall_in_the_agents_time_zone():
    import zoneinfo

    zone = zoneinfo.ZoneInfo("America/Sao_Paulo")
    with timezone.override(zone):
        now = timezone.make_aware(timezone.datetime(2026, 11, 25, 21, 0), zone)  # a Wednesday, 21:00
        tonight = snooze_preset_time("tonight", now=now)
        tomorrow = snooze_preset_time("tomorrow", now=now)
        next_week = snooze_preset_time("next_week", now=now)

    assert tonight.astimezone(zone).strftime("%a %H:%M") == "Thu 20:00"  # past 20:00: tomorrow's
    assert tomorrow.astimezone(zone).strftime("%a %d %H:%M") == "Thu 26 09:00"
    assert next_week.astimezone(zone).strftime("%a %d %H:%M") == "Mon 30 09:00"


def test_waking_reopens_only_the_due_conversations_and_each_once(app_a, agent_a):
    due = make_conversation(app_a)
    later = make_conversation(app_a)
    do_snooze(conversation=due, until=timezone.now() + timedelta(seconds=1), actor=agent_a)
    do_snooze(conversation=later, until=timezone.now() + timedelta(hours=3), actor=agent_a)
    Conversation.objects.filter(pk=due.pk).update(snoozed_until=timezone.now() - timedelta(seconds=1))

    assert do_wake_due_snoozes() == [due.pk]

    due.refresh_from_db()
    later.refresh_from_db()
    assert (due.status, due.snoozed_until, due.status_changed_by) == ("open", None, None)
    assert later.status == "snoozed"
    assert do_wake_due_snoozes() == []  # nothing twice


@pytest.mark.django_db(transaction=True)
def test_the_worker_wakes_a_snoozed_conversation_when_its_time_comes(app_a, agent_a, settings):
    # The worker's own loop, in a thread as `run_worker` runs it, on this test's database (SQLite here,
    # PostgreSQL under `make test-postgres`).
    settings.SNOOZE_WAKE_INTERVAL = 0.1
    due = make_conversation(app_a)
    do_snooze(conversation=due, until=timezone.now() + timedelta(seconds=1), actor=agent_a)
    stop = threading.Event()
    worker = threading.Thread(target=sweep_forever, args=(stop, 60.0))
    worker.start()
    try:
        assert Conversation.objects.get(pk=due.pk).status == "snoozed"  # the control: not before its time
        wait_for(lambda: Conversation.objects.get(pk=due.pk).status == "open", timeout=30, what="the wake-up")
    finally:
        stop.set()
        worker.join(timeout=10)
    due.refresh_from_db()
    assert due.snoozed_until is None


def test_pending_is_set_and_cleared_like_resolve(agent_a_client, app_a):
    conversation = make_conversation(app_a)
    url = reverse("set_status", args=[conversation.pk])

    agent_a_client.post(url, {"status": "pending"}, HTTP_HX_REQUEST="true")
    conversation.refresh_from_db()
    assert conversation.status == "pending"
    page = agent_a_client.get(reverse("conversation", args=[conversation.pk])).content.decode()
    assert 'data-action="clear-pending"' in page

    agent_a_client.post(url, {"status": "open"}, HTTP_HX_REQUEST="true")
    conversation.refresh_from_db()
    assert conversation.status == "open"


def test_snoozed_is_not_a_status_one_can_set_without_a_time(agent_a, app_a):
    from conversations.actions.threads import do_set_status

    conversation = make_conversation(app_a)

    with pytest.raises(ThreadActionError):
        do_set_status(conversation=conversation, status="snoozed", actor=agent_a)


# --- bulk actions -----------------------------------------------------------------------------------


def test_bulk_resolve_changes_each_selected_conversation_with_one_audit_entry_each(agent_a_client, app_a):
    chosen = [make_conversation(app_a) for _ in range(3)]
    untouched = make_conversation(app_a)

    response = agent_a_client.post(
        reverse("bulk_action"),
        {"action": "resolve", "ids": [c.pk for c in chosen]},
        HTTP_HX_REQUEST="true",
        HTTP_HX_CURRENT_URL="http://testserver/",
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert "Done for 3 conversations." in html
    # The rows leave this tab's open view at once.
    assert all(f'<div id="conv-{c.pk}" data-live="remove"' in html for c in chosen)
    assert set(Conversation.objects.filter(status="resolved").values_list("pk", flat=True)) == {
        c.pk for c in chosen
    }
    assert Conversation.objects.get(pk=untouched.pk).status == "open"
    entries = AuditEntry.objects.filter(action="conversation.bulk_resolve")
    assert sorted(int(e.target_id) for e in entries) == sorted(c.pk for c in chosen)


def test_bulk_over_another_tenants_conversations_does_the_others_and_reports_them(
    agent_a_client, app_a, app_b
):
    mine = [make_conversation(app_a) for _ in range(2)]
    theirs = make_conversation(app_b)

    response = agent_a_client.post(
        reverse("bulk_action"),
        {"action": "snooze", "preset": "tomorrow", "ids": [mine[0].pk, theirs.pk, mine[1].pk]},
        HTTP_HX_REQUEST="true",
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert "Done for 2 conversations. 1 not found." in html
    assert Conversation.objects.get(pk=theirs.pk).status == "open"
    assert f"conv-{theirs.pk}" not in html
    assert not AuditEntry.objects.filter(target_type="conversation", target_id=str(theirs.pk)).exists()
    assert Conversation.objects.filter(pk__in=[c.pk for c in mine], status="snoozed").count() == 2


def test_bulk_snooze_of_a_resolved_conversation_is_reported_as_refused(agent_a_client, app_a):
    open_one = make_conversation(app_a)
    resolved = make_conversation(app_a, status="resolved")

    html = agent_a_client.post(
        reverse("bulk_action"),
        {"action": "snooze", "preset": "1h", "ids": [open_one.pk, resolved.pk]},
        HTTP_HX_REQUEST="true",
    ).content.decode()

    assert "Done for 1 conversation. 1 refused: A resolved conversation cannot be snoozed" in html
    assert Conversation.objects.get(pk=resolved.pk).status == "resolved"


@pytest.mark.parametrize(
    ("data", "field", "value"),
    [
        ({"action": "assign", "assignee": "me"}, "assignee_id", "agent"),
        ({"action": "assign", "assignee": ""}, "assignee_id", None),
        ({"action": "mark_unread"}, "unread_count", 1),
        ({"action": "mark_read"}, "unread_count", 0),
        ({"action": "pending"}, "status", "pending"),
        ({"action": "reopen"}, "status", "open"),
    ],
)
def test_each_bulk_action_does_what_its_thread_button_does(
    agent_a_client, agent_a, app_a, data, field, value
):
    unread = 0 if data["action"] == "mark_unread" else 3
    status = "pending" if data["action"] == "reopen" else "open"
    conversations = [make_conversation(app_a, unread=unread, status=status) for _ in range(2)]
    if data.get("assignee") == "":
        Conversation.objects.update(assignee=agent_a)

    response = agent_a_client.post(
        reverse("bulk_action"), {**data, "ids": [c.pk for c in conversations]}, HTTP_HX_REQUEST="true"
    )

    assert response.status_code == 200
    expected = agent_a.pk if value == "agent" else value
    assert [getattr(Conversation.objects.get(pk=c.pk), field) for c in conversations] == [expected] * 2


@pytest.mark.parametrize(
    "data",
    [
        {"action": "explode", "ids": ["1"]},
        {"action": "resolve", "ids": []},
        {"action": "snooze", "preset": "someday", "ids": ["1"]},
        {"action": "assign", "assignee": "999999", "ids": ["1"]},
    ],
)
def test_a_bad_bulk_request_changes_nothing(agent_a_client, app_a, data):
    conversation = make_conversation(app_a)
    data = {**data, "ids": [str(conversation.pk)] if data["ids"] else []}

    response = agent_a_client.post(reverse("bulk_action"), data, HTTP_HX_REQUEST="true")

    assert response.status_code == 422
    conversation.refresh_from_db()
    assert (conversation.status, conversation.assignee_id) == ("open", None)
    assert not AuditEntry.objects.exists()


def test_bulk_needs_a_signed_in_user(client, app_a):
    conversation = make_conversation(app_a)

    response = client.post(reverse("bulk_action"), {"action": "resolve", "ids": [conversation.pk]})

    assert response.status_code == 302
    assert Conversation.objects.get(pk=conversation.pk).status == "open"


# --- search hits ----------------------------------------------------------------------------------------


def test_a_thread_opened_from_a_search_opens_at_the_matching_message(agent_a_client, app_a):
    from tests.inbox.inbox_support import add_message

    conversation = make_conversation(app_a, text=None)
    messages = [
        add_message(conversation, content={"type": "text", "text": f"mensagem {n}"}) for n in range(80)
    ]
    hit = add_message(conversation, content={"type": "text", "text": "o boleto venceu ontem"})
    messages += [
        add_message(conversation, content={"type": "text", "text": f"depois {n}"}) for n in range(80)
    ]
    Conversation.objects.filter(pk=conversation.pk).update(last_message=messages[-1])

    html = agent_a_client.get(reverse("conversation", args=[conversation.pk]) + "?q=BOLETO").content.decode()
    plain = agent_a_client.get(reverse("conversation", args=[conversation.pk])).content.decode()

    assert f'data-search-hit="{hit.pk}"' in html
    assert f'id="msg-{hit.pk}"' in html
    assert f'id="msg-{messages[-1].pk}"' not in html  # the newest are loaded on scrolling down...
    assert f'id="thread-newer-{conversation.pk}"' in html and 'data-sentinel="after"' in html
    assert f'id="thread-older-{conversation.pk}"' in html  # ...and the older ones on scrolling up
    assert f'id="msg-{messages[-1].pk}"' in plain and "data-search-hit" not in plain  # the control


def test_scrolling_down_from_a_search_hit_loads_the_next_messages(agent_a_client, app_a):
    from tests.inbox.inbox_support import add_message

    conversation = make_conversation(app_a, text=None)
    messages = [add_message(conversation, content={"type": "text", "text": f"m{n}"}) for n in range(70)]
    url = reverse("thread_messages", args=[conversation.pk])

    first = agent_a_client.get(f"{url}?after={messages[0].pk}", HTTP_HX_REQUEST="true").content.decode()
    last = agent_a_client.get(f"{url}?after={messages[45].pk}", HTTP_HX_REQUEST="true").content.decode()

    assert f'id="msg-{messages[1].pk}"' in first and f'id="thread-newer-{conversation.pk}"' in first
    assert f'id="msg-{messages[-1].pk}"' in last and "thread-newer" not in last


# --- activity lines (the teamwork issue's record_activity) --------------------------------------------


def activities(conversation: Conversation) -> list[tuple[str, int | None]]:
    from conversations.models import Message

    items = Message.objects.filter(conversation=conversation, direction="activity").order_by("id")
    return [(m.content["activity"]["verb"], m.author_id) for m in items]


def test_snoozing_and_the_worker_waking_leave_activity_lines(agent_a_client, agent_a, app_a):
    conversation = make_conversation(app_a)

    agent_a_client.post(
        reverse("snooze", args=[conversation.pk]), {"preset": "tomorrow"}, HTTP_HX_REQUEST="true"
    )
    Conversation.objects.filter(pk=conversation.pk).update(
        snoozed_until=timezone.now() - timedelta(seconds=1)
    )
    do_wake_due_snoozes()

    assert activities(conversation) == [("snoozed", agent_a.pk), ("woke", None)]
    page = agent_a_client.get(reverse("conversation", args=[conversation.pk])).content.decode()
    assert 'data-activity="snoozed"' in page and "The snooze ended" in page


def test_waking_a_snoozed_conversation_by_hand_says_who_woke_it(agent_a_client, agent_a, app_a):
    conversation = make_conversation(app_a)
    do_snooze(conversation=conversation, until=timezone.now() + timedelta(hours=1), actor=agent_a)

    agent_a_client.post(
        reverse("set_status", args=[conversation.pk]), {"status": "open"}, HTTP_HX_REQUEST="true"
    )

    assert activities(conversation) == [("snoozed", agent_a.pk), ("woke", agent_a.pk)]


def test_a_bulk_action_leaves_one_activity_line_per_conversation(agent_a_client, agent_a, app_a):
    chosen = [make_conversation(app_a) for _ in range(3)]

    agent_a_client.post(
        reverse("bulk_action"), {"action": "resolve", "ids": [c.pk for c in chosen]}, HTTP_HX_REQUEST="true"
    )
    agent_a_client.post(
        reverse("bulk_action"),
        {"action": "assign", "assignee": "me", "ids": [c.pk for c in chosen]},
        HTTP_HX_REQUEST="true",
    )

    assert [activities(c) for c in chosen] == [[("resolved", agent_a.pk), ("assigned", agent_a.pk)]] * 3


def test_bulk_assigns_to_a_colleague_and_reports_the_conversations_they_cannot_see(
    admin_client_a, admin, agent_a, app_a, app_b
):
    from channels_app.models import Membership

    Membership.objects.create(user=admin, application=app_b, role=Membership.Role.ADMIN)
    of_a = make_conversation(app_a)
    of_b = make_conversation(app_b)
    page = admin_client_a.get("/").content.decode()
    assert f'<option value="{agent_a.pk}">Alice Agent</option>' in page  # the bulk bar offers her

    html = admin_client_a.post(
        reverse("bulk_action"),
        {"action": "assign", "assignee": str(agent_a.pk), "ids": [of_a.pk, of_b.pk]},
        HTTP_HX_REQUEST="true",
    ).content.decode()

    assert "Done for 1 conversation. 1 refused: That person cannot be assigned this conversation." in html
    assert Conversation.objects.get(pk=of_a.pk).assignee_id == agent_a.pk
    assert Conversation.objects.get(pk=of_b.pk).assignee_id is None
