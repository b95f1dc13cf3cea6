"""Channels: registered by the Hub's UUID, the `to` format per kind shown and enforced, deactivation
keeps history, and a test message proves key, channel and recipient work together."""

import uuid

import pytest
from django.urls import reverse

from channels_app.actions.channels import do_register_channel
from channels_app.actions.common import SettingsError
from channels_app.hub.capabilities import CAPABILITIES
from channels_app.models import AuditEntry, Channel
from conversations.models import Message
from tests.conftest import register_in_sandbox
from tests.settings.conftest import make_message


def _register(client, app, **data):
    payload = {"hub_channel_id": str(uuid.uuid4()), "kind": "whatsapp", "display_name": "Sales WhatsApp"}
    payload.update(data)
    return client.post(reverse("settings:channel_create", args=[app.pk]), payload)


@pytest.mark.django_db
def test_admin_registers_a_channel_by_its_hub_uuid(admin, admin_client_a, app_a):
    channel_id = uuid.uuid4()
    response = _register(admin_client_a, app_a, hub_channel_id=str(channel_id), kind="telegram")

    assert response.status_code == 302
    channel = Channel.objects.get(hub_channel_id=channel_id)
    assert (channel.application, channel.kind, channel.display_name, channel.active) == (
        app_a,
        "telegram",
        "Sales WhatsApp",
        True,
    )
    entry = AuditEntry.objects.get(action="channel.registered")
    assert entry.changes["hub_channel_id"] == {"from": None, "to": str(channel_id)}
    assert entry.changes["kind"] == {"from": None, "to": "telegram"}


@pytest.mark.django_db
@pytest.mark.parametrize(
    "bad", ["not-a-uuid", "3f2c9a10-7d4e-4b8a-9c21", "zzzzzzzz-7d4e-4b8a-9c21-0e5d6f7a8b90"]
)
def test_a_bad_uuid_is_refused_with_an_example_of_a_good_one(admin_client_a, app_a, bad):
    response = _register(admin_client_a, app_a, hub_channel_id=bad)

    assert response.status_code == 200
    assert response.context["form"].errors["hub_channel_id"] == [
        "Enter the channel's UUID as the Hub shows it, e.g. 3f2c9a10-7d4e-4b8a-9c21-0e5d6f7a8b90."
    ]
    assert not Channel.objects.filter(display_name="Sales WhatsApp").exists()


@pytest.mark.django_db
def test_a_uuid_already_registered_anywhere_is_refused_without_saying_where(admin_client_a, app_a, app_b):
    taken = app_b.channels.first().hub_channel_id

    response = _register(admin_client_a, app_a, hub_channel_id=str(taken).upper())

    assert response.context["form"].errors["hub_channel_id"] == ["This channel cannot be registered here."]
    body = response.content.decode()
    assert "Bravo Shop" not in body
    assert "already registered" not in body
    assert not app_a.channels.filter(hub_channel_id=taken).exists()


@pytest.mark.django_db
def test_a_uuid_registered_by_another_tenant_is_refused_as_one_of_ours_is(admin_client_a, app_a, app_b):
    ours = _register(admin_client_a, app_a, hub_channel_id=str(app_a.channels.first().hub_channel_id))
    theirs = _register(admin_client_a, app_a, hub_channel_id=str(app_b.channels.first().hub_channel_id))

    assert ours.status_code == theirs.status_code == 200
    assert (
        ours.context["form"].errors["hub_channel_id"]
        == theirs.context["form"].errors["hub_channel_id"]
        == ["This channel cannot be registered here."]
    )


@pytest.mark.django_db
def test_a_registration_that_loses_the_race_for_a_uuid_does_not_confirm_the_other_tenant(admin, app_a, app_b):
    # Two admins submitting the same UUID at once both pass the form; the database refuses the second.
    taken = app_b.channels.first().hub_channel_id

    with pytest.raises(SettingsError) as refused:
        do_register_channel(
            actor=admin, application=app_a, hub_channel_id=taken, kind="whatsapp", display_name="Sales"
        )

    assert str(refused.value) == "This channel cannot be registered here."
    assert not app_a.channels.filter(hub_channel_id=taken).exists()


@pytest.mark.django_db
def test_registration_page_shows_the_to_format_of_every_kind(admin_client_a, app_a):
    body = admin_client_a.get(reverse("settings:channel_create", args=[app_a.pk])).content.decode()
    for capability in CAPABILITIES.values():
        assert capability.to_help.replace("'", "&#x27;") in body


