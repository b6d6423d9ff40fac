"""Risk measures: brute-force references and closed forms on known distributions."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from scenarios.engines.risk import gpd_tail, historical_var_es, loss_summary, worst_scenarios


def brute_force(losses, q):
    """Reference: sort everything; VaR = L_(⌈nq⌉); ES = (1/(1−q)) ∫_q^1 F_n^{-1}(u) du by summing atoms."""
    x = np.sort(np.asarray(losses, dtype=float))
    n = x.size
    rank = math.ceil(round(n * q, 9))
    var = x[rank - 1]
    # each atom i (1-based) covers u ∈ ((i−1)/n, i/n]; integrate over u > q
    lower = np.arange(n) / n
    upper = np.arange(1, n + 1) / n
    width = np.clip(upper - np.maximum(lower, q), 0.0, None)
    return var, float((width * x).sum() / (1 - q))


@pytest.mark.parametrize("n", [1, 7, 100, 1000, 12345])
@pytest.mark.parametrize("q", [0.5, 0.9, 0.95, 0.975, 0.99])
def test_historical_matches_brute_force(n, q):
    losses = np.random.default_rng(n).standard_t(4, size=n)
    (measure,) = historical_var_es(losses, q)
    var, es = brute_force(losses, q)
    assert measure.var == var
    assert measure.es == pytest.approx(es, rel=1e-12, abs=1e-12)
    assert measure.es >= measure.var
    assert measure.method == "historical" and measure.n == n


def test_historical_small_hand_example():
    losses = np.arange(1.0, 11.0)  # 1..10
    m90, m95, m75 = historical_var_es(losses, (0.9, 0.95, 0.75))
    assert (m90.var, m90.es) == (9.0, 10.0)  # VaR = L_(9), ES = mean of the one loss beyond
    assert (m95.var, m95.es) == (10.0, 10.0)
    # q = 0.75: VaR = L_(8) = 8; ES = (9 + 10 + 0.5·8) / 2.5 = 9.2
    assert (m75.var, m75.es) == (8.0, pytest.approx(9.2))


def test_normal_var_es_closed_form():
    mu, sigma = 1.5, 2.0
    losses = np.random.default_rng(7).normal(mu, sigma, size=1_000_000)
    for m in historical_var_es(losses, (0.95, 0.99)):
        z = stats.norm.ppf(m.level)
        var = mu + sigma * z
        es = mu + sigma * stats.norm.pdf(z) / (1 - m.level)
        # sampling error of the 99% quantile with 10^6 draws is ~0.007σ; of ES ~0.006σ
        assert m.var == pytest.approx(var, abs=0.03)
        assert m.es == pytest.approx(es, abs=0.03)


def test_student_t_es_closed_form():
    nu = 5
    losses = np.random.default_rng(11).standard_t(nu, size=1_000_000)
    for m in historical_var_es(losses, (0.95, 0.99)):
        t = stats.t.ppf(m.level, nu)
        # ES of Student-t: g_ν(t_q)/(1−q) · (ν + t_q²)/(ν − 1)  (McNeil, Frey & Embrechts 2015, Ex. 2.15)
        es = stats.t.pdf(t, nu) / (1 - m.level) * (nu + t * t) / (nu - 1)
        assert m.var == pytest.approx(t, rel=0.015)
        assert m.es == pytest.approx(es, rel=0.02)


def test_gpd_close_to_true_pareto_quantile():
    alpha = 3.0  # Pareto(x_m = 1, α): ξ = 1/α, VaR_q = (1−q)^{−1/α}, ES_q = α/(α−1)·VaR_q
    losses = np.random.default_rng(3).pareto(alpha, size=200_000) + 1.0
    tail = gpd_tail(losses, (0.999, 0.9999), threshold_quantile=0.95)
    assert tail.xi == pytest.approx(1 / alpha, abs=0.05)
    assert tail.n_exceed == pytest.approx(10_000, abs=2)
    for m in tail.measures:
        true_var = (1 - m.level) ** (-1 / alpha)
        assert m.var == pytest.approx(true_var, rel=0.08)
        assert m.es == pytest.approx(alpha / (alpha - 1) * true_var, rel=0.12)
        assert m.method == "gpd"
    d = tail.to_dict()
    assert d["measures"][0]["level"] == 0.999 and d["n"] == 200_000


def test_gpd_beyond_historical_tail_and_explicit_threshold():
    losses = np.random.default_rng(5).standard_t(4, size=50_000)
    tail = gpd_tail(losses, 0.995, threshold=float(np.quantile(losses, 0.9)))
    true = stats.t.ppf(0.995, 4)
    assert tail.measures[0].var == pytest.approx(true, rel=0.08)
    with pytest.raises(ValueError, match="below the threshold"):
        tail.var(0.5)


def test_worst_scenarios_with_factor_moves():
    pnl = np.array([5.0, -10.0, 3.0, -20.0, -10.0])
    scen = np.arange(5 * 2 * 2, dtype=float).reshape(5, 2, 2)
    worst = worst_scenarios(pnl, scen, ["A", "B"], k=3)
    assert [w.index for w in worst] == [3, 1, 4]
    assert [w.loss for w in worst] == [20.0, 10.0, 10.0]
    assert worst[0].factor_moves == {"A": 12.0 + 14.0, "B": 13.0 + 15.0}
    assert worst[0].to_dict()["rank"] == 1
    assert len(worst_scenarios(pnl, scen, ["A", "B"], k=50)) == 5


def test_loss_summary():
    losses = np.arange(1.0, 101.0)
    s = loss_summary(losses, bins=10, quantiles=(0.5, 0.99))
    assert s.n == 100 and s.mean == 50.5 and s.std == pytest.approx(np.std(losses, ddof=1))
    assert s.quantiles == {"0.5": 50.0, "0.99": 99.0}
    assert sum(s.counts) == 100 and len(s.bin_edges) == 11
    assert s.to_dict()["counts"] == [10] * 10


@pytest.mark.parametrize("level", [0.0, 1.0, -0.1, 1.5, float("nan"), "x"])
def test_level_outside_unit_interval(level):
    with pytest.raises(ValueError, match="level must be"):
        historical_var_es(np.arange(10.0), level)
    with pytest.raises(ValueError, match="level must be"):
        gpd_tail(np.arange(1000.0), level)


def test_bad_losses():
    with pytest.raises(ValueError, match=r"NaN or inf \(first at index 2\)"):
        historical_var_es([1.0, 2.0, np.nan], 0.9)
    with pytest.raises(ValueError, match="empty"):
        historical_var_es([], 0.9)
    with pytest.raises(ValueError, match="one-dimensional"):
        loss_summary(np.zeros((3, 3)))
    with pytest.raises(ValueError, match="exceed the threshold"):
        gpd_tail(np.arange(100.0), 0.99, min_exceedances=30)
    with pytest.raises(ValueError, match="k must be a positive integer"):
        worst_scenarios([1.0, 2.0], np.zeros((2, 1, 1)), ["A"], k=0)
    with pytest.raises(ValueError, match="n = 2"):
        worst_scenarios([1.0, 2.0], np.zeros((3, 1, 1)), ["A"])


def test_gpd_defaults_cover_default_levels_and_agree_with_historical():
    losses = np.random.default_rng(9).standard_t(4, size=200_000)
    tail = gpd_tail(losses)
    hist = historical_var_es(losses)
    assert [m.level for m in tail.measures] == [m.level for m in hist]
    for g, h in zip(tail.measures, hist, strict=True):
        assert g.var == pytest.approx(h.var, rel=0.03)
        assert g.es == pytest.approx(h.es, rel=0.05)
        assert g.es > g.var > tail.threshold
