"""Starting a training run in the browser: the engine's settings form generated from its Config, the run started
on the run kernel (303 to the job page), and every refusal (unknown key, NaN/∞, wrong type, a value the Config
refuses, a window overlapping the holdout, too few training rows) shown next to its field with nothing written."""

from __future__ import annotations

import dataclasses
import html

import pytest
from django.test import Client

from governance.models import AuditEvent
from portal.forms_develop import next_version_label
from scenarios.engine_forms import config_schema
from scenarios.engines import registry
from scenarios.models import TrainingRun
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def _client(user) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def _url(model) -> str:
    return f"/inventory/{model.model_id}/train/"


def _entry(dataset, **changes) -> dict:
    return {"engine": "factor_mc", "version_label": "1.0.0", "dataset": dataset.pk, "train_start": "",
            "train_end": "2014-12-31", "holdout_start": "2015-01-01", "holdout_end": "", "seed": "3",
            "config__estimator": "ewma", "config__ewma_lambda": "0.9", "config__gamma": "1.5",
            "config__mean": "zero"} | changes


@pytest.mark.parametrize("engine", sorted(registry.ENGINE_MODULES))
def test_the_form_reads_every_engine_config_as_its_dataclass_declares_it(engine):
    fields = dataclasses.fields(registry.engine_module(engine).Config)
    schema = config_schema(engine)
    assert [f.name for f in schema.fields] == [f.name for f in fields]
    for read, declared in zip(schema.fields, fields, strict=True):
        assert read.default == declared.default, (engine, read.name)
        assert read.kind in ("bool", "int", "float", "str", "json")
    # The form's defaults are a valid Config of the engine (what a person gets by changing nothing).
    registry.make_config(engine, {f.name: f.default for f in schema.fields})


def test_the_form_shows_the_engine_settings_with_defaults_and_help(developer, scenario_model, real_dataset):
    response = _client(developer).get(_url(scenario_model))
    assert response.status_code == 200
    page = response.content.decode()
    assert 'name="config__ewma_lambda"' in page and 'value="0.94"' in page
    assert "RiskMetrics decay in (0, 1)" in page
    assert 'name="version_label"' in page and 'value="1.0.0"' in page

    page = _client(developer).get(_url(scenario_model) + "?engine=historical_bootstrap").content.decode()
    assert 'name="config__block_length"' in page and 'name="config__ewma_lambda"' not in page
    assert 'type="checkbox" name="config__regime_sampling"' in page
    assert "trailing window (days) of the stress score" in page


