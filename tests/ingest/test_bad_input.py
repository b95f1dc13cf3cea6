"""Bad bodies get a 400 that names the problem, are kept for inspection, and write nothing else."""

from __future__ import annotations

import json
import uuid

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from conversations.actions.inbound import do_reprocess_webhook_event
from conversations.models import Contact, Conversation, Message, MessageStatusChange, WebhookEvent
from tests.ingest.ingest_support import encode, message_event, post_event, status_event

pytestmark = pytest.mark.django_db


def only_the_invalid_row_was_written(body: bytes) -> WebhookEvent:
    assert not Message.objects.exists()
    assert not Contact.objects.exists()
    assert not Conversation.objects.exists()
    assert not MessageStatusChange.objects.exists()
    stored = WebhookEvent.objects.get()
    assert stored.outcome == WebhookEvent.Outcome.INVALID
    assert bytes(stored.body) == body
    assert stored.dedup_key is None
    return stored


def with_changes(event: dict, **changes) -> dict:
    event = dict(event)
    for key, value in changes.items():
        if value is ...:
            event.pop(key)
        else:
            event[key] = value
    return event


@pytest.mark.parametrize(
    ("make_body", "named"),
    [
        (lambda ch: b'{"eventType": "Message", "channelId": ', "malformed JSON"),
        (lambda ch: b"", "empty body"),
        (lambda ch: b"\xff\xfe\x00garbage", "body"),
        (lambda ch: b"[1, 2, 3]", "body: expected an object"),
        (lambda ch: b'{"eventType": "Message", "timestamp": NaN}', "malformed JSON"),
        (lambda ch: encode(with_changes(message_event(ch), eventType=...)), "eventType: missing"),
        (lambda ch: encode(with_changes(message_event(ch), eventType=7)), "eventType: expected a string"),
        (lambda ch: encode(with_changes(message_event(ch), channelId=...)), "channelId: missing"),
        (
            lambda ch: encode(with_changes(message_event(ch), channelId="not-a-uuid")),
            "channelId: expected a UUID",
        ),
        (lambda ch: encode(with_changes(message_event(ch), messageId=...)), "messageId: missing"),
        (
            lambda ch: encode(with_changes(message_event(ch), messageId={"id": 1})),
            "messageId: expected a string",
        ),
        (lambda ch: encode(with_changes(message_event(ch), messageId="")), "messageId: empty"),
        (lambda ch: encode(with_changes(message_event(ch), messageId="m" * 201)), "messageId: longer than"),
        (lambda ch: encode(with_changes(message_event(ch), **{"from": None})), "from: missing"),
        (lambda ch: encode(with_changes(message_event(ch), **{"from": True})), "from: expected a string"),
        (lambda ch: encode(with_changes(message_event(ch), timestamp="yesterday")), "timestamp: expected"),
        (lambda ch: encode(with_changes(message_event(ch), timestamp=10**30)), "timestamp: out of range"),
        (lambda ch: encode(with_changes(message_event(ch), content=...)), "content: missing"),
        (lambda ch: encode(with_changes(message_event(ch), content="hi")), "content: expected an object"),
        (lambda ch: encode(with_changes(message_event(ch), content={"text": "hi"})), "content.type: missing"),
        (
            lambda ch: encode(message_event(ch, content={"type": "text", "text": None})),
            "content.text: expected a string, got null",
        ),
        (lambda ch: encode(with_changes(status_event("wamid.1", "read"), status=...)), "status: missing"),
        (
            lambda ch: encode(with_changes(status_event("wamid.1", "read"), messageId=3.5)),
            "messageId: expected",
        ),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_bad_body_gets_400_naming_the_problem_and_is_kept(hub, app_a, whatsapp_a, make_body, named):
    body = make_body(whatsapp_a)

    response = post_event(hub, app_a, body=body)

    assert response.status_code == 400
    assert named in response.json()["error"]
    stored = only_the_invalid_row_was_written(body)
    assert named in stored.error


def test_content_nested_too_deeply_is_invalid_not_a_crash(hub, app_a, whatsapp_a):
    deep: dict = {"type": "text"}
    for _ in range(40):
        deep = {"type": "x", "inner": deep}
    body = encode(message_event(whatsapp_a, content=deep))

    response = post_event(hub, app_a, body=body)

    assert response.status_code == 400
    assert "nested deeper" in response.json()["error"]
    only_the_invalid_row_was_written(body)


def test_json_nested_beyond_the_parsers_limit_is_invalid_not_a_crash(hub, app_a):
    body = b"[" * 100_000 + b"]" * 100_000

    response = post_event(hub, app_a, body=body)

    assert response.status_code == 400
    only_the_invalid_row_was_written(body)


def test_invalid_row_stays_invalid_when_reprocessed_unchanged(hub, app_a):
    post_event(hub, app_a, body=b"{oops")
    stored = WebhookEvent.objects.get()

    assert do_reprocess_webhook_event(event=stored) == WebhookEvent.Outcome.INVALID
    stored.refresh_from_db()
    assert stored.reprocessed_count == 1


def test_unknown_webhook_url_is_404_and_stores_nothing(hub, app_a, whatsapp_a):
    path = reverse("hub_webhook", args=[uuid.uuid4()])

    response = hub.post(path, data=encode(message_event(whatsapp_a)), content_type="application/json")

    assert response.status_code == 404
    assert not WebhookEvent.objects.exists()


def test_get_on_the_webhook_url_is_405(hub, app_a):
    assert hub.get(reverse("hub_webhook", args=[app_a.public_id])).status_code == 405


# --- property: whatever arrives, never a 5xx and nothing half-written -------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
ids = st.text(max_size=12) | st.integers() | st.none() | json_values


def mostly(valid, wrong):
    """`valid` seven times in eight, so that many examples get past the parser and into the database."""
    return st.integers(0, 7).flatmap(lambda n: wrong if n == 0 else valid)


def without_some_keys(event: st.SearchStrategy[dict]) -> st.SearchStrategy[dict]:
    dropped = mostly(st.just(set()), st.sets(st.sampled_from(["messageId", "from", "content", "status"])))
    return st.tuples(event, dropped).map(
        lambda pair: {k: v for k, v in pair[0].items() if k == "eventType" or k not in pair[1]}
    )


def near_events(channel_ids: list[str]):
    """Bodies shaped like Hub events, with any field wrong in any way, to reach past the first check."""
    valid_id = st.sampled_from(["wamid.1", "wamid.2", "m_3"]) | st.text(min_size=1, max_size=8)
    valid_time = st.integers(min_value=946_684_800, max_value=4_102_444_799)
    valid_content = st.fixed_dictionaries(
        {"type": st.sampled_from(["text", "image", "location", "reaction", "interactive", "weird"])},
        optional={
            "text": json_values,
            "image": json_values,
            "location": json_values,
            "reaction": json_values,
            "interactive": json_values,
        },
    )
    message = st.fixed_dictionaries(
        {
            "eventType": st.just("Message"),
            "channelId": mostly(st.sampled_from(channel_ids), ids),
            "messageId": mostly(valid_id, ids),
            "from": mostly(st.sampled_from(["5521987654321", "5521900000000"]), ids),
            "timestamp": mostly(valid_time, st.integers() | st.floats() | st.text(max_size=25) | st.none()),
            "channel": mostly(st.just("whatsapp"), json_values),
            "content": mostly(valid_content, json_values),
        }
    )
    status = st.fixed_dictionaries(
        {
            "eventType": st.just("MessageStatus"),
            "messageId": mostly(valid_id, ids),
            "status": mostly(st.sampled_from(["sent", "delivered", "read", "failed", "bogus"]), json_values),
            "timestamp": mostly(valid_time, st.integers() | st.text(max_size=25)),
        },
        optional={"errorCode": json_values, "errorMessage": json_values},
    )
    legacy = st.fixed_dictionaries(
        {"eventType": st.sampled_from(["Message", "message_echoes"])},
        optional={
            "timestamp": st.text(max_size=25) | st.integers(),
            "payload": json_values
            | st.fixed_dictionaries(
                {"sender": st.fixed_dictionaries({"id": mostly(valid_id, ids)}) | json_values},
                optional={"message": json_values, "reaction": json_values, "timestamp": st.integers()},
            ),
        },
    )
    return without_some_keys(message) | without_some_keys(status) | legacy


def assert_nothing_half_written() -> None:
    processed_messages = WebhookEvent.objects.filter(event_type="Message", outcome="processed").count()
    processed_statuses = WebhookEvent.objects.filter(event_type="MessageStatus", outcome="processed").count()
    assert Message.objects.count() == processed_messages
    assert MessageStatusChange.objects.count() == processed_statuses
    assert Contact.objects.filter(conversation__isnull=True).count() == 0
    assert Conversation.objects.filter(messages__isnull=True).count() == 0
    for conversation in Conversation.objects.all():
        assert conversation.unread_count == conversation.messages.count()


PROPERTY = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@PROPERTY
@given(body=st.binary(max_size=300))
def test_arbitrary_bytes_never_get_a_5xx(hub, app_a, body):
    response = post_event(hub, app_a, body=body)

    assert response.status_code < 500
    assert_nothing_half_written()


@PROPERTY
@given(value=json_values)
def test_arbitrary_json_never_gets_a_5xx(hub, app_a, value):
    response = post_event(hub, app_a, body=json.dumps(value).encode())

    assert response.status_code < 500
    assert_nothing_half_written()


@PROPERTY
@given(data=st.data())
def test_arbitrary_event_shaped_json_never_gets_a_5xx(hub, app_a, data):
    channel_ids = [str(c.hub_channel_id) for c in app_a.channels.all()]
    body = data.draw(near_events(channel_ids))

    response = post_event(hub, app_a, body=json.dumps(body).encode())

    assert response.status_code < 500, response.content
    event(f"{response.status_code} {response.json().get('outcome', '')}")  # see --hypothesis-show-statistics
    assert_nothing_half_written()
