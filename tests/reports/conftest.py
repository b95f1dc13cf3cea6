"""Reports fixtures: Application A holds a signing secret (its customers write through the real webhook)."""

import pytest
from django.contrib.auth import get_user_model

from channels_app.actions.webhooks import do_store_signing_secret
from channels_app.models import Application, Membership
from tests.ingest.ingest_support import HUB_SECRET
from tests.reports.timeline import Timeline, local


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def app_a(app_a) -> Application:
    do_store_signing_secret(application=app_a, hub_webhook_id="hook-reports", secret=HUB_SECRET)
    return app_a


@pytest.fixture
def carol(app_a):
    """An agent who never replies: she is still in the per-agent table, with nothing counted."""
    user = get_user_model().objects.create_user(username="carol", first_name="Carol", password="x")
    Membership.objects.create(user=user, application=app_a, role=Membership.Role.AGENT)
    return user


@pytest.fixture
def story(app_a, admin, agent_a, carol):
    """Monday 23 Nov 2026, São Paulo time.

    X: customer 10:00, Alice 10:05, Alice resolves 10:30; customer again 11:00 (reopens), Ada 11:20,
       Ada resolves 12:00.
    Y: customer 10:10, never answered.
    Z: customer 10:20, Alice 10:21; Z's customer writes twice more, 10:22 and 10:40 (no new question).
    W: customer 09:00, Alice 09:30, Ada resolves 09:45, Ada reopens 13:00 (an agent's reopen: no question).
    """
    line = Timeline(app_a)
    x = line.customer(local(10), "5521900000001")
    line.reply(local(10, 5), x, agent_a)
    line.status(local(10, 30), x, agent_a, "resolved")
    line.customer(local(11), "5521900000001")
    line.reply(local(11, 20), x, admin)
    line.status(local(12), x, admin, "resolved")
    line.customer(local(10, 10), "5521900000002")
    z = line.customer(local(10, 20), "5521900000003")
    line.reply(local(10, 21), z, agent_a)
    line.customer(local(10, 22), "5521900000003")
    line.customer(local(10, 40), "5521900000003")
    w = line.customer(local(9), "5521900000004")
    line.reply(local(9, 30), w, agent_a)
    line.status(local(9, 45), w, admin, "resolved")
    line.status(local(13), w, admin, "open")
    return {"x": x, "z": z, "w": w}
