import pytest

from governance.errors import Conflict, InvalidInput
from governance.models import AuditEvent, Evidence, LineageEdge
from validation.models import MetricRow, ValidationRun
from validation.services.runs import validation_part_execute, validation_run_start

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_scheduled_checkpoints(settings):
    # validate() counts the callbacks a start queues; a scheduled audit checkpoint (every 50 events) would add
    # its publication callback whenever the count happens to fall inside a start. Checkpoints are not under test.
    settings.CRUCIBLE_AUDIT_CHECKPOINT_EVERY_EVENTS = 0
    settings.CRUCIBLE_AUDIT_CHECKPOINT_EVERY_MINUTES = 0


def validate(actor, scenario_set, capture, **kwargs):
    with capture(execute=False) as callbacks:
        run = validation_run_start(actor=actor, scenario_set=scenario_set, **kwargs)
    assert len(callbacks) == (2 if "discriminative" in run.tiers else 1)
    for part in ("statistical", "neural"):
        validation_part_execute(run.pk, part, worker=f"{part}-worker")
    run.refresh_from_db()
    return run


def test_a_copula_scenario_set_validated_end_to_end(train, generate, developer, validator,
                                                   django_capture_on_commit_callbacks):
    version = train("garch_evt_copula", {"family": "student_t", "start_variance": "historical"}).model_version
    scenario_set = generate(developer, version, n_scenarios=2000, horizon=20, purpose="development", seed=1)
    run = validate(developer, scenario_set, django_capture_on_commit_callbacks,
                   options={"portfolio_weights": {"SP500": 1.0, "NASDAQ": 0.5}})
    assert run.status == "SUCCEEDED", run.error
    assert set(run.tier_outcomes) == {"univariate", "multivariate", "temporal", "stylized_facts", "discriminative",
                                      "memorisation", "risk_backtest", "crisis", "coherence", "comparison"}
    assert run.tier_outcomes["comparison"] == "NOT_RUN"  # no stress result of another version to compare with
    assert run.outcome in {"PASS", "WARN", "FAIL"} and len(run.results_sha256) == 64
    assert str(run.holdout_start) == "2015-01-01" and run.policy.model_tier == version.model.tier
    rows = MetricRow.objects.filter(run=run)
    assert rows.filter(tier="univariate", name="ks_daily").count() == 3
    assert rows.filter(name="ks_daily").first().floor is not None
    evidence = Evidence.objects.get(version=version)
    assert evidence.outcome == run.outcome and evidence.sha256 == run.results_sha256
    assert LineageEdge.objects.filter(source__uid=f"validation_result:{run.pk}",
                                      target__uid=f"validation_run:{run.pk}").exists()
    used = set(LineageEdge.objects.filter(source__uid=f"validation_run:{run.pk}", relation="used")
               .values_list("target__kind", flat=True))
    assert used == {"scenario_set", "holdout"}
    assert LineageEdge.objects.filter(source__kind="holdout", target__uid=f"dataset:{run.dataset_id}").exists()
    assert AuditEvent.objects.filter(action="validation_run.succeeded", object_id=str(run.pk)).exists()


def test_iid_gaussian_scenarios_fail_the_stylized_facts(train, generate, developer, validator,
                                                        django_capture_on_commit_callbacks):
    version = train("factor_mc", {"estimator": "sample"}).model_version
    scenario_set = generate(developer, version, n_scenarios=2000, horizon=60, purpose="development", seed=2)
    run = validate(validator, scenario_set, django_capture_on_commit_callbacks, tiers=["stylized_facts"])
    assert run.tier_outcomes == {"stylized_facts": "FAIL"}, run.tier_outcomes
    bootstrap = train("historical_bootstrap", {"method": "moving", "block_length": 60.0}, version="2.0.0").model_version
    scenario_set = generate(developer, bootstrap, n_scenarios=2000, horizon=60, purpose="development", seed=2)
    run = validate(validator, scenario_set, django_capture_on_commit_callbacks, tiers=["stylized_facts"])
    assert run.tier_outcomes["stylized_facts"] in {"PASS", "WARN"}, list(
        run.metrics.values_list("name", "factor", "outcome", "value"))


