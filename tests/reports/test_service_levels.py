"""First-response targets: due times over business hours, a weekend and a daylight-saving change; the
settings form that sets them; the met / breached / at-risk figures."""

from __future__ import annotations

import zoneinfo
from datetime import UTC, date, datetime, timedelta

import time_machine
from django.utils import timezone

from channels_app.models import ServiceLevel
from channels_app.service_levels import Schedule, business_time, due_at
from conversations.models import ConversationCycle
from reports import figures
from reports.scope import build_scope
from tests.conftest import login
from tests.reports.timeline import Timeline

NEW_YORK = zoneinfo.ZoneInfo("America/New_York")
OFFICE = [[day, "09:00", "18:00"] for day in range(5)]  # Monday to Friday
# US daylight saving time ended on Sunday 1 November 2026: Friday was UTC-4, Monday UTC-5.
FRIDAY, MONDAY = date(2026, 10, 30), date(2026, 11, 2)


def ny(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=NEW_YORK)


def office(minutes: int = 60) -> Schedule:
    return Schedule.from_stored(minutes=minutes, time_zone="America/New_York", business_hours=OFFICE)


def test_a_question_late_on_friday_is_due_on_monday_across_the_clock_change():
    due = due_at(office(), ny(FRIDAY, 17, 30))
    assert due == datetime(2026, 11, 2, 14, 30, tzinfo=UTC)  # 09:30 EST: half an hour each side
    assert business_time(office(), ny(FRIDAY, 17, 30), due) == timedelta(minutes=60)
    # The weekend does not count; the wall clock between the two is 65 hours (one more for the change).
    assert due - ny(FRIDAY, 17, 30) == timedelta(hours=65)


def test_a_question_over_the_weekend_waits_for_monday_opening():
    assert due_at(office(30), ny(date(2026, 10, 31), 12)) == ny(MONDAY, 9, 30)
    assert business_time(office(), ny(date(2026, 10, 31), 12), ny(MONDAY, 9, 10)) == timedelta(minutes=10)


def test_without_business_hours_the_clock_always_runs():
    always = Schedule.from_stored(minutes=45, time_zone="America/New_York", business_hours=[])
    start = ny(date(2026, 10, 31), 23, 50)  # a Saturday night, across the change
    assert due_at(always, start) == start + timedelta(minutes=45)
    assert business_time(always, start, start + timedelta(hours=3)) == timedelta(hours=3)


def test_an_admin_sets_the_target_and_questions_get_their_due_times(app_a, admin, agent_a):
    client = login(admin)
    form = {"minutes": "60", "days": ["0", "1", "2", "3", "4"], "opens": "09:00", "closes": "18:00"}
    response = client.post(
        f"/settings/applications/{app_a.pk}/service-level/", {**form, "time_zone": "America/New_York"}
    )
    assert response.status_code == 302
    level = ServiceLevel.objects.get(application=app_a)
    assert (level.first_response_minutes, level.time_zone, level.business_hours) == (
        60,
        "America/New_York",
        OFFICE,
    )
    # Closing before opening is refused, and nothing changes.
    refused = client.post(
        f"/settings/applications/{app_a.pk}/service-level/",
        {**form, "opens": "18:00", "closes": "09:00", "minutes": "5", "time_zone": "America/New_York"},
    )
    assert refused.status_code == 400 and "it closes after it opens" in refused.content.decode()
    assert ServiceLevel.objects.get(application=app_a).first_response_minutes == 60

    line = Timeline(app_a, kind="telegram")  # no service window: Monday's reply to Friday's question
    met = line.customer(ny(FRIDAY, 17, 30), "5521900000011")  # due Monday 09:30
    line.reply(ny(MONDAY, 9, 20), met, agent_a)
    line.customer(ny(FRIDAY, 17, 45), "5521900000012")  # due Monday 09:45, never answered
    line.customer(ny(MONDAY, 9), "5521900000013")  # due Monday 10:00, still waiting at 09:50
    assert ConversationCycle.objects.get(conversation=met).first_response_due_at == ny(MONDAY, 9, 30)

    with timezone.override(NEW_YORK):
        scope = build_scope(
            user=admin, application_id=None, channel_id=None, agent_id=None, date_from=FRIDAY, date_to=MONDAY
        )
    now = ny(MONDAY, 9, 50)
    level_figures = figures.service_level(scope, now=now)
    assert (level_figures.with_target, level_figures.met, level_figures.breached, level_figures.at_risk) == (
        3, 1, 1, 1,
    )  # fmt: skip
    with time_machine.travel(now, tick=False):
        page = client.get(f"/reports/?date_from={FRIDAY}&date_to={MONDAY}").content.decode()
    assert 'data-figure="sla_breached"' in page and 'data-figure="sla_at_risk"' in page


def test_the_inbox_flags_a_question_waiting_against_its_target(app_a, admin, agent_a):
    ServiceLevel.objects.create(
        application=app_a, first_response_minutes=30, time_zone="UTC", business_hours=[]
    )
    line = Timeline(app_a, kind="telegram")
    asked = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    waiting = line.customer(asked, "5521900000021")
    answered = line.customer(asked, "5521900000022")
    line.reply(asked + timedelta(minutes=3), answered, agent_a)
    page = login(admin).get("/").content.decode()
    row = page[page.index(f'id="conv-{waiting.pk}"') :]
    row = row[: row.index("</li>")]
    # Due 12:30; at risk from 12:22:30 (the last quarter of the 30 minutes). The page's clock colours it.
    assert 'data-sla-due="2026-11-23T12:30:00+00:00"' in row
    assert 'data-sla-risk="2026-11-23T12:22:30+00:00"' in row
    other = page[page.index(f'id="conv-{answered.pk}"') :]
    assert "data-sla-due" not in other[: other.index("</li>")]
