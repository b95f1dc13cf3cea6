"""Delivery review (leads and admins): outbound messages of the Applications a user administers, with
their status, whether they are stuck, and how long delivery and reading took."""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, TypeAlias, TypedDict
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import BooleanField, Count, Exists, ExpressionWrapper, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone

from channels_app.access import User, visible_applications
from channels_app.hub.content import DELIVERY_REPORTING_KINDS
from channels_app.models import Application, Channel, Membership
from channels_app.selectors import can_use_settings
from conversations.models import Conversation, Label, Message, MessageStatusChange
from conversations.selectors.inbox import label_ids_of, labels_of

REVIEW_PAGE_SIZE = 50
REVIEW_STATUSES = ("pending", "enqueued", "sent", "delivered", "read", "failed")


def review_applications(user: User) -> QuerySet[Application]:
    """Applications whose delivery the user may review: those they administer (superusers: all)."""
    return visible_applications(user, role=Membership.Role.ADMIN)


def can_review(user: User) -> bool:
    """Leads are the admins of an Application: the same people, and the same per-request answer, as the
    settings area's (the nav asks both on every page)."""
    return can_use_settings(user)


def stuck_cutoff(now: datetime | None = None) -> datetime:
    return (now or timezone.now()) - timedelta(minutes=settings.DELIVERY_STUCK_AFTER_MINUTES)


def _stuck_q(cutoff: datetime) -> Q:
    # `enqueued` should move on everywhere; `sent` only where the channel reports delivery (not Telegram,
    # Web Chatt), or every Telegram reply would be flagged.
    return Q(since__lt=cutoff) & (
        Q(status=Message.Status.ENQUEUED)
        | Q(status=Message.Status.SENT, channel__kind__in=DELIVERY_REPORTING_KINDS)
    )


@dataclass(frozen=True)
class ReviewFilters:
    """The review's filters, parsed leniently from a query string (a bad value is ignored, not an error)."""

    application_id: int | None = None
    channel_id: int | None = None
    status: str = ""
    error_code: str = ""
    author_id: int | None = None
    date_from: date | None = None
    date_to: date | None = None
    stuck: bool = False
    labels: tuple[int, ...] = ()  # replies in conversations with every one of these labels

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> ReviewFilters:
        def text(name: str) -> str:
            return str(params.get(name) or "").strip()

        def number(name: str) -> int | None:
            value = text(name)
            return int(value) if value.isdigit() else None

        def day(name: str) -> date | None:
            try:
                return date.fromisoformat(text(name))
            except ValueError:
                return None

        status = text("status")
        return cls(
            application_id=number("application"),
            channel_id=number("channel"),
            status=status if status in REVIEW_STATUSES else "",
            error_code=text("error_code")[:64],
            author_id=number("agent"),
            date_from=day("date_from"),
            date_to=day("date_to"),
            stuck=text("stuck") in ("1", "on", "true"),
            labels=label_ids_of(params),
        )

    def as_params(self) -> dict[str, str]:
        params = {
            "application": self.application_id,
            "channel": self.channel_id,
            "status": self.status,
            "error_code": self.error_code,
            "agent": self.author_id,
            "date_from": self.date_from.isoformat() if self.date_from else "",
            "date_to": self.date_to.isoformat() if self.date_to else "",
            "stuck": "1" if self.stuck else "",
            # `labels=3,5`, as the inbox's and the reports' links write it
            "labels": ",".join(str(i) for i in self.labels),
        }
        return {name: str(value) for name, value in params.items() if value}

    def query_string(self) -> str:
        return urlencode(self.as_params())


class ReviewAnnotations(TypedDict):
    """What `review_messages` adds to each message."""

    since: datetime
    stuck: bool
    delivered_at: datetime | None
    read_at: datetime | None


if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

    # A type only (the annotations exist on the rows at run time; mypy needs to be told their names).
    ReviewedMessage: TypeAlias = WithAnnotations[Message, ReviewAnnotations]


def review_messages(
    *, user: User, filters: ReviewFilters, now: datetime | None = None
) -> QuerySet[ReviewedMessage]:
    """Outbound messages of the Applications the user reviews, filtered, with `since` (when the current
    status began), `stuck`, `delivered_at` and `read_at` (first report of each, from the history)."""
    cutoff = stuck_cutoff(now)
    first_report = MessageStatusChange.objects.filter(message=OuterRef("pk")).order_by("occurred_at", "id")
    qs = (
        Message.objects.filter(
            direction=Message.Direction.OUTBOUND, channel__application__in=review_applications(user)
        )
        .annotate(since=Coalesce("status_changed_at", "created_at"))
        .annotate(
            stuck=ExpressionWrapper(_stuck_q(cutoff), output_field=BooleanField()),
            # A `read` without a `delivered` report still proves delivery.
            delivered_at=Subquery(
                first_report.filter(status__in=("delivered", "read")).values("occurred_at")[:1]
            ),
            read_at=Subquery(first_report.filter(status="read").values("occurred_at")[:1]),
        )
    )
    if filters.application_id:
        qs = qs.filter(channel__application_id=filters.application_id)
    if filters.channel_id:
        qs = qs.filter(channel_id=filters.channel_id)
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.error_code:
        qs = qs.filter(error_code=filters.error_code)
    if filters.author_id:
        qs = qs.filter(author_id=filters.author_id)
    # Dates are days in the site's time zone, both ends included.
    if filters.date_from:
        qs = qs.filter(created_at__gte=_start_of(filters.date_from))
    if filters.date_to:
        qs = qs.filter(created_at__lt=_start_of(filters.date_to + timedelta(days=1)))
    if filters.stuck:
        qs = qs.filter(_stuck_q(cutoff))
    through = Conversation.labels.through.objects
    for label_id in filters.labels:
        # One EXISTS per label (every label must be on the conversation), as the inbox and the reports
        # filter: no join that would repeat a reply.
        qs = qs.filter(Exists(through.filter(conversation_id=OuterRef("conversation_id"), label_id=label_id)))
    return qs


