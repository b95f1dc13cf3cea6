"""Reads the views, the websocket and the actions share (HackSoft-style selectors: typed, keyword-only).

Every selector starts from what the user may see (`channels_app.access`) before it filters or searches,
so a search term can never reach another tenant's rows.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import BooleanField, Count, ExpressionWrapper, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone

from channels_app.access import User, application_for, visible_application_ids, visible_applications
from channels_app.hub.capabilities import ChannelKind
from channels_app.hub.content import DELIVERY_REPORTING_KINDS
from channels_app.models import Application, Channel, Membership
from channels_app.selectors import can_use_settings
from conversations.models import Contact, Conversation, Message, MessageStatusChange, SendAttempt

# --- Inbox and thread ------------------------------------------------------------------------------

INBOX_PAGE_SIZE = 30
THREAD_PAGE_SIZE = 40
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# The row partial's every field, joined; the Application's encrypted Hub key is never decrypted for a row.
_ROW_RELATED = ("application", "channel", "contact", "assignee", "last_message", "last_message__author")
_ROW_DEFERRED = ("application__hub_api_key",)


def conversation_for(user: User, conversation_id: int | str) -> Conversation:
    """The conversation if the user may see its Application; else 404 (never 403: ids stay secret)."""
    try:
        return (
            Conversation.objects.select_related(
                "application", "channel", "contact", "assignee", "status_changed_by"
            )
            .defer(*_ROW_DEFERRED)
            .filter(application_id__in=visible_application_ids(user))
            .get(pk=int(conversation_id))
        )
    except (Conversation.DoesNotExist, ValueError, TypeError):
        raise Http404("No such conversation.") from None


def message_for(user: User, conversation_id: int | str, message_id: int | str) -> Message:
    """A message of a conversation the user may see; else 404."""
    conversation = conversation_for(user, conversation_id)
    try:
        return (
            Message.objects.select_related("author", "channel", "conversation")
            .filter(conversation=conversation)
            .get(pk=int(message_id))
        )
    except (Message.DoesNotExist, ValueError, TypeError):
        raise Http404("No such message.") from None


@dataclass(frozen=True)
class InboxFilters:
    """The inbox's filters, parsed once from a query string (the page's or the websocket's)."""

    application_id: int | None = None
    kind: str = ""
    status: str = ""  # "" = any status
    assigned: str = "all"  # all | mine | unassigned
    unread: bool = False
    q: str = ""

    ASSIGNED_CHOICES = (("all", "Everyone's"), ("mine", "Mine"), ("unassigned", "Unassigned"))

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> InboxFilters:
        def text(name: str) -> str:
            return str(params.get(name) or "").strip()

        application = text("application")
        kind = text("kind")
        status = text("status")
        assigned = text("assigned")
        return cls(
            application_id=int(application) if application.isdigit() else None,
            kind=kind if kind in {k.value for k in ChannelKind} else "",
            status=status if status in Conversation.Status.values else "",
            assigned=assigned if assigned in {"mine", "unassigned"} else "all",
            unread=text("unread") in {"1", "true", "on"},
            q=text("q")[:100],
        )

    def as_params(self) -> dict[str, str]:
        """Only what differs from the defaults, so URLs stay short."""
        params: dict[str, str] = {}
        if self.application_id:
            params["application"] = str(self.application_id)
        if self.kind:
            params["kind"] = self.kind
        if self.status:
            params["status"] = self.status
        if self.assigned != "all":
            params["assigned"] = self.assigned
        if self.unread:
            params["unread"] = "1"
        if self.q:
            params["q"] = self.q
        return params

    def as_query(self) -> str:
        return urlencode(self.as_params())

    @property
    def active(self) -> bool:
        return bool(self.as_params())

    def matches(self, conversation: Conversation, *, viewer_id: int | None) -> bool:
        """Whether the row belongs under these filters, from the row alone (no query); the search
        term, which needs the database, is left to `conversation_matches_search`."""
        return (
            (not self.application_id or conversation.application_id == self.application_id)
            and (not self.kind or conversation.channel.kind == self.kind)
            and (not self.status or conversation.status == self.status)
            and (self.assigned != "mine" or conversation.assignee_id == viewer_id)
            and (self.assigned != "unassigned" or conversation.assignee_id is None)
            and (not self.unread or conversation.unread_count > 0)
        )


