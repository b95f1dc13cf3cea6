"""Rows and bubbles served from the per-process fragment cache (conversations/templatetags/fragments.py):
the same markup `{% include %}` draws, for each viewer, and a change shows on the next page load."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from django.contrib.auth import get_user_model
from django.template import Context, RequestContext, Template
from django.template.loader import render_to_string
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone

from conversations.live import base_context
from conversations.models import Contact, Conversation, Message
from conversations.selectors.inbox import InboxFilters, inbox_page
from conversations.selectors.thread import AUTHOR_DEFERRED, thread_page
from conversations.templatetags import fragments
from tests.conftest import login
from tests.inbox.inbox_support import add_message, ago, header_of, make_conversation, row_of

pytestmark = pytest.mark.django_db

_PLAIN_ROWS = Template(
    '{% for conversation in page.rows %}{% include "conversations/partials/inbox_row.html" %}{% endfor %}'
)
_PLAIN_BUBBLES = Template(
    '{% for message in thread.messages %}{% include "conversations/partials/message.html" %}{% endfor %}'
)
_CACHED_ROWS = Template(
    "{% load fragments %}{% for conversation in page.rows %}{% inbox_row conversation %}{% endfor %}"
)
_CACHED_BUBBLES = Template(
    "{% load fragments %}{% for message in thread.messages %}{% message_bubble message %}{% endfor %}"
)


def page_context(user, values: dict) -> RequestContext:
    """A page's context, with the context processors' values (request, user…): a cached fragment must
    draw the same without them."""
    request = RequestFactory().get("/")
    request.user = user
    return RequestContext(request, values)


def without_tokens(html: str) -> tuple[str, list[str]]:
    pattern = r'name="csrfmiddlewaretoken" value="(\w+)"'
    return re.sub(pattern, "TOKEN", html), re.findall(pattern, html)


def bubble_of(html: str, message: Message) -> str:
    start = html.index(f'<li id="msg-{message.pk}"')
    return html[start : html.index("</li>", start)]


@pytest.fixture
def varied_inbox(app_a, agent_a, colleague):
    """Rows that differ by viewer: alice wrote the last message and is assigned; carla is assigned; a
    reply with no author; a customer's message; unread and resolved ones."""
    mine = make_conversation(app_a, name="Mine <b>bold</b>", assignee=agent_a, unread=2)
    reply = add_message(
        mine, content={"text": "Sent by alice"}, direction="out", status="delivered", author=agent_a
    )
    Conversation.objects.filter(pk=mine.pk).update(last_message=reply)
    theirs = make_conversation(app_a, name="Theirs", assignee=colleague, status="resolved", at=ago(days=3))
    no_author = make_conversation(app_a, name="Automated", at=ago(hours=30))
    automated = add_message(no_author, content={"text": "From the API"}, direction="out", status="sent")
    Conversation.objects.filter(pk=no_author.pk).update(last_message=automated)
    make_conversation(app_a, kind="telegram", external_id="99887766", at=ago(days=20))
    for conversation in (mine, no_author):
        conversation.refresh_from_db()
    return mine, theirs, no_author


@pytest.mark.parametrize("viewer", ["agent_a", "colleague", "superuser"])
@pytest.mark.parametrize(
    "filters", [InboxFilters(), InboxFilters(status="all"), InboxFilters(status="open"), InboxFilters(q="e")]
)
def test_cached_rows_are_the_markup_the_partial_draws_for_each_viewer(request, varied_inbox, viewer, filters):
    user = request.getfixturevalue(viewer)
    mine = varied_inbox[0]
    page = inbox_page(user=user, filters=filters)
    context = {**base_context(user=user, filters=filters), "page": page, "active_id": mine.pk}
    fragments.rows.clear()

    plain = _PLAIN_ROWS.render(page_context(user, context))
    drawn = _CACHED_ROWS.render(page_context(user, context))
    served = _CACHED_ROWS.render(page_context(user, context))  # from the cache this time

    assert page.rows
    assert drawn == plain
    assert served == plain


