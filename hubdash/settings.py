"""Hubdash settings: everything that differs between machines comes from the environment.

Defaults make `make run` work on a fresh machine (SQLite, in-memory channel layer, the local Hub
sandbox). Production sets DATABASE_URL, REDIS_URL, SECRET_KEY, DEBUG=false, ALLOWED_HOSTS and
HUB_BASE_URL; every variable is listed in the README.
"""

import os
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
if (BASE_DIR / ".env").exists():
    environ.Env.read_env(BASE_DIR / ".env")

DEBUG = env.bool("DEBUG", default=True)

SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off (production).")
    SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production"

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# The public base URL the Hub posts webhooks to (it must reach us; behind a proxy this is the proxy).
PUBLIC_BASE_URL = env.str("PUBLIC_BASE_URL", default="http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_htmx",
    "channels",
    "django_tasks",
    "django_tasks_db",
    "channels_app",
    "conversations",
    "hubsandbox",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "hubdash.urls"
ASGI_APPLICATION = "hubdash.asgi.application"
WSGI_APPLICATION = None

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------------
VAR_DIR.mkdir(exist_ok=True)
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'hubdash.sqlite3'}")}
_db = DATABASES["default"]
if _db["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers proceed while the webhook writes; IMMEDIATE takes the write lock at BEGIN so two
    # writers queue on `timeout` instead of failing with "database is locked" on lock upgrade.
    _db["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    # Tests that run `manage.py run_worker` as a separate process need a test database both processes
    # open: a file rather than SQLite's in-memory default, named per test run so concurrent runs never share.
    _db["TEST"] = {"NAME": str(VAR_DIR / f"test-{os.getpid()}.sqlite3")}
elif _db["ENGINE"] in ("django.db.backends.postgresql", "django.db.backends.postgis"):
    # Under ASGI every request may run in a different thread, so persistent connections leak; a psycopg
    # pool reuses connections safely (and was 1.9x faster than per-request connections on the webhook).
    _db["CONN_MAX_AGE"] = 0
    _db.setdefault("OPTIONS", {})["pool"] = {
        "min_size": env.int("DB_POOL_MIN_SIZE", default=1),
        "max_size": env.int("DB_POOL_MAX_SIZE", default=10),
        "timeout": env.float("DB_POOL_TIMEOUT", default=10.0),
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Channel layer --------------------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "hubdash.channel_layer.PooledRedisChannelLayer",
            "CONFIG": {
                # Connections to Redis per server process; more callers wait (up to the timeout).
                "pool_size": env.int("REDIS_POOL_SIZE", default=100),
                "pool_timeout": env.float("REDIS_POOL_TIMEOUT", default=20.0),
                "hosts": [
                    {
                        "address": REDIS_URL,
                        # channels-redis waits up to 5 s for a socket's next message (BRPOP); redis-py 8
                        # gives up on any read after 5 s by default, which dropped every idle websocket
                        # every 5 s. Reads may take longer than the wait; a dead Redis still fails.
                        "socket_timeout": env.float("REDIS_SOCKET_TIMEOUT", default=15.0),
                        "socket_connect_timeout": 5.0,
                    }
                ],
                "prefix": env.str("CHANNEL_LAYER_PREFIX", default="hubdash"),
                "capacity": 1500,
                "expiry": 30,
            },
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
# A broken channel layer must never hold a webhook or an action: publishing gives up after this long.
CHANNEL_LAYER_PUBLISH_TIMEOUT = env.float("CHANNEL_LAYER_PUBLISH_TIMEOUT", default=1.0)

# --- Background tasks -----------------------------------------------------------------------------
TASKS = {
    "default": {
        "BACKEND": env.str("TASKS_BACKEND", default="django_tasks_db.DatabaseBackend"),
        "QUEUES": ["default"],
    }
}

# Run the background worker inside each daphne process (threads) instead of `manage.py run_worker`.
# `make run` turns it on when there is no Redis: the in-memory channel layer only reaches browsers of
# the process that publishes, so replies' live ticks need the worker in daphne's process.
RUN_WORKER_IN_PROCESS = env.bool("RUN_WORKER_IN_PROCESS", default=False)

# --- Hub ------------------------------------------------------------------------------------------
HUB_BASE_URL = env.str("HUB_BASE_URL", default="http://127.0.0.1:8765").rstrip("/")
HUB_CONNECT_TIMEOUT = env.float("HUB_CONNECT_TIMEOUT", default=3.05)
HUB_READ_TIMEOUT = env.float("HUB_READ_TIMEOUT", default=10.0)
# Sending: transient failures retry with exponential backoff and jitter, up to this many attempts.
# 12 attempts with the defaults below ride out a Hub outage of 12 to 24 minutes (jitter) before a reply fails.
HUB_SEND_MAX_ATTEMPTS = env.int("HUB_SEND_MAX_ATTEMPTS", default=12)
HUB_SEND_BACKOFF_BASE = env.float("HUB_SEND_BACKOFF_BASE", default=2.0)
HUB_SEND_BACKOFF_MAX = env.float("HUB_SEND_BACKOFF_MAX", default=300.0)
# Signed webhooks older or newer than this are refused (hub-api.md §4.6 uses 300 s).
HUB_SIGNATURE_MAX_SKEW = env.int("HUB_SIGNATURE_MAX_SKEW", default=300)
# Seconds a process keeps an Application's secrets and channels for its webhook (saves two queries per
# event; a failed check always re-reads them, so only a deactivated secret lingers this long). 0 = off.
WEBHOOK_ROUTE_CACHE_SECONDS = env.float("WEBHOOK_ROUTE_CACHE_SECONDS", default=5.0)
# A reply still `enqueued`/`sent` after this long is flagged as stuck on the delivery review.
DELIVERY_STUCK_AFTER_MINUTES = env.int("DELIVERY_STUCK_AFTER_MINUTES", default=15)
# A read timeout may hide a send the Hub accepted. True: retry it (at-least-once: never lost, rarely twice).
# False: fail the reply at once with "may have been sent" and let an agent decide (at-most-once).
HUB_SEND_RETRY_ON_READ_TIMEOUT = env.bool("HUB_SEND_RETRY_ON_READ_TIMEOUT", default=True)
# How long a worker owns a reply while it calls the Hub; longer than both timeouts so a slow answer is
# never taken for a dead worker (a second worker would then send it again).
HUB_SEND_LEASE_SECONDS = env.float(
    "HUB_SEND_LEASE_SECONDS", default=HUB_CONNECT_TIMEOUT + HUB_READ_TIMEOUT + 30
)
# How often `run_worker` re-queues pending replies whose worker died or whose task was lost.
WORKER_SWEEP_INTERVAL = env.float("WORKER_SWEEP_INTERVAL", default=30.0)
# Housekeeping (conversations/actions/housekeeping.py), run by the worker every PRUNE_INTERVAL seconds:
# webhook deliveries that need no action, and finished task rows, are deleted after so many days (0: kept).
WEBHOOK_EVENT_RETENTION_DAYS = env.int("WEBHOOK_EVENT_RETENTION_DAYS", default=30)
TASK_RESULT_RETENTION_DAYS = env.int("TASK_RESULT_RETENTION_DAYS", default=14)
PRUNE_INTERVAL = env.float("PRUNE_INTERVAL", default=3600.0)

# Secrets at rest (Hub API keys, webhook signing secrets) are Fernet-encrypted. Keys are comma separated;
# the first encrypts, all decrypt, so a key can be rotated. Unset: derived from SECRET_KEY.
FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEYS", default=[])

# --- Auth, i18n, static ---------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
}

if not DEBUG:
    SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=True)
    CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# daphne does not serve static files: WhiteNoise does, from the finders while developing.
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG
