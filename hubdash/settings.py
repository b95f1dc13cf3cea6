"""Hubdash settings: everything that differs between machines comes from the environment.

Defaults make `make run` work on a fresh machine (SQLite, in-memory channel layer, the local Hub
sandbox). Production sets DATABASE_URL, REDIS_URL, SECRET_KEY, DEBUG=false, ALLOWED_HOSTS and
HUB_BASE_URL; every variable is listed in the README.
"""

import os
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import environ
from cryptography.fernet import Fernet
from csp.constants import NONE, SELF, UNSAFE_INLINE
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
if (BASE_DIR / ".env").exists():
    environ.Env.read_env(BASE_DIR / ".env")

# On by default so that `make run`, `make test` and every `manage.py` command work on a fresh clone with no
# environment (as healthchecks does). Production sets DEBUG=false, and then refuses to start until the
# secrets and hosts below are its own (see _refuse_insecure_production at the end of this file).
DEBUG = env.bool("DEBUG", default=True)

# Public (it is in this file): good enough for a laptop, refused with DEBUG off.
DEVELOPMENT_SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production"
SECRET_KEY = env.str("SECRET_KEY", default="") or (DEVELOPMENT_SECRET_KEY if DEBUG else "")

ALLOWED_HOSTS = env.list(
    "ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]", "testserver"] if DEBUG else []
)
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
    "axes",
    "csp",
    "channels",
    "channels_app",
    "conversations",
    "reports",
    "integrations",
    "hubsandbox",
    # OpenAPI for /api/v1/ (schema and docs); the sidecar ships Swagger UI's files, served from our static.
    "drf_spectacular",
    "drf_spectacular_sidecar",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Static files are answered here, before the middleware below: no CSP, no session, cacheable.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The browser's language (Accept-Language) for everyone; UserPreferencesMiddleware below replaces it
    # with a signed-in user's own choice and activates their time zone.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "channels_app.preferences.UserPreferencesMiddleware",
    "hubdash.security.NoStoreForSignedInUsers",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes asks: it turns a lockout raised by its authentication backend into the page.
    "axes.middleware.AxesMiddleware",
    # Sync-only and doing nothing: under daphne, the chain above then runs in the view's thread instead
    # of hopping between it and the event loop (hubdash/middleware.py).
    "hubdash.middleware.SynchronousChain",
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
                "django.template.context_processors.i18n",
                "django.template.context_processors.tz",
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

# --- Background work -----------------------------------------------------------------------------
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
# Signed webhooks older or newer than this are refused (docs/hub.md, "Webhooks and signatures": the Hub's sample uses 300 s).
HUB_SIGNATURE_MAX_SKEW = env.int("HUB_SIGNATURE_MAX_SKEW", default=300)
# Seconds a process keeps an Application's secrets and channels for its webhook (saves two queries per
# event; a failed check always re-reads them, so only a deactivated secret lingers this long). 0 = off.
WEBHOOK_ROUTE_CACHE_SECONDS = env.float("WEBHOOK_ROUTE_CACHE_SECONDS", default=5.0)
# Seconds a process reuses the view tabs' counts it drew on a page for the next pages of the same
# Applications and status (one grouped query that reads every open conversation). The tab's websocket
# sync counts again at once, so a page shows counts at most this old only until its socket is up. 0 = off.
TAB_COUNTS_CACHE_SECONDS = env.float("TAB_COUNTS_CACHE_SECONDS", default=1.0)
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
# How often `run_worker` makes pending replies whose worker died (lease expired) due again.
WORKER_SWEEP_INTERVAL = env.float("WORKER_SWEEP_INTERVAL", default=30.0)
# Seconds between the worker's passes that reopen snoozed conversations whose time has come.
SNOOZE_WAKE_INTERVAL = env.float("SNOOZE_WAKE_INTERVAL", default=15.0)
# Housekeeping (conversations/actions/housekeeping.py), run by the worker every PRUNE_INTERVAL seconds:
# webhook deliveries that need no action are deleted after so many days (0: kept).
WEBHOOK_EVENT_RETENTION_DAYS = env.int("WEBHOOK_EVENT_RETENTION_DAYS", default=30)
PRUNE_INTERVAL = env.float("PRUNE_INTERVAL", default=3600.0)
# Seconds between the worker's passes over the reports' message counts (conversations/actions/rollup.py).
REPORT_ROLLUP_INTERVAL = env.float("REPORT_ROLLUP_INTERVAL", default=60.0)

