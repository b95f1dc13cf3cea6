"""What conversations does when the lower app's rows change (connected in `ConversationsConfig.ready`)."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete

from channels_app.models import Membership
from conversations.actions.notes import do_forget_mentions


def membership_removed(sender: type, instance: Membership, **kwargs: Any) -> None:
    do_forget_mentions(user_id=instance.user_id, application_id=instance.application_id)


def connect() -> None:
    post_delete.connect(membership_removed, sender=Membership, dispatch_uid="conversations.mentions")
