"""`X-hub-Signature`: every event needs one that an active secret verifies (fail closed), unless an admin
let an Application that cannot sign take unsigned events; any active secret verifies."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from channels_app.actions.applications import do_set_accept_unsigned
from channels_app.hub.signatures import sign, verify
from channels_app.models import Application, SigningSecret
from conversations.actions.inbound import REJECTED_BODY_LIMIT, do_reprocess_webhook_event
from conversations.models import Contact, Message, WebhookEvent
from tests.ingest.ingest_support import HUB_SECRET, encode, message_event, post_event

pytestmark = pytest.mark.django_db

SECRET = "whsec_current-secret-0123456789abcdef"
OLD_SECRET = "whsec_previous-secret-abcdef0123456789"


@pytest.fixture
def signed_app(app_a):
    SigningSecret.objects.create(application=app_a, secret=SECRET, hub_webhook_id="hook-message")
    return app_a


def assert_rejected(response, reason: str) -> None:
    assert response.status_code == 401
    assert reason in response.json()["error"]
    assert not Message.objects.exists() and not Contact.objects.exists()
    stored = WebhookEvent.objects.get()
    assert stored.outcome == WebhookEvent.Outcome.REJECTED
    assert reason in stored.error


def test_valid_signature_is_accepted(hub, signed_app, whatsapp_a):
    response = post_event(hub, signed_app, message_event(whatsapp_a), secret=SECRET)

    assert response.status_code == 200
    assert Message.objects.count() == 1


def test_signature_made_with_a_wrong_secret_is_rejected(hub, signed_app, whatsapp_a):
    response = post_event(hub, signed_app, message_event(whatsapp_a), secret="whsec_somebody-else")

    assert_rejected(response, "signature does not match")


def test_stale_timestamp_is_rejected(hub, signed_app, whatsapp_a):
    body = encode(message_event(whatsapp_a))
    stale = sign(body, SECRET, timestamp=int(time.time()) - 301)

    response = post_event(hub, signed_app, body=body, signature=stale)

    assert_rejected(response, "stale")


def test_missing_signature_header_is_rejected(hub, signed_app, whatsapp_a):
    response = post_event(hub, signed_app, message_event(whatsapp_a), secret=None)

    assert_rejected(response, "missing X-hub-Signature")


def test_tampered_body_is_rejected(hub, signed_app, whatsapp_a):
    body = encode(message_event(whatsapp_a))
    header = sign(body, SECRET)
    tampered = body.replace(b"prazo de entrega", b"prazo de entregA")

    response = post_event(hub, signed_app, body=tampered, signature=header)

    assert_rejected(response, "signature does not match")


def test_either_of_two_active_secrets_is_accepted_while_secrets_rotate(hub, signed_app, whatsapp_a):
    SigningSecret.objects.create(application=signed_app, secret=OLD_SECRET, hub_webhook_id="hook-message")

    first = post_event(hub, signed_app, message_event(whatsapp_a), secret=SECRET)
    second = post_event(hub, signed_app, message_event(whatsapp_a), secret=OLD_SECRET)

    assert (first.status_code, second.status_code) == (200, 200)
    assert Message.objects.count() == 2


def test_a_deactivated_secret_no_longer_verifies(hub, signed_app, whatsapp_a):
    SigningSecret.objects.create(
        application=signed_app, secret=OLD_SECRET, hub_webhook_id="hook-message", active=False
    )

    response = post_event(hub, signed_app, message_event(whatsapp_a), secret=OLD_SECRET)

    assert_rejected(response, "signature does not match")


# --- an Application without an active signing secret: fail closed, unless an admin said otherwise -------


@pytest.fixture(params=["never connected", "secrets deactivated"])
def app_without_secrets(request, app_a) -> Application:
    if request.param == "never connected":
        SigningSecret.objects.filter(application=app_a).delete()
    else:
        SigningSecret.objects.filter(application=app_a).update(active=False)
    return app_a


def test_an_unsigned_event_is_refused_while_the_application_has_no_signing_secret(
    hub, app_without_secrets, whatsapp_a
):
    response = post_event(hub, app_without_secrets, message_event(whatsapp_a), secret=None)

    assert_rejected(response, "no active signing secret")
    assert "accept unsigned events" in WebhookEvent.objects.get().error


def test_a_signed_event_is_refused_while_the_application_has_no_secret_to_check_it(
    hub, app_without_secrets, whatsapp_a
):
    response = post_event(hub, app_without_secrets, message_event(whatsapp_a), secret=HUB_SECRET)

    assert_rejected(response, "signature cannot be checked")


def test_the_handshake_is_still_answered_while_the_application_has_no_signing_secret(
    hub, app_without_secrets
):
    # "Connect webhooks" gets the first secret only in the answer to the create call the handshake is part of.
    response = post_event(hub, app_without_secrets, {}, secret=None, headers={"X-Validation-Token": "tok-9"})

    assert (response.status_code, response.content) == (200, b'"tok-9"')
    assert not WebhookEvent.objects.exists()


def test_an_unsigned_event_is_accepted_once_an_admin_turns_on_accept_unsigned_events(
    hub, app_without_secrets, admin, whatsapp_a
):
    do_set_accept_unsigned(actor=admin, application=app_without_secrets, accept=True)

    response = post_event(hub, app_without_secrets, message_event(whatsapp_a), secret=None)

    assert response.status_code == 200
    assert response.json() == {"ok": True, "outcome": "processed"}
    assert Message.objects.get().preview == "Quero saber o prazo de entrega"
    assert WebhookEvent.objects.get().outcome == WebhookEvent.Outcome.PROCESSED


def test_an_application_with_secrets_also_takes_unsigned_events_with_the_switch_on(
    hub, signed_app, admin, whatsapp_a
):
    do_set_accept_unsigned(actor=admin, application=signed_app, accept=True)

    unsigned = post_event(hub, signed_app, message_event(whatsapp_a), secret=None)
    signed = post_event(hub, signed_app, message_event(whatsapp_a), secret=SECRET)

    assert (unsigned.status_code, signed.status_code) == (200, 200)
    assert Message.objects.count() == 2


@pytest.mark.parametrize("secrets", ["held", "none"])
def test_a_bad_signature_is_still_refused_with_the_switch_on(hub, signed_app, admin, whatsapp_a, secrets):
    if secrets == "none":
        SigningSecret.objects.filter(application=signed_app).delete()
    do_set_accept_unsigned(actor=admin, application=signed_app, accept=True)

    response = post_event(hub, signed_app, message_event(whatsapp_a), secret="whsec_forged")

    assert response.status_code == 401
    assert not Message.objects.exists()
    assert WebhookEvent.objects.get().outcome == WebhookEvent.Outcome.REJECTED


def test_turning_the_switch_off_refuses_unsigned_events_at_once_despite_the_route_cache(
    hub, app_without_secrets, admin, whatsapp_a, settings
):
    settings.WEBHOOK_ROUTE_CACHE_SECONDS = 60
    do_set_accept_unsigned(actor=admin, application=app_without_secrets, accept=True)
    before = post_event(hub, app_without_secrets, message_event(whatsapp_a), secret=None)

    do_set_accept_unsigned(actor=admin, application=app_without_secrets, accept=False)
    after = post_event(hub, app_without_secrets, message_event(whatsapp_a), secret=None)

    assert (before.status_code, after.status_code) == (200, 401)
    assert Message.objects.count() == 1
    assert sorted(WebhookEvent.objects.values_list("outcome", flat=True)) == ["processed", "rejected"]


def test_rejected_body_is_kept_only_in_part_and_never_reprocessed(hub, signed_app, whatsapp_a):
    event = message_event(whatsapp_a, content={"type": "text", "text": "x" * 10_000})

    post_event(hub, signed_app, event, secret="whsec_forged")

    stored = WebhookEvent.objects.get()
    assert len(bytes(stored.body)) == REJECTED_BODY_LIMIT
    assert stored.event_type == ""  # the truncated body is not JSON any more
    with pytest.raises(ValueError, match="cannot be reprocessed"):
        do_reprocess_webhook_event(event=stored)
    assert not Message.objects.exists()


def test_handshake_is_answered_without_a_signature(hub, signed_app):
    # The Hub verifies a new webhook before we hold that webhook's secret (it comes in the create answer).
    response = post_event(hub, signed_app, {}, headers={"X-Validation-Token": "tok-123"})

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.content == b'"tok-123"'
    assert not WebhookEvent.objects.exists()


@pytest.mark.parametrize(
    "header",
    [
        "t=²,v1=00",  # "²".isdigit() is true, int("²") raises
        "t=1700000000,v1=ünïcödé",  # compare_digest refuses non-ASCII str
        "t=,v1=",
        "v1=abc",
        "t=12x,v1=abc",
        "garbage",
    ],
)
def test_a_header_the_parser_cannot_read_is_a_401_with_a_rejected_row(hub, signed_app, whatsapp_a, header):
    response = post_event(hub, signed_app, message_event(whatsapp_a), signature=header)

    assert response.status_code == 401
    assert not Message.objects.exists()
    assert WebhookEvent.objects.get().outcome == WebhookEvent.Outcome.REJECTED


# Headers of the Hub's shape with odd parts: digits of every script for `t` (int() refuses some that
# str.isdigit() accepts), any text for `v1`; and any text at all.
_digits = st.text(alphabet=st.characters(categories=("Nd", "No")), max_size=12)
_headers = st.one_of(
    st.builds(lambda t, v: f"t={t},v1={v}", st.one_of(_digits, st.text(max_size=12)), st.text(max_size=70)),
    st.text(max_size=200),
)


@given(header=_headers, body=st.binary(max_size=64))
@settings(max_examples=500, deadline=None)
def test_the_signature_parser_answers_every_header_with_a_reason_and_never_raises(header, body):
    reason = verify(body, header, [SECRET], max_skew=300)

    assert isinstance(reason, str) and reason  # nothing made up verifies without the secret


@given(skew=st.integers(min_value=0, max_value=300))
@settings(max_examples=50, deadline=None)
def test_the_signature_parser_accepts_what_the_hub_signs(skew):
    # The control for the test above: the same parser does accept a real signature.
    now = int(time.time())
    header = sign(b"{}", SECRET, timestamp=now - skew)

    assert verify(b"{}", header, [SECRET], max_skew=300, now=now) is None
