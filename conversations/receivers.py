"""What conversations does when the lower app's rows change (connected in `ConversationsConfig.ready`)."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save

from channels_app.models import Membership
from channels_app.roster import bump_roster
from conversations.actions.notes import do_forget_mentions
from conversations.models import CannedReply, Label


def membership_removed(sender: type, instance: Membership, **kwargs: Any) -> None:
    do_forget_mentions(user_id=instance.user_id, application_id=instance.application_id)


def listed_in_menus(sender: type, instance: Label | CannedReply, **kwargs: Any) -> None:
    # Labels: the filter bar and label menus; canned replies: the composer's `/` picker.
    bump_roster(application_ids=[instance.application_id])


def connect() -> None:
    post_delete.connect(membership_removed, sender=Membership, dispatch_uid="conversations.mentions")
    for model in (Label, CannedReply):
        name = model._meta.model_name
        post_save.connect(listed_in_menus, sender=model, dispatch_uid=f"conversations.roster.{name}_saved")
        post_delete.connect(
            listed_in_menus, sender=model, dispatch_uid=f"conversations.roster.{name}_deleted"
        )
