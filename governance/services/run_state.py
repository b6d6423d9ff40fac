"""The run kernel: start, claim, heartbeat, progress, cancel, fail, retry and reap any kind of run.

DESIGN §2: every kind of long work (training, generation, validation parts, reports, packets,
dataset imports, …) is a row inheriting ``governance.models.RunFields`` and registered here with
``register_run_kind`` in its app's ``AppConfig.ready()``; a new kind adds a model and a body
function, never a claim loop.

* **Start** — ``run_start`` creates the row, writes its audit event and enqueues its task with
  ``transaction.on_commit`` in one transaction; it returns a ``RunStarted`` (id, kind, status,
  progress, URL): what an API needs to answer ``202 Accepted``. ``run_accepted(row)`` gives the same
  for a row created another way.
* **Claim** — a task delivered twice does its work once: the row is locked and taken only from
  PENDING, or from RUNNING when its holder's lease (``heartbeat_at`` + ``CRUCIBLE_RUN_LEASE_SECONDS``)
  ran out; ``attempts`` is incremented and is the holder's fencing token. A live lease elsewhere
  raises ``RunBusy`` (the task retries after the lease); a run that exhausted
  ``CRUCIBLE_RUN_MAX_ATTEMPTS`` is failed instead of being claimed again (a poison task that kills
  its worker every time ends, it does not loop).
* **Execute** — ``run_execute(model, id, worker=, body=)`` claims, keeps the lease alive from a
  heartbeat thread (every third of the lease) while ``body(run, lease)`` runs, and ends the row:
  SUCCEEDED (the body stores its results inside ``lease.completing()``, which re-checks the fencing
  token under a row lock so a worker whose lease was taken over never overwrites the new holder's
  outcome), CANCELLED (``lease.progress`` raises ``RunCancelled`` once cancellation is requested) or
  FAILED with the error's message. Each end is audited in the same transaction.
* **Reap** — ``run_reap_stale`` (``manage.py reap_stale_runs``; the Celery task
  ``governance.run_tasks.reap_stale_runs``) covers every registered kind: a RUNNING row with no
  heartbeat for twice the lease lost its worker; it is re-queued (``<kind>.requeued``) while it has
  attempts left, else FAILED (``<kind>.reaped``). A PENDING row whose message was lost with its
  worker (enqueued more than twice the lease ago) is enqueued again (delivery is idempotent), and
  half-written artefact temp files are swept.

Why the lease and the fencing token (Kleppmann, "How to do distributed locking", 2016): a worker can
pause or lose the database without dying; the token makes its late writes harmless.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import math
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import connection, connections, transaction
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.module_loading import import_string

from governance.artifacts import artifact_sweep_temp
from governance.errors import Conflict, Forbidden
from governance.models.runs import FINISHED_STATUSES, RunStatus
from governance.roles import ADMIN, has_role
from governance.services.audit import audit_record

logger = logging.getLogger(__name__)

WORKER_LOST = "worker lost: no heartbeat within twice the lease"


# ── errors ──────────────────────────────────────────────────────────────────────────────────
class RunBusy(Exception):
    """Another worker holds a live lease on the run; try again after ``retry_in`` seconds."""

    def __init__(self, retry_in: int) -> None:
        super().__init__(f"run is held by a live worker; retry in {retry_in}s")
        self.retry_in = retry_in


class RunCancelled(Exception):
    """Cancellation was requested while the run was working."""


class RunTakenOver(Exception):
    """This worker no longer holds the run (its lease ran out and another worker claimed it, or the
    reaper ended it): whatever it computed is dropped, the current holder's outcome stands."""


# ── settings ────────────────────────────────────────────────────────────────────────────────
def lease_seconds() -> int:
    return int(settings.CRUCIBLE_RUN_LEASE_SECONDS)


def max_attempts() -> int:
    return max(1, int(getattr(settings, "CRUCIBLE_RUN_MAX_ATTEMPTS", 3)))


def heartbeat_seconds() -> float:
    """How often the heartbeat thread renews a lease: a third of it, so two missed beats still hold."""
    return max(0.5, lease_seconds() / 3)


