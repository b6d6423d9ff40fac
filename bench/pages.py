"""How fast every portal page answers, cold, as each demo role (issue 17: < 1 s at p95 on 2 cores).

``python -m bench pages --json [--db URL_OR_VAR_DIR]``: builds the demo's data (``manage.py demo``, ``--quick``
with ``--quick``) in a temporary var directory, or reuses ``--db`` — a ``DATABASE_URL`` or a var directory
as ``make demo`` leaves it (``var/``: the embedded SQLite database and the artefacts). Then, for each demo
role, a fresh process pinned to two cores (cold: imports, URL resolver, templates, empty cache) signs in as
that role's demo user and crawls every page reachable by following links from the home page — and the
chart images they show — timing each request with Django's test client (the full middleware stack, no
network). Figures per URL pattern: count, p50, p95, max seconds; the slowest URLs; any answer ≥ 500.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections import deque
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urldefrag, urljoin, urlsplit

ROOT = Path(__file__).resolve().parents[1]
TARGET_P95_SECONDS = 1.0
#: URLs fetched per URL pattern and role (the crawl's bound: a pattern is a page, its ids are alike)
PER_PATTERN = 12
MAX_REQUESTS = 600
SKIP = re.compile(r"^/(accounts/logout|admin|api|assets)/|/cancel/$|/draw/$")


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs) -> None:
        attrs = dict(attrs)
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])
        elif tag == "img" and attrs.get("src"):
            self.links.append(attrs["src"])


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def _session_cookie(user) -> str:
    """A signed-in session for ``user``, as the sign-in view would leave it (the bench needs no password)."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store[SESSION_KEY] = user._meta.pk.value_to_string(user)
    store[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.save()
    return f"{settings.SESSION_COOKIE_NAME}={store.session_key}"


def _get(app, url: str, cookie: str) -> tuple[int, str, bytes]:
    """One GET through the project's WSGI application, as a server would call it (all middleware included)."""
    from wsgiref.util import setup_testing_defaults

    parts = urlsplit(url)
    environ: dict = {}
    setup_testing_defaults(environ)
    environ.update(REQUEST_METHOD="GET", PATH_INFO=parts.path, QUERY_STRING=parts.query, HTTP_COOKIE=cookie,
                   SERVER_NAME="localhost", HTTP_HOST="localhost", REMOTE_ADDR="127.0.0.1")
    answer: dict = {}

    def start_response(status, headers, exc_info=None):
        answer["status"], answer["headers"] = int(status.split()[0]), dict(headers)

    result = app(environ, start_response)
    try:
        body = b"".join(result)
    finally:
        getattr(result, "close", lambda: None)()
    return answer["status"], answer["headers"].get("Content-Type", ""), body


def crawl(role: str, *, per_pattern: int = PER_PATTERN, max_requests: int = MAX_REQUESTS) -> list[dict]:
    """In this (fresh) process: every page reachable from / as the demo user of ``role``, timed."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.cache import cache
    from django.core.wsgi import get_wsgi_application
    from django.urls import Resolver404, resolve

    from pipelines.settings import DEMO_USERS

    cache.clear()
    user = get_user_model().objects.filter(username=DEMO_USERS.get(role, ""), is_active=True).first()
    if user is None:  # the demo has no user of this role
        return []
    app = get_wsgi_application()
    cookie = _session_cookie(user)
    seen: set[str] = set()
    per: dict[str, int] = {}
    queue = deque(["/"])
    records = []
    while queue and len(records) < max_requests:
        url = queue.popleft()
        try:
            pattern = resolve(urlsplit(url).path).route
        except Resolver404:
            continue
        if per.get(pattern, 0) >= per_pattern:
            continue
        per[pattern] = per.get(pattern, 0) + 1
        start = time.perf_counter()
        status, content_type, body = _get(app, url, cookie)
        seconds = time.perf_counter() - start
        records.append({"url": url, "pattern": pattern, "status": status, "seconds": seconds})
        if status != 200 or "text/html" not in content_type:
            continue
        parser = _Links()
        parser.feed(body.decode("utf-8", "replace"))
        for href in parser.links:
            target = urldefrag(urljoin(url, href)).url
            parts = urlsplit(target)
            if parts.netloc not in ("", "localhost") or not parts.path.startswith("/"):
                continue
            local = parts.path + (f"?{parts.query}" if parts.query else "")
            if local not in seen and not SKIP.search(parts.path):
                seen.add(local)
                queue.append(local)
    return records


def _demo_users() -> list[str]:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from governance.roles import ADMIN, APPROVER, AUDITOR, DEVELOPER, VALIDATOR

    return [DEVELOPER, VALIDATOR, APPROVER, AUDITOR, ADMIN]


def _environment(db: str | None, workdir: Path) -> dict[str, str]:
    env = dict(os.environ)
    if db and "://" in db:
        env["DATABASE_URL"] = db
    else:
        env.pop("DATABASE_URL", None)
        env["CRUCIBLE_VAR_DIR"] = str(Path(db).resolve()) if db else str(workdir)
        env.pop("ARTIFACT_ROOT", None)
    env.pop("CACHE_URL", None)  # each process starts with an empty (local) cache: cold
    return env


def _build_demo(env: dict[str, str], quick: bool) -> float:
    start = time.perf_counter()
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "-v0"], env=env, cwd=ROOT, check=True)
    subprocess.run([*manage, "demo", "--json", *(["--quick"] if quick else []),
                    "--out", str(Path(env.get("CRUCIBLE_VAR_DIR", tempfile.gettempdir())) / "demo-out")],
                   env=env, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def _child(role: str, env: dict[str, str]) -> list[dict]:
    code = ("import json, os, sys; sys.path.insert(0, os.getcwd());"
            "os.sched_setaffinity(0, sorted(os.sched_getaffinity(0))[:2]) if hasattr(os, 'sched_setaffinity') "
            "else None;"
            f"from bench.pages import crawl; print(json.dumps(crawl({role!r})))")
    done = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, check=True, capture_output=True,
                          text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def bench_pages(*, quick: bool = False, db: str | None = None) -> dict:
    workdir = Path(tempfile.mkdtemp(prefix="crucible-bench-pages-"))
    env = _environment(db, workdir)
    built = None if db else round(_build_demo(env, quick), 1)
    by_pattern: dict[str, list[float]] = {}
    everything: list[dict] = []
    roles = {}
    for role in _demo_users():
        records = _child(role, env)
        if not records:
            continue
        roles[role] = {"requests": len(records),
                       "p95_s": round(_percentile([r["seconds"] for r in records], 0.95), 4),
                       "max_s": round(max((r["seconds"] for r in records), default=0.0), 4),
                       "statuses": sorted({r["status"] for r in records})}
        for record in records:
            by_pattern.setdefault(record["pattern"], []).append(record["seconds"])
            everything.append(record | {"role": role})
    seconds = [r["seconds"] for r in everything]
    patterns = {p: {"n": len(v), "p50_s": round(_percentile(v, 0.5), 4), "p95_s": round(_percentile(v, 0.95), 4),
                    "max_s": round(max(v), 4)} for p, v in sorted(by_pattern.items())}
    p95 = _percentile(seconds, 0.95)
    return {
        "database": "demo built here" if db is None else ("DATABASE_URL" if "://" in db else f"var dir {db}"),
        "demo_build_s": built, "quick_demo": quick if db is None else None, "cores": 2,
        "requests": len(everything), "p50_s": round(_percentile(seconds, 0.5), 4), "p95_s": round(p95, 4),
        "max_s": round(max(seconds, default=0.0), 4), "target_p95_s": TARGET_P95_SECONDS,
        "meets_target": p95 < TARGET_P95_SECONDS,
        "server_errors": [{k: r[k] for k in ("role", "url", "status")} for r in everything if r["status"] >= 500],
        "slowest": [{k: (round(r[k], 4) if k == "seconds" else r[k]) for k in ("role", "url", "status", "seconds")}
                    for r in sorted(everything, key=lambda r: -r["seconds"])[:10]],
        "roles": roles, "patterns": patterns,
    }


BENCHMARKS = {"pages": bench_pages}
