"""What every /api/v1/ view shares: times in UTC, strict query parsing, the admin check, the Idempotency-Key."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import exceptions, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from channels_app.access import AuthUser, User
from channels_app.models import Application, Membership
from channels_app.selectors import can_use_settings

NOT_ADMIN = _("This needs an admin of the Application.")
NO_ADMIN_ROLE = _("This is for Application admins.")


class ApiView(APIView):
    """Times in every answer are UTC (ISO 8601 with `Z`-equivalent offset), whatever the user's time
    zone; messages are in the user's language (the locale middleware has chosen it)."""

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        with timezone.override(UTC):
            return super().dispatch(request, *args, **kwargs)


def user_of(request: Request) -> AuthUser:
    """The authenticated user (IsAuthenticated has run: a view is never reached without one)."""
    user = request.user
    assert user is not None and user.is_authenticated
    return user


def parse_query(
    serializer_class: type[serializers.Serializer], request: Request, **context: Any
) -> dict[str, Any]:
    # A plain dict, not the QueryDict: DRF reads a QueryDict as an HTML form, where an empty value means
    # "not given"; here `?limit=` is an invalid limit, as the schema says.
    params = {name: request.query_params.get(name) for name in request.query_params}
    serializer = serializer_class(data=params, context=context)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def parse_body(
    serializer_class: type[serializers.Serializer], request: Request, **context: Any
) -> dict[str, Any]:
    if not isinstance(request.data, dict):
        raise exceptions.ValidationError({"non_field_errors": [_("Send a JSON object.")]})
    serializer = serializer_class(data=request.data, context=context)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def require_admin(user: AuthUser, application: Application) -> None:
    """403 for a member who is not an admin of this (visible) Application: a missing role, not a secret."""
    if user.is_superuser:
        return
    if not Membership.objects.filter(
        user_id=user.pk, application=application, role=Membership.Role.ADMIN
    ).exists():
        raise exceptions.PermissionDenied(NOT_ADMIN)


def require_some_admin_role(user: User) -> None:
    """403 for someone who administers nothing (agents): as the settings pages and the delivery review."""
    if not can_use_settings(user):
        raise exceptions.PermissionDenied(NO_ADMIN_ROLE)


def created(data: Any) -> Response:
    return Response(data, status=201)


IDEMPOTENCY_KEY = OpenApiParameter(
    name="Idempotency-Key",
    type=OpenApiTypes.STR,
    location=OpenApiParameter.HEADER,
    required=True,
    description=(
        "Any unique string of 1–255 characters you choose per reply (a UUID, say). Sending the same key "
        "and body again returns the reply stored the first time (200) instead of a second reply; the same "
        "key with a different body is refused (422)."
    ),
)