# ── the registry of run kinds ───────────────────────────────────────────────────────────────
@dataclass(frozen=True)
class RunKind:
    """A kind of run: its table, its audit object type, the Celery task (dotted path) that takes its id.

    ``route(row) -> (task path, args)`` overrides the message when the task takes something else than
    the row's id; ``on_status(row, previous)`` runs inside the transaction of every status change the
    kernel makes (claim, requeue, fail, cancel, success) — e.g. to keep a parent row in step. A kind
    without a task is an aggregate of other runs (a validation run is its parts): it has a URL but
    is never claimed or reaped itself.
    """

    model: type
    object_type: str
    task: str = ""
    url_name: str = ""
    route: Callable[[Any], tuple[str, tuple]] | None = None
    on_status: Callable[[Any, str], None] | None = None

    @property
    def executable(self) -> bool:
        return bool(self.task or self.route)


_REGISTRY: dict[type, RunKind] = {}


def register_run_kind(model: type, *, object_type: str, task: str = "", url_name: str = "",
                      route: Callable[[Any], tuple[str, tuple]] | None = None,
                      on_status: Callable[[Any, str], None] | None = None) -> RunKind:
    """Register a ``RunFields`` table with the kernel (call it from ``AppConfig.ready()``; idempotent)."""
    kind = RunKind(model=model, object_type=object_type, task=task, url_name=url_name, route=route,
                   on_status=on_status)
    _REGISTRY[model] = kind
    return kind


def run_kinds() -> list[RunKind]:
    return sorted(_REGISTRY.values(), key=lambda k: k.object_type)


def run_kind_of(model_or_row) -> RunKind:
    model = model_or_row if isinstance(model_or_row, type) else type(model_or_row)
    try:
        return _REGISTRY[model]
    except KeyError:
        raise LookupError(f"{model.__name__} is not a registered run kind (register_run_kind in its "
                          f"AppConfig.ready())") from None


def _notify(row, previous: str) -> None:
    kind = _REGISTRY.get(type(row))
    if kind is not None and kind.on_status is not None:
        kind.on_status(row, previous)


# Listeners of success: an app above governance learns that a run of a kind it does not own succeeded
# (reports draws its charts) without governance importing it; registered from that app's ``ready()``.
_SUCCEEDED: dict[type, list[Callable[[Any], None]]] = {}


def on_succeeded(model_cls: type, callback: Callable[[Any], None]) -> None:
    """Call ``callback(row)`` after the transaction that ended a ``model_cls`` row SUCCEEDED commits (every
    success goes through ``finish``, aggregates' too). Idempotent; a failing callback is logged and never
    undoes the success."""
    callbacks = _SUCCEEDED.setdefault(model_cls, [])
    if callback not in callbacks:
        callbacks.append(callback)


def _announce_success(row) -> None:
    for callback in _SUCCEEDED.get(type(row), ()):
        transaction.on_commit(lambda callback=callback: callback(row), robust=True)


def _audit(row, event: str, *, actor=None, after: Any = None, action: str | None = None) -> None:
    kind = _REGISTRY.get(type(row))
    object_type = kind.object_type if kind is not None else row._meta.model_name
    audit_record(actor=actor, action=action or f"{object_type}.{event}", object_type=object_type, object_id=row.pk,
                 after=after)


# ── start ───────────────────────────────────────────────────────────────────────────────────
@dataclass(frozen=True)
class RunStarted:
    """What starting a run gives an API: the row, and the body of its ``202 Accepted`` answer."""

    run: Any
    kind: str
    id: int
    status: str
    progress: float
    url: str

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "status": self.status, "progress": self.progress,
                "url": self.url}


def run_url(row) -> str:
    kind = run_kind_of(row)
    if not kind.url_name:
        return ""
    try:
        return reverse(kind.url_name, kwargs={"pk": row.pk})
    except NoReverseMatch:
        return ""


def run_accepted(row) -> RunStarted:
    kind = run_kind_of(row)
    return RunStarted(run=row, kind=kind.object_type, id=row.pk, status=row.status, progress=row.progress,
                      url=run_url(row))


