"""`manage.py makemessages` with this project's defaults, so `make messages` and the test that compares its
output with the committed .po files (tests/foundation/test_translation_coverage.py) read the same files.

Only what users of Hubdash read is extracted: not the Hub sandbox (it plays someone else's system), the
tests, the benchmarks or the docs, nor other people's code (the virtualenv, vendored scripts).
"""

from __future__ import annotations

from typing import Any

from django.core.management.commands import makemessages

IGNORED = [
    "var",
    "staticfiles",
    "static/vendor",
    "hubsandbox",
    "tests",
    "bench",
    "docs",
    "build",
    "*.egg-info",
]


class Command(makemessages.Command):
    def handle(self, *args: Any, **options: Any) -> None:
        options["ignore_patterns"] = [*options.get("ignore_patterns", []), *IGNORED]
        # File names without line numbers: a .po file changes when a message does, not when code moves.
        if options.get("add_location") is None:
            options["add_location"] = "file"
        options["no_obsolete"] = True  # a message no code uses any more leaves the file
        super().handle(*args, **options)
