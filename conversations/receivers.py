"""What conversations does when the lower app's rows change (connected in `ConversationsConfig.ready`)."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save

from channels_app.models import Membership
from channels_app.roster import bump_roster
from conversations.actions.notes import do_forget_mentions
from conversations.models import Label


def membership_removed(sender: type, instance: Membership, **kwargs: Any) -> None:
    do_forget_mentions(user_id=instance.user_id, application_id=instance.application_id)


def label_changed(sender: type, instance: Label, **kwargs: Any) -> None:
    bump_roster(application_ids=[instance.application_id])  # the filter bar and label menus list them


def connect() -> None:
    post_delete.connect(membership_removed, sender=Membership, dispatch_uid="conversations.mentions")
    post_save.connect(label_changed, sender=Label, dispatch_uid="conversations.roster.label_saved")
    post_delete.connect(label_changed, sender=Label, dispatch_uid="conversations.roster.label_deleted")
