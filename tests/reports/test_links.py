"""The links of the agents table and into the delivery review: following a figure's link shows exactly the
rows the figure counts (as many rows in the page's list as the number says), with every filter of the
report kept, the label filter included; an agent who sees only their own figures sees only their lists."""

from __future__ import annotations

import re

import pytest

from channels_app.actions.preferences import do_update_preferences
from conversations.models import Label, Message
from tests.conftest import login
from tests.reports.test_pages import RANGE, figure
from tests.reports.timeline import Timeline, local

RED = Label.COLOURS[0][0]


@pytest.fixture(autouse=True)
def sao_paulo(admin, agent_a, carol):
    for user in (admin, agent_a, carol):
        do_update_preferences(actor=user, language="en", time_zone="America/Sao_Paulo")


@pytest.fixture
def more(story, app_a, admin, agent_a):
    """The story of conftest.py, and two more conversations on the same Monday:

    V (WhatsApp): customer 14:00, Alice 14:05, Alice resolves 14:10; customer 15:00 (reopens), Alice
       15:02, Alice resolves 15:30: two cycles Alice handled, one conversation.
    T (Telegram): customer 14:30, Ada 14:40: handled by Ada on another channel.
    VIP is on X, Z and V; Late on Z only.
    """
    line = Timeline(app_a)
    v = line.customer(local(14), "5521900000005")
    line.reply(local(14, 5), v, agent_a)
    line.status(local(14, 10), v, agent_a, "resolved")
    line.customer(local(15), "5521900000005")
    line.reply(local(15, 2), v, agent_a)
    line.status(local(15, 30), v, agent_a, "resolved")
    telegram = Timeline(app_a, kind="telegram")
    t = telegram.customer(local(14, 30), "777000111")
    telegram.reply(local(14, 40), t, admin)
    vip = Label.objects.create(application=app_a, name="VIP", colour=RED)
    late = Label.objects.create(application=app_a, name="Late", colour=RED)
    for conversation in (story["x"], story["z"], v):
        conversation.labels.add(vip)
    story["z"].labels.add(late)
    return {**story, "v": v, "t": t, "vip": vip, "late": late}


def handled_links(page: str) -> dict[int, tuple[str, int]]:
    """Per agent (user id) of the agents table: the link and the number of "conversations handled"."""
    rows = re.findall(
        r'<tr data-agent="(\d+)">.*?<td class="handled"><a href="([^"]+)">(\d+)</a>', page, re.S
    )
    return {int(agent): (link.replace("&amp;", "&"), int(n)) for agent, link, n in rows}


def listed_conversations(html: str) -> list[int]:
    """The conversations of a figure's list page, one per row."""
    return [int(pk) for pk in re.findall(r'<tr data-conversation="(\d+)"', html)]


def review_rows(html: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'class="review-row[^"]*" data-message="(\d+)"', html)]


def test_each_agents_handled_figure_opens_exactly_its_conversations(more, admin, agent_a, carol):
    client = login(admin)
    links = handled_links(client.get(f"/reports/agents/?{RANGE}").content.decode())
    assert {agent: n for agent, (_link, n) in links.items()} == {agent_a.pk: 4, admin.pk: 3, carol.pk: 0}
    expected = {
        agent_a.pk: {more["x"].pk, more["z"].pk, more["w"].pk, more["v"].pk},  # V once, for two cycles
        admin.pk: {more["x"].pk, more["w"].pk, more["t"].pk},
        carol.pk: set(),
    }
    for agent, (link, shown) in links.items():
        assert "figure=handled" in link and f"agent={agent}" in link
        listing = client.get(link).content.decode()
        rows = listed_conversations(listing)
        assert len(rows) == shown, agent
        assert set(rows) == expected[agent], agent
        assert f"{shown} item" in listing


def filters(more, app_a) -> dict[str, str]:
    return {
        "application": f"application={app_a.pk}",
        "channel": f"channel={app_a.channels.get(kind='whatsapp').pk}",
        "label": f"labels={more['vip'].pk}",  # (the form sends `label=3`, the links `labels=3,5`)
        "labels": f"labels={more['vip'].pk},{more['late'].pk}",
    }


@pytest.mark.parametrize(
    ("name", "handled"),
    [
        ("application", {"alice": 4, "ada": 3}),
        ("channel", {"alice": 4, "ada": 2}),  # not T, on Telegram
        ("label", {"alice": 3, "ada": 1}),  # X, Z, V; X
        ("labels", {"alice": 1, "ada": 0}),  # Z
    ],
)
def test_the_handled_lists_keep_the_reports_filters(more, admin, agent_a, app_a, name, handled):
    client = login(admin)
    query = filters(more, app_a)[name]
    links = handled_links(client.get(f"/reports/agents/?{RANGE}&{query}").content.decode())
    assert {"alice": links[agent_a.pk][1], "ada": links[admin.pk][1]} == handled
    for link, shown in links.values():
        assert query.split("=")[0] in link  # labels come out as `labels=`
        assert len(listed_conversations(client.get(link).content.decode())) == shown, (name, link)