def run_start(model_cls: type, *, actor, action: str | None = None, audit_after: Any = None,
              related: dict[str, Iterable] | None = None, **fields: Any) -> RunStarted:
    """Create a PENDING run row of a registered kind, audit ``action`` (default ``<kind>.started``) and
    enqueue its task once the transaction commits — one call, one transaction.

    ``audit_after`` may be a callable of the new row; ``related`` sets many-to-many fields."""
    kind = run_kind_of(model_cls)
    with transaction.atomic():
        row = model_cls.objects.create(created_by=actor, heartbeat_at=timezone.now(), **fields)
        for name, values in (related or {}).items():
            getattr(row, name).set(values)
        after = audit_after(row) if callable(audit_after) else audit_after
        audit_record(actor=actor, action=action or f"{kind.object_type}.started", object_type=kind.object_type,
                     object_id=row.pk, after=after)
        run_enqueue(row)
    return run_accepted(row)


def _send(kind: RunKind, row) -> None:
    path, args = kind.route(row) if kind.route is not None else (kind.task, (row.pk,))
    import_string(path).delay(*args)


def run_enqueue(row) -> None:
    """Send the row's task when the current transaction commits. With a broker, a failed send is logged,
    not raised: the row stays PENDING and the reaper enqueues it again."""
    kind = run_kind_of(row)
    if not kind.executable:
        raise LookupError(f"{kind.object_type} runs are aggregates: enqueue their parts")
    from governance.health import tasks_inline

    eager = tasks_inline()
    transaction.on_commit(lambda: _send(kind, row), robust=not eager)


# ── claim, progress, completion ─────────────────────────────────────────────────────────────
def finish(run, *, status: str, error: str = "") -> None:
    """Set the terminal fields of ``run`` and save it (the caller holds the row and audits)."""
    run.status = status
    run.error = error[:4000]
    run.finished_at = timezone.now()
    if status == RunStatus.SUCCEEDED:
        run.progress = 1.0
        run.error = ""
    run.save()
    if status == RunStatus.SUCCEEDED:
        _announce_success(run)


@dataclass
class Completion:
    """The locked row inside ``RunLease.completing()``; ``succeed`` ends it SUCCEEDED and audits."""

    run: Any
    lease: RunLease
    done: bool = False

    def succeed(self, *, action: str | None = None, after: Any = None, audit: bool = True) -> None:
        if self.done:
            return
        previous = self.run.status
        finish(self.run, status=RunStatus.SUCCEEDED)
        if audit:
            _audit(self.run, "succeeded", actor=self.run.created_by, after=after, action=action)
        _notify(self.run, previous)
        self.done = True


@dataclass
class RunLease:
    """A worker's hold on one run: ``attempt`` is its fencing token. Calling it reports progress."""

    model: type
    run_id: int
    worker: str
    attempt: int
    _cancel_checked: bool = field(default=False, repr=False)

    def _held(self):
        return self.model.objects.filter(pk=self.run_id, status=RunStatus.RUNNING, attempts=self.attempt)

    def progress(self, fraction: float, **detail: Any) -> None:
        """Progress and heartbeat in one UPDATE; raises ``RunCancelled`` when cancellation was requested and
        ``RunTakenOver`` when this worker no longer holds the run."""
        updated = self._held().update(progress=max(0.0, min(1.0, float(fraction))), progress_detail=detail,
                                      heartbeat_at=timezone.now())
        if not updated:
            raise RunTakenOver(f"{self.model.__name__} {self.run_id} is no longer held by attempt {self.attempt}")
        if self.model.objects.filter(pk=self.run_id, cancel_requested=True).exists():
            raise RunCancelled()

    __call__ = progress

    def beat(self) -> bool:
        """Renew the lease; False once this worker no longer holds the run."""
        return bool(self._held().update(heartbeat_at=timezone.now()))

    def holds(self) -> bool:
        return self._held().exists()

    @contextlib.contextmanager
    def completing(self, *, action: str | None = None, after: Any = None) -> Iterator[Completion]:
        """One transaction in which the body stores its results: the row is locked and the fencing token
        checked first (``RunTakenOver`` otherwise); the row ends SUCCEEDED (audited ``action``, default
        ``<kind>.succeeded``) when the block does not call ``succeed`` itself."""
        with transaction.atomic():
            row = self.model.objects.select_for_update().get(pk=self.run_id)
            if row.status != RunStatus.RUNNING or row.attempts != self.attempt:
                raise RunTakenOver(f"{self.model.__name__} {self.run_id} was taken over "
                                   f"(attempt {row.attempts}, {row.status}) before attempt {self.attempt} finished")
            completion = Completion(run=row, lease=self)
            yield completion
            completion.succeed(action=action, after=after)


