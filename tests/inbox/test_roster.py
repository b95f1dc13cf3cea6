"""A page's menus (members, labels, a channel's templates, canned replies) come from what its process
read at the Applications' roster versions; any change to them moves the version in its own transaction,
so the next page shows it (channels_app/roster.py)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from channels_app.actions.team import do_set_membership, do_set_user_active
from channels_app.actions.templates import do_add_template, do_delete_template
from channels_app.models import Application, Membership, WhatsAppTemplate
from conversations.actions.canned import (
    do_create_canned_reply,
    do_delete_canned_reply,
    do_update_canned_reply,
)
from conversations.actions.labels import do_create_label, do_delete_label, do_update_label
from conversations.models import CannedReply, Label
from conversations.selectors.inbox import page_labels
from conversations.selectors.thread import page_members
from tests.conftest import login
from tests.inbox.inbox_support import make_conversation

pytestmark = pytest.mark.django_db

LISTS = (
    "CHANNELS_APP_MEMBERSHIP",
    'FROM "CONVERSATIONS_LABEL"',
    "CHANNELS_APP_WHATSAPPTEMPLATE",
    "CONVERSATIONS_CANNEDREPLY",
)


def _reads_of_lists(queries: CaptureQueriesContext) -> list[str]:
    """Queries that read the members, the labels, a channel's templates or canned replies (not the
    page's own Applications, which name the members' table in a subquery, nor the rows' labels)."""
    found = []
    for query in queries.captured_queries:
        sql = query["sql"].upper()
        if sql.startswith('SELECT "CHANNELS_APP_APPLICATION"') or "CONVERSATIONS_CONVERSATION_LABELS" in sql:
            continue
        if any(table in sql for table in LISTS):
            found.append(sql)
    return found


def _menus(page: str, conversation: Any) -> dict[str, str]:
    """The thread's assignee menu, label menu, template picker and canned replies, and the filter bar's
    labels, as HTML."""

    def between(opening: str, closing: str) -> str:
        start = page.find(opening)  # a menu with nothing to offer is left out
        return "" if start < 0 else page[start : page.index(closing, start)]

    menus = {
        "assignees": between(f'<select id="assignee-{conversation.pk}"', "</select>"),
        "labels": between('<details class="label-menu">', "</details>"),
        "filter": between('<details class="label-filter"', "</details>"),
        "templates": between('<select id="template-pick"', "</select>"),
        "canned": between('<div id="canned-replies"', "</div>"),  # the `/` picker's JSON, escaped
    }
    return {
        name: re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", html) for name, html in menus.items()
    }


def _template(admin: Any, channel: Any, name: str) -> WhatsAppTemplate:
    return do_add_template(
        actor=admin,
        channel=channel,
        hub_template_id=f"tpl-{name}",
        name=name,
        language="pt_BR",
        category="UTILITY",
        header="",
        body="Your order {{1}} is on its way",
        footer="",
        buttons=[],
    )


@pytest.fixture
def thread(app_a, admin, agent_a, colleague):
    label = do_create_label(actor=admin, application=app_a, name="VIP", colour="#e03131")
    conversation = make_conversation(app_a)
    do_create_canned_reply(
        actor=admin,
        application=app_a,
        code="hello",
        title="Greeting",
        body="Hello {{contact.name}}",
        shared=True,
    )
    return conversation, label, _template(admin, conversation.channel, "order_update")


def _open(client, conversation) -> tuple[str, CaptureQueriesContext]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("conversation", args=[conversation.pk]))
    assert response.status_code == 200
    return response.content.decode(), queries


def test_a_second_page_reads_no_list_and_shows_the_same_menus(thread, agent_a, admin):
    conversation, label, template = thread
    client = login(agent_a)

    first, first_queries = _open(client, conversation)
    second, second_queries = _open(client, conversation)

    assert len(_reads_of_lists(first_queries)) == 4  # members, labels, templates, canned replies
    assert _reads_of_lists(second_queries) == []
    menus = _menus(second, conversation)
    assert menus == _menus(first, conversation)
    assert f'<option value="{admin.pk}">Ada Admin</option>' in menus["assignees"]
    assert f'value="{label.pk}:add"' in menus["labels"] and f'value="{label.pk}"' in menus["filter"]
    assert f'<option value="{template.pk}">order_update</option>' in menus["templates"]


