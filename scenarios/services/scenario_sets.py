"""Scenario sets from outside (the scenario file format), and reading stored ones."""

from __future__ import annotations

import numpy as np
from django.db import transaction

from governance.access import require_any_role
from governance.artifacts import read_bytes, store_bytes
from governance.errors import InvalidInput
from governance.roles import ADMIN, DEVELOPER, VALIDATOR
from governance.services.audit import audit_record
from governance.services.lineage import lineage_entity, lineage_record_activity
from scenarios import scenario_files
from scenarios.models import Dataset, Purpose, ScenarioSet


def scenario_set_array(scenario_set: ScenarioSet) -> np.ndarray:
    paths, _ = scenario_files.read_canonical(read_bytes(scenario_set.storage_path,
                                                        expected_sha256=scenario_set.sha256))
    return paths


@transaction.atomic
def scenario_set_import(*, actor, data: bytes, filename: str, name: str, dataset: Dataset | None = None,
                        factors: list[str] | None = None) -> ScenarioSet:
    """Import an external scenario set (Parquet/CSV long format, or .npy + factor names)."""
    require_any_role(actor, DEVELOPER, VALIDATOR, ADMIN)
    if not (name or "").strip():
        raise InvalidInput("a scenario set needs a name", details={"name": ["required"]})
    try:
        paths, names = scenario_files.read_scenario_file(
            data, filename=filename, factors=factors, expected_factors=dataset.factors if dataset else None)
    except scenario_files.ScenarioFileError as error:
        raise InvalidInput(str(error), code="invalid_scenarios", details={"file": [str(error)]}) from error
    blob = scenario_files.canonical_bytes(paths, names)
    path, sha = store_bytes(blob, suffix=".parquet")
    scenario_set = ScenarioSet.objects.create(
        dataset=dataset, name=name.strip(), source=f"import:{filename[:150]}", purpose=Purpose.EXTERNAL,
        factors=names, n_scenarios=paths.shape[0], horizon=paths.shape[1], sha256=sha, size_bytes=len(blob),
        storage_path=path, created_by=actor,
    )
    audit_record(actor=actor, action="scenario_set.imported", object_type="scenario_set", object_id=scenario_set.pk,
                 after={"name": scenario_set.name, "sha256": sha, "shape": list(paths.shape), "source": filename})
    entity = lineage_entity(uid=scenario_set.lineage_uid, kind="scenario_set", label=scenario_set.name, sha256=sha,
                            object_type="scenario_set", object_id=scenario_set.pk, actor=actor)
    lineage_record_activity(activity_uid=f"scenario_import:{scenario_set.pk}", kind="import",
                            label=f"import {filename[:80]}", generated=[entity], agents=[actor], actor=actor)
    return scenario_set
