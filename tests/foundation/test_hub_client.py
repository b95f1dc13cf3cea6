"""The one Hub client, over real HTTP against the sandbox: typed results and error mapping."""

import socket
import uuid

import pytest

from channels_app.hub import HubClient, HubError
from tests.conftest import register_in_sandbox


@pytest.fixture
def client(hub_sandbox, app_a) -> HubClient:
    register_in_sandbox(hub_sandbox, app_a)
    return HubClient(api_key=app_a.hub_api_key, base_url=hub_sandbox.url, read_timeout=1.0)


def _send(client: HubClient, app, kind: str = "whatsapp", to: str = "5521987654321", content=None):
    channel = app.channels.get(kind=kind)
    return client.send_message(
        channel_kind=kind, channel_id=str(channel.hub_channel_id), to=to, content=content or {"text": "Olá!"}
    )


@pytest.mark.django_db
def test_accepted_send_returns_the_hub_message_id_and_status(client, app_a, hub_sandbox):
    result = _send(client, app_a)
    assert result.accepted
    assert result.status == "enqueued"  # WhatsApp is queued by the Hub (docs/hub.md, Sending)
    assert result.message_id.startswith("wamid.")
    assert result.request_id
    assert [s["messageId"] for s in hub_sandbox.accepted_sends()] == [result.message_id]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("kind", "to", "status"),
    [
        ("telegram", "123456789", "sent"),
        ("sms", "+14155550123", "sent"),
        ("messenger", "26203292189261166", "enqueued"),
    ],
)
def test_each_channel_path_is_reachable(client, app_a, kind, to, status):
    assert _send(client, app_a, kind, to).status == status


@pytest.mark.django_db
def test_400_is_permanent_and_carries_the_hubs_message(client, app_a):
    with pytest.raises(HubError) as caught:
        _send(client, app_a, "instagram", "17841400000000001", {"documentUrl": "https://example.org/a.pdf"})
    error = caught.value
    assert (error.status, error.permanent) == (400, True)
    assert "document" in error.message
    assert error.error_code


@pytest.mark.django_db
def test_401_is_permanent_and_says_the_key_was_refused(hub_sandbox, app_a):
    register_in_sandbox(hub_sandbox, app_a)
    bad = HubClient(api_key="not-a-key", base_url=hub_sandbox.url)
    with pytest.raises(HubError) as caught:
        _send(bad, app_a)
    assert (caught.value.status, caught.value.permanent) == (401, True)
    assert "API key" in str(caught.value)


@pytest.mark.django_db
def test_404_for_a_channel_the_hub_does_not_know(client):
    with pytest.raises(HubError) as caught:
        client.send_message(
            channel_kind="whatsapp", channel_id=str(uuid.uuid4()), to="5521987654321", content={"text": "x"}
        )
    assert (caught.value.status, caught.value.permanent) == (404, True)


@pytest.mark.django_db
def test_429_is_transient(client, app_a, hub_sandbox):
    hub_sandbox.configure(sendRateLimitRate=1.0)
    with pytest.raises(HubError) as caught:
        _send(client, app_a)
    assert (caught.value.status, caught.value.permanent) == (429, False)
    assert hub_sandbox.accepted_sends() == []


@pytest.mark.django_db
def test_500_is_transient(client, app_a, hub_sandbox):
    hub_sandbox.configure(sendErrorRate=1.0)
    with pytest.raises(HubError) as caught:
        _send(client, app_a)
    assert (caught.value.status, caught.value.permanent) == (500, False)


@pytest.mark.django_db
def test_read_timeout_is_transient_and_flagged_as_maybe_delivered(client, app_a, hub_sandbox):
    hub_sandbox.configure(sendTimeoutRate=1.0, timeoutSeconds=3)
    with pytest.raises(HubError) as caught:
        _send(client, app_a)
    assert caught.value.permanent is False
    assert caught.value.kind == "timeout"
    assert caught.value.maybe_delivered


@pytest.mark.django_db
def test_unreachable_hub_is_a_transient_connection_error(app_a):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again when the block ends: nothing listens there
    client = HubClient(api_key="k", base_url=f"http://127.0.0.1:{port}")
    with pytest.raises(HubError) as caught:
        _send(client, app_a)
    assert caught.value.permanent is False
    assert caught.value.kind == "connection"
    assert not caught.value.maybe_delivered


@pytest.mark.django_db
def test_provider_level_error_is_a_result_not_an_exception(client, app_a, hub_sandbox):
    hub_sandbox.configure(
        failingRecipients={"5521900000000": {"errorCode": "131026", "errorMessage": "Not on WhatsApp"}}
    )
    result = _send(client, app_a, to="5521900000000")
    assert not result.accepted
    assert (result.status, result.error_code, result.error_message) == ("error", "131026", "Not on WhatsApp")


@pytest.mark.django_db
def test_webhook_management_round_trip(client, hub_sandbox):
    # An endpoint that never answers the handshake: the webhook exists but stays unverified.
    created = client.create_webhook(
        label="t", endpoint="http://127.0.0.1:9/hook", event_type="Message", requires_signature=True
    )
    assert created.signing_secret and not created.is_verified
    assert [w.id for w in client.list_webhooks().items] == [created.id]
    assert client.get_webhook(created.id).event_type == "Message"
    updated = client.update_webhook(created.id, label="renamed")
    assert updated.label == "renamed"
    new_secret = client.redefine_signature(created.id)
    assert new_secret and new_secret != created.signing_secret
    logs = client.list_webhook_logs(created.id, status="Failed")
    assert logs.total == len(logs.items)
    client.delete_webhook(created.id)
    with pytest.raises(HubError) as caught:
        client.get_webhook(created.id)
    assert caught.value.status == 404
