"""Crucible settings: every deployment choice comes from the environment (see README).

Embedded default (nothing set): SQLite under var/, Celery tasks run in-process, DEBUG off.
"""

from __future__ import annotations

import os
from pathlib import Path

from config.env import celery_config, database_config, env_bool, secret_key

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
# Sign-in throttle (portal.lockout): this many failures per username and address lock that pair
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
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 50,
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
        "RunStatusEnum": "scenarios.models.runs.RunStatus",
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
for _name, _value in celery_config(ENV, LONGEST_TASK_SECONDS).items():
    globals()["CELERY_" + _name.upper()] = _value

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

# A RUNNING run whose worker has shown no sign of life for this long is presumed lost: a
# re-delivered task may take it over, and `reap_stale_runs` marks it FAILED.
CRUCIBLE_RUN_LEASE_SECONDS = int(ENV.get("CRUCIBLE_RUN_LEASE_SECONDS", 600))
# Where the Federal Reserve's supervisory scenario tables are read from (the Fed's CSV layout).
CRUCIBLE_FED_DIR = Path(
    ENV.get("CRUCIBLE_FED_DIR", str(BASE_DIR.parent / "shared" / "data" / "fed-supervisory-scenarios"))
)
