"""Checking, canonicalising, fingerprinting and transforming market-data tables (pure pandas).

A dataset is a table with one date column and one numeric column per risk factor. Every check
fails with a ``DatasetError`` whose message names the offending row or column; nothing is stored
unless every check passes.

Canonical form (what the SHA-256 fingerprint covers): rows sorted by date, the date column named
``date`` as date32, every factor as float64 in the declared column order, written by pyarrow as
Parquet with fixed options and no pandas/application metadata. The stored file *is* those bytes,
so ``sha256sum`` of the file reproduces the fingerprint.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

COLUMN_KINDS = ("prices", "returns", "levels", "rates")
RISK_CLASSES = ("equity", "rates", "credit", "commodity", "fx", "volatility", "macro", "other")
NAN_POLICIES = ("reject", "drop", "ffill")
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
DEFAULT_MIN_ROWS = 60


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

    dates = pd.to_datetime(raw[date_column], errors="coerce", format="mixed")
    if dates.isna().any():
        row = int(np.flatnonzero(dates.isna().to_numpy())[0])
        raise DatasetError(f"row {row + 2}: date {raw[date_column].iloc[row]!r} in column {date_column!r} "
                           "does not parse")
    if getattr(dates.dt, "tz", None) is not None:
        dates = dates.dt.tz_convert("UTC").dt.tz_localize(None)
    dates = dates.dt.normalize()
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