def sort_key(conversation: Conversation) -> str:
    """The inbox order as one string that sorts like (last_activity_at, id): the keyset cursor and the
    `data-sort` the browser uses to place a row that moved. Fixed widths make string order numeric."""
    micros = (conversation.last_activity_at - _EPOCH) // timedelta(microseconds=1)
    return f"{micros:017d}-{conversation.pk:012d}"


def parse_sort_key(value: str | None) -> tuple[datetime, int] | None:
    try:
        micros, pk = (value or "").split("-", 1)
        return _EPOCH + timedelta(microseconds=int(micros)), int(pk)
    except (ValueError, OverflowError):
        return None


def message_sort_key(message_id: int) -> str:
    return f"{message_id:012d}"


def _rows() -> QuerySet[Conversation]:
    return Conversation.objects.select_related(*_ROW_RELATED).defer(*_ROW_DEFERRED)


def _matching_search(qs: QuerySet[Conversation], term: str) -> QuerySet[Conversation]:
    """Conversations whose contact's name or number, or any message's preview or text, holds `term`.

    One set of ids, found from the trigram indexes (PostgreSQL, migration 0002) and joined to the
    inbox: PostgreSQL starts from the few matches. Two OR-ed IN-subqueries instead made it walk the whole
    inbox index and probe each row (at 1M messages: 45 ms for a reference, now 12 ms). Needs no scoping
    of its own: the outer query keeps only visible Applications' rows.
    """
    matching_contacts = Contact.objects.filter(
        Q(display_name__icontains=term) | Q(external_id__icontains=term)
    ).values("pk")
    by_contact = Conversation.objects.filter(contact__in=matching_contacts).values("id")
    # Preview covers every content type; content.text also finds words past the preview's cut.
    by_message = Message.objects.filter(Q(preview__icontains=term) | Q(content__text__icontains=term)).values(
        "conversation_id"
    )
    return qs.filter(pk__in=by_message.union(by_contact))


def inbox_conversations(*, user: User, filters: InboxFilters) -> QuerySet[Conversation]:
    """The conversations this user may see that match `filters`, newest activity first.

    Scoped to the visible Applications first, as a list of ids: a subquery there kept PostgreSQL off the
    `inbox_recent` index (a scan and sort of every conversation). The row partial's every field is
    joined here, so a page costs the same number of queries whatever its length.
    """
    qs = _rows().filter(application_id__in=visible_application_ids(user))
    if filters.application_id:
        qs = qs.filter(application_id=filters.application_id)
    if filters.kind:
        qs = qs.filter(channel__kind=filters.kind)
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.assigned == "mine":
        qs = qs.filter(assignee_id=user.pk)
    elif filters.assigned == "unassigned":
        qs = qs.filter(assignee__isnull=True)
    if filters.unread:
        qs = qs.filter(unread_count__gt=0)
    if filters.q:
        qs = _matching_search(qs, filters.q)
    return qs.order_by("-last_activity_at", "-id")


def live_row(*, conversation_id: int) -> Conversation | None:
    """A row for a live event, read once per server process for every tab (live.py): not scoped to a
    user, so each tab checks its own access and filters (`InboxFilters.matches`) before it shows it."""
    return _rows().filter(pk=conversation_id).first()


def conversation_matches_search(*, conversation_id: int, term: str) -> bool:
    return _matching_search(Conversation.objects.filter(pk=conversation_id), term).exists()


@dataclass
class InboxPage:
    rows: list[Conversation]
    next_cursor: str | None  # the `before` of the next page, None at the end


def inbox_page(
    *, user: User, filters: InboxFilters, before: str | None = None, limit: int = INBOX_PAGE_SIZE
) -> InboxPage:
    """One page of the inbox, keyset-paginated on (last_activity_at, id): stable while rows move up."""
    qs = inbox_conversations(user=user, filters=filters)
    cursor = parse_sort_key(before)
    if cursor:
        at, pk = cursor
        qs = qs.filter(Q(last_activity_at__lt=at) | Q(last_activity_at=at, id__lt=pk))
    rows = list(qs[: limit + 1])
    has_more = len(rows) > limit
    rows = rows[:limit]
    return InboxPage(rows=rows, next_cursor=sort_key(rows[-1]) if has_more and rows else None)


