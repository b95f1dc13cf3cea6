"""Channels: register, rename, (de)activate, and send a test message through one."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext

from channels_app import audit
from channels_app.access import AuthUser
from channels_app.actions.common import SettingsError, hub_call
from channels_app.hub import HubClient, SendResult
from channels_app.hub.capabilities import recipient_error
from channels_app.models import (
    Application,
    Channel,
)

log = logging.getLogger(__name__)


_CHANNEL_FIELDS = ["hub_channel_id", "kind", "display_name", "active"]


def do_register_channel(
    *,
    actor: AuthUser,
    application: Application,
    hub_channel_id: uuid.UUID,
    kind: str,
    display_name: str,
) -> Channel:
    try:
        with transaction.atomic():
            channel = Channel.objects.create(
                application=application, hub_channel_id=hub_channel_id, kind=kind, display_name=display_name
            )
            audit.record(
                actor=actor,
                action="channel.registered",
                application=application,
                target=channel,
                changes=audit.diff({}, audit.snapshot(channel, _CHANNEL_FIELDS)),
            )
    except IntegrityError:  # the form checked, but two admins may register the same UUID at once
        # Worded as the form's refusal (forms.CHANNEL_UNUSABLE): it must not confirm another tenant has it.
        raise SettingsError(gettext("This channel cannot be registered here.")) from None
    return channel


def _update_channel(actor: AuthUser, channel: Channel, action: str, **values: Any) -> Channel:
    with transaction.atomic():
        locked = Channel.objects.select_for_update().get(pk=channel.pk)
        before = audit.snapshot(locked, list(values))
        changes = audit.diff(before, values)
        if changes:
            for name, value in values.items():
                setattr(locked, name, value)
            locked.save(update_fields=list(values))
            audit.record(
                actor=actor, action=action, application=locked.application, target=locked, changes=changes
            )
    return locked


def do_update_channel(*, actor: AuthUser, channel: Channel, display_name: str) -> Channel:
    return _update_channel(actor, channel, "channel.updated", display_name=display_name)


def do_set_channel_active(*, actor: AuthUser, channel: Channel, active: bool) -> Channel:
    """Deactivate (stop replies; conversations and messages stay) or reactivate a channel."""
    action = "channel.reactivated" if active else "channel.deactivated"
    return _update_channel(actor, channel, action, active=active)


def do_send_test_message(*, channel: Channel, to: str, text: str) -> SendResult:
    """Send one text through the Hub to prove the channel UUID, key and recipient work.

    Not stored as a conversation message: it is a connection test. Raises HubError or SettingsError.
    """
    if not channel.active:
        raise SettingsError(gettext("This channel is deactivated."))
    problem = recipient_error(channel.kind, to)
    if problem:
        raise SettingsError(problem)
    client = HubClient.for_application(channel.application)
    with hub_call(channel.application):
        result = client.send_message(
            channel_kind=channel.kind, channel_id=str(channel.hub_channel_id), to=to, content={"text": text}
        )
    log.info("test message on channel %s: %s %s", channel.pk, result.status, result.message_id)
    return result
