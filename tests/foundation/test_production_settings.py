"""With DEBUG=false, Hubdash refuses to start on a guessable secret or a missing setting, and the documented
production configuration passes `manage.py check --deploy` without a single warning."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[2]
STRONG_SECRET_KEY = "Yq3v-8PzL0s_kT1wNf6hRj2cXm9bGd4aUe7iVo5nCp0xAl-Hq8sWz3tKy6rEu1gJ"


def documented_production_env(**changes: str | None) -> dict[str, str]:
    """The README's production configuration (Operations at scale), with `changes` (None removes a variable).

    `manage.py check` opens no database or Redis connection, so their addresses need not answer."""
    env = {
        k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "CHANNEL_LAYER_PREFIX"}
    }
    env.update(
        DEBUG="false",
        SECRET_KEY=STRONG_SECRET_KEY,
        FIELD_ENCRYPTION_KEYS=Fernet.generate_key().decode(),
        ALLOWED_HOSTS="dash.example.org",
        CSRF_TRUSTED_ORIGINS="https://dash.example.org",
        PUBLIC_BASE_URL="https://dash.example.org",
        HUB_BASE_URL="https://api.chatt2.me",
        DATABASE_URL="postgres://hubdash:secret@db.example.org:5432/hubdash",
        REDIS_URL="redis://redis.example.org:6379/0",
        TRUSTED_PROXY_COUNT="1",
    )
    for name, value in changes.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_documented_production_configuration_passes_check_deploy_without_warnings():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=documented_production_env())

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"SECRET_KEY": None}, "SECRET_KEY is not set"),
        ({"SECRET_KEY": ""}, "SECRET_KEY is not set"),
        ({"SECRET_KEY": "x" * 40}, "SECRET_KEY is weak"),
        ({"SECRET_KEY": "ab" * 40}, "SECRET_KEY is weak"),
        ({"SECRET_KEY": "dev-only-insecure-key-do-not-use-in-production"}, "SECRET_KEY is weak"),
        ({"SECRET_KEY": "django-insecure-" + STRONG_SECRET_KEY}, "SECRET_KEY is weak"),
        ({"FIELD_ENCRYPTION_KEYS": None}, "FIELD_ENCRYPTION_KEYS is not set"),
        ({"FIELD_ENCRYPTION_KEYS": "not-a-fernet-key"}, "FIELD_ENCRYPTION_KEYS holds a value that is not"),
        ({"ALLOWED_HOSTS": None}, "ALLOWED_HOSTS is not set"),
    ],
    ids=[
        "no-secret-key",
        "empty-secret-key",
        "short-secret-key",
        "repetitive-secret-key",
        "development-secret-key",
        "django-insecure-secret-key",
        "no-field-encryption-keys",
        "invalid-field-encryption-key",
        "no-allowed-hosts",
    ],
)
def test_an_insecure_production_setting_stops_manage_py_with_the_variable_named(changes, message):
    result = manage("check", env=documented_production_env(**changes))

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert message in result.stderr


def test_every_problem_is_named_at_once():
    result = manage(
        "check",
        env=documented_production_env(SECRET_KEY=None, FIELD_ENCRYPTION_KEYS=None, ALLOWED_HOSTS=None),
    )

    assert result.returncode != 0
    for name in ("SECRET_KEY", "FIELD_ENCRYPTION_KEYS", "ALLOWED_HOSTS"):
        assert f"{name} is not set" in result.stderr


def test_development_needs_no_environment():
    # The control: with DEBUG on (the default) none of these is needed, as `make run` on a fresh clone.
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"SECRET_KEY", "FIELD_ENCRYPTION_KEYS", "ALLOWED_HOSTS"}
    }
    env.pop("DEBUG", None)

    result = manage("check", env=env)

    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout
