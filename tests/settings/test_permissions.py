"""Who may reach the settings: admins of an Application (their own only), superusers; never agents."""

import pytest
from django.urls import reverse

from channels_app.models import Membership
from tests.conftest import login
from tests.settings.conftest import settings_pages, settings_posts


@pytest.mark.django_db
def test_agent_gets_403_on_every_settings_page_and_action(agent_a_client, app_a, admin, app_b):
    for url in settings_pages(app_a) + settings_pages(app_b):
        assert agent_a_client.get(url).status_code == 403, url
    for url in settings_posts(app_a) + settings_posts(app_b):
        assert agent_a_client.post(url, {"active": "0"}).status_code == 403, url


@pytest.mark.django_db
def test_anonymous_visitor_is_sent_to_sign_in(client, app_a, admin):
    for url in settings_pages(app_a):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("login")), url


@pytest.mark.django_db
def test_admin_of_a_gets_404_on_every_object_url_of_b(admin_client_a, app_b, admin_b, agent_b):
    object_pages = [
        reverse("settings:application", args=[app_b.pk]),
        reverse("settings:channel_create", args=[app_b.pk]),
        reverse("settings:webhooks", args=[app_b.pk]),
        reverse("settings:webhook_logs", args=[app_b.pk]),
        reverse("settings:channel", args=[app_b.channels.first().pk]),
        reverse("settings:user", args=[agent_b.pk]),
        reverse("settings:user", args=[admin_b.pk]),
    ]
    for url in object_pages:
        assert admin_client_a.get(url).status_code == 404, url
    for url in settings_posts(app_b):
        assert admin_client_a.post(url, {"active": "0"}).status_code == 404, url
    assert admin_client_a.get(reverse("settings:audit"), {"application": app_b.pk}).status_code == 404
    # Nothing was changed on B's side.
    assert app_b.channels.filter(active=False).count() == 0
    agent_b.refresh_from_db()
    assert agent_b.is_active


@pytest.mark.django_db
def test_admin_of_a_sees_only_a_in_the_lists(admin_client_a, app_a, app_b, admin_b, agent_a, agent_b):
    for url in [
        "settings:index",
        "settings:team",
        "settings:audit",
        "settings:health",
        "settings:user_create",
    ]:
        body = admin_client_a.get(reverse(url)).content.decode()
        assert "Bravo Shop" not in body, url
        assert "bob" not in body and "bea" not in body, url
    assert "Acme Support" in admin_client_a.get(reverse("settings:index")).content.decode()
    team = admin_client_a.get(reverse("settings:team")).content.decode()
    assert "alice" in team and "ada" in team


@pytest.mark.django_db
def test_admin_of_a_cannot_grant_access_to_b_through_the_team_forms(admin_client_a, agent_a, app_a, app_b):
    admin_client_a.post(
        reverse("settings:user", args=[agent_a.pk]),
        {f"role_{app_a.pk}": "agent", f"role_{app_b.pk}": "admin"},
    )
    admin_client_a.post(
        reverse("settings:user_create"),
        {"username": "carol", "password": "a-long-enough-passphrase-42", f"role_{app_b.pk}": "admin"},
    )
    assert not Membership.objects.filter(application=app_b).exclude(user__username="bob").exists()


@pytest.mark.django_db
def test_superuser_sees_every_application(superuser, app_a, app_b):
    body = login(superuser).get(reverse("settings:index")).content.decode()
    assert "Acme Support" in body and "Bravo Shop" in body
    assert login(superuser).get(reverse("settings:application", args=[app_b.pk])).status_code == 200


@pytest.mark.django_db
def test_settings_link_is_in_the_navigation_of_admins_only(admin_client_a, agent_a_client):
    settings_link = f'href="{reverse("settings:index")}"'
    assert settings_link in admin_client_a.get(reverse("application_list")).content.decode()
    assert settings_link not in agent_a_client.get(reverse("application_list")).content.decode()


@pytest.mark.django_db
def test_an_admin_demoted_to_agent_loses_the_settings(admin, admin_client_a, app_a, agent_a):
    Membership.objects.filter(user=agent_a).update(role=Membership.Role.ADMIN)  # keep one admin
    Membership.objects.filter(user=admin).update(role=Membership.Role.AGENT)
    assert admin_client_a.get(reverse("settings:index")).status_code == 403