def inbox_row(*, user: User, filters: InboxFilters, conversation_id: int) -> Conversation | None:
    """One row as the inbox would show it under `filters`, or None when it does not belong there."""
    return inbox_conversations(user=user, filters=filters).filter(pk=conversation_id).first()


def filter_choices(*, user: User) -> dict[str, object]:
    """What the filter bar offers: the visible Applications and the channel kinds."""
    return {
        "applications": list(visible_applications(user).only("id", "name")),
        "kinds": [(k.value, k.label) for k in ChannelKind],
        "statuses": Conversation.Status.choices,
        "assigned_choices": InboxFilters.ASSIGNED_CHOICES,
    }


def filters_for(*, user: User, params: Mapping[str, str]) -> InboxFilters:
    """Parse the filters; an Application filter the user may not see is a 404 like any other page."""
    filters = InboxFilters.from_params(params)
    if filters.application_id:
        application_for(user, filters.application_id)
    return filters


def _messages() -> QuerySet[Message]:
    return Message.objects.select_related("author", "conversation__contact")


@dataclass
class ThreadPage:
    messages: list[Message]
    has_older: bool

    @property
    def oldest_id(self) -> int | None:
        return self.messages[0].pk if self.messages else None


def thread_page(
    *,
    conversation: Conversation,
    before_id: int | None = None,
    after_id: int | None = None,
    limit: int = THREAD_PAGE_SIZE,
) -> ThreadPage:
    """Messages in id order, keyset on the id both ways: the newest `limit`, those before `before_id`
    (scrolling up) or those after `after_id` (catching up), oldest first."""
    # The ids first, from the `thread_keyset` index alone; then those rows. Asked for whole rows at
    # once, PostgreSQL walked the primary key backwards instead, filtering on the conversation: at the
    # far end of a long thread, through most of the table (350 ms at 1M messages).
    ids = Message.objects.filter(conversation=conversation)
    if after_id is not None:
        page = list(ids.filter(id__gt=after_id).order_by("id").values_list("id", flat=True)[:limit])
        has_older = True
    else:
        if before_id is not None:
            ids = ids.filter(id__lt=before_id)
        page = list(ids.order_by("-id").values_list("id", flat=True)[: limit + 1])
        has_older = len(page) > limit
        page = page[:limit]
    messages = list(_messages().filter(pk__in=page).order_by("id")) if page else []
    attach_choices(messages)
    return ThreadPage(messages=messages, has_older=has_older)


def attach_choices(messages: Iterable[Message]) -> None:
    """Mark which option of an agent's buttons/list the customer picked, on both messages.

    Sets `message.chosen_option_id` on the prompt and `message.prompt_id` on the answer; works within
    the given (id-ordered) messages, so it costs no query.
    """
    open_prompts: list[Message] = []
    for message in messages:
        if message.direction == Message.Direction.OUTBOUND and option_ids(message.content):
            open_prompts.append(message)
        answer = answered_option_id(message)
        if answer:
            for prompt in reversed(open_prompts):
                if answer in option_ids(prompt.content):
                    prompt.chosen_option_id = answer
                    message.prompt_id = prompt.pk
                    break


def option_ids(content: object) -> list[str]:
    """The ids of the buttons / list rows an outbound interactive message offers."""
    if not isinstance(content, dict):
        return []
    interactive = content.get("interactive")
    if not isinstance(interactive, dict):
        return []
    action = interactive.get("action") if isinstance(interactive.get("action"), dict) else {}
    ids: list[str] = []
    for button in action.get("buttons") or []:
        reply = button.get("reply") if isinstance(button, dict) else None
        if isinstance(reply, dict) and reply.get("id"):
            ids.append(str(reply["id"]))
    for section in action.get("sections") or []:
        for row in (section.get("rows") or []) if isinstance(section, dict) else []:
            if isinstance(row, dict) and row.get("id"):
                ids.append(str(row["id"]))
    return ids


def answered_option_id(message: Message) -> str:
    """The option id an inbound button/list reply carries, or ""."""
    content = message.content
    if message.direction != Message.Direction.INBOUND or not isinstance(content, dict):
        return ""
    interactive = content.get("interactive")
    if not isinstance(interactive, dict):
        return ""
    for key in ("button_reply", "list_reply"):
        reply = interactive.get(key)
        if isinstance(reply, dict) and reply.get("id"):
            return str(reply["id"])
    return ""


