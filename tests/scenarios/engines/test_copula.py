"""GARCH-EVT-copula engine: copula fits on data with known dependence, sampling, conditioning."""

from __future__ import annotations

import numpy as np
import pytest
from arch.data import sp500
from scipy import special, stats

from scenarios.engines import copula, garch_evt
from scenarios.engines.base import Condition, FittedState, Target

CORR = np.array([[1.0, 0.6, 0.3], [0.6, 1.0, -0.2], [0.3, -0.2, 1.0]])
FACTORS = ["a", "b", "c"]


def t_copula_data(rows: int, nu: float, seed: int) -> np.ndarray:
    """Multivariate t(nu) with correlation CORR, scaled like daily returns."""
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((rows, 3)) @ np.linalg.cholesky(CORR).T
    return 0.01 * z / np.sqrt(rng.chisquare(nu, rows) / nu)[:, None]


@pytest.fixture(scope="module")
def panel() -> np.ndarray:
    return t_copula_data(1500, 5.0, seed=11)


@pytest.fixture(scope="module")
def gaussian_state(panel) -> FittedState:
    return copula.fit(panel, FACTORS, copula.Config(family="gaussian"), kinds=["equity", "rate", "fx"])


@pytest.fixture(scope="module")
def sp500_returns() -> np.ndarray:
    return np.log(sp500.load()["Adj Close"]).diff().dropna().to_numpy()


def test_t_copula_recovers_nu_and_correlation():
    data = t_copula_data(5000, 5.0, seed=1)
    corr, nu = copula.fit_t_copula(copula.pseudo_observations(data))
    assert 3.5 <= nu <= 7.5
    assert np.abs(corr - CORR).max() < 0.05


def test_t_copula_nu_through_the_whole_engine():
    state = copula.fit(t_copula_data(5000, 5.0, seed=2), FACTORS, copula.Config(family="student_t"))
    assert 3.5 <= state.meta["nu"] <= 7.5
    assert state.arrays["nu"][0] == state.meta["nu"]


def test_t_copula_loglik_matches_scipy_densities():
    rng = np.random.default_rng(4)
    u = rng.random((50, 3))
    nu = 4.0
    x = stats.t.ppf(u, nu)
    expected = (stats.multivariate_t(shape=CORR, df=nu).logpdf(x) - stats.t.logpdf(x, nu).sum(axis=1)).sum()
    assert copula.t_copula_loglik(u, CORR, nu) == pytest.approx(expected, rel=1e-9)


def test_gaussian_copula_recovers_the_correlation():
    rng = np.random.default_rng(3)
    data = np.exp(rng.standard_normal((5000, 3)) @ np.linalg.cholesky(CORR).T)  # monotone margins: same copula
    assert np.abs(copula.fit_gaussian_copula(copula.pseudo_observations(data)) - CORR).max() < 0.04


def test_engine_gaussian_samples_keep_the_dependence(gaussian_state, panel):
    paths = copula.sample(gaussian_state, 20000, 1, None, np.random.default_rng(0))
    assert paths.shape == (20000, 1, 3)
    sample_corr = stats.spearmanr(paths[:, 0, :]).statistic
    data_corr = stats.spearmanr(panel).statistic
    assert np.abs(sample_corr - data_corr).max() < 0.06


def test_interpolation_table_matches_exact_transform(gaussian_state):
    margins = copula.margins_from_state(gaussian_state)
    moments = gaussian_state.arrays["innovation_moments"]
    for nu, spread in ((None, 3.0), (4.0, 12.0)):
        table = copula._Table(margins, moments, nu, 16384)
        y = np.random.default_rng(1).standard_normal((50000, 3)) * spread
        columns = np.tile(np.arange(3), (y.shape[0], 1))
        exact = copula._exact_innovations(y.ravel(), nu, margins, moments, columns.ravel()).reshape(y.shape)
        approx = y.copy()
        rows, cols, latent = table.apply(approx)
        assert rows.size > 0  # the spread reaches beyond the grid
        approx[rows, cols] = table.exact(latent, cols)
        error = np.abs(approx - exact)
        # linear interpolation across the kinks of the interpolated ECDF body (in units of the innovation sd):
        # tiny next to the ECDF's own sampling error (~ 1/sqrt(T) in probability)
        assert error.max() < 1e-2 and error.mean() < 1e-4


