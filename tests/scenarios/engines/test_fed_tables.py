"""The Fed supervisory-table importer against the Fed's published files (the project's own copy in data/)."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from scenarios.engines import fed_tables as ft

FED_DIR = Path(__file__).resolve().parents[3] / "data" / "fed-supervisory-scenarios"
DOMESTIC_HEADER = ("Scenario Name,Date,Real GDP growth,10-year Treasury yield,BBB corporate yield,"
                   "Dow Jones Total Stock Market Index (Level)")


@pytest.fixture(scope="module")
def tables() -> dict[str, ft.FedTable]:
    return ft.read_fed_directory(FED_DIR)


def test_reads_all_twelve_files_with_kinds_regions_and_quarters(tables):
    assert len(tables) == 12
    for edition, first, last_hist, last in (("2025", "2025Q1", "2024Q4", "2028Q1"),
                                            ("2026-proposed", "2026Q1", "2025Q4", "2029Q1")):
        for region, width in (("domestic", 16), ("international", 12)):
            historic = tables[f"{edition}/historic/{region}"]
            assert historic.scenario_name == "Actual" and historic.kind == "historic" and historic.region == region
            assert historic.data.shape[1] == width
            assert historic.quarters[0] == pd.Period("1976Q1", freq="Q")
            assert historic.quarters[-1] == pd.Period(last_hist, freq="Q")
            assert len(historic.data) == len(pd.period_range("1976Q1", last_hist, freq="Q"))
            for kind, name in (("baseline", "Supervisory Baseline"),
                               ("severely_adverse", "Supervisory Severely Adverse")):
                table = tables[f"{edition}/{kind}/{region}"]
                assert table.scenario_name == name and table.kind == kind and table.region == region
                assert table.data.shape == (13, width)
                assert isinstance(table.quarters, pd.PeriodIndex) and table.quarters.freqstr.startswith("Q")
                assert (table.quarters[0], table.quarters[-1]) == (pd.Period(first, freq="Q"),
                                                                   pd.Period(last, freq="Q"))
                assert table.variables == historic.variables  # same columns in the same order
                assert np.isfinite(table.data.to_numpy()).all()


def test_2025_severely_adverse_domestic_values(tables):
    sa = tables["2025/severely_adverse/domestic"]
    assert len(sa.data) == 13 and len(sa.variables) == 16
    dow = sa.data["Dow Jones Total Stock Market Index (Level)"]
    assert dow.loc[pd.Period("2025Q1", freq="Q")] == 34508.6
    jump_off = tables["2025/historic/domestic"].data["Dow Jones Total Stock Market Index (Level)"].iloc[-1]
    assert jump_off == 58399.3
    assert 0.45 < 1 - dow.min() / jump_off < 0.55  # the Fed's ~50% peak-to-trough equity fall
    assert sa.data["Market Volatility Index (Level)"].max() == 65.0


def test_empty_cells_are_nan_not_zero(tables):
    historic = tables["2025/historic/domestic"].data
    bbb = historic["BBB corporate yield"]
    assert bbb.first_valid_index() == pd.Period("1988Q4", freq="Q")
    assert bbb.loc[:"1988Q3"].isna().all() and bbb.loc["1988Q4":].notna().all()
    assert historic["Market Volatility Index (Level)"].first_valid_index() == pd.Period("1990Q1", freq="Q")
    assert math.isnan(historic["Dow Jones Total Stock Market Index (Level)"].iloc[0])
    assert int(bbb.isna().sum()) == len(pd.period_range("1976Q1", "1988Q3", freq="Q"))
    international = tables["2025/historic/international"].data
    assert math.isnan(international["Euro area inflation"].iloc[0])


def test_units_parsed_from_names(tables):
    units = tables["2025/historic/domestic"].units
    assert units["Real GDP growth"] == ft.GROWTH
    assert units["CPI inflation rate"] == ft.GROWTH
    assert units["10-year Treasury yield"] == ft.RATE and units["Unemployment rate"] == ft.RATE
    assert units["Dow Jones Total Stock Market Index (Level)"] == ft.LEVEL
    international = tables["2025/historic/international"].units
    assert international["Japan bilateral dollar exchange rate (yen/USD)"] == ft.FX
    assert international["Developing Asia bilateral dollar exchange rate (F/USD, index)"] == ft.FX
    assert international["U.K. inflation"] == ft.GROWTH


def _write(tmp_path: Path, text: str, name: str = "bad.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize("body, message", [
    ("Actual,1988 Q5,1,2,3,4\n", r"bad\.csv: line 2, column 'Date': bad date '1988 Q5'"),
    ("Actual,1988-03-31,1,2,3,4\n", r"line 2, column 'Date': bad date"),
    ("Actual,1988 Q1,1,2,3,4\nActual,1988 Q1,1,2,3,4\n", r"line 3: duplicate quarter 1988 Q1 \(also on line 2\)"),
    ("Actual,1988 Q1,1,2,3,4\nActual,1988 Q3,1,2,3,4\n", r"line 3: quarter 1988 Q3 does not follow 1988 Q1"),
    ("Actual,1988 Q1,1,n/a,3,4\n", r"line 2, column '10-year Treasury yield': non-numeric value 'n/a'"),
    ("Actual,1988 Q1,1,2,3,inf\n", r"line 2, column 'Dow Jones .*': non-numeric value 'inf'"),
    ("Actual,1988 Q1,1,2,3\n", r"line 2: 5 fields, the header has 6"),
    ("Actual,1988 Q1,1,2,3,4\nSupervisory Baseline,1988 Q2,1,2,3,4\n", r"line 3: scenario name"),
    ("Made Up,1988 Q1,1,2,3,4\n", r"unknown scenario name 'Made Up'"),
    ("", r"no data rows"),
])
def test_malformed_rows_name_the_problem(tmp_path, body, message):
    path = _write(tmp_path, DOMESTIC_HEADER + "\n" + body)
    with pytest.raises(ValueError, match=message):
        ft.read_fed_table(path)


@pytest.mark.parametrize("header, message", [
    ("Scenario,Date,Real GDP growth", r"bad\.csv: unexpected header \['Scenario', 'Date'"),
    ("Scenario Name,Quarter,Real GDP growth", r"unexpected header"),
    ("Scenario Name,Date", r"unexpected header"),
    ("Scenario Name,Date,Real GDP growth,Favourite colour", r"unexpected column 'Favourite colour'"),
    ("Scenario Name,Date,Real GDP growth,Real GDP growth", r"duplicate column 'Real GDP growth'"),
    ("Scenario Name,Date,Real GDP growth,Japan inflation", r"mix domestic and international"),
])
def test_unexpected_headers(tmp_path, header, message):
    path = _write(tmp_path, header + "\nActual,1988 Q1" + ",1" * (header.count(",") - 1) + "\n")
    with pytest.raises(ValueError, match=message):
        ft.read_fed_table(path)


def test_empty_file(tmp_path):
    with pytest.raises(ValueError, match=r"bad\.csv: empty file"):
        ft.read_fed_table(_write(tmp_path, "\n"))


@pytest.mark.parametrize("key", ["2025/historic/domestic", "2025/severely_adverse/domestic",
                                 "2026-proposed/baseline/international"])
def test_writer_round_trips_through_the_reader(tables, tmp_path, key):
    table = tables[key]
    path = ft.write_fed_table(table.data, table.scenario_name, tmp_path / "export.csv")
    again = ft.read_fed_table(path)
    assert (again.scenario_name, again.kind, again.region) == (table.scenario_name, table.kind, table.region)
    pd.testing.assert_frame_equal(again.data, table.data)
    assert again.units == table.units
    layout = ft.to_fed_layout(table.data, table.scenario_name)
    assert list(layout.columns[:2]) == ["Scenario Name", "Date"]
    assert layout["Date"].iloc[0] == ft.format_quarter(table.quarters[0])


def test_writer_keeps_the_fed_header_and_empty_cells(tables):
    table = tables["2025/historic/domestic"]
    text = ft.fed_layout_csv(table.data.iloc[:2], "Actual")
    original = (FED_DIR / "2025-Table_1A_Historic_Domestic.csv").read_text().splitlines()
    assert text.splitlines()[0] == original[0]
    assert text.splitlines()[1].startswith("Actual,1976 Q1,9.3,14.0,") and ",," in text.splitlines()[1]


def test_writer_accepts_datetime_index_and_rejects_bad_frames():
    frame = pd.DataFrame({"Real GDP growth": [1.0, -2.5]},
                         index=pd.to_datetime(["2025-03-31", "2025-06-30"]))
    assert list(ft.to_fed_layout(frame, "Supervisory Severely Adverse")["Date"]) == ["2025 Q1", "2025 Q2"]
    with pytest.raises(ValueError, match="unexpected column 'oil'"):
        ft.to_fed_layout(frame.rename(columns={"Real GDP growth": "oil"}), "Supervisory Baseline")
    with pytest.raises(ValueError, match="unknown scenario name"):
        ft.to_fed_layout(frame, "my scenario")
    with pytest.raises(ValueError, match="consecutive"):
        ft.to_fed_layout(frame.set_axis(pd.to_datetime(["2025-03-31", "2025-12-31"])), "Supervisory Baseline")
    with pytest.raises(ValueError, match="duplicate quarter"):
        ft.to_fed_layout(frame.set_axis(pd.to_datetime(["2025-03-31", "2025-03-01"])), "Supervisory Baseline")


def test_directory_accepts_earlier_year_numbering(tmp_path):
    shutil.copy(FED_DIR / "2025-Table_3A_Supervisory_Severely_Adverse_Domestic.csv",
                tmp_path / "2024-Table_4A_Supervisory_Severely_Adverse_Domestic.csv")
    shutil.copy(FED_DIR / "2025-Table_1A_Historic_Domestic.csv", tmp_path / "2024-Table_2A_Historic_Domestic.csv")
    tables = ft.read_fed_directory(tmp_path)
    assert set(tables) == {"2024/severely_adverse/domestic", "2024/historic/domestic"}
    shutil.copy(FED_DIR / "2025-Table_1A_Historic_Domestic.csv", tmp_path / "2024-Table_9Z_again.csv")
    with pytest.raises(ValueError, match="a second 2024/historic/domestic table"):
        ft.read_fed_directory(tmp_path)


def test_directory_errors(tmp_path):
    with pytest.raises(ValueError, match="no Fed tables"):
        ft.read_fed_directory(tmp_path)
    with pytest.raises(ValueError, match="not a directory"):
        ft.read_fed_directory(tmp_path / "missing")
