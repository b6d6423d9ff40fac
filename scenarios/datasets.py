"""Checking, canonicalising, fingerprinting and transforming market-data tables (pure pandas).

A dataset is a table with one date column and one numeric column per risk factor. Every check
fails with a ``DatasetError`` whose message names the offending row or column; nothing is stored
unless every check passes.

Canonical form (what the SHA-256 fingerprint covers): rows sorted by date, the date column named
``date`` as date32, every factor as float64 in the declared column order, written by pyarrow as
Parquet with fixed options and no pandas/application metadata. The stored file *is* those bytes,
so ``sha256sum`` of the file reproduces the fingerprint.

Reading an uploaded file (``read_table_file``) is bounded before any data is decoded: a Parquet
file's row count, column count and uncompressed size come from its footer metadata and are
checked against ``TableLimits`` first; a CSV is read with a row cap derived from its header.
This module is run inside the memory-limited parser process (``scenarios.dataset_sandbox``).
"""

from __future__ import annotations

import hashlib
import io
import re
import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

COLUMN_KINDS = ("prices", "returns", "levels", "rates")
RISK_CLASSES = ("equity", "rates", "credit", "commodity", "fx", "volatility", "macro", "other")
NAN_POLICIES = ("reject", "drop", "ffill")
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
DEFAULT_MIN_ROWS = 60
# Market data outside these years is a parsing accident (an epoch offset, a typo such as 5138),
# not history or a forecast a scenario generator is trained on.
DATE_MIN = pd.Timestamp("1900-01-01")
DATE_MAX = pd.Timestamp("2100-12-31")
NA_TOKENS = ["", "NA", "N/A", "NaN", "nan", "null", "NULL", "."]
TABLE_SUFFIXES = {".csv": "csv", ".txt": "csv", ".parquet": "parquet"}
# A date cell that is a bare number ("2020.5", "1577836800") is refused: dateutil would read
# "2020.5" as 2020-05-01 and pandas reads numbers as epoch offsets. Eight digits are YYYYMMDD.
_BARE_NUMBER = re.compile(r"^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$")
_YYYYMMDD = re.compile(r"^\s*\d{8}\s*$")


class DatasetError(ValueError):
    """A dataset check failed; the message names the row or column."""


@dataclass(frozen=True)
class CheckedTable:
    frame: pd.DataFrame  # index: DatetimeIndex named "date"; float64 columns
    dropped_rows: int
    filled_cells: int


def check_column_names(columns: Sequence[str]) -> None:
    seen = set()
    for name in columns:
        text = str(name)
        if not text.strip():
            raise DatasetError("a column has an empty name")
        if text.startswith(FORMULA_PREFIXES):
            raise DatasetError(f"column name {text!r} starts with {text[0]!r}: formula-like names are refused "
                               "(they would run as formulas when the data is exported to a spreadsheet)")
        if text in seen:
            raise DatasetError(f"column {text!r} appears twice")
        seen.add(text)