def test_sampling_is_deterministic_and_survives_serialisation(gaussian_state):
    first = copula.sample(gaussian_state, 500, 10, None, np.random.default_rng(42))
    again = copula.sample(gaussian_state, 500, 10, None, np.random.default_rng(42))
    other = copula.sample(gaussian_state, 500, 10, None, np.random.default_rng(43))
    restored = FittedState.from_bytes(gaussian_state.to_bytes())
    assert restored.to_bytes() == gaussian_state.to_bytes()
    assert np.array_equal(first, again)
    assert not np.array_equal(first, other)
    assert np.array_equal(first, copula.sample(restored, 500, 10, None, np.random.default_rng(42)))


def test_t_and_vine_families_sample_and_round_trip(panel):
    for family in ("student_t", "vine"):
        state = copula.fit(panel[:600], FACTORS, copula.Config(family=family,
                                                               vine_families=("gaussian", "student", "clayton")))
        restored = FittedState.from_bytes(state.to_bytes())
        paths = copula.sample(restored, 2000, 3, None, np.random.default_rng(5))
        assert paths.shape == (2000, 3, 3) and np.all(np.isfinite(paths))
        assert np.array_equal(paths, copula.sample(state, 2000, 3, None, np.random.default_rng(5)))
        assert stats.spearmanr(paths[:, 0, :]).statistic[0, 1] > 0.4  # CORR[0, 1] = 0.6


def test_sp500_one_day_margins_have_fat_tails(sp500_returns):
    state = copula.fit(sp500_returns[:, None], ["spx"], copula.Config(start_variance="historical"))
    paths = copula.sample(state, 100000, 1, None, np.random.default_rng(0))[:, 0, 0]
    assert stats.kurtosis(paths) > 3.0
    assert paths.std() == pytest.approx(sp500_returns.std(), rel=0.15)
    # from the last day: the innovation law itself keeps the residuals' fat tails (not Gaussian)
    last = copula.fit(sp500_returns[:, None], ["spx"], copula.Config())
    innov = copula.sample(last, 100000, 1, None, np.random.default_rng(0))[:, 0, 0]
    assert stats.kurtosis(innov) > 0.5
    assert np.quantile(innov, 0.001) < innov.mean() - 3.09 * innov.std()  # fatter than the normal quantile


def test_persistent_severity_scales_every_day_exactly(gaussian_state):
    scale = gaussian_state.arrays["scale"]
    mu = gaussian_state.arrays["garch_params"][:, 0] / scale
    base = copula.sample(gaussian_state, 300, 5, None, np.random.default_rng(8))
    stressed = copula.sample(gaussian_state, 300, 5, Condition(vol_multiplier=2.0), np.random.default_rng(8))
    assert np.allclose(stressed - mu, 2.0 * (base - mu))


def test_decaying_severity_fades(panel):
    state = copula.fit(panel, FACTORS, copula.Config(stress_vol="decaying"))
    base = copula.sample(state, 4000, 60, None, np.random.default_rng(8))
    stressed = copula.sample(state, 4000, 60, Condition(vol_multiplier=3.0), np.random.default_rng(8))
    ratio = stressed.std(axis=0) / base.std(axis=0)
    assert np.allclose(ratio[0], 3.0)
    assert np.all(ratio[-1] < 3.0)


def test_severity_sets_the_equity_target(gaussian_state):
    paths = copula.sample(gaussian_state, 4000, 20, Condition(severity="severe"), np.random.default_rng(2))
    assert np.median(paths[:, :, 0].sum(axis=1)) == pytest.approx(-0.20, abs=1e-9)
    targeted = copula.sample(gaussian_state, 4000, 20, Condition(targets=(Target("c", 0.05, 20),)),
                             np.random.default_rng(2))
    assert np.median(targeted[:, :, 2].sum(axis=1)) == pytest.approx(0.05, abs=1e-9)


def test_generic_conditioning_is_base_apply_condition(panel):
    from scenarios.engines.base import apply_condition

    state = copula.fit(panel, FACTORS, copula.Config(stress_vol="generic"))
    condition = Condition(vol_multiplier=1.5)
    raw = copula.sample(state, 300, 4, None, np.random.default_rng(1))
    assert np.allclose(copula.sample(state, 300, 4, condition, np.random.default_rng(1)),
                       apply_condition(raw, condition, FACTORS, None))


def test_unit_variance_innovations(gaussian_state):
    margins = copula.margins_from_state(gaussian_state)
    moments = gaussian_state.arrays["innovation_moments"]
    u = np.random.default_rng(0).random(200000)
    for j, margin in enumerate(margins):
        z = (garch_evt.margin_ppf(margin, u) - moments[j, 0]) / moments[j, 1]
        assert z.mean() == pytest.approx(0.0, abs=0.02) and z.std() == pytest.approx(1.0, rel=0.03)


