"""Crucible settings: every deployment choice comes from the environment (see README).

Embedded default (nothing set): SQLite under var/, Celery tasks on a filesystem queue under var/broker
(`make serve` starts a worker beside the web server), DEBUG off.
"""

from __future__ import annotations

import os
from pathlib import Path

from config.env import celery_config, database_config, env_bool, secret_key, task_mode

BASE_DIR = Path(__file__).resolve().parent.parent
ENV = os.environ
VAR_DIR = Path(ENV.get("CRUCIBLE_VAR_DIR", str(BASE_DIR / "var"))).resolve()
VAR_DIR.mkdir(parents=True, exist_ok=True)

SECRET_KEY = secret_key(ENV, VAR_DIR)
DEBUG = env_bool(ENV, "DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = [
    h.strip() for h in ENV.get("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver").split(",") if h.strip()
]
CSRF_TRUSTED_ORIGINS = [o.strip() for o in ENV.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "governance",
    "scenarios",
    "validation",
    "reports",
    "pipelines",  # --- pipelines (issue 16 §1): end-to-end orchestration above reports
    "portal",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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

DATABASES = {"default": database_config(ENV, VAR_DIR)}
# --- API under load (issue 16 §7) ---
# Keep a worker's PostgreSQL connection between requests (gunicorn sync workers: one each) instead of a new
# connection per request; checked before reuse. DB_CONN_MAX_AGE=0 restores one connection per request.
if DATABASES["default"]["ENGINE"].endswith("postgresql"):
    DATABASES["default"]["CONN_MAX_AGE"] = int(ENV.get("DB_CONN_MAX_AGE", "60"))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# --- end API under load ---
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
MEDIA_URL = "media/"
MEDIA_ROOT = Path(ENV.get("MEDIA_ROOT", str(VAR_DIR / "media"))).resolve()
# Content-addressed store for checkpoints, datasets, scenario sets, reports and packets.
ARTIFACT_ROOT = Path(ENV.get("ARTIFACT_ROOT", str(VAR_DIR / "artifacts"))).resolve()

# Session security a bank expects: cookies only over HTTPS when served over HTTPS
# (CRUCIBLE_HTTPS=1, or the older SECURE_COOKIES=1), the session never readable by scripts (the CSRF
# cookie stays readable: the API docs page sends it as a header), neither sent on
# cross-site requests, and an idle timeout (the expiry moves on with every request).
SERVED_OVER_HTTPS = env_bool(ENV, "CRUCIBLE_HTTPS", default=env_bool(ENV, "SECURE_COOKIES", default=False))
SESSION_COOKIE_SECURE = SERVED_OVER_HTTPS
CSRF_COOKIE_SECURE = SERVED_OVER_HTTPS
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = int(ENV.get("SESSION_COOKIE_AGE", 30 * 60))
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
if env_bool(ENV, "CRUCIBLE_BEHIND_PROXY"):
    # Only behind a proxy that sets X-Forwarded-Proto itself (and strips the client's).
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
LOGIN_URL = "portal:login"
LOGIN_REDIRECT_URL = "portal:home"
LOGOUT_REDIRECT_URL = "portal:login"
# Sign-in throttle (governance.services.login_guard): this many failures per username and address lock that pair
# out for the window. Counted in the cache: set CACHE_URL (Redis) when several web processes run.
CRUCIBLE_LOGIN_MAX_FAILURES = int(ENV.get("CRUCIBLE_LOGIN_MAX_FAILURES", 5))
CRUCIBLE_LOGIN_LOCKOUT_SECONDS = int(ENV.get("CRUCIBLE_LOGIN_LOCKOUT_SECONDS", 15 * 60))
CACHES = {"default": (
    {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": ENV["CACHE_URL"].strip()}
    if ENV.get("CACHE_URL", "").strip() else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
)}
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # --- API under load (issue 16 §7) ---
    # Numeric filters are whole numbers within their column's range, pages at most 500 rows: else 400, never 500.
    "DEFAULT_FILTER_BACKENDS": ["governance.api_filters.BoundedFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "config.pagination.BoundedLimitOffsetPagination",
    "PAGE_SIZE": 50,
    # --- end API under load ---
    "EXCEPTION_HANDLER": "config.exceptions.exception_handler",
    # NaN/Infinity are not JSON; refuse them on the way in and never emit them.
    "STRICT_JSON": True,
    "COERCE_DECIMAL_TO_STRING": False,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Crucible API",
    "DESCRIPTION": "Governed AI stress-scenario generation: inventory, runs, validation, reports.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Several tables have a "status": name each choice set after what it is the status of.
    "ENUM_NAME_OVERRIDES": {
        "RunStatusEnum": "governance.models.runs.RunStatus",
        "VersionStatusEnum": "governance.models.inventory.VersionStatus",
        "ModelStatusEnum": "governance.models.inventory.ModelStatus",
        "FindingStatusEnum": "governance.models.review.FindingStatus",
        "EvidenceOutcomeEnum": "governance.models.review.Outcome",
        "MetricOutcomeEnum": "validation.models.run.Outcome",
    },
}

# The longest task (a full diffusion training) is bounded; the broker's visibility timeout is
# derived from it in config.env.celery_config.
LONGEST_TASK_SECONDS = int(ENV.get("CRUCIBLE_LONGEST_TASK_SECONDS", 6 * 3600))
# Task mode (CRUCIBLE_TASKS): broker (CELERY_BROKER_URL), local (filesystem transport under var/broker,
# the default without a broker) or inline (in-process; tests and the CLI pipelines). See config.env.
CRUCIBLE_TASKS = task_mode(ENV)
# Charts of each result are drawn by a task when the result is produced (reports.FigureSet); off: only on request.
CRUCIBLE_DRAW_FIGURES = env_bool(ENV, "CRUCIBLE_DRAW_FIGURES", True)
# A packet uploaded to "Verify a packet" is refused beyond this size (streamed to a temporary file under the cap).
CRUCIBLE_MAX_PACKET_UPLOAD_BYTES = int(ENV.get("CRUCIBLE_MAX_PACKET_UPLOAD_BYTES", 64 * 1024 * 1024))
for _name, _value in celery_config(ENV, LONGEST_TASK_SECONDS, VAR_DIR).items():
    globals()["CELERY_" + _name.upper()] = _value
# A heartbeat on each queue once a minute under `celery beat`: /healthz tells whether a worker is taking
# work (governance.health: "no worker heartbeat" after three missed beats). Merged with other beat entries.
CELERY_BEAT_SCHEDULE = {**globals().get("CELERY_BEAT_SCHEDULE", {}), **{
    f"worker-heartbeat-{_queue}": {"task": "governance.tasks.heartbeat", "schedule": 60.0, "args": (_queue,),
                                   "options": {"queue": _queue, "expires": 55}}
    for _queue in ("cpu", "gpu")}}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": ENV.get("LOG_LEVEL", "WARNING")},
}

# Dataset uploads larger than this are refused before parsing.
CRUCIBLE_MAX_DATASET_BYTES = int(ENV.get("CRUCIBLE_MAX_DATASET_BYTES", 200 * 1024 * 1024))
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

# --- uploads (issue 16 §4) ---
# A dataset upload streams to this directory (shared by web and workers, like ARTIFACT_ROOT) and
# is parsed there by a cpu-queue worker; the file is deleted when its import finishes.
CRUCIBLE_UPLOAD_DIR = Path(ENV.get("CRUCIBLE_UPLOAD_DIR", str(VAR_DIR / "uploads"))).resolve()
# Caps on a table, checked before its data is decoded (Parquet: from the footer). Chosen a priori
# from what the engines take: a century of daily data is ~26,000 rows and the engines model tens of
# factors, so 1 M rows, 1,000 columns and 10 M cells (80 MB as float64) leave an order of magnitude
# of room while bounding what a 0.5 MB dictionary-encoded file can expand to.
CRUCIBLE_MAX_DATASET_ROWS = int(ENV.get("CRUCIBLE_MAX_DATASET_ROWS", 1_000_000))
CRUCIBLE_MAX_DATASET_COLUMNS = int(ENV.get("CRUCIBLE_MAX_DATASET_COLUMNS", 1_000))
CRUCIBLE_MAX_DATASET_CELLS = int(ENV.get("CRUCIBLE_MAX_DATASET_CELLS", 10_000_000))
# Parquet only: the column chunks' declared uncompressed size (a compression bomb guard) and the footer.
CRUCIBLE_MAX_DATASET_UNCOMPRESSED_BYTES = int(ENV.get("CRUCIBLE_MAX_DATASET_UNCOMPRESSED_BYTES", 512 * 1024 * 1024))
CRUCIBLE_MAX_PARQUET_FOOTER_BYTES = int(ENV.get("CRUCIBLE_MAX_PARQUET_FOOTER_BYTES", 16 * 1024 * 1024))
# The parser runs in a child process with this address-space limit (RLIMIT_AS) and CPU limit
# (RLIMIT_CPU), and is killed after the wall-clock timeout: a table that needs more fails its import.
CRUCIBLE_DATASET_IMPORT_MEMORY_BYTES = int(ENV.get("CRUCIBLE_DATASET_IMPORT_MEMORY_BYTES", 3 * 1024**3))
CRUCIBLE_DATASET_IMPORT_TIMEOUT_SECONDS = int(ENV.get("CRUCIBLE_DATASET_IMPORT_TIMEOUT_SECONDS", 300))

# --- anchored audit chain (issue 16 §6) ---
# A checkpoint is signed every CRUCIBLE_AUDIT_CHECKPOINT_EVERY_EVENTS events (checked by each
# append, no extra query) or CRUCIBLE_AUDIT_CHECKPOINT_EVERY_MINUTES minutes after the last one when
# events arrived since (checked by appends and by the beat entry in config/celery.py), whichever comes
# first, besides the one on every approval; 0 turns a trigger off. A priori: each checkpoint adds one
# event and one line to the anchor log (~4 KB with its event hashes), so 50 events cost <= 2 % more
# rows while an attacker's window after the newest anchor stays <= 50 events or 5 minutes.
CRUCIBLE_AUDIT_CHECKPOINT_EVERY_EVENTS = int(ENV.get("CRUCIBLE_AUDIT_CHECKPOINT_EVERY_EVENTS", 50))
CRUCIBLE_AUDIT_CHECKPOINT_EVERY_MINUTES = float(ENV.get("CRUCIBLE_AUDIT_CHECKPOINT_EVERY_MINUTES", 5))
# Where checkpoints are published (governance/anchors.py): an append-only JSON-lines file on another
# mount, and an RFC 3161 time-stamp authority (with its root certificates, PEM, to verify tokens).
CRUCIBLE_ANCHOR_LOG = ENV.get("CRUCIBLE_ANCHOR_LOG", "").strip()
CRUCIBLE_TSA_URL = ENV.get("CRUCIBLE_TSA_URL", "").strip()
CRUCIBLE_TSA_CA_FILE = ENV.get("CRUCIBLE_TSA_CA_FILE", "").strip()
CRUCIBLE_TSA_TIMEOUT_SECONDS = float(ENV.get("CRUCIBLE_TSA_TIMEOUT_SECONDS", 10))

# --- run kernel (issue 16 §1, §2) ---
# A RUNNING run whose worker has shown no sign of life (heartbeat, renewed every third of it) for this
# long is presumed lost: a re-delivered task may take it over; after twice the lease the reaper
# (governance.services.run_state.run_reap_stale) re-queues it, or fails it once it has been claimed
# CRUCIBLE_RUN_MAX_ATTEMPTS times (a task that kills its worker every time ends instead of looping).
CRUCIBLE_RUN_LEASE_SECONDS = int(ENV.get("CRUCIBLE_RUN_LEASE_SECONDS", 600))
CRUCIBLE_RUN_MAX_ATTEMPTS = int(ENV.get("CRUCIBLE_RUN_MAX_ATTEMPTS", 3))
CELERY_IMPORTS = [*globals().get("CELERY_IMPORTS", []), "governance.run_tasks"]
# The reaper runs under `celery beat` every half lease (merge, never replace, other beat entries).
CELERY_BEAT_SCHEDULE = {**globals().get("CELERY_BEAT_SCHEDULE", {}), "reap-stale-runs": {
    "task": "governance.run_tasks.reap_stale_runs", "schedule": max(5.0, CRUCIBLE_RUN_LEASE_SECONDS / 2)}}
# --- end run kernel ---
# Where the Federal Reserve's supervisory scenario tables are read from (the Fed's CSV layout).
CRUCIBLE_FED_DIR = Path(
    ENV.get("CRUCIBLE_FED_DIR", str(BASE_DIR / "data" / "fed-supervisory-scenarios"))  # shipped copy, see its README
)

# --- authentication doors and security headers (issue 16 §3, §9) ---
# One login guard (governance.services.login_guard) for the portal, admin and browsable-API sign-in,
# the token endpoint and e-signatures: CRUCIBLE_LOGIN_MAX_FAILURES per username+address (and per
# signer), this many per address at any door for any username, within CRUCIBLE_LOGIN_LOCKOUT_SECONDS.
CRUCIBLE_LOGIN_MAX_FAILURES_PER_ADDRESS = int(ENV.get("CRUCIBLE_LOGIN_MAX_FAILURES_PER_ADDRESS", 20))
# Reverse proxies in front that append to X-Forwarded-For (each one trusted); 0: the address is REMOTE_ADDR.
CRUCIBLE_TRUSTED_PROXIES = int(ENV.get("CRUCIBLE_TRUSTED_PROXIES", 1 if env_bool(ENV, "CRUCIBLE_BEHIND_PROXY") else 0))
MIDDLEWARE.insert(MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1, "csp.middleware.CSPMiddleware")
MIDDLEWARE.append("config.client_address.ClientAddressMiddleware")
# Content-Security-Policy (django-csp 4): every script, style and image comes from this origin as a
# file (no inline script or style anywhere in templates/; the API docs pages add inline styles only,
# see config/urls.py), no plugins, no framing, forms post only here.
CONTENT_SECURITY_POLICY = {"DIRECTIVES": {
    "default-src": ["'self'"], "script-src": ["'self'"], "style-src": ["'self'"], "img-src": ["'self'", "data:"],
    "font-src": ["'self'"], "connect-src": ["'self'"], "object-src": ["'none'"], "base-uri": ["'none'"],
    "frame-ancestors": ["'none'"], "form-action": ["'self'"],
}}
if SERVED_OVER_HTTPS:
    # HTTPS only: redirect plain HTTP (not the container's own health probe), HSTS for a year on
    # this host and its subdomains (set CRUCIBLE_HSTS_SECONDS low while trying HTTPS out).
    SECURE_SSL_REDIRECT = env_bool(ENV, "CRUCIBLE_SSL_REDIRECT", default=True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SECURE_HSTS_SECONDS = int(ENV.get("CRUCIBLE_HSTS_SECONDS", 365 * 24 * 3600))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool(ENV, "CRUCIBLE_HSTS_INCLUDE_SUBDOMAINS", default=True)
    SECURE_HSTS_PRELOAD = env_bool(ENV, "CRUCIBLE_HSTS_PRELOAD", default=True)
    CONTENT_SECURITY_POLICY["DIRECTIVES"]["upgrade-insecure-requests"] = True
# The OpenAPI schema and its docs pages are for signed-in users only: the schema maps every
# operation, parameter and error code, which helps an attacker more than an anonymous reader.
SPECTACULAR_SETTINGS["SERVE_PERMISSIONS"] = ["rest_framework.permissions.IsAuthenticated"]
