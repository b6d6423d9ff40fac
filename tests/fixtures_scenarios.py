"""Fixtures: a real dataset (S&P 500, NASDAQ, WTI from arch.data), a registered model, trained runs."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from governance.services.inventory import model_create
from scenarios.services.datasets import dataset_import_builtin
from scenarios.services.runs import training_run_execute, training_run_start


@pytest.fixture
def real_dataset(developer):
    return dataset_import_builtin(actor=developer, builtin="sp500_nasdaq_wti")


@pytest.fixture
def scenario_model(developer):
    return model_create(actor=developer, name="Equity/oil stress", purpose="20-day stress scenarios",
                        business_line="Markets", family="copula", exposure_usd=Decimal("500000000"),
                        materiality_purpose="regulatory_stress")


@pytest.fixture
def train(developer, scenario_model, real_dataset, django_capture_on_commit_callbacks):
    """Start a training run and execute it in this process (what the worker would do)."""

    def run(engine: str = "factor_mc", config=None, version: str = "1.0.0", **windows):
        kwargs = dict(train_end=dt.date(2014, 12, 31), holdout_start=dt.date(2015, 1, 1)) | windows
        with django_capture_on_commit_callbacks(execute=False):
            started = training_run_start(actor=developer, model=scenario_model, version_label=version,
                                         dataset=real_dataset, engine=engine, config=config or {}, seed=7, **kwargs)
        training_run_execute(started.pk, worker="test-worker")
        started.refresh_from_db()
        return started

    return run


@pytest.fixture
def generate(django_capture_on_commit_callbacks):
    """Start a generation run and execute it in this process; returns the scenario set."""
    from scenarios.models import ScenarioSet
    from scenarios.services.runs import generation_run_execute, generation_run_start

    def run(actor, version, **kwargs):
        with django_capture_on_commit_callbacks(execute=False):
            started = generation_run_start(actor=actor, model_version=version, **kwargs)
        generation_run_execute(started.pk, worker="test-worker")
        started.refresh_from_db()
        assert started.status == "SUCCEEDED", started.error
        return ScenarioSet.objects.get(generation_run=started)

    return run


@pytest.fixture
def drive_to(developer, validator):
    """Submit a trained version and take it into validation (the first two workflow steps)."""
    from governance.services.workflow import version_transition
    from tests.conftest import PASSWORD

    def go(version, target: str):
        version = version_transition(actor=developer, version=version, action="submit", password=PASSWORD)
        if target == "in_validation":
            version = version_transition(actor=validator, version=version, action="start_validation")
        return version

    return go
