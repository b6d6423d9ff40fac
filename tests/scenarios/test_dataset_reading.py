"""Reading an uploaded table is bounded before its data is decoded (issue 16 §4); pure, no database."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from scenarios import datasets as checks

LIMITS = checks.TableLimits(max_bytes=10**9, max_rows=1_000, max_columns=10, max_cells=5_000,
                            max_uncompressed_bytes=10**8, max_footer_bytes=10**6)


def panel(rows: int = 80, columns: int = 2) -> pd.DataFrame:
    dates = pd.bdate_range("2020-01-01", periods=rows)
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"date": dates})
    for c in range(columns):
        frame[f"F{c}"] = 100 + rng.normal(size=rows).cumsum()
    return frame


def dictionary_bomb(path, rows: int) -> None:
    """Many rows in a few KB: delta-encoded timestamps and a dictionary-encoded constant."""
    schema = pa.schema([("date", pa.timestamp("ns")), ("X", pa.float64())])
    with pq.ParquetWriter(path, schema, use_dictionary=["X"], column_encoding={"date": "DELTA_BINARY_PACKED"},
                          compression="zstd") as writer:
        step = 1_000_000
        for start in range(0, rows, step):
            n = min(step, rows - start)
            dates = np.datetime64("2000-01-01", "ns").astype(np.int64) + np.arange(start, start + n) * 86_400 * 10**9
            writer.write_table(pa.table({"date": dates.view("datetime64[ns]"), "X": np.ones(n)}, schema=schema))


@pytest.fixture
def no_decoding(monkeypatch):
    """Fail the test if any Parquet data is decoded."""
    def refuse(*args, **kwargs):
        raise AssertionError("the Parquet data was decoded")

    monkeypatch.setattr(pq.ParquetFile, "read", refuse)
    monkeypatch.setattr(pq.ParquetFile, "iter_batches", refuse)
    monkeypatch.setattr(pq.ParquetFile, "read_row_group", refuse)
    monkeypatch.setattr(pq, "read_table", refuse)


def test_a_dictionary_encoded_parquet_of_five_million_rows_is_refused_from_its_footer(tmp_path, no_decoding):
    path = tmp_path / "bomb.parquet"
    dictionary_bomb(path, 5_000_000)
    assert path.stat().st_size < 200_000  # 5 M rows in well under 200 KB
    with pytest.raises(checks.DatasetError, match="bomb.parquet has 5,000,000 rows; the limit is 1,000"):
        checks.read_table_file(path, filename="bomb.parquet", limits=LIMITS)


def test_parquet_column_and_cell_caps_come_from_the_footer(tmp_path, no_decoding):
    wide = tmp_path / "wide.parquet"
    panel(rows=10, columns=20).to_parquet(wide)
    with pytest.raises(checks.DatasetError, match="wide.parquet has 21 columns; the limit is 10"):
        checks.read_table_file(wide, filename="wide.parquet", limits=LIMITS)
    many = tmp_path / "cells.parquet"
    panel(rows=900, columns=8).to_parquet(many)
    with pytest.raises(checks.DatasetError, match=r"900 rows × 9 columns = 8,100 cells; the limit is 5,000 cells"):
        checks.read_table_file(many, filename="cells.parquet", limits=LIMITS)


def test_parquet_uncompressed_size_is_capped_before_decompression(tmp_path, no_decoding):
    path = tmp_path / "zeros.parquet"
    # Constant columns compress to almost nothing; the footer still declares their plain size.
    pq.write_table(pa.table({"date": pa.array(np.zeros(900, dtype="datetime64[ns]")), "X": np.zeros(900)}),
                   path, use_dictionary=False, compression="zstd")
    small = checks.TableLimits(**{**LIMITS.__dict__, "max_uncompressed_bytes": 4_000})
    with pytest.raises(checks.DatasetError, match="more than 4,000 bytes of uncompressed data"):
        checks.read_table_file(path, filename="zeros.parquet", limits=small)


def test_a_parquet_footer_over_its_limit_is_refused_before_pyarrow_parses_it(tmp_path, no_decoding, monkeypatch):
    path = tmp_path / "p.parquet"
    panel().to_parquet(path)
    monkeypatch.setattr(pq, "ParquetFile", lambda *a, **k: (_ for _ in ()).throw(AssertionError("footer parsed")))
    tight = checks.TableLimits(**{**LIMITS.__dict__, "max_footer_bytes": 100})
    with pytest.raises(checks.DatasetError, match=r"the Parquet footer is [\d,]+ bytes; the limit is 100"):
        checks.read_table_file(path, filename="p.parquet", limits=tight)


def test_nested_parquet_columns_and_non_parquet_bytes_are_refused(tmp_path):
    nested = tmp_path / "nested.parquet"
    pq.write_table(pa.table({"date": ["2020-01-01"], "X": pa.array([[1.0, 2.0]])}), nested)
    with pytest.raises(checks.DatasetError, match="column 'X' has a nested type"):
        checks.read_table_file(nested, filename="nested.parquet", limits=LIMITS)
    fake = tmp_path / "fake.parquet"
    fake.write_bytes(b"date,X\n2020-01-01,1\n")
    with pytest.raises(checks.DatasetError, match="not a Parquet file"):
        checks.read_table_file(fake, filename="fake.parquet", limits=LIMITS)


def test_a_csv_is_read_no_further_than_its_row_cap(tmp_path):
    path = tmp_path / "long.csv"
    frame = panel(rows=1_500, columns=1)
    frame.assign(date=frame["date"].dt.strftime("%Y-%m-%d")).to_csv(path, index=False)
    with pytest.raises(checks.DatasetError, match="long.csv has more than 1,000 data rows"):
        checks.read_table_file(path, filename="long.csv", limits=LIMITS)
    # 4 columns: the 5,000-cell cap admits 1,250 rows, fewer than the row cap would.
    wide = tmp_path / "wide.csv"
    panel(rows=1_300, columns=3).to_csv(wide, index=False)
    with pytest.raises(checks.DatasetError, match="more than 1,250 data rows; the limit for 4 columns is 1,250"):
        checks.read_table_file(wide, filename="wide.csv", limits=checks.TableLimits(
            **{**LIMITS.__dict__, "max_rows": 10_000}))


def test_a_csv_within_its_caps_reads_its_numbers_exactly(tmp_path):
    frame = panel(rows=200, columns=3)
    path = tmp_path / "ok.csv"
    frame.assign(date=frame["date"].dt.strftime("%Y-%m-%d")).to_csv(path, index=False)
    raw = checks.read_table_file(path, filename="ok.csv", limits=LIMITS)
    assert raw["date"].iloc[0] == "2020-01-01"
    np.testing.assert_array_equal(raw["F1"].to_numpy(), frame["F1"].to_numpy())  # round-trip, bit for bit


def test_only_csv_and_parquet_names_are_accepted(tmp_path):
    path = tmp_path / "book.xlsx"
    path.write_bytes(b"PK")
    with pytest.raises(checks.DatasetError, match="only .csv and .parquet files are accepted"):
        checks.read_table_file(path, filename="book.xlsx", limits=LIMITS)


@pytest.mark.parametrize(("value", "message"), [
    ("5138-03-01", "row 4, column 'date': date 5138-03-01 is outside the accepted range 1900-01-01 to 2100-12-31"),
    ("1899-12-31", "row 4, column 'date': date 1899-12-31 is outside the accepted range"),
    ("2020.5", "row 4, column 'date': '2020.5' is a number, not a date"),
    ("2020", "row 4, column 'date': '2020' is a number, not a date"),
    ("1577836800", "row 4, column 'date': '1577836800' is a number, not a date"),
])
def test_implausible_dates_are_refused_naming_row_and_column(value, message):
    raw = pd.DataFrame({"date": ["2019-12-30", "2019-12-31", value, "2100-12-31"], "X": [1.0, 2.0, 3.0, 4.0]})
    with pytest.raises(checks.DatasetError) as error:
        checks.check_table(raw, min_rows=2)
    assert message in str(error.value)


@pytest.mark.parametrize("dtype", ["float64", "int64"])
def test_a_numeric_date_column_is_refused_by_name(dtype):
    raw = pd.DataFrame({"when": np.array([1.5778368e9, 1.5779232e9, 1.5780096e9]).astype(dtype), "X": [1.0, 2, 3]})
    with pytest.raises(checks.DatasetError, match=rf"column 'when' holds numbers \({dtype}\), not dates"):
        checks.check_table(raw, date_column="when", min_rows=2)


def test_plausible_dates_of_every_accepted_form_pass():
    raw = pd.DataFrame({"date": ["1900-01-01", "20200131", "2020-02-03T10:00:00+02:00", "2100-12-31"],
                        "X": [1.0, 2, 3, 4]})
    checked = checks.check_table(raw, min_rows=2)
    assert [d.date().isoformat() for d in checked.frame.index] == ["1900-01-01", "2020-01-31", "2020-02-03",
                                                                   "2100-12-31"]
