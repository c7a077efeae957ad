"""Nora's settings, read once from the environment through one `env` object.

Every variable is listed in `.env.example` and in the README. With nothing set,
Nora runs on SQLite, an in-memory channel layer and the offline providers.
"""

from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)

if DEBUG:
    SECRET_KEY = env("SECRET_KEY", default="") or "django-insecure-nora-development-only"
else:
    SECRET_KEY = env("SECRET_KEY", default="")
    if not SECRET_KEY:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=[])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# HTTPS. Behind a TLS-terminating proxy, set NORA_TRUSTED_PROXY so its X-Forwarded-Proto is believed.
NORA_TRUSTED_PROXY = env.int("NORA_TRUSTED_PROXY", default=0)
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
# Load balancers and Prometheus probe over plain HTTP inside the network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
if NORA_TRUSTED_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
X_FRAME_OPTIONS = "DENY"

INSTALLED_APPS = [
    "daphne",
    "nora.apps.NoraAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "corsheaders",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "nora",
    "accounts",
    "chats",
    "voice",
]

# Process tuning (nora/server/): each piece is on unless the environment turns it off, and
# each has a decision record in docs/decisions/.
NORA_SERVER_INLINE_MIDDLEWARE = env.bool("NORA_SERVER_INLINE_MIDDLEWARE", default=True)
NORA_SERVER_FRAMES_WITHOUT_CLEANUP = env.bool("NORA_SERVER_FRAMES_WITHOUT_CLEANUP", default=True)
NORA_SERVER_EAGER_WRITES = env.bool("NORA_SERVER_EAGER_WRITES", default=True)
NORA_SERVER_COLLECTOR_TUNING = env.bool("NORA_SERVER_COLLECTOR_TUNING", default=True)
NORA_SERVER_REASON_PHRASES = env.bool("NORA_SERVER_REASON_PHRASES", default=True)


# Django's deploy checks find its security middlewares by path; with the event-loop subclasses
# in their place these ids are silenced and nora/server/checks.py runs the checks they gate.
INLINE_MIDDLEWARE_SILENCED_CHECKS = ["security.W001", "security.W002", "security.W003"]


def middleware_list(*, inline: bool) -> list[str]:
    """Nora's middlewares: Django's own, or with `inline` their subclasses in nora/server/middleware.py."""

    def django(path: str) -> str:
        return f"nora.server.middleware.{path.rsplit('.', 1)[1]}" if inline else path

    return [
        "nora.observability.RequestObservabilityMiddleware",
        django("django.middleware.security.SecurityMiddleware"),
        "nora.static_files.AsyncWhiteNoiseMiddleware",
        "corsheaders.middleware.CorsMiddleware",
        django("django.contrib.sessions.middleware.SessionMiddleware"),
        django("django.middleware.common.CommonMiddleware"),
        django("django.middleware.csrf.CsrfViewMiddleware"),
        django("django.contrib.auth.middleware.AuthenticationMiddleware"),
        django("django.contrib.messages.middleware.MessageMiddleware"),
        django("django.middleware.clickjacking.XFrameOptionsMiddleware"),
    ]


MIDDLEWARE = middleware_list(inline=NORA_SERVER_INLINE_MIDDLEWARE)
SILENCED_SYSTEM_CHECKS = INLINE_MIDDLEWARE_SILENCED_CHECKS if NORA_SERVER_INLINE_MIDDLEWARE else []

ROOT_URLCONF = "nora.urls"
ASGI_APPLICATION = "nora.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "nora" / "templates"],
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

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
# Under ASGI every request runs in its own thread-sensitive context, so a
# persistent connection would be left behind per request: close them instead.
DATABASES["default"]["CONN_MAX_AGE"] = 0
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # "Closing" hands the connection back to a pool: no new connection per query under load.
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": env.int("DATABASE_POOL_MIN", default=2),
        "max_size": env.int("DATABASE_POOL_MAX", default=20),
        "timeout": env.float("DATABASE_POOL_TIMEOUT_SECONDS", default=10.0),
    }

REDIS_URL = env("REDIS_URL", default="")

