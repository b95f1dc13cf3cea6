"""Every figure of the reports, on a hand-built timeline, asserted exactly (README, "Reports")."""

from __future__ import annotations

import zoneinfo
from datetime import UTC, date, timedelta

import pytest
from django.db.models import Sum
from django.utils import timezone

from conversations.actions.rollup import do_roll_up_message_volume
from conversations.models import Conversation, MessageVolume
from reports import figures
from reports.scope import build_scope
from tests.reports.timeline import MONDAY, SAO_PAULO, local


def scope_for(user, **kwargs):
    with timezone.override(SAO_PAULO):
        return build_scope(
            user=user,
            application_id=kwargs.get("application_id"),
            channel_id=kwargs.get("channel_id"),
            agent_id=kwargs.get("agent_id"),
            date_from=kwargs.get("date_from", MONDAY),
            date_to=kwargs.get("date_to", MONDAY),
        )


def test_counts_first_response_across_a_resolve_and_a_reopen(story, admin):
    scope = scope_for(admin)
    summary = figures.summary(scope, figures.message_counts(scope))
    assert summary.opened == 4  # X, Y, Z, W
    assert summary.reopened == 2  # X by its customer, W by Ada
    assert summary.resolved == 3  # X twice, W once
    assert summary.messages_in == 7
    assert summary.messages_out == 4
    # X's two questions, Z and W answered; Y never: not counted as answered, and said apart.
    assert summary.answered == 4
    assert summary.unanswered == 1

    timings = figures.timings(scope)
    # 5, 20, 1 and 30 minutes: the median is the mean of the middle two; p90 the nearest rank (the 4th).
    assert timings.first_response.count == 4
    assert timings.first_response.median == timedelta(minutes=12, seconds=30)
    assert timings.first_response.p90 == timedelta(minutes=30)
    # X: 10:00→10:30 and 11:00→12:00; W: 09:00→09:45.
    assert timings.resolution.count == 3
    assert timings.resolution.median == timedelta(minutes=45)
    assert timings.resolution.p90 == timedelta(minutes=60)


def test_per_agent_figures_include_an_agent_without_replies(story, admin, agent_a, carol):
    scope = scope_for(admin)
    rows = {row.agent.username: row for row in figures.agents(scope, figures.timings(scope))}
    assert set(rows) == {"ada", "alice", "carol"}
    alice, ada, nobody = rows["alice"], rows["ada"], rows["carol"]
    assert (alice.conversations, alice.replies, alice.resolutions) == (3, 3, 1)
    assert alice.first_response.count == 3  # 5, 1 and 30 minutes
    assert alice.first_response.median == timedelta(minutes=5)
    assert alice.first_response.p90 == timedelta(minutes=30)
    # Ada answered X's second question and resolved X and W: two conversations handled.
    assert (ada.conversations, ada.replies, ada.resolutions) == (2, 1, 2)
    assert ada.first_response.median == timedelta(minutes=20)
    assert ada.resolution.median == timedelta(minutes=52, seconds=30)  # 60 and 45 minutes
    assert (nobody.conversations, nobody.replies, nobody.resolutions) == (0, 0, 0)
    assert nobody.first_response.count == 0 and nobody.first_response.median is None


def test_per_channel_and_the_channel_filter(story, admin, app_a):
    scope = scope_for(admin)
    whatsapp = app_a.channels.get(kind="whatsapp")
    timings = figures.timings(scope)
    assert set(timings.first_response_by_channel) == {whatsapp.pk}
    assert timings.first_response_by_channel[whatsapp.pk].count == 4
    sms = app_a.channels.get(kind="sms")
    only_sms = scope_for(admin, channel_id=sms.pk)
    assert figures.summary(only_sms, figures.message_counts(only_sms)).opened == 0