@dataclass
class Scene:
    app: Application
    admin: Any
    colleague: Any
    label: Label
    template: WhatsAppTemplate
    channel: Any


Shows = Callable[[dict[str, str]], bool]


def test_opening_a_thread_from_the_list_reads_no_list_again(thread, agent_a, admin, app_a):
    conversation, label, template = thread
    client = login(agent_a)

    def pane() -> tuple[str, CaptureQueriesContext]:
        # A click on a row: htmx asks for the thread pane alone.
        with CaptureQueriesContext(connection) as queries:
            response = client.get(
                reverse("conversation", args=[conversation.pk]),
                HTTP_HX_REQUEST="true",
                HTTP_HX_TARGET="thread-pane",
            )
        assert response.status_code == 200 and "<html" not in response.content.decode()
        return response.content.decode(), queries

    first, first_queries = pane()
    second, second_queries = pane()
    later = do_create_label(actor=admin, application=app_a, name="Later", colour="#f08c00")
    third, _ = pane()

    assert len(_reads_of_lists(first_queries)) == 4
    assert _reads_of_lists(second_queries) == []
    assert _menus(second, conversation) == _menus(first, conversation)
    menus = _menus(third, conversation)
    assert f'value="{label.pk}:add"' in menus["labels"] and f'value="{later.pk}:add"' in menus["labels"]
    assert f'<option value="{admin.pk}">Ada Admin</option>' in menus["assignees"]
    assert f'<option value="{template.pk}">order_update</option>' in menus["templates"]


def add_member(s: Scene) -> Shows:
    nina = get_user_model().objects.create_user("nina", password="x", first_name="Nina", last_name="Nunes")
    do_set_membership(actor=s.admin, user=nina, application=s.app, role=Membership.Role.AGENT)
    return lambda menus: f'<option value="{nina.pk}">Nina Nunes</option>' in menus["assignees"]


def take_access(s: Scene) -> Shows:
    other = Application.objects.create(name="Elsewhere", hub_api_key="hubkey-elsewhere-0000")
    Membership.objects.create(user=s.colleague, application=other, role=Membership.Role.AGENT)
    do_set_membership(actor=s.admin, user=s.colleague, application=s.app, role=None)
    return lambda menus: "Carla Costa" not in menus["assignees"]


def rename_member(s: Scene) -> Shows:
    s.colleague.first_name = "Carolina"
    s.colleague.save()  # as the admin site saves a user
    return lambda menus: ">Carolina Costa</option>" in menus["assignees"]


def switch_member_off(s: Scene) -> Shows:
    do_set_user_active(actor=s.admin, user=s.colleague, active=False)
    return lambda menus: "Carla Costa" not in menus["assignees"]


def add_label(s: Scene) -> Shows:
    later = do_create_label(actor=s.admin, application=s.app, name="Later", colour="#f08c00")
    return lambda menus: (
        f'value="{later.pk}:add"' in menus["labels"] and f'value="{later.pk}"' in menus["filter"]
    )


def rename_label(s: Scene) -> Shows:
    do_update_label(actor=s.admin, label=s.label, name="Gold", colour="#e03131")
    return lambda menus: ">Gold</span>" in menus["labels"] and ">VIP<" not in menus["labels"]


def delete_label(s: Scene) -> Shows:
    pk = s.label.pk
    do_delete_label(actor=s.admin, label=s.label)
    return lambda menus: f'value="{pk}' not in menus["labels"] + menus["filter"]


def add_template(s: Scene) -> Shows:
    added = _template(s.admin, s.channel, "shipping_notice")
    return lambda menus: f'<option value="{added.pk}">shipping_notice</option>' in menus["templates"]


def delete_template(s: Scene) -> Shows:
    do_delete_template(actor=s.admin, template=s.template)
    return lambda menus: "order_update" not in menus["templates"]


def add_canned_reply(s: Scene) -> Shows:
    do_create_canned_reply(
        actor=s.admin, application=s.app, code="thanks", title="Thanks", body="Thank you!", shared=True
    )
    return lambda menus: "Thank you!" in menus["canned"]


