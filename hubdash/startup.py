"""What a server process checks before it takes its first request."""

from __future__ import annotations

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
