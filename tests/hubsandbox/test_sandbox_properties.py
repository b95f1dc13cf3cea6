"""Property tests: arbitrary input never crashes the validators, and signatures hold for any payload."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st

from hubsandbox import encode_event, signature_header
from hubsandbox.validation import SendValidationError, validate_content, validate_envelope, validate_recipient

KINDS = ("whatsapp", "instagram", "messenger", "telegram", "sms", "webchatt")
CONTENT_KEYS = (
    "text",
    "imageUrl",
    "videoUrl",
    "audioUrl",
    "documentUrl",
    "stickerUrl",
    "location",
    "contacts",
    "interactive",
    "template",
    "reaction",
    "replyTo",
    "context",
    "voice",
    "filename",
    "markAsSeen",
    "paymentRequest",
    "orderStatus",
    "attachment",
    "attachments",
    "quick_replies",
    "sender_action",
    "payload",
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(
            st.sampled_from(("type", "id", "title", "url", "body", "text", "action")), children, max_size=4
        )
    ),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(
    kind=st.sampled_from(KINDS),
    content=st.dictionaries(st.sampled_from(CONTENT_KEYS) | st.text(max_size=8), json_values, max_size=4),
)
# Found by this test: a type given as a list was looked up in a dict and crashed the validator.
@example(kind="whatsapp", content={"interactive": {"type": []}})
@example(kind="whatsapp", content={"orderStatus": {"referenceId": "r", "status": {}}})
@example(kind="messenger", content={"attachment": {"type": [], "payload": {}}})
def test_any_content_is_either_accepted_or_a_clean_validation_error(
    kind: str, content: dict[str, Any]
) -> None:
    try:
        plan = validate_content(kind, content)
    except SendValidationError as exc:
        assert exc.message
    else:
        assert plan.response_type


@settings(max_examples=200, deadline=None)
@given(body=json_values, kind=st.sampled_from(KINDS), to=st.text(max_size=20))
def test_any_envelope_or_recipient_is_either_accepted_or_a_clean_validation_error(
    body: Any, kind: str, to: str
) -> None:
    for check in (lambda: validate_envelope(body), lambda: validate_recipient(kind, to)):
        try:
            check()
        except SendValidationError as exc:
            assert exc.message


@settings(max_examples=100, deadline=None)
@given(
    payload=st.dictionaries(st.text(max_size=10), json_values, max_size=5),
    secret=st.text(min_size=1, max_size=40),
)
def test_the_signature_is_the_hmac_of_t_dot_body_for_any_payload(
    payload: dict[str, Any], secret: str
) -> None:
    body = encode_event(payload)
    assert json.loads(body) == payload
    header = signature_header(secret, body, timestamp=1767225600)
    t, v1 = (part.split("=", 1)[1] for part in header.split(","))
    assert t == "1767225600"
    assert v1 == hmac.new(secret.encode(), b"1767225600." + body, hashlib.sha256).hexdigest()
