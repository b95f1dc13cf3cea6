"""Applications: created with a key the Hub accepts, the key write-only, and a clear connection test."""

import pytest
from django.urls import reverse

from channels_app.models import Application, AuditEntry, Membership
from tests.conftest import register_in_sandbox
from tests.support import free_port

NEW_KEY = "hubkey-charlie-7777-8888-9999-cccc"


@pytest.mark.django_db
def test_admin_creates_an_application_with_a_key_the_hub_accepts(admin, admin_client_a, hub_sandbox):
    hub_sandbox.add_application(name="Charlie Co", api_key=NEW_KEY, channels=[])

    response = admin_client_a.post(
        reverse("settings:application_create"), {"name": "Charlie Co", "api_key": NEW_KEY}, follow=True
    )

    application = Application.objects.get(name="Charlie Co")
    assert response.redirect_chain[-1][0] == reverse("settings:application", args=[application.pk])
    assert application.hub_api_key == NEW_KEY
    assert Membership.objects.get(user=admin, application=application).role == Membership.Role.ADMIN
    body = response.content.decode()
    assert "the Hub accepted its API key" in body
    assert "••••cccc" in body and NEW_KEY not in body
    entry = AuditEntry.objects.get(action="application.created")
    assert entry.actor == admin and entry.application == application
    assert entry.changes["hub_api_key"] == {"from": None, "to": "••••cccc"}


@pytest.mark.django_db
def test_a_key_the_hub_refuses_is_a_form_error_that_shows_the_401(admin_client_a, hub_sandbox):
    response = admin_client_a.post(
        reverse("settings:application_create"), {"name": "Charlie Co", "api_key": NEW_KEY}
    )

    assert response.status_code == 200
    assert response.context["form"].errors["api_key"] == [
        "HTTP 401: the Hub refused the API key (invalid API key). "
        "Check that the whole key was copied and that it was not revoked."
    ]
    assert "HTTP 401" in response.content.decode()
    assert NEW_KEY not in response.content.decode()  # not even echoed into the password input
    assert not Application.objects.filter(name="Charlie Co").exists()


@pytest.mark.django_db
def test_an_unreachable_hub_is_said_and_nothing_is_saved(admin_client_a, settings, db):
    settings.HUB_BASE_URL = f"http://127.0.0.1:{free_port()}"
    response = admin_client_a.post(
        reverse("settings:application_create"), {"name": "Charlie Co", "api_key": NEW_KEY}
    )
    assert "Could not reach the Hub" in response.content.decode()
    assert not Application.objects.filter(name="Charlie Co").exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        (
            {"name": "acme support", "api_key": NEW_KEY},
            "name",
            "You already have an Application named “acme support”: choose another name.",
        ),
        ({"name": "Charlie", "api_key": "short"}, "api_key", "Ensure this value has at least 8 characters"),
        ({"name": "Charlie", "api_key": "has a space 1234"}, "api_key", "An API key has no spaces"),
        ({"name": "", "api_key": NEW_KEY}, "name", "This field is required."),
    ],
)
def test_application_form_validation(admin_client_a, hub_sandbox, data, field, message):
    response = admin_client_a.post(reverse("settings:application_create"), data)
    assert response.status_code == 200
    assert any(message in error for error in response.context["form"].errors[field])
    assert hub_sandbox.send_attempts()["count"] == 0


@pytest.mark.django_db
def test_the_key_is_write_only_masked_with_its_last_four_characters(admin_client_a, app_a):
    body = admin_client_a.get(reverse("settings:application", args=[app_a.pk])).content.decode()
    assert "••••aaaa" in body
    assert app_a.hub_api_key not in body
    assert 'type="password" name="api_key"' in body


@pytest.mark.django_db
def test_replacing_the_key_checks_it_with_the_hub_and_audits_only_last_fours(
    admin, admin_client_a, app_a, hub_sandbox
):
    hub_sandbox.add_application(name=app_a.name, api_key=NEW_KEY, channels=[])

    response = admin_client_a.post(
        reverse("settings:application_key", args=[app_a.pk]), {"api_key": NEW_KEY}, follow=True
    )

    app_a.refresh_from_db()
    assert app_a.hub_api_key == NEW_KEY
    assert "API key replaced: the Hub accepted ••••cccc." in response.content.decode()
    entry = AuditEntry.objects.get(action="application.key_replaced")
    assert entry.changes == {"hub_api_key": {"from": "••••aaaa", "to": "••••cccc"}}


