"""Fixtures for the page tests: a user per role, and a version under validation with a finished run."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from governance import roles


@pytest.fixture
def admin_role_user(make_user):
    """Holds the platform's admin role (a group), not Django's superuser flag."""
    return make_user("adm", roles.ADMIN)


@pytest.fixture
def other_validator(make_user):
    return make_user("val2", roles.VALIDATOR)


@pytest.fixture
def users(developer, validator, approver, auditor, admin_role_user):
    return {"developer": developer, "validator": validator, "approver": approver, "auditor": auditor,
            "admin": admin_role_user}


@pytest.fixture
def under_validation(train, generate, drive_to, developer, validator, django_capture_on_commit_callbacks):
    """A GARCH-EVT copula version in validation (validator assigned), its finished validation run
    on real data and a stress of the sample book: what a validator decides on."""
    from scenarios.services.stress import portfolio_create, stress_run
    from tests.fixtures_reports import SAMPLE_BOOK
    from validation.services.runs import validation_part_execute, validation_run_start

    trained = train("garch_evt_copula", {"family": "student_t"})
    assert trained.status == "SUCCEEDED", trained.error
    version = drive_to(trained.model_version, "in_validation")
    scenario_set = generate(validator, version, n_scenarios=500, horizon=20, purpose="validation", seed=1)
    with django_capture_on_commit_callbacks(execute=False):
        run = validation_run_start(actor=validator, scenario_set=scenario_set,
                                   tiers=["multivariate", "temporal", "memorisation", "coherence"])
    for part in ("statistical", "neural"):
        validation_part_execute(run.pk, part, worker=f"{part}-worker")
    run.refresh_from_db()
    assert run.status == "SUCCEEDED", run.error
    portfolio = portfolio_create(actor=developer, name="sample book", positions=SAMPLE_BOOK)
    stress = stress_run(actor=validator, scenario_set=scenario_set, portfolio=portfolio, levels=[0.99], k=3)
    version.refresh_from_db()
    return SimpleNamespace(version=version, training_run=trained, scenario_set=scenario_set, run=run,
                           stress=stress)


@pytest.fixture(autouse=True)
def clear_cache():
    """Sign-in failure counters and drawn charts live in the cache: every test starts without them."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def packeted(documented_version, approver, django_capture_on_commit_callbacks):
    """``documented_version`` with its documentation PDF and its submission packet built for real."""
    from reports.services.documents import report_execute, report_start
    from reports.services.packets import packet_execute, packet_start

    with django_capture_on_commit_callbacks(execute=False):
        report = report_start(actor=approver, model_version=documented_version.version,
                              options={"shap_background": 50, "shap_sample": 50, "max_waterfalls": 2})
    report_execute(report.pk, worker="test-worker")
    report.refresh_from_db()
    assert report.status == "SUCCEEDED", report.error
    with django_capture_on_commit_callbacks(execute=False):
        packet = packet_start(actor=approver, report=report)
    packet_execute(packet.pk, worker="test-worker")
    packet.refresh_from_db()
    assert packet.status == "SUCCEEDED", packet.error
    documented_version.report, documented_version.packet = report, packet
    return documented_version
