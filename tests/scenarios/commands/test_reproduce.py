"""``manage.py reproduce``: a copula generation run re-sampled bit-for-bit; an altered stored set is a mismatch."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from django.core.management import CommandError, call_command

from scenarios import scenario_files
from scenarios.models import ScenarioSet

pytestmark = pytest.mark.django_db


def reproduce(run_id: int) -> tuple[int, str]:
    out = io.StringIO()
    try:
        call_command("reproduce", "--generation-run", str(run_id), stdout=out)
    except CommandError as error:
        return error.returncode, out.getvalue() + str(error)
    return 0, out.getvalue()


@pytest.fixture
def copula_set(train, generate, developer) -> ScenarioSet:
    trained = train("garch_evt_copula", {"family": "student_t"})
    assert trained.status == "SUCCEEDED", trained.error
    return generate(developer, trained.model_version, n_scenarios=300, horizon=10, purpose="development", seed=11,
                    condition={"severity": "severe"})


def test_a_copula_generation_run_reproduces_bit_for_bit(copula_set):
    before = ScenarioSet.objects.count()
    status, out = reproduce(copula_set.generation_run_id)
    assert status == 0, out
    assert "MATCH: bit-for-bit" in out and f"regenerated sha256 {copula_set.sha256}" in out
    assert ScenarioSet.objects.count() == before  # nothing written


def test_an_altered_stored_set_is_a_mismatch(copula_set, settings):
    stored = Path(settings.ARTIFACT_ROOT) / copula_set.storage_path
    original = stored.read_bytes()
    array, factors = scenario_files.read_canonical(original)
    array[7, 3, 1] += 1e-9  # one value, the smallest nudge that still changes the bytes
    try:
        stored.write_bytes(scenario_files.canonical_bytes(array, factors))
        status, out = reproduce(copula_set.generation_run_id)
        assert status == 1 and "MISMATCH" in out and "altered" in out, out
    finally:
        stored.write_bytes(original)  # the artefact store is shared by the session's tests


def test_a_different_recorded_hash_is_a_mismatch(copula_set):
    # The row says the set had other bytes (e.g. the run was re-seeded after the fact): regenerating cannot match.
    ScenarioSet.objects.filter(pk=copula_set.pk).update(sha256="0" * 64)
    status, out = reproduce(copula_set.generation_run_id)
    assert status == 1 and "MISMATCH" in out, out


def test_bad_input_exits_2():
    status, out = reproduce(999_999)
    assert status == 2 and "does not exist" in out


def test_the_worker_and_reproduce_share_one_sampling_function(copula_set):
    from governance.artifacts import read_bytes
    from scenarios.models import GenerationRun
    from scenarios.services.runs import generation_sample

    paths, state = generation_sample(GenerationRun.objects.get(pk=copula_set.generation_run_id))
    stored, factors = scenario_files.read_canonical(read_bytes(copula_set.storage_path))
    assert factors == state.factors
    np.testing.assert_array_equal(paths, stored)