# Secrets at rest (Hub API keys, webhook signing secrets) are Fernet-encrypted. Keys are comma separated;
# the first encrypts, all decrypt, so a key can be rotated. Unset (development only): derived from SECRET_KEY.
FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEYS", default=[])

# --- Security headers -----------------------------------------------------------------------------
# Content-Security-Policy (django-csp): scripts only from our own static files, so injected markup cannot
# run script. Inline style attributes stay allowed (avatars set their hue with `style="--hue: …"`).
# Customers' images, audio and video are shown from the Hub's (https) URLs; in development the sandbox
# serves them over http from HUB_BASE_URL. 'self' also covers the inbox websocket (ws:/wss: of this host).
_hub = urlsplit(HUB_BASE_URL)
_MEDIA_SOURCES = [SELF, "data:", "https:"] + (
    [f"{_hub.scheme}://{_hub.netloc}"] if _hub.scheme == "http" else []
)
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, UNSAFE_INLINE],
        "img-src": _MEDIA_SOURCES,
        "media-src": _MEDIA_SOURCES,
        "connect-src": [SELF],
        "font-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}
SECURE_REFERRER_POLICY = "same-origin"  # thread URLs never leave for the sites customers link to
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
# HTTPS. With DEBUG off the defaults are those `manage.py check --deploy` asks for; a proxy that terminates
# TLS says so in X-Forwarded-Proto (below). SECURE_SSL_REDIRECT=false if the proxy redirects to https itself.
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 365 * 24 * 3600)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEBUG)

# --- Email ----------------------------------------------------------------------------------------
# Only password resets send email. Unset: nothing can be sent, so the password-reset pages answer 404
# (hubdash/urls.py) rather than promise a message that never comes. E.g. smtp+tls://user:pass@host:587.
EMAIL_URL = env.str("EMAIL_URL", default="")
if EMAIL_URL:
    globals().update(env.email_url_config(EMAIL_URL))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="hubdash@localhost")

# --- Auth, i18n, static ---------------------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    # First, so a locked-out client is refused before its password is even checked.
    "axes.backends.AxesStandaloneBackend",
    # Django's ModelBackend, reading each request's user with their language and time zone in one query.
    # (It replaced ModelBackend itself on 2026-11-29: sessions signed in before then sign in once more.
    # Both listed would check every wrong password twice.)
    "channels_app.preferences.PreferencesBackend",
]
# Login throttling (django-axes) on /accounts/login/ and /admin/login/. Failures are counted per username
# from one address, and per address over all usernames (password spraying). Not per username alone: anyone
# could then lock a colleague out from anywhere; nor per address alone at a low limit: a whole office
# behind one NAT address would share it. A success clears that username's failures from that address.
LOGIN_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=10)
LOGIN_FAILURE_LIMIT_PER_IP = env.int("LOGIN_FAILURE_LIMIT_PER_IP", default=100)
LOGIN_LOCKOUT_MINUTES = env.int("LOGIN_LOCKOUT_MINUTES", default=15)
# Proxies in front of the server that append the client's address to X-Forwarded-For (nginx's
# $proxy_add_x_forwarded_for). 0: the TCP peer is the client and the header, which anyone can send, is ignored.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
AXES_HANDLER = "hubdash.login_throttle.LoginThrottleHandler"
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "ip_address"]  # the handler relies on this order
AXES_FAILURE_LIMIT = LOGIN_FAILURE_LIMIT
AXES_COOLOFF_TIME = timedelta(minutes=LOGIN_LOCKOUT_MINUTES)
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "hubdash.login_throttle.client_ip"
AXES_LOCKOUT_CALLABLE = "hubdash.login_throttle.lockout_response"
# Successful sign-ins are not logged (an ever-growing table of addresses); failures live until they expire.
AXES_DISABLE_ACCESS_LOG = True
AXES_VERBOSE = False

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "login"

