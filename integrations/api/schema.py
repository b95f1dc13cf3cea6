"""OpenAPI hooks (drf-spectacular): only /api/v1/ is described, and every operation lists the error
shape (integrations/api/errors.py) for the statuses it can answer with."""

from __future__ import annotations

from typing import Any

from drf_spectacular.plumbing import build_object_type

ERROR_STATUSES = {
    "400": "Invalid input: `fields` says which and why.",
    "401": "No credentials, or an invalid, expired or revoked token.",
    "403": "You lack the role (an admin's endpoint), or a session write without its CSRF token.",
    "404": "No such object, or another tenant's.",
    "405": "Method not allowed.",
    "406": "Only JSON is answered.",
    "413": "The body is larger than API_MAX_BODY_BYTES.",
    "415": "Send JSON (`Content-Type: application/json`).",
    "422": "Well-formed but not possible (a closed service window, a reused Idempotency-Key…).",
    "429": "Throttled: wait `Retry-After` seconds.",
}


def only_v1(endpoints: list[tuple[str, str, str, Any]], **kwargs: Any) -> list[tuple[str, str, str, Any]]:
    """The versioned API only (the legacy /api/applications/ keeps its own, older shape)."""
    skip = ("/api/v1/schema/", "/api/v1/docs/")
    return [
        endpoint
        for endpoint in endpoints
        if endpoint[0].startswith("/api/v1/") and not endpoint[0].startswith(skip)
    ]


ERROR_SCHEMA = build_object_type(
    properties={
        "error": build_object_type(
            properties={
                "code": {"type": "string"},
                "message": {"type": "string"},
                "fields": {
                    "type": "object",
                    "additionalProperties": {"type": "array", "items": {"type": "string"}},
                },
            },
            required=["code", "message", "fields"],
        )
    },
    required=["error"],
)


def add_error_responses(result: dict[str, Any], generator: Any, **kwargs: Any) -> dict[str, Any]:
    """The postprocessing hook: the `Error` component, referenced by every operation's error statuses."""
    components = result.setdefault("components", {}).setdefault("schemas", {})
    components["Error"] = {
        **ERROR_SCHEMA,
        "description": 'Every error: {"error": {"code", "message", "fields"}}.',
        "example": {"error": {"code": "not_found", "message": "No such conversation.", "fields": {}}},
    }
    reference = {"$ref": "#/components/schemas/Error"}
    for path_item in result.get("paths", {}).values():
        for operation in path_item.values():
            responses = operation.setdefault("responses", {})
            for code, description in ERROR_STATUSES.items():
                responses.setdefault(
                    code,
                    {"description": description, "content": {"application/json": {"schema": reference}}},
                )
                if code == "429":
                    responses[code].setdefault(
                        "headers",
                        {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait."}},
                    )
    return result
