"""The data model's invariants hold in the database itself, not only in code paths."""

import uuid

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from channels_app.models import Application, Channel, Membership
from conversations.models import Contact, Conversation, Message


def _conversation(channel: Channel, external_id: str = "5521987654321") -> Conversation:
    contact = Contact.objects.create(channel=channel, external_id=external_id)
    return Conversation.objects.create(
        application=channel.application, channel=channel, contact=contact, last_activity_at=timezone.now()
    )


def _message(conversation: Conversation, **fields) -> Message:
    defaults = {
        "conversation": conversation,
        "channel": conversation.channel,
        "direction": Message.Direction.INBOUND,
        "content": {"type": "text", "text": "hi"},
        "status": Message.Status.RECEIVED,
    }
    return Message.objects.create(**{**defaults, **fields})


@pytest.mark.django_db
def test_duplicate_hub_message_id_on_one_channel_is_rejected(app_a):
    channel = app_a.channels.get(kind="whatsapp")
    conversation = _conversation(channel)
    _message(conversation, hub_message_id="wamid.ABC")
    with pytest.raises(IntegrityError), transaction.atomic():
        _message(conversation, hub_message_id="wamid.ABC")


@pytest.mark.django_db
def test_same_hub_message_id_on_two_channels_is_allowed(app_a):
    whatsapp = app_a.channels.get(kind="whatsapp")
    telegram = app_a.channels.get(kind="telegram")
    _message(_conversation(whatsapp), hub_message_id="42")
    _message(_conversation(telegram, "123456"), hub_message_id="42")
    assert Message.objects.filter(hub_message_id="42").count() == 2


@pytest.mark.django_db
def test_many_messages_without_hub_id_are_allowed(app_a):
    conversation = _conversation(app_a.channels.get(kind="sms"), "+14155550123")
    for _ in range(3):
        _message(conversation, direction=Message.Direction.OUTBOUND, status=Message.Status.PENDING)
    assert conversation.messages.count() == 3


@pytest.mark.django_db
def test_duplicate_idempotency_key_is_rejected(app_a):
    conversation = _conversation(app_a.channels.get(kind="whatsapp"))
    outbound = {"direction": Message.Direction.OUTBOUND, "status": Message.Status.PENDING}
    _message(conversation, idempotency_key="compose-1", **outbound)
    with pytest.raises(IntegrityError), transaction.atomic():
        _message(conversation, idempotency_key="compose-1", **outbound)


@pytest.mark.django_db
def test_one_contact_per_channel_and_external_id(app_a):
    channel = app_a.channels.get(kind="whatsapp")
    Contact.objects.create(channel=channel, external_id="5521987654321")
    with pytest.raises(IntegrityError), transaction.atomic():
        Contact.objects.create(channel=channel, external_id="5521987654321")


@pytest.mark.django_db
def test_channel_uuid_is_unique_across_applications(app_a, app_b):
    taken = app_a.channels.first().hub_channel_id
    with pytest.raises(IntegrityError), transaction.atomic():
        Channel.objects.create(application=app_b, hub_channel_id=taken, kind="sms", display_name="copy")


@pytest.mark.django_db
def test_one_membership_per_user_and_application(agent_a, app_a):
    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.create(user=agent_a, application=app_a, role=Membership.Role.ADMIN)


@pytest.mark.django_db
def test_two_tenants_may_name_their_applications_alike(app_a):
    """Names are unique per user (the settings form checks the Applications a user sees), not in the
    database: a global constraint would tell one tenant which names another uses."""
    duplicate = Application(name=app_a.name.upper())
    duplicate.set_api_key("another-key-1234")
    duplicate.save()
    assert sorted(Application.objects.filter(name__iexact=app_a.name).values_list("name", flat=True)) == [
        app_a.name.upper(),
        app_a.name,
    ]


@pytest.mark.django_db
def test_api_key_is_encrypted_at_rest_and_readable_in_code():
    app = Application(name="Secretive")
    app.set_api_key("hubkey-plain-text-9876")
    app.save()
    with connection.cursor() as cursor:
        cursor.execute("SELECT hub_api_key FROM channels_app_application WHERE id = %s", [app.pk])
        stored = cursor.fetchone()[0]
    assert "hubkey-plain-text-9876" not in stored
    assert Application.objects.get(pk=app.pk).hub_api_key == "hubkey-plain-text-9876"
    assert app.masked_api_key == "••••9876"


@pytest.mark.django_db
def test_channel_kinds_cover_all_six_hub_channels(app_a):
    kinds = set(app_a.channels.values_list("kind", flat=True))
    assert kinds == {"whatsapp", "instagram", "messenger", "telegram", "sms", "webchatt"}
    assert all(isinstance(c.hub_channel_id, uuid.UUID) for c in app_a.channels.all())


@pytest.mark.django_db
def test_the_migrations_hold_every_model_change():
    # The test database is built by the migrations: a model change without one (an index, a constraint)
    # would pass here and be missing in production. `--check` exits non-zero when one is missing.
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("makemigrations", "--check", "--dry-run", stdout=out)
    assert "No changes detected" in out.getvalue()
