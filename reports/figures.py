"""Every figure of the reports page, read for one ReportScope. Definitions: README, "Reports".

Conversation figures come from ConversationCycle (one row per opening of a conversation, kept by the
actions); message figures from the messages, counted per hour of the viewer's time zone in one
grouped query that the `report_volume` index answers alone on PostgreSQL. Medians and p90s are computed
by PostgreSQL (percentile_cont / percentile_disc) and, on SQLite, in Python with the same definitions.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Hashable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, TypeVar

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import (
    Aggregate,
    Count,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Sum,
)
from django.db.models.functions import ExtractHour, ExtractIsoWeekDay, TruncHour
from django.utils import timezone
from django.utils.translation import gettext as _

from channels_app.models import Channel, Membership
from conversations.actions.rollup import COUNTED, rolled_until
from conversations.models import Conversation, ConversationCycle, Message, MessageVolume
from conversations.selectors.review import Timing, timing_of
from reports.scope import ReportScope

DELIVERY_STATUSES = ("pending", "enqueued", "sent", "delivered", "read", "failed")
TOP_ERRORS = 10
_Row = TypeVar("_Row", ConversationCycle, Message)


class _Percentile(Aggregate):
    """PostgreSQL's ordered-set aggregate, over an interval: `percentile_cont(0.5) WITHIN GROUP …`."""

    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = DurationField()


def _median(expression: Any) -> _Percentile:
    # percentile_cont(0.5): the mean of the two middle values for an even count, as statistics.median.
    return _Percentile(expression, function="percentile_cont", fraction="0.5")


def _p90(expression: Any) -> _Percentile:
    # percentile_disc(0.9): the nearest rank, a value that occurred, as review.timing_of.
    return _Percentile(expression, function="percentile_disc", fraction="0.9")


def _timings(rows: QuerySet[Any], start: str, end: str, key: str | None) -> dict[Hashable, Timing]:
    """Median and p90 of `end - start` over `rows`, per value of `key` (all rows under None)."""
    duration = ExpressionWrapper(F(end) - F(start), output_field=DurationField())
    rows = rows.order_by()
    if connection.vendor == "postgresql":
        figures = {"n": Count("pk"), "median": _median(duration), "p90": _p90(duration)}
        if key is None:
            row = rows.aggregate(**figures)
            return {None: Timing(row["n"], row["median"], row["p90"])} if row["n"] else {}
        return {
            row[key]: Timing(row["n"], row["median"], row["p90"])
            for row in rows.values(key).annotate(**figures)
        }
    seconds: dict[Hashable, list[float]] = defaultdict(list)
    for group, began, ended in rows.values_list(key or "application_id", start, end):
        seconds[group if key else None].append((ended - began).total_seconds())
    return {group: timing_of(values) for group, values in seconds.items()}


def _labelled(qs: QuerySet[_Row], scope: ReportScope) -> QuerySet[_Row]:
    """The rows of conversations that have every label of the scope's label filter (one EXISTS per
    label, as the inbox's filter: no join that would repeat rows)."""
    through = Conversation.labels.through.objects
    for label_id in scope.labels:
        qs = qs.filter(Exists(through.filter(conversation_id=OuterRef("conversation_id"), label_id=label_id)))
    return qs


def cycles(scope: ReportScope) -> QuerySet[ConversationCycle]:
    qs = ConversationCycle.objects.filter(application_id__in=scope.application_ids)
    if scope.channel_id:
        qs = qs.filter(channel_id=scope.channel_id)
    return _labelled(qs, scope)


def _in_range(name: str, scope: ReportScope) -> Q:
    return Q(**{f"{name}__gte": scope.start, f"{name}__lt": scope.end})


# --- The lists behind the figures: one queryset of cycles per figure --------------------------------

CYCLE_FIGURES = (
    *("opened", "reopened", "resolved", "answered", "unanswered", "handled"),
    *("sla_all", "sla_met", "sla_breached", "sla_at_risk"),
)