def test_an_agent_sees_only_their_own_handled_list(more, admin, agent_a, agent_b):
    client = login(agent_a)
    links = handled_links(client.get(f"/reports/agents/?{RANGE}").content.decode())
    assert list(links) == [agent_a.pk]  # no colleague's row
    link, shown = links[agent_a.pk]
    own = listed_conversations(client.get(link).content.decode())
    assert len(own) == shown == 4
    # Asking for Ada's list by hand gives Alice's own again; Ada herself sees hers (the control).
    theirs = f"/reports/conversations/?{RANGE}&figure=handled&agent={admin.pk}"
    assert sorted(listed_conversations(client.get(theirs).content.decode())) == sorted(own)
    assert more["t"].pk not in own
    assert more["t"].pk in listed_conversations(login(admin).get(theirs).content.decode())
    # An agent of another tenant, asking for the same list, sees nothing of it.
    assert listed_conversations(login(agent_b).get(theirs).content.decode()) == []


def test_the_delivery_review_filters_by_label(more, admin):
    client = login(admin)
    everything = client.get(f"/review/?{RANGE}").content.decode()
    assert len(review_rows(everything)) == 7  # X 2, Z 1, W 1, V 2, T 1
    assert f'name="label" value="{more["vip"].pk}"' in everything  # the filter offers the labels

    page = client.get(f"/review/?{RANGE}&label={more['vip'].pk}").content.decode()
    rows = review_rows(page)
    expected = Message.objects.filter(
        direction=Message.Direction.OUTBOUND, conversation__in=[more["x"], more["z"], more["v"]]
    )
    assert sorted(rows) == sorted(expected.values_list("pk", flat=True)) and len(rows) == 5
    assert '<td data-count="total">5</td>' in page
    assert f'name="label" value="{more["vip"].pk}" checked' in page
    assert f"labels={more['vip'].pk}" in page  # the CSV export keeps it
    both = client.get(f"/review/?{RANGE}&labels={more['vip'].pk},{more['late'].pk}").content.decode()
    assert len(review_rows(both)) == 1  # Z's one reply

    export = b"".join(client.get(f"/review/export.csv?{RANGE}&label={more['vip'].pk}").streaming_content)
    assert len(export.decode("utf-8").strip().splitlines()) == 1 + 5


def test_the_review_ignores_another_tenants_label(more, admin, app_b, superuser):
    theirs = Label.objects.create(application=app_b, name="B-only", colour=RED)
    client = login(admin)
    page = client.get(f"/review/?{RANGE}&label={theirs.pk}").content.decode()
    assert len(review_rows(page)) == 7  # as if no label had been asked
    assert "B-only" not in page and f"labels={theirs.pk}" not in page
    mixed = client.get(f"/review/?{RANGE}&labels={theirs.pk},{more['late'].pk}").content.decode()
    assert len(review_rows(mixed)) == 1  # only their own label counts: Z's reply
    # The control: whoever reviews B may filter by B's label (it is on no conversation: nothing).
    assert review_rows(login(superuser).get(f"/review/?{RANGE}&label={theirs.pk}").content.decode()) == []


def test_a_label_of_another_application_than_the_chosen_one_is_left_out(more, admin, app_a, app_b):
    from channels_app.models import Membership

    Membership.objects.create(user=admin, application=app_b, role=Membership.Role.ADMIN)
    theirs = Label.objects.create(application=app_b, name="B-only", colour=RED)
    page = login(admin).get(f"/review/?{RANGE}&application={app_a.pk}&label={theirs.pk}").content.decode()
    assert len(review_rows(page)) == 7


@pytest.mark.parametrize("query", ["", "label", "labels"])
def test_every_link_into_the_review_shows_what_its_figure_counts(more, admin, agent_a, app_a, query):
    client = login(admin)
    extra = filters(more, app_a)[query] if query else ""
    base = f"{RANGE}&{extra}"
    overview = client.get(f"/reports/?{base}").content.decode()
    link, shown = figure(overview, "messages_out")
    assert link.startswith("/review/?")
    review = client.get(link).content.decode()
    assert len(review_rows(review)) == int(shown)
    assert f'<td data-count="total">{shown}</td>' in review

    agents = client.get(f"/reports/agents/?{base}").content.decode()
    replies = re.findall(r'<td class="replies"><a href="([^"]+)">(\d+)</a>', agents)
    assert replies
    for href, n in replies:
        assert len(review_rows(client.get(href.replace("&amp;", "&")).content.decode())) == int(n), href

    delivery = client.get(f"/reports/delivery/?{base}").content.decode()
    cells = re.findall(r'<a data-point="[^"]+" href="(/review/[^"]+)">(\d+)</a>', delivery)
    assert cells
    for href, n in cells:
        assert len(review_rows(client.get(href.replace("&amp;", "&")).content.decode())) == int(n), href