def test_an_overlapping_holdout_is_refused_and_the_refusal_audited(train, generate, developer, validator):
    import datetime as dt

    version = train("factor_mc").model_version
    scenario_set = generate(developer, version, n_scenarios=100, horizon=5, purpose="development")
    with pytest.raises(Conflict) as error:
        validation_run_start(actor=validator, scenario_set=scenario_set, holdout_start=dt.date(2014, 6, 1))
    assert error.value.code == "holdout_overlaps_training"
    assert not ValidationRun.objects.exists()
    assert AuditEvent.objects.filter(action="validation_run.refused").count() == 1
    with pytest.raises(InvalidInput, match="unknown tier"):
        validation_run_start(actor=validator, scenario_set=scenario_set, tiers=["vibes"])
    with pytest.raises(InvalidInput, match="unknown factors"):
        validation_run_start(actor=validator, scenario_set=scenario_set, options={"portfolio_weights": {"GOLD": 1}})


def test_passing_validation_evidence_lets_the_validator_validate(train, generate, developer, validator,
                                                                 django_capture_on_commit_callbacks, drive_to):
    from governance.services.workflow import version_transition
    from tests.conftest import PASSWORD

    version = train("historical_bootstrap", {"method": "moving", "block_length": 20.0}).model_version
    version = drive_to(version, "in_validation")
    scenario_set = generate(validator, version, n_scenarios=1000, horizon=20, purpose="validation", seed=3)
    run = validate(validator, scenario_set, django_capture_on_commit_callbacks, tiers=["univariate"])
    assert run.status == "SUCCEEDED"
    if run.outcome in ("PASS", "WARN"):
        version = version_transition(actor=validator, version=version, action="validate", password=PASSWORD)
        assert version.status == "validated"
    else:
        with pytest.raises(Conflict):
            version_transition(actor=validator, version=version, action="validate", password=PASSWORD)


def test_a_conditional_model_is_judged_on_its_holdout_replay(train, generate, developer, validator,
                                                             django_capture_on_commit_callbacks):
    """A copula started at the end of 2014 is judged on paths started where 2015-18 actually was, and its
    VaR is backtested day by day; the severe set and a filter-less engine are judged as generated."""
    version = train("garch_evt_copula", {"family": "student_t"}).model_version
    unconditioned = generate(developer, version, n_scenarios=1000, horizon=10, purpose="development", seed=1)
    run = validate(validator, unconditioned, django_capture_on_commit_callbacks,
                   tiers=["univariate", "risk_backtest"])
    assert run.status == "SUCCEEDED", run.error
    comparator = run.metrics.get(name="holdout_comparator")
    assert comparator.outcome == "INFO" and comparator.details["engine"] == "garch_evt_copula"
    assert comparator.details["start_days"] == run.metrics.get(name="var_exceedance_rate").details["n_obs"]
    assert comparator.details["scenario_set_sha256"] == unconditioned.sha256
    backtest = run.metrics.get(name="var_exceedance_rate").details
    assert backtest["method"].startswith("rolling day-ahead") and len(backtest["var_by_day"]) == backtest["n_obs"]
    assert backtest["var_max"] > 1.5 * backtest["var_min"]  # the VaR follows the holdout's volatility
    # the same run again replays the same paths (deterministic in the run's seed)
    again = validate(validator, unconditioned, django_capture_on_commit_callbacks, tiers=["univariate"])
    assert (again.metrics.get(name="holdout_comparator").details["replay_sha256"]
            == comparator.details["replay_sha256"])

    severe = generate(developer, version, n_scenarios=1000, horizon=10, purpose="development", seed=1,
                      condition={"severity": "severe"})
    run = validate(validator, severe, django_capture_on_commit_callbacks, tiers=["risk_backtest"])
    assert not run.metrics.filter(name="holdout_comparator").exists()
    assert run.metrics.get(name="var_exceedance_rate").details["method"].startswith("static")

    bootstrap = train("historical_bootstrap", {}, version="2.0.0").model_version
    scenario_set = generate(developer, bootstrap, n_scenarios=1000, horizon=10, purpose="development", seed=1)
    run = validate(validator, scenario_set, django_capture_on_commit_callbacks, tiers=["risk_backtest"])
    assert not run.metrics.filter(name="holdout_comparator").exists()
