"""The inbox list: its filters, its rows (a page, one row, a live row), search and a reconnect's resync.

Every selector starts from what the user may see (`channels_app.access`) before it filters or searches,
so a search term can never reach another tenant's rows.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from channels_app.access import User, application_for, visible_application_ids, visible_applications
from channels_app.hub.capabilities import ChannelKind
from channels_app.models import Application, Channel, Membership
from channels_app.roster import roster_of
from channels_app.selectors import channel_kinds, remember_settings_access
from conversations.models import Contact, Conversation, ConversationCycle, Label, Message

INBOX_PAGE_SIZE = 30
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# The row partial's every field; the Application's encrypted Hub key is never decrypted for a row. Also
# what a cached row is keyed by (conversations/templatetags/fragments.py): the partial reads nothing else.
ROW_RELATED = (
    *("application", "channel", "contact", "assignee", "last_message", "last_message__author"),
    "open_cycle",  # the first-response target's flag
)
ROW_DEFERRED = ("application__hub_api_key",)
# A list joins the four that differ per row, and reads the Application's name and the channel's kind from
# those two small tables by id (two trivial queries): with all six joined, PostgreSQL spent ten times
# longer planning the list than running it (4.3 ms against 0.4 ms at 1M messages; 1.0 ms with four joins).
_LIST_JOINED = ("contact", "assignee", "last_message", "last_message__author")
# All a list row loads: what inbox_row.html shows, and the filters' fields (`InboxFilters.matches`). Not
# the users' password hashes, the messages' sending bookkeeping nor the channels' settings: a third of
# the list's Python time at 30 rows. A field the partial read beyond these would cost a query per row,
# which the inbox's query-count tests catch.
ROW_FIELDS = (
    *("application_id", "channel_id", "contact_id", "assignee_id", "last_message_id", "open_cycle_id"),
    *("status", "unread_count", "last_activity_at"),
    *("contact__display_name", "contact__external_id"),
    *("assignee__username", "assignee__first_name", "assignee__last_name"),
    *("last_message__direction", "last_message__status", "last_message__author_id"),
    *("last_message__preview", "last_message__content"),  # the content: a preview for rows stored without one
    *(
        "last_message__author__username",
        "last_message__author__first_name",
        "last_message__author__last_name",
    ),
)


CYCLE_FIELDS = ("id", "customer_at", "first_response_due_at", "first_response_at")
# The row's label chips, one query for a whole page (and what `InboxFilters.matches` checks).
ROW_LABELS = Prefetch("labels", queryset=Label.objects.only("id", "name", "colour", "application_id"))


def _list_rows(*, prefetch: bool = True) -> QuerySet[Conversation]:
    """`prefetch`: each row's Application, channel and labels with the rows (else the caller attaches
    them: `_attach_parents`, `_attach_labels`)."""
    qs = Conversation.objects.select_related(*_LIST_JOINED).only(*ROW_FIELDS)
    if prefetch:
        qs = qs.prefetch_related(
            Prefetch("application", queryset=Application.objects.only("id", "name")),
            Prefetch("channel", queryset=Channel.objects.only("id", "kind")),
            ROW_LABELS,
        )
    # Only for rows with an open cycle (none: no query); what the row's target flag reads.
    return qs.prefetch_related(Prefetch("open_cycle", queryset=ConversationCycle.objects.only(*CYCLE_FIELDS)))


def _attach_parents(rows: list[Conversation], applications: list[Application]) -> None:
    """Each row's Application (id and name) from the page's own list of the visible ones, and its
    channel's kind from the process's memory (`channel_kinds`): what the two prefetches read, without
    their two queries. Built as those load them (only these fields, one object per parent), so a row
    drawn once (templatetags/fragments.py) has the same key either way."""
    if not rows:
        return
    db = rows[0]._state.db
    names = {a.pk: a.name for a in applications}
    parents = {
        pk: Application.from_db(db, ["id", "name"], (pk, names[pk]))
        for pk in {r.application_id for r in rows}
    }
    kinds = channel_kinds(row.channel_id for row in rows)
    channels = {pk: Channel.from_db(db, ["id", "kind"], (pk, kind)) for pk, kind in kinds.items()}
    for row in rows:
        Conversation.application.field.set_cached_value(row, parents[row.application_id])
        Conversation.channel.field.set_cached_value(row, channels[row.channel_id])


def _attach_labels(rows: list[Conversation], *, also: int | None = None) -> dict[int, list[Label]]:
    """Each row's labels, where `conversation.labels.all()` finds them, as ROW_LABELS' prefetch leaves
    them: one query for the page. Django's own prefetch of a many-to-many builds a manager and filters
    a queryset for every row (a sixth of a 30-row inbox page's time). `also`: a conversation whose
    labels the same query reads, whether the rows hold it or not (the open thread's header). Returns
    every conversation's labels by id."""
    found: dict[int, list[Label]] = {row.pk: [] for row in rows}
    if also is not None:
        found.setdefault(also, [])
    if not found:
        return found
    db = Conversation.objects.db
    links = (
        Conversation.labels.through.objects.filter(conversation_id__in=list(found))
        .order_by("label__name", "label__id")  # Label's own ordering
        .values_list("conversation_id", "label_id", "label__application_id", "label__name", "label__colour")
    )
    for conversation_id, *label in links:
        found[conversation_id].append(Label.from_db(db, ["id", "application_id", "name", "colour"], label))
    for row in rows:
        remember_labels(row, found[row.pk])
    return found


def remember_labels(conversation: Conversation, labels: list[Label]) -> None:
    """Where `conversation.labels.all()` (and `labels_of_row`) find them from now on, as a prefetch
    leaves them: these labels, read already."""
    cached: Any = QuerySet(model=Label, using=conversation._state.db)  # Django's private prefetch fields
    cached._result_cache = labels
    cached._prefetch_done = True
    known = getattr(conversation, "_prefetched_objects_cache", {})
    conversation.__dict__["_prefetched_objects_cache"] = {**known, "labels": cached}


def labels_of_row(conversation: Conversation) -> list[Label]:
    """A row's labels: the prefetched ones as they are (no manager built per row, as
    `conversation.labels.all()` does), else `labels.all()`."""
    cached = getattr(conversation, "_prefetched_objects_cache", {}).get("labels")
    return list(cached if cached is not None else conversation.labels.all())


@dataclass(frozen=True)
class InboxFilters:
    """The inbox's filters, parsed once from a query string (the page's or the websocket's)."""

    application_id: int | None = None
    kind: str = ""
    # The default view is the open conversations, so the list shrinks as an agent works; "all": any.
    status: str = "open"
    assigned: str = "all"  # all | mine | unassigned: the view tabs
    unread: bool = False
    q: str = ""
    labels: tuple[int, ...] = ()  # conversations with every one of these labels

    ASSIGNED_CHOICES = (
        ("all", pgettext_lazy("assignee filter", "Everyone's")),
        ("mine", pgettext_lazy("assignee filter", "Mine")),
        ("unassigned", _("Unassigned")),
    )

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
            status=status if status in STATUS_CHOICES else DEFAULT_STATUS,
            assigned=assigned if assigned in {"mine", "unassigned"} else "all",
            unread=text("unread") in {"1", "true", "on"},
            q=text("q")[:100],
            labels=label_ids_of(params),
        )

    def as_params(self) -> dict[str, str]:
        """Only what differs from the defaults, so URLs stay short."""
        params: dict[str, str] = {}
        if self.application_id:
            params["application"] = str(self.application_id)
        if self.kind:
            params["kind"] = self.kind
        if self.status != DEFAULT_STATUS:
            params["status"] = self.status
        if self.assigned != "all":
            params["assigned"] = self.assigned
        if self.unread:
            params["unread"] = "1"
        if self.q:
            params["q"] = self.q
        if self.labels:
            params["labels"] = ",".join(str(i) for i in self.labels)
        return params

    def as_query(self) -> str:
        return urlencode(self.as_params())

    @property
    def active(self) -> bool:
        return bool(self.as_params())

    @property
    def is_default(self) -> bool:
        """Only the view tab may differ: the "clear filters" link shows otherwise."""
        return not {k: v for k, v in self.as_params().items() if k != "assigned"}

    def matches(
        self, conversation: Conversation, *, viewer_id: int | None, keep_id: int | None = None
    ) -> bool:
        """Whether the row belongs under these filters, from the row alone (no query); the search
        term, which needs the database, is left to `conversation_matches_search`. `keep_id`: the
        conversation the tab has open, which stays in the Unread view once read (until it reloads)."""
        return (
            (not self.application_id or conversation.application_id == self.application_id)
            and (not self.kind or conversation.channel.kind == self.kind)
            and (self.status == "all" or conversation.status == self.status)
            and (self.assigned != "mine" or conversation.assignee_id == viewer_id)
            and (self.assigned != "unassigned" or conversation.assignee_id is None)
            and (not self.unread or conversation.unread_count > 0 or conversation.pk == keep_id)
            and (not self.labels or set(self.labels) <= {label.pk for label in labels_of_row(conversation)})
        )


def label_ids_of(params: Mapping[str, str]) -> tuple[int, ...]:
    """`labels=3,5` (a bookmarkable URL), or the filter form's repeated `label=3&label=5` (the inbox's and
    the reports' label filter)."""
    values: list[str] = str(params.get("labels") or "").split(",")
    getlist = getattr(params, "getlist", None)
    if getlist is not None:
        values += getlist("label")
    ids = sorted({int(v) for v in (v.strip() for v in values) if v.isdigit() and len(v) < 10})
    return tuple(ids[:10])


DEFAULT_STATUS = "open"
# The status selector: each status, or "all" (any).
STATUS_CHOICES = (*Conversation.Status.values, "all")


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


def _rows() -> QuerySet[Conversation]:
    return Conversation.objects.select_related(*ROW_RELATED).defer(*ROW_DEFERRED).prefetch_related(ROW_LABELS)


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


def visible_application_list(user: User) -> list[Application]:
    """The Applications this user may see (id and name), read once per page and handed to every
    selector of that page as `application_ids` (each would otherwise ask again: four queries a page).
    The same read tells whether the user administers any of them: the nav's "Settings" and "Delivery"
    links (`can_use_settings`) need no query of their own then; and the versions under which the
    process keeps their members and labels (`page_labels`, thread.py `page_members`)."""
    applications = visible_applications(user).only("id", "name", "roster_version")
    if not user.is_authenticated or user.is_superuser:
        return list(applications)
    administered = Membership.objects.filter(
        user=user, application=OuterRef("pk"), role=Membership.Role.ADMIN
    )
    found: list[Application] = list(applications.annotate(administered=Exists(administered)))
    remember_settings_access(user, administers_any=any(getattr(a, "administered") for a in found))  # noqa: B009
    return found


def inbox_conversations(
    *,
    user: User,
    filters: InboxFilters,
    application_ids: Collection[int] | None = None,
    keep_id: int | None = None,
    prefetch: bool = True,
) -> QuerySet[Conversation]:
    """The conversations this user may see that match `filters`, newest activity first.

    Scoped to the visible Applications first, as a list of ids: a subquery there kept PostgreSQL off the
    `inbox_recent` index (a scan and sort of every conversation). The row partial's every field is
    joined or prefetched here (`_list_rows`), so a page costs the same number of queries whatever its
    length. `application_ids`: the user's visible Applications, when the caller read them in this
    request already.
    """
    if application_ids is None:
        application_ids = visible_application_ids(user)
    qs = _list_rows(prefetch=prefetch).filter(application_id__in=list(application_ids))
    if filters.application_id:
        qs = qs.filter(application_id=filters.application_id)
    if filters.kind:
        qs = qs.filter(channel__kind=filters.kind)
    if filters.status != "all":
        qs = qs.filter(status=filters.status)
    if filters.assigned == "mine":
        qs = qs.filter(assignee_id=user.pk)
    elif filters.assigned == "unassigned":
        qs = qs.filter(assignee__isnull=True)
    if filters.unread:
        # The open thread stays in the Unread view once read (InboxFilters.matches).
        qs = qs.filter(Q(unread_count__gt=0) | Q(pk=keep_id) if keep_id else Q(unread_count__gt=0))
    if filters.q:
        qs = _matching_search(qs, filters.q)
    through = Conversation.labels.through.objects
    for label_id in filters.labels:
        # One EXISTS per label (every label must be on the row): no join that would repeat rows.
        qs = qs.filter(Exists(through.filter(conversation_id=OuterRef("pk"), label_id=label_id)))
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
    # The open thread's labels (`keep_id`), read with the rows' when the page read those itself.
    open_labels: list[Label] | None = None


def inbox_page(
    *,
    user: User,
    filters: InboxFilters,
    before: str | None = None,
    limit: int = INBOX_PAGE_SIZE,
    application_ids: Collection[int] | None = None,
    keep_id: int | None = None,
    applications: list[Application] | None = None,
) -> InboxPage:
    """One page of the inbox, keyset-paginated on (last_activity_at, id): stable while rows move up.
    `keep_id`: the open conversation, kept in the Unread view once read (its labels come with the
    rows'). `applications`: the visible ones (`visible_application_list`), when the caller read them:
    the rows take their names from it."""
    if applications is not None:
        application_ids = [a.pk for a in applications]
    qs = inbox_conversations(
        user=user,
        filters=filters,
        application_ids=application_ids,
        keep_id=keep_id,
        prefetch=applications is None,
    )
    cursor = parse_sort_key(before)
    if cursor:
        at, pk = cursor
        qs = qs.filter(Q(last_activity_at__lt=at) | Q(last_activity_at=at, id__lt=pk))
    rows = list(qs[: limit + 1])
    has_more = len(rows) > limit
    rows = rows[:limit]
    open_labels = None
    if applications is not None:
        _attach_parents(rows, applications)
        labels = _attach_labels(rows, also=keep_id)
        open_labels = labels[keep_id] if keep_id else None
    return InboxPage(
        rows=rows, next_cursor=sort_key(rows[-1]) if has_more and rows else None, open_labels=open_labels
    )


def inbox_row(
    *, user: User, filters: InboxFilters, conversation_id: int, keep_id: int | None = None
) -> Conversation | None:
    """One row as the inbox would show it under `filters`, or None when it does not belong there."""
    qs = inbox_conversations(user=user, filters=filters, keep_id=keep_id)
    return qs.filter(pk=conversation_id).first()


def filter_choices(
    *, user: User, applications: list[Application] | None = None, labels: list[Label] | None = None
) -> dict[str, object]:
    """What the filter bar offers: the visible Applications (`visible_application_list`, when the caller
    has it), the channel kinds and the Applications' labels (`labels_of`, when the caller has them)."""
    if applications is None:
        applications = visible_application_list(user)
    if labels is None:
        labels = page_labels(applications)
    return {
        "applications": applications,
        "kinds": [(k.value, k.label) for k in ChannelKind],
        "statuses": [*Conversation.Status.choices, ("all", _("All statuses"))],
        "assigned_choices": InboxFilters.ASSIGNED_CHOICES,
        "labels": labels,
    }


def page_labels(applications: list[Application]) -> list[Label]:
    """`labels_of` these Applications (`visible_application_list`'s), as this process read them at the
    Applications' roster versions (channels_app/roster.py): no query until one of them changes."""
    return roster_of("labels", applications, lambda: labels_of(application_ids=[a.pk for a in applications]))


def labels_of(*, application_ids: Collection[int]) -> list[Label]:
    """The labels of these Applications, by name (the filter bar, a thread header's label menu)."""
    labels = Label.objects.filter(application_id__in=list(application_ids)).select_related("application")
    # Kept by each process (`page_labels`): without the Application's Hub API key, decrypted for nothing.
    return list(labels.defer(*ROW_DEFERRED))


def filters_for(
    *, user: User, params: Mapping[str, str], application_ids: Collection[int] | None = None
) -> InboxFilters:
    """Parse the filters; an Application filter the user may not see is a 404 like any other page."""
    filters = InboxFilters.from_params(params)
    if filters.application_id:
        if application_ids is None:
            application_for(user, filters.application_id)
        elif filters.application_id not in application_ids:
            raise Http404("No such application.")
    return filters


def inbox_changes(
    *,
    user: User,
    filters: InboxFilters,
    since: datetime,
    loaded_ids: list[int],
    limit: int = 200,
    keep_id: int | None = None,
) -> tuple[list[Conversation], set[int], bool]:
    """Rows a reconnecting browser must refresh: those with activity since `since` and those it shows.

    Returns (rows to upsert, loaded ids that no longer belong to the list, complete). `complete` is
    False when more than `limit` rows moved: the browser then takes a fresh first page instead.
    """
    qs = inbox_conversations(user=user, filters=filters, keep_id=keep_id)
    recent = list(qs.filter(last_activity_at__gte=since)[: limit + 1])
    if len(recent) > limit:
        return [], set(), False
    shown = list(qs.filter(pk__in=loaded_ids)) if loaded_ids else []
    rows = {c.pk: c for c in [*recent, *shown]}
    gone = set(loaded_ids) - set(rows)
    return sorted(rows.values(), key=sort_key, reverse=True), gone, True


# --- The view tabs' counts -------------------------------------------------------------------------

TABS = ("mine", "unassigned", "all")
# One count per (Application, channel kind, status, assignee), with how many of those have unread
# messages: a handful of groups however many conversations there are, from which every tab of every
# user's view, and its unread number, is summed in memory.
CountGroups = list[tuple[int, str, str, int | None, int, int]]


# Per process: (Applications, status) → (monotonic time counted, groups). See `recent_count_groups`.
_recent_counts: dict[tuple[frozenset[int], str | None], tuple[float, CountGroups]] = {}
_RECENT_COUNTS_KEPT = 1000


def recent_count_groups(*, application_ids: Collection[int], status: str | None = None) -> CountGroups:
    """`count_groups` as this process counted them for a page at most TAB_COUNTS_CACHE_SECONDS ago: what a
    page draws in its tabs before its websocket's sync counts them again (live.py `render_sync`). Under a
    team's page loads the grouped query, which reads every open conversation, runs about once a second
    per process instead of once per page."""
    ttl = settings.TAB_COUNTS_CACHE_SECONDS
    if ttl <= 0:
        return count_groups(application_ids=application_ids, status=status)
    key = (frozenset(application_ids), status)
    now = time.monotonic()
    known = _recent_counts.get(key)
    if known is not None and now - known[0] < ttl:
        return known[1]
    groups = count_groups(application_ids=application_ids, status=status)
    if len(_recent_counts) >= _RECENT_COUNTS_KEPT:
        _recent_counts.clear()  # many users' Application sets: start again rather than grow
    _recent_counts[key] = (now, groups)
    return groups


def count_groups(*, application_ids: Collection[int], status: str | None = None) -> CountGroups:
    """The conversations of these Applications counted by what the tabs and filters tell apart, and the
    unread ones among them: one grouped query, whose result size does not grow with the number of
    conversations. It groups by channel (an index-only scan of `tab_counts`, which carries
    `unread_count` for the second count: no join, no heap) and names each channel's kind afterwards.

    `status`: only the conversations in it, for one page whose tabs all count that status (the tabs
    never count across statuses): the scan then reads that status's stretch of the index, not the
    conversations resolved over the years. A process's live recount (live_counts.py) counts them all,
    for every tab it serves."""
    if not application_ids:
        return []
    ids = list(application_ids)
    conversations = Conversation.objects.filter(application_id__in=ids)
    if status is not None:
        conversations = conversations.filter(status=status)
    rows = (
        conversations.values_list("application_id", "channel_id", "status", "assignee_id")
        # count(*), not count(id): the id is not in the index. Django refuses a filter on count(*);
        # unread_count is never null and in the index, so counting it is the same and stays index-only.
        .annotate(n=Count("*"), unread=Count("unread_count", filter=Q(unread_count__gt=0)))
        .order_by()
    )
    groups = list(rows)
    kinds = channel_kinds(row[1] for row in groups)
    return [
        (app, kinds[channel], status, assignee, n, unread)
        for app, channel, status, assignee, n, unread in groups
    ]


TAB_LABELS = {
    "mine": pgettext_lazy("view tab", "Mine"),
    "unassigned": pgettext_lazy("view tab", "Unassigned"),
    "all": pgettext_lazy("view tab", "All"),
}


@dataclass(frozen=True)
class TabCounts:
    """What the view tabs show: each tab's count, and how many conversations of the current tab have
    unread messages (the page title's and the favicon's number, static/js/triage.js)."""

    tabs: dict[str, int]
    unread: int
    counted_as: str = ""  # what they were counted under (`counted_as`)


def view_tabs(counts: TabCounts) -> list[tuple[str, str, int]]:
    """(tab, label, count) in the order the tabs show."""
    return [(tab, str(TAB_LABELS[tab]), counts.tabs[tab]) for tab in TABS]


def tab_counts(
    groups: CountGroups, *, filters: InboxFilters, viewer_id: int, application_ids: Collection[int]
) -> TabCounts:
    """Each view tab's count under the tab's status, Application and channel filters (not the search
    term, labels or "unread": those would need the database per event), and the unread conversations of
    the current tab under the same filters."""
    counts = dict.fromkeys(TABS, 0)
    unread = dict.fromkeys(TABS, 0)
    visible = set(application_ids)
    for app, kind, status, assignee, n, n_unread in groups:
        if app not in visible or (filters.application_id and app != filters.application_id):
            continue
        if (filters.kind and kind != filters.kind) or (filters.status != "all" and status != filters.status):
            continue
        tabs = ["all"]
        if assignee is None:
            tabs.append("unassigned")
        elif assignee == viewer_id:
            tabs.append("mine")
        for tab in tabs:
            counts[tab] += n
            unread[tab] += n_unread
    return TabCounts(
        tabs=counts, unread=unread[filters.assigned], counted_as=counted_as(filters, application_ids)
    )


def counted_as(filters: InboxFilters, application_ids: Collection[int]) -> str:
    """What the view tabs' counts depend on: the filters `tab_counts` applies (not the search term,
    labels or "unread": typing a search changes none of them) and the Applications the user sees. The
    page keeps it beside the counts it shows, so an answer under the same can leave the counts out."""
    applications = ",".join(str(pk) for pk in sorted(application_ids))
    return f"{filters.status}|{filters.application_id or ''}|{filters.kind}|{filters.assigned}|{applications}"
