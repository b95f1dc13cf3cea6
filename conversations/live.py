"""Live updates as HTML: the same partials the pages render, framed for the browser's `live` extension.

A *live frame* is HTML that starts with `<!--live-->` and whose top-level elements each carry
`data-live` (see static/js/inbox.js, which applies them as htmx out-of-band swaps):

- `upsert`  — place by id: replace the element with the same id, or insert it into the element whose id
  is `data-live-into`, ordered by `data-sort` (a row whose sort key changed moves, e.g. to the top).
  Skipped when its position lies in a part the browser has not loaded yet (another page).
- `replace` — replace the element with the same id if the page shows it, else ignore.
- `remove`  — remove the element with that id if present.
- `meta`    — not shown: carries the resync cursor (`data-cursor`), the tab's state generation and, for
  an event, its sequence number (`data-seq`); `data-gap` says the socket missed an event before this
  one, and the tab resyncs from its own cursor at once.

Pages render these partials per request; events are drawn once per server process (fanout.py).
Every swap is by element id, so a frame applied twice, or a resync overlapping live frames, changes
nothing the second time: nothing is missing and nothing appears twice.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.http import Http404, QueryDict
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from channels_app.access import AuthUser, access_widened_since, person_name, visible_application_ids
from channels_app.hub.capabilities import MEDIA_KEYS, MEDIA_MIME_TYPES, capability
from channels_app.hub.content import window_closes_at
from conversations.models import Conversation, Label, Message
from conversations.selectors.inbox import (
    InboxFilters,
    TabCounts,
    count_groups,
    counted_as,
    inbox_changes,
    inbox_page,
    inbox_row,
    page_labels,
    recent_count_groups,
    tab_counts,
)
from conversations.selectors.mentions import unread_mention_of, unread_mentions
from conversations.selectors.thread import (
    assignable_agents,
    channel_templates,
    contact_panel,
    conversation_for,
    thread_changes,
    thread_page,
)
from conversations.templatetags.fragments import thread_header_html

LIVE_MARK = "<!--live-->"
# A change written up to this long before a frame was rendered may still be committing (or its event
# still on its way) when the frame is read: resyncs look back this far, and swaps by id absorb overlap.
# 30 s was too short on a slow machine after faults: the soak's recovery of a killed server's deliveries
# took 32-64 s, and every tab then lacked a few thread messages (docs/benchmarks.md, "Soak with faults").
RESYNC_OVERLAP = timedelta(minutes=5)
# A tab away for longer than this gets fresh regions rather than a catch-up list.
RESYNC_MAX_AGE = timedelta(hours=12)


def new_cursor() -> str:
    """Taken *before* reading the data a page or frame shows: anything committed later is newer."""
    return timezone.now().isoformat(timespec="microseconds")


def parse_cursor(value: Any) -> datetime | None:
    try:
        parsed = parse_datetime(str(value or ""))
    except ValueError:
        return None
    if parsed is None or timezone.is_naive(parsed):
        return None
    return parsed


@dataclass
class TabState:
    """What one browser tab shows, as it told the websocket in its last `sync`."""

    filters: InboxFilters
    conversation_id: int | None = None
    gen: int = 0
    # The view tabs' counts (and the view's unread number) the tab shows, as its last sync or count
    # frame drew them (live_counts.py).
    counts: TabCounts | None = None

    @classmethod
    def from_message(cls, data: dict[str, Any]) -> TabState:
        query = data.get("filters")
        params = QueryDict(query if isinstance(query, str) else "")
        conversation = str(data.get("conversation") or "")
        gen = data.get("gen")
        return cls(
            filters=InboxFilters.from_params(params),
            conversation_id=int(conversation) if conversation.isdigit() else None,
            gen=gen if isinstance(gen, int) else 0,
        )


# --- Rendering contexts: one per partial, shared by pages and frames ---------------------------------


def names_applications(user: AuthUser, application_ids: Collection[int]) -> bool:
    """Whether the user's list says which Application each row belongs to (they see more than one)."""
    return len(application_ids) > 1 or user.is_superuser


