"""The Fed's supervisory scenarios end to end: read from the copy in data/, translate, generate, record lineage."""

import datetime as dt

import numpy as np
import pytest

from governance.artifacts import read_bytes
from governance.models import LineageEdge, RunStatus
from scenarios.models import ScenarioSet
from scenarios.scenario_files import read_canonical
from scenarios.services.runs import generation_run_execute, generation_run_start

pytestmark = pytest.mark.django_db


def test_severely_adverse_2025_translated_into_daily_paths(train, developer, django_capture_on_commit_callbacks):
    run = train("supervisory", {}, train_start=dt.date(1999, 1, 4))
    assert run.status == RunStatus.SUCCEEDED, run.error
    version = run.model_version
    assert len(version.dataset_fingerprints) == 2  # the market data and the Fed's historic table
    fed_nodes = LineageEdge.objects.filter(source__uid=f"training_run:{run.pk}", target__kind="fed_table")
    assert fed_nodes.count() == 1
    moves = {}
    for scenario in ("baseline", "severely_adverse"):
        with django_capture_on_commit_callbacks(execute=False):
            gen = generation_run_start(actor=developer, model_version=version, n_scenarios=300, horizon=63,
                                       purpose="development", seed=4,
                                       condition={"supervisory": {"edition": "2025", "scenario": scenario}})
        assert gen.condition["extra"]["fed_source"]["file"].startswith("2025-Table_")
        generation_run_execute(gen.pk, worker="w")
        gen.refresh_from_db()
        assert gen.status == RunStatus.SUCCEEDED, gen.error
        paths, factors = read_canonical(read_bytes(ScenarioSet.objects.get(generation_run=gen).storage_path))
        moves[scenario] = float(np.median(paths[:, :, factors.index("SP500")].sum(axis=1)))
    # 2025 severely adverse: the Fed's stock index falls by about half in the first quarters.
    assert moves["severely_adverse"] < -0.3 < moves["baseline"]


def test_unknown_supervisory_scenario_is_a_clear_error(train, developer):
    from governance.errors import InvalidInput

    version = train("factor_mc").model_version
    with pytest.raises(InvalidInput, match="no Fed table 2025/apocalypse/domestic"):
        generation_run_start(actor=developer, model_version=version, n_scenarios=10, horizon=10,
                             purpose="development", condition={"supervisory": {"edition": "2025",
                                                                               "scenario": "apocalypse"}})
