"""Importer and writer of the Federal Reserve's supervisory scenario tables (its own CSV layout).

The Fed publishes each stress-test scenario as a CSV: ``Scenario Name``, ``Date`` (``YYYY Qn``), then
one column per variable with its unit in the name — growth rates in annualised percent ("Real GDP
growth", "CPI inflation rate"), rates and yields in percent ("10-year Treasury yield"), index levels
("Dow Jones Total Stock Market Index (Level)") and bilateral exchange rates. ``Scenario Name`` is
``Actual`` for the historic table, ``Supervisory Baseline`` / ``Supervisory Severely Adverse`` (and, in
earlier years, ``Supervisory Adverse``) for the scenario paths. Domestic and international variables
come in separate tables. An empty cell means "not available" (several series start late), never zero.

Pure code: the standard library, numpy and pandas; no I/O beyond the file asked for.
"""

from __future__ import annotations

import csv
import io
import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

SCENARIO_COLUMN = "Scenario Name"
DATE_COLUMN = "Date"

# Units parsed from a variable's name.
GROWTH = "growth_pct_annualised"
RATE = "rate_pct"
LEVEL = "index_level"
FX = "exchange_rate"
UNITS = (GROWTH, RATE, LEVEL, FX)

HISTORIC = "historic"
BASELINE = "baseline"
ADVERSE = "adverse"
SEVERELY_ADVERSE = "severely_adverse"
KINDS = (HISTORIC, BASELINE, ADVERSE, SEVERELY_ADVERSE)

DOMESTIC = "domestic"
INTERNATIONAL = "international"
INTERNATIONAL_PREFIXES = ("Euro area", "Developing Asia", "Japan", "U.K.")

_DATE = re.compile(r"^\s*(\d{4})\s*Q([1-4])\s*$")
_EDITION = re.compile(r"^(\d{4})(?:[-_ ]?(proposed))?", re.IGNORECASE)


@dataclass(frozen=True)
class FedTable:
    """One Fed table: ``data`` has a quarterly PeriodIndex and one float column per Fed variable (NaN = n/a)."""

    source: str
    scenario_name: str
    kind: str  # historic | baseline | adverse | severely_adverse
    region: str  # domestic | international
    data: pd.DataFrame
    units: dict[str, str]

    @property
    def quarters(self) -> pd.PeriodIndex:
        return self.data.index  # type: ignore[return-value]

    @property
    def variables(self) -> list[str]:
        return list(self.data.columns)


def parse_unit(name: str) -> str:
    """The unit of a Fed variable from its name; ValueError for a name that fits none."""
    lowered = name.lower()
    if "exchange rate" in lowered:
        return FX
    if "(level)" in lowered or lowered.endswith(" index") or "price index" in lowered:
        return LEVEL
    if "growth" in lowered or "inflation" in lowered:
        return GROWTH
    if "rate" in lowered or "yield" in lowered:
        return RATE
    raise ValueError(f"unexpected column {name!r}: not a Fed variable (no growth/inflation, rate/yield, "
                     f"(Level) or exchange rate in its name)")


def parse_quarter(text: str) -> pd.Period:
    match = _DATE.match(text or "")
    if match is None:
        raise ValueError(f"bad date {text!r}: expected 'YYYY Qn'")
    return pd.Period(year=int(match.group(1)), quarter=int(match.group(2)), freq="Q")


def format_quarter(period: pd.Period) -> str:
    return f"{period.year} Q{period.quarter}"


def scenario_kind(scenario_name: str) -> str:
    lowered = " ".join(scenario_name.lower().split())
    if lowered in ("actual", "historic", "historical"):
        return HISTORIC
    if "severely adverse" in lowered:
        return SEVERELY_ADVERSE
    if "adverse" in lowered:
        return ADVERSE
    if "baseline" in lowered:
        return BASELINE
    raise ValueError(f"unknown scenario name {scenario_name!r}: expected Actual, Supervisory Baseline, "
                     f"Supervisory Adverse or Supervisory Severely Adverse")