def base_context(
    *,
    user: AuthUser,
    filters: InboxFilters,
    request: Any = None,
    application_ids: Collection[int] | None = None,
) -> dict[str, Any]:
    """`application_ids`: the user's visible Applications when the caller already has them (a socket)."""
    if application_ids is None:
        application_ids = visible_application_ids(user)
    context: dict[str, Any] = {
        "viewer_id": user.pk,
        "filters": filters,
        "filters_query": filters.as_query(),
        "multi_app": names_applications(user, application_ids),
    }
    if request is None:
        # Frames have no request, so no CSRF token field: their forms post through htmx, which sends the
        # page's token in a header (base.html `hx-headers`). The partials skip the tag in frames.
        context["in_frame"] = True
    return context


def window_context(conversation: Conversation) -> dict[str, Any]:
    """The channel's reply window (`window_state.html`), which the composer follows too: no query."""
    kind = conversation.channel.kind
    cap = capability(kind)
    closes_at = window_closes_at(conversation.last_inbound_at, kind)
    windowed = cap.window_hours is not None
    return {
        "kind": kind,
        "kind_label": cap.label,
        "windowed": windowed,
        "window_hours": cap.window_hours,
        "closes_at": closes_at,
        "window_open": not windowed or (closes_at is not None and timezone.now() < closes_at),
        "templates_allowed": "template" in cap.content_types,
    }


def composer_context(conversation: Conversation) -> dict[str, Any]:
    """Window state and limits for the composer of this conversation's channel."""
    window = window_context(conversation)
    cap = capability(window["kind"])
    media_types = [t for t in MEDIA_KEYS if t in cap.content_types]
    # The channel's template library (WhatsApp): the picker's choices and, as JSON, their text.
    templates = channel_templates(conversation) if window["templates_allowed"] else []
    return {
        **window,
        "max_length": cap.max_text_length,
        # The channel's template library (WhatsApp): the picker's choices and, as JSON, its previews.
        "templates": templates,
        "template_library": {
            str(t.pk): {
                "header": t.header,
                "body": t.body,
                "footer": t.footer,
                "buttons": t.buttons,
                "variables": t.text.variables,
                "name": t.name,
            }
            for t in templates
        },
        "reactions_allowed": "reaction" in cap.content_types,
        "quotes_allowed": "reply" in cap.content_types,
        "media_types": media_types,
        # What the file button offers (the server checks the file's bytes whatever the browser says).
        "upload_accept": ",".join(sorted({mime for kind in media_types for mime in MEDIA_MIME_TYPES[kind]})),
        "active_channel": conversation.channel.active,
        "idempotency_key": uuid.uuid4().hex,
    }


def _team(conversation: Conversation, agents: list[Any] | None, labels: list[Label] | None) -> dict[str, Any]:
    """The Application's members and labels (the header's menus): the caller's, or as this process keeps
    them (channels_app/roster.py)."""
    return {
        "conversation": conversation,
        "agents": assignable_agents(application=conversation.application) if agents is None else agents,
        "application_labels": page_labels([conversation.application]) if labels is None else labels,
    }


def thread_context(
    conversation: Conversation, *, agents: list[Any] | None = None, labels: list[Label] | None = None
) -> dict[str, Any]:
    """An open thread's header and composer. `agents`, `labels`: the Application's members and labels,
    when the caller read them already."""
    return {**_team(conversation, agents, labels), **composer_context(conversation)}


def render_partial(name: str, context: dict[str, Any], request: Any = None) -> str:
    return render_to_string(f"conversations/partials/{name}.html", context, request=request)


def frame(
    *parts: str,
    cursor: str | None = None,
    gen: int | None = None,
    kind: str = "event",
    seq: str = "",
    gap: bool = False,
) -> str:
    """`seq`: the event's `group:publisher:number`; `gap`: the socket missed an event before this one,
    so the tab must resync from its own cursor (and must not take this frame's)."""
    meta = ""
    if cursor is not None or gap:
        meta = format_html(
            '<div data-live="meta" hidden data-kind="{}" data-cursor="{}" data-gen="{}"{}{}></div>',
            kind,
            "" if gap else cursor or "",
            gen if gen is not None else "",
            format_html(' data-seq="{}"', seq) if seq else "",
            mark_safe(' data-gap="1"') if gap else "",
        )
    return LIVE_MARK + meta + "".join(parts)


def removal(conversation_id: int) -> str:
    return format_html('<div id="conv-{}" data-live="remove" hidden></div>', conversation_id)