def test_a_row_says_you_and_mine_only_to_that_agent(varied_inbox, agent_a, colleague):
    mine, theirs, no_author = varied_inbox
    alice, carla = login(agent_a), login(colleague)

    # Alice's page first, so her rows are in the cache when Carla asks for the same conversations.
    # Every status: one of them is resolved, which the default (open) view leaves out.
    alice_html = alice.get("/?status=all").content.decode()
    carla_html = carla.get("/?status=all").content.decode()
    alice_again = alice.get("/?status=all").content.decode()

    assert "You:</span>" in row_of(alice_html, mine)
    assert ">Mine</span>" in row_of(alice_html, mine)
    assert "You:" not in row_of(carla_html, mine)
    assert "Alice Agent:</span>" in row_of(carla_html, mine)
    assert ">Alice Agent</span>" in row_of(carla_html, mine)
    assert ">Mine</span>" in row_of(carla_html, theirs)
    assert ">Carla Costa</span>" in row_of(alice_html, theirs)
    assert row_of(alice_again, mine) == row_of(alice_html, mine)
    # A reply nobody wrote (an API send) is "Agent:" for everyone, never "You:".
    assert "Agent:</span>" in row_of(alice_html, no_author)
    assert "You:" not in row_of(alice_html, no_author) + row_of(carla_html, no_author)


def test_a_change_to_a_row_shows_on_the_next_page_load(agent_a_client, varied_inbox, agent_a, colleague):
    mine, theirs, _ = varied_inbox
    before = agent_a_client.get("/?status=all").content.decode()  # `theirs` is resolved
    assert "Mine &lt;b&gt;bold&lt;/b&gt;" in row_of(before, mine)  # escaped, cached or not

    Contact.objects.filter(pk=mine.contact_id).update(display_name="Renamed <i>x</i>")
    Message.objects.filter(pk=mine.last_message_id).update(status="read")
    Conversation.objects.filter(pk=mine.pk).update(unread_count=0)
    get_user_model().objects.filter(pk=colleague.pk).update(first_name="Carlota")
    after = agent_a_client.get("/?status=all").content.decode()

    assert "Renamed &lt;i&gt;x&lt;/i&gt;" in row_of(after, mine)
    assert 'aria-label="Read"' in row_of(after, mine)
    assert "is-unread" not in row_of(after, mine)
    assert "Carlota Costa" in row_of(after, theirs)


def test_the_open_row_and_the_filters_are_drawn_per_page(agent_a_client, varied_inbox):
    mine, theirs, _ = varied_inbox

    listed = agent_a_client.get("/").content.decode()
    opened = agent_a_client.get(reverse("conversation", args=[mine.pk])).content.decode()
    # Every status: `theirs` is resolved, which the default (open) view leaves out.
    filtered = agent_a_client.get(reverse("conversation", args=[mine.pk]) + "?status=all").content.decode()

    assert "is-active" not in row_of(listed, mine)
    assert "is-active" in row_of(opened, mine) and 'aria-current="page"' in row_of(opened, mine)
    assert "is-active" not in row_of(filtered, theirs)
    assert f'href="/conversations/{mine.pk}/?status=all"' in row_of(filtered, mine)
    assert f'href="/conversations/{mine.pk}/"' in row_of(opened, mine)


def test_cached_bubbles_are_the_markup_the_partial_draws(app_a, agent_a):
    conversation = make_conversation(app_a, text="Olá <script>alert(1)</script> https://example.org/x")
    add_message(conversation, content={"text": "Reply"}, direction="out", status="delivered", author=agent_a)
    add_message(
        conversation,
        content={"text": "Failed one"},
        direction="out",
        status="failed",
        author=agent_a,
        error_message="Not a <WhatsApp> user",
    )
    add_message(conversation, content={"type": "image", "image": {"url": "https://cdn.example/p.jpg"}})
    page = thread_page(conversation=conversation)
    for in_frame in (False, True):
        context = {"conversation": conversation, "thread": page, "in_frame": in_frame}
        fragments.bubbles.clear()

        # Each render is a page of its own, with its own (masked) CSRF token: compared apart.
        plain, plain_tokens = without_tokens(_PLAIN_BUBBLES.render(page_context(agent_a, context)))
        drawn, drawn_tokens = without_tokens(_CACHED_BUBBLES.render(page_context(agent_a, context)))
        served, served_tokens = without_tokens(_CACHED_BUBBLES.render(page_context(agent_a, context)))

        assert drawn == plain
        assert served == plain
        assert "&lt;script&gt;" in plain
        assert len(plain_tokens) == len(drawn_tokens) == len(served_tokens) == (0 if in_frame else 1)
        if not in_frame:
            assert drawn_tokens != served_tokens  # the cached bubble carries this page's token


def test_a_change_to_a_bubble_shows_on_the_next_load(agent_a_client, app_a, agent_a):
    conversation = make_conversation(app_a)
    reply = add_message(
        conversation, content={"text": "On its way"}, direction="out", status="sent", author=agent_a
    )
    url = reverse("conversation", args=[conversation.pk])
    before = bubble_of(agent_a_client.get(url).content.decode(), reply)

    Message.objects.filter(pk=reply.pk).update(status="failed", error_message="Number unreachable")
    get_user_model().objects.filter(pk=agent_a.pk).update(last_name="Andrade")
    after = bubble_of(agent_a_client.get(url).content.decode(), reply)

    assert 'aria-label="Sent"' in before
    assert 'aria-label="Failed"' in after
    assert "Number unreachable" in after
    assert "Alice Andrade" in after