def test_a_developer_starts_a_training_run_and_is_sent_to_its_job_page(
        developer, scenario_model, real_dataset, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = _client(developer).post(_url(scenario_model), _entry(real_dataset))
    assert response.status_code == 303, response.context and response.context["form"].errors
    run = TrainingRun.objects.get()
    assert response["Location"] == f"/jobs/training_run/{run.pk}/"
    assert run.status in ("PENDING", "SUCCEEDED"), run.error
    assert (run.engine, run.version_label, run.seed, str(run.train_end), str(run.holdout_start)) == (
        "factor_mc", "1.0.0", 3, "2014-12-31", "2015-01-01")
    assert run.config == {"estimator": "ewma", "ewma_lambda": 0.9, "gamma": 1.5, "mean": "zero"}
    assert run.created_by == developer
    assert AuditEvent.objects.filter(action="training_run.started", object_id=str(run.pk)).exists()


def _refused(client, model, data, field):
    response = client.post(_url(model), data)
    assert response.status_code == 400
    form = response.context["form"]
    assert field in form.errors, form.errors
    assert not TrainingRun.objects.exists()
    assert not AuditEvent.objects.filter(action="training_run.started").exists()
    return " ".join(form.errors[field]), html.unescape(response.content.decode())


@pytest.mark.parametrize(("changes", "field", "message"), [
    ({"config__bogus": "1"}, "config", "unknown config keys for engine factor_mc: bogus"),
    ({"config__ewma_lambda": "nan"}, "config__ewma_lambda", "NaN and infinity are refused"),
    ({"config__gamma": "inf"}, "config__gamma", "NaN and infinity are refused"),
    ({"config__gamma": "-Infinity"}, "config__gamma", "NaN and infinity are refused"),
    ({"config__gamma": "three"}, "config__gamma", "Enter a finite number"),
    # A value of the right type that the engine's Config refuses, shown next to the setting it names.
    ({"config__gamma": "0.5"}, "config__gamma", "gamma must be a finite number >= 1"),
    ({"config__estimator": "crystal_ball"}, "config__estimator", "unknown covariance estimator"),
    ({"version_label": "v1"}, "version_label", "semantic version"),
    ({"seed": "-1"}, "seed", "greater than or equal to 0"),
])
def test_a_bad_config_comes_back_with_the_field_error_and_nothing_written(
        developer, scenario_model, real_dataset, changes, field, message):
    errors, page = _refused(_client(developer), scenario_model, _entry(real_dataset, **changes), field)
    assert message in errors
    assert message.split(":")[0] in page


def test_a_whole_number_setting_refuses_a_fraction(developer, scenario_model, real_dataset):
    data = {k: v for k, v in _entry(real_dataset, engine="historical_bootstrap").items()
            if not k.startswith("config__")} | {"config__vol_window": "2.5", "config__block_length": "10",
                                                "config__method": "stationary"}
    errors, _ = _refused(_client(developer), scenario_model, data, "config__vol_window")
    assert "whole number" in errors


def test_a_tuple_setting_is_json_and_refuses_nan(developer, scenario_model, real_dataset):
    base = {k: v for k, v in _entry(real_dataset, engine="garch_evt_copula").items() if not k.startswith("config__")}
    errors, _ = _refused(_client(developer), scenario_model, base | {"config__nu_bounds": "[2.05, NaN]"},
                         "config__nu_bounds")
    assert "finite numbers only" in errors


def test_a_training_window_overlapping_the_holdout_is_refused_with_the_dates(developer, scenario_model, real_dataset):
    errors, page = _refused(_client(developer), scenario_model,
                            _entry(real_dataset, holdout_start="2014-06-30"), "holdout_start")
    assert "The holdout (2014-06-30) must start strictly after the training window ends (2014-12-31)" in errors
    assert "2014-06-30" in page


def test_the_services_own_refusal_is_shown_next_to_the_field(developer, scenario_model, real_dataset):
    # Twenty calendar days of training hold fewer than the 60 rows the service asks for.
    errors, _ = _refused(_client(developer), scenario_model,
                         _entry(real_dataset, train_start="2014-12-10"), "train_end")
    assert "at least 60 are needed" in errors


def test_a_version_label_in_use_is_refused_next_to_the_field(developer, scenario_model, real_dataset, train):
    assert train("factor_mc", version="1.0.0").status == "SUCCEEDED"
    response = _client(developer).post(_url(scenario_model), _entry(real_dataset))
    assert response.status_code == 400
    assert "already has (or is training) a version 1.0.0" in " ".join(response.context["form"].errors["version_label"])
    assert TrainingRun.objects.count() == 1
    # The next free label is what the form proposes.
    assert 'value="1.1.0"' in _client(developer).get(_url(scenario_model)).content.decode()


def test_the_start_training_link_of_a_version_copies_its_settings(developer, scenario_model, real_dataset, train):
    version = train("factor_mc", {"estimator": "ledoit_wolf", "gamma": 2.0}).model_version
    page = _client(developer).get(_url(scenario_model) + f"?from={version.pk}").content.decode()
    assert 'id="copied-from"' in page
    assert '<option value="ledoit_wolf"' not in page  # a text field: the value is the copied one
    assert 'name="config__estimator" value="ledoit_wolf"' in page
    assert 'name="config__gamma" value="2.0"' in page


def test_next_version_label_is_one_minor_above_the_highest():
    assert next_version_label([]) == "1.0.0"
    assert next_version_label(["1.0.0", "1.4.2", "0.9.0", "junk"]) == "1.5.0"


@pytest.mark.parametrize("role", ["validator", "approver", "auditor"])
def test_a_validator_approver_or_auditor_cannot_start_training(users, role, scenario_model, real_dataset):
    client = _client(users[role])
    assert client.get(_url(scenario_model)).status_code == 403
    assert client.post(_url(scenario_model), _entry(real_dataset)).status_code == 403
    assert not TrainingRun.objects.exists()


def test_a_developer_who_does_not_develop_the_model_cannot_train_it(make_user, scenario_model, real_dataset):
    from governance import roles

    stranger = make_user("dev2", roles.DEVELOPER)
    response = _client(stranger).post(_url(scenario_model), _entry(real_dataset))
    assert response.status_code == 403
    assert "only the owner or developers" in response.content.decode()
    assert not TrainingRun.objects.exists()
