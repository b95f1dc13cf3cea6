"""`manage.py prune_history`: the worker's hourly housekeeping, run now (see conversations/actions/housekeeping.py)."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand

from conversations.actions.housekeeping import do_prune_history


class Command(BaseCommand):
    help = (
        "Delete webhook deliveries older than their retention (WEBHOOK_EVENT_RETENTION_DAYS) and uploads "
        "no reply took (UPLOAD_ORPHAN_HOURS)."
    )

    def handle(self, *args, **options) -> None:
        report = do_prune_history()
        self.stdout.write(
            f"Deleted {report.webhook_events} webhook deliveries and {report.orphan_statuses} unmatched statuses "
            f"{_older_than(settings.WEBHOOK_EVENT_RETENTION_DAYS)}, and {report.orphan_uploads} uploads no reply "
            f"took within {settings.UPLOAD_ORPHAN_HOURS} hours."
        )


def _older_than(days: int) -> str:
    return f"older than {days} days" if days > 0 else "(retention 0: kept for ever)"
