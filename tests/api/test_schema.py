"""The OpenAPI 3 schema (/api/v1/schema/) describes every endpoint with a description and an example,
and the docs (/api/v1/docs/) load nothing from outside this server."""

from __future__ import annotations

import re

import pytest
import yaml
from django.test import Client
from drf_spectacular.validation import validate_schema

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def schema() -> dict:
    return Client().get("/api/v1/schema/", {"format": "json"}).json()


def operations(schema: dict):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            yield f"{method.upper()} {path}", operation


def test_the_schema_is_valid_openapi_3(schema):
    assert schema["openapi"].startswith("3.")
    validate_schema(schema)


def test_the_schema_is_public_and_also_served_as_yaml(db):
    response = Client().get("/api/v1/schema/")

    assert response.status_code == 200
    assert yaml.safe_load(response.content)["info"]["title"] == "Hubdash API"


def test_every_endpoint_has_a_description_and_an_example(schema):
    missing_description, missing_example = [], []
    for name, operation in operations(schema):
        if not (operation.get("description") or "").strip():
            missing_description.append(name)
        bodies = [operation.get("requestBody", {}), *operation["responses"].values()]
        examples = [c for body in bodies for c in body.get("content", {}).values() if c.get("examples")]
        if not examples and not any(
            r.get("description") for code, r in operation["responses"].items() if code == "204"
        ):
            missing_example.append(name)

    assert not missing_description, missing_description
    assert not missing_example, missing_example


def test_every_operation_documents_the_error_shape_and_authentication(schema):
    assert set(schema["components"]["schemas"]["Error"]["properties"]) == {"error"}
    assert schema["components"]["securitySchemes"]["apiToken"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "A personal API token from your profile (Profile → API tokens).",
    }
    for name, operation in operations(schema):
        for code in ("400", "401", "404", "429"):
            assert operation["responses"][code]["content"]["application/json"]["schema"] == {
                "$ref": "#/components/schemas/Error"
            }, name
        assert {"apiToken": []} in operation["security"], name


def test_the_legacy_endpoint_and_the_docs_are_not_in_the_schema(schema):
    assert all(path.startswith("/api/v1/") for path in schema["paths"])
    assert "/api/v1/docs/" not in schema["paths"] and "/api/v1/schema/" not in schema["paths"]


def test_the_docs_page_loads_only_our_own_files(db):
    page = Client().get("/api/v1/docs/")

    assert page.status_code == 200
    html = page.content.decode()
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources and all(source.startswith("/") for source in sources), sources
    assert "<script>" not in html.replace(" ", "")  # no inline script: the page's CSP allows none
    for source in sources:
        assert Client().get(source).status_code == 200, source
    script = Client().get("/api/v1/docs/", {"script": ""}).content.decode()
    assert "/api/v1/schema/" in script and '"validatorUrl": null' in script
