"""``manage.py run_pipeline`` on an imported dataset, and its refusals of bad input (nothing written)."""

import datetime as dt
import json

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError

from governance.models import AuditEvent, InventoryModel
from pipelines import services as pipeline
from scenarios.models import Dataset, TrainingRun

pytestmark = pytest.mark.django_db(transaction=True)

GOOD = ["--dataset", "equity_pair", "--engine", "garch_evt_copula", "--config", '{"family": "student_t"}',
        "--scenarios", "300", "--horizon", "10", "--train-end", "2012-12-31", "--holdout-start", "2013-01-01",
        "--holdout-end", "2016-12-31"]


@pytest.fixture
def equity_pair(developer):
    """The user's own data: a two-column table imported with import_dataset (here cut from arch.data)."""
    import pandas as pd
    from arch.data import nasdaq, sp500

    from scenarios.services.datasets import dataset_import

    frame = pd.concat({"SPX": sp500.load()["Adj Close"], "NDX": nasdaq.load()["Adj Close"]}, axis=1,
                      join="inner").dropna().rename_axis("date").reset_index()
    return dataset_import(actor=developer, name="equity_pair", raw=frame, source="test",
                          risk_classes={"SPX": "equity", "NDX": "equity"})


def _counts():
    return (get_user_model().objects.count(), InventoryModel.objects.count(), TrainingRun.objects.count(),
            AuditEvent.objects.count())


@pytest.mark.slow
def test_run_pipeline_on_an_imported_dataset(equity_pair, capsys, tmp_path, monkeypatch):
    monkeypatch.setenv(pipeline.PASSWORD_ENV, "pipeline password")
    call_command("run_pipeline", *GOOD, "--out", str(tmp_path), "--json")
    summary = json.loads(capsys.readouterr().out)
    assert summary["dataset"]["id"] == equity_pair.pk
    assert summary["versions"]["champion"]["engine"] == "garch_evt_copula"
    assert summary["versions"]["champion"]["holdout"] == ["2013-01-01", "2016-12-31"]
    assert set(summary["versions"]) == {"champion"}  # no crisis check, no Fed translation unless asked
    assert summary["scenario_sets"]["champion/unconditioned"]["n"] == 300
    assert summary["scenario_sets"]["champion/severe"]["horizon"] == 10
    # The sample book keeps what the data can price and says what it left out.
    assert summary["portfolio"]["positions"] == ["long NDX", "long SPX"]
    assert any("interest-rate" in note for note in summary["portfolio"]["notes"])
    validation = summary["validation"]["champion"]
    assert set(validation["outcome_per_policy_tier"]) == {"1", "2", "3"}
    assert validation["holdout"] == ["2013-01-01", "2016-12-31"]
    assert summary["packet"]["verified"] is True and summary["audit"]["ok"] is True
    assert sorted(p.suffix for p in tmp_path.iterdir()) == [".pdf", ".zip"]


@pytest.mark.parametrize("change, message", [
    ({"--dataset": "nope"}, "no dataset named 'nope'"),
    ({"--engine": "alchemy"}, "unknown engine 'alchemy'"),
    ({"--config": '{"family": "banana"}'}, "invalid garch_evt_copula configuration"),
    ({"--config": "[1, 2]"}, "a JSON object"),
    ({"--scenarios": "5"}, "--scenarios must be 200.."),
    ({"--horizon": "0"}, "--horizon must be 2.."),
    ({"--train-end": "2012-13-45"}, "use a date like"),
    ({"--holdout-start": "2012-06-01"}, "must start after the training window ends"),
    ({"--train-end": "1999-02-15", "--holdout-start": "1999-02-16"}, "at least 60 are needed"),
    ({"--train-end": "1990-12-31", "--holdout-start": "1991-01-01"}, "training window starts"),
    ({"--holdout-start": "2030-01-01", "--holdout-end": "2031-01-01"}, "holdout"),
])
def test_bad_input_is_refused_with_a_clear_message_and_nothing_written(equity_pair, change, message):
    args = list(GOOD)
    for option, value in change.items():
        args[args.index(option) + 1] = value
    before = _counts()
    with pytest.raises(CommandError, match=message.replace("(", r"\(").replace(".", r"\.")):
        call_command("run_pipeline", *args)
    assert _counts() == before
    assert Dataset.objects.count() == 1


