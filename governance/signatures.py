"""What an e-signature on a model version is bound to.

``signed_state`` is every field that defines *what* was signed (the artefact, its data, its
windows, its configuration); the workflow status is not in it, since signing moves it. The
signature stores ``record_sha256 = SHA-256(canonical_json(signed_state))``; the binding holds
while the version's current state hashes to the same value, and is visibly broken otherwise.
"""

from __future__ import annotations

from governance.canonical import canonical_json, jsonable, sha256_hex
from governance.models import ModelVersion, Signature


def signed_state(version: ModelVersion) -> dict:
    return jsonable({
        "model": version.model.model_id,
        "version_id": version.pk,
        "version": version.version,
        "engine": version.engine,
        "config": version.config,
        "checkpoint_sha256": version.checkpoint_sha256,
        "checkpoint_uri": version.checkpoint_uri,
        "training_run": version.training_run,
        "dataset_fingerprints": version.dataset_fingerprints,
        "train_start": version.train_start,
        "train_end": version.train_end,
        "holdout_start": version.holdout_start,
        "holdout_end": version.holdout_end,
        "environment": version.environment,
        "developers": sorted(version.developers.values_list("id", flat=True)),
    })


def state_hash(version: ModelVersion) -> str:
    return sha256_hex(canonical_json(signed_state(version)))


def signature_is_bound(signature: Signature, current_hash: str | None = None) -> bool:
    """True while the version still hashes to what was signed."""
    if current_hash is None:
        current_hash = state_hash(signature.version)
    return current_hash == signature.record_sha256


def changed_fields(signature: Signature) -> list[str]:
    """Which signed fields differ now from the signed state (shown when a binding is broken)."""
    now = signed_state(signature.version)
    then = signature.signed_fields or {}
    return sorted(k for k in set(now) | set(then) if now.get(k) != then.get(k))
