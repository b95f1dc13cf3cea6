"""Reports fixtures: Application A holds a signing secret (its customers write through the real webhook)."""

import pytest

from channels_app.actions.webhooks import do_store_signing_secret
from channels_app.models import Application
from tests.ingest.ingest_support import HUB_SECRET


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def app_a(app_a) -> Application:
    do_store_signing_secret(application=app_a, hub_webhook_id="hook-reports", secret=HUB_SECRET)
    return app_a
