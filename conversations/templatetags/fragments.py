"""Inbox rows, message bubbles and thread headers drawn once per process, then served from memory.

`{% inbox_row conversation %}`, `{% message_bubble message %}` and `{% thread_header %}` render the same
partials as `{% include %}` did, through a small per-process cache. Drawn by the template engine, a row
costs about 1 ms and a bubble 0.3 ms: the inbox page's 30 rows and the thread's 40 bubbles were most of
a page's time; a header 0.7-1.4 ms. A fragment is a function of what it is drawn from, so that is its
key, and nothing is ever invalidated: a changed field, a renamed agent or contact, another language,
time zone or day (rows say "Yesterday") is another key; the old entry just ages out.

- **Drawn from**: every loaded value of the object and of the related objects its query joins
  (`ROW_RELATED` for a row, the author for a bubble), plus attributes set on it after the query
  (`chosen_option_id`). A partial that read anything else would query per row: the pages' query-count
  tests fail first (tests/inbox/test_fragments.py). A thread header is drawn from its conversation
  (`HEADER_RELATED` joined), the conversation's labels, the Application's labels and members, and is
  drawn with those values only; the counters a new message moves, which it does not show, are left out
  of its key, so a busy thread's header is not drawn again for each message.
- **Per viewer**: a row differs between viewers only by whether they wrote its last message ("You:"),
  are its assignee ("Mine"), have it open, and the list's filters and Application names; those are the
  key, and the row is drawn for a stand-in viewer id that is the viewer's own id only when the row is
  theirs (so it is served to no one else) and otherwise matches no one. A header says "Assign to me"
  and "(me)" to its viewer: the viewer's id is in its key. Nothing of one agent's reaches another's
  page. A bubble has no per-viewer part.
- **The CSRF token** is per request: a fragment that holds one (a failed reply's Retry form, a header's
  forms) is drawn with a marker in its place, and each page puts its own token there.
- **Per process, in memory**: a deploy (new templates or code) starts empty; entries are a few kB and the
  oldest go first.
"""

from __future__ import annotations

import json
from collections.abc import Hashable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from django import template
from django.db.models import Model
from django.template.loader import get_template
from django.urls import get_script_prefix
from django.utils import timezone, translation
from django.utils.safestring import SafeString, mark_safe

from channels_app.access import person_name
from channels_app.lru import BoundedCache
from conversations.forms import SNOOZE_PRESETS
from conversations.selectors.inbox import ROW_RELATED, labels_of_row, remember_labels

register = template.Library()

_LOCALE_KEY = "conversations.fragments.locale"  # in the template engine's per-render storage
# Not a user id (they start at 1): a row drawn for it says "You"/"Mine" to no one.
NO_VIEWER = -1
# In place of the request's CSRF token inside a cached fragment (letters only: escaping leaves it alone).
CSRF_MARK = "hubdashcsrftokenmark"


# With their keys, about 5 kB a row and 2 kB a bubble (measured at 1M messages): some 20 MB per server
# process when full; a row of any of the first sixty pages of 30, or a hundred threads' latest pages.
rows = BoundedCache[SafeString](size=2000)
bubbles = BoundedCache[SafeString](size=5000)
# About 12 kB each, one per thread state and viewer: some 12 MB when full.
headers = BoundedCache[SafeString](size=1000)


# Values that are their own key; anything else (a JSON field's dict) is frozen by `_frozen`.
_PLAIN = frozenset({str, int, bool, float, type(None), datetime, date, Decimal, UUID})


def _frozen(value: Any) -> Hashable:
    if isinstance(value, dict | list):  # JSON fields: a message's content
        return json.dumps(value, sort_keys=True, default=repr)
    if isinstance(value, Model):  # an object set on another after its query
        return state_of(value)
    try:
        hash(value)
    except TypeError:
        return repr(value)
    return value


def state_of(
    obj: Model | None, related: tuple[str, ...] = (), *, unread: frozenset[str] = frozenset()
) -> Hashable:
    """Everything a partial can read from `obj` without a query: its loaded values and attributes (not
    the deferred ones, which are not loaded), and those of the `related` objects (select_related paths,
    `a__b`) its query joined. `unread`: attributes of `obj` the partial never reads. (On every row and
    bubble of a page: kept to one plain loop.)"""
    if obj is None:
        return None
    names: list[str] = []
    values: list[Hashable] = []
    for name, value in vars(obj).items():
        if name[0] != "_" and name not in unread:  # Django's `_state`, caches
            names.append(name)
            values.append(value if type(value) in _PLAIN else _frozen(value))
    joined: list[Hashable] = []
    for path in related:
        target: Any = obj
        for name in path.split("__"):
            target = getattr(target, name) if target is not None else None
        joined.append(state_of(target))
    # Only strings and other atoms: the collector can untrack these tuples, however many are kept.
    return (obj._meta.label, tuple(names), tuple(values), related, tuple(joined))


def current_locale() -> tuple[Hashable, ...]:
    """What a fragment's text and times depend on besides its objects ("Yesterday" needs the date)."""
    return (
        translation.get_language(),
        timezone.get_current_timezone_name(),
        timezone.localdate(),
        get_script_prefix(),
    )