def test_pseudo_observations_are_in_the_open_unit_interval():
    u = copula.pseudo_observations(np.random.default_rng(0).standard_normal((100, 2)))
    assert u.min() > 0 and u.max() < 1 and special.ndtri(u).std() > 0.9


def test_bad_inputs_raise(gaussian_state, panel):
    with pytest.raises(ValueError, match="unknown copula family"):
        copula.Config(family="clayton")
    with pytest.raises(ValueError, match="tail_quantile"):
        copula.Config(tail_quantile=0.7)
    with pytest.raises(ValueError, match="stress_vol"):
        copula.Config(stress_vol="loud")
    with pytest.raises(ValueError, match="vine families"):
        copula.Config(family="vine", vine_families=("nope",))
    with pytest.raises(ValueError, match="config must be"):
        copula.fit(panel, FACTORS, {"family": "gaussian"})
    with pytest.raises(ValueError, match="at least 100"):
        copula.fit(panel[:50], FACTORS, copula.Config())
    bad = panel.copy()
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match="non-finite value in training data at row 3"):
        copula.fit(bad, FACTORS, copula.Config())
    with pytest.raises(ValueError, match="kinds"):
        copula.fit(panel, FACTORS, copula.Config(), kinds=["equity"])
    with pytest.raises(ValueError, match="columns"):
        copula.fit(panel, ["a", "b"], copula.Config())
    constant = panel.copy()
    constant[:, 2] = 0.0
    with pytest.raises(ValueError, match="factor 'c'.*constant"):
        copula.fit(constant, FACTORS, copula.Config())
    with pytest.raises(ValueError, match="n must be"):
        copula.sample(gaussian_state, 0, 1, None, np.random.default_rng(0))
    with pytest.raises(ValueError, match="horizon must be"):
        copula.sample(gaussian_state, 10, 0, None, np.random.default_rng(0))
    with pytest.raises(ValueError, match="rng"):
        copula.sample(gaussian_state, 10, 1, None, 0)
    with pytest.raises(ValueError, match="not a garch_evt_copula state"):
        copula.sample(FittedState(engine="other", config={}, factors=FACTORS), 10, 1, None, np.random.default_rng(0))
    with pytest.raises(ValueError, match="unknown factor"):
        copula.sample(gaussian_state, 10, 1, Condition(targets=(Target("zz", -0.1, 5),)), np.random.default_rng(0))


def test_static_mode_reproduces_the_raw_correlation_and_margins():
    from arch.data import nasdaq, sp500
    from scipy import stats as sps

    prices = np.log(np.column_stack([sp500.load()["Adj Close"].to_numpy(), nasdaq.load()["Adj Close"].to_numpy()]))
    returns = np.diff(prices, axis=0)[:3000]
    state = copula.fit(returns, ["spx", "ndx"], copula.Config(family="gaussian", volatility_filter="none"))
    draws = copula.sample(state, 50_000, 1, None, np.random.default_rng(0))[:, 0, :]
    assert abs(np.corrcoef(draws.T)[0, 1] - np.corrcoef(returns.T)[0, 1]) < 0.03
    for j in range(2):
        assert sps.ks_2samp(draws[:, j], returns[:, j]).statistic < 0.03
    # iid days: no volatility clustering in static mode
    paths = copula.sample(state, 5000, 20, None, np.random.default_rng(1))
    absolute = np.abs(paths[:, :, 0])
    lag1 = np.corrcoef(absolute[:, :-1].ravel(), absolute[:, 1:].ravel())[0, 1]
    assert abs(lag1) < 0.03
    with pytest.raises(ValueError, match="volatility_filter"):
        copula.Config(volatility_filter="kalman")


@pytest.mark.parametrize("bound", [0.0, 1.0, 1.5, "0.9"])
def test_a_fourth_moment_bound_outside_0_1_is_refused(bound):
    with pytest.raises(ValueError, match="max_fourth_moment_factor"):
        copula.Config(max_fourth_moment_factor=bound)


def test_the_fourth_moment_bound_reaches_every_factors_filter():
    rng = np.random.default_rng(3)
    train = rng.standard_t(5, size=(1500, 2)) * 0.01
    state = copula.fit(train, ["a", "b"], copula.Config(max_fourth_moment_factor=0.9))
    for params in state.arrays["garch_params"]:
        assert garch_evt.fourth_moment_factor(params) <= 0.9 * (1 + 1e-6)