@pytest.mark.django_db
def test_replacing_with_a_refused_key_keeps_the_old_one(admin_client_a, app_a, hub_sandbox):
    response = admin_client_a.post(reverse("settings:application_key", args=[app_a.pk]), {"api_key": NEW_KEY})

    assert "HTTP 401" in response.context["key_form"].errors["api_key"][0]
    app_a.refresh_from_db()
    assert app_a.hub_api_key == "hubkey-acme-0000-1111-2222-aaaa"
    assert not AuditEntry.objects.filter(action="application.key_replaced").exists()


@pytest.mark.django_db
def test_test_connection_says_the_key_works(admin_client_a, app_a, hub_sandbox):
    register_in_sandbox(hub_sandbox, app_a)

    response = admin_client_a.post(
        reverse("settings:application_test_connection", args=[app_a.pk]), follow=True
    )

    assert "Connection works: the Hub accepted the API key ••••aaaa." in response.content.decode()
    app_a.refresh_from_db()
    assert app_a.hub_ok_at is not None


@pytest.mark.django_db
def test_test_connection_says_clearly_when_the_hub_refuses_the_key(admin_client_a, app_a, hub_sandbox):
    response = admin_client_a.post(
        reverse("settings:application_test_connection", args=[app_a.pk]), follow=True
    )

    body = response.content.decode()
    assert "Connection failed. HTTP 401: the Hub refused the API key" in body
    app_a.refresh_from_db()
    assert "401" in app_a.last_hub_error
    assert 'class="pill bad">failing' in body


@pytest.mark.django_db
def test_renaming_an_application_is_audited_from_and_to(admin, admin_client_a, app_a):
    admin_client_a.post(reverse("settings:application", args=[app_a.pk]), {"name": "Acme Help"})

    app_a.refresh_from_db()
    assert app_a.name == "Acme Help"
    entry = AuditEntry.objects.get(action="application.updated")
    assert entry.actor_name == "ada"
    assert entry.changes == {"name": {"from": "Acme Support", "to": "Acme Help"}}


@pytest.mark.django_db
def test_another_tenants_application_name_is_neither_refused_nor_confirmed(
    admin_client_a, app_a, app_b, hub_sandbox
):
    """Names are unique among the Applications a user sees: taking a name another tenant uses just works,
    so the answer says nothing about what other tenants have."""
    hub_sandbox.add_application(name="Bravo Shop too", api_key=NEW_KEY, channels=[])
    created = admin_client_a.post(
        reverse("settings:application_create"), {"name": "BRAVO SHOP", "api_key": NEW_KEY}, follow=True
    )
    assert created.status_code == 200
    assert "BRAVO SHOP created" in created.content.decode()
    renamed = admin_client_a.post(reverse("settings:application", args=[app_a.pk]), {"name": "bravo shop"})
    assert renamed.status_code == 200
    assert renamed.context["name_form"].errors["name"] == [
        "You already have an Application named “bravo shop”: choose another name."
    ]
    app_a.refresh_from_db()
    assert app_a.name == "Acme Support"
    assert sorted(Application.objects.filter(name__iexact="bravo shop").values_list("name", flat=True)) == [
        "BRAVO SHOP",
        "Bravo Shop",
    ]


@pytest.mark.django_db
def test_a_rename_to_another_tenants_name_is_accepted(admin_client_a, app_a, app_b):
    response = admin_client_a.post(reverse("settings:application", args=[app_a.pk]), {"name": "bravo shop"})
    assert response.status_code in (200, 302)
    app_a.refresh_from_db()
    assert app_a.name == "bravo shop"


@pytest.mark.django_db
def test_agents_cannot_create_applications(agent_a_client, hub_sandbox):
    response = agent_a_client.post(reverse("settings:application_create"), {"name": "X", "api_key": NEW_KEY})
    assert response.status_code == 403
