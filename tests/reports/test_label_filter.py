"""The reports' label filter: every conversation figure (and the messages of those conversations) counts
only the conversations that have every chosen label; asserted exactly on the story of conftest.py."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from channels_app.actions.preferences import do_update_preferences
from conversations.actions.rollup import do_roll_up_message_volume
from conversations.models import Label
from reports import figures
from reports.scope import build_scope
from tests.conftest import login
from tests.reports.test_pages import RANGE, figure
from tests.reports.timeline import MONDAY, SAO_PAULO, local

RED = Label.COLOURS[0][0]


@pytest.fixture
def labels(story, app_a):
    """VIP on X and Z; Late on Z only."""
    vip = Label.objects.create(application=app_a, name="VIP", colour=RED)
    late = Label.objects.create(application=app_a, name="Late", colour=RED)
    story["x"].labels.add(vip)
    story["z"].labels.add(vip, late)
    return {"vip": vip, "late": late}


def scope_with(user, labels: list[int]):
    with timezone.override(SAO_PAULO):
        return build_scope(
            user=user, application_id=None, channel_id=None, agent_id=None,
            date_from=MONDAY, date_to=MONDAY, labels=labels,
        )  # fmt: skip


def test_without_the_filter_the_figures_are_everyones(labels, admin):
    scope = scope_with(admin, [])
    assert scope.labels == ()
    summary = figures.summary(scope, figures.message_counts(scope))
    assert (summary.opened, summary.reopened, summary.resolved) == (4, 2, 3)
    assert (summary.messages_in, summary.messages_out, summary.answered, summary.unanswered) == (7, 4, 4, 1)


def test_one_label_counts_only_its_conversations_and_their_messages(labels, admin, agent_a):
    scope = scope_with(admin, [labels["vip"].pk])  # X and Z
    summary = figures.summary(scope, figures.message_counts(scope))
    assert (summary.opened, summary.reopened, summary.resolved) == (2, 1, 2)
    assert (summary.messages_in, summary.messages_out, summary.answered, summary.unanswered) == (5, 3, 3, 0)

    timings = figures.timings(scope)
    assert timings.first_response.count == 3  # 5, 20 and 1 minutes
    assert timings.first_response.median == timedelta(minutes=5)
    assert timings.first_response.p90 == timedelta(minutes=20)
    assert (timings.resolution.count, timings.resolution.median) == (2, timedelta(minutes=45))

    volume = figures.volume(scope)
    assert (volume.inbound_by_day, volume.outbound_by_day) == ([5], [3])
    assert (volume.heat[0][9], volume.heat[0][10], volume.heat[0][11]) == (0, 4, 1)
    assert figures.received_messages(scope, weekday=0, hour=10).count() == 4

    assert [(row.channel.kind, row.counts) for row in figures.delivery(scope)] == [
        ("whatsapp", {"pending": 3})
    ]

    rows = {row.agent.username: row for row in figures.agents(scope, figures.timings(scope))}
    assert (rows["alice"].conversations, rows["alice"].replies, rows["alice"].resolutions) == (2, 2, 1)
    assert (rows["ada"].conversations, rows["ada"].replies, rows["ada"].resolutions) == (1, 1, 1)


def test_several_labels_keep_the_conversations_with_every_one(labels, admin):
    scope = scope_with(admin, [labels["vip"].pk, labels["late"].pk])  # Z only
    summary = figures.summary(scope, figures.message_counts(scope))
    assert (summary.opened, summary.reopened, summary.resolved) == (1, 0, 0)
    assert (summary.messages_in, summary.messages_out, summary.answered, summary.unanswered) == (3, 1, 1, 0)
    assert [c.conversation_id for c in figures.figure_cycles(scope, "opened")] == [story_z(labels)]


def story_z(labels) -> int:
    return labels["late"].conversations.get().pk


def test_the_rollup_does_not_count_messages_of_other_conversations(labels, admin):
    do_roll_up_message_volume(now=local(23))
    scope = scope_with(admin, [labels["vip"].pk])
    assert figures.message_counts(scope) == {"in": 5, "out": 3}
    assert figures.message_counts(scope_with(admin, [])) == {"in": 7, "out": 4}


def test_another_tenants_label_is_left_out(labels, agent_b, app_b, admin):
    theirs = Label.objects.create(application=app_b, name="B-only", colour=RED)
    scope = scope_with(admin, [theirs.pk])
    assert scope.labels == ()
    assert figures.summary(scope, figures.message_counts(scope)).opened == 4


def test_the_page_filters_by_label_and_its_links_keep_it(labels, admin, agent_a):
    do_update_preferences(actor=admin, language="en", time_zone="America/Sao_Paulo")
    client = login(admin)
    page = client.get(f"/reports/?{RANGE}&label={labels['vip'].pk}").content.decode()
    assert f'name="label" value="{labels["vip"].pk}" checked' in page
    expected = {"opened": 2, "reopened": 1, "resolved": 2, "messages_in": 5, "unanswered": 0}
    for name, count in expected.items():
        link, shown = figure(page, name)
        assert int(shown) == count, name
        assert f"labels={labels['vip'].pk}" in link
        assert f"{count} item" in client.get(link).content.decode(), name
    unfiltered = client.get(f"/reports/?{RANGE}").content.decode()
    assert figure(unfiltered, "opened")[1] == "4"
