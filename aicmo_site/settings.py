"""Settings for AICMO, read from the environment with safe local defaults.

Local default: SQLite and Celery's filesystem broker under ``var/`` (no servers needed).
Production: set ``DATABASE_URL`` (PostgreSQL), ``CELERY_BROKER_URL`` (Redis), ``SECRET_KEY``,
``ALLOWED_HOSTS``, ``DEBUG=0``, ``ANYMAIL_WEBHOOK_SECRET`` (ESP webhooks are refused without it) and,
for real email, ``EMAIL_BACKEND`` plus the ESP's anymail keys (its webhook signing key among them).
"""

from __future__ import annotations

import datetime as dt
import os
from decimal import Decimal
from pathlib import Path

import dj_database_url
from csp import constants as csp_constants
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
# Previous keys, still accepted when verifying signatures (unsubscribe links already sent,
# sessions): rotate SECRET_KEY without breaking them (docs/SECURITY.md).
SECRET_KEY_FALLBACKS = env_list("SECRET_KEY_FALLBACKS", [])
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
# Public base URL used in links we put into emails (unsubscribe, tracking).
PUBLIC_BASE_URL = os.environ.get(
    "PUBLIC_BASE_URL",
    f"http://localhost:{os.environ.get('AICMO_PORT') or 8000}",  # make run's port
).rstrip("/")

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
    "axes",  # admin login lockout (AXES_* below)
    "csp",  # Content-Security-Policy header (CONTENT_SECURITY_POLICY below)
    "campaigns",
    "strategy",
    "creative",
    "leads",
    "outreach",
    "reporting",
    "webhooks",  # outbound event webhooks (docs/webhooks.md)
    "deliverables",  # delivery packages and scheduled client reports (docs/deliverables.md)
    "demo",
    "aicmo_site.apps.RuntimeConfig",  # last: tunes the garbage collector once every app is ready
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Before anything reads the body: oversized requests and Django's own body limits answer a
    # JSON 413/400 naming the limit (AICMO_MAX_* below, docs/SECURITY.md "Input limits").
    "aicmo_site.request_limits.RequestLimitsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # last, as django-axes asks: turns a locked-out login into its 429 answer
    "axes.middleware.AxesMiddleware",
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
# Connections are kept for a minute and checked before each request or task reuses them: a new
# PostgreSQL connection per Celery task (a backend started, its catalog caches cold) cost a send
# cycle a tenth of its CPU in the worker and the database (docs/PERFORMANCE.md). A connection lost
# to a database restart fails its check and is replaced. Set 0 behind pgbouncer in transaction mode.
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or _DEFAULT_SQLITE,
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60),
        conn_health_checks=True,
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
# First: refuses locked-out logins (django-axes) and, with DEBUG off, the demo accounts' published
# passwords; then Django's own backend authenticates (aicmo_site/auth_backends.py).
AUTHENTICATION_BACKENDS = [
    "aicmo_site.auth_backends.LoginGuardBackend",
    "django.contrib.auth.backends.ModelBackend",
]

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
        # TokenAuthentication that answers 429 after AICMO_AUTH_FAILURE_LIMIT failures per address
        "aicmo_site.authentication.ThrottledTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # Every write endpoint names its action; who may take it is decided in campaigns.permissions.
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "campaigns.api_permissions.ActionPermission",
    ],
    "DEFAULT_PAGINATION_CLASS": "aicmo_site.pagination.StandardPagination",
    "PAGE_SIZE": 25,
    "DEFAULT_THROTTLE_CLASSES": [
        # DRF's anon/user throttles, letting requests through (with a warning) while the cache is down
        "aicmo_site.throttling.FailOpenAnonRateThrottle",
        "aicmo_site.throttling.FailOpenUserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": os.environ.get("API_THROTTLE_ANON", "60/min"),
        "user": os.environ.get("API_THROTTLE_USER", "1200/min"),
        # POST /api/v1/auth/token/ per client address (aicmo_site/auth_api.py)
        "auth_token": os.environ.get("API_THROTTLE_AUTH_TOKEN", "10/min"),
    },
    # tags per resource, summaries, staff-only marks and 401/403 answers, in one place
    "DEFAULT_SCHEMA_CLASS": "aicmo_site.openapi.AicmoAutoSchema",
    "EXCEPTION_HANDLER": "aicmo_site.api_errors.exception_handler",
    # JSON with a depth check before parsing (AICMO_MAX_JSON_DEPTH); form and multipart as DRF's.
    "DEFAULT_PARSER_CLASSES": [
        "aicmo_site.request_limits.DepthLimitedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "AICMO Campaign OS API",
    "DESCRIPTION": (
        "Client-facing API. Every list and detail is scoped to the caller's client; an id of another "
        "client is a 404.\n\n"
        "**Authenticate** with the header `Authorization: Token <key>` (the word `Token`, a space, the "
        "key). Get the key with `POST /api/v1/auth/token/` and your username and password:\n\n"
        "```\ncurl -X POST -d username=acme-api -d password=… $BASE/api/v1/auth/token/\n"
        "curl -H 'Authorization: Token <key>' $BASE/api/v1/campaigns/\n```\n\n"
        "(`$BASE`: where this page is served, e.g. `http://127.0.0.1:8000`.) "
        "Here: *Authorize* → `tokenAuth` → type `Token <key>`.\n\n"
        "**401** means not authenticated: no header, an unknown or revoked key, or the key without the "
        "word `Token`. **403** means authenticated but not allowed: the answer names the permission, "
        "the role that has it and yours. Operations marked *(staff only)* are for agency staff; a "
        "client user gets 403. **429**: too many requests, or too many failed keys or logins from your "
        "address (`Retry-After` says when to try again)."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Every operation with a request body documents its 413 (input limits, request_limits.py).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "aicmo_site.request_limits.document_limit_responses",
        # the resource tags in order, and the token first in Swagger's Authorize dialog
        "aicmo_site.openapi.tags_and_token_first",
    ],
    # One name per choice set, so generated clients get stable enum names.
    "ENUM_NAME_OVERRIDES": {
        "ChannelEnum": "campaigns.models.CHANNELS",
        "CampaignStateEnum": "campaigns.models.CampaignState",
        "CreativeStateEnum": "creative.models.CreativeState",
        "OperatorTaskStateEnum": "outreach.models.operator_tasks.OperatorTaskState",
    },
}

