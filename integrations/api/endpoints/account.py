"""Who the caller is: the user a token or session stands for, and their Applications and roles."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from channels_app.access import visible_applications
from integrations.api.base import ApiView, user_of
from integrations.models import ApiToken
from integrations.selectors import roles_of

Me = inline_serializer(
    "Me",
    {
        "id": serializers.IntegerField(),
        "username": serializers.CharField(),
        "name": serializers.CharField(),
        "is_superuser": serializers.BooleanField(),
        "authenticated_by": serializers.ChoiceField(choices=["token", "session"]),
        "applications": inline_serializer(
            "MyApplication",
            {
                "id": serializers.IntegerField(),
                "name": serializers.CharField(),
                "role": serializers.ChoiceField(choices=["admin", "agent"], allow_null=True),
            },
            many=True,
        ),
    },
)


class MeView(ApiView):
    @extend_schema(
        tags=["Account"],
        summary="Who am I",
        description="The user this token (or session) acts as, with the Applications they may see.",
        responses=Me,
        examples=[
            OpenApiExample(
                "An agent",
                value={
                    "id": 2,
                    "username": "alice",
                    "name": "Alice Agent",
                    "is_superuser": False,
                    "authenticated_by": "token",
                    "applications": [{"id": 1, "name": "Demo Shop", "role": "agent"}],
                },
            )
        ],
    )
    def get(self, request: Request) -> Response:
        user = user_of(request)
        roles = roles_of(user)
        applications = visible_applications(user).order_by("name", "id").values("id", "name")
        return Response(
            {
                "id": user.pk,
                "username": user.username,
                "name": user.get_full_name() or user.username,
                "is_superuser": user.is_superuser,
                "authenticated_by": "token" if isinstance(request.auth, ApiToken) else "session",
                "applications": [{**row, "role": roles.get(row["id"])} for row in applications],
            }
        )
