"""The agent inbox: the conversation list, a thread, the composer and the conversation actions.

Pages and htmx requests share the partials in templates/conversations/partials/; action responses are
live frames (conversations/live.py) so a button press and a websocket event redraw the same way.
Every view authorizes with one fetch-and-check helper (`conversation_for`, `message_for`, `filters_for`).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseLocation

from channels_app.access import AuthenticatedRequest, AuthUser
from channels_app.hub.content import ContentError, build_reply_content
from channels_app.models import Application
from channels_app.preferences import preferences_of
from channels_app.selectors import library_template
from conversations.actions.notes import do_read_mentions
from conversations.actions.reactions import AGENT_REACTIONS
from conversations.actions.replies import do_retry_reply, do_send_reply
from conversations.actions.threads import (
    NOT_ASSIGNABLE,
    ThreadActionError,
    do_assign,
    do_mark_read,
    do_mark_unread,
    do_rename_contact,
    do_set_status,
)
from conversations.actions.uploads import do_discard_upload, do_store_upload, signed_url
from conversations.forms import SNOOZE_PRESETS
from conversations.live import (
    base_context,
    frame,
    new_cursor,
    page_tab_counts,
    render_partial,
    row_html,
    tab_counts_html,
    thread_context,
    thread_state_html,
)
from conversations.models import Conversation, Label, Message
from conversations.selectors.inbox import (
    InboxFilters,
    counted_as,
    filter_choices,
    filters_for,
    inbox_page,
    page_labels,
    remember_labels,
    view_tabs,
    visible_application_list,
)
from conversations.selectors.mentions import unread_mentions
from conversations.selectors.thread import (
    Members,
    contact_panel,
    conversation_for,
    matching_message_id,
    message_for,
    message_timeline,
    page_members,
    thread_page,
    thread_page_around,
)

# --- pages -----------------------------------------------------------------------------------------

# The filters the view tabs' counts on the page were counted under, sent by the filter form.
COUNTED_HEADER = "X-Hubdash-Counted"


def _wants(request: AuthenticatedRequest, target: str) -> bool:
    """An htmx request that only needs the region `target` (not a history restore: that is a page)."""
    return bool(request.htmx) and not request.htmx.history_restore_request and request.htmx.target == target


def _list_context(
    request: AuthenticatedRequest,
    filters: InboxFilters,
    applications: list[Application],
    *,
    active_id: int | None,
    before: str | None = None,
    counts: bool = True,
) -> dict[str, Any]:
    """The list and the view tabs' counts: a page's, and all that a change of filters answers.
    `counts`: False when the tab shows counts that these filters count the same already."""
    cursor = new_cursor()  # before any read: the browser's resync starts here
    ids = [a.pk for a in applications]
    return {
        **base_context(user=request.user, filters=filters, request=request, application_ids=ids),
        "page": inbox_page(
            user=request.user, filters=filters, before=before, applications=applications, keep_id=active_id
        ),
        "tab_counts": (
            page_tab_counts(user=request.user, filters=filters, application_ids=ids, recent=True)
            if counts
            else None
        ),
        "active_id": active_id,
        "cursor": cursor,
    }


def _page_context(
    request: AuthenticatedRequest,
    filters: InboxFilters,
    applications: list[Application],
    *,
    active_id: int | None,
    before: str | None = None,
    members: Members | None = None,
    labels: list[Label] | None = None,
) -> dict[str, Any]:
    """The list with what surrounds it on a page: the filter bar, the tabs and the bulk bar. `members`,
    `labels`: those of the visible Applications, when the caller read them already."""
    context = _list_context(request, filters, applications, active_id=active_id, before=before)
    if members is None:
        members = page_members(applications)
    return {
        **context,
        **filter_choices(user=request.user, applications=applications, labels=labels),
        "view_tabs": view_tabs(context["tab_counts"]),
        "snooze_presets": SNOOZE_PRESETS,
        "bulk_agents": [a for a in members.everyone if a.pk != request.user.pk],
        "notify": preferences_of(request.user).notify,
    }


@login_required
@require_GET
def home(request: AuthenticatedRequest) -> HttpResponse:
    """The inbox at `/`: the list, no thread open."""
    # Read once, for the filters' check, the list, the filter bar and the rows' Application names.
    applications = visible_application_list(request.user)
    ids = [a.pk for a in applications]
    filters = filters_for(user=request.user, params=request.GET, application_ids=ids)
    before = request.GET.get("before")
    if before and request.htmx:
        # Infinite scroll: the next rows and a new sentinel, replacing the old sentinel.
        page = inbox_page(user=request.user, filters=filters, before=before, applications=applications)
        base = base_context(user=request.user, filters=filters, request=request, application_ids=ids)
        return render(request, "conversations/partials/inbox_rows.html", {**base, "page": page})
    if _wants(request, "thread-pane"):
        return render(request, "conversations/partials/thread_pane.html", {"conversation": None})
    if _wants(request, "inbox-list-wrap"):
        # Other filters (the search box as the agent types): the list, and the tabs' counts following
        # them (out of band: the tabs sit outside the list). Not the filter bar nor the bulk bar. The
        # counts only when these filters count differently from the ones the tab shows (it says which:
        # `data-counted`, static/js/inbox.js): a search term, labels or "unread" change none of them,
        # and the process's live recount keeps the shown ones current (live_counts.py).
        same = request.headers.get(COUNTED_HEADER) == counted_as(filters, ids)
        context = _list_context(request, filters, applications, active_id=None, counts=not same)
        response = render(request, "conversations/partials/inbox_list.html", context)
        if context["tab_counts"] is not None:
            response.content += tab_counts_html(context["tab_counts"], oob=True).encode()
        return response
    # Without JavaScript, `before` pages through whole pages ("Older conversations" link).
    context = _page_context(request, filters, applications, active_id=None, before=before)
    return render(request, "conversations/inbox.html", {**context, "conversation": None})


@login_required
@require_GET
def conversation_detail(request: AuthenticatedRequest, conversation_id: int) -> HttpResponse:
    """A thread (with the list beside it on a full page). Opening it marks it read."""
    applications = visible_application_list(request.user)
    ids = [a.pk for a in applications]
    conversation = conversation_for(request.user, conversation_id, application_ids=ids)
    filters = filters_for(user=request.user, params=request.GET, application_ids=ids)
    cursor = new_cursor()
    # Opening the thread reads its mentions of the user: a statement only when they have unread ones
    # (most openings have none), and the nav's count is then the one read here.
    mentions: int | None = unread_mentions(user=request.user)
    if mentions and do_read_mentions(user=request.user, conversation=conversation):
        mentions = None  # the nav counts again
    if conversation.unread_count:
        # Already read: no locking transaction (three round trips) on every opening. A message that
        # arrives after the read above reaches the open thread live, and the page marks it read then.
        conversation = do_mark_read(conversation=conversation, actor=request.user)
    # From a search: the thread opens at the newest message that matched, with what surrounds it.
    hit = matching_message_id(conversation=conversation, term=filters.q) if filters.q else None
    thread = (
        thread_page_around(conversation=conversation, message_id=hit)
        if hit
        else thread_page(conversation=conversation)
    )
    context = {
        **base_context(user=request.user, filters=filters, request=request, application_ids=ids),
        "thread": thread,
        "search_hit_id": hit,
        "panel": contact_panel(conversation=conversation),
        "cursor": cursor,
        "unread_mentions": mentions,
    }
    if _wants(request, "thread-pane"):
        context.update(thread_context(conversation))
        return render(request, "conversations/partials/thread_pane.html", context)
    # The whole page: the members and labels of every visible Application, read once for the list's
    # filters and bulk bar and for the thread's assignee and label menus.
    members = page_members(applications)
    labels = page_labels(applications)
    own_labels = [label for label in labels if label.application_id == conversation.application_id]
    context.update(
        thread_context(conversation, agents=members.of(conversation.application_id), labels=own_labels)
    )
    page = _page_context(
        request, filters, applications, active_id=conversation.pk, members=members, labels=labels
    )
    if page["page"].open_labels is not None:  # read with the list's: the header asks no more
        remember_labels(conversation, page["page"].open_labels)
    return render(request, "conversations/inbox.html", {**page, **context})


@login_required
@require_GET
def thread_messages(request: AuthenticatedRequest, conversation_id: int) -> HttpResponse:
    """Older messages (`?before=<id>`, scrolling up) or newer ones (`?after=<id>`), keyset on the id."""
    conversation = conversation_for(request.user, conversation_id, bare=True)
    before, after = request.GET.get("before", ""), request.GET.get("after", "")
    page = thread_page(
        conversation=conversation,
        before_id=int(before) if before.isdigit() else None,
        after_id=int(after) if after.isdigit() else None,
    )
    context = {
        # The bubbles name no Application: no need to read which ones the user sees.
        **base_context(user=request.user, filters=InboxFilters(), request=request, application_ids=()),
        "conversation": conversation,
        "thread": page,
        "newer": after.isdigit(),
    }
    return render(request, "conversations/partials/thread_page_items.html", context)


@login_required
@require_GET
def message_timeline_view(
    request: AuthenticatedRequest, conversation_id: int, message_id: int
) -> HttpResponse:
    """A reply's status history and send attempts (the bubble's "details")."""
    message = message_for(request.user, conversation_id, message_id)
    context = {"message": message, **message_timeline(message=message)}
    return render(request, "conversations/partials/timeline.html", context)


# --- writes ----------------------------------------------------------------------------------------


def _filters_of_page(request: AuthenticatedRequest) -> InboxFilters:
    """The filters of the page that sent an htmx request, so its row is drawn as that list shows it."""
    url = request.htmx.current_url if request.htmx else None
    return InboxFilters.from_params(QueryDict(urlsplit(url).query if url else ""))


def _conversation_frame(
    request: AuthenticatedRequest, conversation: Conversation, *extra: str
) -> HttpResponse:
    """The answer to a conversation action: its row and thread header, as a live frame."""
    filters = _filters_of_page(request)
    base = base_context(user=request.user, filters=filters, request=request)
    row = row_html(
        conversation_id=conversation.pk,
        user=request.user,
        filters=filters,
        active_id=conversation.pk,
        base=base,
    )
    return HttpResponse(frame(row, thread_state_html(conversation, base), *extra))


def _thread_action(
    request: AuthenticatedRequest,
    conversation: Conversation,
    action: Callable[[], Conversation],
    *,
    refused_title: str = "Not done",
) -> HttpResponse:
    """Run one conversation action: answer with the row and header it changed (htmx) or the thread,
    or say why it was refused."""
    try:
        conversation = action()
    except ThreadActionError as error:
        return _refused(request, conversation, str(error), title=refused_title)
    return _conversation_frame(request, conversation) if request.htmx else _back_to(conversation)


def _back_to(conversation: Conversation) -> HttpResponse:
    return redirect("conversation", conversation_id=conversation.pk)


def _refused(
    request: AuthenticatedRequest,
    conversation: Conversation,
    error: str,
    *,
    title: str,
    target: str = "toast",
) -> HttpResponse:
    """A write that could not be done, said in a sentence: in the composer's error box or the toast
    (htmx, 422 so the page shows it), or on a small page without JavaScript."""
    if not request.htmx:
        context = {"conversation": conversation, "error": error, "title": title}
        return render(request, "conversations/action_error.html", context, status=422)
    if target == "composer":
        html = format_html(
            '<div id="composer-error-{}" class="composer-error" data-live="replace" role="alert">{}</div>',
            conversation.pk,
            error,
        )
    else:
        html = format_html(
            '<div id="inbox-toast" class="toast" data-live="replace" role="alert">{}</div>', error
        )
    return HttpResponse(frame(html), status=422)


@login_required
@require_POST
def reply(request: AuthenticatedRequest, conversation_id: int) -> HttpResponse:
    """Send a reply: text, a file (`file`: stored first, sent as a signed link), media by URL, or a WhatsApp
    template; `reply_to` quotes a message. Stored pending at once; the worker sends."""
    conversation = conversation_for(request.user, conversation_id)
    data = request.POST
    upload = None
    try:
        quote = _quoted(request, conversation, data.get("reply_to", ""))
        if "file" in request.FILES:
            # Stored (and committed) before the reply: see actions/uploads.py.
            upload = do_store_upload(
                conversation=conversation, uploaded_by=request.user, file=request.FILES["file"]
            )
        # Trimmed once: the Hub gets the parameters the bubble shows.
        params = [v.strip() for v in data.getlist("template_params")]
        template, shown = (
            library_template(conversation.channel, pk=data["template"], params=params)
            if data.get("template")
            else (None, None)
        )
        content = build_reply_content(
            channel_kind=conversation.channel.kind,
            text=data.get("text", ""),
            media_url=signed_url(upload) if upload else data.get("media_url", "").strip(),
            media_type=upload.media_kind if upload else data.get("media_type", ""),
            filename=upload.filename if upload and upload.media_kind == "document" else "",
            template_id=template.hub_template_id if template else "",
            template_params=params if template else (),
            reply_to=(quote.hub_message_id or "") if quote else "",
        )
        message = do_send_reply(
            conversation=conversation,
            author=request.user,
            content=content,
            idempotency_key=data.get("idempotency_key", ""),
            quote=quote,
            upload=upload,
            template=shown,
        )
    except ContentError as error:
        if upload is not None:
            do_discard_upload(upload=upload)  # refused: nothing of it stays
        return _refused(request, conversation, str(error), title="Reply not sent", target="composer")
    if not request.htmx:
        return _back_to(conversation)
    # The new bubble at once (pending); the websocket brings its ticks. The browser already put a fresh
    # idempotency key in the form when it sent this one (inbox.js), so the next reply is a new message.
    return thread_item_response(request, conversation, message)


def thread_item_response(
    request: AuthenticatedRequest, conversation: Conversation, item: Message
) -> HttpResponse:
    """The answer to a composer's post: the new item's bubble at once, and the error box emptied."""
    base = base_context(user=request.user, filters=_filters_of_page(request), request=request)
    cleared = format_html(
        '<div id="composer-error-{}" class="composer-error" data-live="replace" role="alert"></div>',
        conversation.pk,
    )
    return HttpResponse(frame(render_partial("message", {**base, "message": item}), cleared))


def _quoted(request: AuthenticatedRequest, conversation: Conversation, value: str) -> Message | None:
    """The message of this conversation a reply quotes (`reply_to`: its id), or None when not quoting."""
    if not value:
        return None
    message = (
        message_for(request.user, conversation.pk, value) if value.isdigit() and len(value) < 19 else None
    )
    if message is None or not message.hub_message_id:
        raise ContentError(_("That message can't be quoted: the Hub has not given it an id yet."))
    return message


@login_required
@require_POST
def react(request: AuthenticatedRequest, conversation_id: int, message_id: int) -> HttpResponse:
    """An agent's reaction to a customer's message (`emoji` from the palette; empty removes it)."""
    target = message_for(request.user, conversation_id, message_id)
    conversation = conversation_for(request.user, conversation_id)
    emoji = request.POST.get("emoji", "")
    try:
        if emoji and emoji not in AGENT_REACTIONS:
            raise ContentError(_("Pick one of the offered reactions."))
        if target.direction != "in" or not target.hub_message_id:
            raise ContentError(_("Only a customer's message can be reacted to."))
        content = build_reply_content(
            channel_kind=conversation.channel.kind,
            reaction={"messageId": target.hub_message_id, "emoji": emoji},
        )
        do_send_reply(
            conversation=conversation,
            author=request.user,
            content=content,
            idempotency_key=f"react-{uuid.uuid4().hex}",
            reacts_to=target,
        )
    except ContentError as error:
        return _refused(request, conversation, str(error), title=_("No reaction sent"))
    if not request.htmx:
        return _back_to(conversation)
    target = message_for(request.user, conversation_id, message_id)
    base = base_context(user=request.user, filters=InboxFilters(), request=request)
    return HttpResponse(frame(render_partial("message", {**base, "message": target})))


@login_required
@require_POST
def retry(request: AuthenticatedRequest, conversation_id: int, message_id: int) -> HttpResponse:
    message = message_for(request.user, conversation_id, message_id)
    try:
        message = do_retry_reply(message_id=message.pk, actor=request.user)
    except ContentError as error:
        return _refused(request, message.conversation, str(error), title="Not sent again")
    if not request.htmx:
        return _back_to(message.conversation)
    message = message_for(request.user, conversation_id, message_id)
    base = base_context(user=request.user, filters=InboxFilters(), request=request)
    return HttpResponse(frame(render_partial("message", {**base, "message": message})))


@login_required
@require_POST
def assign(request: AuthenticatedRequest, conversation_id: int) -> HttpResponse:
    """Assign to `me`, to an agent of the Application (`<user id>`), or to nobody (empty)."""
    conversation = conversation_for(request.user, conversation_id)
    value = request.POST.get("assignee", "")
    assignee: AuthUser | None
    if value == "me":
        assignee = request.user
    elif value.isdigit():
        assignee = get_user_model().objects.filter(pk=int(value)).first()
        if assignee is None:
            return _refused(request, conversation, str(NOT_ASSIGNABLE), title=_("Not assigned"))
    else:
        assignee = None
    return _thread_action(
        request,
        conversation,
        lambda: do_assign(conversation=conversation, assignee=assignee, actor=request.user),
        refused_title=_("Not assigned"),
    )


@login_required
@require_POST
def set_status(request: AuthenticatedRequest, conversation_id: int) -> HttpResponse:
    """Resolve, reopen or set pending (`status` = resolved | open | pending)."""
    conversation = conversation_for(request.user, conversation_id)
    status = request.POST.get("status", "")
    return _thread_action(
        request,
        conversation,
        lambda: do_set_status(conversation=conversation, status=status, actor=request.user),
        refused_title=_("Status not changed"),
    )


@login_required
@require_POST
def rename_contact(request: AuthenticatedRequest, conversation_id: int) -> HttpResponse:
    """Name the contact (`display_name`; empty: show the channel id again)."""
    conversation = conversation_for(request.user, conversation_id)
    name = request.POST.get("display_name", "")
    return _thread_action(
        request,
        conversation,
        lambda: do_rename_contact(conversation=conversation, display_name=name, actor=request.user),
        refused_title=_("Not renamed"),
    )


@login_required
@require_POST
def mark_unread(request: AuthenticatedRequest, conversation_id: int) -> HttpResponse:
    """Flag for later and leave the thread (staying would read it again)."""
    conversation = conversation_for(request.user, conversation_id)
    do_mark_unread(conversation=conversation, actor=request.user)
    filters = _filters_of_page(request)
    inbox_url = reverse("home") + (f"?{filters.as_query()}" if filters.active else "")
    if request.htmx:
        return HttpResponseLocation(inbox_url, target="#thread-pane", swap="innerHTML")
    return redirect(inbox_url)


@login_required
@require_POST
def mark_read(request: AuthenticatedRequest, conversation_id: int) -> HttpResponse:
    """Read while the thread is open (a message arrived while the agent was looking at it)."""
    conversation = conversation_for(request.user, conversation_id)
    return _thread_action(
        request, conversation, lambda: do_mark_read(conversation=conversation, actor=request.user)
    )
