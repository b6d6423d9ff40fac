"""Supervisory-path engine: Fed quarterly paths → daily factor paths that sum back to the quarterly targets.

Stated tolerance: every complete quarter of every generated path sums to its target within 1e-9
(the Brownian-bridge correction is exact up to floating-point rounding).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from arch.data import sp500, wti

from scenarios.engines import fed_tables as ft
from scenarios.engines import supervisory as sv
from scenarios.engines.base import Condition, FittedState, Target

FED_DIR = Path(__file__).resolve().parents[3] / "data" / "fed-supervisory-scenarios"
TOL = 1e-9
D = 63


@pytest.fixture(scope="module")
def tables() -> dict[str, ft.FedTable]:
    return ft.read_fed_directory(FED_DIR)


@pytest.fixture(scope="module")
def sp500_returns() -> pd.Series:
    return np.log(sp500.load()["Adj Close"]).diff().dropna()


@pytest.fixture(scope="module")
def equity_state(tables, sp500_returns) -> FittedState:
    return sv.fit(sp500_returns.to_numpy()[:, None], ["SP500"], sv.Config(), kinds=["equity"],
                  dates=sp500_returns.index, fed_history=tables["2025/historic/domestic"])


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    """Real daily panel: S&P 500 and WTI log-returns, plus a synthetic 10y-yield and BBB-spread factor."""
    prices = pd.concat({"SP500": sp500.load()["Adj Close"],
                        "WTI": pd.to_numeric(wti.load()["DCOILWTICO"], errors="coerce")}, axis=1, join="inner")
    returns = np.log(prices.dropna()).diff().dropna()
    rng = np.random.default_rng(7)
    returns["UST10"] = rng.normal(0.0, 0.06, len(returns))
    returns["SPREAD"] = -0.5 * returns["SP500"] + rng.normal(0.0, 0.03, len(returns))
    return returns


@pytest.fixture(scope="module")
def panel_state(tables, panel) -> FittedState:
    return sv.fit(panel.to_numpy(), list(panel.columns), sv.Config(),
                  kinds=["equity", "commodity", "rates", "credit"], dates=panel.index,
                  fed_history=tables["2025/historic/domestic"])


def _path(tables, key: str, jump_off: bool = False) -> dict:
    historic = tables[key.split("/")[0] + "/historic/domestic"] if jump_off else None
    return sv.fed_path_from_tables(tables[key], historic)


def _condition(path: dict, **kwargs) -> Condition:
    return Condition(extra={"fed_path": path}, **kwargs)


def test_equity_relation_has_the_right_sign(equity_state):
    reg = equity_state.meta["regressions"]["SP500"]
    assert reg["drivers"] == ["equity"]
    slope = reg["params"][1]
    assert 0.8 < slope < 1.1 and reg["tvalues"][1] > 20  # S&P 500 tracks the Dow Jones total market
    assert reg["rsquared"] > 0.9
    assert (reg["first_quarter"], reg["last_quarter"]) == ("1999 Q1", "2018 Q4") and reg["nobs"] == 80


def test_severely_adverse_falls_and_baseline_does_not(tables, equity_state):
    n, horizon = 400, 13 * D
    results = {}
    for kind in ("severely_adverse", "baseline"):
        paths = sv.sample(equity_state, n, horizon, _condition(_path(tables, f"2025/{kind}/domestic")),
                          np.random.default_rng(1))
        assert paths.shape == (n, horizon, 1) and np.isfinite(paths).all()
        cumulative = paths[:, :, 0].cumsum(axis=1)
        results[kind] = (np.median(cumulative[:, 4 * D - 1]), np.median(cumulative.min(axis=1)))
    sa_year, sa_trough = results["severely_adverse"]
    base_year, base_trough = results["baseline"]
    # The Fed's Dow Jones falls from 58,399 to 29,200 (log -0.69) by 2025 Q4.
    assert sa_year < -0.5 and sa_trough < -0.6
    assert base_year > -0.1 and base_trough > -0.3


def test_translated_targets_follow_the_fed_dow(tables, equity_state):
    quarters, targets = sv.quarterly_targets(equity_state, _path(tables, "2025/severely_adverse/domestic"))
    assert quarters[0] == pd.Period("2025Q1", freq="Q") and targets.shape == (13, 1)
    dow = np.log(np.r_[58399.3, tables["2025/severely_adverse/domestic"].data[sv.DOW].to_numpy()])
    a, b = equity_state.meta["regressions"]["SP500"]["params"]
    np.testing.assert_allclose(targets[:, 0], a + b * np.diff(dow), atol=1e-12)


@pytest.mark.parametrize("noise", ["gaussian", "bootstrap"])
@pytest.mark.parametrize("residual_noise", [True, False])
def test_daily_paths_sum_to_quarterly_targets(tables, panel, noise, residual_noise):
    state = sv.fit(panel.to_numpy(), list(panel.columns), sv.Config(noise=noise, residual_noise=residual_noise),
                   kinds=["equity", "commodity", "rates", "credit"], dates=panel.index,
                   fed_history=tables["2025/historic/domestic"])
    path = _path(tables, "2025/severely_adverse/domestic")
    n = 50
    paths, targets = sv.sample_paths(state, n, 13 * D, _condition(path), np.random.default_rng(3))
    assert paths.shape == (n, 13 * D, 4) and targets.shape == (n, 13, 4)
    sums = paths.reshape(n, 13, D, 4).sum(axis=2)
    np.testing.assert_allclose(sums, targets, rtol=0, atol=TOL)
    _, mean_targets = sv.quarterly_targets(state, path)
    if residual_noise:
        assert np.abs(targets - mean_targets).max() > 1e-4  # scenarios differ by their residual draw
    else:
        np.testing.assert_allclose(sums, np.broadcast_to(mean_targets, sums.shape), rtol=0, atol=TOL)


def test_oil_and_rates_regressions(tables, panel_state):
    regs = panel_state.meta["regressions"]
    assert regs["WTI"]["drivers"] == list(sv.BROAD)  # no direct Fed variable: regression on the broad set
    assert regs["UST10"]["drivers"] == ["t10", "t3m"] and regs["SPREAD"]["drivers"] == ["bbb_spread", "t10"]
    assert regs["WTI"]["rsquared"] > 0.2
    _, targets = sv.quarterly_targets(panel_state, _path(tables, "2025/severely_adverse/domestic"))
    assert targets[0, 1] < -0.2  # oil falls in the severely adverse recession (as in 2008 Q4)
    cov = panel_state.arrays["resid_cov"]
    assert cov.shape == (4, 4) and np.all(np.linalg.eigvalsh(cov) > -1e-12)


def test_truncated_horizon_and_too_long(tables, equity_state):
    path = _path(tables, "2025/severely_adverse/domestic")
    paths, targets = sv.sample_paths(equity_state, 5, 100, _condition(path), np.random.default_rng(0))
    assert paths.shape == (5, 100, 1) and targets.shape == (5, 2, 1)
    np.testing.assert_allclose(paths[:, :D].sum(axis=1), targets[:, 0], atol=TOL)
    with pytest.raises(ValueError, match=r"horizon 820 exceeds the scenario's 13 quarters × 63 trading days = 819"):
        sv.sample(equity_state, 5, 13 * D + 1, _condition(path), np.random.default_rng(0))


def test_trading_days_per_quarter_is_configurable(tables, sp500_returns):
    state = sv.fit(sp500_returns.to_numpy()[:, None], ["SP500"], sv.Config(trading_days_per_quarter=10),
                   kinds=["equity"], dates=sp500_returns.index, fed_history=tables["2025/historic/domestic"])
    paths, targets = sv.sample_paths(state, 3, 130, _condition(_path(tables, "2025/baseline/domestic")),
                                     np.random.default_rng(0))
    np.testing.assert_allclose(paths.reshape(3, 13, 10, 1).sum(axis=2), targets, atol=TOL)


def test_stress_quarters_are_more_volatile(tables, equity_state):
    paths = {}
    for kind in ("severely_adverse", "baseline"):
        paths[kind] = sv.sample(equity_state, 200, D, _condition(_path(tables, f"2025/{kind}/domestic")),
                                np.random.default_rng(5))
    # Scaled by the scenario's VIX (60 vs 26.7 in 2025 Q1) relative to its mean over the fitted quarters.
    assert paths["severely_adverse"].std() > 1.8 * paths["baseline"].std()


def test_same_seed_same_paths(tables, panel_state):
    condition = _condition(_path(tables, "2025/severely_adverse/domestic"))
    first = sv.sample(panel_state, 20, 300, condition, np.random.default_rng(11))
    second = sv.sample(panel_state, 20, 300, condition, np.random.default_rng(11))
    other = sv.sample(panel_state, 20, 300, condition, np.random.default_rng(12))
    np.testing.assert_array_equal(first, second)
    assert not np.allclose(first, other)


def test_state_round_trips_through_bytes(tables, panel_state):
    data = panel_state.to_bytes()
    again = FittedState.from_bytes(data)
    assert again.to_bytes() == data
    condition = _condition(_path(tables, "2025/severely_adverse/domestic"))
    np.testing.assert_array_equal(sv.sample(again, 10, 200, condition, np.random.default_rng(2)),
                                  sv.sample(panel_state, 10, 200, condition, np.random.default_rng(2)))


def test_jump_off_from_the_fitted_history_or_the_path(tables, equity_state):
    path_2026 = _path(tables, "2026-proposed/severely_adverse/domestic")
    with pytest.raises(ValueError, match=r"driver 'equity' .* not available for 2026 Q1 .*jump_off"):
        sv.quarterly_targets(equity_state, path_2026)  # fitted history ends 2024 Q4, path starts 2026 Q1
    with_jump = _path(tables, "2026-proposed/severely_adverse/domestic", jump_off=True)
    assert with_jump["jump_off"]["quarter"] == "2025 Q4"
    _, targets = sv.quarterly_targets(equity_state, with_jump)
    assert targets[0, 0] < -0.3
    # an explicit jump-off on a 2025 path equals the one stored at fit
    _, stored = sv.quarterly_targets(equity_state, _path(tables, "2025/severely_adverse/domestic"))
    _, explicit = sv.quarterly_targets(equity_state, _path(tables, "2025/severely_adverse/domestic", True))
    np.testing.assert_array_equal(stored, explicit)


def _good_path() -> dict:
    return {"quarters": ["2025 Q1", "2025 Q2"],
            "variables": {sv.DOW: [40000.0, 35000.0], sv.VIX: [50.0, 40.0]}}


@pytest.mark.parametrize("mutate, message", [
    (lambda p: p.pop("quarters"), r"'quarters' must be a non-empty list"),
    (lambda p: p.update(quarters=["2025 Q1", "2025-06"]), r"quarters\[1\]: bad quarter '2025-06'"),
    (lambda p: p.update(quarters=["2025 Q1", "2025 Q1"]), r"quarters\[1\] = '2025 Q1' does not follow 2025 Q1"),
    (lambda p: p.update(quarters=["2025 Q1", "2025 Q3"]), r"does not follow"),
    (lambda p: p["variables"].update({sv.DOW: [1.0]}), r"needs a list of 2 values"),
    (lambda p: p["variables"].update({sv.DOW: [1.0, "x"]}), r"'x' is not a number"),
    (lambda p: p["variables"].update({sv.DOW: [1.0, float("nan")]}), r"non-finite value"),
    (lambda p: p["variables"].pop(sv.DOW), r"lacks variables the fitted translation uses"),
    (lambda p: p["variables"].update({sv.DOW: [None, 1.0]}), r"driver 'equity' .* not available for 2025 Q1"),
    (lambda p: p.update(jump_off={"quarter": "2023 Q4", "values": {}}), r"must be the quarter before 2025 Q1"),
    (lambda p: p.update(extra=1), r"unknown keys \['extra'\]"),
])
def test_fed_path_is_validated(equity_state, mutate, message):
    path = _good_path()
    mutate(path)
    with pytest.raises(ValueError, match=message):
        sv.sample(equity_state, 2, 10, _condition(path), np.random.default_rng(0))


def test_condition_errors(equity_state):
    with pytest.raises(ValueError, match=r"needs condition.extra\['fed_path'\]"):
        sv.sample(equity_state, 2, 10, None, np.random.default_rng(0))
    with pytest.raises(ValueError, match="drop the explicit targets"):
        condition = Condition(targets=(Target("SP500", -0.3, 60),), extra={"fed_path": _good_path()})
        sv.sample(equity_state, 2, 10, condition, np.random.default_rng(0))
    paths = sv.sample(equity_state, 2, 2 * D, _condition(_good_path()), np.random.default_rng(0))
    assert paths.shape == (2, 2 * D, 1)


def test_fit_errors(tables, sp500_returns):
    train = sp500_returns.to_numpy()[:, None]
    history = tables["2025/historic/domestic"]
    with pytest.raises(ValueError, match="needs the date of every training row"):
        sv.fit(train, ["SP500"], sv.Config(), kinds=["equity"], fed_history=history)
    with pytest.raises(ValueError, match="needs the Fed historic table"):
        sv.fit(train, ["SP500"], sv.Config(), kinds=["equity"], dates=sp500_returns.index)
    with pytest.raises(ValueError, match=r"dates for"):
        sv.fit(train, ["SP500"], sv.Config(), kinds=["equity"], dates=sp500_returns.index[:-1], fed_history=history)
    short = sp500_returns.loc["2018-01-01":]
    with pytest.raises(ValueError, match=r"factor 'SP500': only 4 quarters"):
        sv.fit(short.to_numpy()[:, None], ["SP500"], sv.Config(), kinds=["equity"], dates=short.index,
               fed_history=history)
    with pytest.raises(ValueError, match="driver_map names unknown factors"):
        sv.fit(train, ["SP500"], sv.Config(driver_map=(("OIL", ("equity",)),)), dates=sp500_returns.index,
               fed_history=history)
    with pytest.raises(ValueError, match="unknown or no drivers"):
        sv.Config(driver_map=(("SP500", ("gold",)),))


def test_driver_map_overrides_the_kind(tables, sp500_returns):
    state = sv.fit(sp500_returns.to_numpy()[:, None], ["SP500"], sv.Config(driver_map=(("SP500", ("equity", "vix")),)),
                   kinds=["equity"], dates=sp500_returns.index, fed_history=tables["2025/historic/domestic"])
    assert state.meta["regressions"]["SP500"]["drivers"] == ["equity", "vix"]
    assert sv.Config.from_dict(state.config) == sv.Config(driver_map=(("SP500", ("equity", "vix")),))