def check_table(
    raw: pd.DataFrame, *, date_column: str = "date", nan_policy: str = "reject", ffill_limit: int = 5,
    min_rows: int = DEFAULT_MIN_ROWS,
) -> CheckedTable:
    """Every check of DESIGN §3.1. Rows are numbered as in the file (header = line 1)."""
    if nan_policy not in NAN_POLICIES:
        raise DatasetError(f"unknown NaN policy {nan_policy!r}; use one of {', '.join(NAN_POLICIES)}")
    check_column_names([str(c) for c in raw.columns])
    if date_column not in raw.columns:
        raise DatasetError(f"no date column {date_column!r}; columns are: {', '.join(map(str, raw.columns))}")
    factors = [c for c in raw.columns if c != date_column]
    if not factors:
        raise DatasetError("the table has a date column but no factor columns")

    dates = _parse_dates(raw[date_column], date_column)
    if dates.isna().any():
        row = int(np.flatnonzero(dates.isna().to_numpy())[0])
        raise DatasetError(f"row {row + 2}: date {raw[date_column].iloc[row]!r} in column {date_column!r} "
                           "does not parse")
    if getattr(dates.dt, "tz", None) is not None:
        dates = dates.dt.tz_convert("UTC").dt.tz_localize(None)
    dates = dates.dt.normalize()
    outside = ((dates < DATE_MIN) | (dates > DATE_MAX)).to_numpy()
    if outside.any():
        row = int(np.flatnonzero(outside)[0])
        raise DatasetError(f"row {row + 2}, column {date_column!r}: date {dates.iloc[row].date()} is outside the "
                           f"accepted range {DATE_MIN.date()} to {DATE_MAX.date()}")
    duplicated = dates.duplicated(keep="first").to_numpy()
    if duplicated.any():
        row = int(np.flatnonzero(duplicated)[0])
        raise DatasetError(f"row {row + 2}: duplicate date {dates.iloc[row].date()}")
    steps = np.diff(dates.to_numpy().astype("datetime64[D]").astype(np.int64))
    if (steps <= 0).any():
        row = int(np.flatnonzero(steps <= 0)[0]) + 1
        raise DatasetError(f"row {row + 2}: date {dates.iloc[row].date()} does not come after "
                           f"{dates.iloc[row - 1].date()} (dates must strictly increase)")

    values = {}
    for column in factors:
        series = raw[column]
        if series.dtype == object or pd.api.types.is_string_dtype(series):
            numeric = pd.to_numeric(series, errors="coerce")
            bad = numeric.isna() & series.notna() & (series.astype(str).str.strip() != "")
            if bad.any():
                row = int(np.flatnonzero(bad.to_numpy())[0])
                raise DatasetError(f"row {row + 2}, column {column!r}: {series.iloc[row]!r} is not a number")
            series = numeric
        elif not (pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)):
            raise DatasetError(f"column {column!r} is not numeric (dtype {series.dtype})")
        array = series.to_numpy(dtype=np.float64, na_value=np.nan)
        infinite = np.isinf(array)
        if infinite.any():
            row = int(np.flatnonzero(infinite)[0])
            raise DatasetError(f"row {row + 2}, column {column!r}: infinite value")
        values[str(column)] = array
    frame = pd.DataFrame(values, index=pd.DatetimeIndex(dates.to_numpy(), name="date"))

    missing = frame.isna()
    dropped = filled = 0
    if missing.to_numpy().any():
        if nan_policy == "reject":
            row, col = np.argwhere(missing.to_numpy())[0]
            raise DatasetError(f"row {row + 2}, column {frame.columns[col]!r}: missing value (NaN policy "
                               "'reject'; declare 'drop' or 'ffill' to accept gaps)")
        if nan_policy == "drop":
            keep = ~missing.any(axis=1)
            dropped = int((~keep).sum())
            frame = frame[keep]
        else:
            if frame.iloc[0].isna().any():
                col = frame.columns[int(np.flatnonzero(frame.iloc[0].isna().to_numpy())[0])]
                raise DatasetError(f"row 2, column {col!r}: missing value on the first row cannot be "
                                   "forward-filled")
            filled_frame = frame.ffill(limit=ffill_limit)
            still = filled_frame.isna().to_numpy()
            if still.any():
                row, col = np.argwhere(still)[0]
                raise DatasetError(f"row {row + 2}, column {frame.columns[col]!r}: gap longer than the "
                                   f"forward-fill limit of {ffill_limit} rows")
            filled = int(missing.to_numpy().sum())
            frame = filled_frame
    if len(frame) < min_rows:
        raise DatasetError(f"the table has {len(frame)} usable rows; at least {min_rows} are required")
    return CheckedTable(frame=frame, dropped_rows=dropped, filled_cells=filled)


def _parse_dates(column: pd.Series, date_column: str) -> pd.Series:
    """Dates from text or a date type; numbers are refused rather than read as epoch offsets."""
    if pd.api.types.is_datetime64_any_dtype(column):
        return column
    if pd.api.types.is_bool_dtype(column) or pd.api.types.is_numeric_dtype(column):
        row = 0 if len(column) else -1
        example = f" ({column.iloc[row]!r} on row {row + 2})" if row >= 0 else ""
        raise DatasetError(f"column {date_column!r} holds numbers ({column.dtype}), not dates{example}: numbers "
                           "are not read as dates (they would be taken as epoch offsets); write the dates as "
                           "text such as 2020-01-31, or store them with a date type")
    values = column.astype(object)
    text = values.map(lambda v: v if isinstance(v, str) else None)
    numeric_like = values.map(lambda v: isinstance(v, (int, float, np.number)) and not isinstance(v, bool))
    bare = text.fillna("").str.match(_BARE_NUMBER) & ~text.fillna("").str.match(_YYYYMMDD)
    bad = (bare | numeric_like).to_numpy(dtype=bool)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise DatasetError(f"row {row + 2}, column {date_column!r}: {values.iloc[row]!r} is a number, not a date "
                           "(numbers are not read as dates; write dates such as 2020-01-31, or 20200131)")
    try:
        return pd.to_datetime(column, errors="coerce", format="mixed")
    except ValueError:
        # Offsets that differ from row to row: compare them as instants in UTC.
        return pd.to_datetime(column, errors="coerce", format="mixed", utc=True)


