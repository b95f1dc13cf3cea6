"""The reports pages (`/reports/`): every member may open them; an agent sees their own figures only.

Four reports, each one page with its own queries (so each answers on its own within the budget of
docs/benchmarks.md): the overview, volume, delivery and agents. Every figure links to the list behind it:
the conversations a figure counts (`/reports/conversations/`), or the delivery review for replies.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from channels_app.access import AuthenticatedRequest, visible_applications
from channels_app.models import Channel, Membership
from conversations.forms import ReviewFilterForm
from conversations.selectors.inbox import label_ids_of, labels_of
from conversations.selectors.review import Timing
from conversations.views.review import CSV_BOM, safe_cell
from reports import figures
from reports.scope import ReportScope, scope_from_params

REPORTS = ("overview", "volume", "delivery", "agents")
LIST_PAGE_SIZE = 50


def _scope(request: AuthenticatedRequest) -> tuple[ReportScope, ReviewFilterForm]:
    form = ReviewFilterForm(request.GET)
    form.is_valid()  # the refused values are left out of cleaned_data and said on the page
    labels = label_ids_of(request.GET)
    return scope_from_params(user=request.user, params=form.cleaned_data, labels=labels), form


def _choices(request: AuthenticatedRequest, scope: ReportScope) -> dict[str, Any]:
    applications = list(visible_applications(request.user).order_by("name"))
    channels = list(
        Channel.objects.filter(application__in=applications)
        .select_related("application")
        .order_by("application__name", "kind", "display_name")
    )
    agents: list[Any] = []
    if not scope.own_only:
        members = Membership.objects.filter(application_id__in=scope.application_ids).values("user_id")
        agents = list(get_user_model().objects.filter(pk__in=members).order_by("first_name", "username"))
    labels = labels_of(application_ids=[a.pk for a in applications])
    return {"applications": applications, "channels": channels, "agents": agents, "labels": labels}


def _context(request: AuthenticatedRequest, report: str) -> tuple[ReportScope, dict[str, Any]]:
    scope, form = _scope(request)
    context = {
        "report": report,
        "reports": REPORTS,
        "scope": scope,
        "query": scope.query(),
        "filter_errors": form.error_lines(),
        "choices": _choices(request, scope),
        "channel_names": {c.pk: c for c in Channel.objects.filter(pk__in=scope.channel_ids)},
    }
    return scope, context


@require_GET
@login_required
def overview(request: AuthenticatedRequest) -> HttpResponse:
    scope, context = _context(request, "overview")
    timings = figures.timings(scope, per=("channel",))
    empty = Timing(0, None, None)
    by_channel = [
        (
            channel,
            timings.first_response_by_channel.get(pk, empty),
            timings.resolution_by_channel.get(pk, empty),
        )
        for pk, channel in context["channel_names"].items()
    ]
    context.update(
        summary=figures.summary(scope, figures.message_counts(scope)),
        timings=timings,
        by_channel=sorted(by_channel, key=lambda row: str(row[0])),
        service_level=figures.service_level(scope),
    )
    return render(request, "reports/overview.html", context)


@require_GET
@login_required
def volume(request: AuthenticatedRequest) -> HttpResponse:
    scope, context = _context(request, "volume")
    data = figures.volume(scope)
    context.update(
        volume=data,
        hours=range(24),
        heat_rows=list(zip(_weekday_names(), data.heat, strict=True)),
        chart={
            "labels": [day.isoformat() for day in data.days],
            "inbound": data.inbound_by_day,
            "outbound": data.outbound_by_day,
            "inbound_label": _("Customer messages"),
            "outbound_label": _("Replies"),
        },
        day_rows=list(zip(data.days, data.inbound_by_day, data.outbound_by_day, strict=True)),
    )
    return render(request, "reports/volume.html", context)


@require_GET
@login_required
def delivery(request: AuthenticatedRequest) -> HttpResponse:
    scope, context = _context(request, "delivery")
    rows = figures.delivery(scope)
    context.update(
        rows=rows,
        statuses=figures.DELIVERY_STATUSES,
        chart={
            "labels": [str(row.channel) for row in rows],
            "statuses": list(figures.DELIVERY_STATUSES),
            "counts": [[row.counts.get(s, 0) for s in figures.DELIVERY_STATUSES] for row in rows],
            "channels": [row.channel.pk for row in rows],
        },
    )
    return render(request, "reports/delivery.html", context)


@require_GET
@login_required
def agents(request: AuthenticatedRequest) -> HttpResponse:
    scope, context = _context(request, "agents")
    context.update(rows=figures.agents(scope, figures.timings(scope, per=("agent",))))
    return render(request, "reports/agents.html", context)


@require_GET
@login_required
def conversations(request: AuthenticatedRequest) -> HttpResponse:
    """The cycles behind one figure (`figure=`), newest first, keyset by id."""
    scope, context = _context(request, "conversations")
    figure = request.GET.get("figure", "")
    weekday, hour = _number(request, "weekday", 0, 6), _number(request, "hour", 0, 23)
    rows: QuerySet[Any]
    if figure == "received":
        rows = figures.received_messages(scope, weekday=weekday, hour=hour)
        related: tuple[str, ...] = ("conversation__contact", "channel")
    elif figure in figures.CYCLE_FIGURES:
        rows = figures.figure_cycles(scope, figure)
        related = ("conversation__contact", "channel", "first_responder", "resolved_by")
    else:
        raise Http404("No such figure.")
    before = _number(request, "before", 1, 2**63 - 1)
    page = rows.select_related(*related).order_by("-id")
    if before:
        page = page.filter(pk__lt=before)
    items = list(page[: LIST_PAGE_SIZE + 1])
    context.update(
        figure=figure,
        figure_title=figures.figure_title(figure),
        total=rows.count(),
        rows=items[:LIST_PAGE_SIZE],
        next_before=items[LIST_PAGE_SIZE - 1].pk if len(items) > LIST_PAGE_SIZE else None,
        slot=(weekday, hour),
        weekday_name=_weekday_names()[weekday] if weekday is not None else "",
        slot_query=scope.query(
            figure=figure, weekday="" if weekday is None else weekday, hour="" if hour is None else hour
        ),
        now=timezone.now(),
    )
    return render(request, "reports/conversations.html", context)


def _number(request: AuthenticatedRequest, name: str, low: int, high: int) -> int | None:
    value = request.GET.get(name, "")
    return int(value) if value.isdigit() and low <= int(value) <= high else None


def _weekday_names() -> list[str]:
    # 2024-01-01 was a Monday: the language's own weekday names, Monday first.
    return [date_format(date(2024, 1, 1) + timedelta(days=n), "D") for n in range(7)]


# --- CSV ----------------------------------------------------------------------------------------------


def _seconds(value: timedelta | None) -> str:
    return f"{value.total_seconds():.0f}" if value is not None else ""


def _timing_cells(timing: Timing) -> list[Any]:
    return [timing.count, _seconds(timing.median), _seconds(timing.p90)]


def _person(user: Any) -> str:
    return str(user.get_full_name() or user.get_username()) if user else ""


def _export_rows(
    request: AuthenticatedRequest, table: str, scope: ReportScope
) -> tuple[list[str], Iterable[Sequence[Any]]]:
    """One table of a report as CSV: identifiers as column names, durations in seconds, days ISO."""
    channels = {c.pk: c for c in Channel.objects.filter(pk__in=scope.channel_ids)}
    if table == "summary":
        s = figures.summary(scope, figures.message_counts(scope))
        names = ["opened", "reopened", "resolved", "answered", "unanswered", "messages_in", "messages_out"]
        return names, [[getattr(s, name) for name in names]]
    if table in ("timings_by_channel", "timings"):
        t = figures.timings(scope, per=("channel",))
        header = ["channel", "first_response_count", "first_response_median_s", "first_response_p90_s",
                  "resolution_count", "resolution_median_s", "resolution_p90_s"]  # fmt: skip
        if table == "timings":
            return header, [["", *_timing_cells(t.first_response), *_timing_cells(t.resolution)]]
        empty = Timing(0, None, None)
        return header, [
            [str(channel), *_timing_cells(t.first_response_by_channel.get(pk, empty)),
             *_timing_cells(t.resolution_by_channel.get(pk, empty))]
            for pk, channel in sorted(channels.items(), key=lambda item: str(item[1]))
        ]  # fmt: skip
    if table == "days":
        v = figures.volume(scope)
        return ["day", "messages_in", "messages_out"], [
            [day.isoformat(), n_in, n_out]
            for day, n_in, n_out in zip(v.days, v.inbound_by_day, v.outbound_by_day, strict=True)
        ]
    if table == "heat_map":
        v = figures.volume(scope)
        return ["weekday", *[f"{h:02d}" for h in range(24)]], [
            [name, *row]
            for name, row in zip(["mon", "tue", "wed", "thu", "fri", "sat", "sun"], v.heat, strict=True)
        ]
    if table == "delivery":
        rows = figures.delivery(scope)
        return ["channel", *figures.DELIVERY_STATUSES, "top_error_codes"], [
            [str(r.channel), *[r.counts.get(s, 0) for s in figures.DELIVERY_STATUSES],
             " ".join(f"{code}:{n}" for code, n in r.errors)]
            for r in rows
        ]  # fmt: skip
    if table == "agents":
        rows_ = figures.agents(scope, figures.timings(scope, per=("agent",)))
        header = ["agent", "conversations", "replies", "first_response_count", "first_response_median_s",
                  "first_response_p90_s", "resolutions", "resolution_median_s"]  # fmt: skip
        return header, [
            [_person(r.agent), r.conversations, r.replies, *_timing_cells(r.first_response), r.resolutions,
             _seconds(r.resolution.median)]
            for r in rows_
        ]  # fmt: skip
    raise Http404("No such table.")


@require_GET
@login_required
def export(request: AuthenticatedRequest, table: str) -> HttpResponse:
    scope, _form = _scope(request)
    header, rows = _export_rows(request, table, scope)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response.write(CSV_BOM)
    writer = csv.writer(response)
    writer.writerow(header)
    for row in rows:
        writer.writerow([safe_cell(cell) for cell in row])
    name = f"hubdash-{table}-{scope.first_day.isoformat()}-{scope.last_day.isoformat()}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
