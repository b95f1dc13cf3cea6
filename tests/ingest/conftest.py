import pytest
from django.test import Client

from channels_app.models import Channel


@pytest.fixture
def whatsapp_a(app_a) -> Channel:
    return app_a.channels.get(kind="whatsapp")


@pytest.fixture
def hub() -> Client:
    """The Hub as an HTTP client: no session, no CSRF token, like the real one."""
    return Client(enforce_csrf_checks=True)
