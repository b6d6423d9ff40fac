"""The API under load (issue 16 §7): gunicorn with 4 workers on 127.0.0.1, 50 concurrent clients for 60 s.

    python -m bench api_load --json
    python -m bench.api_load --clients 50 --duration 60 --writers 20 --extra-models 1000   (the same, with knobs)

What it does, in a fresh PostgreSQL database of its own (``crucible_bench_api_load``, dropped and made again):

1. migrate, then seed a demo-like inventory through the real services — users in every role, models with
   versions, evidence, lineage, signed checkpoints — plus ``extra_models`` more models (each one writes
   its audit event, as registering a model through the API does);
2. start gunicorn (``docker/gunicorn.conf.py``, 4 sync workers) on a free port of 127.0.0.1 against it;
3. read phase: ``clients`` threads, each a closed loop with no think time, round-robin over the models
   list (first page, 50 rows), a version page (``/api/v1/versions/<id>/``) and the audit list (first page),
   for ``duration`` seconds, as an auditor with a token; every latency is kept, p50/p95/p99 per endpoint;
4. write phase: ``writers`` threads register models through ``POST /api/v1/models/`` at once (each write
   appends to the one audit chain under its row lock), then the chain is verified
   (``governance.audit_verify.verify_audit_chain``) and must be intact.

Before the load, ``unloaded_ms`` is the latency of each endpoint with one client (what one request costs).
The load generator runs on the same machine as the server and takes part of its CPUs: on a small machine
the figures are a floor on what the server alone would do. Closed loop: by Little's law the mean latency is
about ``clients / throughput``, so p95 < 100 ms with 50 clients needs more than ~500 requests/s.
The environment knobs (``API_LOAD_CLIENTS``, ``API_LOAD_DURATION``, ``API_LOAD_WRITERS``,
``API_LOAD_EXTRA_MODELS``, ``API_LOAD_WORKERS``, ``BENCH_POSTGRES_URL``) set the same parameters for
``python -m bench api_load``; ``--quick`` makes everything small (a smoke run).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
DB_NAME = "crucible_bench_api_load"
TARGET_P95_MS = 100.0


def _env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


# --- the database -------------------------------------------------------------------------------------------------


def _fresh_database(admin_url: str) -> str:
    """Drop and create the bench database; return its URL."""
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DB_NAME}"')
    parts = urlsplit(admin_url)
    return urlunsplit(parts._replace(path=f"/{DB_NAME}"))


def _django(database_url: str, var_dir: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ["CRUCIBLE_VAR_DIR"] = var_dir
    os.environ["ARTIFACT_ROOT"] = os.path.join(var_dir, "artifacts")
    os.environ.pop("CELERY_BROKER_URL", None)
    os.environ["CRUCIBLE_TASKS"] = "inline"  # the bench drives the tasks in this process
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django
    from django.conf import settings

    if settings.configured and settings.DATABASES["default"]["NAME"] not in ("", DB_NAME):
        raise RuntimeError("api_load needs its own Django settings: run it in a fresh process")
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def _seed(extra_models: int, demo_models: int) -> dict:
    """A demo-like inventory through the services, and ``extra_models`` more models."""
    from django.contrib.auth.models import Group, User
    from rest_framework.authtoken.models import Token

    from governance.models import AuditEvent, InventoryModel, ModelVersion
    from governance.services.checkpoints import audit_checkpoint_create
    from governance.services.inventory import model_create, version_create
    from governance.services.lineage import lineage_entity, lineage_link
    from governance.services.review import evidence_attach

    def person(name: str, role: str) -> User:
        user = User.objects.create_user(username=name)  # no usable password: these users never log in
        user.groups.add(Group.objects.get(name=role))
        return user

    developers = [person(f"dev{i}", "developer") for i in range(3)]
    validator, auditor = person("val", "validator"), person("aud", "auditor")
    person("app", "approver")
    person("admin", "admin")
    families = ["copula", "diffusion", "factor_mc", "timegan", "vae"]

    def register(i: int, developer: User, upstream=()):
        return model_create(
            actor=developer, name=f"Scenario generator {i}", purpose="20-day stress scenarios for the trading book",
            business_line=["Markets", "Treasury", "Credit"][i % 3], family=families[i % len(families)],
            exposure_usd=Decimal(10_000_000 * (1 + i % 90)), materiality_purpose="regulatory_stress",
            developers=[developer, developers[(i + 1) % 3]], upstream=list(upstream))

    started = time.perf_counter()
    demo = []
    for i in range(demo_models):
        developer = developers[i % 3]
        model = register(i, developer, upstream=demo[-1:])
        demo.append(model)
        for v in range(3):
            version = version_create(actor=developer, model=model, version=f"1.{v}.0", engine="factor_mc",
                                     developers=[developer], notes="seeded by bench.api_load")
            evidence_attach(actor=validator, version=version, kind="validation_run", source=f"bench:{model.pk}:{v}",
                            outcome="PASS", summary={"tiers": {"distribution": "PASS"}})
            node = lineage_entity(uid=f"checkpoint:bench-{version.pk}", kind="checkpoint", label=str(version),
                                  object_type="model_version", object_id=version.pk, actor=developer)
            dataset = lineage_entity(uid=f"dataset:bench-{i}", kind="dataset", label=f"dataset {i}",
                                     sha256=f"{i:064x}", actor=developer)
            lineage_link(source=node, target=dataset, relation="wasDerivedFrom", actor=developer)
        if i % 4 == 0:
            audit_checkpoint_create(actor=auditor, reason=f"bench seed {i}")
    for i in range(extra_models):
        register(demo_models + i, developers[i % 3])
    version_ids = list(ModelVersion.objects.order_by("pk").values_list("pk", flat=True))
    return {
        "seed_seconds": round(time.perf_counter() - started, 1),
        "models": InventoryModel.objects.count(),
        "versions": len(version_ids),
        "audit_events": AuditEvent.objects.count(),
        "version_ids": version_ids,
        "reader_token": Token.objects.create(user=auditor).key,
        "writer_tokens": [Token.objects.create(user=d).key for d in developers],
    }


# --- the server ---------------------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start_gunicorn(port: int, workers: int, env: dict, log: Path) -> subprocess.Popen:
    command = [sys.executable, "-m", "gunicorn", "config.wsgi:application", "--config", "docker/gunicorn.conf.py",
               "--bind", f"127.0.0.1:{port}", "--workers", str(workers)]
    with log.open("wb") as sink:
        server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=sink, stderr=subprocess.STDOUT,
                                  start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn exited: {log.read_text(errors='replace')[-2000:]}")
        try:
            status, _ = _request(port, "GET", "/healthz", None)
            if status == 200:
                return server
        except OSError:
            pass
        time.sleep(0.2)
    _stop(server)
    raise RuntimeError("gunicorn did not answer /healthz within 60 s")


def _stop(server: subprocess.Popen) -> None:
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def _request(port: int, method: str, path: str, token: str | None, body: dict | None = None) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Token {token}"
    payload = None
    if body is not None:
        payload = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    try:
        conn.request(method, path, body=payload, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


# --- the load -----------------------------------------------------------------------------------------------------


def _percentiles(latencies: list[float]) -> dict:
    if not latencies:
        return {"n": 0}
    ms = np.asarray(latencies) * 1000.0
    return {"n": int(ms.size), "p50_ms": round(float(np.percentile(ms, 50)), 1),
            "p95_ms": round(float(np.percentile(ms, 95)), 1), "p99_ms": round(float(np.percentile(ms, 99)), 1),
            "max_ms": round(float(ms.max()), 1)}


def _read_load(port: int, token: str, paths: dict[str, list[str]], clients: int, duration: float) -> dict:
    latencies: dict[str, list[float]] = {name: [] for name in paths}
    errors: dict[str, dict[str, int]] = {name: {} for name in paths}
    lock = threading.Lock()
    stop_at = time.monotonic() + duration
    names = list(paths)

    def client(index: int) -> None:
        mine = {name: [] for name in names}
        bad: dict[str, dict[str, int]] = {name: {} for name in names}
        k = index
        while time.monotonic() < stop_at:
            name = names[k % len(names)]
            path = paths[name][k % len(paths[name])]
            k += 1
            start = time.perf_counter()
            try:
                status, _ = _request(port, "GET", path, token)
            except OSError as error:
                status = type(error).__name__
            elapsed = time.perf_counter() - start
            if status == 200:
                mine[name].append(elapsed)
            else:
                bad[name][str(status)] = bad[name].get(str(status), 0) + 1
        with lock:
            for name in names:
                latencies[name].extend(mine[name])
                for status, count in bad[name].items():
                    errors[name][status] = errors[name].get(status, 0) + count

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    total = sum(len(v) for v in latencies.values())
    result = {name: {**_percentiles(latencies[name]), "errors": errors[name]} for name in names}
    result["_all"] = {**_percentiles([x for v in latencies.values() for x in v]),
                      "requests_per_second": round(total / wall, 1), "wall_seconds": round(wall, 1)}
    return result


def _write_load(port: int, tokens: list[str], writers: int, per_writer: int) -> dict:
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    lock = threading.Lock()
    barrier = threading.Barrier(writers)

    def writer(index: int) -> None:
        token = tokens[index % len(tokens)]
        barrier.wait()
        for j in range(per_writer):
            body = {"name": f"Concurrent model {index}-{j}", "purpose": "load test", "business_line": "Markets",
                    "family": "copula", "exposure_usd": "25000000.00", "materiality_purpose": "regulatory_stress"}
            start = time.perf_counter()
            try:
                status, _ = _request(port, "POST", "/api/v1/models/", token, body)
            except OSError as error:
                status = type(error).__name__
            elapsed = time.perf_counter() - start
            with lock:
                statuses[str(status)] = statuses.get(str(status), 0) + 1
                if status == 201:
                    latencies.append(elapsed)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {"writers": writers, "writes_each": per_writer, "statuses": statuses, **_percentiles(latencies)}


def _server_errors(log: Path) -> dict:
    """How many tracebacks the server logged, and the distinct last lines (the exceptions)."""
    lines = log.read_text(errors="replace").splitlines()
    exceptions: dict[str, int] = {}
    for i, line in enumerate(lines):
        if line.startswith("Traceback"):
            j = i + 1
            while j < len(lines) and (lines[j].startswith(" ") or not lines[j].strip()):
                j += 1
            last = lines[j][:300] if j < len(lines) else "?"
            exceptions[last] = exceptions.get(last, 0) + 1
    return {"tracebacks": sum(exceptions.values()), "exceptions": exceptions}


def _verify_chain() -> dict:
    from governance.audit_verify import verify_audit_chain

    result = verify_audit_chain()
    return {"ok": result.ok, "n_events": result.n_events, "first_broken_seq": result.first_broken_seq,
            "reason": result.reason}


def run(*, quick: bool = False, clients: int | None = None, duration: float | None = None,
        writers: int | None = None, extra_models: int | None = None, workers: int | None = None,
        writes_each: int | None = None) -> dict:
    clients = clients or _env_int("API_LOAD_CLIENTS", 8 if quick else 50)
    duration = duration or float(os.environ.get("API_LOAD_DURATION", 5 if quick else 60))
    writers = writers or _env_int("API_LOAD_WRITERS", 4 if quick else 20)
    extra_models = extra_models if extra_models is not None else _env_int("API_LOAD_EXTRA_MODELS",
                                                                           20 if quick else 1000)
    workers = workers or _env_int("API_LOAD_WORKERS", 4)
    writes_each = writes_each or (3 if quick else 10)
    admin_url = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres:postgres@127.0.0.1:5432/postgres")

    database_url = _fresh_database(admin_url)
    with tempfile.TemporaryDirectory(prefix="bench-api-load-") as var_dir:
        # A throw-away platform key for the seeded checkpoints; the server signs nothing here.
        os.environ.setdefault("CRUCIBLE_SIGNING_KEY", secrets.token_hex(32))
        _django(database_url, var_dir)
        seed = _seed(extra_models, demo_models=5 if quick else 40)
        version_ids = seed.pop("version_ids")
        env = {**os.environ, "DATABASE_URL": database_url, "CRUCIBLE_VAR_DIR": var_dir,
               "ARTIFACT_ROOT": os.path.join(var_dir, "artifacts"), "DJANGO_SETTINGS_MODULE": "config.settings"}
        env.pop("CELERY_BROKER_URL", None)
        env["CRUCIBLE_TASKS"] = "inline"
        port = _free_port()
        log = Path(var_dir) / "gunicorn.log"
        server = _start_gunicorn(port, workers, env, log)
        try:
            token = seed.pop("reader_token")
            step = max(1, len(version_ids) // 20)
            paths = {
                "models_list": ["/api/v1/models/"],
                "version_page": [f"/api/v1/versions/{pk}/" for pk in version_ids[::step]],
                "audit_list": ["/api/v1/audit/events/"],
            }
            unloaded = {}
            for name, urls in paths.items():
                _request(port, "GET", urls[0], token)  # warm the worker
                times = []
                for i in range(10 if quick else 30):
                    start = time.perf_counter()
                    status, _ = _request(port, "GET", urls[i % len(urls)], token)
                    times.append(time.perf_counter() - start)
                    if status != 200:
                        raise RuntimeError(f"{urls[0]} answered {status}")
                unloaded[name] = _percentiles(times)
            reads = _read_load(port, token, paths, clients, duration)
            writes = _write_load(port, seed.pop("writer_tokens"), writers, writes_each)
        finally:
            _stop(server)
        server_errors = _server_errors(log)
        chain = _verify_chain()
    targets = {name: reads[name].get("p95_ms", float("inf")) < TARGET_P95_MS for name in paths}
    return {
        "seconds": reads["_all"]["wall_seconds"],
        "server": {"gunicorn_workers": workers, "bind": "127.0.0.1", "database": "PostgreSQL (fresh)"},
        "parameters": {"clients": clients, "duration_s": duration, "writers": writers, "extra_models": extra_models},
        "data": seed,
        "unloaded_ms": unloaded,
        "under_load": reads,
        "target_p95_ms": TARGET_P95_MS,
        "meets_target": targets,
        "concurrent_writes": writes,
        "server_errors": server_errors,
        "audit_chain_after_writes": chain,
    }


BENCHMARKS = {"api_load": run}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.api_load", description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=None)
    parser.add_argument("--duration", type=float, default=None, help="seconds of read load")
    parser.add_argument("--writers", type=int, default=None)
    parser.add_argument("--writes-each", type=int, default=None)
    parser.add_argument("--extra-models", type=int, default=None)
    parser.add_argument("--workers", type=int, default=None, help="gunicorn workers")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    from bench import machine

    result = run(quick=args.quick, clients=args.clients, duration=args.duration, writers=args.writers,
                 extra_models=args.extra_models, workers=args.workers, writes_each=args.writes_each)
    print(json.dumps({"_machine": machine(), "api_load": result}, indent=2, sort_keys=True, default=float))
    return 0 if result["audit_chain_after_writes"]["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
