"""Schemathesis against a live server (daphne on the test database): for every operation of the OpenAPI
schema, bounded generated requests, valid and invalid, as a superuser with real objects to act on.
No answer may be a 5xx, use an undocumented status or content type, or break its documented schema;
invalid input must be refused with a 4xx."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from conversations.models import WebhookEvent
from integrations.actions.subscriptions import do_create_subscription
from integrations.models import WebhookDelivery
from tests.api.api_support import token_for
from tests.api.live import live_server
from tests.inbox.inbox_support import add_message, make_conversation

pytestmark = pytest.mark.django_db(transaction=True)

# Examples per operation and mode: enough to reach every branch of validation, bounded for CI.
EXAMPLES = {schemathesis.GenerationMode.POSITIVE: 10, schemathesis.GenerationMode.NEGATIVE: 6}
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]

# An oversize body is refused with 413, which schemathesis does not count as a refusal by default.
CONFIG = schemathesis.Config.from_dict(
    {
        "checks": {
            "negative_data_rejection": {
                "expected-statuses": [400, 401, 403, 404, 405, 406, 409, 413, 415, 422, 428, 429]
            }
        }
    }
)


def real_objects(app, superuser, agent) -> dict[str, int]:
    """Objects for the path parameters, so requests reach past the 404 into each view's own code."""
    conversation = make_conversation(app, name="Carla")
    failed = add_message(conversation, content={"text": "hi"}, direction="out", status="failed", author=agent)
    made = do_create_subscription(
        actor=superuser, application=app, url="https://93.184.216.34/hook", events=["message.created"]
    )
    delivery = WebhookDelivery.objects.create(
        subscription=made.subscription, event="message.created", event_key="k", body="{}", status="failed"
    )
    event = WebhookEvent.objects.create(
        application=app, event_type="Message", body=b"{}", outcome="processed"
    )
    return {
        "application_id": app.pk,
        "channel_id": app.channels.first().pk,
        "conversation_id": conversation.pk,
        "message_id": failed.pk,
        "contact_id": conversation.contact_id,
        "subscription_id": made.subscription.pk,
        "delivery_id": delivery.pk,
        "event_id": event.pk,
    }


def test_the_api_keeps_to_its_schema(app_a, superuser, agent_a, hub_sandbox, tmp_path):
    ids = real_objects(app_a, superuser, agent_a)
    headers = {"Authorization": f"Bearer {token_for(superuser)}"}
    env = {"HUB_BASE_URL": hub_sandbox.url, "API_THROTTLE_RATE": "100000/min"}
    calls: list[str] = []
    with live_server(tmp_path, **env) as base_url:
        schema = schemathesis.openapi.from_url(f"{base_url}/api/v1/schema/?format=json", config=CONFIG)
        operations = [result.ok() for result in schema.get_all_operations()]
        assert len(operations) >= 25
        for operation in operations:
            path_parameters = {p: ids[p] for p in ids if "{" + p + "}" in operation.path}
            for mode, examples in EXAMPLES.items():
                if mode == schemathesis.GenerationMode.NEGATIVE and not takes_input(operation):
                    continue  # nothing to make invalid: Hypothesis would find no example at all
                run_operation(operation, mode, examples, base_url, headers, path_parameters, calls)
    # Every operation was called, in both modes where it takes input (a failure above stops the test with
    # its example).
    assert {call.split(" (")[0] for call in calls} == {f"{o.method.upper()} {o.path}" for o in operations}
    assert [o.path for o in operations if not takes_input(o)] == ["/api/v1/"]  # the index alone
    assert len(calls) >= 10 * len(operations)


def takes_input(operation: Any) -> bool:
    """Parameters, a body or credentials (which the negative mode sends wrong). The index (GET /api/v1/)
    takes none: it needs no credentials, so its schema lists none to send."""
    return bool(list(operation.iter_parameters()) or list(operation.body))


def run_operation(
    operation: Any,
    mode: Any,
    examples: int,
    base_url: str,
    headers: dict[str, str],
    path_parameters: dict[str, int],
    calls: list[str],
) -> None:
    strategy = operation.as_strategy(generation_mode=mode, path_parameters=path_parameters or None)

    @hypothesis_settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,  # the same requests every run: CI fails or passes for a reason
        database=None,
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def run(case: Any) -> None:
        calls.append(f"{operation.method.upper()} {operation.path} ({mode})")
        case.call_and_validate(base_url=base_url, headers=headers, checks=CHECKS, timeout=30)

    run()
