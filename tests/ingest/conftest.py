"""Ingest fixtures: both Applications hold a signing secret (as after "connect webhooks"), and the Hub."""

import pytest
from django.test import Client

from channels_app.actions.webhooks import do_store_signing_secret
from channels_app.models import Application, Channel
from tests.ingest.ingest_support import HUB_SECRET


@pytest.fixture
def app_a(app_a) -> Application:
    do_store_signing_secret(application=app_a, hub_webhook_id="hook-ingest", secret=HUB_SECRET)
    return app_a


@pytest.fixture
def app_b(app_b) -> Application:
    do_store_signing_secret(application=app_b, hub_webhook_id="hook-ingest", secret=HUB_SECRET)
    return app_b


@pytest.fixture
def whatsapp_a(app_a) -> Channel:
    return app_a.channels.get(kind="whatsapp")


@pytest.fixture
def hub() -> Client:
    """The Hub as an HTTP client: no session, no CSRF token, like the real one."""
    return Client(enforce_csrf_checks=True)
