import pytest


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    # The personas are created with passwords; the production hasher costs ~0.5 s per user here.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