def table_region(variables: list[str]) -> str:
    international = [v.startswith(INTERNATIONAL_PREFIXES) for v in variables]
    if all(international):
        return INTERNATIONAL
    if not any(international):
        return DOMESTIC
    raise ValueError("columns mix domestic and international variables: "
                     + ", ".join(v for v, i in zip(variables, international, strict=True) if i))


def _parse_cell(text: str) -> float:
    stripped = text.strip()
    if stripped == "":
        return math.nan
    value = float(stripped)  # ValueError for non-numeric text
    if not math.isfinite(value):
        raise ValueError(f"non-finite value {stripped!r}")
    return value


def parse_fed_csv(text: str, source: str = "<text>") -> FedTable:
    """Parse the Fed layout from CSV text; every error names ``source``, the line and the column."""
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    while rows and not any(cell.strip() for cell in rows[-1]):
        rows.pop()
    if not rows:
        raise ValueError(f"{source}: empty file")
    header = [cell.strip() for cell in rows[0]]
    if len(header) < 3 or header[0] != SCENARIO_COLUMN or header[1] != DATE_COLUMN:
        raise ValueError(f"{source}: unexpected header {header[:3]!r}: expected {SCENARIO_COLUMN!r}, "
                         f"{DATE_COLUMN!r}, then one column per variable")
    variables = header[2:]
    units: dict[str, str] = {}
    for position, name in enumerate(variables, start=3):
        if not name:
            raise ValueError(f"{source}: unexpected header: column {position} has no name")
        if name in units:
            raise ValueError(f"{source}: unexpected header: duplicate column {name!r}")
        try:
            units[name] = parse_unit(name)
        except ValueError as exc:
            raise ValueError(f"{source}: unexpected header: {exc}") from None
    try:
        region = table_region(variables)
    except ValueError as exc:
        raise ValueError(f"{source}: unexpected header: {exc}") from None

    scenario_name: str | None = None
    quarters: list[pd.Period] = []
    seen: dict[pd.Period, int] = {}
    values = np.empty((len(rows) - 1, len(variables)))
    for i, row in enumerate(rows[1:]):
        line = i + 2
        if len(row) != len(header):
            raise ValueError(f"{source}: line {line}: {len(row)} fields, the header has {len(header)}")
        name = row[0].strip()
        if scenario_name is None:
            scenario_name = name
        elif name != scenario_name:
            raise ValueError(f"{source}: line {line}: scenario name {name!r} differs from {scenario_name!r}")
        try:
            quarter = parse_quarter(row[1])
        except ValueError as exc:
            raise ValueError(f"{source}: line {line}, column {DATE_COLUMN!r}: {exc}") from None
        if quarter in seen:
            raise ValueError(f"{source}: line {line}: duplicate quarter {format_quarter(quarter)} "
                             f"(also on line {seen[quarter]})")
        if quarters and quarter != quarters[-1] + 1:
            raise ValueError(f"{source}: line {line}: quarter {format_quarter(quarter)} does not follow "
                             f"{format_quarter(quarters[-1])} (quarters must be consecutive and increasing)")
        seen[quarter] = line
        quarters.append(quarter)
        for j, cell in enumerate(row[2:]):
            try:
                values[i, j] = _parse_cell(cell)
            except ValueError:
                raise ValueError(f"{source}: line {line}, column {variables[j]!r}: non-numeric value "
                                 f"{cell.strip()!r}") from None
    if not quarters or scenario_name is None:
        raise ValueError(f"{source}: no data rows")
    try:
        kind = scenario_kind(scenario_name)
    except ValueError as exc:
        raise ValueError(f"{source}: line 2, column {SCENARIO_COLUMN!r}: {exc}") from None
    index = pd.PeriodIndex(quarters, freq="Q", name="quarter")
    data = pd.DataFrame(values, index=index, columns=variables)
    return FedTable(source=source, scenario_name=scenario_name, kind=kind, region=region, data=data, units=units)


def read_fed_table(path: str | Path) -> FedTable:
    """Read one Fed table (e.g. ``2025-Table_3A_Supervisory_Severely_Adverse_Domestic.csv``)."""
    path = Path(path)
    return parse_fed_csv(path.read_text(encoding="utf-8-sig"), source=path.name)