def row_html(
    *, conversation_id: int, user: AuthUser, filters: InboxFilters, active_id: int | None, base: dict
) -> str:
    """The row as this user's page should show it, or a removal when it no longer matches the filters
    (an action's answer; live events draw rows in fanout.py)."""
    conversation = inbox_row(user=user, filters=filters, conversation_id=conversation_id, keep_id=active_id)
    if conversation is None:
        return removal(conversation_id)
    return render_partial("inbox_row", {**base, "conversation": conversation, "active_id": active_id})


def page_tab_counts(
    *, user: AuthUser, filters: InboxFilters, application_ids: Collection[int], recent: bool = False
) -> TabCounts:
    """The view tabs' counts for a page or a sync: one grouped query (live_counts.py keeps them live).
    `recent`: a page's, which may reuse this process's count of the last second (`recent_count_groups`);
    the sync that follows it counts afresh."""
    status = None if filters.status == "all" else filters.status  # the tabs count this status only
    count = recent_count_groups if recent else count_groups
    groups = count(application_ids=application_ids, status=status)
    return tab_counts(groups, filters=filters, viewer_id=user.pk, application_ids=application_ids)


def tab_counts_html(counts: TabCounts, *, oob: bool = False) -> str:
    """The counts as a live frame's parts (or, `oob`, as an htmx response's out-of-band swaps)."""
    html = render_partial("tab_counts", {"tab_counts": counts, "oob": oob})
    return html if oob else frame(html)


def messages_html(messages: list[Message], base: dict[str, Any]) -> str:
    return "".join(render_partial("message", {**base, "message": m}) for m in messages)


def thread_state_html(
    conversation: Conversation,
    base: dict[str, Any],
    *,
    agents: list[Any] | None = None,
    labels: list[Label] | None = None,
) -> str:
    """The parts of an open thread that follow the conversation: header and the reply window (not the
    composer, whose template library and idempotency key a frame does not need)."""
    context = {**base, **_team(conversation, agents, labels), **window_context(conversation)}
    return thread_header_html(context) + render_partial("window_state", context)


def _counted_already(state: TabState, application_ids: Collection[int]) -> bool:
    """After the list's own swap: whether the tab's last counts were counted under what its new filters
    count (a typed search changes nothing there); this socket keeps those current (live_counts.py)."""
    return state.counts is not None and state.counts.counted_as == counted_as(state.filters, application_ids)


def _visible_conversation(user: AuthUser, conversation_id: int | None) -> Conversation | None:
    """`conversation_for`, for a frame: a conversation the tab may no longer see is simply left out."""
    if conversation_id is None:
        return None
    try:
        return conversation_for(user, conversation_id)
    except Http404:
        return None


# --- Frames for the websocket ----------------------------------------------------------------------


