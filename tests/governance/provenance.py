"""A trained checkpoint for governance-layer tests, without running an engine.

Governance learns that a training run of a model produced a checkpoint from two facts the run
kernel writes to the audit trail (``training_run.started`` naming the model, ``training_run.succeeded``
naming the checkpoint's SHA-256) and from the bytes in the artefact store. This writes exactly those,
as the kernel would; tests that need a real engine use ``tests.fixtures_scenarios.train``.
"""

from __future__ import annotations

import itertools

from governance.artifacts import store_bytes
from governance.services.audit import audit_record

_run_ids = itertools.count(700_000)


def trained_checkpoint(*, actor, model, payload: bytes | None = None) -> dict:
    """Store checkpoint bytes and record a training run of ``model`` that produced them; returns version fields."""
    run_id = next(_run_ids)
    path, sha = store_bytes(payload or f"checkpoint of {model.model_id} run {run_id}".encode(), suffix=".ckpt")
    audit_record(actor=actor, action="training_run.started", object_type="training_run", object_id=run_id,
                 after={"model": model.model_id, "engine": "diffusion"})
    audit_record(actor=actor, action="training_run.succeeded", object_type="training_run", object_id=run_id,
                 after={"checkpoint_sha256": sha})
    return {"checkpoint_sha256": sha, "checkpoint_uri": path, "training_run": f"training_run:{run_id}"}
