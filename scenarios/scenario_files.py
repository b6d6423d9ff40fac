"""The scenario file format (README "Scenario file format").

Long format, Parquet or CSV: columns ``scenario`` (int, 0..n-1 or any distinct ints), ``step``
(int, 1..horizon) and one column per factor named as in the dataset, holding that day's increment
(log-return for prices, difference for rates/levels). Every scenario has every step exactly once.
Also accepted on import: ``.npy`` of shape ``[n, horizon, factors]`` with a list of factor names.
The canonical stored form is long-format Parquet sorted by (scenario, step), written by
``canonical_bytes``; the scenario set's SHA-256 is the hash of those bytes.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from scenarios.datasets import FORMULA_PREFIXES

# Parquet read in the calling thread: pyarrow's background reader threads can abort the interpreter at
# exit ("terminate called without an active exception", apache/arrow#34314), seen here intermittently in
# the command-line tools; these files are small, so nothing is lost.
SINGLE_THREADED = {"use_threads": False, "pre_buffer": False}


class ScenarioFileError(ValueError):
    """A scenario file does not follow the format; the message says where."""


def to_long(array: np.ndarray, factors: Sequence[str]) -> pd.DataFrame:
    n, horizon, f = array.shape
    if f != len(factors):
        raise ScenarioFileError(f"{f} factors in the array but {len(factors)} names")
    frame = pd.DataFrame(array.reshape(n * horizon, f), columns=list(factors))
    frame.insert(0, "step", np.tile(np.arange(1, horizon + 1, dtype=np.int32), n))
    frame.insert(0, "scenario", np.repeat(np.arange(n, dtype=np.int32), horizon))
    return frame


def canonical_bytes(array: np.ndarray, factors: Sequence[str]) -> bytes:
    n, horizon, f = array.shape
    flat = np.ascontiguousarray(array, dtype=np.float64).reshape(n * horizon, f)
    columns = [pa.array(np.repeat(np.arange(n, dtype=np.int32), horizon)),
               pa.array(np.tile(np.arange(1, horizon + 1, dtype=np.int32), n))]
    columns += [pa.array(flat[:, j]) for j in range(f)]
    table = pa.Table.from_arrays(columns, names=["scenario", "step", *factors])
    buffer = io.BytesIO()
    pq.write_table(table, buffer, compression="zstd", compression_level=3, use_dictionary=False,
                   write_statistics=False, version="2.6", store_schema=False)
    return buffer.getvalue()


def read_canonical(data: bytes) -> tuple[np.ndarray, list[str]]:
    return from_long(pq.read_table(io.BytesIO(data), **SINGLE_THREADED).to_pandas())


def from_long(frame: pd.DataFrame, expected_factors: Sequence[str] | None = None) -> tuple[np.ndarray, list[str]]:
    """Check a long-format table and return ``([n, horizon, F], factor names)``."""
    for column in ("scenario", "step"):
        if column not in frame.columns:
            raise ScenarioFileError(f"missing column {column!r}; the format is scenario, step, <factor>...")
    factors = [str(c) for c in frame.columns if c not in ("scenario", "step")]
    if not factors:
        raise ScenarioFileError("no factor columns")
    for name in factors:
        if name.startswith(FORMULA_PREFIXES):
            raise ScenarioFileError(f"factor column {name!r} looks like a spreadsheet formula")
    if expected_factors is not None:
        missing = [f for f in expected_factors if f not in factors]
        extra = [f for f in factors if f not in expected_factors]
        if missing or extra:
            raise ScenarioFileError(f"factor columns do not match the dataset: missing {missing or 'none'}, "
                                    f"unexpected {extra or 'none'}")
        factors = list(expected_factors)
    try:
        scenario = pd.to_numeric(frame["scenario"], errors="raise").to_numpy()
        step = pd.to_numeric(frame["step"], errors="raise").to_numpy()
    except (ValueError, TypeError) as error:
        raise ScenarioFileError(f"scenario and step must be integers: {error}") from error
    if not (np.all(np.mod(scenario, 1) == 0) and np.all(np.mod(step, 1) == 0)):
        raise ScenarioFileError("scenario and step must be integers")
    try:
        values = frame[factors].apply(pd.to_numeric, errors="raise").to_numpy(dtype=np.float64)
    except (ValueError, TypeError) as error:
        raise ScenarioFileError(f"factor values must be numbers: {error}") from error
    bad = ~np.isfinite(values)
    if bad.any():
        row, col = np.argwhere(bad)[0]
        raise ScenarioFileError(f"row {row + 2}, factor {factors[col]!r}: value is not finite")
    ids, scenario_index = np.unique(scenario.astype(np.int64), return_inverse=True)
    horizon = int(step.max()) if len(step) else 0
    if len(step) == 0 or step.min() < 1:
        raise ScenarioFileError("steps start at 1")
    n = len(ids)
    if len(frame) != n * horizon:
        raise ScenarioFileError(f"{len(frame)} rows for {n} scenarios × {horizon} steps: every scenario needs "
                                "every step exactly once")
    out = np.full((n, horizon, len(factors)), np.nan)
    step_index = step.astype(np.int64) - 1
    flat = scenario_index * horizon + step_index
    if len(np.unique(flat)) != len(flat):
        first = pd.Series(flat).duplicated().to_numpy().argmax()
        raise ScenarioFileError(f"row {first + 2}: duplicate (scenario {ids[scenario_index[first]]}, "
                                f"step {step_index[first] + 1})")
    out[scenario_index, step_index] = values
    return out, factors


def read_scenario_file(data: bytes, *, filename: str, factors: Sequence[str] | None = None,
                       expected_factors: Sequence[str] | None = None) -> tuple[np.ndarray, list[str]]:
    """Parse an uploaded scenario file (.parquet, .csv or .npy + ``factors``)."""
    name = filename.lower()
    try:
        if name.endswith(".npy"):
            if not factors:
                raise ScenarioFileError(".npy needs the list of factor names")
            array = np.load(io.BytesIO(data), allow_pickle=False)
            if array.ndim != 3 or array.shape[2] != len(factors):
                raise ScenarioFileError(f".npy must be [n, horizon, {len(factors)}], got {list(array.shape)}")
            frame = to_long(np.asarray(array, dtype=np.float64), factors)
        elif name.endswith(".parquet"):
            frame = pq.read_table(io.BytesIO(data), **SINGLE_THREADED).to_pandas()
        elif name.endswith(".csv"):
            frame = pd.read_csv(io.BytesIO(data))
        else:
            raise ScenarioFileError(f"{filename}: use .parquet, .csv or .npy")
    except (OSError, ValueError, pa.ArrowException) as error:
        if isinstance(error, ScenarioFileError):
            raise
        raise ScenarioFileError(f"{filename} could not be read: {error}") from error
    return from_long(frame, expected_factors)


def safe_csv_cell(value: str) -> str:
    """Text cells that a spreadsheet would run as a formula are prefixed with a quote (OWASP)."""
    return "'" + value if value.startswith(FORMULA_PREFIXES) else value


def to_csv_bytes(array: np.ndarray, factors: Sequence[str]) -> bytes:
    frame = to_long(array, [safe_csv_cell(f) for f in factors])
    return frame.to_csv(index=False, float_format="%.17g").encode()
