"""Fixtures for the API tests: the personas of tests/conftest.py with tokens, and conversations of A and B."""

from __future__ import annotations

import pytest

from conversations.models import Conversation
from tests.api.api_support import Api, token_for
from tests.api.receiver import Receiver
from tests.inbox.inbox_support import make_conversation


@pytest.fixture(autouse=True)
def _fresh_subscription_list(settings):
    """Each test's subscriptions are seen at once (the per-process list has its own test)."""
    from integrations.actions.deliveries import forget_subscribed_applications

    settings.OUTGOING_WEBHOOK_CACHE_SECONDS = 0
    forget_subscribed_applications()


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def api_agent_a(agent_a) -> Api:
    return Api(token_for(agent_a))


@pytest.fixture
def api_agent_b(agent_b) -> Api:
    return Api(token_for(agent_b))


@pytest.fixture
def api_admin(admin) -> Api:
    return Api(token_for(admin))


@pytest.fixture
def api_superuser(superuser) -> Api:
    return Api(token_for(superuser))


@pytest.fixture
def conversation_a(app_a) -> Conversation:
    return make_conversation(app_a, name="Carla", text="Where is my order?", unread=1)


@pytest.fixture
def conversation_b(app_b) -> Conversation:
    return make_conversation(app_b, name="Bruno", text="Bravo question")


# Shared by the outgoing-webhook tests (tests/api/test_outgoing_webhooks.py, test_teamwork.py).
@pytest.fixture
def private_urls_allowed(settings):
    """The receiver runs on loopback, which the SSRF guard refuses unless told otherwise."""
    settings.OUTGOING_WEBHOOK_ALLOW_PRIVATE_URLS = True


@pytest.fixture
def receiver():
    running = Receiver().start()
    yield running
    running.stop()
