"""Guessing passwords: after LOGIN_FAILURE_LIMIT wrong ones for a username from one address, even the right
password gets a "sign-in paused" page, on the sign-in form and the admin's alike (django-axes)."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.test import Client
from django.utils import timezone

from tests.conftest import PASSWORD

LOGIN = "/accounts/login/"
ADMIN_LOGIN = "/admin/login/"


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings) -> None:
    """Dozens of wrong passwords per test: a fast hash (before the personas are created) keeps it quick."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def sign_in(client: Client, username: str, password: str, *, url: str = LOGIN, **headers: str):
    return client.post(url, {"username": username, "password": password}, **headers)


def fail(client: Client, username: str, times: int, *, url: str = LOGIN, **headers: str):
    for _ in range(times):
        response = sign_in(client, username, "not-the-password", url=url, **headers)
    return response


def is_signed_in(client: Client) -> bool:
    return client.get("/").status_code == 200


def assert_lockout_page(response) -> None:
    page = response.content.decode()
    assert response.status_code == 429
    assert "<h1>Sign-in paused</h1>" in page
    assert f"try again in {settings.LOGIN_LOCKOUT_MINUTES} minutes" in page


@pytest.mark.django_db
def test_the_right_password_works_after_fewer_failures_than_the_limit(agent_a):
    client = Client()
    fail(client, "alice", settings.LOGIN_FAILURE_LIMIT - 1)

    response = sign_in(client, "alice", PASSWORD)

    assert response.status_code == 302 and response["Location"] == "/"
    assert is_signed_in(client)


@pytest.mark.django_db
def test_after_the_limit_even_the_right_password_gets_the_lockout_page(agent_a):
    client = Client()
    last_failure = fail(client, "alice", settings.LOGIN_FAILURE_LIMIT)

    response = sign_in(client, "alice", PASSWORD)

    assert_lockout_page(last_failure)
    assert_lockout_page(response)
    assert not is_signed_in(client)


@pytest.mark.django_db
def test_the_admin_login_is_throttled_too(superuser):
    client = Client()
    before = sign_in(Client(), "root", PASSWORD, url=ADMIN_LOGIN)
    assert before.status_code == 302  # the control: the admin login works
    fail(client, "root", settings.LOGIN_FAILURE_LIMIT, url=ADMIN_LOGIN)

    response = sign_in(client, "root", PASSWORD, url=ADMIN_LOGIN)

    assert_lockout_page(response)
    assert client.get("/admin/").status_code == 302


@pytest.mark.django_db
def test_a_lockout_holds_one_username_from_one_address(agent_a, admin):
    fail(Client(), "alice", settings.LOGIN_FAILURE_LIMIT, REMOTE_ADDR="192.0.2.10")

    assert_lockout_page(sign_in(Client(), "alice", PASSWORD, REMOTE_ADDR="192.0.2.10"))
    # A colleague at the same address, and alice elsewhere, still sign in.
    assert sign_in(Client(), "ada", PASSWORD, REMOTE_ADDR="192.0.2.10").status_code == 302
    assert sign_in(Client(), "alice", PASSWORD, REMOTE_ADDR="192.0.2.99").status_code == 302


@pytest.mark.django_db
def test_one_address_trying_many_usernames_is_paused_at_the_per_address_limit(settings, agent_a):
    settings.LOGIN_FAILURE_LIMIT_PER_IP = 6
    for n in range(5):
        fail(Client(), f"guess{n}", 1, REMOTE_ADDR="192.0.2.20")
    assert sign_in(Client(), "alice", PASSWORD, REMOTE_ADDR="192.0.2.20").status_code == 302  # the control

    fail(Client(), "guess5", 1, REMOTE_ADDR="192.0.2.20")

    assert_lockout_page(sign_in(Client(), "alice", PASSWORD, REMOTE_ADDR="192.0.2.20"))


@pytest.mark.django_db
def test_the_lockout_ends_after_the_lockout_time(agent_a):
    client = Client()
    fail(client, "alice", settings.LOGIN_FAILURE_LIMIT)
    assert_lockout_page(sign_in(client, "alice", PASSWORD))

    # The time passes: the failures are as old as the lockout lasts.
    AccessAttempt.objects.update(
        attempt_time=timezone.now() - timedelta(minutes=settings.LOGIN_LOCKOUT_MINUTES, seconds=1)
    )

    assert sign_in(client, "alice", PASSWORD).status_code == 302


@pytest.mark.django_db
def test_without_trusted_proxies_a_forged_forwarded_for_header_does_not_escape_the_lockout(agent_a):
    for n in range(settings.LOGIN_FAILURE_LIMIT):
        fail(Client(), "alice", 1, HTTP_X_FORWARDED_FOR=f"198.51.100.{n}")

    response = sign_in(Client(), "alice", PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.200")

    assert_lockout_page(response)


@pytest.mark.django_db
def test_behind_a_trusted_proxy_each_client_address_counts_on_its_own(settings, agent_a):
    settings.TRUSTED_PROXY_COUNT = 1
    # The proxy appends the address it saw; whatever the client put before it is ignored.
    fail(Client(), "alice", settings.LOGIN_FAILURE_LIMIT, HTTP_X_FORWARDED_FOR="10.9.9.9, 203.0.113.5")

    locked = sign_in(Client(), "alice", PASSWORD, HTTP_X_FORWARDED_FOR="203.0.113.5")
    other_client = sign_in(Client(), "alice", PASSWORD, HTTP_X_FORWARDED_FOR="203.0.113.77")

    assert_lockout_page(locked)
    assert other_client.status_code == 302
