"""Portfolio revaluation: closed-form oracles (Black–Scholes, bond prices, hand computations)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from scenarios.engines.revaluation import (
    BondPosition,
    LinearPosition,
    OptionPosition,
    Portfolio,
    QuadraticPosition,
    black_scholes_price,
    bond_price,
    portfolio_from_csv_rows,
    position_from_dict,
    revalue,
)


def norm_cdf(x: float) -> float:
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


def bs_reference(s, k, t, r, sigma, q, kind):
    """Independent scalar Black–Scholes–Merton (math.erf, not scipy)."""
    d1 = (math.log(s / k) + (r - q + sigma**2 / 2) * t) / (sigma * math.sqrt(t))
    d2 = d1 - sigma * math.sqrt(t)
    if kind == "call":
        return s * math.exp(-q * t) * norm_cdf(d1) - k * math.exp(-r * t) * norm_cdf(d2)
    return k * math.exp(-r * t) * norm_cdf(-d2) - s * math.exp(-q * t) * norm_cdf(-d1)


def bond_reference(y, face, coupon, maturity, freq, elapsed=0.0):
    """Explicit cash-flow sum."""
    price, t = 0.0, maturity
    while t > elapsed + 1e-12:
        cash = face * coupon / freq + (face if t == maturity else 0.0)
        price += cash / (1 + y / freq) ** (freq * (t - elapsed))
        t -= 1.0 / freq
    return price


# ── Black–Scholes ───────────────────────────────────────────────────────────────────────────
def test_black_scholes_hull_example():
    # Hull, Options, Futures and Other Derivatives, Example 15.6: c = 4.76, p = 0.81
    assert black_scholes_price(42, 40, 0.5, 0.1, 0.2, 0.0, "call") == pytest.approx(4.7594, abs=1e-4)
    assert black_scholes_price(42, 40, 0.5, 0.1, 0.2, 0.0, "put") == pytest.approx(0.8086, abs=1e-4)


@pytest.mark.parametrize("s,k,t,r,sigma,q", [(100, 100, 1.0, 0.05, 0.2, 0.0), (80, 110, 0.25, 0.01, 0.45, 0.02),
                                            (120, 90, 2.0, -0.005, 0.1, 0.03)])
def test_black_scholes_matches_reference_and_parity(s, k, t, r, sigma, q):
    call = float(black_scholes_price(s, k, t, r, sigma, q, "call"))
    put = float(black_scholes_price(s, k, t, r, sigma, q, "put"))
    assert call == pytest.approx(bs_reference(s, k, t, r, sigma, q, "call"), rel=1e-10)
    assert put == pytest.approx(bs_reference(s, k, t, r, sigma, q, "put"), rel=1e-10)
    # put–call parity: c − p = S e^{−qT} − K e^{−rT}
    assert call - put == pytest.approx(s * math.exp(-q * t) - k * math.exp(-r * t), abs=1e-10)


def test_black_scholes_expired_is_intrinsic():
    assert black_scholes_price([90.0, 110.0], 100, 0.0, 0.0, 0.2, 0.0, "call").tolist() == [0.0, 10.0]
    assert black_scholes_price([90.0, 110.0], 100, -0.1, 0.0, 0.2, 0.0, "put").tolist() == [10.0, 0.0]


def test_option_revaluation_full_price():
    factors = ["SPX", "VIX", "UST3M"]
    # 2 scenarios, 3 horizon days: day increments
    scen = np.array([[[-0.02, 1.0, 0.05], [-0.03, 2.0, 0.0], [0.01, -0.5, -0.05]],
                     [[0.01, -0.5, 0.0], [0.0, 0.0, 0.10], [0.02, 0.5, 0.0]]])
    pos = OptionPosition(underlying="SPX", option_type="put", quantity=-3.0, strike=95.0, expiry=0.5, spot=100.0,
                         vol=0.2, rate=0.03, dividend_yield=0.01, vol_factor="VIX", rate_factor="UST3M")
    pnl = revalue(scen, factors, Portfolio((pos,)), days_per_year=252)
    cum = scen.cumsum(axis=1)
    p0 = bs_reference(100, 95, 0.5, 0.03, 0.2, 0.01, "put")
    for i in range(2):
        for d in range(3):
            s = 100 * math.exp(cum[i, d, 0])
            sigma = 0.2 + 0.01 * cum[i, d, 1]
            r = 0.03 + 0.01 * cum[i, d, 2]
            expected = -3.0 * (bs_reference(s, 95, 0.5 - (d + 1) / 252, r, sigma, 0.01, "put") - p0)
            assert pnl.by_day[i, d] == pytest.approx(expected, rel=1e-10, abs=1e-12)
    np.testing.assert_array_equal(pnl.final, pnl.by_day[:, -1])


def test_call_put_portfolio_parity_in_scenarios():
    # long call + short put + short forward-replication = constant: P&L(c − p) = ΔS e^{−qT'} − K Δe^{−rT'}
    rng = np.random.default_rng(0)
    scen = rng.normal(0, 0.02, size=(200, 5, 1))
    common = dict(underlying="EQ", quantity=1.0, strike=100.0, expiry=1.0, spot=100.0, vol=0.25, rate=0.02)
    pf = Portfolio((OptionPosition(option_type="call", **common), OptionPosition(option_type="put", **common)))
    pf_short_put = Portfolio((OptionPosition(option_type="call", **common),
                              OptionPosition(option_type="put", **{**common, "quantity": -1.0})))
    pnl = revalue(scen, ["EQ"], pf_short_put)
    s = 100 * np.exp(scen.cumsum(axis=1)[:, :, 0])
    t = 1.0 - np.arange(1, 6) / 252
    expected = (s - 100 * np.exp(-0.02 * t)) - (100 - 100 * np.exp(-0.02))
    np.testing.assert_allclose(pnl.by_day, expected, atol=1e-9)
    assert pnl.by_day.shape == (200, 5)
    assert set(revalue(scen, ["EQ"], pf).by_kind) == {"option"}


# ── bonds ───────────────────────────────────────────────────────────────────────────────────
def test_par_bond_prices_at_face_and_zero_coupon_closed_form():
    assert float(bond_price(0.05, 100.0, 0.05, 10.0, 2)) == pytest.approx(100.0, abs=1e-10)
    assert float(bond_price(0.04, 1000.0, 0.04, 7.0, 1)) == pytest.approx(1000.0, abs=1e-9)
    assert float(bond_price(0.03, 100.0, 0.0, 5.0, 1)) == pytest.approx(100 / 1.03**5, rel=1e-12)
    # y → 0: price is the undiscounted cash flows
    assert float(bond_price(0.0, 100.0, 0.06, 3.0, 2)) == pytest.approx(118.0, abs=1e-9)


@pytest.mark.parametrize("y,coupon,maturity,freq,elapsed", [(0.07, 0.05, 10.0, 2, 0.0), (0.02, 0.045, 4.3, 4, 0.0),
                                                           (0.05, 0.05, 3.0, 2, 0.1), (0.01, 0.08, 0.75, 12, 0.3)])
def test_bond_closed_form_matches_explicit_sum(y, coupon, maturity, freq, elapsed):
    assert float(bond_price(y, 100.0, coupon, maturity, freq, elapsed)) == pytest.approx(
        bond_reference(y, 100.0, coupon, maturity, freq, elapsed), rel=1e-12)


def test_bond_yield_shock_exact_repricing():
    factors = ["DGS10", "BAA_SPREAD"]
    # one day, +100bp in rates and +50bp in spread (factor units: percentage points)
    scen = np.array([[[1.0, 0.5]], [[-0.25, 0.0]]])
    pos = BondPosition(rate_factor="DGS10", spread_factor="BAA_SPREAD", quantity=10.0, coupon=0.05, maturity=10.0,
                       yield0=0.05, face=100.0, frequency=2)
    pnl = revalue(scen, factors, Portfolio((pos,)), days_per_year=252)
    tau = 1 / 252
    for i, dy in enumerate((0.015, -0.0025)):
        expected = 10 * (bond_reference(0.05 + dy, 100, 0.05, 10.0, 2, tau) - 100.0)
        assert pnl.final[i] == pytest.approx(expected, rel=1e-10)


def test_bond_coupon_received_as_cash_across_horizon():
    # maturity 2 days after a coupon date passes: coupon and redemption become cash, not lost value
    pos = BondPosition(rate_factor="Y", quantity=1.0, coupon=0.04, maturity=2 / 252, yield0=0.04, frequency=1)
    pnl = revalue(np.zeros((1, 4, 1)), ["Y"], Portfolio((pos,)))
    p0 = 104 / 1.04 ** (2 / 252)
    np.testing.assert_allclose(pnl.by_day[0, 1:], 104 - p0, rtol=1e-12)


# ── linear / quadratic ──────────────────────────────────────────────────────────────────────
def test_linear_quadratic_hand_computation():
    factors = ["A", "B", "C"]
    scen = np.array([[[0.01, -0.02, 0.5], [0.02, 0.01, -0.25]]])  # 1 scenario, 2 days
    pf = Portfolio((LinearPosition("A", 1000.0), LinearPosition("C", -10.0),
                    QuadraticPosition("B", convexity=5000.0, exposure=200.0), LinearPosition("A", 500.0)))
    pnl = revalue(scen, factors, pf)
    # day 1: A=0.01, B=-0.02, C=0.5 → 1500·0.01 − 10·0.5 + 200·(−0.02) + 5000·0.0004 = 15 − 5 − 4 + 2 = 8
    # day 2: A=0.03, B=-0.01, C=0.25 → 45 − 2.5 − 2 + 0.5 = 41
    np.testing.assert_allclose(pnl.by_day, [[8.0, 41.0]], atol=1e-12)
    assert pnl.final.tolist() == pytest.approx([41.0])
    assert pnl.by_kind["linear"].tolist() == pytest.approx([41.0])


def test_two_dimensional_scenarios_and_chunking_and_threads_agree():
    rng = np.random.default_rng(1)
    factors = [f"f{i}" for i in range(6)]
    scen = rng.normal(0, 0.01, size=(1001, 3, 6))
    pf = Portfolio(tuple(QuadraticPosition(f, convexity=float(rng.normal()), exposure=float(rng.normal()))
                         for f in factors)
                   + (OptionPosition("f0", "call", 2.0, 100.0, 0.3, 100.0, 0.2, vol_factor="f1"),
                      BondPosition("f2", 3.0, 0.03, 5.0, 0.04, spread_factor="f3")))
    ref = revalue(scen, factors, pf, chunk_elements=10**9, workers=1)
    small = revalue(scen, factors, pf, chunk_elements=50, workers=2)
    np.testing.assert_allclose(small.by_day, ref.by_day, rtol=1e-12, atol=1e-12)
    for kind in ("linear", "option", "bond"):
        np.testing.assert_allclose(small.by_kind[kind], ref.by_kind[kind], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(sum(ref.by_kind.values()), ref.final, atol=1e-9)
    one_day = revalue(scen[:, 0, :], factors, pf)
    assert one_day.by_day.shape == (1001, 1)
    np.testing.assert_allclose(one_day.final, ref.by_day[:, 0], atol=1e-12)


# ── spec round trips ────────────────────────────────────────────────────────────────────────
def test_portfolio_dict_round_trip():
    pf = Portfolio((LinearPosition("A", 1.0, name="a"), QuadraticPosition("B", 2.0),
                    OptionPosition("A", "put", 1.0, 90.0, 1.0, 100.0, 0.3, vol_factor="V"),
                    BondPosition("Y", 5.0, 0.02, 3.0, 0.025)), name="book")
    data = pf.to_dict()
    assert data["positions"][2]["kind"] == "option"
    assert Portfolio.from_dict(data) == pf
    assert pf.factors == ("A", "B", "V", "Y")


def test_portfolio_from_csv_rows():
    rows = [
        {"kind": "linear", "factor": "SPX", "exposure": "1e6", "name": "equity book"},
        {"kind": "quadratic", "factor": "DGS10", "exposure": "-5000", "convexity": "300"},
        {"kind": "option", "underlying": "SPX", "option_type": "PUT", "quantity": "-10", "strike": "4000",
         "expiry": "0.25", "spot": "4200", "vol": "0.18", "vol_factor": "VIX"},
        {"kind": "bond", "rate_factor": "DGS10", "quantity": "100", "coupon": "0.04", "maturity": "10",
         "yield0": "0.042", "frequency": "2", "exposure": ""},
    ]
    pf = portfolio_from_csv_rows(rows)
    assert [p.kind for p in pf.positions] == ["linear", "quadratic", "option", "bond"]
    assert pf.positions[2].option_type == "put" and pf.positions[3].frequency == 2


@pytest.mark.parametrize("row,message", [
    ({"kind": "swap"}, "row 1, column 'kind'"),
    ({"kind": "linear", "factor": "A", "exposure": "abc"}, "row 1, column 'exposure': not a number"),
    ({"kind": "linear", "factor": "A"}, "row 1, column 'exposure': required"),
    ({"kind": "linear", "factor": "A", "exposure": "1", "strike": "3"}, "row 1, column 'strike'"),
    ({"kind": "option", "underlying": "A", "option_type": "call", "quantity": "1", "strike": "-5",
      "expiry": "1", "spot": "1", "vol": "0.2"}, "row 1: .*strike must be > 0"),
    ({"kind": "bond", "rate_factor": "Y", "quantity": "1", "coupon": "0.1", "maturity": "1", "yield0": "0",
      "frequency": "2.5"}, "row 1, column 'frequency'"),
    ({"kind": "linear", "factor": "A", "exposure": "1", "colour": "red"}, r"row 1: unknown column\(s\) \['colour'\]"),
])
def test_csv_errors_name_row_and_column(row, message):
    with pytest.raises(ValueError, match=message):
        portfolio_from_csv_rows([row])


# ── bad inputs ──────────────────────────────────────────────────────────────────────────────
def test_unknown_factor_is_named():
    with pytest.raises(ValueError, match="unknown factor 'NOPE'"):
        revalue(np.zeros((2, 1, 1)), ["A"], Portfolio((LinearPosition("NOPE", 1.0),)))
    opt = OptionPosition("A", "call", 1.0, 100.0, 1.0, 100.0, 0.2, vol_factor="VOLX")
    with pytest.raises(ValueError, match="unknown factor 'VOLX'"):
        revalue(np.zeros((2, 1, 1)), ["A"], Portfolio((opt,)))


def test_negative_strike_and_bad_option_type():
    with pytest.raises(ValueError, match="strike must be > 0"):
        OptionPosition("A", "call", 1.0, -1.0, 1.0, 100.0, 0.2).validate()
    with pytest.raises(ValueError, match="strike must be > 0"):
        Portfolio((OptionPosition("A", "call", 1.0, -1.0, 1.0, 100.0, 0.2),))
    with pytest.raises(ValueError, match="option_type"):
        position_from_dict({"kind": "option", "underlying": "A", "option_type": "straddle", "quantity": 1,
                            "strike": 1, "expiry": 1, "spot": 1, "vol": 0.1})
    with pytest.raises(ValueError, match="strike must be > 0"):
        black_scholes_price(100, 0.0, 1.0, 0.0, 0.2)


def test_nan_scenarios_and_shape_errors():
    scen = np.zeros((5, 2, 2))
    scen[3, 1, 0] = np.nan
    pf = Portfolio((LinearPosition("A", 1.0),))
    with pytest.raises(ValueError, match=r"NaN or inf \(scenario 3\)"):
        revalue(scen, ["A", "B"], pf)
    with pytest.raises(ValueError, match="2 factor names for 3"):
        revalue(np.zeros((5, 1, 3)), ["A", "B"], pf)
    with pytest.raises(ValueError, match="duplicate factor name 'A'"):
        revalue(np.zeros((5, 1, 2)), ["A", "A"], pf)
    with pytest.raises(ValueError, match=r"shape \[n, horizon, F\]"):
        revalue(np.zeros(5), ["A"], pf)
    with pytest.raises(ValueError, match="no positions"):
        Portfolio(())
    with pytest.raises(ValueError, match=r"positions\[0\]: linear position: unknown field"):
        Portfolio.from_dict({"positions": [{"kind": "linear", "factor": "A", "exposure": 1, "delta": 2}]})


def test_mixed_calls_puts_with_expiry_inside_horizon():
    rng = np.random.default_rng(2)
    factors = ["EQ", "VIX", "R"]
    scen = rng.normal(0, [0.02, 1.0, 0.05], size=(50, 4, 3))
    specs = [("call", 2 / 252, 1.0), ("put", 2 / 252, -2.0), ("call", 0.5, 3.0), ("put", 1.0, 1.5)]
    pf = Portfolio(tuple(OptionPosition("EQ", kind, qty, 100.0, expiry, 100.0, 0.2, rate=0.02, vol_factor="VIX",
                                        rate_factor="R" if i % 2 else None)
                         for i, (kind, expiry, qty) in enumerate(specs)))
    pnl = revalue(scen, factors, pf)
    cum = scen.cumsum(axis=1)
    for i in range(50):
        for d in range(4):
            s = 100 * math.exp(cum[i, d, 0])
            total = 0.0
            for j, (kind, expiry, qty) in enumerate(specs):
                r = 0.02 + (0.01 * cum[i, d, 2] if j % 2 else 0.0)
                sigma = max(0.2 + 0.01 * cum[i, d, 1], 1e-4)
                t = expiry - (d + 1) / 252
                if t <= 1e-15:
                    value = max(s - 100, 0.0) if kind == "call" else max(100 - s, 0.0)
                else:
                    value = bs_reference(s, 100, t, r, sigma, 0.0, kind)
                total += qty * (value - bs_reference(100, 100, expiry, 0.02, 0.2, 0.0, kind))
            assert pnl.by_day[i, d] == pytest.approx(total, rel=1e-9, abs=1e-9)


def test_bond_zero_yield_path_and_zero_coupon_shock():
    pos = BondPosition(rate_factor="Y", quantity=1.0, coupon=0.0, maturity=5.0, yield0=0.0, frequency=1, face=100.0)
    scen = np.array([[[0.0]], [[3.0]]])  # unchanged; +300bp
    pnl = revalue(scen, ["Y"], Portfolio((pos,)), days_per_year=252)
    t = 5.0 - 1 / 252
    np.testing.assert_allclose(pnl.final, [0.0, 100 / 1.03**t - 100.0], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("workers", [1, 2])
def test_progress_callback_and_nan_in_threaded_chunks(workers):
    scen = np.random.default_rng(4).normal(0, 0.01, size=(100, 1, 2))
    pf = Portfolio((LinearPosition("A", 1.0),))
    calls = []
    revalue(scen, ["A", "B"], pf, chunk_elements=40, workers=workers, progress=lambda done, n: calls.append((done, n)))
    assert calls[-1] == (100, 100) and len(calls) == 5
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)
    scen[77, 0, 1] = np.inf
    with pytest.raises(ValueError, match=r"scenario 77"):
        revalue(scen, ["A", "B"], pf, chunk_elements=40, workers=workers)
