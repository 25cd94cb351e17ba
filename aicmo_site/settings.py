"""Settings for AICMO, read from the environment with safe local defaults.

Local default: SQLite and Celery's filesystem broker under ``var/`` (no servers needed).
Production: set ``DATABASE_URL`` (PostgreSQL), ``CELERY_BROKER_URL`` (Redis), ``SECRET_KEY``,
``ALLOWED_HOSTS``, ``DEBUG=0`` and, for real email, ``EMAIL_BACKEND`` plus the ESP's anymail keys.
"""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("AICMO_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), got {raw!r}")


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be an integer, got {raw!r}") from exc


DEBUG = env_bool("DEBUG", True)
_DEV_SECRET = "dev-only-insecure-key-change-me-0123456789-abcdefghijklmnopqrstuvwxyz"
SECRET_KEY = os.environ.get("SECRET_KEY", _DEV_SECRET if DEBUG else "")
if not SECRET_KEY:
    raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
# Public base URL used in links we put into emails (unsubscribe, tracking).
PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "http://localhost:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "simple_history",
    "anymail",
    "campaigns",
    "strategy",
    "creative",
    "leads",
    "outreach",
    "reporting",
    "demo",
    "aicmo_site.apps.RuntimeConfig",  # last: tunes the garbage collector once every app is ready
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
]

ROOT_URLCONF = "aicmo_site.urls"
WSGI_APPLICATION = "aicmo_site.wsgi.application"
ASGI_APPLICATION = "aicmo_site.asgi.application"

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
                # Lazy: the system-pause banner costs one cached query, only on pages that show it.
                "campaigns.context_processors.system_pause",
            ],
        },
    },
]

# --- database -------------------------------------------------------------------------------
_DEFAULT_SQLITE = f"sqlite:///{VAR_DIR / 'aicmo.sqlite3'}"
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or _DEFAULT_SQLITE,
        conn_max_age=env_int("DB_CONN_MAX_AGE", 0),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    if DATABASES["default"]["NAME"] not in ("", ":memory:"):
        Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    # Web, worker and beat share one file: WAL lets readers proceed while one writer writes,
    # IMMEDIATE makes a writing transaction take the lock up front instead of failing midway.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "campaigns.User"

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
STATIC_ROOT = VAR_DIR / "static"
MEDIA_ROOT = VAR_DIR / "media"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# --- REST API ---------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "aicmo_site.pagination.StandardPagination",
    "PAGE_SIZE": 25,
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": os.environ.get("API_THROTTLE_ANON", "60/min"),
        "user": os.environ.get("API_THROTTLE_USER", "1200/min"),
    },
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "aicmo_site.api_errors.exception_handler",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "AICMO Campaign OS API",
    "DESCRIPTION": (
        "Client-facing API. Authenticate with `Authorization: Token <key>`. "
        "Every list and detail is scoped to the caller's client; an id of another client is a 404."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # One name per choice set, so generated clients get stable enum names.
    "ENUM_NAME_OVERRIDES": {
        "ChannelEnum": "campaigns.models.CHANNELS",
        "CampaignStateEnum": "campaigns.models.CampaignState",
        "CreativeStateEnum": "creative.models.CreativeState",
        "OperatorTaskStateEnum": "outreach.models.operator_tasks.OperatorTaskState",
    },
}

# --- caching (throttling, locks) -------------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# --- Celery -----------------------------------------------------------------------------------
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "filesystem://")
_BROKER_DIR = VAR_DIR / "celery-broker"
if CELERY_BROKER_URL.startswith("filesystem://"):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_BROKER_DIR / "queue"),
        "data_folder_out": str(_BROKER_DIR / "queue"),
        "processed_folder": str(_BROKER_DIR / "processed"),
        # exchange tables (kombu's default is ./control in the working directory)
        "control_folder": str(_BROKER_DIR / "control"),
        "store_processed": False,
    }
    for _folder in ("queue", "processed", "control"):
        (_BROKER_DIR / _folder).mkdir(parents=True, exist_ok=True)
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 30 * 60)
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 25 * 60)
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Installed into django-celery-beat's tables on beat start-up, then editable in the admin.
CELERY_BEAT_SCHEDULE = {
    "system-heartbeat": {
        "task": "campaigns.tasks.system_heartbeat",
        "schedule": env_int("HEARTBEAT_SECONDS", 30),
    },
    "outreach-run-all": {
        "task": "outreach.tasks.run_all_cycles",
        "schedule": env_int("OUTREACH_CYCLE_SECONDS", 5 * 60),
    },
    "campaign-daily-tick": {
        "task": "campaigns.tasks.campaign_daily_tick",
        "schedule": 24 * 60 * 60,
    },
    "audit-retention": {
        "task": "campaigns.tasks.prune_old_audit_events",
        "schedule": 24 * 60 * 60,
    },
    "operator-daily-tick": {
        "task": "outreach.tasks.operator_daily_tick",
        "schedule": 24 * 60 * 60,
    },
    "operator-weekly-escalation": {
        "task": "outreach.tasks.escalate_overdue_tasks",
        "schedule": 7 * 24 * 60 * 60,
    },
    # Daily: rebuilds last week's and this week's summary per campaign (idempotent per week).
    "reporting-weekly-summaries": {
        "task": "reporting.tasks.weekly_summaries",
        "schedule": 24 * 60 * 60,
    },
}

