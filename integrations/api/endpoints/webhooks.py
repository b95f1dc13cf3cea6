"""Outgoing webhooks (admins): subscribe a URL to events, change or remove it, rotate its signing secret,
read its delivery log and resend a delivery. Agents get 403; another tenant's webhook is a 404."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import exceptions, serializers
from rest_framework.request import Request
from rest_framework.response import Response

from channels_app.access import application_for
from integrations.actions.deliveries import DeliveryError, do_resend_delivery
from integrations.actions.subscriptions import (
    SubscriptionError,
    SubscriptionWithSecret,
    do_create_subscription,
    do_delete_subscription,
    do_rotate_secret,
    do_update_subscription,
)
from integrations.api import cursors
from integrations.api.base import (
    ApiView,
    created,
    parse_body,
    parse_query,
    require_admin,
    require_some_admin_role,
    user_of,
)
from integrations.api.errors import Unprocessable
from integrations.api.inputs import DeliveryFilterInput, SubscriptionInput, SubscriptionUpdateInput
from integrations.representations import (
    DeliveryDetailSerializer,
    DeliverySerializer,
    SubscriptionSerializer,
    SubscriptionWithSecretSerializer,
)
from integrations.selectors import deliveries_page, delivery_for, subscription_for, subscriptions_of

TAG = ["Outgoing webhooks"]

SUBSCRIPTION_EXAMPLE = {
    "id": 7,
    "application_id": 1,
    "url": "https://crm.example.com/hooks/hubdash",
    "events": ["conversation.created", "message.created"],
    "description": "CRM sync",
    "active": True,
    "disabled_at": None,
    "disabled_reason": "",
    "consecutive_failures": 0,
    "created_at": "2026-11-29T10:00:00Z",
    "updated_at": "2026-11-29T10:00:00Z",
}
DELIVERY_EXAMPLE = {
    "id": 311,
    "subscription_id": 7,
    "event": "message.created",
    "event_id": "1f0c3a56-53d4-4d84-b1f2-9b8e1c3f0a77",
    "status": "delivered",
    "attempt_count": 1,
    "next_attempt_at": None,
    "last_http_status": 204,
    "last_error": "",
    "created_at": "2026-11-29T14:02:11.300000Z",
    "delivered_at": "2026-11-29T14:02:11.420000Z",
}
DeliveryPage = inline_serializer(
    "DeliveryPage",
    {
        "results": DeliverySerializer(many=True),
        "next": serializers.CharField(
            allow_null=True, help_text="The `cursor` of the next page; null at the end."
        ),
    },
)


def _refused(error: SubscriptionError) -> exceptions.APIException:
    """A refusal about one input is a 400 on that field; one about the whole request a 422."""
    if error.field:
        return exceptions.ValidationError({error.field: [str(error)]})
    return Unprocessable(str(error))


def _with_secret(made: SubscriptionWithSecret) -> dict[str, Any]:
    return {**SubscriptionSerializer(made.subscription).data, "secret": made.secret}


def _subscription(request: Request, subscription_id: int) -> Any:
    user = user_of(request)
    require_some_admin_role(user)
    return subscription_for(user, subscription_id)


class SubscriptionList(ApiView):
    @extend_schema(
        tags=TAG,
        summary="List an Application's webhooks",
        responses=SubscriptionSerializer(many=True),
        examples=[OpenApiExample("Webhooks", value=[SUBSCRIPTION_EXAMPLE])],
    )
    def get(self, request: Request, application_id: int) -> Response:
        user = user_of(request)
        application = application_for(user, application_id)
        require_admin(user, application)
        return Response(SubscriptionSerializer(subscriptions_of(application), many=True).data)

    @extend_schema(
        tags=TAG,
        summary="Subscribe a URL to events",
        description=(
            "Events: `message.created`, `message.status_changed`, `conversation.created`, "
            "`conversation.updated`, `conversation.resolved`. Each is POSTed as JSON "
            '`{"id", "type", "created_at", "application_id", "data"}` with `Hubdash-Signature: t=<unix>,v1=<hex>`, '
            "HMAC-SHA256 with the `secret` over `<t>.<body>`. The answer is the only time the secret is shown. "
            "The URL must be http(s); loopback and private addresses are refused in production."
        ),
        request=SubscriptionInput,
        responses={201: SubscriptionWithSecretSerializer},
        examples=[
            OpenApiExample(
                "Subscribe",
                request_only=True,
                value={"url": "https://crm.example.com/hooks/hubdash", "events": ["message.created"]},
            ),
            OpenApiExample(
                "Subscribed", response_only=True, value={**SUBSCRIPTION_EXAMPLE, "secret": "whsec_9Jx…"}
            ),
        ],
    )
    def post(self, request: Request, application_id: int) -> Response:
        user = user_of(request)
        application = application_for(user, application_id)
        require_admin(user, application)
        data = parse_body(SubscriptionInput, request)
        try:
            made = do_create_subscription(actor=user, application=application, **data)
        except SubscriptionError as error:
            raise _refused(error) from None
        return created(_with_secret(made))


class SubscriptionDetail(ApiView):
    @extend_schema(
        tags=TAG,
        summary="Get a webhook",
        responses=SubscriptionSerializer,
        examples=[OpenApiExample("A webhook", value=SUBSCRIPTION_EXAMPLE)],
    )
    def get(self, request: Request, subscription_id: int) -> Response:
        return Response(SubscriptionSerializer(_subscription(request, subscription_id)).data)

    @extend_schema(
        tags=TAG,
        summary="Change a webhook, or turn it back on",
        description=(
            "`active: true` turns on a webhook that a run of failed deliveries turned off: its failures are "
            "forgotten and its waiting deliveries go out at once."
        ),
        request=SubscriptionUpdateInput,
        responses=SubscriptionSerializer,
        examples=[
            OpenApiExample("Turn on", request_only=True, value={"active": True}),
            OpenApiExample("The webhook", response_only=True, value=SUBSCRIPTION_EXAMPLE),
        ],
    )
    def patch(self, request: Request, subscription_id: int) -> Response:
        user = user_of(request)
        subscription = _subscription(request, subscription_id)
        data = parse_body(SubscriptionUpdateInput, request)
        try:
            subscription = do_update_subscription(actor=user, subscription=subscription, **data)
        except SubscriptionError as error:
            raise _refused(error) from None
        return Response(SubscriptionSerializer(subscription).data)

    @extend_schema(
        tags=TAG,
        summary="Remove a webhook",
        description="With its delivery log; nothing more is sent to its URL.",
        responses={204: OpenApiResponse(description="Removed.")},
    )
    def delete(self, request: Request, subscription_id: int) -> Response:
        user = user_of(request)
        do_delete_subscription(actor=user, subscription=_subscription(request, subscription_id))
        return Response(status=204)


class SubscriptionRotateSecret(ApiView):
    @extend_schema(
        tags=TAG,
        summary="Rotate a webhook's signing secret",
        description="The new secret signs every delivery from now on; it is shown only in this answer.",
        request=None,
        responses=SubscriptionWithSecretSerializer,
        examples=[OpenApiExample("Rotated", value={**SUBSCRIPTION_EXAMPLE, "secret": "whsec_Qm2…"})],
    )
    def post(self, request: Request, subscription_id: int) -> Response:
        user = user_of(request)
        made = do_rotate_secret(actor=user, subscription=_subscription(request, subscription_id))
        return Response(_with_secret(made))


class DeliveryList(ApiView):
    @extend_schema(
        tags=TAG,
        operation_id="webhooks_deliveries_list",
        summary="A webhook's delivery log",
        description="Newest first: each event with its status (`pending`, `delivered`, `failed`) and last answer.",
        parameters=[DeliveryFilterInput],
        responses=DeliveryPage,
        examples=[OpenApiExample("A page", value={"results": [DELIVERY_EXAMPLE], "next": None})],
    )
    def get(self, request: Request, subscription_id: int) -> Response:
        subscription = _subscription(request, subscription_id)
        data = parse_query(DeliveryFilterInput, request)
        before = cursors.decode_id("deliveries", data["cursor"]) if data.get("cursor") else None
        page = deliveries_page(
            subscription=subscription, status=data.get("status", ""), before=before, limit=data["limit"]
        )
        next_cursor = cursors.encode("deliveries", str(page.next_before)) if page.next_before else None
        return Response({"results": DeliverySerializer(page.rows, many=True).data, "next": next_cursor})


class DeliveryDetail(ApiView):
    @extend_schema(
        tags=TAG,
        summary="One delivery",
        description="With the exact body every attempt sends and each attempt's answer.",
        responses=DeliveryDetailSerializer,
        examples=[OpenApiExample("A delivery", value={**DELIVERY_EXAMPLE, "body": "{…}", "attempts": []})],
    )
    def get(self, request: Request, subscription_id: int, delivery_id: int) -> Response:
        subscription = _subscription(request, subscription_id)
        return Response(DeliveryDetailSerializer(delivery_for(subscription, delivery_id)).data)


class DeliveryResend(ApiView):
    @extend_schema(
        tags=TAG,
        summary="Send a delivery again",
        description=(
            "Now, with the same body and `id` (receivers deduplicate on it) and a fresh attempt budget. "
            "A delivery being sent at this moment is a 422."
        ),
        request=None,
        responses={202: DeliverySerializer},
        examples=[
            OpenApiExample("Due again", value={**DELIVERY_EXAMPLE, "status": "pending"}, status_codes=["202"])
        ],
    )
    def post(self, request: Request, subscription_id: int, delivery_id: int) -> Response:
        subscription = _subscription(request, subscription_id)
        try:
            delivery = do_resend_delivery(delivery=delivery_for(subscription, delivery_id))
        except DeliveryError as error:
            raise Unprocessable(str(error)) from None
        return Response(DeliverySerializer(delivery).data, status=202)