def render_sync(
    *, user: AuthUser, state: TabState, since: Any, after_id: Any, loaded_ids: Any, scope: str = "all"
) -> str:
    """Everything a tab may have missed since `since`: the reply to its `sync` (on connect, reconnect
    and whenever it shows another thread or other filters).

    Rows: those with activity since then and those the tab shows (some may have left its filters).
    Thread: messages newer than `after_id` or changed since then, plus header, window and contact panel. When too much
    happened, or the cursor is unusable, whole regions are replaced instead. `scope` limits the answer to
    the region the tab just swapped in ("thread" or "list"); "all" after a (re)connect.
    """
    cursor = new_cursor()
    application_ids = visible_application_ids(user)
    base = base_context(user=user, filters=state.filters, application_ids=application_ids)
    parsed = parse_cursor(since)
    fresh = parsed is None or timezone.now() - parsed > RESYNC_MAX_AGE
    since_at = (parsed - RESYNC_OVERLAP) if parsed else timezone.now()
    loaded = [int(i) for i in loaded_ids if str(i).isdigit()][:500] if isinstance(loaded_ids, list) else []
    parts: list[str] = []

    rows: list[Conversation] = []
    gone: set[int] = set()
    complete = False
    if scope == "thread":
        complete = True  # the list did not change: live frames kept it current
    elif not fresh and not access_widened_since(user, since_at):
        rows, gone, complete = inbox_changes(
            user=user, filters=state.filters, since=since_at, loaded_ids=loaded, keep_id=state.conversation_id
        )
    if complete:
        context = {**base, "active_id": state.conversation_id}
        parts += [render_partial("inbox_row", {**context, "conversation": c}) for c in rows]
        parts += [removal(pk) for pk in sorted(gone)]
    else:
        page = inbox_page(user=user, filters=state.filters)
        parts.append(
            render_partial(
                "inbox_list",
                {**base, "page": page, "active_id": state.conversation_id, "cursor": cursor, "live": True},
            )
        )

    if scope == "all" or (scope == "list" and not _counted_already(state, application_ids)):
        counts = page_tab_counts(user=user, filters=state.filters, application_ids=application_ids)
        state.counts = counts
        parts.append(render_partial("tab_counts", {"tab_counts": counts}))

    conversation = _visible_conversation(user, state.conversation_id) if scope != "list" else None
    if conversation is not None:
        after = int(after_id) if str(after_id or "").isdigit() else 0
        catch_up = None
        if not fresh:
            catch_up = thread_changes(conversation=conversation, after_id=after, since=since_at)
        if catch_up is not None and catch_up.complete:
            parts.append(messages_html(catch_up.messages, base))
        else:
            thread = thread_page(conversation=conversation)
            parts.append(
                render_partial(
                    "thread_messages", {**base, "conversation": conversation, "thread": thread, "live": True}
                )
            )
        parts.append(thread_state_html(conversation, base))
        # The panel too: a colleague's change to the contact while this tab was away has no other way in.
        panel = {**base, "conversation": conversation, "panel": contact_panel(conversation=conversation)}
        parts.append(render_partial("contact_panel", panel))
    return frame(*parts, cursor=cursor, gen=state.gen, kind="sync")


def notice(*, reason: str, conversation_id: int, message_id: int | str, title: str, body: str) -> str:
    """A `notify` element: not shown; the tab may notify of it (static/js/triage.js decides by the user's
    settings and skips the thread the agent is looking at). `reason`: "new", "assigned" or "mention"."""
    return format_html(
        '<div data-live="notify" hidden data-reason="{}" data-conversation="{}" data-message="{}"'
        ' data-title="{}" data-body="{}"></div>',
        reason,
        conversation_id,
        message_id,
        title,
        body[:200],
    )


def render_mentions_badge(user: AuthUser, *, note_id: int | None = None) -> str:
    """The nav's mentions link with the user's unread count, as a frame; with `note_id` (a new note
    mentions the user), also its notice, if the user still sees its Application and has not read it."""
    parts: list[str] = [
        render_to_string("conversations/partials/mentions_link.html", {"count": unread_mentions(user=user)})
    ]
    mention = unread_mention_of(user=user, note_id=note_id) if note_id is not None else None
    if mention is not None:
        parts.append(
            notice(
                reason="mention",
                conversation_id=mention.conversation_id,
                message_id=mention.note_id,
                title=person_name(mention.note.author),
                body=str(mention.note.content.get("text", "")),
            )
        )
    return frame(*parts)


def render_presence(event: dict[str, Any]) -> str:
    """Another agent on the thread, as a frame: one element per agent, replaced at each news and gone
    when they leave. The page words it in its own language and lets it expire (static/js/teamwork.js:
    "typing" after 6 s of silence, "viewing" after 25 s without a renewal)."""
    conversation_id, user_id = int(event["conversation_id"]), int(event["user_id"])
    element_id = f"presence-{conversation_id}-{user_id}"
    if event.get("state") == "left":
        return frame(format_html('<span id="{}" data-live="remove" hidden></span>', element_id))
    return frame(
        format_html(
            '<span id="{}" class="presence-item" data-live="upsert" data-live-into="presence-{}" '
            'data-sort="{}" data-state="{}" data-name="{}"></span>',
            element_id,
            conversation_id,
            f"{user_id:012d}",
            event.get("state", "viewing"),
            str(event.get("name", "")),
        )
    )


def render_pong(state: TabState | None) -> str:
    """The answer to a heartbeat: the socket and the server are alive, and every event before now has
    been framed for this tab, so its cursor may move on even when the inbox is quiet."""
    if state is None:
        return frame(cursor=None)
    return frame(cursor=new_cursor(), gen=state.gen, kind="pong")
