"""GET /api/v1/, the API's index: public, the same for every caller, with absolute links to the docs, the
schema and every top-level resource, each of which answers when followed; other methods are a 405 in the
API's error shape, and the index is in the OpenAPI schema like every other operation."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.api.api_support import Api, error_of, token_for
from tests.conftest import login

pytestmark = pytest.mark.django_db

RESOURCES = {"me", "applications", "conversations", "contacts", "webhook_events", "review_summary"}


def test_the_index_answers_without_credentials_with_the_version_and_absolute_links():
    response = Client().get("/api/v1/")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["name"] == "Hubdash API" and body["version"] == "1"
    assert set(body["links"]) == {"docs", "schema", *RESOURCES}
    assert body["links"]["docs"] == "http://testserver/api/v1/docs/"
    assert body["links"]["schema"] == "http://testserver/api/v1/schema/"
    assert body["links"]["conversations"] == "http://testserver/api/v1/conversations/"


def test_the_links_follow_the_scheme_and_host_of_the_request(settings):
    settings.ALLOWED_HOSTS = ["hubdash.example.com"]
    response = Client().get("/api/v1/", secure=True, headers={"Host": "hubdash.example.com"})

    assert response.status_code == 200
    assert all(
        link.startswith("https://hubdash.example.com/api/v1/") for link in response.json()["links"].values()
    )


def test_every_link_answers_when_followed(admin, conversation_a):
    links = Client().get("/api/v1/").json()["links"]
    by_token, by_session, anonymous = Api(token_for(admin)), Api(client=login(admin)), Api()

    # The docs and the schema are public, as the index is.
    assert anonymous.get(links["docs"]).status_code == 200
    assert anonymous.get(links["schema"]).status_code == 200
    for name in RESOURCES:
        assert by_token.get(links[name]).status_code == 200, name
        assert by_session.get(links[name]).status_code == 200, name
        # Without credentials the resource exists and asks for them: a 401, not a 404.
        refused = anonymous.get(links[name])
        assert refused.status_code == 401, name
        assert error_of(refused)["code"] == "not_authenticated"


def test_the_index_is_the_same_for_every_caller_and_names_no_tenant(admin, agent_a, superuser, app_a):
    anonymous = Client().get("/api/v1/")
    callers = [Api(token_for(user)).get("/api/v1/") for user in (admin, agent_a, superuser)]
    session = Api(client=login(agent_a)).get("/api/v1/")

    assert all(response.status_code == 200 for response in [*callers, session])
    assert all(response.json() == anonymous.json() for response in [*callers, session])
    assert app_a.name not in anonymous.content.decode()
    assert "alice" not in session.content.decode()  # the caller's own name neither


def test_an_invalid_token_is_still_refused(db):
    response = Api("not-a-token").get("/api/v1/")

    assert response.status_code == 401
    assert error_of(response)["code"] == "authentication_failed"


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_other_methods_are_a_405_in_the_error_shape(agent_a, method):
    for api in (Api(), Api(token_for(agent_a))):
        response = getattr(api, method)("/api/v1/")

        assert response.status_code == 405
        assert error_of(response)["code"] == "method_not_allowed"
        assert "GET" in response["Allow"]


def test_without_its_slash_the_index_redirects_to_it():
    response = Client().get("/api/v1")

    assert response.status_code == 301
    assert response["Location"] == "/api/v1/"


def test_the_index_is_in_the_schema_and_links_every_top_level_resource():
    schema = Client().get("/api/v1/schema/", {"format": "json"}).json()

    operation = schema["paths"]["/api/v1/"]["get"]
    assert operation["operationId"] == "api_root"
    assert {} in operation["security"]  # no credentials needed
    index = schema["components"]["schemas"]["ApiIndex"]
    assert set(index["properties"]) == {"name", "version", "links"}
    # Every GET without an id in its path is a top-level resource: the index links each one.
    top_level = {
        path
        for path, item in schema["paths"].items()
        if "{" not in path and "get" in item and path != "/api/v1/"
    }
    links = Client().get("/api/v1/").json()["links"]
    linked = {links[name].removeprefix("http://testserver") for name in RESOURCES}
    assert linked == top_level