def claim(model_cls: type, run_id: int, *, worker: str) -> RunLease | None:
    """A lease if this worker now holds the run; None if it is finished (or just failed for having used up
    its attempts); ``RunBusy`` if a live worker holds it."""
    now = timezone.now()
    lease = lease_seconds()
    with transaction.atomic():
        row = model_cls.objects.select_for_update().filter(pk=run_id).first()
        if row is None or row.status in FINISHED_STATUSES:
            return None
        if row.status == RunStatus.RUNNING:
            expires = (row.heartbeat_at or now) + dt.timedelta(seconds=lease)
            if expires > now:
                raise RunBusy(retry_in=max(1, math.ceil((expires - now).total_seconds())))
            if row.attempts >= max_attempts():
                _fail_locked(row, f"{WORKER_LOST} on each of {row.attempts} attempts; re-run it", event="reaped",
                             actor=None)
                return None
        previous = row.status
        row.status, row.worker, row.heartbeat_at = RunStatus.RUNNING, worker[:255], now
        row.started_at = row.started_at or now
        row.attempts += 1
        row.progress = 0.0
        row.save(update_fields=["status", "worker", "heartbeat_at", "started_at", "attempts", "progress"])
        _notify(row, previous)
        return RunLease(model=model_cls, run_id=run_id, worker=worker[:255], attempt=row.attempts)


def report_progress(model_cls: type, run_id: int, *, fraction: float, **detail: Any) -> None:
    """Progress and heartbeat of a RUNNING run without a lease object (prefer ``RunLease.progress``)."""
    model_cls.objects.filter(pk=run_id, status=RunStatus.RUNNING).update(
        progress=max(0.0, min(1.0, float(fraction))), progress_detail=detail, heartbeat_at=timezone.now())
    if model_cls.objects.filter(pk=run_id, cancel_requested=True).exists():
        raise RunCancelled()


_STARTER = object()  # audit as the person who started the run (the reaper passes None: the system)


def _fail_locked(row, message: str, *, status: str = RunStatus.FAILED, event: str = "failed", actor=_STARTER,
                 audit: bool = True) -> None:
    previous = row.status
    finish(row, status=status, error=message)
    if audit:
        after = {"error": message[:500], "attempts": row.attempts} if status == RunStatus.FAILED else None
        _audit(row, event, actor=row.created_by if actor is _STARTER else actor, after=after)
    _notify(row, previous)


def run_fail(model_cls: type, run_id: int, *, error: str, attempt: int | None = None,
             status: str = RunStatus.FAILED) -> bool:
    """End a run FAILED (or CANCELLED) with ``error``, audited; with ``attempt``, only while that attempt holds
    it. False when there was nothing to end."""
    with transaction.atomic():
        row = model_cls.objects.select_for_update().filter(pk=run_id).first()
        if row is None or row.status in FINISHED_STATUSES:
            return False
        if attempt is not None and (row.status != RunStatus.RUNNING or row.attempts != attempt):
            return False
        _fail_locked(row, error, status=status, event="failed" if status == RunStatus.FAILED else "cancelled")
        return True


def error_message(error: BaseException) -> str:
    """An application error's own message, else ``Type: text``."""
    message = getattr(error, "message", None)
    return message if isinstance(message, str) and message else f"{type(error).__name__}: {error}"


# ── execute ─────────────────────────────────────────────────────────────────────────────────
class _Heartbeat:
    """Renews the lease from a thread while the body runs: a body may spend longer than a lease in one
    stage (an epoch, a PDF). When the process dies the thread dies with it and the lease runs out."""

    def __init__(self, lease: RunLease) -> None:
        self.lease = lease
        self.stop = threading.Event()
        self.thread: threading.Thread | None = None

    def __enter__(self) -> _Heartbeat:
        if connection.vendor == "sqlite" and connection.is_in_memory_db():
            return self  # another thread would see another (empty) database
        self.thread = threading.Thread(target=self._run, name=f"heartbeat-{self.lease.run_id}", daemon=True)
        self.thread.start()
        return self

    def _run(self) -> None:
        try:
            while not self.stop.wait(heartbeat_seconds()):
                try:
                    if not self.lease.beat():
                        return
                except Exception:  # noqa: BLE001 - a missed beat is not fatal; the next one may land
                    logger.warning("heartbeat of %s %s failed", self.lease.model.__name__, self.lease.run_id,
                                   exc_info=True)
        finally:
            connections.close_all()  # this thread's own connections

    def __exit__(self, *exc) -> None:
        self.stop.set()
        if self.thread is not None:
            self.thread.join(timeout=30)


