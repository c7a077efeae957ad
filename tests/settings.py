"""Test settings: Nora's own settings with every interval shortened and nothing external."""

import os

os.environ.setdefault("SECRET_KEY", "tests-only-secret-key-not-for-production")
os.environ.setdefault("NORA_LLM_PROVIDER", "offline")
os.environ.setdefault("NORA_STT_PROVIDER", "offline")
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
# The process tuning (nora/server/) stays out of the test process: each piece's tests turn on
# the one they test, and the end-to-end tests' daphne processes turn every piece back on.
SERVER_TUNING = (
    "NORA_SERVER_INLINE_MIDDLEWARE",
    "NORA_SERVER_FRAMES_WITHOUT_CLEANUP",
    "NORA_SERVER_EAGER_WRITES",
    "NORA_SERVER_COLLECTOR_TUNING",
    "NORA_SERVER_REASON_PHRASES",
)
for name in SERVER_TUNING:
    os.environ.setdefault(name, "0")

from nora.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
NORA_OFFLINE_WORD_DELAY_SECONDS = 0.0
NORA_LLM_RETRY_BACKOFF_SECONDS = 0.01
NORA_SSE_KEEPALIVE_SECONDS = 0.2
NORA_REPLY_SAVE_INTERVAL_SECONDS = 0.05
NORA_REPLY_STALE_SECONDS = 2.0
NORA_STOP_LISTENER_RETRY_SECONDS = 0.05
NORA_STT_KEEPALIVE_SECONDS = 0.2
NORA_STT_FINALIZE_TIMEOUT_SECONDS = 1.0
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}  # noqa: F405
NORA_TITLE_WAIT_SECONDS = 1.0

# Several test runs can share one PostgreSQL server (CI, a developer's second terminal).
if os.environ.get("NORA_TEST_DATABASE"):
    DATABASES["default"]["TEST"] = {"NAME": os.environ["NORA_TEST_DATABASE"]}  # noqa: F405
