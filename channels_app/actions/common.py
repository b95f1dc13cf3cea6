"""What every settings write shares: the error an admin reads, and noting a Hub call's outcome."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.utils import timezone

from channels_app.hub import HubError
from channels_app.models import (
    Application,
)


class SettingsError(Exception):
    """A settings change that was refused for a reason the admin must read (e.g. the last admin)."""


def note_hub_result(application: Application, error: HubError | None) -> None:
    """Keep the outcome of a settings call to the Hub for the health panel (not audited: no change)."""
    now = timezone.now()
    if error is None:
        Application.objects.filter(pk=application.pk).update(hub_ok_at=now)
        application.hub_ok_at = now
    else:
        message = str(error)[:1000]
        Application.objects.filter(pk=application.pk).update(last_hub_error=message, last_hub_error_at=now)
        application.last_hub_error, application.last_hub_error_at = message, now


@contextmanager
def hub_call(application: Application) -> Iterator[None]:
    """Note the outcome of the Hub calls in the block for the health panel; a HubError still propagates."""
    try:
        yield
    except HubError as exc:
        note_hub_result(application, exc)
        raise
    note_hub_result(application, None)
