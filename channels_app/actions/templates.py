"""The WhatsApp template library: admins register the templates the Hub approved (it cannot list them)."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils.translation import gettext

from channels_app import audit
from channels_app.access import AuthUser
from channels_app.actions.common import SettingsError
from channels_app.models import Channel, WhatsAppTemplate

_FIELDS = ["hub_template_id", "name", "language", "category", "header", "body", "footer", "buttons"]


def do_add_template(
    *,
    actor: AuthUser,
    channel: Channel,
    hub_template_id: str,
    name: str,
    language: str,
    category: str,
    header: str,
    body: str,
    footer: str,
    buttons: list[str],
) -> WhatsAppTemplate:
    """Register a template for a WhatsApp channel (checked by the form). SettingsError on a duplicate."""
    try:
        with transaction.atomic():
            template = WhatsAppTemplate.objects.create(
                channel=channel, hub_template_id=hub_template_id, name=name, language=language,
                category=category, header=header, body=body, footer=footer, buttons=buttons,
            )  # fmt: skip
            audit.record(
                actor=actor,
                action="template.added",
                application=channel.application,
                target=channel,
                changes=audit.diff({}, audit.snapshot(template, _FIELDS)),
            )
    except IntegrityError:
        raise SettingsError(
            gettext("This channel already has a template with this id, or with this name and language.")
        ) from None
    return template


def do_delete_template(*, actor: AuthUser, template: WhatsAppTemplate) -> None:
    """Remove a template from the library; replies already sent with it keep their text."""
    audit.delete_recorded(
        actor=actor,
        action="template.deleted",
        obj=template,
        fields=_FIELDS,
        application=template.channel.application,
        target=template.channel,
    )
