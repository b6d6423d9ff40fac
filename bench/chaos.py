"""``chaos``: SIGKILL real Celery workers in the middle of every kind of run; nothing may be lost (issue 16 §2).

For each run kind (training, generation, validation part, report, packet) a real ``celery worker`` process
(prefork, one pool child, queues gpu+cpu) runs real runs enqueued through Redis on a throw-away PostgreSQL
database. Each round enqueues one run, waits until a worker has claimed it, sleeps a random fraction of that
kind's uninterrupted duration and SIGKILLs — alternately — the whole worker (main process and pool child:
nobody is left to re-queue the task; the kernel's reaper must) or only the pool child (Celery's
``task_reject_on_worker_lost`` re-queues it; the redelivery must wait out the dead child's lease). A killed
worker is restarted; this process plays ``celery beat`` and calls the reaper every half second. The lease
is shortened to ``LEASE`` seconds in both.

Checked per round and at the end: the run ends SUCCEEDED (0 lost); no run is RUNNING with a heartbeat older
than the lease once the rounds are over (0 stuck); each run has one result row, one success audit event and
its artefact verifies by SHA-256, and no artefact file appeared that no row references (0 duplicates); the
audit hash chain verifies (``governance.audit_verify``).

``python -m bench chaos --json`` runs 20 kills per kind; ``--quick`` 2. ``CHAOS_DATABASE_URL`` (a server
where a database ``crucible_chaos`` may be dropped and created; default: ``DATABASE_URL``'s server) and
``CHAOS_REDIS_URL`` (default ``redis://127.0.0.1:6379/14``, flushed) say where. The bounded version runs in
``make test`` (tests/governance/runs/test_chaos.py) on the same functions.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
LEASE = 2
MAX_ATTEMPTS = 6
KINDS = ("training", "generation", "validation", "report", "packet")
MODES = ("worker", "child")
DIFFUSION = {"channels": 16, "blocks": 1, "dilations": [1], "time_dim": 16, "timesteps": 50, "batch_size": 64,
             "ddim_steps": 10, "patience": 1000, "epochs": 2}


# ── a real worker that can be killed ─────────────────────────────────────────────────────────
class ChaosWorker:
    """``celery -A config worker`` in its own process group, restartable, with its pool child's pid."""

    def __init__(self, env: dict[str, str], log_dir: Path, queues: str = "gpu,cpu") -> None:
        self.env, self.log_dir, self.queues = env, log_dir, queues
        self.proc: subprocess.Popen | None = None
        self.name = ""
        self.starts = 0
        self._app = None

    def _control(self):
        if self._app is None:
            from celery import Celery

            app = Celery("crucible-chaos-control", set_as_current=False)
            app.config_from_object("django.conf:settings", namespace="CELERY")
            app.conf.update(broker_url=self.env["CELERY_BROKER_URL"], task_always_eager=False)
            self._app = app
        return self._app

    def start(self, timeout: float = 120) -> None:
        self.starts += 1
        self.name = f"chaos-{uuid.uuid4().hex[:8]}@localhost"
        log = open(self.log_dir / f"{self.name.split('@')[0]}.log", "w")  # noqa: SIM115 - the child owns it
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", self.queues, "-n", self.name,
             "--concurrency", "1", "--pool", "prefork", "--without-gossip", "--without-mingle", "--loglevel", "INFO"],
            cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        deadline = time.monotonic() + timeout
        while not self._control().control.ping(destination=[self.name], timeout=0.5):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"worker {self.name} did not start (exit {self.proc.poll()})")

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def child_pids(self) -> list[int]:
        if not self.alive():
            return []
        try:
            text = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text()
        except OSError:
            return []
        return [int(p) for p in text.split()]

    def kill(self, mode: str) -> bool:
        """SIGKILL the whole worker (``worker``) or its pool child (``child``); False when nothing was killed."""
        if not self.alive():
            return False
        if mode == "worker":
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=30)
            return True
        children = self.child_pids()
        if not children:
            return False
        os.kill(children[0], signal.SIGKILL)
        return True

    def stop(self) -> None:
        if self.alive():
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        if self._app is not None:
            self._app.close()
            self._app = None