def edit_canned_reply(s: Scene) -> Shows:
    reply = CannedReply.objects.get(code="hello")
    do_update_canned_reply(actor=s.admin, reply=reply, code="hello", title="Greeting", body="Good morning!")
    return lambda menus: "Good morning!" in menus["canned"]


def delete_canned_reply(s: Scene) -> Shows:
    do_delete_canned_reply(actor=s.admin, reply=CannedReply.objects.get(code="hello"))
    return lambda menus: "Greeting" not in menus["canned"]


@pytest.mark.parametrize(
    "change",
    [
        add_member,
        take_access,
        rename_member,
        switch_member_off,
        add_label,
        rename_label,
        delete_label,
        add_template,
        delete_template,
        add_canned_reply,
        edit_canned_reply,
        delete_canned_reply,
    ],
)
def test_each_change_to_a_list_shows_on_the_next_page(thread, app_a, admin, agent_a, colleague, change):
    conversation, label, template = thread
    scene = Scene(app_a, admin, colleague, label, template, conversation.channel)
    client = login(agent_a)
    before, _ = _open(client, conversation)
    _open(client, conversation)  # served from what the process read

    shows = change(scene)
    after, queries = _open(client, conversation)

    assert not shows(_menus(before, conversation))
    assert shows(_menus(after, conversation))
    assert _reads_of_lists(queries)  # read afresh


def test_an_agents_own_canned_replies_reach_only_their_pages(thread, agent_a, colleague, app_a):
    conversation, _, _ = thread
    mine = login(agent_a)
    _open(mine, conversation)  # the process reads alice's list
    do_create_canned_reply(
        actor=colleague, application=app_a, code="carla", title="Carla's", body="From Carla", shared=False
    )

    alice, _ = _open(mine, conversation)
    carla, _ = _open(login(colleague), conversation)

    assert "From Carla" not in _menus(alice, conversation)["canned"]
    assert "Hello" in _menus(alice, conversation)["canned"]
    assert "From Carla" in _menus(carla, conversation)["canned"]


def _label_filter(page: str) -> str:
    start = page.index('<details class="label-filter"')
    return page[start : page.index("</details>", start)]


def test_other_applications_keep_their_own_lists(thread, app_a, app_b, agent_a, agent_b):
    _, label, _ = thread
    login(agent_a).get("/")  # the process reads A's lists
    theirs = do_create_label(actor=agent_b, application=app_b, name="Bravo only", colour="#1c7ed6")

    page = _label_filter(login(agent_b).get("/").content.decode())
    mine = _label_filter(login(agent_a).get("/").content.decode())

    assert f'value="{theirs.pk}"' in page and f'value="{label.pk}"' not in page
    assert f'value="{label.pk}"' in mine and f'value="{theirs.pk}"' not in mine


def test_a_change_moves_the_version_in_its_own_transaction(app_a, admin):
    version = Application.objects.get(pk=app_a.pk).roster_version

    with pytest.raises(RuntimeError), transaction.atomic():
        do_create_label(actor=admin, application=app_a, name="Undone", colour="#f08c00")
        assert Application.objects.get(pk=app_a.pk).roster_version == version + 1
        raise RuntimeError  # the label is not kept: neither is the version

    assert Application.objects.get(pk=app_a.pk).roster_version == version
    assert not Label.objects.filter(name="Undone").exists()


def test_the_kept_labels_hold_no_hub_api_key(app_a, admin):
    do_create_label(actor=admin, application=app_a, name="VIP", colour="#e03131")

    (label,) = page_labels([Application.objects.only("id", "name", "roster_version").get(pk=app_a.pk)])

    assert label.application.name == "Acme Support"  # the filter bar names it
    assert "hub_api_key" not in label.application.__dict__  # deferred: never decrypted, never kept


def test_the_kept_members_hold_no_password_hash(app_a, agent_a):
    members = page_members([Application.objects.only("id", "name", "roster_version").get(pk=app_a.pk)])

    (alice,) = members.of(app_a.pk)
    assert alice.pk == agent_a.pk and alice.get_full_name() == "Alice Agent"
    assert "password" not in alice.__dict__  # deferred: the list each process keeps holds no hash