if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                # redis-py 8 times out idle reads after 5 s by default, which
                # channels-redis turns into a TimeoutError in idle consumers.
                "hosts": [{"address": REDIS_URL, "socket_timeout": None, "socket_connect_timeout": 5}],
            },
        }
    }
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "nora",
            # An unreachable Redis must fail a request quickly, never hang it.
            "OPTIONS": {"socket_connect_timeout": 5, "socket_timeout": 5},
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTH_USER_MODEL = "accounts.User"

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
STATIC_ROOT = Path(env("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "nora" / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = DEBUG

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Paths are answered with or without a trailing slash by the routes
# themselves; a redirect would turn POST and PATCH into GET for many clients.
APPEND_SLASH = False

DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("NORA_MAX_REQUEST_BYTES", default=64 * 1024)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework_simplejwt.authentication.JWTAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["nora.parsers.BoundedJSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # OPTIONS answers 405: the OpenAPI schema is the API's description, and CORS preflights
    # are answered by the CORS middleware before any view.
    "DEFAULT_METADATA_CLASS": None,
    "EXCEPTION_HANDLER": "nora.errors.api_exception_handler",
    "UNAUTHENTICATED_USER": None,
}

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env.int("JWT_ACCESS_MINUTES", default=15)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.int("JWT_REFRESH_DAYS", default=14)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": True,
    "AUTH_HEADER_TYPES": ("Bearer",),
    "SIGNING_KEY": env("JWT_SIGNING_KEY", default="") or SECRET_KEY,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Nora API",
    "DESCRIPTION": "An AI companion in pregnancy and early parenthood. All times are UTC.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    # Swagger UI's files from drf-spectacular-sidecar, served with Nora's static files: no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {"PersonalityEnum": "nora.personalities.PERSONALITY_CHOICES"},
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "chats.schema.message_stream_path_add",
    ],
}

# Login and registration throttles.
NORA_AUTH_ADDRESS_ATTEMPTS = env.int("NORA_AUTH_ADDRESS_ATTEMPTS", default=30)
NORA_AUTH_ACCOUNT_FAILURES = env.int("NORA_AUTH_ACCOUNT_FAILURES", default=10)
NORA_AUTH_WINDOW_SECONDS = env.int("NORA_AUTH_WINDOW_SECONDS", default=15 * 60)
NORA_WS_TICKET_SECONDS = env.int("NORA_WS_TICKET_SECONDS", default=60)

# Reply engine ---------------------------------------------------------------

ANTHROPIC_API_KEY = env("ANTHROPIC_API_KEY", default="")
ANTHROPIC_BASE_URL = env("ANTHROPIC_BASE_URL", default="")
NORA_LLM_PROVIDER = env("NORA_LLM_PROVIDER", default="") or ("anthropic" if ANTHROPIC_API_KEY else "offline")
NORA_REPLY_PROVIDERS = {
    "anthropic": "chats.engine.providers.anthropic.AnthropicReplyProvider",
    "offline": "chats.engine.providers.offline.OfflineReplyProvider",
}
if NORA_LLM_PROVIDER not in NORA_REPLY_PROVIDERS:
    raise ImproperlyConfigured(f"NORA_LLM_PROVIDER must be one of {sorted(NORA_REPLY_PROVIDERS)}.")
NORA_CHAT_MODEL = env("NORA_CHAT_MODEL", default="claude-sonnet-4-6")
NORA_TITLE_MODEL = env("NORA_TITLE_MODEL", default="claude-haiku-4-5")
NORA_CHAT_MAX_TOKENS = env.int("NORA_CHAT_MAX_TOKENS", default=1024)
NORA_TITLE_MAX_TOKENS = env.int("NORA_TITLE_MAX_TOKENS", default=24)
# The model-assisted triage: a second opinion on messages the offline layers let pass. The
# model's reply is held until it answers or this deadline passes; 0 turns the layer off.
NORA_TRIAGE_DEADLINE_SECONDS = env.float("NORA_TRIAGE_DEADLINE_SECONDS", default=1.5)
NORA_TRIAGE_MODEL = env("NORA_TRIAGE_MODEL", default="") or NORA_TITLE_MODEL
NORA_TRIAGE_MAX_TOKENS = env.int("NORA_TRIAGE_MAX_TOKENS", default=128)
# How long `done` waits for a title the model has not finished yet.
NORA_TITLE_WAIT_SECONDS = env.float("NORA_TITLE_WAIT_SECONDS", default=5.0)
NORA_LLM_TIMEOUT_SECONDS = env.float("NORA_LLM_TIMEOUT_SECONDS", default=60.0)
NORA_LLM_RETRIES = env.int("NORA_LLM_RETRIES", default=2)
NORA_LLM_RETRY_BACKOFF_SECONDS = env.float("NORA_LLM_RETRY_BACKOFF_SECONDS", default=0.5)
NORA_OFFLINE_WORD_DELAY_SECONDS = env.float("NORA_OFFLINE_WORD_DELAY_SECONDS", default=0.03)
NORA_HISTORY_MAX_CHARS = env.int("NORA_HISTORY_MAX_CHARS", default=24_000)
NORA_MESSAGE_MAX_CHARS = 8_000
NORA_SSE_KEEPALIVE_SECONDS = env.float("NORA_SSE_KEEPALIVE_SECONDS", default=15.0)
NORA_REPLY_SAVE_INTERVAL_SECONDS = env.float("NORA_REPLY_SAVE_INTERVAL_SECONDS", default=1.0)
# A reply whose row has not been touched for this long has no live generator.
NORA_REPLY_STALE_SECONDS = env.float("NORA_REPLY_STALE_SECONDS", default=30.0)
# How long a process waits to listen for stop requests again after the channel layer failed.
NORA_STOP_LISTENER_RETRY_SECONDS = 1.0
# How often a process generating replies joins the stop group again, so that a group lost in
# Redis (flushed, or a failover) costs stops no longer than this.
NORA_STOP_GROUP_REJOIN_SECONDS = 60.0