# ── the records every kind needs, and how to start one run of each kind ──────────────────────
def build_world(*, developer, execute_inline: Callable[[Callable[[], Any]], Any]) -> dict[str, Any]:
    """A dataset, a model, a trained draft version, a validated scenario set of it and a rendered report.

    ``execute_inline(start)`` calls ``start()`` (which starts a run) and executes that run in this process,
    returning the row: eager Celery in the bench, captured on-commit callbacks in the test."""
    from decimal import Decimal

    from governance.services.inventory import model_create
    from reports.services.documents import report_start
    from scenarios.models import ScenarioSet
    from scenarios.services.datasets import dataset_import_builtin
    from scenarios.services.runs import generation_run_start, training_run_start
    from validation.services.runs import validation_run_start

    dataset = dataset_import_builtin(actor=developer, builtin="sp500_nasdaq_wti")
    model = model_create(actor=developer, name="Chaos generator", purpose="chaos benchmark",
                         business_line="Markets", family="copula", exposure_usd=Decimal("500000000"),
                         materiality_purpose="regulatory_stress")
    windows = {"train_end": dt.date(2014, 12, 31), "holdout_start": dt.date(2015, 1, 1)}
    trained = execute_inline(lambda: training_run_start(actor=developer, model=model, version_label="1.0.0",
                                                        dataset=dataset, engine="factor_mc", seed=1, **windows))
    assert trained.status == "SUCCEEDED", trained.error
    version = trained.model_version
    generated = execute_inline(lambda: generation_run_start(actor=developer, model_version=version, n_scenarios=500,
                                                            horizon=20, purpose="development", seed=1))
    assert generated.status == "SUCCEEDED", generated.error
    scenario_set = ScenarioSet.objects.get(generation_run=generated)
    validated = execute_inline(lambda: validation_run_start(actor=developer, scenario_set=scenario_set,
                                                            tiers=["univariate"]))
    assert validated.status == "SUCCEEDED", validated.error
    report = execute_inline(lambda: report_start(actor=developer, model_version=version))
    assert report.status == "SUCCEEDED", report.error
    return {"developer": developer, "dataset": dataset, "model": model, "windows": windows, "version": version,
            "scenario_set": scenario_set, "report": report, "labels": iter(range(2, 10_000))}


def start_run(kind: str, world: dict[str, Any], seed: int):
    """Start one run of ``kind`` through its app's public service (enqueued on commit); returns the row to watch."""
    from reports.services.documents import report_start
    from reports.services.packets import packet_start
    from scenarios.services.runs import generation_run_start, training_run_start
    from validation.models import ValidationPart
    from validation.services.runs import validation_run_start

    developer = world["developer"]
    if kind == "training":
        return training_run_start(actor=developer, model=world["model"], version_label=f"{next(world['labels'])}.0.0",
                                  dataset=world["dataset"], engine="diffusion", config=DIFFUSION, seed=seed,
                                  **world["windows"])
    if kind == "generation":
        return generation_run_start(actor=developer, model_version=world["version"], n_scenarios=20_000, horizon=60,
                                    purpose="development", seed=seed)
    if kind == "validation":
        run = validation_run_start(actor=developer, scenario_set=world["scenario_set"],
                                   tiers=["univariate", "temporal"], seed=seed)
        return ValidationPart.objects.get(run=run, name="statistical")
    if kind == "report":
        return report_start(actor=developer, model_version=world["version"], seed=seed)
    if kind == "packet":
        return packet_start(actor=developer, report=world["report"])
    raise ValueError(f"unknown kind {kind!r}")


# ── what a finished run must look like ───────────────────────────────────────────────────────
SUCCESS_ACTIONS = {"training_run": "training_run.succeeded", "generation_run": "generation_run.succeeded",
                   "validation_part": "validation_run.succeeded", "report": "report.rendered",
                   "packet": "packet.built"}