def figure_q(scope: ReportScope, figure: str, *, now: datetime) -> Q:
    """Which cycles a figure counts, as one condition: the lists filter by it and the counts aggregate
    with it, so a number and its list cannot disagree. (`sla_at_risk` is finished in Python.)"""
    agent = scope.agent_id
    if figure in ("opened", "reopened"):
        q = _in_range("opened_at", scope) & Q(reopened=figure == "reopened")
        return q & Q(conversation__assignee_id=agent) if agent else q
    if figure == "resolved":
        q = _in_range("resolved_at", scope)
        return q & Q(resolved_by_id=agent) if agent else q
    asked = _in_range("customer_at", scope)
    if figure == "answered":
        q = asked & Q(first_response_at__isnull=False)
        return q & Q(first_responder_id=agent) if agent else q
    if figure == "unanswered":
        # Never answered: still waiting, or resolved without a reply.
        q = asked & Q(first_response_at__isnull=True)
        return q & Q(conversation__assignee_id=agent) if agent else q
    q = asked & Q(first_response_due_at__isnull=False)  # the questions that had a target
    if agent:
        q &= Q(first_responder_id=agent) | Q(first_responder__isnull=True, conversation__assignee_id=agent)
    if figure == "sla_all":
        return q
    if figure == "sla_met":
        return q & Q(first_response_at__lte=F("first_response_due_at"))
    if figure == "sla_breached":
        return q & (
            Q(first_response_at__gt=F("first_response_due_at"))
            | Q(first_response_at__isnull=True, resolved_at__isnull=True, first_response_due_at__lte=now)
            | Q(first_response_at__isnull=True, resolved_at__gt=F("first_response_due_at"))
        )
    if figure == "sla_at_risk":  # still waiting, not due yet: at_risk() tells the last stretch apart
        return q & Q(first_response_at__isnull=True, resolved_at__isnull=True, first_response_due_at__gt=now)
    raise ValueError(figure)


def handled_q(scope: ReportScope, *, now: datetime) -> tuple[Q, Q]:
    """The cycles in which someone (the scope's agent, if chosen) handled a conversation, as two
    conditions: answered its question of the range first (by `first_responder`), or resolved it in the
    range (by `resolved_by`). The per-agent count (`_handled`) and the list share them."""
    answered = figure_q(scope, "answered", now=now) & Q(first_responder__isnull=False)
    resolved = figure_q(scope, "resolved", now=now) & Q(resolved_by__isnull=False)
    return answered, resolved


def figure_cycles(
    scope: ReportScope, figure: str, *, now: datetime | None = None
) -> QuerySet[ConversationCycle]:
    """The cycles a figure counts (the report's numbers are the counts of these querysets)."""
    now = now or timezone.now()
    if figure == "handled":
        # Conversations, not cycles: an agent who answered one opening and resolved the next handled
        # one conversation. Its last cycle that counts stands for it (one row each, keyset by id).
        answered, resolved = handled_q(scope, now=now)
        handled = cycles(scope).filter(answered | resolved).order_by()
        last = handled.values("conversation_id").annotate(last=Max("pk")).values("last")
        return ConversationCycle.objects.filter(pk__in=last)
    qs = cycles(scope).filter(figure_q(scope, figure, now=now))
    if figure == "sla_at_risk":
        risky = [c.pk for c in qs.only("customer_at", "first_response_due_at") if at_risk(c, now)]
        qs = qs.filter(pk__in=risky)
    return qs


def figure_counts(scope: ReportScope, names: tuple[str, ...], *, now: datetime) -> dict[str, int]:
    """The counts of several figures in one query (each one `figure_cycles(...).count()`)."""
    counted = {
        name: Count("pk", filter=figure_q(scope, name, now=now)) for name in names if name != "sla_at_risk"
    }
    counts: dict[str, int] = cycles(scope).aggregate(**counted) if counted else {}
    if "sla_at_risk" in names:
        counts["sla_at_risk"] = figure_cycles(scope, "sla_at_risk", now=now).count()
    return counts


def at_risk(cycle: ConversationCycle, now: datetime) -> bool:
    start = cycle.at_risk_from()
    due = cycle.first_response_due_at
    return start is not None and due is not None and cycle.first_response_at is None and start <= now < due


