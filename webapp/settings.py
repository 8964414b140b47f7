"""Django settings for myna-reset, read from the environment (see .env.example)."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from mynacard.challenge import ORIGIN_PATTERN
from webapp.env import env_bool, env_float, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("MYNA_VAR_DIR", str(BASE_DIR / "var")))

# Production turns on every transport-security setting; it never changes behaviour otherwise.
PRODUCTION = env_bool("MYNA_PRODUCTION", False)
DEBUG = env_bool("DEBUG", False)
if PRODUCTION and DEBUG:
    raise ImproperlyConfigured("DEBUG must be off when MYNA_PRODUCTION is on")


def _secret_key() -> str:
    key = env_str("SECRET_KEY", "")
    if key:
        if PRODUCTION and len(key) < 50:
            raise ImproperlyConfigured("SECRET_KEY must be at least 50 characters in production")
        return key
    if PRODUCTION:
        raise ImproperlyConfigured("SECRET_KEY (or SECRET_KEY_FILE) is required in production")
    # Development: one random key per checkout, kept out of git, so sessions survive restarts.
    path = VAR_DIR / "dev-secret-key"
    if not path.exists():
        import secrets

        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(64), encoding="utf-8")
        path.chmod(0o600)
    return path.read_text(encoding="utf-8").strip()


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"])
if PRODUCTION and "*" in ALLOWED_HOSTS:
    # Without MYNA_PUBLIC_ORIGIN the origin the card must have signed comes from the Host header,
    # and Channels' WebSocket origin check is ALLOWED_HOSTS: "*" would let any site's origin pass
    # both (architecture.md, trust model 1).
    raise ImproperlyConfigured("ALLOWED_HOSTS must name the site's hosts in production, not '*'")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "daphne",  # first: `runserver` then serves WebSockets too
    # The admin with django-otp's second factor (staff/admin_config.py).
    "staff.admin_config.OTPAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "channels",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "reservations",
    "reset",
    "kiosk",
    "staff",
]

MIDDLEWARE = [
    # The request ID first, so every later log line of the request carries it.
    "webapp.request_id.RequestIdMiddleware",
    # Probes next: no HTTPS redirect, host check, session or CSRF work (webapp/health.py).
    "webapp.health.HealthCheckMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "webapp.security_headers.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # After auth: marks request.user verified by a second factor, then ends idle staff sessions.
    "django_otp.middleware.OTPMiddleware",
    "staff.idle.StaffIdleTimeoutMiddleware",
    # An assisted booking's resident progress → the clerk's console (reset/assisted_relay.py).
    "reset.assisted_relay.AssistedProgressMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "webapp.urls"
WSGI_APPLICATION = None
ASGI_APPLICATION = "webapp.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "webapp.context_processors.site",
            ],
        },
    },
]

# --- Database: SQLite is the embedded default; PostgreSQL in production ------------------------
DB_ENGINE = env_str("DB_ENGINE", "sqlite")
DATABASES: dict[str, dict[str, Any]]
if DB_ENGINE == "sqlite":
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": env_str("DB_NAME", str(VAR_DIR / "myna-reset.sqlite3")),
        }
    }
elif DB_ENGINE == "postgres":
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": env_str("DB_NAME", "myna_reset"),
            "USER": env_str("DB_USER", ""),
            "PASSWORD": env_str("DB_PASSWORD", ""),
            "HOST": env_str("DB_HOST", ""),
            "PORT": env_str("DB_PORT", ""),
            "CONN_MAX_AGE": env_int("DB_CONN_MAX_AGE", 60, minimum=0),
            # A connection to a database that is down fails fast and the request gets an answer;
            # `/readyz` depends on it (docs/deployment.md, "when PostgreSQL restarts").
            "CONN_HEALTH_CHECKS": True,
            "OPTIONS": {"connect_timeout": env_int("DB_CONNECT_TIMEOUT", 5, minimum=1)},
        }
    }
else:
    raise ImproperlyConfigured(f"DB_ENGINE must be 'sqlite' or 'postgres', not {DB_ENGINE!r}")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Channel layer: in-memory by default, Redis when REDIS_URL is set --------------------------
REDIS_URL = env_str("REDIS_URL", "")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            # channels_redis waits for messages with a 5 s blocking pop; redis-py 8 gives every
            # socket read a 5 s timeout by default, so an idle consumer (a face check between
            # frames' replies, any WebSocket open > 5 s) died with "Timeout reading". The read
            # timeout must outlast the blocking pop (measured: tests/test_deploy_stack.py).
            "CONFIG": {"hosts": [{"address": REDIS_URL, "socket_timeout": 30}]},
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# --- Language and time --------------------------------------------------------------------------
LANGUAGE_CODE = "ja"
LANGUAGES = [("ja", _("日本語")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Tokyo"
USE_I18N = True
USE_TZ = True

# --- Static files (whitenoise) -------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Outside production whitenoise serves straight from the source folders, so no collectstatic
# is needed between edits; production serves hashed, compressed files from STATIC_ROOT.
WHITENOISE_USE_FINDERS = not PRODUCTION
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# --- Uploads --------------------------------------------------------------------------------------
# A card-front still (cardface, at most 4 MB) must stay in memory: Django spools larger
# request bodies to a temporary file, and a photo of the card face is never written to disk.
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# --- Sessions and security ---------------------------------------------------------------
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 60 * 60, minimum=300)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
# The card page's JSON endpoints answer a CSRF failure with a reason code, not an HTML page.
CSRF_FAILURE_VIEW = "reset.api_views.csrf_failure"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", PRODUCTION)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", PRODUCTION)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", PRODUCTION)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000 if PRODUCTION else 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", PRODUCTION)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
BEHIND_TLS_PROXY = env_bool("BEHIND_TLS_PROXY", False)
if BEHIND_TLS_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Believe the proxy's X-Request-ID (webapp/request_id.py); only a proxy that sets it may be trusted.
MYNA_TRUST_REQUEST_ID = env_bool("MYNA_TRUST_REQUEST_ID", BEHIND_TLS_PROXY)

# --- myna-reset -----------------------------------------------------------------------------------
# Where the page finds the local helper (myna-bridge) on the resident's machine.
MYNA_BRIDGE_URL = env_str("MYNA_BRIDGE_URL", "ws://127.0.0.1:9581/")
# What the page needs of the helper (issue 17): the API level it speaks in HELLO and the oldest
# helper version it accepts; an older helper gets the page's update message.
MYNA_BRIDGE_API_LEVEL = env_int("MYNA_BRIDGE_API_LEVEL", 1, minimum=1)
MYNA_BRIDGE_MIN_VERSION = env_str("MYNA_BRIDGE_MIN_VERSION", "0.1.0")
if not re.fullmatch(r"[0-9]+(\.[0-9]+){0,3}", MYNA_BRIDGE_MIN_VERSION):
    raise ImproperlyConfigured("MYNA_BRIDGE_MIN_VERSION must look like 0.1.0")
# Where scripts/build-helper.sh put the helper downloads (helper.json + artifacts); the site
# serves the files that manifest lists. Nothing built there: the page says the download is not
# available yet instead of offering a broken link.
MYNA_HELPER_DOWNLOADS_DIR = Path(
    env_str("MYNA_HELPER_DOWNLOADS_DIR", str(BASE_DIR / "dist" / "helper"))
)
# Trust anchors for card evidence: "sim" = the simulator's test PKI (development and tests);
# otherwise a directory holding J-LIS roots (*.pem / *.der) and CV CA keys (docs/trust-anchors.md).
MYNA_TRUST_ANCHORS = env_str("MYNA_TRUST_ANCHORS", "sim")
if PRODUCTION and MYNA_TRUST_ANCHORS == "sim":
    raise ImproperlyConfigured(
        "MYNA_TRUST_ANCHORS must name a directory of real anchors in production"
    )
# The origin the card signs into its evidence (scheme://host[:port]); empty = from the request.
MYNA_PUBLIC_ORIGIN = env_str("MYNA_PUBLIC_ORIGIN", "").rstrip("/")
# The card signs the origin byte for byte (docs/evidence.md §1): a spelling the browser would never
# send (upper case, a path) could match no evidence, so it stops start-up instead.
if MYNA_PUBLIC_ORIGIN and not ORIGIN_PATTERN.fullmatch(MYNA_PUBLIC_ORIGIN):
    raise ImproperlyConfigured(
        "MYNA_PUBLIC_ORIGIN must be a lower-case origin like https://reset.example.jp (no path)"
    )
MYNA_RESERVATION_HOURS = env_int("MYNA_RESERVATION_HOURS", 24, minimum=1, maximum=72)
MYNA_WIZARD_MAX_AGE_SECONDS = env_int("MYNA_WIZARD_MAX_AGE_SECONDS", 30 * 60, minimum=60)
# Time that can be extended (WCAG 2.2.1): the page warns this long before the wizard expires (at
# least 20 s to react), and "more time" grants a fresh lifetime at least ten times over.
MYNA_WIZARD_WARN_SECONDS = env_int("MYNA_WIZARD_WARN_SECONDS", 120, minimum=20)
MYNA_WIZARD_EXTENSIONS = env_int("MYNA_WIZARD_EXTENSIONS", 10, minimum=10, maximum=100)
if MYNA_WIZARD_WARN_SECONDS >= MYNA_WIZARD_MAX_AGE_SECONDS:
    raise ImproperlyConfigured("MYNA_WIZARD_WARN_SECONDS must be less than the wizard's lifetime")
MYNA_NONCE_TTL_SECONDS = env_int("MYNA_NONCE_TTL_SECONDS", 300, minimum=30, maximum=900)
MYNA_EVIDENCE_ATTEMPTS = env_int("MYNA_EVIDENCE_ATTEMPTS", 5, minimum=1)
# Card-face camera reads per session per hour (OCR costs a second or two of CPU each).
MYNA_CARDFACE_ATTEMPTS = env_int("MYNA_CARDFACE_ATTEMPTS", 20, minimum=1)
MYNA_FACE_ATTEMPTS = env_int("MYNA_FACE_ATTEMPTS", 3, minimum=1)
# 0 = the face engine's calibrated default.
MYNA_FACE_THRESHOLD = env_float("MYNA_FACE_THRESHOLD", 0.0, minimum=0.0, maximum=2.0)
# Face worker processes per server process (faceverify/workers.py); 0 runs face work on threads
# of the server process itself. Default: one per core.
MYNA_FACE_WORKERS = env_int("MYNA_FACE_WORKERS", os.cpu_count() or 1, minimum=0, maximum=64)
# A frame is answered before its embedding is computed, by an embedding helper beside each worker
# (faceverify/worker_process.py); 0 puts every embedding back on its frame's critical path (the
# load benchmark's baseline).
MYNA_FACE_EMBED_AFTER_ANSWER = env_bool("MYNA_FACE_EMBED_AFTER_ANSWER", True)


def _time_of_day(name: str, default: str) -> str:
    """Kiosk hours, JST, HH:MM (peers.md: 06:30–23:00): a typo stops start-up, not the done page."""
    value = env_str(name, default)
    if not re.fullmatch(r"([01]?[0-9]|2[0-3]):[0-5][0-9]", value):
        raise ImproperlyConfigured(f"{name} must be a time of day like 06:30 (HH:MM, 24-hour)")
    return value


MYNA_KIOSK_OPENS = _time_of_day("MYNA_KIOSK_OPENS", "06:30")
MYNA_KIOSK_CLOSES = _time_of_day("MYNA_KIOSK_CLOSES", "23:00")
if MYNA_KIOSK_OPENS == MYNA_KIOSK_CLOSES:
    raise ImproperlyConfigured("MYNA_KIOSK_OPENS and MYNA_KIOSK_CLOSES must differ")
# Which stores' kiosks reset which password (JSON; empty = reservations/kiosk_stores.json).
# It changes over time (peers.md), so it is data an operator replaces, not code.
MYNA_KIOSK_STORES_FILE = env_str("MYNA_KIOSK_STORES_FILE", "")
# The issuer behind the kiosk's password reset (kiosk/issuer.py, docs/issuer-channel.md).
# "simulated" = our own stand-in, whose master key is MYNA_ISSUER_MASTER_KEY (64 hex digits, or
# MYNA_ISSUER_MASTER_KEY_FILE) or, when empty, the simulator's development key shared with the
# simulated cards. A real deployment names a dotted path to an IssuerBackend that holds the key
# in an HSM and talks to J-LIS; production refuses to start with the simulated one.
MYNA_ISSUER_BACKEND = env_str("MYNA_ISSUER_BACKEND", "simulated")
MYNA_ISSUER_MASTER_KEY = env_str("MYNA_ISSUER_MASTER_KEY", "")
if MYNA_ISSUER_MASTER_KEY and not re.fullmatch(r"[0-9a-fA-F]{64}", MYNA_ISSUER_MASTER_KEY):
    raise ImproperlyConfigured("MYNA_ISSUER_MASTER_KEY must be 64 hexadecimal digits (32 bytes)")
if PRODUCTION and MYNA_ISSUER_BACKEND == "simulated":
    raise ImproperlyConfigured(
        "MYNA_ISSUER_BACKEND must name a real IssuerBackend in production (an HSM-held issuer "
        "key and J-LIS's channel; see docs/issuer-channel.md): the simulated issuer resets "
        "only simulated cards"
    )
# Seconds without a touch after which the kiosk returns to its top screen and forgets all.
MYNA_KIOSK_IDLE_SECONDS = env_int("MYNA_KIOSK_IDLE_SECONDS", 90, minimum=10, maximum=600)

# --- Staff console (issue 12) ------------------------------------------------------------------
LOGIN_URL = "staff:login"
# Seconds without a request after which a staff session ends (staff/idle.py).
MYNA_STAFF_IDLE_SECONDS = env_int("MYNA_STAFF_IDLE_SECONDS", 15 * 60, minimum=60, maximum=8 * 3600)
# The name authenticator apps show next to a staff user's TOTP codes.
OTP_TOTP_ISSUER = env_str("OTP_TOTP_ISSUER", "myna-reset")

# One JSON object per line in production (webapp/logs.py); the readable line in development.
LOG_FORMAT = env_str("LOG_FORMAT", "json" if PRODUCTION else "plain")
if LOG_FORMAT not in ("json", "plain"):
    raise ImproperlyConfigured(f"LOG_FORMAT must be 'json' or 'plain', not {LOG_FORMAT!r}")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "webapp.logs.RequestIdFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {"()": "webapp.logs.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}
