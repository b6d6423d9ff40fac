"""Issue 16 §1: the pipeline reads the Fed tables from its own ``fed_dir``, passed explicitly to what reads them,
instead of overriding the CRUCIBLE_FED_DIR setting (``django.test.override_settings``) while it runs."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from governance.errors import InvalidInput
from pipelines import services as pipeline
from pipelines.settings import check_settings, fed_available
from pipelines.steps_setup import supervisory_condition

FED_DIR = Path(__file__).resolve().parents[2] / "data" / "fed-supervisory-scenarios"
SEVERE = "2025-Table_3A_Supervisory_Severely_Adverse_Domestic.csv"
HISTORIC = "2025-Table_1A_Historic_Domestic.csv"


@pytest.fixture
def fed_copy(tmp_path) -> Path:
    copy = tmp_path / "fed-copy"
    shutil.copytree(FED_DIR, copy)
    return copy


def _config(fed_dir, **changes) -> pipeline.PipelineSettings:
    return pipeline.PipelineSettings(
        engines=(pipeline.EngineSpec("champion", "garch_evt_copula", {}, "1.0.0"),), fed_dir=fed_dir,
        render=False, **changes)


def test_the_supervisory_condition_is_read_from_the_pipelines_own_fed_directory(fed_copy, settings, tmp_path):
    from scenarios.services.runs import parse_condition

    settings.CRUCIBLE_FED_DIR = tmp_path / "not-there"  # the setting is not consulted
    condition = supervisory_condition(_config(fed_copy), "severely_adverse")
    source = condition["extra"]["fed_source"]
    assert source == {"file": SEVERE, "sha256": hashlib.sha256((fed_copy / SEVERE).read_bytes()).hexdigest(),
                      "edition": "2025"}
    # What the generation service records is what it would have resolved from a {"supervisory": ...} request
    # reading the same directory.
    settings.CRUCIBLE_FED_DIR = fed_copy
    assert parse_condition(condition) == parse_condition(
        {"supervisory": {"edition": "2025", "scenario": "severely_adverse"}})


def test_a_fed_dir_with_the_settings_tables_is_accepted(fed_copy, settings):
    settings.CRUCIBLE_FED_DIR = FED_DIR
    config = _config(fed_copy)
    assert fed_available(config)
    check_settings(config)


def test_a_fed_dir_whose_historic_table_differs_from_the_setting_is_refused_before_anything_is_written(
        fed_copy, settings):
    """The translation is trained where its run executes, from the setting; a --fed-dir with other tables
    would fit one table and generate from another."""
    historic = fed_copy / HISTORIC
    historic.write_bytes(historic.read_bytes() + b"\n")  # same table, other bytes: another file
    settings.CRUCIBLE_FED_DIR = FED_DIR
    with pytest.raises(InvalidInput, match=r"CRUCIBLE_FED_DIR setting .* differs from the one in --fed-dir") as caught:
        check_settings(_config(fed_copy))
    assert caught.value.code == "fed_tables_mismatch"


def test_a_fed_dir_is_refused_when_the_setting_has_no_tables_to_train_from(fed_copy, settings, tmp_path):
    settings.CRUCIBLE_FED_DIR = tmp_path / "empty"
    (tmp_path / "empty").mkdir()
    with pytest.raises(InvalidInput, match=r"historic table cannot be read there; set CRUCIBLE_FED_DIR="):
        check_settings(_config(fed_copy))


def test_a_fed_dir_is_not_checked_against_the_setting_when_the_translation_is_off(fed_copy, settings, tmp_path):
    settings.CRUCIBLE_FED_DIR = tmp_path / "absent"
    check_settings(_config(fed_copy, use_fed=False))


@pytest.mark.django_db
def test_the_pipeline_changes_no_setting_while_it_runs(fed_copy, settings, monkeypatch):
    settings.CRUCIBLE_FED_DIR = FED_DIR
    seen = []

    def record(context):
        seen.append((context.step, Path(django_settings.CRUCIBLE_FED_DIR)))
        if context.step == "verify":
            context.summary["audit"] = {}
        return ""

    monkeypatch.setattr(pipeline, "STEP_FUNCTIONS", {name: record for name, _ in pipeline.STEPS})
    pipeline.run_pipeline(_config(fed_copy))
    assert [step for step, _ in seen] == [name for name, _ in pipeline.STEPS]
    assert {directory for _, directory in seen} == {FED_DIR}