def prompt_answered_by(message: Message) -> Message | None:
    """For a live inbound answer: the agent's prompt it answers (among the recent ones), marked chosen."""
    answer = answered_option_id(message)
    if not answer:
        return None
    recent = list(
        _messages()
        .filter(
            conversation_id=message.conversation_id,
            direction=Message.Direction.OUTBOUND,
            id__lt=message.pk,
            content__has_key="interactive",
        )
        .order_by("-id")[:20]
    )
    for prompt in recent:
        if answer in option_ids(prompt.content):
            prompt.chosen_option_id = answer
            message.prompt_id = prompt.pk
            return prompt
    return None


def message_with_context(*, message_id: int, conversation_id: int) -> list[Message]:
    """A message for a live update, plus the prompt it answers when it is a button/list reply."""
    message = _messages().filter(pk=message_id, conversation_id=conversation_id).first()
    if message is None:
        return []
    prompt = prompt_answered_by(message)
    return [prompt, message] if prompt else [message]


@dataclass
class ThreadCatchUp:
    messages: list[Message]
    complete: bool  # False: too much happened, the browser should take a fresh thread instead


def thread_changes(
    *, conversation: Conversation, after_id: int, since: datetime, limit: int = 200
) -> ThreadCatchUp:
    """Messages a reconnecting browser may have missed: newer than the newest it has, created or
    re-statused since `since` (ids are not committed in order, statuses change old messages)."""
    changed = (
        Q(id__gt=after_id)
        | Q(created_at__gte=since)
        | Q(
            pk__in=MessageStatusChange.objects.filter(
                message__conversation=conversation, received_at__gte=since
            ).values("message_id")
        )
        | Q(
            pk__in=SendAttempt.objects.filter(message__conversation=conversation)
            .filter(Q(started_at__gte=since) | Q(finished_at__gte=since))
            .values("message_id")
        )
    )
    messages = list(_messages().filter(conversation=conversation).filter(changed).order_by("id")[: limit + 1])
    if len(messages) > limit:
        return ThreadCatchUp(messages=[], complete=False)
    # Prompts answered by a message in the batch are re-rendered too, so their chosen option shows. Those
    # in the batch pair up without a query; only an answer whose prompt is older costs one.
    attach_choices(messages)
    in_batch = {m.pk for m in messages}
    prompts = [
        p
        for m in messages
        if getattr(m, "prompt_id", None) is None and (p := prompt_answered_by(m)) and p.pk not in in_batch
    ]
    batch = sorted([*messages, *prompts], key=lambda m: m.pk)
    attach_choices(batch)
    return ThreadCatchUp(messages=batch, complete=True)


def inbox_changes(
    *, user: User, filters: InboxFilters, since: datetime, loaded_ids: list[int], limit: int = 200
) -> tuple[list[Conversation], set[int], bool]:
    """Rows a reconnecting browser must refresh: those with activity since `since` and those it shows.

    Returns (rows to upsert, loaded ids that no longer belong to the list, complete). `complete` is
    False when more than `limit` rows moved: the browser then takes a fresh first page instead.
    """
    qs = inbox_conversations(user=user, filters=filters)
    recent = list(qs.filter(last_activity_at__gte=since)[: limit + 1])
    if len(recent) > limit:
        return [], set(), False
    shown = list(qs.filter(pk__in=loaded_ids)) if loaded_ids else []
    rows = {c.pk: c for c in [*recent, *shown]}
    gone = set(loaded_ids) - set(rows)
    return sorted(rows.values(), key=sort_key, reverse=True), gone, True


def message_timeline(*, message: Message) -> dict[str, list]:
    """Every status report and send attempt of a reply, oldest first (the bubble's "details")."""
    return {
        "changes": list(message.status_changes.order_by("received_at", "id")),
        "attempts": list(message.attempts.order_by("number")),
    }


def assignable_agents(*, application: Application) -> list[AbstractBaseUser]:
    """Active users who may answer this Application (members of it)."""
    members = Membership.objects.filter(application=application).values("user_id")
    return list(
        get_user_model()
        .objects.filter(is_active=True, pk__in=members)
        .order_by("first_name", "last_name", "username")
    )


