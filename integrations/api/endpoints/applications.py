"""Applications and their channels: every member reads them; admins change them. The Hub API key is
write-only (checked with the Hub before it is stored), and signing secrets are never shown."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.response import Response

from channels_app.access import AuthUser, application_for, visible_applications
from channels_app.actions.applications import do_create_application, do_replace_api_key, do_update_application
from channels_app.actions.channels import do_register_channel, do_set_channel_active, do_update_channel
from channels_app.actions.common import SettingsError
from channels_app.hub import HubError
from channels_app.models import Application, Channel
from channels_app.selectors import can_create_application
from integrations.api.base import ApiView, created, parse_body, require_admin, user_of
from integrations.api.errors import HubUnavailable
from integrations.api.inputs import (
    ApplicationCreateInput,
    ApplicationUpdateInput,
    ChannelCreateInput,
    ChannelUpdateInput,
)
from integrations.representations import ApplicationSerializer, ChannelSerializer
from integrations.selectors import administered_ids, roles_of

TAG = ["Applications"]

APPLICATION_EXAMPLE = OpenApiExample(
    "An Application",
    response_only=True,
    value={
        "id": 1,
        "name": "Demo Shop",
        "hub_api_key_hint": "••••a1b2",
        "accept_unsigned_events": False,
        "webhook_url": "https://hubdash.example.com/hub/webhook/7c0e…/",
        "role": "admin",
        "channels": [
            {
                "id": 3,
                "application_id": 1,
                "kind": "whatsapp",
                "display_name": "Support WhatsApp",
                "hub_channel_id": "3f2c9a10-7d4e-4b8a-9c21-0e5d6f7a8b90",
                "active": True,
                "created_at": "2026-11-02T09:14:03.120000Z",
            }
        ],
        "created_at": "2026-11-02T09:12:44.551000Z",
    },
)
CHANNEL_EXAMPLE = OpenApiExample(
    "A channel",
    value={
        "id": 3,
        "application_id": 1,
        "kind": "whatsapp",
        "display_name": "Support WhatsApp",
        "hub_channel_id": "3f2c9a10-7d4e-4b8a-9c21-0e5d6f7a8b90",
        "active": True,
        "created_at": "2026-11-02T09:14:03.120000Z",
    },
    response_only=True,
)


def _context(user: AuthUser) -> dict[str, Any]:
    return {"administered_ids": set(administered_ids(user)), "roles": roles_of(user)}


def _application(user: AuthUser, application: Application) -> dict[str, Any]:
    fresh = visible_applications(user).prefetch_related("channels").get(pk=application.pk)
    return dict(ApplicationSerializer(fresh, context=_context(user)).data)


def _hub_refused(error: HubError) -> exceptions.APIException:
    """A key the Hub refused is the caller's input to fix; an unreachable Hub is ours (502)."""
    if not error.permanent:
        return HubUnavailable()
    message = _("The Hub refused this key (HTTP %(status)s): %(reason)s") % {
        "status": error.status or "-",
        "reason": error.message,
    }
    return exceptions.ValidationError({"hub_api_key": [message]})


class ApplicationList(ApiView):
    @extend_schema(
        tags=TAG,
        summary="List Applications",
        description="The Applications you are a member of (all of them for a superuser), with their channels.",
        responses=ApplicationSerializer(many=True),
        examples=[APPLICATION_EXAMPLE],
    )
    def get(self, request: Request) -> Response:
        user = user_of(request)
        applications = visible_applications(user).prefetch_related("channels").order_by("name", "id")
        return Response(ApplicationSerializer(applications, many=True, context=_context(user)).data)

    @extend_schema(
        tags=TAG,
        summary="Create an Application",
        description=(
            "For superusers and admins of an Application; you become the new one's admin. The Hub API key is "
            "checked with the Hub first: a refused key is a 400 on `hub_api_key` and nothing is stored."
        ),
        request=ApplicationCreateInput,
        responses={201: ApplicationSerializer},
        examples=[
            OpenApiExample(
                "New Application",
                request_only=True,
                value={"name": "Demo Shop", "hub_api_key": "hk_live_51Hx9"},
            ),
            APPLICATION_EXAMPLE,
        ],
    )
    def post(self, request: Request) -> Response:
        user = user_of(request)
        if not can_create_application(user):
            raise exceptions.PermissionDenied(_("Only admins can create Applications."))
        data = parse_body(ApplicationCreateInput, request, user=user)
        try:
            application = do_create_application(actor=user, name=data["name"], api_key=data["hub_api_key"])
        except HubError as error:
            raise _hub_refused(error) from None
        return created(_application(user, application))