# --- Summary and timings ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Summary:
    opened: int
    reopened: int
    resolved: int
    messages_in: int
    messages_out: int
    answered: int
    unanswered: int


@dataclass(frozen=True)
class Timings:
    first_response: Timing
    resolution: Timing
    first_response_by_agent: dict[Hashable, Timing]
    resolution_by_agent: dict[Hashable, Timing]
    first_response_by_channel: dict[Hashable, Timing]
    resolution_by_channel: dict[Hashable, Timing]


_NO_TIMING = Timing(0, None, None)


def timings(scope: ReportScope, *, per: tuple[str, ...] = ("agent", "channel")) -> Timings:
    """Overall, and per agent and/or per channel (`per`): a page computes only the breakdowns it shows."""
    answered = figure_cycles(scope, "answered")
    resolved = figure_cycles(scope, "resolved")
    first = ("customer_at", "first_response_at")
    closing = ("opened_at", "resolved_at")
    agents, channels = "agent" in per, "channel" in per
    return Timings(
        first_response=_timings(answered, *first, None).get(None, _NO_TIMING),
        resolution=_timings(resolved, *closing, None).get(None, _NO_TIMING),
        first_response_by_agent=_timings(answered, *first, "first_responder_id") if agents else {},
        resolution_by_agent=_timings(resolved, *closing, "resolved_by_id") if agents else {},
        first_response_by_channel=_timings(answered, *first, "channel_id") if channels else {},
        resolution_by_channel=_timings(resolved, *closing, "channel_id") if channels else {},
    )


# --- Message volumes: the worker's quarter-hour counts, and the messages after them ------------------


def messages(scope: ReportScope) -> QuerySet[Message]:
    return _labelled(
        Message.objects.filter(
            channel_id__in=scope.channel_ids, created_at__gte=scope.start, created_at__lt=scope.end
        ),
        scope,
    )


def _agent_messages(qs: QuerySet[Message], agent_id: int | None) -> QuerySet[Message]:
    """An agent's messages: their replies, and the customer messages of conversations assigned to them."""
    if not agent_id:
        return qs
    return qs.filter(
        Q(direction=Message.Direction.OUTBOUND, author_id=agent_id)
        | Q(direction=Message.Direction.INBOUND, conversation__assignee_id=agent_id)
    )


def _volume_parts(scope: ReportScope) -> tuple[QuerySet[MessageVolume], QuerySet[Message]]:
    """The range's messages as two parts: the worker's quarter-hour counts up to the rollup's mark (whole
    quarters in every zone), and the messages after it. With an agent chosen, their customer messages
    (of the conversations assigned to them now) all come from the messages: assignment is not a fact a
    rollup can keep; nor are labels: with a label filter, every count comes from the messages."""
    mark = None if scope.labels else rolled_until()
    split = min(max(mark, scope.start), scope.end) if mark else scope.start
    agent = scope.agent_id
    rolled = MessageVolume.objects.filter(
        channel_id__in=scope.channel_ids, bucket__gte=scope.start, bucket__lt=split
    ).order_by()
    tail = Message.objects.filter(
        channel_id__in=scope.channel_ids,
        created_at__gte=split,
        created_at__lt=scope.end,
        direction__in=COUNTED,
    ).order_by()
    if agent:
        rolled = rolled.filter(direction=Message.Direction.OUTBOUND, author_id=agent)
        tail = tail.filter(direction=Message.Direction.OUTBOUND, author_id=agent) | messages(
            scope
        ).order_by().filter(direction=Message.Direction.INBOUND, conversation__assignee_id=agent)
    return rolled, _labelled(tail, scope)


def _hourly(scope: ReportScope) -> list[tuple[datetime, str, int]]:
    """(hour of the viewer's zone, direction, messages) over the range."""
    rolled, tail = _volume_parts(scope)
    rows: Counter[tuple[datetime, str]] = Counter()
    parts = (
        rolled.annotate(hour=TruncHour("bucket", tzinfo=scope.zone))
        .values_list("hour", "direction")
        .annotate(n=Sum("count")),
        tail.annotate(hour=TruncHour("created_at", tzinfo=scope.zone))
        .values_list("hour", "direction")
        .annotate(n=Count("*")),
    )
    for part in parts:
        for hour, direction, n in part:
            rows[(timezone.localtime(hour, scope.zone), direction)] += n
    return [(hour, direction, n) for (hour, direction), n in rows.items()]