def output_problems(row) -> tuple[list[str], list[str]]:
    """(problems, artefact paths) of a SUCCEEDED run: one result, one success event, artefacts whole."""
    from django.db.models import Count

    from governance.artifacts import read_bytes
    from governance.models import AuditEvent, Evidence, ModelVersion
    from governance.services.run_state import run_kind_of
    from scenarios.models import ScenarioSet
    from validation.models import MetricRow

    kind = run_kind_of(row).object_type
    problems, paths = [], []
    object_type, object_id = kind, row.pk
    if kind == "validation_part":
        object_type, object_id = "validation_run", row.run_id
        run = row.run
        if run.status != "SUCCEEDED":
            problems.append(f"validation run {run.pk} is {run.status}: {run.error}")
        doubled = (MetricRow.objects.filter(run=run).values("tier", "name", "factor").annotate(n=Count("id"))
                   .filter(n__gt=1).count())
        if doubled:
            problems.append(f"validation run {run.pk}: {doubled} metrics stored twice")
        evidence = Evidence.objects.filter(source=run.lineage_uid).count()
        if evidence != 1:
            problems.append(f"validation run {run.pk}: evidence attached {evidence} times")
    elif kind == "training_run":
        if ModelVersion.objects.filter(model_id=row.model_id, version=row.version_label).count() != 1:
            problems.append(f"training run {row.pk}: not exactly one version {row.version_label}")
        paths.append((row.checkpoint_path, row.checkpoint_sha256))
    elif kind == "generation_run":
        sets = list(ScenarioSet.objects.filter(generation_run=row))
        if len(sets) != 1:
            problems.append(f"generation run {row.pk}: {len(sets)} scenario sets")
        paths += [(s.storage_path, s.sha256) for s in sets]
    elif kind in ("report", "packet"):
        paths.append((row.storage_path, row.sha256))
        if kind == "report" and Evidence.objects.filter(source=row.lineage_uid).count() != 1:
            problems.append(f"report {row.pk}: evidence attached more than once")
    events = AuditEvent.objects.filter(object_type=object_type, object_id=str(object_id),
                                       action=SUCCESS_ACTIONS[kind]).count()
    if events != 1:
        problems.append(f"{object_type} {object_id}: {events} '{SUCCESS_ACTIONS[kind]}' events")
    for path, sha in paths:
        try:
            read_bytes(path, expected_sha256=sha)
        except OSError as error:
            problems.append(f"{kind} {row.pk}: artefact {path}: {error}")
    return problems, [p for p, _ in paths]