def test_a_failed_replys_retry_form_carries_each_pages_own_token(app_a, agent_a):
    conversation = make_conversation(app_a)
    failed = add_message(
        conversation, content={"text": "Hello?"}, direction="out", status="failed", author=agent_a
    )
    client = Client(enforce_csrf_checks=True)
    client.force_login(agent_a)
    url = reverse("conversation", args=[conversation.pk])

    tokens = []
    for _ in range(2):  # the second page takes the bubble from the cache
        html = client.get(url).content.decode()
        header = re.search(r'"X-CSRFToken": "(\w+)"', html).group(1)
        field = re.search(r'name="csrfmiddlewaretoken" value="(\w+)"', bubble_of(html, failed)).group(1)
        assert field == header
        tokens.append(field)
    retried = client.post(
        reverse("message_retry", args=[conversation.pk, failed.pk]), {"csrfmiddlewaretoken": tokens[1]}
    )

    assert tokens[0] != tokens[1]  # each page its own (masked) token, not the cached page's
    assert retried.status_code == 302


def test_times_follow_the_viewers_time_zone_and_day(app_a):
    conversation = make_conversation(app_a, text=None)
    message = add_message(conversation, content={"text": "Noon"})
    Message.objects.filter(pk=message.pk).update(created_at=datetime(2026, 3, 2, 12, 0, tzinfo=UTC))
    page = thread_page(conversation=conversation)
    context = {"conversation": conversation, "thread": page, "in_frame": True}

    with timezone.override("UTC"):
        utc = _CACHED_BUBBLES.render(Context(context))
    with timezone.override("America/Sao_Paulo"):
        brazil = _CACHED_BUBBLES.render(Context(context))
    with timezone.override("UTC"):
        utc_again = _CACHED_BUBBLES.render(Context(context))

    assert ">12:00</time>" in utc
    assert ">09:00</time>" in brazil
    assert utc_again == utc


def test_the_partials_read_only_what_their_key_holds(app_a, agent_a, varied_inbox, django_assert_num_queries):
    """A cached fragment is keyed by the loaded fields of its objects (and, for a row, of the relations
    its query joins). A partial that read anything else would query here, and would go stale in the
    cache: add it to the row query's relations (ROW_RELATED, ROW_FIELDS) or the bubble's key first."""
    mine = varied_inbox[0]
    add_message(mine, content={"text": "Third"}, direction="out", status="failed", author=agent_a)
    rows = inbox_page(user=agent_a, filters=InboxFilters()).rows
    # A bubble as its key sees it: the message and its author, nothing joined beside them.
    messages = list(
        Message.objects.select_related("author")
        .defer(*AUTHOR_DEFERRED)
        .filter(conversation=mine)
        .order_by("id")
    )
    base = base_context(user=agent_a, filters=InboxFilters(), application_ids=[app_a.pk])

    with django_assert_num_queries(0):
        for row in rows:
            render_to_string("conversations/partials/inbox_row.html", {**base, "conversation": row})
        for message in messages:
            render_to_string("conversations/partials/message.html", {"message": message})


_PLAIN_HEADER = Template('{% include "conversations/partials/thread_header.html" %}')
_CACHED_HEADER = Template("{% load fragments %}{% thread_header %}")


def header_context(user, conversation: Conversation) -> dict:
    """What the header partial is drawn from on a thread page: the conversation as the page reads it,
    the Application's members and labels, the viewer, and the snooze menu's choices."""
    from conversations.forms import SNOOZE_PRESETS
    from conversations.live import thread_context
    from conversations.selectors.thread import conversation_for

    opened = conversation_for(user, conversation.pk)
    return {
        **base_context(user=user, filters=InboxFilters(status="all")),
        **thread_context(opened),
        "snooze_presets": SNOOZE_PRESETS,
    }


