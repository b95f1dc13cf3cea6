"""What one report covers: which Applications and channels, which days (in the viewer's time zone), and
whose figures (a lead's: everyone's; an agent's: their own only).

Leads are the admins of an Application (and superusers), as on the delivery review. An agent may open
the reports too, but every figure is then narrowed to their own work, whatever the agent filter says.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from urllib.parse import urlencode

from django.utils import timezone

from channels_app.access import AuthUser, visible_applications
from channels_app.models import Channel, Membership
from conversations.models import Label

# A longer range is cut to this many days before its end (a year of days reads in one page).
MAX_DAYS = 366
DEFAULT_DAYS = 7


@dataclass(frozen=True)
class ReportScope:
    application_ids: tuple[int, ...]
    channel_ids: tuple[int, ...]
    channel_id: int | None
    agent_id: int | None  # everyone's figures when None
    own_only: bool  # an agent's view: agent_id is the viewer, and cannot be changed
    labels: tuple[int, ...]  # only conversations with every one of these labels (none: all)
    first_day: date
    last_day: date  # included
    zone: tzinfo

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first_day, time.min, tzinfo=self.zone)

    @property
    def end(self) -> datetime:
        """The first moment after the range: midnight at the end of its last day."""
        return datetime.combine(self.last_day + timedelta(days=1), time.min, tzinfo=self.zone)

    @property
    def days(self) -> list[date]:
        return [self.first_day + timedelta(days=n) for n in range((self.last_day - self.first_day).days + 1)]

    def params(self, **extra: object) -> dict[str, str]:
        """The query string of this scope (and `extra`), for the links from a figure to its list."""
        values: dict[str, object] = {
            "application": self.application_ids[0] if len(self.application_ids) == 1 else "",
            "channel": self.channel_id or "",
            "agent": "" if self.own_only else (self.agent_id or ""),
            "labels": ",".join(str(i) for i in self.labels),
            "date_from": self.first_day.isoformat(),
            "date_to": self.last_day.isoformat(),
            **extra,
        }
        return {name: str(value) for name, value in values.items() if value not in ("", None)}

    def query(self, **extra: object) -> str:
        return urlencode(self.params(**extra))


def build_scope(
    *,
    user: AuthUser,
    application_id: int | None,
    channel_id: int | None,
    agent_id: int | None,
    date_from: date | None,
    date_to: date | None,
    labels: Sequence[int] = (),
    today: date | None = None,
) -> ReportScope:
    """The scope a user asked for, narrowed to what they may see. An Application they cannot see is the
    same as no Application at all (their own, every one): nothing tells them it exists; so is a label
    that is not one of the chosen Applications' labels (it is left out)."""
    visible = list(visible_applications(user).values_list("id", flat=True))
    admin_of = set(visible_applications(user, role=Membership.Role.ADMIN).values_list("id", flat=True))
    applications = [application_id] if application_id in visible else visible
    own_only = not user.is_superuser and not set(applications) <= admin_of
    channels = list(
        Channel.objects.filter(application_id__in=applications).order_by("id").values_list("id", flat=True)
    )
    chosen_channel = channel_id if channel_id in channels else None
    chosen_labels = (
        Label.objects.filter(pk__in=list(labels), application_id__in=applications).order_by("pk")
        if labels
        else Label.objects.none()
    )
    zone = timezone.get_current_timezone()
    today = today or timezone.localdate(timezone=zone)
    last = date_to or today
    first = date_from or last - timedelta(days=DEFAULT_DAYS - 1)
    if first > last:
        first, last = last, first
    first = max(first, last - timedelta(days=MAX_DAYS - 1))
    return ReportScope(
        application_ids=tuple(applications),
        channel_ids=(chosen_channel,) if chosen_channel else tuple(channels),
        channel_id=chosen_channel,
        agent_id=user.pk if own_only else agent_id,
        own_only=own_only,
        labels=tuple(chosen_labels.values_list("pk", flat=True)),
        first_day=first,
        last_day=last,
        zone=zone,
    )


def scope_from_params(
    *, user: AuthUser, params: Mapping[str, object], labels: Sequence[int] = ()
) -> ReportScope:
    """`params`: the cleaned values of the filter form (conversations.forms.ReviewFilterForm); `labels`:
    the label filter's ids (conversations.selectors.inbox.label_ids_of)."""

    def number(name: str) -> int | None:
        value = params.get(name)
        return value if isinstance(value, int) else None

    def day(name: str) -> date | None:
        value = params.get(name)
        return value if isinstance(value, date) else None

    return build_scope(
        user=user,
        application_id=number("application"),
        channel_id=number("channel"),
        agent_id=number("agent"),
        date_from=day("date_from"),
        date_to=day("date_to"),
        labels=labels,
    )