def test_demo_users_are_idempotent_and_keep_their_password(tmp_path, settings):
    settings.VAR_DIR = tmp_path
    config = pipeline.demo_settings(quick=True)
    first = pipeline.Context(config=config, progress=lambda event: None)
    pipeline.step_users(first)
    assert first.password_generated and first.summary["password"]["value"] == first.password
    assert (tmp_path / "demo-password").stat().st_mode & 0o077 == 0  # readable by the owner only
    second = pipeline.Context(config=config, progress=lambda event: None)
    pipeline.step_users(second)
    assert not second.password_generated and second.summary["password"]["value"] is None
    assert second.password == first.password
    assert {u.pk for u in first.users.values()} == {u.pk for u in second.users.values()}
    for role, user in second.users.items():
        assert user.groups.filter(name=role).exists() and user.check_password(first.password)


def test_the_sample_book_prices_a_bond_when_the_data_has_a_rate_factor():
    positions, notes = pipeline.sample_book(["SP500", "UST10Y"], {"SP500": "equity", "UST10Y": "rates"})
    names = [p["name"] for p in positions]
    assert names == ["index", "index put", "10y bond"]
    assert positions[-1]["rate_factor"] == "UST10Y"
    assert [n.split(":")[0] for n in notes] == ["tech", "oil"]


def test_an_unknown_dataset_date_window_is_explained(equity_pair):
    config = pipeline.PipelineSettings(
        engines=(pipeline.EngineSpec("champion", "garch_evt_copula", {}, "1.0.0"),), builtin=None,
        dataset="equity_pair", train_end=dt.date(2018, 11, 30), holdout_start=dt.date(2018, 12, 1), holdout_end=None)
    from governance.errors import InvalidInput

    with pytest.raises(InvalidInput, match="validation needs at least"):
        pipeline.check_settings(config)


@pytest.mark.slow
def test_a_version_whose_evidence_passes_is_validated_and_approved_by_three_people():
    from governance.models import Signature

    config = pipeline.PipelineSettings(
        engines=(pipeline.EngineSpec("champion", "garch_evt_copula", {"family": "student_t"}, "1.0.0"),),
        n_scenarios=300, horizon=10, crisis=None, use_fed=False, render=False, password="pipeline password",
        # Tiers this small copula set passes on the 2015-18 holdout: what is under test is the approval path
        # (the full demo reaches it with 10,000 scenarios; see the README).
        validation_tiers=("multivariate", "memorisation", "coherence"))
    summary = pipeline.run_pipeline(config)
    assert summary["validation"]["champion"]["outcome"] in ("PASS", "WARN")
    assert summary["review"]["decisions"]["champion"]["status"] == "in_use"
    signed = dict(Signature.objects.filter(version_id=summary["versions"]["champion"]["id"])
                  .values_list("action", "signer_username"))
    assert signed == {"submit": "demo-developer", "validate": "demo-validator", "approve": "demo-approver"}
    assert "report" not in summary and summary["audit"]["ok"]


def test_a_missing_graphviz_is_refused_before_anything_is_written(monkeypatch):
    """The PDF's lineage diagram needs Graphviz: without ``dot`` the pipeline stops up front and says how
    to install it (make demo runs bin/ensure-tools), instead of failing at the report step."""
    import shutil

    from governance.errors import InvalidInput
    from pipelines import settings as pipeline_settings

    real_which = shutil.which
    monkeypatch.setattr(pipeline_settings.shutil, "which", lambda name: None if name == "dot" else real_which(name))
    config = pipeline.PipelineSettings(engines=(pipeline.EngineSpec("champion", "garch_evt_copula", {}, "1.0.0"),))
    with pytest.raises(InvalidInput, match="bin/ensure-tools"):
        pipeline.check_settings(config)
    assert not Dataset.objects.exists() and not TrainingRun.objects.exists()
    pipeline.check_settings(pipeline.PipelineSettings(engines=config.engines, render=False))  # no PDF, no need