@pytest.mark.parametrize("viewer", ["agent_a", "colleague", "superuser"])
def test_a_cached_thread_header_is_the_markup_the_partial_draws_for_each_viewer(
    request, varied_inbox, viewer, app_a
):
    from conversations.actions.labels import do_create_label, do_set_label

    user = request.getfixturevalue(viewer)
    mine, theirs, no_author = varied_inbox
    urgent = do_create_label(actor=user, application=app_a, name="Urgent <x>", colour="#e03131")
    do_set_label(conversation=theirs, label=urgent, on=True, actor=user)
    fragments.headers.clear()
    for conversation in (mine, theirs, no_author):
        context = header_context(user, conversation)

        plain = _PLAIN_HEADER.render(page_context(user, context))
        drawn = _CACHED_HEADER.render(page_context(user, context))
        served = _CACHED_HEADER.render(page_context(user, context))  # from the cache this time

        assert f'id="thread-header-{conversation.pk}"' in plain
        assert without_tokens(drawn) == without_tokens(plain)
        assert without_tokens(served)[0] == without_tokens(plain)[0]
    assert "Urgent &lt;x&gt;" in plain  # the label menu, escaped


def test_a_thread_header_says_assign_to_me_only_to_others(varied_inbox, agent_a, colleague):
    mine = varied_inbox[0]  # assigned to alice
    alice, carla = login(agent_a), login(colleague)

    alice_header = header_of(alice.get(f"/conversations/{mine.pk}/").content.decode(), mine)
    carla_header = header_of(carla.get(f"/conversations/{mine.pk}/").content.decode(), mine)

    assert 'value="me"' not in alice_header
    assert f'<option value="{agent_a.pk}" selected>Alice Agent (me)</option>' in alice_header
    assert '<option value="me">Assign to me</option>' in carla_header
    assert f'<option value="{agent_a.pk}" selected>Alice Agent</option>' in carla_header
    # Only her own option says "(me)": nothing of alice's header reaches her.
    assert f'<option value="{colleague.pk}">Carla Costa (me)</option>' in carla_header
    assert carla_header.count("(me)") == 1


def test_a_change_to_a_thread_header_shows_on_the_next_load_and_a_new_message_draws_none(
    agent_a_client, varied_inbox, agent_a, colleague, app_a
):
    from conversations.actions.labels import do_create_label, do_set_label, do_update_label
    from conversations.actions.threads import do_assign, do_set_status

    mine = varied_inbox[0]
    url = f"/conversations/{mine.pk}/"
    fragments.headers.clear()
    first = header_of(agent_a_client.get(url).content.decode(), mine)
    assert 'data-status="open"' in first

    add_message(mine, content={"text": "Another one"})  # moves the counters the header does not show
    agent_a_client.get(url)
    assert len(fragments.headers) == 1  # served, not drawn again

    # Each change alone, so none of them hides another from the key.
    mine.refresh_from_db()
    do_set_status(conversation=mine, status="pending", actor=agent_a)
    assert 'data-status="pending"' in header_of(agent_a_client.get(url).content.decode(), mine)

    # A member renamed (carla, not the assignee: only the assignee menu names her), as the admin site does.
    colleague.first_name = "Carolina"
    colleague.save()
    renamed = header_of(agent_a_client.get(url).content.decode(), mine)
    assert f'<option value="{colleague.pk}">Carolina Costa</option>' in renamed

    mine.refresh_from_db()
    do_assign(conversation=mine, assignee=colleague, actor=agent_a)
    assigned = header_of(agent_a_client.get(url).content.decode(), mine)
    assert f'data-assignee="{colleague.pk}"' in assigned
    assert f'<option value="{colleague.pk}" selected>Carolina Costa</option>' in assigned

    vip = do_create_label(actor=agent_a, application=app_a, name="VIP", colour="#2f9e44")
    offered = header_of(agent_a_client.get(url).content.decode(), mine)
    assert f'name="label" value="{vip.pk}:add"' in offered

    do_set_label(conversation=mine, label=vip, on=True, actor=agent_a)
    labelled = header_of(agent_a_client.get(url).content.decode(), mine)
    assert f'name="label" value="{vip.pk}:remove"' in labelled
    assert f'data-label="{vip.pk}">VIP</span>' in labelled.split('<details class="label-menu">')[0]

    do_update_label(actor=agent_a, label=vip, name="Gold", colour="#e03131")  # renamed by an admin
    relabelled = header_of(agent_a_client.get(url).content.decode(), mine)
    assert f'style="--label: #e03131" data-label="{vip.pk}">Gold</span>' in relabelled
    assert ">VIP<" not in relabelled
    later = do_create_label(actor=agent_a, application=app_a, name="Later", colour="#f08c00")
    agent_a_client.get(url)
    do_update_label(actor=agent_a, label=later, name="Tomorrow", colour="#f08c00")  # the menu only
    menu = header_of(agent_a_client.get(url).content.decode(), mine)
    assert f'name="label" value="{later.pk}:add"' in menu and ">Tomorrow</span>" in menu
