"""GJR-GARCH-t filter and semi-parametric (EVT) margins: known answers and arch/scipy as oracles."""

from __future__ import annotations

import numpy as np
import pytest
from arch import arch_model
from scipy import stats

from scenarios.engines import garch_evt

TRUE = {"mu": 0.05, "omega": 0.02, "alpha": 0.05, "gamma": 0.10, "beta": 0.85, "nu": 6.0}


def simulate_gjr_series(rows: int, seed: int) -> np.ndarray:
    """A GJR-GARCH(1,1)-t path in percent units with the TRUE parameters."""
    rng = np.random.default_rng(seed)
    nu = TRUE["nu"]
    z = rng.standard_t(nu, rows + 500) / np.sqrt(nu / (nu - 2))
    h = TRUE["omega"] / (1 - TRUE["alpha"] - TRUE["gamma"] / 2 - TRUE["beta"])
    out = np.empty(rows + 500)
    for t in range(rows + 500):
        eps = np.sqrt(h) * z[t]
        out[t] = TRUE["mu"] + eps
        h = TRUE["omega"] + (TRUE["alpha"] + TRUE["gamma"] * (eps < 0)) * eps**2 + TRUE["beta"] * h
    return out[500:] / 100.0  # as daily log-returns


@pytest.fixture(scope="module")
def garch_series() -> np.ndarray:
    return simulate_gjr_series(4000, seed=7)


def test_gjr_garch_recovers_true_parameters(garch_series):
    fit = garch_evt.fit_gjr_garch(garch_series)
    mu, omega, alpha, gamma, beta, nu = fit.params
    assert fit.convergence_flag == 0
    assert abs(alpha - TRUE["alpha"]) < 0.04
    assert abs(gamma - TRUE["gamma"]) < 0.06
    assert abs(beta - TRUE["beta"]) < 0.06
    assert 4.0 < nu < 10.0
    # back to percent units: x_scaled = x * scale, percent = x * 100
    ratio = 100.0 / fit.scale
    assert mu * ratio == pytest.approx(TRUE["mu"], abs=0.03)
    assert omega * ratio**2 == pytest.approx(TRUE["omega"], rel=0.6)


def test_gjr_garch_agrees_with_arch_at_another_scale(garch_series):
    fit = garch_evt.fit_gjr_garch(garch_series)
    reference = arch_model(garch_series * 100, mean="Constant", vol="GARCH", p=1, o=1, q=1, dist="t",
                           rescale=False).fit(disp="off").params
    ratio = 100.0 / fit.scale
    assert fit.params[2] == pytest.approx(reference["alpha[1]"], abs=5e-3)
    assert fit.params[3] == pytest.approx(reference["gamma[1]"], abs=5e-3)
    assert fit.params[4] == pytest.approx(reference["beta[1]"], abs=5e-3)
    assert fit.params[5] == pytest.approx(reference["nu"], rel=0.02)
    assert fit.params[1] * ratio**2 == pytest.approx(reference["omega"], rel=0.05)
    # standardised residuals are the residuals over the conditional volatility
    assert fit.std_resid.std() == pytest.approx(1.0, abs=0.1)


def test_gpd_tail_fit_matches_scipy_on_the_same_exceedances():
    rng = np.random.default_rng(3)
    z = rng.standard_t(4, 5000)
    margin = garch_evt.fit_margin(z, tail_quantile=0.1)
    knots = np.sort(z)
    positions = np.arange(1, z.size + 1) / (z.size + 1)
    hi = np.interp(0.9, positions, knots)
    lo = np.interp(0.1, positions, knots)
    xi_hi, _, beta_hi = stats.genpareto.fit(knots[knots > hi] - hi, floc=0)
    xi_lo, _, beta_lo = stats.genpareto.fit(lo - knots[knots < lo], floc=0)
    assert margin.hi == pytest.approx(hi) and margin.lo == pytest.approx(lo)
    assert margin.xi_hi == pytest.approx(xi_hi, rel=1e-6) and margin.beta_hi == pytest.approx(beta_hi, rel=1e-6)
    assert margin.xi_lo == pytest.approx(xi_lo, rel=1e-6) and margin.beta_lo == pytest.approx(beta_lo, rel=1e-6)
    # t(4) has tail index 4: xi = 1/4 roughly
    assert 0.05 < margin.xi_hi < 0.5 and 0.05 < margin.xi_lo < 0.5


def test_gpd_closed_forms_match_scipy():
    y = np.linspace(0, 10, 50)
    for xi in (-0.2, 0.0, 0.3):
        assert np.allclose(garch_evt._gpd_sf(y, xi, 1.5), stats.genpareto.sf(y, xi, scale=1.5))
        q = np.linspace(0.01, 1, 20)
        assert np.allclose(garch_evt._gpd_isf(q, xi, 1.5), stats.genpareto.isf(q, xi, scale=1.5))


