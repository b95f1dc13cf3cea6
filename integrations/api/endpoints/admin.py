"""For Application admins: the Hub's deliveries to us (received webhook events) and the delivery review's
counts and timings. Agents get 403, as on the pages; another tenant's event is a 404."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiExample, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from channels_app.access import application_for
from conversations.selectors.review import (
    ReviewFilters,
    Timing,
    review_counts,
    review_messages,
    review_timings,
)
from integrations.api import cursors
from integrations.api.base import ApiView, parse_query, require_some_admin_role, user_of
from integrations.api.inputs import ReceivedEventFilterInput, ReviewFilterInput
from integrations.representations import (
    ReceivedEventDetailSerializer,
    ReceivedEventSerializer,
    ReviewSummarySerializer,
)
from integrations.selectors import received_event_for, received_events_page

EVENT_EXAMPLE = {
    "id": 5120,
    "application_id": 1,
    "received_at": "2026-11-29T14:02:11.250000Z",
    "event_type": "Message",
    "outcome": "processed",
    "error": "",
    "processed_at": "2026-11-29T14:02:11.290000Z",
    "reprocessed_count": 0,
}
EventPage = inline_serializer(
    "ReceivedEventPage",
    {
        "results": ReceivedEventSerializer(many=True),
        "next": serializers.CharField(
            allow_null=True, help_text="The `cursor` of the next page; null at the end."
        ),
    },
)


class ReceivedEventList(ApiView):
    @extend_schema(
        tags=["Received webhook events"],
        operation_id="webhook_events_list",
        summary="List the Hub's deliveries to us",
        description=(
            "Every event the Hub posted to the Applications you administer, newest first, with what was done "
            "with it (`processed`, `duplicate`, `ignored`, `invalid`, `rejected`, `failed`)."
        ),
        parameters=[ReceivedEventFilterInput],
        responses=EventPage,
        examples=[OpenApiExample("A page", value={"results": [EVENT_EXAMPLE], "next": None})],
    )
    def get(self, request: Request) -> Response:
        user = user_of(request)
        require_some_admin_role(user)
        data = parse_query(ReceivedEventFilterInput, request)
        if data.get("application"):
            application_for(user, data["application"], admin=True)
        before = cursors.decode_id("events", data["cursor"]) if data.get("cursor") else None
        page = received_events_page(
            user=user,
            application_id=data.get("application"),
            outcome=data.get("outcome", ""),
            before=before,
            limit=data["limit"],
        )
        next_cursor = cursors.encode("events", str(page.next_before)) if page.next_before else None
        return Response({"results": ReceivedEventSerializer(page.rows, many=True).data, "next": next_cursor})


class ReceivedEventDetail(ApiView):
    @extend_schema(
        tags=["Received webhook events"],
        summary="Get one delivery from the Hub",
        description="With its headers and its body as received.",
        responses=ReceivedEventDetailSerializer,
        examples=[
            OpenApiExample(
                "An event",
                value={
                    **EVENT_EXAMPLE,
                    "headers": {"Content-Type": "application/json"},
                    "body": '{"messageId": "…"}',
                },
            )
        ],
    )
    def get(self, request: Request, event_id: int) -> Response:
        user = user_of(request)
        require_some_admin_role(user)
        return Response(ReceivedEventDetailSerializer(received_event_for(user, event_id)).data)


def _timing(timing: Timing) -> dict[str, Any]:
    return {
        "count": timing.count,
        "median_seconds": timing.median.total_seconds() if timing.median is not None else None,
        "p90_seconds": timing.p90.total_seconds() if timing.p90 is not None else None,
    }


class ReviewSummary(ApiView):
    @extend_schema(
        tags=["Delivery review"],
        summary="Reply counts and delivery timings",
        description=(
            "The delivery review's figures over the replies of the Applications you administer, with its "
            "filters: replies per status (plus `total` and `stuck`), and the median and p90 time from the "
            "agent's send to the first `delivered` (or `read`) and to `read`."
        ),
        parameters=[ReviewFilterInput],
        responses=ReviewSummarySerializer,
        examples=[
            OpenApiExample(
                "Figures",
                value={
                    "counts": {
                        "pending": 0,
                        "enqueued": 1,
                        "sent": 3,
                        "delivered": 40,
                        "read": 52,
                        "failed": 2,
                        "total": 98,
                        "stuck": 1,
                    },
                    "to_delivered": {"count": 92, "median_seconds": 2.1, "p90_seconds": 6.0},
                    "to_read": {"count": 52, "median_seconds": 95.0, "p90_seconds": 1200.0},
                },
            )
        ],
    )
    def get(self, request: Request) -> Response:
        user = user_of(request)
        require_some_admin_role(user)
        data = parse_query(ReviewFilterInput, request)
        if data.get("application"):
            application_for(user, data["application"], admin=True)
        filters = ReviewFilters(
            application_id=data.get("application"),
            channel_id=data.get("channel"),
            status=data.get("status", ""),
            error_code=data.get("error_code", ""),
            author_id=data.get("agent"),
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
            stuck=data["stuck"],
        )
        messages = review_messages(user=user, filters=filters)
        timings = review_timings(messages=messages)
        return Response(
            {
                "counts": review_counts(messages=messages),
                "to_delivered": _timing(timings["delivered"]),
                "to_read": _timing(timings["read"]),
            }
        )