def _replies_by_author(scope: ReportScope) -> Counter[int]:
    rolled, tail = _volume_parts(scope)
    out = Message.Direction.OUTBOUND
    counts: Counter[int] = Counter()
    for author, n in (
        rolled.filter(direction=out).exclude(author_id=0).values_list("author_id").annotate(n=Sum("count"))
    ):
        counts[author] += n
    for author, n in (
        tail.filter(direction=out, author__isnull=False).values_list("author_id").annotate(n=Count("*"))
    ):
        counts[author] += n
    return counts


@dataclass(frozen=True)
class Volume:
    days: list[date]
    inbound_by_day: list[int]
    outbound_by_day: list[int]
    # heat[weekday][hour]: customer messages, 0 = Monday, hours of the viewer's time zone
    heat: list[list[int]]
    messages_in: int
    messages_out: int

    @property
    def heat_max(self) -> int:
        return max((max(row) for row in self.heat), default=0)


def volume(scope: ReportScope) -> Volume:
    by_day: Counter[tuple[date, str]] = Counter()
    heat = [[0] * 24 for _ in range(7)]
    for hour, direction, n in _hourly(scope):
        by_day[(hour.date(), direction)] += n
        if direction == Message.Direction.INBOUND:
            heat[hour.weekday()][hour.hour] += n
    days = scope.days
    inbound = [by_day[(day, Message.Direction.INBOUND)] for day in days]
    outbound = [by_day[(day, Message.Direction.OUTBOUND)] for day in days]
    return Volume(days, inbound, outbound, heat, sum(inbound), sum(outbound))


def message_counts(scope: ReportScope) -> dict[str, int]:
    """Messages in and out over the range, keyed by direction (only those with messages)."""
    rolled, tail = _volume_parts(scope)
    counts: Counter[str] = Counter()
    for direction, n in rolled.values_list("direction").annotate(n=Sum("count")):
        counts[direction] += n
    for direction, n in tail.values_list("direction").annotate(n=Count("*")):
        counts[direction] += n
    return {direction: n for direction, n in counts.items() if n}


def summary(scope: ReportScope, message_counts: dict[str, int]) -> Summary:
    counts = figure_counts(
        scope, ("opened", "reopened", "resolved", "answered", "unanswered"), now=timezone.now()
    )
    return Summary(
        messages_in=message_counts.get(Message.Direction.INBOUND, 0),
        messages_out=message_counts.get(Message.Direction.OUTBOUND, 0),
        **counts,
    )


def received_messages(
    scope: ReportScope, *, weekday: int | None = None, hour: int | None = None
) -> QuerySet[Message]:
    """The customer messages a volume figure counts; `weekday` (0 = Monday) and `hour` pick a heat map
    cell, in the viewer's time zone."""
    qs = _agent_messages(messages(scope), scope.agent_id).filter(direction=Message.Direction.INBOUND)
    if weekday is not None:
        qs = qs.annotate(iso_weekday=ExtractIsoWeekDay("created_at", tzinfo=scope.zone)).filter(
            iso_weekday=weekday + 1
        )
    if hour is not None:
        qs = qs.annotate(local_hour=ExtractHour("created_at", tzinfo=scope.zone)).filter(local_hour=hour)
    return qs


def figure_title(figure: str) -> str:
    titles = {
        "opened": _("Conversations opened"),
        "reopened": _("Conversations reopened"),
        "resolved": _("Conversations resolved"),
        "answered": _("Questions answered"),
        "unanswered": _("Questions not answered"),
        "sla_all": _("Questions with a first-response target"),
        "sla_met": _("First-response target met"),
        "sla_breached": _("First-response target breached"),
        "sla_at_risk": _("First-response target at risk"),
        "handled": _("Conversations handled"),
        "received": _("Customer messages"),
    }
    return str(titles.get(figure, figure))


# --- Delivery outcome by channel ----------------------------------------------------------------------


