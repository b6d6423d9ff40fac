"""Real series bundled with installed packages (no network): arch.data and statsmodels.

Each panel: a table with a ``date`` column, the kind of each column (how it becomes stationary
increments) and its risk class.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd


@dataclass(frozen=True)
class BuiltinPanel:
    name: str
    description: str
    frame: pd.DataFrame  # has a "date" column
    column_kinds: dict[str, str]
    risk_classes: dict[str, str]


def _sp500_nasdaq_wti() -> BuiltinPanel:
    from arch.data import nasdaq, sp500, wti

    prices = pd.concat(
        {"SP500": sp500.load()["Adj Close"], "NASDAQ": nasdaq.load()["Adj Close"],
         "WTI": pd.to_numeric(wti.load()["DCOILWTICO"], errors="coerce")},
        axis=1, join="inner",
    ).dropna()
    frame = prices.rename_axis("date").reset_index()
    return BuiltinPanel(
        "sp500_nasdaq_wti", "Daily S&P 500, NASDAQ Composite (adjusted close) and WTI crude spot, 1999–2018 "
        "(arch.data; dates common to all three)", frame,
        {"SP500": "prices", "NASDAQ": "prices", "WTI": "prices"},
        {"SP500": "equity", "NASDAQ": "equity", "WTI": "commodity"},
    )


def _sp500() -> BuiltinPanel:
    from arch.data import sp500

    frame = sp500.load()[["Adj Close"]].rename(columns={"Adj Close": "SP500"}).rename_axis("date").reset_index()
    return BuiltinPanel("sp500", "Daily S&P 500 adjusted close, 1999–2018 (arch.data)", frame,
                        {"SP500": "prices"}, {"SP500": "equity"})


def _vix() -> BuiltinPanel:
    from arch.data import vix

    frame = vix.load().rename(columns={"vix": "VIX"}).dropna().rename_axis("date").reset_index()
    return BuiltinPanel("vix", "Daily CBOE VIX, 2014–2018 (arch.data)", frame, {"VIX": "levels"},
                        {"VIX": "volatility"})


def _credit_yields() -> BuiltinPanel:
    from arch.data import default

    frame = default.load().dropna().rename_axis("date").reset_index()
    return BuiltinPanel("credit_yields", "Monthly Moody's AAA and BAA corporate bond yields (%), 1919–2018 "
                        "(arch.data)", frame, {"AAA": "rates", "BAA": "rates"}, {"AAA": "rates", "BAA": "credit"})


def _us_macro() -> BuiltinPanel:
    from statsmodels.datasets import macrodata

    data = macrodata.load_pandas().data
    dates = pd.PeriodIndex.from_fields(year=data["year"].astype(int), quarter=data["quarter"].astype(int),
                                       freq="Q").to_timestamp(how="end").normalize()
    columns = {"realgdp": "levels", "cpi": "levels", "unemp": "rates", "tbilrate": "rates", "realcons": "levels"}
    frame = data[list(columns)].copy()
    frame.insert(0, "date", dates)
    return BuiltinPanel("us_macro", "US quarterly macro 1959–2009 (statsmodels macrodata)", frame, columns,
                        {"realgdp": "macro", "cpi": "macro", "unemp": "macro", "tbilrate": "rates",
                         "realcons": "macro"})


BUILTINS = {
    "sp500_nasdaq_wti": _sp500_nasdaq_wti,
    "sp500": _sp500,
    "vix": _vix,
    "credit_yields": _credit_yields,
    "us_macro": _us_macro,
}


def load_builtin(name: str) -> BuiltinPanel:
    try:
        return BUILTINS[name]()
    except KeyError:
        raise ValueError(f"unknown built-in dataset {name!r}; available: {', '.join(sorted(BUILTINS))}") from None
