"""Issue 16 §2, bounded: SIGKILL a real Celery worker once in the middle of each kind of run.

The same code as ``python -m bench chaos`` (bench/chaos.py), one kill per kind instead of twenty, the modes
alternating (whole worker / pool child) so both happen: every run ends SUCCEEDED, none is left RUNNING past
its lease, each has one result and one success event with an artefact that verifies, no unreferenced
artefact appears, and the audit chain verifies.
"""

from __future__ import annotations

import json

import pytest

from bench import chaos as chaos_bench
from config.celery import app as celery_app
from tests.workers import worker_env

pytestmark = [pytest.mark.worker, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_killing_workers_mid_run_loses_no_run_leaves_none_stuck_duplicates_nothing_and_keeps_the_chain(
        through_redis, developer, settings, tmp_path):
    from django.conf import settings as live

    settings.CRUCIBLE_RUN_LEASE_SECONDS = chaos_bench.LEASE
    settings.CRUCIBLE_RUN_MAX_ATTEMPTS = chaos_bench.MAX_ATTEMPTS

    def inline(start):
        celery_app.conf.task_always_eager = True
        try:
            row = start()
        finally:
            celery_app.conf.task_always_eager = False
        row.refresh_from_db()
        return row

    world = chaos_bench.build_world(developer=developer, execute_inline=inline)
    env = worker_env(through_redis, {"CRUCIBLE_RUN_LEASE_SECONDS": str(chaos_bench.LEASE),
                                     "CRUCIBLE_RUN_MAX_ATTEMPTS": str(chaos_bench.MAX_ATTEMPTS)})
    worker = chaos_bench.ChaosWorker(env, tmp_path)
    try:
        figures = chaos_bench.run_chaos(world=world, worker=worker, kills=1, seed=16, enqueue=lambda start: start(),
                                        artifact_root=live.ARTIFACT_ROOT)
    finally:
        worker.stop()

    print(json.dumps(figures, indent=1, sort_keys=True))  # the figures, with -s
    kinds = figures["kinds"]
    assert set(kinds) == set(chaos_bench.KINDS)
    assert figures["kills"] == len(chaos_bench.KINDS), figures
    assert sum(k["by_mode"]["worker"] for k in kinds.values()) >= 2
    assert sum(k["by_mode"]["child"] for k in kinds.values()) >= 2
    assert figures["runs_lost"] == 0, {k: v["lost_detail"] for k, v in kinds.items()}
    assert figures["stuck_running_after_lease"] == 0
    assert figures["duplicate_or_broken_outputs"] == 0, {k: v["problems"] for k, v in kinds.items()}
    assert figures["unreferenced_artefact_files"] == 0, figures["unreferenced_detail"]
    assert figures["audit_chain_ok"], figures["audit_reason"]
    assert all(k["succeeded"] == k["runs"] == 3 for k in kinds.values()), kinds  # 2 clean + 1 killed
    assert figures["kills_mid_run"] >= 3, kinds  # the kills land while the runs work, not after
