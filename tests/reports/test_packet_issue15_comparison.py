"""The packet's champion/challenger CSVs and the per-set validation record (issue 15 §3-§4), verified offline."""

from __future__ import annotations

import csv
import io
import json
import zipfile

import pytest

from reports.services import packets
from reports.services.packets import packet_execute, packet_path, packet_start, packet_verify
from tests.reports.packet_support import make_report_for

pytestmark = pytest.mark.django_db


def _rows(data: bytes) -> list[dict]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8"))))


def test_the_packet_carries_the_comparison_and_each_sets_validation_and_verifies(
        documented_with_severe, approver, tmp_path, django_capture_on_commit_callbacks):
    doc = documented_with_severe
    report = make_report_for(doc.version, actor=approver, scenario_sets=[doc.scenario_set, doc.severe],
                             validation_runs=[doc.validation_run, doc.severe_run],
                             stress_results=[doc.stress, doc.severe_stress])
    with django_capture_on_commit_callbacks(execute=False):
        packet = packet_start(actor=approver, report=report)
    packet_execute(packet.pk, worker="w")
    packet.refresh_from_db()
    assert packet.status == "SUCCEEDED", packet.error
    with zipfile.ZipFile(packet_path(packet)) as archive:
        files = {name: archive.read(name) for name in archive.namelist()}
    table = _rows(files["comparison/champion_challenger.csv"])
    by_condition = {row["condition"]: row for row in table}
    assert set(by_condition) == {"unconditioned", "severe"}
    severe = by_condition["severe"]
    assert severe["stress_result"] == str(doc.severe_stress.pk) and severe["scenario_set"] == str(doc.severe.pk)
    var99 = next(m["var"] for m in doc.severe_stress.risk["historical"] if m["level"] == 0.99)
    assert float(severe["var_99"]) == pytest.approx(var99)
    assert severe["validated"] == "true" and severe["validation_outcome"] == "FAIL"
    conservative = _rows(files["comparison/most_conservative.csv"])
    row = next(r for r in conservative if r["condition"] == "severe" and r["measure"] == "var_99")
    assert float(row["value"]) == pytest.approx(var99) and row["source"].endswith(f"v{doc.version.version}")
    meta = json.loads(files[f"scenario_sets/{doc.severe.pk}/scenario_set.json"])
    assert meta["validation"] == [{"run": doc.severe_run.pk, "outcome": "FAIL",
                                   "tier_outcomes": doc.severe_run.tier_outcomes, "not_run_tiers": ["adversarial"]}]
    assert {"out_of_training_range", "out_of_range_reason", "condition_bounds", "filter_report"} <= set(meta)
    if hasattr(doc.severe, "out_of_training_range"):
        assert meta["out_of_training_range"] is True and meta["filter_report"]["removed"] == 20
    assert packet_verify(packet_path(packet)).ok
    folder = tmp_path / "unzipped"
    with zipfile.ZipFile(packet_path(packet)) as archive:
        archive.extractall(folder)
    target = folder / "comparison" / "champion_challenger.csv"
    target.write_bytes(target.read_bytes().replace(b"severe", b"mild!!"))
    check = packet_verify(folder)
    assert not check.ok and check.file == "comparison/champion_challenger.csv"


def test_comparison_csv_cells_a_spreadsheet_would_run_are_quoted(documented_version, approver, monkeypatch):
    evil = {"model": "=HYPERLINK(\"http://x\")", "portfolio": {"id": 1, "name": "+cmd", "sha256": "ab"},
            "levels": [0.99], "band": 0.5,
            "rows": [{"version_id": 1, "version": "1.0.0", "engine": "@SUM(A1)", "role": "champion",
                      "status": "approved", "condition": "-severe", "scenario_set": 2, "stress_result": 3,
                      "var_99": 1.5, "es_99": 2.5, "var_995": None, "es_995": None, "validated": True,
                      "validation_outcome": "PASS"}],
            "most_conservative": {"-severe": {"var_99": 1.5, "var_99_from": "=champion v1.0.0"}},
            "disagreement": [{"condition": "-severe", "measure": "var_99", "version": "champion v1.0.0",
                              "value": 1.5, "median": 4.0, "ratio": 0.375, "flagged": True}]}
    monkeypatch.setattr(packets, "report_comparison", lambda report: evil)
    files = packets._comparison_files(None)
    table = _rows(files["comparison/champion_challenger.csv"])[0]
    assert table["model"].startswith("'=") and table["portfolio_name"] == "'+cmd" and table["engine"] == "'@SUM(A1)"
    assert table["condition"] == "'-severe" and table["flagged_measures"] == "var_99" and table["var_99"] == "1.5"
    best = _rows(files["comparison/most_conservative.csv"])[0]
    assert best["source"] == "'=champion v1.0.0" and best["condition"] == "'-severe"
