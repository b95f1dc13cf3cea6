import pytest
from django.contrib.auth import get_user_model

from channels_app.models import Membership


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    # The personas are created with passwords; the production hasher costs ~0.5 s per user here.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def colleague(app_a):
    """A second agent of Application A, who sees the same rows as alice."""
    user = get_user_model().objects.create_user("carla", password="x", first_name="Carla", last_name="Costa")
    Membership.objects.create(user=user, application=app_a, role=Membership.Role.AGENT)
    return user
