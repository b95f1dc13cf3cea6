"""Team: admins create agents, give and take access to their Applications, deactivate accounts."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from channels_app.models import AuditEntry, Membership
from conversations.models import Message
from tests.conftest import PASSWORD, login, sign_in
from tests.settings.conftest import make_message

NEW_PASSWORD = "a-long-enough-passphrase-42"


def _create(client, app, **data):
    payload = {
        "username": "carol",
        "first_name": "Carol",
        "last_name": "Agent",
        "email": "carol@example.org",
        "password": NEW_PASSWORD,
        f"role_{app.pk}": "agent",
    }
    payload.update(data)
    return client.post(reverse("settings:user_create"), payload)


@pytest.mark.django_db
def test_admin_creates_an_agent_who_can_sign_in_and_answer_but_not_reach_settings(
    admin, admin_client_a, app_a
):
    response = _create(admin_client_a, app_a)

    carol = get_user_model().objects.get(username="carol")
    assert response.status_code == 302
    assert Membership.objects.get(user=carol).role == Membership.Role.AGENT
    client = Client()
    assert sign_in(client, "carol", NEW_PASSWORD)
    assert client.get(reverse("application_list")).status_code == 200
    assert client.get(reverse("settings:index")).status_code == 403
    entry = AuditEntry.objects.get(action="user.created")
    assert entry.application == app_a and entry.actor == admin
    assert entry.changes["role"] == {"from": None, "to": "agent"}
    assert entry.changes["email"] == {"from": None, "to": "carol@example.org"}
    assert NEW_PASSWORD not in str(entry.changes)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"username": "ALICE"}, "That username cannot be used: choose another."),
        ({"password": "password"}, "This password is too common."),
        ({"username": "bad name!"}, "Enter a valid username."),
    ],
)
def test_create_agent_form_validation(admin_client_a, app_a, agent_a, data, error):
    response = _create(admin_client_a, app_a, **data)
    assert response.status_code == 200
    assert error in response.content.decode()
    assert not get_user_model().objects.filter(email="carol@example.org").exists()


@pytest.mark.django_db
def test_a_username_of_another_tenant_is_refused_as_one_of_ours_is(admin_client_a, app_a, agent_a, agent_b):
    ours = _create(admin_client_a, app_a, username="alice")
    theirs = _create(admin_client_a, app_a, username="Bob")

    assert ours.status_code == theirs.status_code == 200
    assert (
        ours.context["form"].errors["username"]
        == theirs.context["form"].errors["username"]
        == ["That username cannot be used: choose another."]
    )
    assert "taken" not in theirs.content.decode()
    assert not get_user_model().objects.filter(email="carol@example.org").exists()


@pytest.mark.django_db
def test_a_new_user_needs_access_to_at_least_one_application(admin_client_a, app_a):
    response = _create(admin_client_a, app_a, **{f"role_{app_a.pk}": ""})
    assert "Give the new user access to at least one Application." in response.content.decode()
    assert not get_user_model().objects.filter(username="carol").exists()


@pytest.mark.django_db
def test_giving_admin_access_opens_the_settings_and_revoking_it_closes_them(
    admin_client_a, app_a, app_b, agent_a
):
    # Alice also answers B: revoking one of her two Applications is allowed (the control for the
    # last-membership refusal below).
    Membership.objects.create(user=agent_a, application=app_b, role=Membership.Role.AGENT)
    url = reverse("settings:user", args=[agent_a.pk])

    admin_client_a.post(url, {f"role_{app_a.pk}": "admin"})
    assert login(agent_a).get(reverse("settings:index")).status_code == 200

    response = admin_client_a.post(url, {f"role_{app_a.pk}": ""})
    assert response.status_code == 302
    assert list(Membership.objects.filter(user=agent_a).values_list("application", flat=True)) == [app_b.pk]
    assert login(agent_a).get(reverse("settings:index")).status_code == 403
    actions = list(AuditEntry.objects.order_by("id").values_list("action", "changes"))
    assert actions == [
        ("membership.changed", {"role": {"from": "agent", "to": "admin"}}),
        ("membership.revoked", {"role": {"from": "admin", "to": None}}),
    ]


@pytest.mark.django_db
def test_an_application_keeps_at_least_one_admin(admin, admin_client_a, app_a):
    response = admin_client_a.post(reverse("settings:user", args=[admin.pk]), {f"role_{app_a.pk}": "agent"})

    assert "Acme Support must keep at least one active admin." in response.content.decode()
    assert Membership.objects.get(user=admin).role == Membership.Role.ADMIN


@pytest.mark.django_db
def test_deactivating_an_agent_stops_sign_in_and_keeps_their_history(admin_client_a, app_a, agent_a):
    reply = make_message(app_a.channels.first(), direction="out", status="sent", author=agent_a)

    response = admin_client_a.post(
        reverse("settings:user_active", args=[agent_a.pk]), {"active": "0"}, follow=True
    )

    agent_a.refresh_from_db()
    assert not agent_a.is_active
    assert "alice deactivated" in response.content.decode()
    assert not sign_in(Client(), "alice", PASSWORD)
    assert Message.objects.get(pk=reply.pk).author == agent_a
    assert Membership.objects.filter(user=agent_a).exists()  # reactivating restores the same access
    assert AuditEntry.objects.get(action="user.deactivated").changes == {
        "active": {"from": True, "to": False}
    }

    admin_client_a.post(reverse("settings:user_active", args=[agent_a.pk]), {"active": "1"})
    assert sign_in(Client(), "alice", PASSWORD)


@pytest.mark.django_db
def test_an_admin_cannot_deactivate_someone_who_also_works_for_another_application(
    admin_client_a, app_a, app_b, agent_b
):
    Membership.objects.create(user=agent_b, application=app_a, role=Membership.Role.AGENT)

    response = admin_client_a.post(
        reverse("settings:user_active", args=[agent_b.pk]), {"active": "0"}, follow=True
    )

    assert "also works on Applications you do not administer" in response.content.decode()
    agent_b.refresh_from_db()
    assert agent_b.is_active
    # The admin sees and manages only the access to their own Application.
    body = admin_client_a.get(reverse("settings:user", args=[agent_b.pk])).content.decode()
    assert "Bravo Shop" not in body


@pytest.mark.django_db
def test_an_admin_cannot_deactivate_themselves(admin, admin_client_a):
    admin_client_a.post(reverse("settings:user_active", args=[admin.pk]), {"active": "0"})
    admin.refresh_from_db()
    assert admin.is_active


@pytest.mark.django_db
def test_team_lists_members_with_their_access(admin_client_a, app_a, agent_a):
    body = admin_client_a.get(reverse("settings:team")).content.decode()
    assert "Acme Support: agent" in body and "Acme Support: admin" in body


LAST_MEMBERSHIP = (
    "alice has no other Application: deactivate them instead (they can no longer sign in, and stay in "
    "your team list as deactivated), or give them another Application first."
)


@pytest.mark.django_db
def test_an_admin_cannot_revoke_a_users_last_membership_and_is_told_what_to_do_instead(
    admin_client_a, app_a, agent_a
):
    response = admin_client_a.post(reverse("settings:user", args=[agent_a.pk]), {f"role_{app_a.pk}": ""})

    assert response.status_code == 200
    assert LAST_MEMBERSHIP in response.content.decode()
    assert Membership.objects.get(user=agent_a).application == app_a
    assert not AuditEntry.objects.filter(action="membership.revoked").exists()
    # Still in the admin's team, with the same access.
    team = admin_client_a.get(reverse("settings:team")).content.decode()
    assert f'data-user="{agent_a.pk}"' in team and "Acme Support: agent" in team


@pytest.mark.django_db
def test_a_whole_access_form_cannot_revoke_every_application_but_can_swap_one_for_another(
    admin, app_a, app_b, agent_a
):
    Membership.objects.create(user=admin, application=app_b, role=Membership.Role.ADMIN)
    client, url = login(admin), reverse("settings:user", args=[agent_a.pk])
    Membership.objects.create(user=agent_a, application=app_b, role=Membership.Role.AGENT)

    refused = client.post(url, {f"role_{app_a.pk}": "", f"role_{app_b.pk}": ""})

    assert LAST_MEMBERSHIP in refused.content.decode()
    assert Membership.objects.filter(user=agent_a).count() == 2  # none of it: not even A's revocation
    assert not AuditEntry.objects.filter(action="membership.revoked").exists()

    # Revocations are judged on what the whole form leaves: B's revocation comes after A's grant.
    Membership.objects.filter(user=agent_a, application=app_a).delete()
    swapped = client.post(url, {f"role_{app_a.pk}": "agent", f"role_{app_b.pk}": ""})

    assert swapped.status_code == 302
    assert list(Membership.objects.filter(user=agent_a).values_list("application", flat=True)) == [app_a.pk]


@pytest.mark.django_db
def test_a_superuser_can_revoke_a_users_last_membership(superuser, app_a, app_b, agent_a):
    response = login(superuser).post(
        reverse("settings:user", args=[agent_a.pk]), {f"role_{app_a.pk}": "", f"role_{app_b.pk}": ""}
    )

    assert response.status_code == 302
    assert not Membership.objects.filter(user=agent_a).exists()
    assert AuditEntry.objects.get(action="membership.revoked").actor == superuser


@pytest.mark.django_db
def test_a_deactivated_user_stays_in_the_admins_team_list_and_can_be_reactivated(admin_client_a, agent_a):
    admin_client_a.post(reverse("settings:user_active", args=[agent_a.pk]), {"active": "0"})

    team = admin_client_a.get(reverse("settings:team")).content.decode()
    assert f'<tr data-user="{agent_a.pk}" class="inactive">' in team and "Acme Support: agent" in team
    page = admin_client_a.get(reverse("settings:user", args=[agent_a.pk])).content.decode()
    assert "Reactivate" in page

    response = admin_client_a.post(
        reverse("settings:user_active", args=[agent_a.pk]), {"active": "1"}, follow=True
    )

    assert "alice reactivated." in response.content.decode()
    agent_a.refresh_from_db()
    assert agent_a.is_active and sign_in(Client(), "alice", PASSWORD)
