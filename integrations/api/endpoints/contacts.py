"""Contacts: the customers of the conversations a user may see, listed with the inbox's own filters
(a contact has one conversation per channel), renamed as from the thread header."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiExample, extend_schema, inline_serializer
from rest_framework import exceptions, serializers
from rest_framework.request import Request
from rest_framework.response import Response

from conversations.actions.threads import ThreadActionError, do_rename_contact
from conversations.models import Contact
from conversations.selectors.inbox import inbox_page
from integrations.api import cursors
from integrations.api.base import ApiView, parse_body, parse_query, user_of
from integrations.api.endpoints.conversations import inbox_filters, inbox_position
from integrations.api.inputs import ContactFilterInput, ContactUpdateInput
from integrations.representations import ContactDetailSerializer, ContactSerializer
from integrations.selectors import contact_for, linked_contacts

TAG = ["Contacts"]

CONTACT_EXAMPLE = {
    "id": 40,
    "application_id": 1,
    "channel": {"id": 3, "kind": "whatsapp", "display_name": "Support WhatsApp"},
    "external_id": "5521987654321",
    "display_name": "Carla",
    "conversation_id": 42,
    "created_at": "2026-11-29T14:02:11.280000Z",
}
ContactPage = inline_serializer(
    "ContactPage",
    {
        "results": ContactSerializer(many=True),
        "next": serializers.CharField(
            allow_null=True, help_text="The `cursor` of the next page; null at the end."
        ),
    },
)


def _detail(user: Any, contact_id: int) -> dict[str, Any]:
    contact = contact_for(user, contact_id)
    contact.linked = linked_contacts(contact)  # type: ignore[attr-defined]
    return dict(ContactDetailSerializer(contact).data)


class ContactList(ApiView):
    @extend_schema(
        tags=TAG,
        operation_id="contacts_list",
        summary="List contacts",
        description=(
            "The contacts of the conversations you may see, in the inbox's order (latest activity first) and "
            "with its filters; `q` finds a name, number or message text."
        ),
        parameters=[ContactFilterInput],
        responses=ContactPage,
        examples=[OpenApiExample("A page", value={"results": [CONTACT_EXAMPLE], "next": None})],
    )
    def get(self, request: Request) -> Response:
        user = user_of(request)
        data = parse_query(ContactFilterInput, request)
        page = inbox_page(
            user=user,
            filters=inbox_filters(user, data),
            before=inbox_position(data, "contacts"),
            limit=data["limit"],
        )
        contacts: list[Contact] = []
        for conversation in page.rows:
            contact = conversation.contact
            contact.channel = conversation.channel  # the same row, already read with the conversation
            contacts.append(contact)
        next_cursor = cursors.encode("contacts", page.next_cursor) if page.next_cursor else None
        return Response({"results": ContactSerializer(contacts, many=True).data, "next": next_cursor})


class ContactDetail(ApiView):
    @extend_schema(
        tags=TAG,
        summary="Get a contact",
        description="With its linked contacts: the same id (e.g. a phone number) on the Application's other channels.",
        responses=ContactDetailSerializer,
        examples=[OpenApiExample("A contact", value={**CONTACT_EXAMPLE, "linked_contacts": []})],
    )
    def get(self, request: Request, contact_id: int) -> Response:
        return Response(_detail(user_of(request), contact_id))

    @extend_schema(
        tags=TAG,
        summary="Name a contact",
        description="The Hub sends no names; an empty name shows the channel id again. Every open inbox redraws.",
        request=ContactUpdateInput,
        responses=ContactDetailSerializer,
        examples=[
            OpenApiExample("Rename", request_only=True, value={"display_name": "Carla Souza"}),
            OpenApiExample(
                "The contact", response_only=True, value={**CONTACT_EXAMPLE, "linked_contacts": []}
            ),
        ],
    )
    def patch(self, request: Request, contact_id: int) -> Response:
        user = user_of(request)
        contact = contact_for(user, contact_id)
        data = parse_body(ContactUpdateInput, request)
        try:
            do_rename_contact(
                conversation=contact.conversation, display_name=data["display_name"], actor=user
            )
        except ThreadActionError as error:
            raise exceptions.ValidationError({"display_name": [str(error)]}) from None
        return Response(_detail(user, contact_id))
