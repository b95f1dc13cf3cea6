"""What pages list of their Applications in menus, kept by each server process until it changes.

Every inbox and thread page offers the visible Applications' members (the assignee menus), their
labels (the filter bar, the label menu) and, in the composer, the channel's WhatsApp templates and the
agent's canned replies: four queries a thread page for lists that change a few times a week. A page
reads its Applications anyway (`visible_application_list`), and with them `Application.roster_version`,
which the signals (channels_app/signals.py, conversations/receivers.py) move in the same transaction as
any change to those lists; a process keeps each list under the versions it was read at. A page that
sees a new version therefore reads the lists again, and never sees a list older than the version it
read, whichever process served the change. A live event's thread header takes its menus from here too
(fanout.py: the event's row brings its Application's version). `queryset.update()` sends no signal:
nothing updates these tables in bulk; a change that would must call `bump_roster` itself.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Hashable, Iterable
from typing import Any, TypeVar

from django.db.models import F

from channels_app.lru import BoundedCache
from channels_app.models import Application

T = TypeVar("T")

# A few kB per entry: the members and labels of each set of Applications users see, each channel's
# templates, each agent's canned replies.
kept: BoundedCache[Any] = BoundedCache(size=500)


def roster_of(what: Hashable, applications: Iterable[Application], read: Callable[[], T]) -> T:
    """`read()`, or what this process read for `what` at the Applications' current versions. Read
    afresh when an Application came without its version (a deferred field: no query for it here)."""
    versions = []
    for application in applications:
        version = application.__dict__.get("roster_version")
        if version is None:
            return read()
        versions.append((application.pk, version))
    return kept.get((what, tuple(sorted(versions))), read)


def bump_roster(*, application_ids: Collection[int]) -> None:
    """Tell every process that these Applications' lists changed (in the caller's transaction)."""
    if application_ids:
        Application.objects.filter(pk__in=list(application_ids)).update(
            roster_version=F("roster_version") + 1
        )


def bump_roster_of_member(user_id: int) -> None:
    """A member's name or standing changed: every Application that lists them."""
    Application.objects.filter(memberships__user_id=user_id).update(roster_version=F("roster_version") + 1)


def bump_roster_of_channel(channel_id: int) -> None:
    """A channel's templates changed: its Application."""
    Application.objects.filter(channels__id=channel_id).update(roster_version=F("roster_version") + 1)
