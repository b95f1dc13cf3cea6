"""What a server process checks before it takes its first request, and how it ends."""

from __future__ import annotations

import gc
import logging
import os
import sys
import threading

from django.conf import settings
from django.contrib.staticfiles.storage import ManifestFilesMixin
from django.core.exceptions import ImproperlyConfigured
from django.core.files.storage import storages


def check_static_files() -> None:
    """With DEBUG off, pages link static files through the manifest `collectstatic` writes: without it
    every page would answer 500. Refuse to start instead, and say what to run."""
    storage = storages["staticfiles"]
    if settings.DEBUG or not isinstance(storage, ManifestFilesMixin):
        return
    if not storage.manifest_storage.exists(storage.manifest_name):
        raise ImproperlyConfigured(
            f"Static files are not collected in {settings.STATIC_ROOT}: run "
            "`python manage.py collectstatic --noinput` (with the same settings) before starting the server. "
            "With DEBUG=false every page links its CSS and JavaScript through the manifest it writes."
        )


def settle_garbage_collector() -> None:
    """Take what a server process loaded at startup (Django, the apps, their modules: some 150,000 objects)
    out of the garbage collector's full collections. Each full collection walked them all: a pause of
    tens of milliseconds for every request in flight (the p99 of pages and live frames). They live as
    long as the process: `gc.freeze()` keeps them in a permanent generation, and what requests create is
    collected as before."""
    gc.collect()  # no garbage frozen with them
    gc.freeze()


# Seconds a server process may spend ending once its event loop has stopped.
EXIT_GRACE_SECONDS = 5.0

log = logging.getLogger("hubdash.startup")


def bound_exit(grace: float = EXIT_GRACE_SECONDS) -> None:
    """Make a server process (daphne, uvicorn) end within `grace` seconds of its last step.

    A request that crosses from a sync middleware (WhiteNoise) back into async code parks its thread in
    asgiref's `AsyncToSync`, waiting on the server's event loop; when the client goes away mid-request,
    or the loop stops for a SIGTERM, that wait never ends. At exit Python joins every executor thread, so
    a loaded daphne that had such a request stayed up after SIGTERM (measured: over 30 s, once 7 minutes).
    Our exit hook runs before that join (the thread exit hooks run last-registered first) and starts a
    timer that ends the process if the join has not returned by then. Only in a server process: a test
    run must keep its own exit status.
    """
    program = os.path.basename(
        os.path.dirname(sys.argv[0]) if sys.argv[0].endswith("__main__.py") else sys.argv[0]
    )
    if program not in ("daphne", "uvicorn"):
        return

    def arm() -> None:
        def force() -> None:
            log.warning(
                "still ending after %.0f s (a request thread waits on the stopped loop): exiting", grace
            )
            logging.shutdown()
            os._exit(0)

        timer = threading.Timer(grace, force)
        timer.daemon = True
        timer.start()

    # threading's exit hooks (what concurrent.futures uses to join its threads) run before atexit's.
    threading._register_atexit(arm)  # type: ignore[attr-defined]
