"""The Django admin is for superusers only; Application admins use the settings area."""

import pytest
from django.contrib.auth import get_user_model

from tests.conftest import login


@pytest.mark.django_db
def test_staff_user_who_is_not_superuser_cannot_use_the_django_admin(admin):
    admin.is_staff = True
    admin.save(update_fields=["is_staff"])
    response = login(admin).get("/admin/channels_app/application/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


@pytest.mark.django_db
def test_superuser_uses_the_django_admin(superuser, app_a):
    response = login(superuser).get("/admin/channels_app/application/")
    assert response.status_code == 200
    assert app_a.name in response.content.decode()


@pytest.mark.django_db
def test_deactivated_superuser_is_refused():
    user = get_user_model().objects.create_superuser("gone", "gone@example.org", "pw-unused-123")
    user.is_active = False
    user.save(update_fields=["is_active"])
    response = login(user).get("/admin/")
    assert response.status_code == 302
