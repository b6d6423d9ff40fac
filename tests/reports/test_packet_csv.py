"""CSV exports in a packet are safe against formula injection; supervisory sets carry the Fed layout."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import zipfile

import numpy as np
import pytest

from reports.services.packets import _csv_bytes, fed_layout_bytes, packet_execute, packet_path, packet_start
from scenarios import scenario_files
from scenarios.engines import fed_tables
from scenarios.services.fed import fed_table, supervisory_path
from tests.fixtures_reports import record_validation
from tests.reports.packet_support import make_report_for

MALICIOUS = ["=HYPERLINK(\"http://evil\")", "+1+1", "-2+3", "@SUM(A1)", "=cmd|' /C calc'!A0"]


@pytest.mark.parametrize("text", MALICIOUS)
def test_text_cells_that_a_spreadsheet_would_run_are_quoted(text):
    rows = list(csv.reader(io.StringIO(_csv_bytes(["factor", "value"], [[text, -0.5], ["plain", 1.25]]).decode())))
    assert rows[1] == ["'" + text, "-0.5"]  # the text is escaped; the negative *number* is left a number
    assert rows[2] == ["plain", "1.25"]
    assert all(not cell.startswith(("=", "+", "@")) for row in rows for cell in row)


def test_scenario_csv_escapes_formula_like_factor_names():
    array = np.arange(12, dtype=float).reshape(2, 3, 2) - 5.0
    text = scenario_files.to_csv_bytes(array, ["=evil()", "SP500"]).decode()
    header, first = text.splitlines()[:2]
    assert header == "scenario,step,'=evil(),SP500"
    assert first.split(",")[2] == "-5"  # negative values stay numbers


def test_the_fed_layout_is_the_fed_table_and_a_malicious_name_is_escaped():
    path, source = supervisory_path("2025", "severely_adverse")
    text = fed_layout_bytes({"extra": {"fed_path": path, "fed_source": source}}).decode()
    back = fed_tables.parse_fed_csv(text)
    table = fed_table("2025", "severely_adverse")
    assert back.scenario_name == table.scenario_name and back.kind == "severely_adverse"
    np.testing.assert_array_equal(back.data.to_numpy(), table.data.to_numpy())
    assert list(back.data.columns) == list(table.data.columns)
    assert fed_layout_bytes({"severity": "severe"}) is None and fed_layout_bytes(None) is None

    evil = dict(path, scenario_name="=HYPERLINK(\"http://x\") Supervisory Baseline")
    rows = list(csv.reader(io.StringIO(fed_layout_bytes({"extra": {"fed_path": evil}}).decode())))
    assert rows[1][0].startswith("'=HYPERLINK")


@pytest.mark.django_db
def test_a_packet_of_a_supervisory_set_carries_the_fed_layout(train, developer, generate, tmp_path,
                                                              django_capture_on_commit_callbacks):
    trained = train("supervisory", {}, train_start=dt.date(1999, 1, 4))
    assert trained.status == "SUCCEEDED", trained.error
    scenario_set = generate(developer, trained.model_version, n_scenarios=50, horizon=63, purpose="development",
                            seed=2, condition={"supervisory": {"edition": "2025", "scenario": "severely_adverse"}})
    # only a validated set can be cited (issue 15): a recorded validation of the set
    record_validation(scenario_set, actor=developer, rows=[
        {"tier": "coherence", "name": "coherence_floor", "factor": scenario_set.factors[0], "value": 0.0,
         "threshold": 0.0, "outcome": "PASS"}])
    report = make_report_for(trained.model_version, actor=developer, scenario_sets=[scenario_set])
    with django_capture_on_commit_callbacks(execute=False):
        packet = packet_start(actor=developer, report=report)
    packet_execute(packet.pk, worker="w")
    packet.refresh_from_db()
    assert packet.status == "SUCCEEDED", packet.error
    with zipfile.ZipFile(packet_path(packet)) as archive:
        fed = archive.read(f"scenario_sets/{scenario_set.pk}/supervisory_path_fed_layout.csv").decode()
        meta = json.loads(archive.read(f"scenario_sets/{scenario_set.pk}/scenario_set.json"))
    assert fed.splitlines()[0].startswith("Scenario Name,Date,")
    assert fed_tables.parse_fed_csv(fed).kind == "severely_adverse"
    assert meta["condition"]["extra"]["fed_source"]["file"].startswith("2025-Table_")

    # the Fed-layout file is covered by the manifest like every other
    from reports.services.packets import packet_verify

    folder = tmp_path / "unzipped"
    with zipfile.ZipFile(packet_path(packet)) as archive:
        archive.extractall(folder)
    assert packet_verify(folder).ok
    target = folder / "scenario_sets" / str(scenario_set.pk) / "supervisory_path_fed_layout.csv"
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0x01
    target.write_bytes(bytes(data))
    check = packet_verify(folder)
    assert not check.ok and check.file == f"scenario_sets/{scenario_set.pk}/supervisory_path_fed_layout.csv"