# --- governance (campaigns app; see docs/governance.md) --------------------------------------
# What one sent email costs; outreach books it to the campaign's spend ledger.
AICMO_COST_PER_EMAIL = Decimal(os.environ.get("AICMO_COST_PER_EMAIL", "0.001"))
# Share of the budget cap at which the owner is warned once (audit + admin message + email).
AICMO_BUDGET_WARNING_RATIO = Decimal(os.environ.get("AICMO_BUDGET_WARNING_RATIO", "0.8"))
# Daily email caps above these are flagged medium / high risk.
AICMO_RISK_HIGH_DAILY_CAP = env_int("AICMO_RISK_HIGH_DAILY_CAP", 200)
AICMO_RISK_VERY_HIGH_DAILY_CAP = env_int("AICMO_RISK_VERY_HIGH_DAILY_CAP", 1000)
# Shares of unverified lead emails flagged medium / high risk (leads feeds this rule).
AICMO_RISK_UNVERIFIED_SHARE_MEDIUM = float(os.environ.get("AICMO_RISK_UNVERIFIED_SHARE_MEDIUM", "0.2"))
AICMO_RISK_UNVERIFIED_SHARE_HIGH = float(os.environ.get("AICMO_RISK_UNVERIFIED_SHARE_HIGH", "0.5"))
# The admin banner reads the system switch through the cache for this long; senders read it fresh.
AICMO_SYSTEM_PAUSE_CACHE_SECONDS = env_int("AICMO_SYSTEM_PAUSE_CACHE_SECONDS", 5)
# Audit events older than this are counted into AuditDailySummary and deleted, except decisions.
AICMO_AUDIT_RETENTION_DAYS = env_int("AICMO_AUDIT_RETENTION_DAYS", 180)
# Verbs never pruned (fnmatch patterns): approvals, rejections, selections, lifecycle, budget,
# overrides (overridden) and the system switch are the decision record.
AICMO_AUDIT_KEEP_VERBS = env_list(
    "AICMO_AUDIT_KEEP_VERBS",
    [
        "*.approved",
        "*.rejected",
        "*.selected",
        "campaign.*",
        "budget.*",
        "override*",
        "*.overrid*",  # risk.overridden, check.override…
        "system.*",
    ],
)

# --- email ------------------------------------------------------------------------------------
# Local default writes each message to var/sent-mail/; choose an ESP with e.g.
# EMAIL_BACKEND=anymail.backends.mailgun.EmailBackend and its ANYMAIL_* / MAILGUN_* variables.
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.filebased.EmailBackend")
EMAIL_FILE_PATH = str(VAR_DIR / "sent-mail")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "AICMO <campaigns@localhost>")
ANYMAIL = {
    # anymail also reads its ESP keys (e.g. ANYMAIL_MAILGUN_API_KEY) from the environment itself.
    "WEBHOOK_SECRET": os.environ.get("ANYMAIL_WEBHOOK_SECRET", ""),
}

# --- process tuning (aicmo_site/apps.py) ------------------------------------------------------
AICMO_GC_TUNING = os.environ.get("AICMO_GC_TUNING", "1") not in ("0", "false", "False", "")
AICMO_GC_THRESHOLD = env_int("AICMO_GC_THRESHOLD", 20_000)

# --- outreach ---------------------------------------------------------------------------------
# Messages claimed per chunk (one claim, one set of checks); they are then sent in slices of at
# most OUTREACH_SEND_SLICE_SECONDS, each under the share lock a kill waits for, so a large chunk
# never makes a pause or kill wait for more than one slice.
OUTREACH_CHUNK_SIZE = env_int("OUTREACH_CHUNK_SIZE", 250)
OUTREACH_SEND_SLICE_SECONDS = float(os.environ.get("OUTREACH_SEND_SLICE_SECONDS", "1.0"))
OUTREACH_MAX_ATTEMPTS = env_int("OUTREACH_MAX_ATTEMPTS", 5)
OUTREACH_RETRY_BASE_SECONDS = env_int("OUTREACH_RETRY_BASE_SECONDS", 60)
OUTREACH_RETRY_CAP_SECONDS = env_int("OUTREACH_RETRY_CAP_SECONDS", 6 * 60 * 60)
# Printed in every email footer ({{ sender_address }}); CAN-SPAM needs a real postal address.
AICMO_SENDER_POSTAL_ADDRESS = os.environ.get(
    "AICMO_SENDER_POSTAL_ADDRESS", "AICMO Agency, 1 Example Street, Springfield"
)
AICMO_UNSUBSCRIBE_MAILTO = os.environ.get("AICMO_UNSUBSCRIBE_MAILTO", "") or None
AICMO_MESSAGE_ID_DOMAIN = os.environ.get("AICMO_MESSAGE_ID_DOMAIN", "aicmo.local")

# --- production hardening (active whenever DEBUG is off) --------------------------------------
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 60 * 60 * 24 * 30)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
    SECURE_CONTENT_TYPE_NOSNIFF = True
    X_FRAME_OPTIONS = "DENY"
