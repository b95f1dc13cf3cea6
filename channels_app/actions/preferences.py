"""A user's own language and time zone: the profile form, and the browser's zone at the first sign-in.

Audited like the settings' writes. The entries name no Application (a preference belongs to a person,
not a tenant), so the audit log shows them to superusers.
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction

from channels_app import audit
from channels_app.access import AuthUser
from channels_app.actions.common import SettingsError
from channels_app.models import UserPreferences, time_zone_names

LANGUAGE_CODES = frozenset(code for code, _name in settings.LANGUAGES)


def _locked_preferences(user: AuthUser) -> UserPreferences:
    # get_or_create survives two first saves at once (the loser reads the winner's row); then lock it.
    UserPreferences.objects.get_or_create(user_id=user.pk)
    return UserPreferences.objects.select_for_update().get(user_id=user.pk)


def _record(actor: AuthUser, action: str, changes: dict[str, dict[str, str]]) -> None:
    audit.record(
        actor=actor,
        action=action,
        application=None,
        target_type="user",
        target_id=str(actor.pk),
        target_repr=actor.get_username(),
        changes=changes,
    )


def do_update_preferences(*, actor: AuthUser, language: str, time_zone: str) -> UserPreferences:
    """Save the signed-in user's language ("" = the browser's) and time zone, audited when they change."""
    if language and language not in LANGUAGE_CODES:
        raise SettingsError(f"Unknown language {language!r}.")
    if time_zone not in time_zone_names():
        raise SettingsError(f"Unknown time zone {time_zone!r}.")
    with transaction.atomic():
        locked = _locked_preferences(actor)
        before = {"language": locked.language, "time_zone": locked.time_zone}
        changes = audit.diff(before, {"language": language, "time_zone": time_zone})
        if changes:
            locked.language, locked.time_zone = language, time_zone
            locked.save(update_fields=["language", "time_zone", "updated_at"])
            _record(actor, "preferences.updated", changes)
    return locked


def do_note_browser_time_zone(*, user: AuthUser, time_zone: str) -> bool:
    """At sign-in: take the browser's zone as the user's first one. A zone already chosen is kept (the
    user may have picked another one on purpose); an unknown value (any client can post one) is ignored.
    True when it was stored."""
    if time_zone not in time_zone_names():
        return False
    with transaction.atomic():
        locked = _locked_preferences(user)
        if locked.time_zone:
            return False
        locked.time_zone = time_zone
        locked.save(update_fields=["time_zone", "updated_at"])
        _record(user, "preferences.time_zone_from_browser", {"time_zone": {"from": "", "to": time_zone}})
    return True


def do_update_notification_settings(*, actor: AuthUser, settings_on: dict[str, bool]) -> UserPreferences:
    """Which notifications the signed-in user gets (UserPreferences.NOTIFICATION_FIELDS), audited."""
    unknown = set(settings_on) - set(UserPreferences.NOTIFICATION_FIELDS)
    if unknown:
        raise SettingsError(f"Unknown notification settings {sorted(unknown)!r}.")
    with transaction.atomic():
        locked = _locked_preferences(actor)
        before = {name: getattr(locked, name) for name in settings_on}
        changes = audit.diff(before, settings_on)
        if changes:
            for name, value in settings_on.items():
                setattr(locked, name, value)
            locked.save(update_fields=[*changes, "updated_at"])
            _record(actor, "preferences.notifications_updated", changes)
    return locked