def check_kinds(columns: Sequence[str], column_kinds: Mapping[str, str], frame: pd.DataFrame) -> None:
    for column in columns:
        kind = column_kinds.get(column)
        if kind not in COLUMN_KINDS:
            raise DatasetError(f"column {column!r}: kind {kind!r} is not one of {', '.join(COLUMN_KINDS)}")
        if kind == "prices" and (frame[column] <= 0).any():
            row = int(np.flatnonzero((frame[column] <= 0).to_numpy())[0])
            raise DatasetError(f"row {row + 2}, column {column!r}: a price must be positive for log-returns "
                               f"(got {frame[column].iloc[row]}); declare the column as 'levels' instead")


def canonical_parquet(frame: pd.DataFrame) -> bytes:
    """The canonical bytes of a checked table (see module docstring)."""
    dates = pa.array(frame.index.to_numpy().astype("datetime64[D]"), type=pa.date32())
    arrays = [dates] + [pa.array(frame[c].to_numpy(dtype=np.float64), type=pa.float64()) for c in frame.columns]
    table = pa.Table.from_arrays(arrays, names=["date", *map(str, frame.columns)])
    buffer = io.BytesIO()
    pq.write_table(table, buffer, compression="zstd", compression_level=3, use_dictionary=False,
                   write_statistics=False, version="2.6", store_schema=False)
    return buffer.getvalue()


def read_canonical(data: bytes) -> pd.DataFrame:
    table = pq.read_table(io.BytesIO(data))
    frame = table.to_pandas()
    frame["date"] = pd.to_datetime(frame["date"])
    return frame.set_index("date").astype(np.float64)


