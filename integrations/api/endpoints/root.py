"""GET /api/v1/: the API's index, where a client starts. It names the API and its version and links
(absolute URLs) to the docs, the schema and every top-level resource; the rest is reached from those.

It answers without credentials, since a client reads it before it has a token, and so it says nothing
about the caller or any tenant: every caller gets the same body (only the host in the links differs).
"""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse
from drf_spectacular.utils import OpenApiExample, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from integrations.api.base import ApiView

# Each link's name in the answer, and its URL name. The top-level resources are the GET paths without an
# id (tests/api/test_root.py checks them against the schema, so a new one cannot be left out).
LINKS = {
    "docs": "api_docs",
    "schema": "api_schema",
    "me": "api_me",
    "applications": "api_v1_applications",
    "conversations": "api_v1_conversations",
    "contacts": "api_v1_contacts",
    "webhook_events": "api_v1_received_events",
    "review_summary": "api_v1_review_summary",
}

Index = inline_serializer(
    "ApiIndex",
    {
        "name": serializers.CharField(),
        "version": serializers.CharField(help_text="The API's version: the `v1` of its paths."),
        "links": inline_serializer(
            "ApiIndexLinks", {name: serializers.URLField() for name in LINKS}, help_text="Absolute URLs."
        ),
    },
)


class ApiRoot(ApiView):
    # Public like the schema and the docs; a token that is sent is still checked (an invalid one is 401).
    permission_classes = [AllowAny]

    @extend_schema(
        tags=["API"],
        operation_id="api_root",
        summary="The API's index",
        description=(
            "Where to start: the API's name and version and absolute links to the docs, the OpenAPI "
            "schema and the top-level resources. No credentials are needed (the resources need them); "
            "the answer is the same for every caller."
        ),
        responses=Index,
        examples=[
            OpenApiExample(
                "The index",
                value={
                    "name": "Hubdash API",
                    "version": "1",
                    "links": {
                        name: f"https://hubdash.example.com{path}"
                        for name, path in {
                            "docs": "/api/v1/docs/",
                            "schema": "/api/v1/schema/",
                            "me": "/api/v1/me/",
                            "applications": "/api/v1/applications/",
                            "conversations": "/api/v1/conversations/",
                            "contacts": "/api/v1/contacts/",
                            "webhook_events": "/api/v1/webhook-events/",
                            "review_summary": "/api/v1/review/summary/",
                        }.items()
                    },
                },
            )
        ],
    )
    def get(self, request: Request) -> Response:
        return Response(
            {
                # The schema's own title and version (SPECTACULAR_SETTINGS): one place says them.
                "name": settings.SPECTACULAR_SETTINGS["TITLE"],
                "version": settings.SPECTACULAR_SETTINGS["VERSION"],
                "links": {name: request.build_absolute_uri(reverse(url)) for name, url in LINKS.items()},
            }
        )
