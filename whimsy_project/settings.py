"""Whimsy settings: every deployment choice comes from the environment (see README)."""

import os
import tempfile
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from whimsy_project.env import (
    env_bool,
    env_choice,
    env_database,
    env_int,
    env_json,
    env_list,
    env_networks,
    env_redis_url,
    env_str,
)

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DEBUG", default=False)

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "whimsy-insecure-development-key-do-not-use-in-production"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
for _origin in CSRF_TRUSTED_ORIGINS:
    if "://" not in _origin:
        raise ImproperlyConfigured(
            f"CSRF_TRUSTED_ORIGINS entries need a scheme (https://example.com), got {_origin!r}."
        )

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "channels",
    "rest_framework",
    "drf_spectacular",
    "chat",
    "matchmaking",
    "moodrooms",
    "threads",
    "reports",
]

MIDDLEWARE = [
    "whimsy_project.middleware.OperationsMiddleware",
    "whimsy_project.middleware.RequestLogMiddleware",
    "whimsy_project.middleware.ApiNoStoreMiddleware",
    "whimsy_project.outages.ServiceUnavailableMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "chat.identity.VisitorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "whimsy_project.urls"
ASGI_APPLICATION = "whimsy_project.asgi.application"

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
                "reports.context_processors.report_form",
            ],
        },
    },
]

DATABASES = {"default": env_database("DATABASE_URL", BASE_DIR / "db.sqlite3")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not memory: browser tests serve the app from a separate daphne process.
    # One per test run, so that runs side by side do not share it.
    DATABASES["default"]["TEST"] = {"NAME": Path(tempfile.gettempdir()) / f"whimsy-test-{os.getpid()}.sqlite3"}
# Threads running sockets' database work (chat.sockets.database), each holding at most one
# pooled connection: below DB_POOL_MAX_SIZE, leaving connections for requests and the message
# writer. SQLite takes one writer at a time, so one thread there.
_db_pool_max = DATABASES["default"].get("OPTIONS", {}).get("pool", {}).get("max_size")
SOCKET_DB_THREADS = (
    env_int("SOCKET_DB_THREADS", max(1, _db_pool_max // 2), minimum=1, maximum=max(1, _db_pool_max - 2))
    if _db_pool_max
    else env_int("SOCKET_DB_THREADS", 1, minimum=1)
)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_redis_url("REDIS_URL")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                "hosts": [REDIS_URL],
                "capacity": env_int("CHANNEL_CAPACITY", 1000, minimum=10),
                "expiry": 60,
                "group_expiry": 86400,
            },
        }
    }
else:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels.layers.InMemoryChannelLayer",
            "CONFIG": {"capacity": env_int("CHANNEL_CAPACITY", 1000, minimum=10)},
        }
    }

