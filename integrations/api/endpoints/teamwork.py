"""The team's notes and labels through the API: the same actions and access checks as the inbox
(a conversation of another tenant is a 404, a refused write a 422 with nothing stored)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from channels_app.access import application_for
from conversations.actions.labels import LabelError, do_set_labels
from conversations.actions.notes import MAX_NOTE_LENGTH, NoteError, do_add_note
from conversations.selectors.inbox import labels_of
from conversations.selectors.teamwork import notes_of
from conversations.selectors.thread import conversation_for
from integrations.api.base import ApiView, parse_body, user_of
from integrations.api.errors import Unprocessable
from integrations.api.inputs import StrictSerializer
from integrations.representations import LabelSerializer, NoteSerializer

TAG = ["Notes and labels"]

NOTE_EXAMPLE = {
    "id": 990,
    "conversation_id": 42,
    "author": {"id": 2, "username": "alice", "name": "Alice Agent"},
    "text": "@bruno can you check the refund?",
    "mentions": ["bruno"],
    "created_at": "2026-11-29T14:05:00Z",
}
LABEL_EXAMPLE = {"id": 3, "name": "Billing", "colour": "#e03131"}


class NoteInput(StrictSerializer):
    text = serializers.CharField(max_length=MAX_NOTE_LENGTH, trim_whitespace=False)


class LabelsInput(StrictSerializer):
    label_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**63 - 1), max_length=50, allow_empty=True
    )


class NoteList(ApiView):
    @extend_schema(
        tags=TAG,
        summary="List a conversation's notes",
        description="The team's notes, oldest first (the latest 200). Never sent to the customer.",
        responses=NoteSerializer(many=True),
        examples=[OpenApiExample("Notes", value=[NOTE_EXAMPLE])],
    )
    def get(self, request: Request, conversation_id: int) -> Response:
        conversation = conversation_for(user_of(request), conversation_id, bare=True)
        return Response(NoteSerializer(notes_of(conversation=conversation), many=True).data)

    @extend_schema(
        tags=TAG,
        summary="Write a note",
        description=(
            "A note for the team in the conversation's thread, live in every open inbox. `@username` of a "
            "member of the Application mentions them; any other `@name` stays text. Empty: 400; never sent "
            "to the Hub."
        ),
        request=NoteInput,
        responses={201: NoteSerializer},
        examples=[
            OpenApiExample("A note", request_only=True, value={"text": "@bruno can you check the refund?"}),
            OpenApiExample("Stored", response_only=True, value=NOTE_EXAMPLE, status_codes=["201"]),
        ],
    )
    def post(self, request: Request, conversation_id: int) -> Response:
        user = user_of(request)
        conversation = conversation_for(user, conversation_id)
        data = parse_body(NoteInput, request)
        try:
            note = do_add_note(conversation=conversation, author=user, text=data["text"])
        except NoteError as error:
            raise Unprocessable(str(error)) from None
        return Response(NoteSerializer(note).data, status=201)


class ConversationLabels(ApiView):
    @extend_schema(
        tags=TAG,
        summary="List a conversation's labels",
        responses=LabelSerializer(many=True),
        examples=[OpenApiExample("Labels", value=[LABEL_EXAMPLE])],
    )
    def get(self, request: Request, conversation_id: int) -> Response:
        conversation = conversation_for(user_of(request), conversation_id, bare=True)
        return Response(LabelSerializer(conversation.labels.all(), many=True).data)

    @extend_schema(
        tags=TAG,
        summary="Set a conversation's labels",
        description=(
            "Exactly these labels of the conversation's Application (an empty list removes them all). Each "
            "label added or removed is an activity line in the thread. An id that is not one of the "
            "Application's labels is a 422 and nothing changes."
        ),
        request=LabelsInput,
        responses=LabelSerializer(many=True),
        examples=[
            OpenApiExample("Set", request_only=True, value={"label_ids": [3]}),
            OpenApiExample("Its labels now", response_only=True, value=[LABEL_EXAMPLE]),
        ],
    )
    def put(self, request: Request, conversation_id: int) -> Response:
        user = user_of(request)
        conversation = conversation_for(user, conversation_id)
        data: dict[str, Any] = parse_body(LabelsInput, request)
        try:
            labels = do_set_labels(conversation=conversation, label_ids=data["label_ids"], actor=user)
        except LabelError as error:
            raise Unprocessable(str(error)) from None
        return Response(LabelSerializer(labels, many=True).data)


class ApplicationLabels(ApiView):
    @extend_schema(
        tags=TAG,
        summary="List an Application's labels",
        description="The labels its admins defined (in the settings), by name.",
        responses=LabelSerializer(many=True),
        examples=[OpenApiExample("Labels", value=[LABEL_EXAMPLE])],
    )
    def get(self, request: Request, application_id: int) -> Response:
        application = application_for(user_of(request), application_id)
        return Response(LabelSerializer(labels_of(application_ids=[application.pk]), many=True).data)