def review_filters(*, user: User, params: Mapping[str, str]) -> ReviewFilters:
    """The filters of a query string, with only the labels the user may filter by: those of the
    Applications they review (of the chosen one, if one is). Another's label is left out, as the
    reports leave it out, so nothing says it exists and a report's link and the review agree."""
    filters = ReviewFilters.from_params(params)
    if not filters.labels:
        return filters
    applications = review_applications(user)
    if filters.application_id:
        applications = applications.filter(pk=filters.application_id)
    allowed = Label.objects.filter(pk__in=list(filters.labels), application__in=applications)
    return replace(filters, labels=tuple(allowed.order_by("pk").values_list("pk", flat=True)))


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


@dataclass(frozen=True)
class ReviewPage:
    rows: list[ReviewedMessage]
    next_before: int | None  # keyset cursor: the next page shows ids below this one


def review_page(*, messages: QuerySet[ReviewedMessage], before: int | None = None) -> ReviewPage:
    qs = messages.select_related("channel__application", "author", "conversation__contact").order_by("-id")
    if before:
        qs = qs.filter(pk__lt=before)
    rows = list(qs[: REVIEW_PAGE_SIZE + 1])
    more = len(rows) > REVIEW_PAGE_SIZE
    rows = rows[:REVIEW_PAGE_SIZE]
    return ReviewPage(rows=rows, next_before=rows[-1].pk if more else None)


def review_counts(*, messages: QuerySet[ReviewedMessage]) -> dict[str, int]:
    """Messages per status over the whole filtered set (every page), plus `total` and `stuck`."""
    by_status = dict(messages.order_by().values_list("status").annotate(n=Count("pk")))
    counts = {status: by_status.get(status, 0) for status in REVIEW_STATUSES}
    counts["total"] = sum(by_status.values())
    counts["stuck"] = messages.filter(stuck=True).count()
    return counts


@dataclass(frozen=True)
class Timing:
    count: int
    median: timedelta | None
    p90: timedelta | None


def timing_of(durations: list[float]) -> Timing:
    if not durations:
        return Timing(0, None, None)
    durations.sort()
    # Nearest-rank p90: a value that really occurred, and the max for fewer than 10 messages.
    p90 = durations[max(math.ceil(0.9 * len(durations)) - 1, 0)]
    return Timing(len(durations), timedelta(seconds=statistics.median(durations)), timedelta(seconds=p90))


def review_timings(*, messages: QuerySet[ReviewedMessage]) -> dict[str, Timing]:
    """Median and p90 time from the agent's send to delivered, and to read, over the filtered set."""
    to_delivered: list[float] = []
    to_read: list[float] = []
    for created, delivered, read in messages.order_by().values_list("created_at", "delivered_at", "read_at"):
        # Hub timestamps are whole seconds: clamp the rare report that appears to precede our send.
        if delivered:
            to_delivered.append(max((delivered - created).total_seconds(), 0.0))
        if read:
            to_read.append(max((read - created).total_seconds(), 0.0))
    return {"delivered": timing_of(to_delivered), "read": timing_of(to_read)}


def review_filter_choices(*, user: User) -> dict[str, object]:
    applications = list(review_applications(user).order_by("name"))
    channels = list(
        Channel.objects.filter(application__in=applications)
        .select_related("application")
        .order_by("application__name", "kind", "display_name")
    )
    members = Membership.objects.filter(application__in=applications).values("user_id")
    agents = list(
        get_user_model().objects.filter(pk__in=members).order_by("first_name", "last_name", "username")
    )
    error_codes = list(
        Message.objects.filter(direction=Message.Direction.OUTBOUND, channel__application__in=applications)
        .exclude(error_code="")
        .order_by("error_code")
        .values_list("error_code", flat=True)
        .distinct()[:200]
    )
    return {
        "applications": applications,
        "channels": channels,
        "agents": agents,
        "error_codes": error_codes,
        "statuses": REVIEW_STATUSES,
        "labels": labels_of(application_ids=[a.pk for a in applications]),
    }


def reviewable_ids(*, user: User, ids: Iterable[int]) -> set[int]:
    """Which of `ids` are outbound messages of Applications the user reviews."""
    return set(
        review_messages(user=user, filters=ReviewFilters())
        .filter(pk__in=list(ids))
        .values_list("pk", flat=True)
    )


def review_message_for(user: User, message_id: int | str) -> Message:
    """An outbound message of an Application the user reviews; else 404 (ids of others stay secret)."""
    try:
        return (
            review_messages(user=user, filters=ReviewFilters())
            .select_related("channel__application", "author", "conversation__contact")
            .get(pk=int(message_id))
        )
    except (Message.DoesNotExist, ValueError, TypeError):
        raise Http404("No such message.") from None