@pytest.mark.django_db
def test_application_page_lists_channels_with_their_to_format(admin_client_a, app_a):
    body = admin_client_a.get(reverse("settings:application", args=[app_a.pk])).content.decode()
    assert "E.164 digits without &#x27;+&#x27;, e.g. 5521987654321" in body  # WhatsApp
    assert "E.164 with &#x27;+&#x27;, e.g. +14155550123" in body  # SMS
    assert body.count('class="channel-row') == 6


@pytest.mark.django_db
def test_deactivating_a_channel_keeps_its_conversations_and_messages(admin_client_a, app_a):
    channel = app_a.channels.get(kind="whatsapp")
    make_message(channel, direction=Message.Direction.INBOUND, status=Message.Status.RECEIVED)

    response = admin_client_a.post(
        reverse("settings:channel_active", args=[channel.pk]), {"active": "0"}, follow=True
    )

    channel.refresh_from_db()
    assert not channel.active
    assert Message.objects.filter(channel=channel).count() == 1
    assert "deactivated. Its conversations and messages are kept." in response.content.decode()
    assert AuditEntry.objects.get(action="channel.deactivated").changes == {
        "active": {"from": True, "to": False}
    }

    admin_client_a.post(reverse("settings:channel_active", args=[channel.pk]), {"active": "1"})
    channel.refresh_from_db()
    assert channel.active


@pytest.mark.django_db
def test_renaming_a_channel_is_audited(admin_client_a, app_a):
    channel = app_a.channels.get(kind="sms")
    admin_client_a.post(reverse("settings:channel", args=[channel.pk]), {"display_name": "Support SMS"})
    channel.refresh_from_db()
    assert channel.display_name == "Support SMS"
    assert AuditEntry.objects.get(action="channel.updated").changes == {
        "display_name": {"from": "Acme Support SMS", "to": "Support SMS"}
    }


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("kind", "to"),
    [
        ("whatsapp", "+5521987654321"),  # WhatsApp wants the digits without '+'
        ("sms", "14155550123"),  # SMS wants the '+'
        ("instagram", "@someone"),
        ("messenger", "abc"),
        ("telegram", "12ab"),
        ("webchatt", "visitor id with spaces"),
    ],
)
def test_a_wrong_to_format_is_a_form_error_naming_the_expected_format(
    admin_client_a, app_a, hub_sandbox, kind, to
):
    channel = app_a.channels.get(kind=kind)

    response = admin_client_a.post(
        reverse("settings:channel_test_message", args=[channel.pk]), {"to": to, "text": "hi"}
    )

    assert response.status_code == 200
    [error] = response.context["test_form"].errors["to"]
    assert (
        error
        == f"'{to}' is not a valid {CAPABILITIES[kind].label} recipient: expected {CAPABILITIES[kind].to_help}."
    )
    assert hub_sandbox.send_attempts()["count"] == 0


@pytest.mark.django_db
def test_a_test_message_goes_through_the_hub_and_says_so(admin_client_a, app_a, hub_sandbox):
    register_in_sandbox(hub_sandbox, app_a)
    channel = app_a.channels.get(kind="sms")

    response = admin_client_a.post(
        reverse("settings:channel_test_message", args=[channel.pk]),
        {"to": "+14155550123", "text": "Hubdash test"},
        follow=True,
    )

    [sent] = hub_sandbox.accepted_sends(channel_id=str(channel.hub_channel_id))
    assert sent["to"] == "+14155550123"
    assert "The Hub accepted the test message" in response.content.decode()
    assert not Message.objects.exists()  # a connection test, not a conversation


@pytest.mark.django_db
def test_a_channel_uuid_the_hub_does_not_know_is_shown_as_the_hubs_404(admin_client_a, app_a, hub_sandbox):
    register_in_sandbox(hub_sandbox, app_a)
    _register(admin_client_a, app_a, kind="telegram", display_name="Typo channel")
    channel = Channel.objects.get(display_name="Typo channel")

    response = admin_client_a.post(
        reverse("settings:channel_test_message", args=[channel.pk]), {"to": "123456789", "text": "hi"}
    )

    [error] = response.context["test_form"].non_field_errors()
    assert error.startswith("The Hub answered HTTP 404")