def run_execute(model_cls: type, run_id: int, *, worker: str, body: Callable[[Any, RunLease], None],
                queryset=None) -> bool:
    """The worker's side of every run kind: claim (``RunBusy`` propagates to the task, which retries), run
    ``body(run, lease)`` with the lease renewed by a heartbeat thread, then end the row. True when this
    call ended it SUCCEEDED.

    The body reports progress with ``lease(fraction, stage=...)`` and stores its results inside
    ``with lease.completing(...) as done:``; a body that returns without storing anything ends the run
    SUCCEEDED with a plain ``<kind>.succeeded`` event. Any exception ends it FAILED with the message
    (``error.message`` for application errors), ``RunCancelled`` ends it CANCELLED, and ``RunTakenOver``
    leaves it to its new holder."""
    lease = claim(model_cls, run_id, worker=worker)
    if lease is None:
        return False
    run = (queryset if queryset is not None else model_cls.objects).get(pk=run_id)
    with _Heartbeat(lease):
        try:
            body(run, lease)
        except RunTakenOver as lost:
            logger.warning("%s: dropping this attempt's work", lost)
            return False
        except RunCancelled:
            run_fail(model_cls, run_id, error="cancelled on request", attempt=lease.attempt,
                     status=RunStatus.CANCELLED)
            return False
        except Exception as error:  # noqa: BLE001 - any failure is the run's outcome, recorded on the row
            logger.warning("%s %s failed", model_cls.__name__, run_id, exc_info=True)
            run_fail(model_cls, run_id, error=error_message(error), attempt=lease.attempt)
            return False
    if lease.holds():  # the body stored nothing itself: done
        with contextlib.suppress(RunTakenOver), lease.completing():
            pass
    return model_cls.objects.filter(pk=run_id, status=RunStatus.SUCCEEDED, attempts=lease.attempt).exists()


# ── cancel ──────────────────────────────────────────────────────────────────────────────────
@transaction.atomic
def run_cancel(*, actor, run):
    """Cancel a run: a PENDING one at once, a RUNNING one at its next progress report. The person who started
    it or an admin; 409 when it has already finished."""
    if run.created_by_id != actor.pk and not has_role(actor, ADMIN):
        raise Forbidden("only the person who started a run (or an admin) may cancel it")
    row = type(run).objects.select_for_update().get(pk=run.pk)
    if row.is_finished:
        raise Conflict(f"the run is already {row.status}", code="run_finished")
    if row.status == RunStatus.PENDING:
        _fail_locked(row, "cancelled before it started", status=RunStatus.CANCELLED, event="cancelled",
                     audit=False)
    else:
        row.cancel_requested = True
        row.save(update_fields=["cancel_requested"])
    _audit(row, "cancel_requested", actor=actor)
    return row


# ── reap ────────────────────────────────────────────────────────────────────────────────────
@dataclass
class ReapReport:
    requeued: dict[str, list[int]] = field(default_factory=dict)
    failed: dict[str, list[int]] = field(default_factory=dict)
    re_enqueued: dict[str, list[int]] = field(default_factory=dict)
    temp_files_removed: list[str] = field(default_factory=list)
    swept: dict[str, list[str]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"requeued": self.requeued, "failed": self.failed, "re_enqueued": self.re_enqueued,
                "temp_files_removed": self.temp_files_removed, "swept": self.swept}


# Leftovers only an app knows (e.g. uploads whose request died before their run row existed): the reaper calls
# each registered sweep with its horizon (twice the lease) and reports what it removed.
_SWEEPS: dict[str, Callable[[float], list[str]]] = {}


