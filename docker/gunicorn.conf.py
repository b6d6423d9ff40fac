"""gunicorn settings for the web service (compose) and ``make serve-prod`` (issue 16 §7).

https://docs.gunicorn.org/en/stable/settings.html — every value can be overridden from the environment.
Sync workers: Django's ORM and the audit chain's row lock are per process; 4 workers by default,
``WEB_CONCURRENCY`` to change it (gunicorn's own variable). Each worker keeps one database connection
(``DB_CONN_MAX_AGE`` in config/settings.py) instead of opening one per request.
"""

import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "4"))
worker_class = "sync"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "120"))
graceful_timeout = 30
keepalive = 5
# Recycle a worker now and then, so a slow leak cannot grow for ever (jitter: not all at once).
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "2000"))
max_requests_jitter = 200
# Request line and headers stay small: the API takes bodies, not long query strings.
limit_request_line = 8190
limit_request_fields = 100
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
errorlog = "-"


def post_worker_init(worker):
    """Load every view now (numpy, scipy, pandas: seconds), not while the worker's first request waits."""
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 - resolving the URL configuration imports every API module
