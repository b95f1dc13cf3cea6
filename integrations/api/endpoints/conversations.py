"""Conversations and their messages, filtered and paged by the inbox's and the thread's own selectors
(conversations/selectors/): the API shows exactly what the inbox shows, with opaque keyset cursors."""

from __future__ import annotations

import re
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Prefetch, prefetch_related_objects
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import exceptions, serializers
from rest_framework.request import Request
from rest_framework.response import Response

from channels_app.access import AuthUser
from channels_app.hub.content import ContentError, build_reply_content
from channels_app.selectors import library_template
from conversations.actions.replies import do_retry_reply
from conversations.actions.threads import NOT_ASSIGNABLE, ThreadActionError, do_assign, do_set_status
from conversations.models import Message, MessageStatusChange
from conversations.selectors.inbox import InboxFilters, filters_for, inbox_page, parse_sort_key
from conversations.selectors.thread import conversation_for, message_for, thread_page
from integrations.actions.replies import MAX_KEY_LENGTH, IdempotencyConflict, do_send_api_reply
from integrations.api import cursors
from integrations.api.base import IDEMPOTENCY_KEY, ApiView, parse_body, parse_query, user_of
from integrations.api.errors import IdempotencyKeyReused, Unprocessable
from integrations.api.inputs import (
    AssignInput,
    ConversationFilterInput,
    MessagePageInput,
    ReplyInput,
    StatusInput,
)
from integrations.representations import ConversationSerializer, MessageSerializer
from integrations.selectors import whole_conversations

TAG = ["Conversations"]
MESSAGES_TAG = ["Messages"]

_SORT_KEY = re.compile(r"^\d{1,18}-\d{1,18}$")

CONVERSATION_EXAMPLE = {
    "id": 42,
    "application_id": 1,
    "channel": {"id": 3, "kind": "whatsapp", "display_name": "Support WhatsApp"},
    "contact": {"id": 40, "external_id": "5521987654321", "display_name": "Carla"},
    "status": "open",
    "status_changed_at": None,
    "status_changed_by": None,
    "assignee": {"id": 2, "username": "alice", "name": "Alice Agent"},
    "last_message": {
        "id": 981,
        "direction": "in",
        "preview": "Hi, my order has not arrived",
        "status": "received",
        "created_at": "2026-11-29T14:02:11.300000Z",
    },
    "last_activity_at": "2026-11-29T14:02:11.300000Z",
    "last_inbound_at": "2026-11-29T14:02:10Z",
    "unread_count": 1,
    "created_at": "2026-11-29T14:02:11.290000Z",
}
MESSAGE_EXAMPLE = {
    "id": 982,
    "conversation_id": 42,
    "channel_id": 3,
    "direction": "out",
    "content": {"text": "Sorry about that! Let me check."},
    "preview": "Sorry about that! Let me check.",
    "status": "delivered",
    "error_code": "",
    "error_message": "",
    "author": {"id": 2, "username": "alice", "name": "Alice Agent"},
    "hub_message_id": "wamid.HBgM…",
    "sent_at": "2026-11-29T14:03:00.810000Z",
    "created_at": "2026-11-29T14:03:00.120000Z",
    "status_changed_at": "2026-11-29T14:03:02Z",
    "attempt_count": 1,
    "status_history": [
        {
            "status": "sent",
            "error_code": "",
            "error_message": "",
            "occurred_at": "2026-11-29T14:03:00.810000Z",
            "received_at": "2026-11-29T14:03:00.812000Z",
            "applied": True,
            "source": "send",
        }
    ],
    "attempts": [
        {
            "number": 1,
            "started_at": "2026-11-29T14:03:00.400000Z",
            "finished_at": "2026-11-29T14:03:00.810000Z",
            "outcome": "accepted",
            "http_status": 200,
            "error_code": "",
            "error_message": "",
            "hub_request_id": "req-7f3a",
            "manual": False,
        }
    ],
}

ConversationPage = inline_serializer(
    "ConversationPage",
    {
        "results": ConversationSerializer(many=True),
        "next": serializers.CharField(
            allow_null=True, help_text="The `cursor` of the next page; null at the end."
        ),
    },
)
MessagePage = inline_serializer(
    "MessagePage",
    {
        "results": MessageSerializer(many=True),
        "older": serializers.CharField(allow_null=True, help_text="`before` for older messages; null: none."),
        "newer": serializers.CharField(
            allow_null=True, help_text="`after` for messages newer than this page (poll with it)."
        ),
    },
)


def inbox_filters(user: AuthUser, data: dict[str, Any]) -> InboxFilters:
    """The validated query as the inbox's own filters (an Application the user may not see is a 404)."""
    params = {
        "application": str(data.get("application") or ""),
        "kind": data.get("kind", ""),
        # The API lists every status unless asked (the inbox's default view is the open ones).
        "status": data.get("status") or "all",
        "assigned": data.get("assigned", "all"),
        "unread": "1" if data.get("unread") else "",
        "q": data.get("q", ""),
    }
    return filters_for(user=user, params=params)