def register_sweep(name: str, sweep: Callable[[float], list[str]]) -> None:
    """Register ``sweep(older_than_seconds) -> removed`` for the reaper (call from ``AppConfig.ready``)."""
    _SWEEPS[name] = sweep


def _reap_row(model_cls: type, pk: int, expired: dt.datetime, report: ReapReport, name: str) -> None:
    with transaction.atomic():
        row = (model_cls.objects.select_for_update(skip_locked=True)
               .filter(pk=pk, status=RunStatus.RUNNING, heartbeat_at__lt=expired).first())
        if row is None:
            return  # it beat, finished or is being handled elsewhere meanwhile
        if row.attempts < max_attempts():
            lost_worker = row.worker
            row.status, row.worker, row.heartbeat_at = RunStatus.PENDING, "", timezone.now()
            row.progress_detail = {"stage": "requeued", "lost_worker": lost_worker}
            row.save(update_fields=["status", "worker", "heartbeat_at", "progress_detail"])
            _audit(row, "requeued", after={"attempts": row.attempts, "lost_worker": lost_worker,
                                           "reason": WORKER_LOST})
            _notify(row, RunStatus.RUNNING)
            run_enqueue(row)
            report.requeued.setdefault(name, []).append(pk)
        else:
            _fail_locked(row, f"{WORKER_LOST} (attempt {row.attempts} of {max_attempts()}); re-run it",
                         event="reaped", actor=None)
            report.failed.setdefault(name, []).append(pk)


def run_reap_stale(*, models: Iterable[type] | None = None) -> ReapReport:
    """Re-queue (or, out of attempts, fail) RUNNING runs of every registered kind whose lease ran out twice
    over; enqueue again PENDING runs enqueued more than twice the lease ago; sweep half-written artefacts."""
    report = ReapReport()
    horizon = dt.timedelta(seconds=2 * lease_seconds())
    kinds = [run_kind_of(m) for m in models] if models is not None else run_kinds()
    for kind in kinds:
        if not kind.executable:
            continue
        model_cls, name = kind.model, kind.object_type
        expired = timezone.now() - horizon
        stale = list(model_cls.objects.filter(status=RunStatus.RUNNING, heartbeat_at__lt=expired)
                     .order_by("pk").values_list("pk", flat=True))
        for pk in stale:
            _reap_row(model_cls, pk, expired, report, name)
        waiting = list(model_cls.objects.annotate(enqueued=Coalesce("heartbeat_at", "created_at"))
                       .filter(status=RunStatus.PENDING, enqueued__lt=expired).order_by("pk")
                       .values_list("pk", flat=True))
        for pk in waiting:
            with transaction.atomic():
                touched = model_cls.objects.filter(Q(heartbeat_at__lt=expired) | Q(heartbeat_at__isnull=True),
                                                   pk=pk, status=RunStatus.PENDING).update(
                    heartbeat_at=timezone.now())
                if touched:
                    run_enqueue(model_cls.objects.get(pk=pk))
                    report.re_enqueued.setdefault(name, []).append(pk)
    report.temp_files_removed = artifact_sweep_temp(older_than_seconds=horizon.total_seconds())
    for name, sweep in _SWEEPS.items():
        try:
            report.swept[name] = sweep(horizon.total_seconds())
        except Exception:  # noqa: BLE001 - one app's failing sweep must not stop the reaper
            logger.exception("the %s sweep failed", name)
    return report


def reap_stale(model_cls: type) -> list[int]:
    """``run_reap_stale`` for one kind: the ids of the RUNNING runs it re-queued or failed."""
    report = run_reap_stale(models=[model_cls])
    name = run_kind_of(model_cls).object_type
    return sorted(report.requeued.get(name, []) + report.failed.get(name, []))


__all__ = [
    "Completion", "ReapReport", "RunBusy", "RunCancelled", "RunKind", "RunLease", "RunStarted", "RunTakenOver",
    "claim", "error_message", "finish", "lease_seconds", "max_attempts", "on_succeeded", "reap_stale",
    "register_run_kind",
    "report_progress", "run_accepted", "run_cancel", "run_enqueue", "run_execute", "run_fail", "run_kind_of",
    "run_kinds", "run_reap_stale", "run_start", "run_url",
]
