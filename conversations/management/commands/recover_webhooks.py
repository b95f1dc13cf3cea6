"""`manage.py recover_webhooks`: have the Hub re-send the deliveries that failed while we were down.

The Hub does not retry a failed delivery by itself (docs/hub.md, Delivery logs and retries); it keeps a log. Run this after an
outage (or from cron): it reads each Application's failed webhook logs and asks the Hub to retry them.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from channels_app.actions.redelivery import do_recover_failed_deliveries
from channels_app.hub import HubError
from channels_app.models import Application


class Command(BaseCommand):
    help = "Ask the Hub to re-send failed webhook deliveries (all Applications, or those named)."

    def add_arguments(self, parser):
        parser.add_argument(
            "applications", nargs="*", help="Application ids or names (default: every Application)."
        )

    def handle(self, *args, applications: list[str], **options):
        selected = list(Application.objects.all())
        if applications:
            wanted = {a.lower() for a in applications}
            selected = [a for a in selected if str(a.pk) in wanted or a.name.lower() in wanted]
            if len(selected) < len(wanted):
                raise CommandError(f"unknown application(s) among: {', '.join(applications)}")
        failures = 0
        for application in selected:
            try:
                report = do_recover_failed_deliveries(application=application)
            except HubError as exc:
                failures += 1
                self.stderr.write(f"{application.name}: the Hub could not be reached: {exc}")
                continue
            failures += bool(report.errors)
            style = self.style.WARNING if report.errors else self.style.SUCCESS
            self.stdout.write(style(f"{application.name}: {report}"))
        if failures:
            raise CommandError(f"recovery incomplete for {failures} application(s)")
