"""First-response targets: when a question is due, and how much business time lies between two moments.

A schedule is a list of `(weekday, start, end)` in one time zone (0 = Monday); an empty one means the
clock always runs. Business hours are wall-clock hours of that zone, so across a daylight-saving change
a 09:00–18:00 day is 9 hours of wall clock but may be 8 or 10 hours long: the clock runs for the hours
the office is open, whatever their length. All arithmetic is done in UTC (subtracting two times of one
zone in Python would count wall-clock time and get a DST day wrong by an hour).
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from channels_app.models import ServiceLevel

# A schedule with no open hour in any week would never come due: give up after this many days.
_HORIZON_DAYS = 400


@dataclass(frozen=True)
class Schedule:
    minutes: int
    zone: zoneinfo.ZoneInfo
    hours: tuple[tuple[int, time, time], ...] = ()  # empty: always

    @classmethod
    def from_stored(
        cls, *, minutes: int, time_zone: str, business_hours: Sequence[Sequence[object]]
    ) -> Schedule:
        hours = tuple(
            (int(str(day)), time.fromisoformat(str(start)), time.fromisoformat(str(end)))
            for day, start, end in business_hours
        )
        return cls(minutes=minutes, zone=zoneinfo.ZoneInfo(time_zone or "UTC"), hours=hours)

    @property
    def always(self) -> bool:
        return not self.hours


def _open_intervals(schedule: Schedule, start: datetime) -> Iterator[tuple[datetime, datetime]]:
    """The schedule's open intervals (UTC) from the local day of `start` on, in order."""
    day: date = start.astimezone(schedule.zone).date()
    for offset in range(_HORIZON_DAYS):
        current = day + timedelta(days=offset)
        for weekday, opens, closes in sorted(schedule.hours, key=lambda h: h[1]):
            if weekday != current.weekday() or closes <= opens:
                continue
            begin = datetime.combine(current, opens, tzinfo=schedule.zone).astimezone(UTC)
            end = datetime.combine(current, closes, tzinfo=schedule.zone).astimezone(UTC)
            yield begin, end


def due_at(schedule: Schedule, start: datetime) -> datetime | None:
    """When a question asked at `start` must have its first answer (None: no open hour within a year)."""
    target = timedelta(minutes=schedule.minutes)
    if schedule.always:
        return start + target
    left = target
    for begin, end in _open_intervals(schedule, start):
        if end <= start:
            continue
        begin = max(begin, start)
        if end - begin >= left:
            return begin + left
        left -= end - begin
    return None


def business_time(schedule: Schedule, start: datetime, end: datetime) -> timedelta:
    """How much of [start, end) the clock ran for (all of it without business hours)."""
    if end <= start:
        return timedelta(0)
    if schedule.always:
        return end - start
    total = timedelta(0)
    for begin, close in _open_intervals(schedule, start):
        if begin >= end:
            break
        overlap = min(close, end) - max(begin, start)
        if overlap > timedelta(0):
            total += overlap
    return total


def schedule_for(application_id: int) -> Schedule | None:
    """The Application's first-response target, or None when it has none."""
    level = ServiceLevel.objects.filter(application_id=application_id).first()
    if level is None:
        return None
    return Schedule.from_stored(
        minutes=level.first_response_minutes, time_zone=level.time_zone, business_hours=level.business_hours
    )