# Languages: English and Brazilian Portuguese. A signed-in user's profile choice wins, else the browser's
# Accept-Language, else LANGUAGE_CODE. Each language is named in itself in the profile's switch.
LANGUAGE_CODE = env.str("LANGUAGE_CODE", default="en")
LANGUAGES = [("en", "English"), ("pt-br", "Português (Brasil)")]
LOCALE_PATHS = [BASE_DIR / "locale"]  # .po files in the repository; `make` compiles the .mo files
# One date and time format per language (hubdash/formats/<locale>/formats.py), never Django's "a.m.".
FORMAT_MODULE_PATH = ["hubdash.formats"]
# Times are stored in UTC and shown in each user's time zone (profile, first taken from the browser at
# sign-in); TIME_ZONE is only the zone of users who have none yet, and of management commands.
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
# Files agents attach (conversations/uploads.py): on the local disk under MEDIA_ROOT by default, or in
# any S3-compatible bucket through django-storages when AWS_STORAGE_BUCKET_NAME is set (credentials from
# AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_S3_ENDPOINT_URL for MinIO, Ceph, R2…). Never served from a
# public bucket URL: the Hub gets a signed link of ours that expires (UPLOAD_URL_MAX_AGE).
MEDIA_ROOT = env.path("MEDIA_ROOT", default=VAR_DIR / "media")
AWS_STORAGE_BUCKET_NAME = env.str("AWS_STORAGE_BUCKET_NAME", default="")
AWS_S3_ENDPOINT_URL = env.str("AWS_S3_ENDPOINT_URL", default="") or None
AWS_S3_REGION_NAME = env.str("AWS_S3_REGION_NAME", default="") or None
AWS_ACCESS_KEY_ID = env.str("AWS_ACCESS_KEY_ID", default="") or None
AWS_SECRET_ACCESS_KEY = env.str("AWS_SECRET_ACCESS_KEY", default="") or None
AWS_DEFAULT_ACL = None
AWS_QUERYSTRING_AUTH = True
_DEFAULT_STORAGE = (
    {"BACKEND": "storages.backends.s3.S3Storage"}
    if AWS_STORAGE_BUCKET_NAME
    else {"BACKEND": "django.core.files.storage.FileSystemStorage"}
)
# How long the link the Hub is given to an attachment works (seconds). The Hub and the customer's app
# may fetch it again later (a retried send, a re-download), so it outlives the send by far.
UPLOAD_URL_MAX_AGE = env.int("UPLOAD_URL_MAX_AGE", default=7 * 24 * 3600)
# An upload no reply uses (the browser closed, or a crash between storing it and the reply) is deleted
# by housekeeping after this many hours.
UPLOAD_ORPHAN_HOURS = env.int("UPLOAD_ORPHAN_HOURS", default=24)
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440  # Django's default; files go through FILE_UPLOAD_* instead

