"""Team notes: stored as their own kind of thread item, never sent or counted as a reply, live in the
team's tabs only; @mentions of members notify them (the nav's count), of anyone else stay plain text."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone

from channels_app.models import Membership
from conversations.actions.notes import NoteError, do_add_note, mentioned_names
from conversations.actions.replies import _due
from conversations.models import Conversation, Mention, Message
from tests.conftest import login
from tests.inbox.inbox_support import make_conversation
from tests.teamwork.teamwork_support import heard_by_two_tabs

pytestmark = pytest.mark.django_db(transaction=True)


def post_note(client, conversation, text, key="k1"):
    return client.post(
        f"/conversations/{conversation.pk}/notes/",
        {"text": text, "idempotency_key": key},
        HTTP_HX_REQUEST="true",
    )


def nav_count(html: str) -> int:
    match = re.search(r'id="nav-mentions"[^>]*data-count="(\d+)"', html)
    assert match, "no mentions link"
    return int(match.group(1))


def test_a_note_is_shown_to_the_team_and_is_never_a_reply(agent_a, app_a):
    conversation = make_conversation(app_a, unread=0)
    before = Conversation.objects.get(pk=conversation.pk)

    response = post_note(login(agent_a), conversation, "Customer is a VIP, be nice")

    assert response.status_code == 200
    assert 'class="msg msg-out msg-note"' in response.content.decode()
    note = Message.objects.get(direction=Message.Direction.NOTE)
    after = Conversation.objects.get(pk=conversation.pk)
    assert (after.last_message_id, after.last_activity_at, after.unread_count) == (
        before.last_message_id,
        before.last_activity_at,
        0,
    )
    assert not _due(timezone.now()).filter(pk=note.pk).exists()
    page = login(agent_a).get(f"/conversations/{conversation.pk}/").content.decode()
    assert "Note by Alice Agent" in page and "Customer is a VIP, be nice" in page
    # The API's messages are what passes between customer and team: the note is not one of them.
    assert note.pk not in [m.pk for m in _api_messages(conversation)]


def _api_messages(conversation):
    from conversations.selectors.thread import thread_page

    return thread_page(conversation=conversation, team_items=False).messages


def test_a_resubmitted_note_form_stores_one_note(agent_a, app_a):
    conversation = make_conversation(app_a)
    client = login(agent_a)
    post_note(client, conversation, "once", key="same")
    post_note(client, conversation, "once", key="same")

    assert Message.objects.filter(direction=Message.Direction.NOTE).count() == 1


@pytest.mark.parametrize(
    ("text", "error"),
    [("   ", "cannot be empty"), ("x" * 10_001, "at most 10,000 characters")],
)
def test_an_empty_or_too_long_note_is_a_form_error_and_stores_nothing(agent_a, app_a, text, error):
    conversation = make_conversation(app_a)

    response = post_note(login(agent_a), conversation, text)

    assert response.status_code == 422
    assert error in response.content.decode()
    assert f'id="composer-error-{conversation.pk}"' in response.content.decode()
    assert not Message.objects.filter(direction=Message.Direction.NOTE).exists()


def test_html_in_a_note_is_inert(agent_a, app_a):
    conversation = make_conversation(app_a)
    post_note(login(agent_a), conversation, '<script>alert("x")</script> <img src=x onerror=alert(1)>')

    page = login(agent_a).get(f"/conversations/{conversation.pk}/").content.decode()

    assert "<script>alert" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page


def test_mentioning_a_member_notifies_them_until_they_open_the_thread(agent_a, admin, app_a):
    conversation = make_conversation(app_a)
    do_add_note(conversation=conversation, author=admin, text="@alice can you take this? cc @ada.")

    assert [m.user_id for m in Mention.objects.all()] == [agent_a.pk]  # not the author herself
    client = login(agent_a)
    assert nav_count(client.get("/mentions/").content.decode()) == 1
    page = client.get(f"/conversations/{conversation.pk}/").content.decode()
    assert '<span class="mention">@alice</span>' in page
    assert nav_count(page) == 0
    assert Mention.objects.get().read_at is not None


def test_a_mention_of_someone_outside_the_application_is_plain_text_and_notifies_nobody(
    agent_a, agent_b, app_a
):
    conversation = make_conversation(app_a)
    do_add_note(conversation=conversation, author=agent_a, text="@bob and @nobody, look")

    assert not Mention.objects.exists()
    assert nav_count(login(agent_b).get("/mentions/").content.decode()) == 0
    page = login(agent_a).get(f"/conversations/{conversation.pk}/").content.decode()
    assert "@bob and @nobody, look" in page and 'class="mention"' not in page


def test_mention_parsing_skips_addresses_links_and_full_stops():
    assert mentioned_names("hi @Alice. mail ana@x.org or see x.com/@bob, @ada-") == ["alice", "ada"]


def test_losing_the_application_clears_its_mentions(agent_a, admin, app_a):
    conversation = make_conversation(app_a)
    do_add_note(conversation=conversation, author=admin, text="@alice please")
    client = login(agent_a)
    assert nav_count(client.get("/mentions/").content.decode()) == 1

    Membership.objects.filter(user=agent_a, application=app_a).delete()

    assert nav_count(client.get("/mentions/").content.decode()) == 0


def test_an_agent_of_b_cannot_write_or_read_notes_of_a(agent_a, agent_b, app_a):
    conversation = make_conversation(app_a)
    do_add_note(conversation=conversation, author=agent_a, text="secret of A")

    assert post_note(login(agent_b), conversation, "hello").status_code == 404
    assert login(agent_b).get(f"/conversations/{conversation.pk}/").status_code == 404
    assert "secret of A" not in login(agent_b).get("/mentions/").content.decode()
    assert Message.objects.filter(direction=Message.Direction.NOTE).count() == 1


def test_a_note_reaches_the_teams_open_tabs_live_and_the_mentioned_agents_badge(
    agent_a, agent_b, admin, app_a, app_b
):
    conversation = make_conversation(app_a)

    heard, leaked = heard_by_two_tabs(
        agent_a,
        agent_b,
        conversation,
        lambda: do_add_note(conversation=conversation, author=admin, text="@alice <b>hi</b>"),
    )

    html = "".join(heard)
    assert 'class="msg msg-out msg-note"' in html and "&lt;b&gt;hi&lt;/b&gt;" in html
    assert re.search(r'id="nav-mentions"[^>]*data-count="1"', html)
    assert leaked == []


def test_note_errors_are_raised_by_the_action(agent_a, app_a):
    conversation = make_conversation(app_a)
    with pytest.raises(NoteError):
        do_add_note(conversation=conversation, author=agent_a, text="")
