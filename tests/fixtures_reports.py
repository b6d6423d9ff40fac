"""Fixture: one small governed end-to-end run on real data, ready to be documented and packeted.

A GARCH-EVT Student-t copula trained on S&P 500 / NASDAQ / WTI up to 2014, a validation-purpose scenario
set, four validation tiers against the 2015- holdout, a stress of the sample book, a finding, the
validator's signed decision and the approver's signature.
"""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest

SAMPLE_BOOK = [
    {"kind": "linear", "factor": "SP500", "exposure": 1_000_000.0, "name": "index"},
    {"kind": "linear", "factor": "NASDAQ", "exposure": 500_000.0, "name": "tech"},
    {"kind": "quadratic", "factor": "WTI", "exposure": 200_000.0, "convexity": -50_000.0, "name": "oil"},
    {"kind": "option", "underlying": "SP500", "option_type": "put", "quantity": 100.0, "strike": 2500.0,
     "expiry": 0.5, "spot": 2600.0, "vol": 0.2, "rate": 0.02, "name": "index put"},
]


@pytest.fixture
def documented_version(train, generate, drive_to, developer, validator, approver,
                       django_capture_on_commit_callbacks):
    from governance.services.review import finding_raise
    from governance.services.workflow import version_transition
    from scenarios.services.stress import portfolio_create, stress_run
    from tests.conftest import PASSWORD
    from validation.services.runs import validation_part_execute, validation_run_start

    trained = train("garch_evt_copula", {"family": "student_t"})
    assert trained.status == "SUCCEEDED", trained.error
    version = drive_to(trained.model_version, "in_validation")
    scenario_set = generate(validator, version, n_scenarios=2000, horizon=20, purpose="validation", seed=1)
    with django_capture_on_commit_callbacks(execute=False):
        # The tiers this model passes (or warns on) against the calm 2015-18 holdout, so that the workflow
        # can go on to a signed decision; the full suite is exercised by the validation tests.
        run = validation_run_start(actor=validator, scenario_set=scenario_set,
                                   tiers=["multivariate", "temporal", "memorisation", "coherence"])
    for part in ("statistical", "neural"):
        validation_part_execute(run.pk, part, worker=f"{part}-worker")
    run.refresh_from_db()
    assert run.status == "SUCCEEDED", run.error
    portfolio = portfolio_create(actor=developer, name="sample book", positions=SAMPLE_BOOK)
    stress = stress_run(actor=validator, scenario_set=scenario_set, portfolio=portfolio, levels=[0.99, 0.995], k=5)
    finding = finding_raise(actor=validator, version=version, title="Oil tail under-dispersed",
                            description="WTI 99.5% quantile below the holdout's; monitor quarterly.",
                            severity="low", owner=developer, due_date=dt.date(2027, 6, 30))
    version = version_transition(actor=validator, version=version, action="validate", password=PASSWORD,
                                 reason="validated on the 2015-2018 holdout")
    version = version_transition(actor=approver, version=version, action="approve", password=PASSWORD,
                                 reason="approved for 2027 stress testing")
    return SimpleNamespace(version=version, training_run=trained, scenario_set=scenario_set, validation_run=run,
                           portfolio=portfolio, stress=stress, finding=finding)