def edition_of(filename: str) -> str:
    """``2025`` for ``2025-Table_1A_...``, ``2026-proposed`` for ``2026_Proposed_...``; else the stem."""
    match = _EDITION.match(filename)
    if match is None:
        return Path(filename).stem
    return match.group(1) + ("-proposed" if match.group(2) else "")


def table_key(edition: str, kind: str, region: str) -> str:
    return f"{edition}/{kind}/{region}"


def read_fed_directory(directory: str | Path) -> dict[str, FedTable]:
    """Every Fed table (``*.csv``) in a directory, keyed ``"<edition>/<kind>/<region>"``.

    E.g. ``"2025/severely_adverse/domestic"``, ``"2026-proposed/historic/international"``. The kind and
    region come from each file's content, the edition from its name, so earlier years' numbering
    (2024: 2A historic, 3A baseline, 4A severely adverse) reads the same way.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise ValueError(f"{directory}: not a directory")
    tables: dict[str, FedTable] = {}
    for path in sorted(directory.glob("*.csv")):
        table = read_fed_table(path)
        key = table_key(edition_of(path.name), table.kind, table.region)
        if key in tables:
            raise ValueError(f"{path.name}: a second {key} table (first: {tables[key].source})")
        tables[key] = table
    if not tables:
        raise ValueError(f"{directory}: no Fed tables (*.csv)")
    return tables


def _as_quarters(index: pd.Index) -> pd.PeriodIndex:
    if isinstance(index, pd.PeriodIndex):
        return index.asfreq("Q")
    if isinstance(index, pd.DatetimeIndex):
        return index.to_period("Q")
    return pd.PeriodIndex([parse_quarter(str(v)) for v in index], freq="Q")


def to_fed_layout(df: pd.DataFrame, scenario_name: str) -> pd.DataFrame:
    """The Fed's column layout for a quarterly scenario: ``Scenario Name``, ``Date`` (``YYYY Qn``), variables.

    ``df``: one row per quarter (PeriodIndex, DatetimeIndex or ``"YYYY Qn"`` labels), one numeric column
    per Fed variable (names must carry their unit the Fed's way, so the export re-imports). NaN stays
    empty in the CSV. Write it with :func:`fed_layout_csv` / :func:`write_fed_table`.
    """
    scenario_kind(scenario_name)
    if df.empty:
        raise ValueError("nothing to export: the frame has no rows or no columns")
    for column in df.columns:
        parse_unit(str(column))
    table_region([str(c) for c in df.columns])
    quarters = _as_quarters(df.index)
    if quarters.has_duplicates:
        raise ValueError(f"duplicate quarter {format_quarter(quarters[quarters.duplicated()][0])}")
    if len(quarters) > 1 and not (np.diff(quarters.asi8) == 1).all():
        raise ValueError("quarters must be consecutive and increasing")
    values = df.apply(pd.to_numeric, errors="raise").astype(np.float64)
    if np.isinf(values.to_numpy()).any():
        raise ValueError("infinite value in the frame")
    out = pd.DataFrame({SCENARIO_COLUMN: scenario_name, DATE_COLUMN: [format_quarter(q) for q in quarters]})
    for column in df.columns:
        out[str(column)] = values[column].to_numpy()
    return out


def fed_layout_csv(df: pd.DataFrame, scenario_name: str) -> str:
    """CSV text in the Fed layout (floats written in their shortest exact form, NaN as an empty cell)."""
    layout = to_fed_layout(df, scenario_name)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(list(layout.columns))
    for row in layout.itertuples(index=False):
        cells = [row[0], row[1]] + ["" if math.isnan(v) else repr(float(v)) for v in row[2:]]
        writer.writerow(cells)
    return buffer.getvalue()


def write_fed_table(df: pd.DataFrame, scenario_name: str, path: str | Path) -> Path:
    path = Path(path)
    path.write_text(fed_layout_csv(df, scenario_name), encoding="utf-8")
    return path