# Per-user limits on model calls, shared by text and voice.
NORA_RATE_MESSAGES_PER_MINUTE = env.int("NORA_RATE_MESSAGES_PER_MINUTE", default=10)
NORA_QUOTA_MESSAGES_PER_DAY = env.int("NORA_QUOTA_MESSAGES_PER_DAY", default=300)
NORA_QUOTA_TOKENS_PER_DAY = env.int("NORA_QUOTA_TOKENS_PER_DAY", default=600_000)

# Safety -----------------------------------------------------------------------

NORA_EMERGENCY_NUMBER = env("NORA_EMERGENCY_NUMBER", default="")
NORA_CRISIS_LINE = env("NORA_CRISIS_LINE", default="")

# Speech-to-text -----------------------------------------------------------------

DEEPGRAM_API_KEY = env("DEEPGRAM_API_KEY", default="")
DEEPGRAM_BASE_URL = env("DEEPGRAM_BASE_URL", default="")
DEEPGRAM_MODEL = env("DEEPGRAM_MODEL", default="nova-3")
NORA_STT_PROVIDER = env("NORA_STT_PROVIDER", default="") or ("deepgram" if DEEPGRAM_API_KEY else "offline")
NORA_STT_PROVIDERS = {
    "deepgram": "voice.stt.deepgram.DeepgramSpeechToText",
    "offline": "voice.stt.offline.OfflineSpeechToText",
}
if NORA_STT_PROVIDER not in NORA_STT_PROVIDERS:
    raise ImproperlyConfigured(f"NORA_STT_PROVIDER must be one of {sorted(NORA_STT_PROVIDERS)}.")
NORA_STT_KEEPALIVE_SECONDS = env.float("NORA_STT_KEEPALIVE_SECONDS", default=3.0)
NORA_STT_FINALIZE_TIMEOUT_SECONDS = env.float("NORA_STT_FINALIZE_TIMEOUT_SECONDS", default=3.0)
NORA_STT_ENDPOINTING_MS = env.int("NORA_STT_ENDPOINTING_MS", default=800)
NORA_STT_UTTERANCE_END_MS = env.int("NORA_STT_UTTERANCE_END_MS", default=1500)

# The voice socket's limits.
NORA_VOICE_MAX_FRAME_BYTES = env.int("NORA_VOICE_MAX_FRAME_BYTES", default=1024 * 1024)
NORA_VOICE_MAX_CHUNK_BYTES = env.int("NORA_VOICE_MAX_CHUNK_BYTES", default=256 * 1024)
NORA_VOICE_MAX_UTTERANCE_SECONDS = env.float("NORA_VOICE_MAX_UTTERANCE_SECONDS", default=300.0)
NORA_VOICE_MAX_SOCKETS_PER_USER = env.int("NORA_VOICE_MAX_SOCKETS_PER_USER", default=3)
NORA_VOICE_MAX_UTTERANCE_BYTES = env.int("NORA_VOICE_MAX_UTTERANCE_BYTES", default=10 * 1024 * 1024)

# Logging and metrics ------------------------------------------------------------------

LOG_LEVEL = env("LOG_LEVEL", default="INFO")
LOG_FORMAT = env("LOG_FORMAT", default="plain")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"context": {"()": "nora.observability.ContextFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {"()": "nora.observability.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json" if LOG_FORMAT == "json" else "plain",
            "filters": ["context"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # Nora logs each request itself, without the query string (the voice socket's carries
        # a token); Django's own request warnings would repeat it.
        "django.request": {"level": "ERROR"},
        "django.channels.server": {"level": "WARNING"},
        "httpx": {"level": "WARNING"},
        "httpx2": {"level": "WARNING"},
    },
}
# When set, GET /metrics needs `Authorization: Bearer <token>`.
NORA_METRICS_TOKEN = env("NORA_METRICS_TOKEN", default="")