def inbox_position(data: dict[str, Any], kind: str) -> str | None:
    """The inbox sort key a `cursor` holds (400 if it is not one)."""
    if not data.get("cursor"):
        return None
    position = cursors.decode(kind, data["cursor"])
    parsed = parse_sort_key(position) if _SORT_KEY.match(position) else None
    if parsed is None:
        raise exceptions.ValidationError({"cursor": [cursors.INVALID]})
    return position


def with_timelines(messages: list[Message]) -> list[Message]:
    """Each message's status history and attempts, in two queries for the whole page."""
    prefetch_related_objects(
        messages,
        Prefetch("status_changes", queryset=MessageStatusChange.objects.order_by("received_at", "id")),
        "attempts",
    )
    return messages


def _conversation(user: AuthUser, conversation_id: int) -> dict[str, Any]:
    conversation = conversation_for(user, conversation_id)
    prefetch_related_objects([conversation], "last_message")
    return dict(ConversationSerializer(conversation).data)


def _message(user: AuthUser, conversation_id: int, message_id: int) -> dict[str, Any]:
    message = message_for(user, conversation_id, message_id)
    return dict(MessageSerializer(with_timelines([message])[0]).data)


class ConversationList(ApiView):
    @extend_schema(
        tags=TAG,
        operation_id="conversations_list",
        summary="List conversations",
        description=(
            "The inbox: newest activity first, with the inbox's filters. Keyset-paginated: pass `next` back "
            "as `cursor` (stable while conversations move up; never an offset)."
        ),
        parameters=[ConversationFilterInput],
        responses=ConversationPage,
        examples=[
            OpenApiExample(
                "A page", value={"results": [CONVERSATION_EXAMPLE], "next": "Y29udmVyc2F0aW9uczox…"}
            )
        ],
    )
    def get(self, request: Request) -> Response:
        user = user_of(request)
        data = parse_query(ConversationFilterInput, request)
        filters = inbox_filters(user, data)
        page = inbox_page(
            user=user, filters=filters, before=inbox_position(data, "conversations"), limit=data["limit"]
        )
        rows = whole_conversations([row.pk for row in page.rows])
        next_cursor = cursors.encode("conversations", page.next_cursor) if page.next_cursor else None
        return Response({"results": ConversationSerializer(rows, many=True).data, "next": next_cursor})


class ConversationDetail(ApiView):
    @extend_schema(
        tags=TAG,
        summary="Get a conversation",
        description="Another tenant's conversation is a 404, as one that does not exist.",
        responses=ConversationSerializer,
        examples=[OpenApiExample("A conversation", value=CONVERSATION_EXAMPLE)],
    )
    def get(self, request: Request, conversation_id: int) -> Response:
        return Response(_conversation(user_of(request), conversation_id))


class ConversationStatus(ApiView):
    @extend_schema(
        tags=TAG,
        summary="Resolve, reopen or park a conversation",
        request=StatusInput,
        responses=ConversationSerializer,
        examples=[
            OpenApiExample("Resolve", request_only=True, value={"status": "resolved"}),
            OpenApiExample(
                "The conversation", response_only=True, value={**CONVERSATION_EXAMPLE, "status": "resolved"}
            ),
        ],
    )
    def post(self, request: Request, conversation_id: int) -> Response:
        user = user_of(request)
        conversation = conversation_for(user, conversation_id)
        data = parse_body(StatusInput, request)
        try:
            do_set_status(conversation=conversation, status=data["status"], actor=user)
        except ThreadActionError as error:
            raise Unprocessable(str(error)) from None
        return Response(_conversation(user, conversation_id))


class ConversationAssign(ApiView):
    @extend_schema(
        tags=TAG,
        summary="Assign a conversation",
        description="To an active member of its Application, or to nobody (`null`).",
        request=AssignInput,
        responses=ConversationSerializer,
        examples=[
            OpenApiExample("Assign", request_only=True, value={"assignee_id": 2}),
            OpenApiExample("The conversation", response_only=True, value=CONVERSATION_EXAMPLE),
        ],
    )
    def post(self, request: Request, conversation_id: int) -> Response:
        user = user_of(request)
        conversation = conversation_for(user, conversation_id)
        data = parse_body(AssignInput, request)
        assignee = None
        if data["assignee_id"] is not None:
            assignee = get_user_model().objects.filter(pk=data["assignee_id"]).first()
            if assignee is None:
                raise Unprocessable(str(NOT_ASSIGNABLE))
        try:
            do_assign(conversation=conversation, assignee=assignee, actor=user)
        except ThreadActionError as error:
            raise Unprocessable(str(error)) from None
        return Response(_conversation(user, conversation_id))


def _idempotency_key(request: Request) -> str:
    key = request.headers.get("Idempotency-Key", "")
    if not key.strip() or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise exceptions.ValidationError(
            {"Idempotency-Key": [_("Send an Idempotency-Key header of 1 to 255 printable characters.")]}
        )
    return key


