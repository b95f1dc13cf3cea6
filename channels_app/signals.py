"""Whatever changes who may see what tells that user's open inbox tabs, however it was changed.

Settings' actions, the Django admin, `manage.py` and a logout all save the same rows, so the signals
below (not each caller) publish `access.changed`; publish_access_changed sends one event per user per
transaction. An open socket keeps its Application ids in memory (consumers.py): these events are how
it learns that they, the user's flags or the session itself changed.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_out
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from channels_app.models import Application, Channel, Membership, WhatsAppTemplate
from channels_app.realtime import publish_access_changed
from channels_app.roster import bump_roster, bump_roster_of_channel, bump_roster_of_member
from channels_app.selectors import forget_channel_kind


@receiver([post_save, post_delete], sender=Membership)
def membership_changed(sender: type, instance: Membership, **kwargs: Any) -> None:
    publish_access_changed(user_ids=[instance.user_id])
    bump_roster(application_ids=[instance.application_id])  # the assignee menus list members


@receiver([post_save, post_delete], sender=WhatsAppTemplate)
def template_changed(sender: type, instance: WhatsAppTemplate, **kwargs: Any) -> None:
    bump_roster_of_channel(instance.channel_id)  # the composer's template picker


@receiver([post_save, post_delete], sender=Application)
def application_changed(sender: type, instance: Application, created: bool = True, **kwargs: Any) -> None:
    # Superusers see every Application without a membership: their tabs join a new one's group (or
    # leave a deleted one's). Members are told by their memberships' own signals.
    if created:
        superusers = get_user_model().objects.filter(is_superuser=True, is_active=True)
        publish_access_changed(user_ids=superusers.values_list("pk", flat=True))


@receiver([post_save, post_delete], sender=Channel)
def channel_changed(sender: type, instance: Channel, **kwargs: Any) -> None:
    forget_channel_kind(instance.pk)  # remembered per process (selectors.channel_kinds)


def user_changed(sender: type, instance: Any, update_fields: Any = None, **kwargs: Any) -> None:
    # Every sign-in saves last_login: nothing about access, and it would wake every tab of the user.
    if update_fields is not None and set(update_fields) <= {"last_login"}:
        return
    # Deactivation, a new password (other sessions end), superuser rights given or taken, deletion.
    publish_access_changed(user_ids=[instance.pk])
    if not kwargs.get("created"):
        bump_roster_of_member(instance.pk)  # a new name or an account switched off: the assignee menus


@receiver(user_logged_out)
def logged_out(sender: type, request: Any, user: Any, **kwargs: Any) -> None:
    if user is None or request is None or not getattr(request, "session", None):
        return
    publish_access_changed(user_ids=[user.pk], ended_session=request.session.session_key or "")


def connect_user_signals() -> None:
    User = get_user_model()
    post_save.connect(user_changed, sender=User, dispatch_uid="hubdash-user-saved")
    post_delete.connect(user_changed, sender=User, dispatch_uid="hubdash-user-deleted")
