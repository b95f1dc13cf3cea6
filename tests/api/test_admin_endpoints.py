"""Admins' endpoints: the Hub's deliveries to us and the delivery review's figures. Agents 403 (a missing
role), another tenant's objects 404, as on the pages."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from conversations.models import MessageStatusChange, WebhookEvent
from tests.api.api_support import error_of
from tests.inbox.inbox_support import add_message

pytestmark = pytest.mark.django_db

EVENTS = "/api/v1/webhook-events/"


def received(app, outcome="processed", body=b'{"messageId": "m1"}'):
    return WebhookEvent.objects.create(
        application=app,
        event_type="Message",
        headers={"Content-Type": "application/json"},
        body=body,
        outcome=outcome,
    )


def test_admins_page_through_the_hubs_deliveries(api_admin, app_a, app_b):
    made = [received(app_a) for _ in range(5)]
    received(app_b)
    rejected = received(app_a, outcome="rejected")

    first = api_admin.get(EVENTS, {"limit": 3}).json()
    second = api_admin.get(EVENTS, {"limit": 3, "cursor": first["next"]}).json()

    listed = [e["id"] for e in first["results"] + second["results"]]
    assert listed == [rejected.pk, *[e.pk for e in reversed(made)]]
    assert second["next"] is None
    assert [e["id"] for e in api_admin.get(EVENTS, {"outcome": "rejected"}).json()["results"]] == [
        rejected.pk
    ]
    assert "body" not in first["results"][0]


def test_one_delivery_with_its_body(api_admin, app_a):
    event = received(app_a, body=b'{"messageId": "caf\xc3\xa9"}')

    body = api_admin.get(f"{EVENTS}{event.pk}/").json()

    assert body["body"] == '{"messageId": "café"}' and body["headers"] == {"Content-Type": "application/json"}


def test_agents_get_403_and_other_tenants_404(api_agent_a, api_admin, app_b):
    other = received(app_b)

    assert error_of(api_agent_a.get(EVENTS))["code"] == "permission_denied"
    assert api_agent_a.get(f"{EVENTS}{other.pk}/").status_code == 403
    assert api_admin.get(f"{EVENTS}{other.pk}/").status_code == 404
    assert api_admin.get(EVENTS, {"application": app_b.pk}).status_code == 404


def test_the_review_summary_counts_and_times_deliveries(
    api_admin, api_superuser, conversation_a, conversation_b, agent_a
):
    start = timezone.now() - timedelta(minutes=10)
    for seconds, status in [(2, "delivered"), (4, "read"), (None, "failed")]:
        reply = add_message(
            conversation_a, content={"text": "hi"}, direction="out", status=status, author=agent_a
        )
        reply.created_at = start
        reply.save(update_fields=["created_at"])
        if seconds:
            MessageStatusChange.objects.create(
                application=conversation_a.application,
                message=reply,
                status=status,
                occurred_at=start + timedelta(seconds=seconds),
                applied=True,
            )
    add_message(conversation_b, content={"text": "b"}, direction="out", status="read")

    body = api_admin.get("/api/v1/review/summary/").json()

    assert body["counts"]["total"] == 3 and body["counts"]["failed"] == 1 and body["counts"]["read"] == 1
    assert body["to_delivered"] == {"count": 2, "median_seconds": 3.0, "p90_seconds": 4.0}
    assert body["to_read"]["count"] == 1
    assert api_superuser.get("/api/v1/review/summary/").json()["counts"]["total"] == 4
    assert api_admin.get("/api/v1/review/summary/", {"status": "failed"}).json()["counts"]["total"] == 1


def test_the_review_refuses_agents_bad_dates_and_other_tenants(api_agent_a, api_admin, app_b):
    assert api_agent_a.get("/api/v1/review/summary/").status_code == 403
    bad = api_admin.get("/api/v1/review/summary/", {"date_from": "0001-01-01"})
    assert bad.status_code == 400 and list(error_of(bad)["fields"]) == ["date_from"]
    assert api_admin.get("/api/v1/review/summary/", {"application": app_b.pk}).status_code == 404