def artefact_files(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


# ── one kind: kills and checks ───────────────────────────────────────────────────────────────
@dataclass
class KindResult:
    kind: str
    runs: int = 0
    kills: int = 0
    kills_mid_run: int = 0
    by_mode: dict[str, int] = field(default_factory=lambda: {m: 0 for m in MODES})
    succeeded: int = 0
    lost: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    attempts: list[int] = field(default_factory=list)
    recovery_seconds: list[float] = field(default_factory=list)
    clean_seconds: float | None = None
    artefact_paths: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        recovery = sorted(self.recovery_seconds)
        return {"runs": self.runs, "kills": self.kills, "kills_mid_run": self.kills_mid_run, "by_mode": self.by_mode,
                "succeeded": self.succeeded, "lost": len(self.lost), "lost_detail": self.lost[:10],
                "problems": self.problems[:10], "duplicate_or_broken_outputs": len(self.problems),
                "max_attempts_used": max(self.attempts, default=0),
                "clean_run_seconds": None if self.clean_seconds is None else round(self.clean_seconds, 2),
                "recovery_seconds_median": round(recovery[len(recovery) // 2], 2) if recovery else None,
                "recovery_seconds_max": round(recovery[-1], 2) if recovery else None}


def _wait(predicate, timeout: float, tick: Callable[[], None], interval: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        tick()
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return None


def chaos_kind(kind: str, *, world: dict[str, Any], worker: ChaosWorker, kills: int, rng: random.Random,
               run_timeout: float = 240, first_mode: int = 0, enqueue: Callable[[Callable[[], Any]], Any]
               ) -> KindResult:
    """Two uninterrupted runs of ``kind`` (the second's duration sets where kills land), then ``kills`` rounds of
    start → claimed → random sleep → SIGKILL (modes alternate) → restart → wait for the end, reaping as beat would."""
    from governance.models import RunStatus
    from governance.services.run_state import run_reap_stale

    result = KindResult(kind=kind)
    last_reap = [0.0]

    def reap() -> None:
        if time.monotonic() - last_reap[0] >= 0.5:
            last_reap[0] = time.monotonic()
            run_reap_stale()

    def finished(model, pk):
        return lambda: model.objects.filter(pk=pk).exclude(status__in=[RunStatus.PENDING, RunStatus.RUNNING]).first()

    def claimed(model, pk):
        return lambda: model.objects.filter(pk=pk).exclude(status=RunStatus.PENDING).first()

    def settle(row, started: float | None) -> None:
        model = type(row)
        done = _wait(finished(model, row.pk), run_timeout, reap)
        result.runs += 1
        if done is None:
            result.lost.append(f"{kind} {row.pk}: not finished within {run_timeout:.0f} s "
                               f"({model.objects.get(pk=row.pk).status})")
            return
        if started is not None:
            result.recovery_seconds.append(time.monotonic() - started)
        result.attempts.append(done.attempts)
        if done.status != RunStatus.SUCCEEDED:
            result.lost.append(f"{kind} {row.pk}: {done.status}: {done.error[:200]}")
            return
        result.succeeded += 1
        problems, paths = output_problems(done)
        result.problems += problems
        result.artefact_paths += paths

    if not worker.alive():
        worker.start()
    for warm in (True, False):  # the first run pays the pool child's imports (torch): time the second
        row = enqueue(lambda: start_run(kind, world, seed=0))
        _wait(claimed(type(row), row.pk), run_timeout, reap)
        begin = time.monotonic()
        settle(row, None)
        if not warm:
            result.clean_seconds = time.monotonic() - begin
    for i in range(kills):
        mode = MODES[(first_mode + i) % len(MODES)]
        if not worker.alive():
            worker.start()
        row = enqueue(lambda i=i: start_run(kind, world, seed=i + 1))
        if _wait(claimed(type(row), row.pk), run_timeout, reap) is None:
            result.lost.append(f"{kind} {row.pk}: never claimed")
            continue
        time.sleep(rng.uniform(0, max(0.05, 0.9 * (result.clean_seconds or 1.0))))
        mid_run = type(row).objects.filter(pk=row.pk, status=RunStatus.RUNNING).exists()
        if worker.kill(mode):
            killed_at = time.monotonic()
            result.kills += 1
            result.by_mode[mode] += 1
            result.kills_mid_run += int(mid_run)
        else:
            killed_at = None
        if not worker.alive():
            worker.start()
        settle(row, killed_at)
    return result


def stuck_running(lease: float) -> dict[str, list[int]]:
    """Runs of every kind RUNNING with a heartbeat older than the lease."""
    from django.utils import timezone

    from governance.models import RunStatus
    from governance.services.run_state import run_kinds

    old = timezone.now() - dt.timedelta(seconds=lease)
    stuck = {}
    for kind in run_kinds():
        ids = list(kind.model.objects.filter(status=RunStatus.RUNNING, heartbeat_at__lt=old)
                   .values_list("pk", flat=True))
        if ids:
            stuck[kind.object_type] = ids
    return stuck


def run_chaos(*, world: dict[str, Any], worker: ChaosWorker, kills: int, seed: int, artifact_root: Path,
              enqueue: Callable[[Callable[[], Any]], Any], kinds=KINDS) -> dict[str, Any]:
    """Every kind in turn on one (restartable) worker; the end-of-bench checks; figures as a dict."""
    from governance.audit_verify import verify_audit_chain
    from governance.services.run_state import run_reap_stale

    rng = random.Random(seed)  # noqa: S311 - where to kill, not a secret
    before = artefact_files(artifact_root)
    start = time.monotonic()
    results = {}
    for index, kind in enumerate(kinds):
        results[kind] = chaos_kind(kind, world=world, worker=worker, kills=kills, rng=rng, first_mode=index % 2,
                                   enqueue=enqueue)
    worker.stop()
    time.sleep(LEASE * 2 + 0.5)
    final_reap = run_reap_stale()  # sweeps the half-written temporary files of killed writers
    referenced = {p for r in results.values() for p in r.artefact_paths}
    # Charts drawn after a run succeeded (reports.FigureSet) are artefacts of their own, referenced by their set.
    from reports.models import FigureSet

    referenced |= {f["path"] for fs in FigureSet.objects.all() for f in (fs.figures or []) if f.get("path")}
    new_files = artefact_files(artifact_root) - before
    unreferenced = sorted(f for f in new_files - referenced)
    chain = verify_audit_chain()
    stuck = stuck_running(LEASE)
    return {
        "kinds": {k: r.as_dict() for k, r in results.items()},
        "kills": sum(r.kills for r in results.values()),
        "kills_mid_run": sum(r.kills_mid_run for r in results.values()),
        "runs_lost": sum(len(r.lost) for r in results.values()),
        "stuck_running_after_lease": sum(len(v) for v in stuck.values()),
        "duplicate_or_broken_outputs": sum(len(r.problems) for r in results.values()),
        "unreferenced_artefact_files": len(unreferenced), "unreferenced_detail": unreferenced[:10],
        "temp_files_swept": len(final_reap.temp_files_removed),
        "audit_chain_ok": chain.ok, "audit_events": chain.n_events, "audit_reason": chain.reason,
        "worker_starts": worker.starts, "lease_seconds": LEASE, "max_attempts": MAX_ATTEMPTS,
        "seconds": round(time.monotonic() - start, 1),
    }


# ── the benchmark: its own database, Redis db and artefact root ───────────────────────────────
def _fresh_database(server_url: str, name: str, *, create: bool = True) -> str:
    import psycopg

    base = server_url.rsplit("/", 1)[0]
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if create:
            conn.execute(f'CREATE DATABASE "{name}"')
    return f"{base}/{name}"


def chaos(quick: bool = False, kills: int | None = None) -> dict:
    kills = kills if kills is not None else (2 if quick else 20)
    server = os.environ.get("CHAOS_DATABASE_URL") or os.environ.get("DATABASE_URL") \
        or "postgres://postgres:postgres@127.0.0.1:5432/postgres"
    redis_url = os.environ.get("CHAOS_REDIS_URL", "redis://127.0.0.1:6379/14")
    database_url = _fresh_database(server, "crucible_chaos")
    with tempfile.TemporaryDirectory(prefix="crucible-chaos-") as var_dir:
        env = {"DATABASE_URL": database_url, "CELERY_BROKER_URL": redis_url, "CRUCIBLE_TASKS": "broker",
               "CRUCIBLE_VAR_DIR": var_dir,
               "ARTIFACT_ROOT": os.path.join(var_dir, "artifacts"), "CRUCIBLE_RUN_LEASE_SECONDS": str(LEASE),
               "CRUCIBLE_RUN_MAX_ATTEMPTS": str(MAX_ATTEMPTS), "PYTHONUNBUFFERED": "1",
               "DJANGO_SETTINGS_MODULE": "config.settings",
               # a throw-away signing key for the audit checkpoints: RFC 8032 test vector 1, as the tests use
               "CRUCIBLE_SIGNING_KEY": "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"}
        os.environ.update(env)
        import django
        import redis

        django.setup()
        from django.conf import settings
        from django.contrib.auth.models import Group, User
        from django.core.management import call_command

        from config.celery import app as celery_app

        if settings.DATABASES["default"]["NAME"] != "crucible_chaos":
            raise RuntimeError("chaos needs its own Django settings: run it alone in a fresh process")
        redis.Redis.from_url(redis_url).flushdb()
        call_command("migrate", verbosity=0, interactive=False)
        developer = User.objects.create_user(username="chaos-dev")
        developer.groups.add(Group.objects.get(name="developer"))

        def inline(start):
            celery_app.conf.task_always_eager = True
            try:
                row = start()
            finally:
                celery_app.conf.task_always_eager = False
            row.refresh_from_db()
            return row

        world = build_world(developer=developer, execute_inline=inline)
        worker = ChaosWorker(dict(os.environ) | env, Path(var_dir))
        try:
            figures = run_chaos(world=world, worker=worker, kills=kills, seed=16, enqueue=lambda start: start(),
                                artifact_root=Path(settings.ARTIFACT_ROOT))
        finally:
            worker.stop()
            redis.Redis.from_url(redis_url).flushdb()
        from django.db import connections

        connections.close_all()
    _fresh_database(server, "crucible_chaos", create=False)
    figures["kills_per_kind"] = kills
    return figures


BENCHMARKS = {"chaos": chaos}
