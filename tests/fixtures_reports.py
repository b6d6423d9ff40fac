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


def record_validation(scenario_set, *, actor, dataset=None, rows=(), tier_outcomes=None, outcome=None,
                      version=None):
    """A SUCCEEDED validation run of ``scenario_set`` recorded directly with the given metric rows
    (``dict``s of ``validation.models.MetricRow`` fields): for tests of what pages, the PDF and the packet
    show, and for sets that only need to count as validated. Tier outcomes and the run's outcome are
    judged from the rows by ``validation.outcomes`` unless given."""
    from django.utils import timezone

    from validation.models import MetricRow, ValidationRun
    from validation.outcomes import worst
    from validation.services.policy import policy_current

    version = version if version is not None else scenario_set.model_version
    dataset = dataset or scenario_set.dataset
    assert dataset is not None, "a validation run needs a dataset"
    tiers: dict[str, list[str]] = {}
    for row in rows:
        tiers.setdefault(row["tier"], []).append(row["outcome"])
    tier_outcomes = tier_outcomes if tier_outcomes is not None else {t: worst(o) for t, o in sorted(tiers.items())}
    now = timezone.now()
    run = ValidationRun.objects.create(
        scenario_set=scenario_set, model_version=version, dataset=dataset,
        policy=policy_current(version.model.tier if version is not None else 3),
        train_start=getattr(version, "train_start", None), train_end=getattr(version, "train_end", None)
        or dt.date(2014, 12, 31), holdout_start=getattr(version, "holdout_start", None) or dt.date(2015, 1, 1),
        tiers=sorted(tier_outcomes), tier_outcomes=tier_outcomes,
        outcome=outcome if outcome is not None else worst(tier_outcomes.values()),
        status="SUCCEEDED", progress=1.0, seed=0, created_by=actor, started_at=now, finished_at=now)
    for row in rows:
        MetricRow.objects.create(run=run, **({"direction": "max"} | dict(row)))
    # the lineage a real run records (validation.services.runs), so reports and packets can cite it
    from governance.services.lineage import lineage_entity, lineage_record_activity

    result = lineage_entity(uid=f"validation_result:{run.pk}", kind="validation_result",
                            label=f"validation result {run.pk} ({run.outcome})", object_type="validation_run",
                            object_id=run.pk, actor=actor)
    lineage_record_activity(activity_uid=run.lineage_uid, kind="validation", label=f"validation run {run.pk}",
                            used=[scenario_set.lineage_uid], generated=[result], agents=[actor],
                            object_type="validation_run", object_id=run.pk, actor=actor)
    return run


# What a conditioned "severe" set's validation holds (issue 15): conformance that fails, plausibility with its
# message, a default coherence rule, a coherence co-move rule that had nothing to test, and an adversarial tier
# that tested nothing — so that the NOT_RUN tier is named next to the run's outcome.
SEVERE_ROWS = [
    {"tier": "conformance", "name": "conformance_vol_ratio", "factor": "SP500", "value": 0.7, "threshold": 0.25,
     "warn_threshold": 0.5, "direction": "abs", "outcome": "FAIL",
     "details": {"message": "severe asked for 2.0× vol, set has 3.4×", "asked": 2.0, "realised": 3.4}},
    {"tier": "plausibility", "name": "plausibility_outside_share", "value": 0.004, "threshold": 0.01,
     "warn_threshold": 0.05, "direction": "max", "outcome": "PASS",
     "details": {"message": "8 of 2000 paths (0.4%) lie outside the plausibility region"}},
    {"tier": "coherence", "name": "coherence_max_daily_move", "factor": "SP500", "value": 0.0, "threshold": 0.0,
     "warn_threshold": 0.01, "direction": "max", "outcome": "PASS",
     "details": {"rule": {"rule": "max_daily_move", "factor": "SP500", "maximum_abs": 0.25},
                 "label": "SP500 one-day move within ±0.25"}},
    {"tier": "coherence", "name": "coherence_co_move", "factor": "SP500->NASDAQ", "value": None,
     "direction": "info", "outcome": "NOT_RUN",
     "details": {"rule": {"rule": "co_move"}, "label": "NASDAQ falls when SP500 falls",
                 "not_run": "no scenario has SP500 down by more than 0.1"}},
    {"tier": "adversarial", "name": "adversarial_benign_share", "value": None, "direction": "info",
     "outcome": "NOT_RUN", "details": {"not_run": "the model could not be sampled over a grid of conditions"}},
    {"tier": "comparison", "name": "version_disagreement", "value": 0.9, "threshold": 0.5, "warn_threshold": 0.33,
     "direction": "min", "outcome": "PASS",
     "details": {"message": "VaR 99% at 90% of the other versions' median"}},
]


@pytest.fixture
def documented_with_severe(documented_version, generate, developer, validator):
    """``documented_version`` plus a ``severe`` set of the same version, validated (rows recorded directly:
    conformance FAIL, adversarial NOT_RUN), stressed on the same book, marked out of training range and
    filtered — everything issue 15 asks the PDF, the packet and the pages to show."""
    from scenarios.models import ScenarioSet
    from scenarios.services.stress import stress_run

    doc = documented_version
    severe = generate(developer, doc.version, n_scenarios=300, horizon=20, purpose="use", seed=3,
                      condition={"severity": "severe"})
    updates = {}
    for name, value in (("out_of_training_range", True),
                        ("out_of_range_reason", "asked beyond the trained vol range for the 2027 exercise"),
                        ("filter_report", {"rules": ["max_daily_move"], "drawn": 320, "removed": 20, "share": 0.0625,
                                           "reasons": {"SP500 one-day move within ±0.25": 20}, "max_share": 0.1})):
        if hasattr(severe, name):
            updates[name] = value
    if updates:
        ScenarioSet.objects.filter(pk=severe.pk).update(**updates)
        severe.refresh_from_db()
    run = record_validation(severe, actor=validator, rows=SEVERE_ROWS)
    stress = stress_run(actor=validator, scenario_set=severe, portfolio=doc.portfolio, levels=[0.99, 0.995], k=3)
    doc.severe, doc.severe_run, doc.severe_stress = severe, run, stress
    return doc