# Anonymous identity lives in a signed cookie: no session table, nothing to share
# between daphne processes but SECRET_KEY.
SESSION_ENGINE = "django.contrib.sessions.backends.signed_cookies"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 60 * 60 * 24 * 30, minimum=60)
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", default=not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if env_bool("BEHIND_TLS_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Production serves HTTPS only: plain-HTTP page requests are redirected (probes of
# /healthz, /readyz and /metrics are answered before that), and browsers are told to
# use HTTPS for a year (HSTS is sent on HTTPS responses only).
SECURE_SSL_REDIRECT = env_bool("SSL_REDIRECT", default=not DEBUG)
SECURE_HSTS_SECONDS = env_int("HSTS_SECONDS", 0 if DEBUG else 365 * 24 * 3600, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env_bool("HSTS_PRELOAD", default=True)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
WHITENOISE_USE_FINDERS = DEBUG
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["chat.identity.VisitorAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["chat.identity.IsVisitor"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "EXCEPTION_HANDLER": "whimsy_project.api.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": None,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Whimsy API",
    "DESCRIPTION": "Anonymous random 1:1 chat. Identity comes from the session cookie set by GET /.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Our PATCH bodies are validated whole (whimsy_project.api.validated_input), not partially;
    # a text field that may not be blank says minLength 1.
    "COMPONENT_SPLIT_PATCH": False,
    "ENFORCE_NON_BLANK_FIELDS": True,
    # Several outputs answer {"status": "left"}: one enum for all of them.
    "ENUM_NAME_OVERRIDES": {"LeftStatusEnum": ["left"]},
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "whimsy_project.api.document_error_responses",
    ],
}

# Operations (docs/operations.md). /metrics is served to METRICS_ALLOWED_IPS (addresses or
# CIDR blocks, none by default) or to `Authorization: Bearer <METRICS_TOKEN>`.
# PROMETHEUS_MULTIPROC_DIR is read by prometheus_client itself; checked here so that a
# typo fails at start-up rather than at the first count.
METRICS_ALLOWED_IPS = env_networks("METRICS_ALLOWED_IPS")
METRICS_TOKEN = env_str("METRICS_TOKEN")
if METRICS_TOKEN and len(METRICS_TOKEN) < 16:
    raise ImproperlyConfigured("METRICS_TOKEN must be at least 16 characters (it guards /metrics).")
_metrics_dir = env_str("PROMETHEUS_MULTIPROC_DIR")
if _metrics_dir and not (os.path.isdir(_metrics_dir) and os.access(_metrics_dir, os.W_OK)):
    raise ImproperlyConfigured(f"PROMETHEUS_MULTIPROC_DIR must be a writable directory, got {_metrics_dir!r}.")
READINESS_TIMEOUT_SECONDS = env_int("READINESS_TIMEOUT_SECONDS", 2, minimum=1, maximum=30)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "text": {"()": "whimsy_project.logs.TextFormatter"},
        "json": {"()": "whimsy_project.logs.JsonFormatter"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": env_choice("LOG_FORMAT", "text", {"text", "json"})}
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}

# Matchmaking
INTEREST_FALLBACK_SECONDS = env_int("INTEREST_FALLBACK_SECONDS", 5, minimum=0)
NO_REMATCH_SECONDS = env_int("NO_REMATCH_SECONDS", 60, minimum=0)
# A waiting room is offered to others only while its occupant's socket is alive: it
# connected within SOCKET_CONNECT_GRACE_SECONDS of Start, and its heartbeat is fresh.
SOCKET_CONNECT_GRACE_SECONDS = env_int("SOCKET_CONNECT_GRACE_SECONDS", 15, minimum=1)
MAX_INTERESTS = 5
MAX_INTEREST_LENGTH = 30

# Client addresses: how many proxies in front of us append to X-Forwarded-For.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0, minimum=0)

# Moderation: a visitor reported by this many distinct people (0 = never) within the
# window is banned automatically for AUTO_BAN_HOURS, pending a moderator's review.
AUTO_BAN_REPORTERS = env_int("AUTO_BAN_REPORTERS", 3, minimum=0)
AUTO_BAN_WINDOW_HOURS = env_int("AUTO_BAN_WINDOW_HOURS", 24, minimum=1)
AUTO_BAN_HOURS = env_int("AUTO_BAN_HOURS", 24, minimum=1)
REPORT_EVIDENCE_MESSAGES = 50

# Mood rooms: a session with members and no message for MOOD_ROOM_QUIET_SECONDS gets a
# conversation starter; anyone may open MOOD_ROOM_CREATE_BURST sessions at once, then
# MOOD_ROOM_CREATE_PER_HOUR.
MOOD_ROOM_QUIET_SECONDS = env_int("MOOD_ROOM_QUIET_SECONDS", 180, minimum=10)
MOOD_ROOM_CREATE_BURST = env_int("MOOD_ROOM_CREATE_BURST", 3, minimum=1)
MOOD_ROOM_CREATE_PER_HOUR = env_int("MOOD_ROOM_CREATE_PER_HOUR", 10, minimum=1)

# Keep in touch: either person of a 1:1 chat may ask while it lasts and for
# KEEP_IN_TOUCH_SECONDS after it ended. Thread messages are kept THREAD_MESSAGE_RETENTION_DAYS;
# an ended thread (and what is left of its messages) goes THREAD_ENDED_RETENTION_DAYS after
# it ended, so a report about it can still be made and read meanwhile (purge_messages).
KEEP_IN_TOUCH_SECONDS = env_int("KEEP_IN_TOUCH_SECONDS", 300, minimum=0)
THREAD_MESSAGE_RETENTION_DAYS = env_int("THREAD_MESSAGE_RETENTION_DAYS", 90, minimum=1)
THREAD_ENDED_RETENTION_DAYS = env_int("THREAD_ENDED_RETENTION_DAYS", 7, minimum=0)

# Rate limits per visitor (token buckets shared through Redis when REDIS_URL is set):
# a burst, then a sustained rate.
RATE_LIMIT_MATCH_BURST = env_int("RATE_LIMIT_MATCH_BURST", 10, minimum=1)
RATE_LIMIT_MATCH_PER_MINUTE = env_int("RATE_LIMIT_MATCH_PER_MINUTE", 30, minimum=1)
RATE_LIMIT_REPORT_BURST = env_int("RATE_LIMIT_REPORT_BURST", 5, minimum=1)
RATE_LIMIT_REPORT_PER_HOUR = env_int("RATE_LIMIT_REPORT_PER_HOUR", 20, minimum=1)

# Realtime: each room socket may send MESSAGE_RATE_BURST messages at once, then
# MESSAGE_RATE_PER_SECOND; it refreshes its participation's heartbeat every
# HEARTBEAT_SECONDS (the stale-room sweep reads it). The online count lives in Redis
# under PRESENCE_REDIS_KEY (separate deployments sharing one Redis need separate keys).
MESSAGE_RATE_BURST = env_int("MESSAGE_RATE_BURST", 10, minimum=1)
MESSAGE_RATE_PER_SECOND = env_int("MESSAGE_RATE_PER_SECOND", 2, minimum=1)
# WebRTC signals per socket: a burst of ICE candidates must pass, a flood must not.
SIGNAL_RATE_BURST = env_int("SIGNAL_RATE_BURST", 200, minimum=1)
SIGNAL_RATE_PER_SECOND = env_int("SIGNAL_RATE_PER_SECOND", 50, minimum=1)
HEARTBEAT_SECONDS = env_int("HEARTBEAT_SECONDS", 30, minimum=5)
# A socket closed without `leave` (a blip, a reload, a crash, a deploy) keeps its member's
# place this long: a reconnect within it resumes; after it the member is lost.
RESUME_GRACE_SECONDS = env_int("RESUME_GRACE_SECONDS", 20, minimum=0, maximum=600)
PRESENCE_REDIS_KEY = env_str("PRESENCE_REDIS_KEY", "whimsy:presence")

# Video: the STUN/TURN servers browsers in a chat are given. TURN_URLS get short-lived
# credentials minted from TURN_SECRET (the TURN REST API scheme of coturn's
# use-auth-secret); ICE_SERVERS are passed on as they are. No public STUN host by
# default: two browsers on one network connect with host candidates.
ICE_SERVERS = env_json("ICE_SERVERS", [])


def _ice_urls(server) -> list[str]:
    urls = server.get("urls") if isinstance(server, dict) else None
    urls = [urls] if isinstance(urls, str) else urls
    if not isinstance(urls, list) or not urls or not all(isinstance(url, str) for url in urls):
        raise ImproperlyConfigured(
            'ICE_SERVERS must be a JSON list of RTCIceServer objects, e.g. [{"urls": "stun:stun.example.org:3478"}].'
        )
    return urls


if not isinstance(ICE_SERVERS, list):
    raise ImproperlyConfigured("ICE_SERVERS must be a JSON list of RTCIceServer objects.")
_STATIC_ICE_URLS = [url for server in ICE_SERVERS for url in _ice_urls(server)]
TURN_URLS = env_list("TURN_URLS")
for _url in TURN_URLS:
    if not _url.startswith(("turn:", "turns:")):
        raise ImproperlyConfigured(f"TURN_URLS entries must start with turn: or turns:, got {_url!r}.")
TURN_SECRET = env_str("TURN_SECRET")
if TURN_URLS and not TURN_SECRET:
    raise ImproperlyConfigured("TURN_URLS needs TURN_SECRET, the static-auth-secret of the TURN server.")
TURN_TTL = env_int("TURN_TTL", 3600, minimum=60, maximum=86400)
ICE_TRANSPORT_POLICY = env_str("ICE_TRANSPORT_POLICY", "all").strip().lower()
if ICE_TRANSPORT_POLICY not in {"all", "relay"}:
    raise ImproperlyConfigured(f"ICE_TRANSPORT_POLICY must be all or relay, got {ICE_TRANSPORT_POLICY!r}.")
if ICE_TRANSPORT_POLICY == "relay" and not TURN_URLS and not any(
    url.startswith(("turn:", "turns:")) for url in _STATIC_ICE_URLS
):
    raise ImproperlyConfigured("ICE_TRANSPORT_POLICY=relay needs a TURN server (TURN_URLS or ICE_SERVERS).")