class MessageList(ApiView):
    @extend_schema(
        tags=MESSAGES_TAG,
        operation_id="conversations_messages_list",
        summary="List a conversation's messages",
        description=(
            "Oldest first, the newest page by default. `before` (an `older` cursor) pages back; `after` (a "
            "`newer` cursor) brings what came since. Each message has its status history and send attempts."
        ),
        parameters=[MessagePageInput],
        responses=MessagePage,
        examples=[
            OpenApiExample(
                "A page",
                value={"results": [MESSAGE_EXAMPLE], "older": None, "newer": "bWVzc2FnZXMtYWZ0ZXI6OTgy"},
            )
        ],
    )
    def get(self, request: Request, conversation_id: int) -> Response:
        user = user_of(request)
        conversation = conversation_for(user, conversation_id)
        data = parse_query(MessagePageInput, request)
        before = (
            cursors.decode_id("messages-before", data["before"], field="before")
            if data.get("before")
            else None
        )
        after = (
            cursors.decode_id("messages-after", data["after"], field="after") if data.get("after") else None
        )
        page = thread_page(
            conversation=conversation, before_id=before, after_id=after, limit=data["limit"], team_items=False
        )
        messages = with_timelines(page.messages)
        older = (
            cursors.encode("messages-before", str(messages[0].pk))
            if messages and page.has_older and after is None
            else None
        )
        if messages:
            newer: str | None = cursors.encode("messages-after", str(messages[-1].pk))
        else:
            newer = data.get("after") or None
        return Response(
            {"results": MessageSerializer(messages, many=True).data, "older": older, "newer": newer}
        )

    @extend_schema(
        tags=MESSAGES_TAG,
        summary="Send a reply",
        description=(
            "Stored at once as `pending`; the worker sends it to the Hub and its status moves on (watch "
            "`message.status_changed` webhooks or poll the message). Give exactly one of `text`, `media_url` "
            "(with `media_type`, `caption`, `filename`) or `template_id` (WhatsApp: the Hub id of a template in "
            "the channel's library, with `template_params` filling each of its variables). "
            "The content is checked against the channel first (length, media types, the service window): a "
            "refusal is a 422 and nothing is stored. 201 for a new reply; 200 when the Idempotency-Key "
            "already stored this very reply."
        ),
        parameters=[IDEMPOTENCY_KEY],
        request=ReplyInput,
        responses={
            201: OpenApiResponse(MessageSerializer, description="Stored; the worker sends it."),
            200: OpenApiResponse(MessageSerializer, description="This key's reply, stored before."),
        },
        examples=[
            OpenApiExample("Text", request_only=True, value={"text": "Your order ships today."}),
            OpenApiExample(
                "Image",
                request_only=True,
                value={"media_url": "https://cdn.example.com/p.jpg", "media_type": "image"},
            ),
            OpenApiExample(
                "Stored",
                response_only=True,
                value={**MESSAGE_EXAMPLE, "status": "pending", "status_history": [], "attempts": []},
                status_codes=["201", "200"],
            ),
        ],
    )
    def post(self, request: Request, conversation_id: int) -> Response:
        user = user_of(request)
        conversation = conversation_for(user, conversation_id)
        key = _idempotency_key(request)
        data = parse_body(ReplyInput, request)
        try:
            content = build_reply_content(channel_kind=conversation.channel.kind, **data)
            # A template must be one of the channel's library (as in the composer), which also names
            # it and gives the text its bubble shows.
            shown = (
                library_template(
                    conversation.channel,
                    hub_template_id=data["template_id"],
                    params=data.get("template_params", []),
                )[1]
                if data.get("template_id")
                else None
            )
            reply = do_send_api_reply(
                conversation=conversation, author=user, content=content, idempotency_key=key, template=shown
            )
        except IdempotencyConflict:
            raise IdempotencyKeyReused() from None
        except ContentError as error:
            raise Unprocessable(str(error)) from None
        body = _message(user, conversation_id, reply.message.pk)
        return Response(body, status=200 if reply.replayed else 201)


class MessageDetail(ApiView):
    @extend_schema(
        tags=MESSAGES_TAG,
        summary="Get a message",
        description="With its status history (every report, also those that moved nothing) and send attempts.",
        responses=MessageSerializer,
        examples=[OpenApiExample("A reply", value=MESSAGE_EXAMPLE)],
    )
    def get(self, request: Request, conversation_id: int, message_id: int) -> Response:
        return Response(_message(user_of(request), conversation_id, message_id))


class MessageRetry(ApiView):
    @extend_schema(
        tags=MESSAGES_TAG,
        summary="Send a failed reply again",
        description=(
            "Only a `failed` reply: it goes back to `pending` with a fresh attempt budget and the worker sends "
            "it again (a new attempt, marked manual). Anything else is a 422."
        ),
        request=None,
        responses=MessageSerializer,
        examples=[OpenApiExample("Pending again", value={**MESSAGE_EXAMPLE, "status": "pending"})],
    )
    def post(self, request: Request, conversation_id: int, message_id: int) -> Response:
        user = user_of(request)
        message = message_for(user, conversation_id, message_id)
        try:
            do_retry_reply(message_id=message.pk, actor=user)
        except ContentError as error:
            raise Unprocessable(str(error)) from None
        return Response(_message(user, conversation_id, message_id))
