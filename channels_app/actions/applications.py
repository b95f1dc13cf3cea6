"""Applications: create, rename, replace the Hub key, test the connection, accept unsigned events, set
the first-response target.

Every admin write is audited in the transaction that makes it."""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.utils import timezone

from channels_app import audit
from channels_app.access import AuthUser
from channels_app.actions.common import note_hub_result
from channels_app.hub import HubClient, HubError
from channels_app.models import (
    Application,
    Membership,
    ServiceLevel,
)

log = logging.getLogger(__name__)


def check_api_key(*, api_key: str) -> None:
    """Raise HubError unless the Hub accepts `api_key`.

    The Hub documents no "whoami" call: listing one webhook is the cheapest authenticated request there
    is (it needs no channel id and changes nothing), and a wrong or revoked key gets a 401.
    """
    HubClient(api_key=api_key).list_webhooks(limit=1)


def do_check_connection(*, application: Application) -> HubError | None:
    """The "test connection" action: None when the Hub accepts the stored key, else the Hub's error."""
    try:
        check_api_key(api_key=application.hub_api_key)
    except HubError as exc:
        note_hub_result(application, exc)
        log.info("hub connection check for application %s failed: %s", application.pk, exc)
        return exc
    note_hub_result(application, None)
    return None


def do_create_application(*, actor: AuthUser, name: str, api_key: str) -> Application:
    """A new Application whose key the Hub accepted; its creator becomes its admin.

    Raises HubError (before writing anything) when the Hub refuses the key or cannot be reached.
    """
    check_api_key(api_key=api_key)
    with transaction.atomic():
        application = Application(name=name, hub_ok_at=timezone.now())
        application.set_api_key(api_key)
        application.save()
        Membership.objects.create(user=actor, application=application, role=Membership.Role.ADMIN)
        audit.record(
            actor=actor,
            action="application.created",
            application=application,
            target=application,
            changes=audit.diff({}, {"name": name, "hub_api_key": audit.masked(api_key)}),
        )
    return application


def do_update_application(*, actor: AuthUser, application: Application, name: str) -> Application:
    with transaction.atomic():
        locked = Application.objects.select_for_update().get(pk=application.pk)
        changes = audit.diff({"name": locked.name}, {"name": name})
        if changes:
            locked.name = name
            locked.save(update_fields=["name", "updated_at"])
            audit.record(
                actor=actor, action="application.updated", application=locked, target=locked, changes=changes
            )
    return locked


def do_replace_api_key(*, actor: AuthUser, application: Application, api_key: str) -> Application:
    """Swap the Hub API key for one the Hub accepts (raises HubError first otherwise)."""
    check_api_key(api_key=api_key)
    with transaction.atomic():
        locked = Application.objects.select_for_update().get(pk=application.pk)
        old = locked.masked_api_key
        locked.set_api_key(api_key)
        locked.hub_ok_at = timezone.now()
        locked.save(update_fields=["hub_api_key", "hub_api_key_last4", "hub_ok_at", "updated_at"])
        audit.record(
            actor=actor,
            action="application.key_replaced",
            application=locked,
            target=locked,
            # Two keys with the same last four characters still read as a change.
            changes={"hub_api_key": {"from": old, "to": audit.masked(api_key) or "••••"}},
        )
    return locked


def do_set_accept_unsigned(*, actor: AuthUser, application: Application, accept: bool) -> Application:
    """Turn "accept unsigned events" on (a Hub account that cannot sign) or off, audited.

    Off is the default: an event is taken only with a signature one of our active secrets verifies.
    The webhook reads the switch afresh before it takes an unsigned event, so turning it off holds at
    once in every process (see conversations/actions/inbound.py).
    """
    with transaction.atomic():
        locked = Application.objects.select_for_update().get(pk=application.pk)
        changes = audit.diff(
            {"accept_unsigned_events": locked.accept_unsigned_events}, {"accept_unsigned_events": accept}
        )
        if changes:
            locked.accept_unsigned_events = accept
            locked.save(update_fields=["accept_unsigned_events", "updated_at"])
            audit.record(
                actor=actor,
                action="webhooks.unsigned_accepted" if accept else "webhooks.unsigned_refused",
                application=locked,
                target=locked,
                changes=changes,
            )
    return locked


def do_set_service_level(
    *,
    actor: AuthUser,
    application: Application,
    minutes: int | None,
    time_zone: str,
    business_hours: list[list[Any]],
) -> ServiceLevel | None:
    """Set the Application's first-response target (None minutes: remove it), audited. Questions asked
    from now on get due times from it; those already asked keep theirs."""
    with transaction.atomic():
        locked = Application.objects.select_for_update().get(pk=application.pk)
        level = ServiceLevel.objects.filter(application=locked).first()
        before = _service_level_facts(level)
        if minutes is None:
            if level is not None:
                level.delete()
            level = None
        else:
            level = level or ServiceLevel(application=locked)
            level.first_response_minutes = minutes
            level.time_zone = time_zone
            level.business_hours = business_hours
            level.save()
        changes = audit.diff(before, _service_level_facts(level))
        if changes:
            audit.record(
                actor=actor,
                action="application.service_level",
                application=locked,
                target=locked,
                changes=changes,
            )
    return level


def _service_level_facts(level: ServiceLevel | None) -> dict[str, Any]:
    if level is None:
        return {"first_response_minutes": None, "time_zone": "", "business_hours": []}
    return {
        "first_response_minutes": level.first_response_minutes,
        "time_zone": level.time_zone,
        "business_hours": level.business_hours,
    }