def _locale(context: template.Context) -> tuple[Hashable, ...]:
    """`current_locale`, the same for every row of one page, so found once per render."""
    found = context.render_context.get(_LOCALE_KEY)
    if found is None:
        found = context.render_context[_LOCALE_KEY] = current_locale()
    return found


@register.simple_tag(takes_context=True)
def inbox_row(context: template.Context, conversation: Any) -> SafeString:
    """`conversations/partials/inbox_row.html` for this conversation, as `{% include %}` drew it."""
    viewer_id = context.get("viewer_id")
    last = conversation.last_message
    # The template's own comparisons: is the viewer the last message's author ("You:"), the assignee ("Mine")?
    wrote_last = last is not None and last.author_id == viewer_id
    assigned = conversation.assignee_id == viewer_id
    active = conversation.pk == context.get("active_id")
    variant = (
        wrote_last,
        assigned,
        active,
        context.get("filters_query", ""),
        bool(context.get("multi_app")),
        bool(context.get("in_frame")),
    )
    # The label chips: prefetched with every row (selectors/inbox.py ROW_LABELS), so no query here.
    labels = tuple((label.pk, label.name, label.colour) for label in labels_of_row(conversation))
    key = (state_of(conversation, ROW_RELATED), labels, variant, _locale(context))

    def render() -> SafeString:
        return _render(
            "conversations/partials/inbox_row.html",
            {
                "conversation": conversation,
                "viewer_id": viewer_id if wrote_last or assigned else NO_VIEWER,
                "active_id": conversation.pk if active else None,
                "filters_query": variant[3],
                "multi_app": variant[4],
                "in_frame": variant[5],
            },
        )

    return _with_token(rows.get(key, render), context.get("csrf_token"))


@register.simple_tag(takes_context=True)
def message_bubble(context: template.Context, message: Any) -> SafeString:
    """`conversations/partials/message.html` for this message, as `{% include %}` drew it."""
    in_frame = bool(context.get("in_frame"))
    key = (state_of(message, ("author",)), in_frame, _locale(context))

    def render() -> SafeString:
        return _render("conversations/partials/message.html", {"message": message, "in_frame": in_frame})

    return _with_token(bubbles.get(key, render), context.get("csrf_token"))


# What a thread header shows of its conversation's joined objects, and what it never reads of the
# conversation itself: the counters each new message moves.
HEADER_RELATED = ("application", "channel", "contact", "assignee", "status_changed_by")
_HEADER_UNREAD = frozenset({"last_message_id", "last_activity_at", "last_inbound_at", "unread_count"})
# The partial's context, all of it: drawn from these and nothing else of the page's.
HEADER_CONTEXT = ("conversation", "agents", "application_labels", "viewer_id", "filters_query", "in_frame")


@register.simple_tag(takes_context=True)
def thread_header(context: template.Context) -> SafeString:
    """`conversations/partials/thread_header.html` for the context's conversation."""
    return thread_header_html(context, csrf_token=context.get("csrf_token"), locale=_locale(context))


def thread_header_html(
    context: Mapping[str, Any] | template.Context,
    *,
    csrf_token: Any = None,
    locale: tuple[Hashable, ...] | None = None,
) -> SafeString:
    """A thread's header (a page's, or a live frame's: `in_frame`), from `HEADER_CONTEXT`'s values of
    `context` and nothing else of it."""
    values: dict[str, Any] = {name: context.get(name) for name in HEADER_CONTEXT}
    conversation = values["conversation"]
    on = labels_of_row(conversation)
    remember_labels(conversation, on)  # the partial's `labels_on` finds them: no second query
    agents = values["agents"] or []
    labels = values["application_labels"] or []
    key = (
        state_of(conversation, HEADER_RELATED, unread=_HEADER_UNREAD),
        tuple((label.pk, label.name, label.colour) for label in on),
        tuple((label.pk, label.name, label.colour) for label in labels),
        tuple((agent.pk, person_name(agent)) for agent in agents),
        values.get("viewer_id"),
        values.get("filters_query") or "",
        bool(values.get("in_frame")),
        locale or current_locale(),
    )

    def render() -> SafeString:
        return _render(
            "conversations/partials/thread_header.html",
            {**values, "agents": agents, "application_labels": labels, "snooze_presets": SNOOZE_PRESETS},
        )

    return _with_token(headers.get(key, render), csrf_token)


def _render(name: str, values: dict[str, Any]) -> SafeString:
    # Only the values in the key, and a marker for the CSRF token: nothing else of the page's context.
    return mark_safe(get_template(name).render({**values, "csrf_token": CSRF_MARK}))  # rendered, escaped


_CSRF_TAG = template.Template("{% csrf_token %}")


def _csrf_field(token: Any) -> str:
    return _CSRF_TAG.render(template.Context({"csrf_token": token}))


# The marker's whole field, as `{% csrf_token %}` draws it: removed where a context has no token, as the
# tag itself draws nothing then.
_MARKED_FIELD = _csrf_field(CSRF_MARK)


def _with_token(html: SafeString, token: Any) -> SafeString:
    if CSRF_MARK not in html:
        return html
    # A page's token is letters and digits (Django's own alphabet): put in as it is, like the tag does.
    return mark_safe(html.replace(_MARKED_FIELD, _csrf_field(token)))