def test_volume_by_hour_of_the_viewers_zone_and_by_day(story, admin):
    scope = scope_for(admin, date_from=MONDAY - timedelta(days=1))
    volume = figures.volume(scope)
    assert volume.days == [MONDAY - timedelta(days=1), MONDAY]
    assert volume.inbound_by_day == [0, 7]
    assert volume.outbound_by_day == [0, 4]
    monday = volume.heat[0]
    assert (monday[9], monday[10], monday[11]) == (1, 5, 1)
    assert sum(map(sum, volume.heat)) == 7
    # The list behind a cell holds exactly the messages it counts.
    assert figures.received_messages(scope, weekday=0, hour=10).count() == 5
    assert figures.received_messages(scope, weekday=1, hour=10).count() == 0


def test_the_range_is_days_of_the_viewers_zone(story, admin):
    # Kiritimati is UTC+14: São Paulo's Monday 09:00 (12:00 UTC) is its Tuesday 02:00.
    def day_in_kiritimati(day: date):
        with timezone.override(zoneinfo.ZoneInfo("Pacific/Kiritimati")):
            return build_scope(
                user=admin, application_id=None, channel_id=None, agent_id=None, date_from=day, date_to=day
            )

    assert figures.message_counts(day_in_kiritimati(MONDAY)) == {}
    tuesday = day_in_kiritimati(MONDAY + timedelta(days=1))
    assert figures.message_counts(tuesday) == {"in": 7, "out": 4}
    heat = figures.volume(tuesday).heat
    assert (heat[1][2], heat[1][3], heat[1][4]) == (1, 5, 1)


def test_an_agent_sees_only_their_own_figures(story, agent_a):
    scope = scope_for(agent_a, agent_id=None)
    assert scope.own_only and scope.agent_id == agent_a.pk
    rows = figures.agents(scope, figures.timings(scope))
    assert [row.agent.username for row in rows] == ["alice"]
    assert figures.timings(scope).first_response.count == 3
    assert figures.message_counts(scope).get("out") == 3


def test_delivery_outcome_by_channel(story, admin, app_a):
    scope = scope_for(admin)
    rows = figures.delivery(scope)
    assert [(row.channel.kind, row.counts) for row in rows] == [("whatsapp", {"pending": 4})]


def test_cycles_follow_the_conversation(story):
    x = story["x"]
    cycles = list(
        x.cycles.order_by("id").values_list("reopened", "customer_at", "first_response_at", "resolved_at")
    )
    assert cycles == [
        (False, local(10).astimezone(UTC), local(10, 5).astimezone(UTC), local(10, 30).astimezone(UTC)),
        (True, local(11).astimezone(UTC), local(11, 20).astimezone(UTC), local(12).astimezone(UTC)),
    ]
    w = Conversation.objects.get(pk=story["w"].pk)
    assert w.status == "open" and w.open_cycle_id is None  # reopened by Ada: waiting for the customer


@pytest.mark.parametrize("rolled_at", [local(11, 10), local(23)])
def test_the_workers_rollup_gives_the_same_figures(story, admin, rolled_at):
    scope = scope_for(admin, date_from=MONDAY - timedelta(days=1))
    direct = (
        figures.volume(scope),
        figures.message_counts(scope),
        figures.agents(scope, figures.timings(scope)),
    )
    mark = do_roll_up_message_volume(now=rolled_at)
    assert mark is not None and mark <= rolled_at
    assert MessageVolume.objects.exists()
    rolled = (
        figures.volume(scope),
        figures.message_counts(scope),
        figures.agents(scope, figures.timings(scope)),
    )
    assert rolled == direct
    # A message stored after the mark is counted from the messages until the next pass rolls it up.
    assert figures.message_counts(scope) == {"in": 7, "out": 4}


def test_a_pass_recounts_the_last_hour(story, app_a):
    # Two minutes settle: at 10:30 the mark is 10:15, after 09:00, 09:30, 10:00, 10:05 and 10:10.
    assert do_roll_up_message_volume(now=local(10, 30)) == local(10, 15)
    assert MessageVolume.objects.aggregate(n=Sum("count"))["n"] == 5
    # The next pass recounts from 09:15 (an hour before the mark) on: nothing is counted twice.
    do_roll_up_message_volume(now=local(14))
    total = MessageVolume.objects.aggregate(n=Sum("count"))["n"]
    assert total == 11