@dataclass
class ChannelDelivery:
    channel: Channel
    counts: dict[str, int] = field(default_factory=dict)
    errors: list[tuple[str, int]] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def delivery(scope: ReportScope) -> list[ChannelDelivery]:
    replies = messages(scope).filter(direction=Message.Direction.OUTBOUND)
    if scope.agent_id:
        replies = replies.filter(author_id=scope.agent_id)
    channels = {
        c.pk: ChannelDelivery(c)
        for c in Channel.objects.filter(pk__in=scope.channel_ids).order_by("kind", "display_name")
    }
    for channel_id, status, n in (
        replies.order_by().values_list("channel_id", "status").annotate(n=Count("*"))
    ):
        channels[channel_id].counts[status] = n
    errors = (
        replies.filter(status=Message.Status.FAILED)
        .exclude(error_code="")
        .order_by()
        .values_list("channel_id", "error_code")
        .annotate(n=Count("*"))
        .order_by("-n", "error_code")
    )
    for channel_id, code, n in errors:
        if len(channels[channel_id].errors) < TOP_ERRORS:
            channels[channel_id].errors.append((code, n))
    return [row for row in channels.values() if row.total]


# --- Per agent ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AgentRow:
    agent: Any  # a user
    conversations: int
    replies: int
    first_response: Timing
    resolution: Timing
    resolutions: int


def _handled(scope: ReportScope) -> dict[int, int]:
    """Per agent, the conversations they handled: answered a question of the range first, or resolved
    one in the range (each conversation once, however many times). The list behind each number is
    `figure_cycles(scope, "handled")` with that agent chosen."""
    answered_q, resolved_q = handled_q(scope, now=timezone.now())
    answered = (
        cycles(scope)
        .filter(answered_q)
        .order_by()
        .values(agent=F("first_responder_id"), thread=F("conversation_id"))
    )
    resolved = (
        cycles(scope)
        .filter(resolved_q)
        .order_by()
        .values(agent=F("resolved_by_id"), thread=F("conversation_id"))
    )
    if not scope.application_ids:  # nothing to see (the UNION of two empty querysets has no SQL)
        return {}
    sql, params = answered.union(resolved).query.sql_with_params()  # UNION: distinct pairs
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT agent, count(*) FROM ({sql}) pairs GROUP BY agent", params)
        return dict(cursor.fetchall())


def agents(scope: ReportScope, timings: Timings) -> list[AgentRow]:
    """Every member of the Applications (an agent with no reply shows zeros), and anyone who replied."""
    replies = _replies_by_author(scope)
    handled = _handled(scope)
    resolutions = dict(
        figure_cycles(scope, "resolved")
        .exclude(resolved_by=None)
        .order_by()
        .values_list("resolved_by_id")
        .annotate(n=Count("*"))
    )
    if scope.agent_id:
        ids = {scope.agent_id}
    else:
        members = Membership.objects.filter(application_id__in=scope.application_ids).values_list(
            "user_id", flat=True
        )
        ids = set(members) | set(replies) | set(resolutions)
    people = get_user_model().objects.filter(pk__in=ids).order_by("first_name", "last_name", "username")
    return [
        AgentRow(
            agent=person,
            conversations=handled.get(person.pk, 0),
            replies=replies.get(person.pk, 0),
            first_response=timings.first_response_by_agent.get(person.pk, _NO_TIMING),
            resolution=timings.resolution_by_agent.get(person.pk, _NO_TIMING),
            resolutions=resolutions.get(person.pk, 0),
        )
        for person in people
    ]


# --- Service level -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ServiceLevelFigures:
    with_target: int
    met: int
    breached: int
    at_risk: int


def service_level(scope: ReportScope, *, now: datetime | None = None) -> ServiceLevelFigures:
    counts = figure_counts(
        scope, ("sla_all", "sla_met", "sla_breached", "sla_at_risk"), now=now or timezone.now()
    )
    return ServiceLevelFigures(
        with_target=counts["sla_all"],
        met=counts["sla_met"],
        breached=counts["sla_breached"],
        at_risk=counts["sla_at_risk"],
    )