def test_margin_cdf_is_monotone_and_inverts_the_ppf():
    rng = np.random.default_rng(5)
    margin = garch_evt.fit_margin(rng.standard_t(5, 3000), tail_quantile=0.1)
    x = np.linspace(-15, 15, 20001)
    u = garch_evt.margin_cdf(margin, x)
    assert np.all(np.diff(u) >= 0) and u[0] > 0 and u[-1] < 1
    inner = (u > 1e-12) & (u < 1 - 1e-12)
    assert np.allclose(garch_evt.margin_ppf(margin, u[inner]), x[inner], atol=1e-7)
    grid = np.linspace(1e-6, 1 - 1e-6, 5001)
    assert np.allclose(garch_evt.margin_cdf(margin, garch_evt.margin_ppf(margin, grid)), grid, atol=1e-10)
    # continuity at the thresholds
    assert garch_evt.margin_cdf(margin, np.array([margin.lo]))[0] == pytest.approx(0.1)
    assert garch_evt.margin_cdf(margin, np.array([margin.hi]))[0] == pytest.approx(0.9)


def test_margin_moments_are_near_the_sample_moments():
    rng = np.random.default_rng(9)
    z = rng.standard_t(6, 20000) / np.sqrt(1.5)
    mean, std = garch_evt.margin_moments(garch_evt.fit_margin(z))
    assert mean == pytest.approx(z.mean(), abs=0.02)
    assert std == pytest.approx(z.std(), rel=0.05)


def test_simulate_gjr_reproduces_the_recursion_by_hand():
    params = np.array([[0.1, 0.05, 0.05, 0.1, 0.8, 6.0]])
    z = np.array([[[1.0], [-2.0], [0.5]]])
    out = garch_evt.simulate_gjr(params, np.array([1.0]), z)
    h1 = 1.0
    e1 = 1.0
    h2 = 0.05 + 0.05 * e1**2 + 0.8 * h1
    e2 = np.sqrt(h2) * -2.0
    h3 = 0.05 + (0.05 + 0.1) * e2**2 + 0.8 * h2
    assert np.allclose(out[0, :, 0], [0.1 + e1, 0.1 + e2, 0.1 + np.sqrt(h3) * 0.5])


@pytest.mark.parametrize("bad, message", [
    (np.array([1.0, np.nan] * 100), "non-finite"),
    (np.ones(200), "constant"),
    (np.ones((10, 2)), "1-D"),
])
def test_bad_series_raise(bad, message):
    with pytest.raises(ValueError, match=message):
        garch_evt.fit_gjr_garch(bad)


def test_bad_margin_inputs_raise():
    with pytest.raises(ValueError, match="tail_quantile"):
        garch_evt.fit_margin(np.arange(100.0), tail_quantile=0.6)
    with pytest.raises(ValueError, match="exceedances"):
        garch_evt.fit_margin(np.arange(20.0), tail_quantile=0.1)
    with pytest.raises(ValueError, match="non-finite"):
        garch_evt.fit_margin(np.array([0.0, np.inf] * 50))


def test_fourth_moment_factor_matches_monte_carlo():
    """Oracle: E[((alpha + gamma 1[z<0]) z^2 + beta)^2] by simulation of the standardised Student-t."""
    params = np.array([0.02, 0.01, 0.03, 0.12, 0.9, 9.0])
    nu = params[5]
    z = stats.t.rvs(nu, size=4_000_000, random_state=np.random.default_rng(0)) * np.sqrt((nu - 2) / nu)
    monte_carlo = np.mean(((params[2] + params[3] * (z < 0)) * z * z + params[4]) ** 2)
    assert garch_evt.fourth_moment_factor(params) == pytest.approx(monte_carlo, rel=2e-3)
    assert garch_evt.fourth_moment_factor(np.array([0, 0.01, 0.05, 0.1, 0.9, 4.0])) == np.inf


def test_constrained_fit_meets_the_bound_at_a_small_likelihood_cost():
    from arch.data import sp500

    x = np.log(sp500.load()["Adj Close"]).diff().dropna().to_numpy()[:4000]
    free = garch_evt.fit_gjr_garch(x)
    assert garch_evt.fourth_moment_factor(free.params) > 0.99  # S&P 500 1999-2014: no finite 4th moment
    bounded = garch_evt.fit_gjr_garch(x, max_fourth_moment_factor=0.99)
    assert garch_evt.fourth_moment_factor(bounded.params) <= 0.99 * (1 + 1e-6)
    model = arch_model(x * free.scale, mean="Constant", vol="GARCH", p=1, o=1, q=1, dist="t", rescale=False)
    free_ll, bounded_ll = model.fix(free.params).loglikelihood, model.fix(bounded.params).loglikelihood
    assert free_ll - 10 < bounded_ll <= free_ll + 1e-6
    # the filter, residuals and h_next are those of the bounded parameters
    np.testing.assert_allclose(bounded.h, np.asarray(model.fix(bounded.params).conditional_volatility) ** 2)
    # a fit already inside the bound is left alone
    same = garch_evt.fit_gjr_garch(x, max_fourth_moment_factor=0.999999)
    if garch_evt.fourth_moment_factor(free.params) <= 0.999999:
        np.testing.assert_array_equal(same.params, free.params)
    with pytest.raises(ValueError, match="max_fourth_moment_factor"):
        garch_evt.fit_gjr_garch(x, max_fourth_moment_factor=1.5)