class ApplicationDetail(ApiView):
    @extend_schema(
        tags=TAG,
        summary="Get an Application",
        description="Another tenant's Application is a 404, as one that does not exist.",
        responses=ApplicationSerializer,
        examples=[APPLICATION_EXAMPLE],
    )
    def get(self, request: Request, application_id: int) -> Response:
        user = user_of(request)
        return Response(_application(user, application_for(user, application_id)))

    @extend_schema(
        tags=TAG,
        summary="Rename an Application or replace its Hub API key",
        description="Admins only. A new key is checked with the Hub before it replaces the old one.",
        request=ApplicationUpdateInput,
        responses=ApplicationSerializer,
        examples=[
            OpenApiExample("Rename", request_only=True, value={"name": "Demo Shop (EU)"}),
            APPLICATION_EXAMPLE,
        ],
    )
    def patch(self, request: Request, application_id: int) -> Response:
        user = user_of(request)
        application = application_for(user, application_id)
        require_admin(user, application)
        data = parse_body(ApplicationUpdateInput, request, user=user, application=application)
        if "hub_api_key" in data:
            try:
                application = do_replace_api_key(
                    actor=user, application=application, api_key=data["hub_api_key"]
                )
            except HubError as error:
                raise _hub_refused(error) from None
        if "name" in data:
            application = do_update_application(actor=user, application=application, name=data["name"])
        return Response(_application(user, application))


def _channel_for(user: AuthUser, channel_id: int) -> Channel:
    """A channel of an Application the user may see; else 404."""
    channel = (
        Channel.objects.select_related("application")
        .filter(pk=channel_id, application__in=visible_applications(user))
        .first()
    )
    if channel is None:
        raise exceptions.NotFound(_("No such channel."))
    return channel


class ChannelList(ApiView):
    @extend_schema(
        tags=TAG,
        summary="List an Application's channels",
        responses=ChannelSerializer(many=True),
        examples=[CHANNEL_EXAMPLE],
    )
    def get(self, request: Request, application_id: int) -> Response:
        application = application_for(user_of(request), application_id)
        channels = application.channels.order_by("-active", "kind", "display_name")
        return Response(ChannelSerializer(channels, many=True).data)

    @extend_schema(
        tags=TAG,
        summary="Register a channel",
        description="Admins only: the channel's UUID at the Hub, its kind and a display name.",
        request=ChannelCreateInput,
        responses={201: ChannelSerializer},
        examples=[
            OpenApiExample(
                "WhatsApp",
                request_only=True,
                value={
                    "hub_channel_id": "3f2c9a10-7d4e-4b8a-9c21-0e5d6f7a8b90",
                    "kind": "whatsapp",
                    "display_name": "Support WhatsApp",
                },
            ),
            CHANNEL_EXAMPLE,
        ],
    )
    def post(self, request: Request, application_id: int) -> Response:
        user = user_of(request)
        application = application_for(user, application_id)
        require_admin(user, application)
        data = parse_body(ChannelCreateInput, request)
        try:
            channel = do_register_channel(actor=user, application=application, **data)
        except SettingsError as error:
            raise exceptions.ValidationError({"hub_channel_id": [str(error)]}) from None
        return created(ChannelSerializer(channel).data)


class ChannelDetail(ApiView):
    @extend_schema(tags=TAG, summary="Get a channel", responses=ChannelSerializer, examples=[CHANNEL_EXAMPLE])
    def get(self, request: Request, channel_id: int) -> Response:
        return Response(ChannelSerializer(_channel_for(user_of(request), channel_id)).data)

    @extend_schema(
        tags=TAG,
        summary="Rename, deactivate or reactivate a channel",
        description="Admins only. A deactivated channel keeps its history and sends no replies.",
        request=ChannelUpdateInput,
        responses=ChannelSerializer,
        examples=[OpenApiExample("Deactivate", request_only=True, value={"active": False}), CHANNEL_EXAMPLE],
    )
    def patch(self, request: Request, channel_id: int) -> Response:
        user = user_of(request)
        channel = _channel_for(user, channel_id)
        require_admin(user, channel.application)
        data = parse_body(ChannelUpdateInput, request)
        if "display_name" in data:
            channel = do_update_channel(actor=user, channel=channel, display_name=data["display_name"])
        if "active" in data:
            channel = do_set_channel_active(actor=user, channel=channel, active=data["active"])
        return Response(ChannelSerializer(channel).data)