# --- Delivery review (leads and admins) -----------------------------------------------------------

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
        }
        return {name: str(value) for name, value in params.items() if value}

    def query_string(self) -> str:
        return urlencode(self.as_params())


def review_messages(*, user: User, filters: ReviewFilters, now: datetime | None = None) -> QuerySet[Message]:
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
    return qs


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


@dataclass(frozen=True)
class ReviewPage:
    rows: list[Message]
    next_before: int | None  # keyset cursor: the next page shows ids below this one


def review_page(*, messages: QuerySet[Message], before: int | None = None) -> ReviewPage:
    qs = messages.select_related("channel__application", "author", "conversation__contact").order_by("-id")
    if before:
        qs = qs.filter(pk__lt=before)
    rows = list(qs[: REVIEW_PAGE_SIZE + 1])
    more = len(rows) > REVIEW_PAGE_SIZE
    rows = rows[:REVIEW_PAGE_SIZE]
    return ReviewPage(rows=rows, next_before=rows[-1].pk if more else None)


def review_counts(*, messages: QuerySet[Message]) -> dict[str, int]:
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


def _timing(durations: list[float]) -> Timing:
    if not durations:
        return Timing(0, None, None)
    durations.sort()
    # Nearest-rank p90: a value that really occurred, and the max for fewer than 10 messages.
    p90 = durations[max(math.ceil(0.9 * len(durations)) - 1, 0)]
    return Timing(len(durations), timedelta(seconds=statistics.median(durations)), timedelta(seconds=p90))


def review_timings(*, messages: QuerySet[Message]) -> dict[str, Timing]:
    """Median and p90 time from the agent's send to delivered, and to read, over the filtered set."""
    to_delivered: list[float] = []
    to_read: list[float] = []
    for created, delivered, read in messages.order_by().values_list("created_at", "delivered_at", "read_at"):
        # Hub timestamps are whole seconds: clamp the rare report that appears to precede our send.
        if delivered:
            to_delivered.append(max((delivered - created).total_seconds(), 0.0))
        if read:
            to_read.append(max((read - created).total_seconds(), 0.0))
    return {"delivered": _timing(to_delivered), "read": _timing(to_read)}


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


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    title: str
    detail: str = ""
    tone: str = ""  # "" | ok | warn | bad (the pill colours)


def review_timeline(*, message: Message) -> list[TimelineEntry]:
    """A reply's life, oldest first: stored, every attempt (start and outcome), every status report."""
    author = (message.author.get_full_name() or message.author.get_username()) if message.author else "—"
    entries = [TimelineEntry(message.created_at, "Stored as pending", f"by {author}")]
    for attempt in message.attempts.order_by("number"):
        entries.append(
            TimelineEntry(
                attempt.started_at,
                f"Attempt {attempt.number} started" + (" (manual retry)" if attempt.manual else ""),
            )
        )
        if attempt.finished_at:
            detail = " · ".join(
                part
                for part in (
                    f"HTTP {attempt.http_status}" if attempt.http_status else "",
                    attempt.error_code,
                    attempt.error_message,
                    f"request {attempt.hub_request_id}" if attempt.hub_request_id else "",
                )
                if part
            )
            tone = {"accepted": "ok", "transient": "warn"}.get(attempt.outcome, "bad")
            entries.append(
                TimelineEntry(
                    attempt.finished_at,
                    f"Attempt {attempt.number}: {attempt.get_outcome_display()}",
                    detail,
                    tone,
                )
            )
    actors = {
        change.pk: (change.raw or {}).get("actor_id")
        for change in message.status_changes.all()
        if change.source == "retry"
    }
    names = {
        user.pk: user.get_full_name() or user.get_username()
        for user in get_user_model().objects.filter(pk__in=[a for a in actors.values() if a])
    }
    for change in message.status_changes.order_by("occurred_at", "id"):
        if change.source == "retry":
            title, detail = "Retry requested", f"by {names.get(actors.get(change.pk), 'someone')}"
        else:
            title = f"Status {change.status}" + ("" if change.applied else " (late or repeated: not applied)")
            detail = " · ".join(
                p for p in (f"from {change.source}", change.error_code, change.error_message) if p
            )
        tone = "bad" if change.status == Message.Status.FAILED else ("ok" if change.applied else "")
        entries.append(TimelineEntry(change.occurred_at, title, detail, tone))
    return sorted(entries, key=lambda entry: entry.at)