# --- input limits (docs/SECURITY.md "Input limits"; aicmo_site/request_limits.py, leads/importers/) ---
# Largest request body of any kind (a CSV upload, multipart or text/csv): 413 above it. A file of
# 1,000,000 leads (8 columns) is ~85 MB.
AICMO_MAX_UPLOAD_BYTES = env_int("AICMO_MAX_UPLOAD_BYTES", 100 * 1024 * 1024)
# Largest JSON (or form) body: 413 above it. 10,000 pushed leads with every field at its maximum
# length fit. Django's own body limit is the same number, so both answer alike.
AICMO_MAX_JSON_BODY_BYTES = env_int("AICMO_MAX_JSON_BODY_BYTES", 16 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = AICMO_MAX_JSON_BODY_BYTES
# Deepest nesting of arrays and objects in a JSON body: 400 above it (checked before parsing).
AICMO_MAX_JSON_DEPTH = env_int("AICMO_MAX_JSON_DEPTH", 32)
# Cells per CSV row (header included) and characters per cell: 400 above either, checked as the
# file streams, before a row is held in memory.
AICMO_MAX_CSV_COLUMNS = env_int("AICMO_MAX_CSV_COLUMNS", 500)
AICMO_MAX_CSV_CELL_CHARS = env_int("AICMO_MAX_CSV_CELL_CHARS", 10_000)
# Leads per API push (POST /api/v1/campaigns/{id}/leads/): 400 above it; larger lists go as a CSV.
AICMO_MAX_PUSH_ROWS = env_int("AICMO_MAX_PUSH_ROWS", 10_000)
# Multipart uploads are counted as they stream (a body without a truthful Content-Length).
FILE_UPLOAD_HANDLERS = [
    "aicmo_site.request_limits.UploadSizeLimitHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]

# --- caching (throttling, locks) -------------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
# Short socket timeouts: an unreachable Redis must fail fast (the throttles then fail open) rather
# than hang every API request.
_REDIS_TIMEOUT = float(os.environ.get("REDIS_CACHE_TIMEOUT_SECONDS", "2"))
CACHES = {
    "default": (
        {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": _REDIS_TIMEOUT, "socket_timeout": _REDIS_TIMEOUT},
        }
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# --- brute force: failed API tokens, admin logins (docs/SECURITY.md) ---------------------------
# Behind reverse proxies: how many append to X-Forwarded-For (0: the TCP peer is the client).
AICMO_TRUSTED_PROXY_COUNT = env_int("AICMO_TRUSTED_PROXY_COUNT", 0)
# This many failed token authentications from one address within the window → 429 until it ends.
AICMO_AUTH_FAILURE_LIMIT = env_int("AICMO_AUTH_FAILURE_LIMIT", 10)
AICMO_AUTH_FAILURE_WINDOW_SECONDS = env_int("AICMO_AUTH_FAILURE_WINDOW_SECONDS", 300)
# django-axes: the admin login locks a username + address pair after this many failures, for the
# cool-off (counted from the last failure; a failure while locked restarts it). The attempts are
# in the database (not the cache), so a Redis outage does not lift the lockout.
# Unlock: `manage.py axes_reset` (all), `axes_reset_username NAME`, `axes_reset_ip ADDRESS`.
AXES_FAILURE_LIMIT = env_int("AICMO_LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = dt.timedelta(minutes=env_int("AICMO_LOGIN_COOLOFF_MINUTES", 30))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "aicmo_site.client_address.client_address"
AXES_HTTP_RESPONSE_CODE = 429

# --- Content-Security-Policy (django-csp 4) ----------------------------------------------------
# Scripts only from our own origin (no inline script anywhere; the API docs pages' two inline
# scripts carry the per-request nonce: templates/drf_spectacular/). Styles allow inline because the
# admin templates use style attributes; scripts are what the policy is for.
_CSP_DIRECTIVES = {
    "default-src": [csp_constants.SELF],
    "script-src": [csp_constants.SELF, csp_constants.NONCE],
    "style-src": [csp_constants.SELF, csp_constants.UNSAFE_INLINE],
    "img-src": [csp_constants.SELF, "data:"],
    "font-src": [csp_constants.SELF],
    "connect-src": [csp_constants.SELF],
    # ReDoc runs its search index in a worker it creates from a blob: URL
    "worker-src": [csp_constants.SELF, "blob:"],
    "object-src": [csp_constants.NONE],
    "base-uri": [csp_constants.SELF],
    "form-action": [csp_constants.SELF],
    "frame-ancestors": [csp_constants.NONE],
}
if os.environ.get("CSP_REPORT_URI"):
    _CSP_DIRECTIVES["report-uri"] = [os.environ["CSP_REPORT_URI"]]
# CSP_REPORT_ONLY=1 sends the same policy as Content-Security-Policy-Report-Only (trying a change).
if env_bool("CSP_REPORT_ONLY", False):
    CONTENT_SECURITY_POLICY_REPORT_ONLY = {"DIRECTIVES": _CSP_DIRECTIVES}
else:
    CONTENT_SECURITY_POLICY = {"DIRECTIVES": _CSP_DIRECTIVES}

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
# Broker outages (tests/integration/test_broker_outage.py): a worker outlives Redis going away and
# coming back, busy or idle. kombu's stock Redis transport kills a worker running a task on the
# first lost connection (aicmo_site/celery.py says why); RedisTransport closes cleanly.
if CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    CELERY_BROKER_TRANSPORT = "aicmo_site.celery:RedisTransport"
if CELERY_BROKER_URL.startswith("rediss://"):
    # TLS to Redis. With our transport named, kombu does not see the rediss scheme (which would turn
    # TLS on with certificates *unchecked*): the options come from the URL's query, and the server's
    # certificate is verified unless it says ssl_cert_reqs=none (aicmo_site/broker_tls.py).
    from .broker_tls import broker_ssl_options

    CELERY_BROKER_USE_SSL = broker_ssl_options(CELERY_BROKER_URL)
# Retry the connection for as long as the broker is away (Celery gives up after 100 attempts, about
# 45 minutes, and stops), also when it is away as the worker starts.
CELERY_BROKER_CONNECTION_RETRY = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
# A task running when the connection drops runs to its end rather than being killed (as Celery 6
# will do by default): tasks are idempotent and a send is claimed in the database, so if Redis hands
# the message out again the second run finds nothing left to do; a kill would cut a cycle mid-send.
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = False
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 30 * 60)
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 25 * 60)
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Celery's Django fix-up closes every database connection around each task; with this it does so
# only every thousandth task, and between them aicmo_site/celery.py applies DB_CONN_MAX_AGE and the
# health check around each task as Django does around each request.
CELERY_DB_REUSE_MAX = 1000
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Campaign cycles have their own queue, so a backlog of them never holds up beat's other tasks;
# every worker must consume both (Procfile: -Q celery,cycles).
CELERY_TASK_ROUTES = {"outreach.tasks.run_campaign_cycle": {"queue": "cycles"}}
# Installed into django-celery-beat's tables on beat start-up, then editable in the admin.
CELERY_BEAT_SCHEDULE = {
    "system-heartbeat": {
        "task": "campaigns.tasks.system_heartbeat",
        "schedule": env_int("HEARTBEAT_SECONDS", 30),
    },
    # The entry keeps its name (beat updates the stored row by name); its task fans out: one
    # run_campaign_cycle per due campaign on the "cycles" queue (outreach/services/cycle.py).
    "outreach-run-all": {
        "task": "outreach.tasks.dispatch_campaign_cycles",
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
    # Daily: SPF, DKIM, DMARC, MX of every active mailbox's domain; a failure pauses the mailbox.
    "sender-readiness-daily": {
        "task": "outreach.readiness_tasks.recheck_sender_readiness",
        "schedule": 24 * 60 * 60,
    },
    # Daily: rebuilds last week's and this week's summary per campaign (idempotent per week).
    "reporting-weekly-summaries": {
        "task": "reporting.tasks.weekly_summaries",
        "schedule": 24 * 60 * 60,
    },
    # Client deliverables (docs/deliverables.md): drafts of the reports whose period ended, and
    # the sending of approved ones, daily; a package after each strategy or creative approval.
    "deliverables-client-reports": {
        "task": "deliverables.tasks.client_reports",
        "schedule": 24 * 60 * 60,
    },
    "deliverables-milestone-packages": {
        "task": "deliverables.tasks.milestone_packages",
        "schedule": env_int("AICMO_DELIVERABLES_PACKAGE_SECONDS", 10 * 60),
    },
    # The reply inbox: one poll task per mailbox with IMAP settings (docs/reply-inbox.md).
    "reply-inbox-poll": {
        "task": "outreach.inbox_tasks.poll_reply_inboxes",
        "schedule": env_int("AICMO_REPLY_POLL_SECONDS", 2 * 60),
    },
    # Outbound webhooks: fans new outbox events out and sends what is due (docs/webhooks.md).
    "webhooks-dispatch": {
        "task": "webhooks.tasks.dispatch_webhooks",
        "schedule": env_int("AICMO_WEBHOOKS_DISPATCH_SECONDS", 10),
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
# A provider call never hangs a send thread: SMTP's socket timeout (anymail's HTTP calls have their
# own, 30 s). The cycles worker's threads pool has no task time limit to fall back on.
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 30)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "AICMO <campaigns@localhost>")
# "Send a test to me" (creative/services/test_send.py): test emails per user in any hour.
CREATIVE_TEST_SENDS_PER_HOUR = env_int("CREATIVE_TEST_SENDS_PER_HOUR", 10)
ANYMAIL = {
    # anymail reads only Django settings, never the environment: every ANYMAIL_<NAME> variable that
    # holds a credential (…_KEY, …_SECRET, …_TOKEN: ANYMAIL_MAILGUN_API_KEY,
    # ANYMAIL_MAILGUN_WEBHOOK_SIGNING_KEY, …) becomes ANYMAIL["<NAME>"]. With DEBUG off webhooks are
    # refused without WEBHOOK_SECRET and their ESP's signing key (docs/SECURITY.md).
    **{
        name.removeprefix("ANYMAIL_"): value
        for name, value in os.environ.items()
        if name.startswith("ANYMAIL_") and name.endswith(("_KEY", "_SECRET", "_TOKEN")) and value
    },
    "WEBHOOK_SECRET": os.environ.get("ANYMAIL_WEBHOOK_SECRET", ""),
}

# --- process tuning (aicmo_site/apps.py) ------------------------------------------------------
AICMO_GC_TUNING = os.environ.get("AICMO_GC_TUNING", "1") not in ("0", "false", "False", "")
AICMO_GC_THRESHOLD = env_int("AICMO_GC_THRESHOLD", 20_000)

# --- outreach ---------------------------------------------------------------------------------
# A claim covers what starts at once: calls slower than a claim's own database round trip (an ESP's
# API) are claimed as many as there are free send threads (a sliding window), so a crash leaves
# exactly the calls in flight uncertain; faster ones as many as fit in OUTREACH_SEND_SLICE_SECONDS,
# at most OUTREACH_CHUNK_SIZE (outreach SlicePace). A pause or kill commits at once and returns once
# the calls in flight are recorded (at most OUTREACH_STOP_WAIT_SECONDS).
OUTREACH_CHUNK_SIZE = env_int("OUTREACH_CHUNK_SIZE", 250)
OUTREACH_SEND_SLICE_SECONDS = float(os.environ.get("OUTREACH_SEND_SLICE_SECONDS", "1.0"))
# Provider calls one worker process has in flight at once: a thread per call, each with its own
# backend connection (the calls wait on the ESP's network; the database writes stay on one thread).
OUTREACH_SEND_CONCURRENCY = env_int("OUTREACH_SEND_CONCURRENCY", 16)
OUTREACH_STOP_WAIT_SECONDS = env_int("OUTREACH_STOP_WAIT_SECONDS", 15)
# A run claims once a quarter of its send threads are free; when the machine's CPUs are this busy
# (a fraction; 0 turns it off) it waits for half: fewer transactions per message (sending MachineLoad).
OUTREACH_BUSY_MACHINE_CPU = float(os.environ.get("OUTREACH_BUSY_MACHINE_CPU", "0.8"))
OUTREACH_MAX_ATTEMPTS = env_int("OUTREACH_MAX_ATTEMPTS", 5)
# A message still `sending` this long after its claim was left by a dead worker (longer than any
# cycle runs: CELERY_TASK_TIME_LIMIT): the sweep makes it `unknown` (a dry run goes back to `scheduled`).
OUTREACH_SENDING_STALE_SECONDS = env_int("OUTREACH_SENDING_STALE_SECONDS", 30 * 60)
# An `unknown` message with no provider event (delivered, bounce, open, click) this long after its
# claim counts as sent, once: its sequence moves on and the admin counts it ("assumed sent").
OUTREACH_UNKNOWN_RESOLVE_SECONDS = env_int("OUTREACH_UNKNOWN_RESOLVE_SECONDS", 60 * 60)
# A send run that loses its database connection (a restart, a failover) keeps the answers of its
# calls in flight and writes them once it reconnects, trying for this long (outreach/services/outage.py);
# past it the run stops and the sweep settles what it held. Shorter than the cycle lease below.
OUTREACH_DATABASE_OUTAGE_SECONDS = env_int("OUTREACH_DATABASE_OUTAGE_SECONDS", 60)
# A cycle's lease: renewed while the cycle runs, so a dead holder frees its campaign this soon.
AICMO_CYCLE_LEASE_SECONDS = env_int("AICMO_CYCLE_LEASE_SECONDS", 120)
# Beat's dispatcher enqueues a campaign with nothing due to send once it has had no cycle this long
# (new leads, a new day's room under the cap, the time-based auto-pause rule).
AICMO_CYCLE_IDLE_SECONDS = env_int("AICMO_CYCLE_IDLE_SECONDS", 15 * 60)
OUTREACH_RETRY_BASE_SECONDS = env_int("OUTREACH_RETRY_BASE_SECONDS", 60)
OUTREACH_RETRY_CAP_SECONDS = env_int("OUTREACH_RETRY_CAP_SECONDS", 6 * 60 * 60)
# --- senders (docs/senders.md) ---
# The footer's postal address ({{ sender_address }}) is the client's or campaign's sender identity:
# there is no site-wide default (live email without one is refused at activation).
# Fernet keys encrypting mailbox passwords, comma-separated: the first encrypts, all decrypt
# (rotation: put a new key first, run `manage.py rotate_mailbox_secrets`, then drop the old one).
# Required with DEBUG off (check outreach.E010); with DEBUG on, empty derives one from SECRET_KEY.
AICMO_SECRET_KEYS = os.environ.get("AICMO_SECRET_KEYS", "")
# DNS servers for sender readiness and DKIM key look-ups, "host:port,…" (empty: the system's).
AICMO_DNS_NAMESERVERS = os.environ.get("AICMO_DNS_NAMESERVERS", "")
# How long one readiness look-up waits for an answer (seconds).
AICMO_DNS_LOOKUP_SECONDS = float(os.environ.get("AICMO_DNS_LOOKUP_SECONDS", "4"))
# What a sending domain's SPF record must include for the sending service (e.g. "mailgun.org");
# empty: any SPF record that ends in a fail or softfail counts.
AICMO_SPF_INCLUDE = os.environ.get("AICMO_SPF_INCLUDE", "")
# The DKIM selector looked up (<selector>._domainkey.<domain>) for mailboxes that set none.
AICMO_DKIM_SELECTOR = os.environ.get("AICMO_DKIM_SELECTOR", "aicmo")
# An email creative whose SpamAssassin local score is above this fails its checks (creative/checks/spam.py).
_SPAM_SCORE_MAX = os.environ.get("AICMO_SPAM_SCORE_MAX", "5.0").strip().lower()
# "off": email creatives are not scored (the check says nothing); a number: the blocking score.
AICMO_SPAM_SCORE_MAX = None if _SPAM_SCORE_MAX in ("off", "none", "") else float(_SPAM_SCORE_MAX)
# Pacing (docs/senders.md §4): the least time between two sends of one mailbox, plus a random
# 0..jitter seconds each time (0 and 0: no gap), and emails a day per recipient company domain per
# campaign (0: no limit; a campaign's send schedule may set its own).
AICMO_MAILBOX_MIN_GAP_SECONDS = env_int("AICMO_MAILBOX_MIN_GAP_SECONDS", 60)
AICMO_MAILBOX_GAP_JITTER_SECONDS = env_int("AICMO_MAILBOX_GAP_JITTER_SECONDS", 30)
AICMO_DOMAIN_DAILY_LIMIT = env_int("AICMO_DOMAIN_DAILY_LIMIT", 1)
# Mailbox health (docs/senders.md §5): over the last N days, with at least MIN_SAMPLE emails sent,
# a mailbox (or a sending domain) whose hard-bounce or complaint rate is over these pauses itself.
AICMO_MAILBOX_HARD_BOUNCE_RATE = float(os.environ.get("AICMO_MAILBOX_HARD_BOUNCE_RATE", "0.02"))
AICMO_MAILBOX_COMPLAINT_RATE = float(os.environ.get("AICMO_MAILBOX_COMPLAINT_RATE", "0.001"))
AICMO_MAILBOX_HEALTH_MIN_SAMPLE = env_int("AICMO_MAILBOX_HEALTH_MIN_SAMPLE", 50)
AICMO_MAILBOX_HEALTH_WINDOW_DAYS = env_int("AICMO_MAILBOX_HEALTH_WINDOW_DAYS", 7)

# --- the reply inbox (outreach; docs/reply-inbox.md) -------------------------------------------
# Bytes of an email a poll reads: a larger one (attachments) is read in part, its text kept.
AICMO_REPLY_FETCH_BYTES = env_int("AICMO_REPLY_FETCH_BYTES", 1_000_000)
# Bytes of a reply's text stored; longer text is cut, and the thread says so.
AICMO_REPLY_MAX_TEXT_BYTES = env_int("AICMO_REPLY_MAX_TEXT_BYTES", 200_000)
AICMO_IMAP_TIMEOUT_SECONDS = env_int("AICMO_IMAP_TIMEOUT_SECONDS", 30)
# A CA file for IMAP servers with a private certificate authority; empty: the system's CAs.
AICMO_IMAP_CA_FILE = os.environ.get("AICMO_IMAP_CA_FILE", "")
# How replies are classified: "offline" (rules, free) or "llm" (the strategy LLM provider, its cost
# booked to the campaign; falls back to the offline result on any unusable answer).
AICMO_REPLY_CLASSIFIER = os.environ.get("AICMO_REPLY_CLASSIFIER", "offline")
# Sender readiness (SPF, DKIM, DMARC, MX, one-click unsubscribe) gates live email and is re-checked
# daily; on by default with DEBUG off only (a developer's machine has no published records).
AICMO_SENDER_READINESS_REQUIRED = env_bool("AICMO_SENDER_READINESS_REQUIRED", not DEBUG)
# Readiness results are reused this long at activation (the admin page asks on every view).
AICMO_SENDER_READINESS_MAX_AGE_SECONDS = env_int("AICMO_SENDER_READINESS_MAX_AGE_SECONDS", 10 * 60)
# The one-click unsubscribe POST probe (RFC 8058: 200, no redirect); off by default with DEBUG on.
AICMO_CHECK_UNSUBSCRIBE_POST = env_bool("AICMO_CHECK_UNSUBSCRIBE_POST", not DEBUG)
# The ESP's tracking host a client's tracking domain must be a CNAME to (e.g. track.pmtrk.com for
# Postmark); empty: any CNAME passes the readiness check.
AICMO_TRACKING_CNAME_TARGET = os.environ.get("AICMO_TRACKING_CNAME_TARGET", "")
AICMO_UNSUBSCRIBE_MAILTO = os.environ.get("AICMO_UNSUBSCRIBE_MAILTO", "") or None
AICMO_MESSAGE_ID_DOMAIN = os.environ.get("AICMO_MESSAGE_ID_DOMAIN", "aicmo.local")
# The SMTP transport (EMAIL_BACKEND=outreach.smtp_backend.EmailBackend) DKIM-signs with the From
# domain's key (a subdomain falls back to its parent's): "domain=selector:/path/key.pem,…".
AICMO_DKIM_KEYS = {
    domain.strip().lower(): {"selector": selector.strip(), "key_path": path.strip()}
    for domain, _, rest in (item.partition("=") for item in env_list("AICMO_DKIM_KEYS", []))
    for selector, _, path in [rest.partition(":")]
    if domain.strip() and selector.strip() and path.strip()
}
# The name our SMTP client gives in EHLO; empty: this host's FQDN. With DEBUG off a name without a
# dot (localhost) is refused: receiving servers score it as spam (check outreach.E004).
AICMO_SMTP_HELO_NAME = os.environ.get("AICMO_SMTP_HELO_NAME", "")
# Live emails whose one-click unsubscribe (PUBLIC_BASE_URL) is not https are refused, not sent; on
# unless DEBUG is on (check outreach.E003).
AICMO_REQUIRE_HTTPS_UNSUBSCRIBE = env_bool("AICMO_REQUIRE_HTTPS_UNSUBSCRIBE", not DEBUG)

# --- outbound webhooks (webhooks app; docs/webhooks.md) ----------------------------------------
# Loopback, private, link-local and reserved addresses are refused at save and at every delivery;
# 1 allows them (tests, a receiver on the same machine). Cloud metadata addresses stay refused.
AICMO_WEBHOOKS_ALLOW_PRIVATE = env_bool("AICMO_WEBHOOKS_ALLOW_PRIVATE", False)
# Endpoint URLs must be https unless this is off (off by default only with DEBUG on).
AICMO_WEBHOOKS_REQUIRE_HTTPS = env_bool("AICMO_WEBHOOKS_REQUIRE_HTTPS", not DEBUG)
# Retries: exponential backoff with full jitter from this base, capped, until the maximum age,
# then the delivery is dead-lettered (replayable in the admin).
AICMO_WEBHOOKS_RETRY_BASE_SECONDS = env_int("AICMO_WEBHOOKS_RETRY_BASE_SECONDS", 30)
AICMO_WEBHOOKS_RETRY_CAP_SECONDS = env_int("AICMO_WEBHOOKS_RETRY_CAP_SECONDS", 60 * 60)
AICMO_WEBHOOKS_MAX_AGE_SECONDS = env_int("AICMO_WEBHOOKS_MAX_AGE_SECONDS", 24 * 60 * 60)
AICMO_WEBHOOKS_TIMEOUT_SECONDS = float(os.environ.get("AICMO_WEBHOOKS_TIMEOUT_SECONDS", "10"))
# An endpoint failing every attempt for this long is disabled and its owner emailed.
AICMO_WEBHOOKS_DISABLE_AFTER_SECONDS = env_int("AICMO_WEBHOOKS_DISABLE_AFTER_SECONDS", 3 * 24 * 60 * 60)
# After a secret rotation the old secret keeps signing alongside the new one this long.
AICMO_WEBHOOKS_SECRET_OVERLAP_SECONDS = env_int("AICMO_WEBHOOKS_SECRET_OVERLAP_SECONDS", 24 * 60 * 60)
AICMO_WEBHOOKS_MAX_ENDPOINTS_PER_CLIENT = env_int("AICMO_WEBHOOKS_MAX_ENDPOINTS_PER_CLIENT", 20)
# How long a process trusts its cached view of who subscribes to what (a new endpoint may miss the
# events of these first seconds in other processes).
AICMO_WEBHOOKS_SUBSCRIPTION_CACHE_SECONDS = env_int("AICMO_WEBHOOKS_SUBSCRIPTION_CACHE_SECONDS", 30)
# Concurrent POSTs per dispatcher run (threads; each endpoint is sent to in order of its queue).
AICMO_WEBHOOKS_CONCURRENCY = env_int("AICMO_WEBHOOKS_CONCURRENCY", 8)

# --- client deliverables (deliverables app; docs/deliverables.md) -------------------------------
# Branding of packages and client reports: the agency's name, and a logo file (PNG or JPEG; SVG in
# the PDF only) embedded in the PDF and the email. Files are stored in STORAGES["deliverables"] if
# defined (e.g. an S3 bucket through django-storages), else the default storage (MEDIA_ROOT).
AICMO_AGENCY_NAME = os.environ.get("AICMO_AGENCY_NAME", "AICMO Agency")
AICMO_AGENCY_LOGO = os.environ.get("AICMO_AGENCY_LOGO", "")
AICMO_REPORTS_FROM_EMAIL = os.environ.get("AICMO_REPORTS_FROM_EMAIL", "") or DEFAULT_FROM_EMAIL
# How long a package's signed download link works (seconds).
AICMO_DELIVERABLES_LINK_SECONDS = env_int("AICMO_DELIVERABLES_LINK_SECONDS", 15 * 60)

# --- production hardening (active whenever DEBUG is off) --------------------------------------
# The one-click unsubscribe (/u/<token>/) is never redirected: RFC 8058 §3.2 has the mail provider
# POST to it once, without following redirects, so a 301 to https would lose the unsubscribe.
SECURE_REDIRECT_EXEMPT = [r"^u/"]
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    # One year; preload only on request (SECURE_HSTS_PRELOAD=1): the preload list commits the domain
    # and every subdomain to HTTPS in browsers for months, and leaving it is slow.
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
    if not SECURE_HSTS_PRELOAD:
        # security.W021 asks for preload; it is a deliberate opt-in here (aicmo_site.E002 checks
        # that an opted-in preload has the year and subdomains it needs).
        SILENCED_SYSTEM_CHECKS = [*globals().get("SILENCED_SYSTEM_CHECKS", []), "security.W021"]
    SECURE_CONTENT_TYPE_NOSNIFF = True
    X_FRAME_OPTIONS = "DENY"
