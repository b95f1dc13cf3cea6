"""The delivery review: what happened to every reply, for leads (admins of an Application) and superusers.

Agents get 403 on every page here; a lead sees only the Applications they administer, and a message of
another Application is a 404. Filters live in the query string, so the CSV link exports exactly the rows
the page shows.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, tzinfo
from functools import wraps
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib import messages as flash
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from channels_app.access import AuthenticatedRequest
from channels_app.hub.content import ContentError
from conversations.actions.replies import NotRetriable, do_retry_reply
from conversations.forms import ReviewFilterForm
from conversations.models import Message, MessageStatusChange, SendAttempt
from conversations.selectors.review import (
    ReviewFilters,
    can_review,
    review_counts,
    review_filter_choices,
    review_filters,
    review_message_for,
    review_messages,
    review_page,
    review_timings,
    reviewable_ids,
)
from conversations.templatetags.inbox import preview_of, status_source
from conversations.templatetags.review_tags import status_label

if TYPE_CHECKING:
    from conversations.selectors.review import ReviewedMessage

MAX_BULK_RETRY = 500


def lead_required(view: Any) -> Any:
    """Signed in and administering at least one Application (or superuser); else 403."""

    @login_required
    @wraps(view)
    def wrapped(request: AuthenticatedRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not can_review(request.user):
            raise PermissionDenied(_("The delivery review is for Application admins."))
        return view(request, *args, **kwargs)

    return wrapped


def _filters(request: AuthenticatedRequest) -> tuple[ReviewFilters, ReviewFilterForm]:
    """The filters of the query string, without the values the form refused (said on the page)."""
    form = ReviewFilterForm(request.GET)
    return review_filters(user=request.user, params=form.valid_params()), form


@require_GET
@lead_required
def review_list(request: AuthenticatedRequest) -> HttpResponse:
    filters, form = _filters(request)
    messages = review_messages(user=request.user, filters=filters)
    before = request.GET.get("before", "")
    page = review_page(messages=messages, before=int(before) if before.isdigit() else None)
    return render(
        request,
        "review/list.html",
        {
            "filters": filters,
            "filter_errors": form.error_lines(),
            "query": filters.query_string(),
            "page": page,
            "counts": review_counts(messages=messages),
            "timings": review_timings(messages=messages),
            "choices": review_filter_choices(user=request.user),
            "here": request.get_full_path(),
            "stuck_minutes": settings.DELIVERY_STUCK_AFTER_MINUTES,
        },
    )


def safe_cell(value: Any) -> Any:
    # A cell starting with = + - @ is a formula to a spreadsheet: message text and names come from
    # customers and agents, so such cells are prefixed with ' (OWASP "CSV injection").
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


# The CSV is data for spreadsheets and scripts: its column names and values (statuses, "yes") are stable
# identifiers in every language. Times are ISO 8601 with their offset, in the viewer's time zone, which
# the time columns name: "created_at (America/Sao_Paulo)".
CSV_COLUMNS = [
    "id", "created_at", "application", "channel", "channel_kind", "conversation_id", "recipient", "agent",
    "status", "stuck", "error_code", "error_message", "attempts", "hub_message_id", "sent_at",
    "delivered_at", "read_at", "preview",
]  # fmt: skip
CSV_TIME_COLUMNS = frozenset({"created_at", "sent_at", "delivered_at", "read_at"})
# A UTF-8 byte-order mark first: without it spreadsheet programs may read the file as a legacy encoding
# and garble accents and emoji (customers' names, message previews).
CSV_BOM = "\ufeff"


def csv_header(zone: tzinfo) -> list[str]:
    return [f"{name} ({zone})" if name in CSV_TIME_COLUMNS else name for name in CSV_COLUMNS]


def _iso(value: Any, zone: tzinfo) -> str:
    return timezone.localtime(value, zone).isoformat() if value else ""


def _csv_row(message: ReviewedMessage, zone: tzinfo) -> list[Any]:
    author = message.author
    return [
        message.pk,
        _iso(message.created_at, zone),
        message.channel.application.name,
        message.channel.display_name,
        message.channel.kind,
        message.conversation_id,
        message.conversation.contact.external_id,
        (author.get_full_name() or author.get_username()) if author else "",
        message.status,
        "yes" if message.stuck else "",
        message.error_code,
        message.error_message,
        message.attempt_count,
        message.hub_message_id or "",
        _iso(message.sent_at, zone),
        _iso(message.delivered_at, zone),
        _iso(message.read_at, zone),
        preview_of(message),  # a photo is named as the inbox names it, in the reader's language
    ]


class _Echo:
    def write(self, value: str) -> str:
        return value


@require_GET
@lead_required
def review_export(request: AuthenticatedRequest) -> HttpResponseBase:
    filters, form = _filters(request)
    if form.error_lines():
        # Exporting without the refused filter would hand over rows nobody asked for: back to the page,
        # which says what was wrong.
        flash.error(request, _("Nothing exported: correct the filters first."))
        return redirect(f"{reverse('review:list')}?{request.GET.urlencode()}")
    rows = (
        review_messages(user=request.user, filters=filters)
        .select_related("channel__application", "author", "conversation__contact")
        .order_by("-id")
    )
    writer = csv.writer(_Echo())
    # The rows are written after this view returns (streaming), when the request's time zone may no
    # longer be active, nor its language: the generator keeps the viewer's zone and language itself.
    zone = timezone.get_current_timezone()
    language = translation.get_language()

    def lines() -> Iterator[str]:
        yield CSV_BOM + writer.writerow(csv_header(zone))
        for message in rows.iterator(chunk_size=500):
            with translation.override(language):
                row = [safe_cell(cell) for cell in _csv_row(message, zone)]
            yield writer.writerow(row)

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    stamp = timezone.localtime(timezone=zone).strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="hubdash-delivery-{stamp}.csv"'
    return response


@require_GET
@lead_required
def review_message(request: AuthenticatedRequest, message_id: int) -> HttpResponse:
    message = review_message_for(request.user, message_id)
    return render(
        request,
        "review/message.html",
        {
            "message": message,
            "timeline": review_timeline(message=message),
            "attempts": message.attempts.all(),
            "stuck_minutes": settings.DELIVERY_STUCK_AFTER_MINUTES,
        },
    )


def _back(request: AuthenticatedRequest) -> HttpResponse:
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect(reverse("review:list"))


@require_POST
@lead_required
def review_retry(request: AuthenticatedRequest) -> HttpResponse:
    """Retry the selected failed replies (the bulk form) or one (the timeline page's button)."""
    ids = [int(value) for value in request.POST.getlist("message") if value.isdigit()][:MAX_BULK_RETRY]
    if not ids:
        flash.warning(request, _("Select the failed replies to send again."))
        return _back(request)
    reviewable = reviewable_ids(user=request.user, ids=ids)  # one query for the whole selection
    retried = skipped = 0
    refused: list[str] = []
    for message_id in ids:
        if message_id not in reviewable:  # someone else's, or no such id: said the same way
            refused.append(_("#%(id)s: no such reply.") % {"id": message_id})
            continue
        try:
            do_retry_reply(message_id=message_id, actor=request.user)
            retried += 1
        except NotRetriable:
            skipped += 1
        except ContentError as error:
            refused.append(_("#%(id)s: %(error)s") % {"id": message_id, "error": error})
    if retried:
        flash.success(
            request,
            ngettext(
                "%(count)s reply queued to be sent again.",
                "%(count)s replies queued to be sent again.",
                retried,
            )
            % {"count": retried},
        )
    if skipped:
        flash.warning(
            request,
            ngettext(
                "%(count)s reply skipped: the Hub refused its content, so sending it again unchanged cannot "
                "succeed. Open it and use “Edit and resend”.",
                "%(count)s replies skipped: the Hub refused their content, so sending them again unchanged "
                "cannot succeed. Open them and use “Edit and resend”.",
                skipped,
            )
            % {"count": skipped},
        )
    for reason in refused[:10]:
        flash.error(request, reason)
    return _back(request)


# --- How a reply's life reads on its review page (titles, details, pill colours) ---------------------


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    title: str
    detail: str = ""
    tone: str = ""  # "" | ok | warn | bad (the pill colours)


def review_timeline(*, message: Message) -> list[TimelineEntry]:
    """A reply's life, oldest first: stored, every attempt (start and outcome), every status report."""
    author = _person(message.author) if message.author else "—"
    entries = [TimelineEntry(message.created_at, _("Stored as pending"), _("by %(name)s") % {"name": author})]
    for attempt in message.attempts.order_by("number"):
        entries.extend(_attempt_entries(attempt))
    changes = list(message.status_changes.order_by("occurred_at", "id"))
    names = _retry_requesters(changes)
    entries.extend(_status_entry(change, names) for change in changes)
    return sorted(entries, key=lambda entry: entry.at)


def _person(user: Any) -> str:
    return str(user.get_full_name() or user.get_username())


def _attempt_entries(attempt: SendAttempt) -> list[TimelineEntry]:
    started = (
        _("Attempt %(number)s started (manual retry)") if attempt.manual else _("Attempt %(number)s started")
    )
    entries = [TimelineEntry(attempt.started_at, started % {"number": attempt.number})]
    if attempt.finished_at:
        parts = (
            f"HTTP {attempt.http_status}" if attempt.http_status else "",
            attempt.error_code,
            attempt.error_message,
            _("request %(id)s") % {"id": attempt.hub_request_id} if attempt.hub_request_id else "",
        )
        entries.append(
            TimelineEntry(
                attempt.finished_at,
                _("Attempt %(number)s: %(outcome)s")
                % {"number": attempt.number, "outcome": attempt.get_outcome_display()},
                " · ".join(part for part in parts if part),
                _ATTEMPT_TONES.get(attempt.outcome, "bad"),
            )
        )
    return entries


_ATTEMPT_TONES = {"accepted": "ok", "transient": "warn"}


def _retry_requesters(changes: list[MessageStatusChange]) -> dict[int, str]:
    """Who asked for each retry in `changes` (by the change's id), read in one query."""
    actors = {change.pk: (change.raw or {}).get("actor_id") for change in changes if change.source == "retry"}
    # Keyed by whatever the JSON holds, so an odd actor_id simply finds no name.
    people: dict[object, str] = {
        user.pk: _person(user)
        for user in get_user_model().objects.filter(pk__in=[a for a in actors.values() if a])
    }
    return {change_id: people.get(actor) or _("someone") for change_id, actor in actors.items()}


def _status_entry(change: MessageStatusChange, names: dict[int, str]) -> TimelineEntry:
    if change.source == "retry":
        title, detail = _("Retry requested"), _("by %(name)s") % {"name": names[change.pk]}
    else:
        status = {"status": status_label(change.status)}
        if change.applied:
            title = _("Status %(status)s") % status
        else:
            title = _("Status %(status)s (late or repeated: not applied)") % status
        # The error is the Hub's words, shown as it gave them.
        source = status_source(change.source)
        detail = " · ".join(p for p in (source, change.error_code, change.error_message) if p)
    tone = "bad" if change.status == Message.Status.FAILED else ("ok" if change.applied else "")
    return TimelineEntry(change.occurred_at, title, detail, tone)
