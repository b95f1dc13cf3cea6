"""`manage.py hub_sandbox`: run the Hub sandbox in the foreground.

A thin wrapper over hubsandbox.cli; it touches no database, so it runs before migrations exist.
"""

from __future__ import annotations

import argparse
import logging
from typing import Any

from django.core.management.base import BaseCommand

from hubsandbox.cli import add_arguments, run


class Command(BaseCommand):
    help = "Run the local Hub Chatt2.me sandbox until Ctrl-C."
    requires_system_checks: list[str] = []  # no database or settings checks: it is a standalone server
    requires_migrations_checks = False

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        add_arguments(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        if not logging.getLogger().handlers:
            logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
        run(
            host=options["host"],
            port=options["port"],
            seed=options["seed"],
            customers_rate=options["customers_rate"],
            application_file=options["application_file"],
            out=self.stdout,
        )