def fingerprint(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def increments(frame: pd.DataFrame, column_kinds: Mapping[str, str]) -> pd.DataFrame:
    """Stationary increments: log-returns for prices, differences for levels and rates; returns as is.

    The first row is dropped (it has no predecessor) for every column alike, so rows stay aligned.
    """
    out = {}
    for column in frame.columns:
        kind = column_kinds[column]
        series = frame[column]
        if kind == "prices":
            out[column] = np.log(series).diff()
        elif kind in ("levels", "rates"):
            out[column] = series.diff()
        else:
            out[column] = series
    result = pd.DataFrame(out, index=frame.index).iloc[1:]
    return result


def split_windows(index: pd.DatetimeIndex, *, train_start, train_end, holdout_start, holdout_end):
    """Boolean masks of a leakage-safe split: the holdout starts strictly after training ends."""
    train_start = pd.Timestamp(train_start) if train_start else index.min()
    train_end, holdout_start = pd.Timestamp(train_end), pd.Timestamp(holdout_start)
    holdout_end = pd.Timestamp(holdout_end) if holdout_end else index.max()
    if train_start > train_end:
        raise DatasetError(f"training window starts ({train_start.date()}) after it ends ({train_end.date()})")
    if holdout_start <= train_end:
        raise DatasetError(f"the holdout ({holdout_start.date()}) must start strictly after the training window "
                           f"ends ({train_end.date()}): overlapping windows leak the holdout into training")
    if holdout_end < holdout_start:
        raise DatasetError("the holdout window ends before it starts")
    train = (index >= train_start) & (index <= train_end)
    holdout = (index >= holdout_start) & (index <= holdout_end)
    if train.sum() == 0:
        raise DatasetError(f"no data in the training window {train_start.date()} → {train_end.date()}")
    if holdout.sum() == 0:
        raise DatasetError(f"no data in the holdout window {holdout_start.date()} → {holdout_end.date()}")
    return train, holdout


# ── reading an uploaded file, bounded before decoding ──────────────────────────────────────
PARQUET_MAGIC = b"PAR1"


@dataclass(frozen=True)
class TableLimits:
    """Caps on what an uploaded table may hold; checked before its data is decoded.

    The defaults live in the settings (``CRUCIBLE_MAX_DATASET_*``); the reasons for each are there.
    """

    max_bytes: int = 200 * 1024 * 1024
    max_rows: int = 1_000_000
    max_columns: int = 1_000
    max_cells: int = 10_000_000
    max_uncompressed_bytes: int = 512 * 1024 * 1024
    max_footer_bytes: int = 16 * 1024 * 1024


def table_format(filename: str) -> str:
    suffix = Path(filename).suffix.lower()
    if suffix not in TABLE_SUFFIXES:
        raise DatasetError(f"{Path(filename).name}: only .csv and .parquet files are accepted")
    return TABLE_SUFFIXES[suffix]


def _check_shape(filename: str, rows: int, columns: int, limits: TableLimits) -> None:
    if columns > limits.max_columns:
        raise DatasetError(f"{filename} has {columns:,} columns; the limit is {limits.max_columns:,}")
    if rows > limits.max_rows:
        raise DatasetError(f"{filename} has {rows:,} rows; the limit is {limits.max_rows:,}")
    if rows * columns > limits.max_cells:
        raise DatasetError(f"{filename} has {rows:,} rows × {columns:,} columns = {rows * columns:,} cells; the "
                           f"limit is {limits.max_cells:,} cells")


def parquet_footer_length(path: Path) -> int:
    """The Thrift footer's length from the file's last 8 bytes (Parquet format: <len:u32 LE>PAR1)."""
    with open(path, "rb") as handle:
        head = handle.read(4)
        handle.seek(0, io.SEEK_END)
        size = handle.tell()
        if size < 12 or head != PARQUET_MAGIC:
            raise DatasetError("not a Parquet file (no PAR1 magic at the start)")
        handle.seek(size - 8)
        tail = handle.read(8)
    if tail[4:] != PARQUET_MAGIC:
        raise DatasetError("not a Parquet file (no PAR1 magic at the end)")
    (length,) = struct.unpack("<I", tail[:4])
    if length > size - 12:
        raise DatasetError(f"the Parquet footer claims {length:,} bytes in a {size:,}-byte file")
    return length


def check_parquet_metadata(metadata: pq.FileMetaData, arrow_schema: pa.Schema, *, filename: str,
                           limits: TableLimits) -> None:
    """Row, column, cell and uncompressed-size caps from the footer alone (nothing decoded yet).

    Dictionary and delta encodings make a Parquet file's size say nothing about its decoded size
    (50 M rows fit in 0.5 MB), so the caps are on what the footer declares.
    """
    for arrow_field in arrow_schema:
        if pa.types.is_nested(arrow_field.type):
            raise DatasetError(f"column {arrow_field.name!r} has a nested type ({arrow_field.type}); only flat "
                               "tables of dates and numbers are accepted")
    _check_shape(filename, metadata.num_rows, metadata.num_columns, limits)
    uncompressed = 0
    for index in range(metadata.num_row_groups):
        group = metadata.row_group(index)
        uncompressed += sum(group.column(c).total_uncompressed_size for c in range(group.num_columns))
        if uncompressed > limits.max_uncompressed_bytes:
            raise DatasetError(f"{filename} holds more than {limits.max_uncompressed_bytes:,} bytes of uncompressed "
                               "data; the limit is that size")


def read_parquet_bounded(path: Path, *, filename: str, limits: TableLimits) -> pd.DataFrame:
    footer = parquet_footer_length(path)
    if footer > limits.max_footer_bytes:
        raise DatasetError(f"{filename}: the Parquet footer is {footer:,} bytes; the limit is "
                           f"{limits.max_footer_bytes:,}")
    parquet = pq.ParquetFile(path)  # reads and parses the footer only
    check_parquet_metadata(parquet.metadata, parquet.schema_arrow, filename=filename, limits=limits)
    table = parquet.read()
    return table.to_pandas()


def read_csv_bounded(path: Path, *, filename: str, limits: TableLimits, date_column: str = "date") -> pd.DataFrame:
    header = pd.read_csv(path, nrows=0, dtype=str)
    columns = len(header.columns)
    _check_shape(filename, 0, columns, limits)
    allowed = min(limits.max_rows, limits.max_cells // max(columns, 1))
    # Dates stay text (checked by _parse_dates); numbers are parsed by the C parser (pandas 3:
    # correctly rounded), 8 bytes a cell rather than one Python string each.
    frame = pd.read_csv(path, dtype={date_column: str}, keep_default_na=False, na_values=NA_TOKENS,
                        nrows=allowed + 1)
    if len(frame) > allowed:
        raise DatasetError(f"{filename} has more than {allowed:,} data rows; the limit for {columns:,} columns is "
                           f"{allowed:,} (at most {limits.max_rows:,} rows and {limits.max_cells:,} cells)")
    return frame


def read_table_file(path: Path | str, *, filename: str, limits: TableLimits, date_column: str = "date") -> pd.DataFrame:
    """Parse a stored upload, refusing what the limits do not admit before decoding its data."""
    path = Path(path)
    kind = table_format(filename)
    size = path.stat().st_size
    if size > limits.max_bytes:
        raise DatasetError(f"{filename} is {size:,} bytes; the limit is {limits.max_bytes:,} bytes")
    if kind == "parquet":
        return read_parquet_bounded(path, filename=filename, limits=limits)
    return read_csv_bounded(path, filename=filename, limits=limits, date_column=date_column)


# ── a checked table, ready to store ─────────────────────────────────────────────────────────
@dataclass(frozen=True)
class PreparedTable:
    canonical: bytes
    increments: bytes
    factors: list[str]
    column_kinds: dict[str, str]
    risk_classes: dict[str, str]
    n_rows: int
    start_date: str
    end_date: str
    frequency: str
    dropped_rows: int
    filled_cells: int

    def summary(self) -> dict:
        """Everything but the bytes (JSON-able)."""
        return {"factors": self.factors, "column_kinds": self.column_kinds, "risk_classes": self.risk_classes,
                "n_rows": self.n_rows, "start_date": self.start_date, "end_date": self.end_date,
                "frequency": self.frequency, "dropped_rows": self.dropped_rows, "filled_cells": self.filled_cells}


def frequency(index: pd.DatetimeIndex) -> str:
    if len(index) < 3:
        return ""
    median_days = float(pd.Series(index).diff().dt.days.median())
    if median_days <= 4:
        return "daily"
    if median_days <= 8:
        return "weekly"
    if median_days <= 35:
        return "monthly"
    if median_days <= 100:
        return "quarterly"
    return "annual"


def prepare_table(
    raw: pd.DataFrame, *, date_column: str = "date", kind: str = "prices",
    column_kinds: Mapping[str, str] | None = None, risk_classes: Mapping[str, str] | None = None,
    nan_policy: str = "reject", ffill_limit: int = 5, min_rows: int = DEFAULT_MIN_ROWS,
) -> PreparedTable:
    """Every check, then the canonical bytes and the increments' canonical bytes."""
    if kind not in COLUMN_KINDS:
        raise DatasetError(f"kind must be one of {', '.join(COLUMN_KINDS)}")
    checked = check_table(raw, date_column=date_column, nan_policy=nan_policy, ffill_limit=ffill_limit,
                          min_rows=min_rows)
    frame = checked.frame
    factors = [str(c) for c in frame.columns]
    kinds = {f: (column_kinds or {}).get(f, kind) for f in factors}
    unknown = set(column_kinds or {}) - set(factors) | set(risk_classes or {}) - set(factors)
    if unknown:
        raise DatasetError(f"kinds given for unknown columns: {', '.join(sorted(unknown))}")
    check_kinds(factors, kinds, frame)
    classes = {f: (risk_classes or {}).get(f, "other") for f in factors}
    for factor, risk_class in classes.items():
        if risk_class not in RISK_CLASSES:
            raise DatasetError(f"column {factor!r}: risk class {risk_class!r} is not one of "
                               f"{', '.join(RISK_CLASSES)}")
    canonical = canonical_parquet(frame)
    incr_bytes = canonical_parquet(increments(frame, kinds))
    return PreparedTable(
        canonical=canonical, increments=incr_bytes, factors=factors, column_kinds=kinds, risk_classes=classes,
        n_rows=len(frame), start_date=frame.index.min().date().isoformat(),
        end_date=frame.index.max().date().isoformat(), frequency=frequency(frame.index),
        dropped_rows=checked.dropped_rows, filled_cells=checked.filled_cells,
    )