STORAGES = {
    "default": _DEFAULT_STORAGE,
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

REST_FRAMEWORK = {
    # API tokens first: a request without credentials then gets 401 with `WWW-Authenticate: Bearer`.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "integrations.api.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["integrations.api.parsers.BoundedJSONParser"],
    "DEFAULT_THROTTLE_CLASSES": ["integrations.api.throttling.PerTokenThrottle"],
    "DEFAULT_THROTTLE_RATES": {"api": None},  # integrations/api/throttling.py reads API_THROTTLE_RATE
    "EXCEPTION_HANDLER": "integrations.api.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Hubdash API",
    "DESCRIPTION": "The public API of Hubdash: conversations, messages, contacts, replies and outgoing "
    "webhooks, with the same access rules as the inbox. See the README's Integrate section.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "SCHEMA_PATH_PREFIX_TRIM": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "PREPROCESSING_HOOKS": ["integrations.api.schema.only_v1"],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "integrations.api.schema.add_error_responses",
    ],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # No badge from validator.swagger.io: the docs page loads nothing from outside this server.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    "ENUM_NAME_OVERRIDES": {
        "MessageStatusEnum": "conversations.models.Message.Status",
        "ConversationStatusEnum": "conversations.models.Conversation.Status",
        "SendAttemptOutcomeEnum": "conversations.models.SendAttempt.Outcome",
        "ReceivedEventOutcomeEnum": "conversations.models.WebhookEvent.Outcome",
        "DeliveryStatusEnum": "integrations.models.WebhookDelivery.Status",
        "WebhookEventEnum": "integrations.models.WebhookEvent",
    },
}
# --- Public API (/api/v1/) and outgoing webhooks (integrations/) ---------------------------------
# Requests per token (per user for a browser session, per address without credentials), DRF's syntax.
API_THROTTLE_RATE = env.str("API_THROTTLE_RATE", default="600/min")
# Largest request body the API reads (bytes): a bigger one is refused with 413 before it is parsed.
API_MAX_BODY_BYTES = env.int("API_MAX_BODY_BYTES", default=64 * 1024)
# Outgoing webhooks: each POST waits this long; failures retry with backoff up to the attempt limit; a
# subscription is turned off after this many failed attempts in a row (the health panel says so).
OUTGOING_WEBHOOK_TIMEOUT = env.float("OUTGOING_WEBHOOK_TIMEOUT", default=5.0)
OUTGOING_WEBHOOK_MAX_ATTEMPTS = env.int("OUTGOING_WEBHOOK_MAX_ATTEMPTS", default=10)
OUTGOING_WEBHOOK_BACKOFF_BASE = env.float("OUTGOING_WEBHOOK_BACKOFF_BASE", default=10.0)
OUTGOING_WEBHOOK_BACKOFF_MAX = env.float("OUTGOING_WEBHOOK_BACKOFF_MAX", default=3600.0)
OUTGOING_WEBHOOK_DISABLE_AFTER = env.int("OUTGOING_WEBHOOK_DISABLE_AFTER", default=20)
# Seconds a process keeps the list of Applications that have subscriptions (every inbox event asks it):
# a new subscription gets events from other processes after at most this long. 0 = ask every time.
OUTGOING_WEBHOOK_CACHE_SECONDS = env.float("OUTGOING_WEBHOOK_CACHE_SECONDS", default=2.0)
# Seconds between polls of the delivery queue when nothing is due.
OUTGOING_WEBHOOK_POLL_INTERVAL = env.float("OUTGOING_WEBHOOK_POLL_INTERVAL", default=0.5)
# SSRF guard: URLs that point at loopback, private, link-local or reserved addresses are refused
# (when subscribing and again before each POST) unless DEBUG is on or this says they may be used.
OUTGOING_WEBHOOK_ALLOW_PRIVATE_URLS = env.bool("OUTGOING_WEBHOOK_ALLOW_PRIVATE_URLS", default=False)
# The per-token throttle counts in the cache: shared by every process through Redis when there is one.
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env.str("CHANNEL_LAYER_PREFIX", default="hubdash"),
        }
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
    # django-axes logs every sign-in at INFO; a lockout is a WARNING.
    "loggers": {"django.db.backends": {"level": "WARNING"}, "axes": {"level": "WARNING"}},
}

# daphne does not serve static files: WhiteNoise does, from the finders while developing.
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG


def _refuse_insecure_production() -> None:
    """With DEBUG off, stop before serving anything if a secret is missing or guessable, naming each variable.

    The SECRET_KEY rules are Django's own (`check --deploy`, security.W009): it signs sessions, so a short,
    repetitive or published key lets anyone sign in as anyone.
    """
    problems = []
    if not SECRET_KEY:
        problems.append("SECRET_KEY is not set.")
    elif (
        len(SECRET_KEY) < 50
        or len(set(SECRET_KEY)) < 5
        or SECRET_KEY == DEVELOPMENT_SECRET_KEY
        or SECRET_KEY.startswith("django-insecure")
    ):
        problems.append(
            "SECRET_KEY is weak: it needs at least 50 characters, at least 5 different ones, and must not be "
            "the development key or start with 'django-insecure'."
        )
    if not FIELD_ENCRYPTION_KEYS:
        problems.append(
            "FIELD_ENCRYPTION_KEYS is not set: the Hub API keys and webhook secrets stored in the database "
            "need a key of their own (a deployment that ran without one: see the README, Configuration)."
        )
    if not ALLOWED_HOSTS:
        problems.append("ALLOWED_HOSTS is not set: list the host names this server answers to.")
    if problems:
        raise ImproperlyConfigured(
            "Hubdash will not start with DEBUG=false:\n- "
            + "\n- ".join(problems)
            + "\nGenerate a SECRET_KEY with `python -c 'import secrets; print(secrets.token_urlsafe(50))'` and a"
            " FIELD_ENCRYPTION_KEYS key with"
            " `python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'`."
        )


for _key in FIELD_ENCRYPTION_KEYS:
    try:
        Fernet(_key)
    except ValueError:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEYS holds a value that is not a Fernet key (32 url-safe base64-encoded bytes)."
        ) from None
if not DEBUG:
    _refuse_insecure_production()
