"""SHAP explanations of portfolio losses: additivity, the closed form of a linear book, and shap's exact oracle."""

from __future__ import annotations

import numpy as np
import pytest
import shap

from reports.pdf.explain import ShapSettings, explain_losses, loss_function
from scenarios.engines.revaluation import (
    BondPosition,
    LinearPosition,
    OptionPosition,
    Portfolio,
    QuadraticPosition,
    revalue,
)

FACTORS = ["EQ", "RATE", "VOL", "OIL"]


def _paths(n=600, horizon=5, seed=3):
    rng = np.random.default_rng(seed)
    return rng.normal(0.0, [0.01, 0.0005, 0.5, 0.02], size=(n, horizon, len(FACTORS)))


def test_loss_function_equals_the_full_revaluation_at_the_horizon():
    paths = _paths()
    book = Portfolio((LinearPosition("EQ", exposure=1e6), QuadraticPosition("OIL", exposure=2e5, convexity=-5e4),
                      OptionPosition(underlying="EQ", option_type="put", quantity=100, strike=95, expiry=0.25,
                                     spot=100, vol=0.2, rate=0.02, vol_factor="VOL", rate_factor="RATE"),
                      BondPosition(rate_factor="RATE", quantity=50, coupon=0.04, maturity=0.05, yield0=0.04)))
    f = loss_function(FACTORS, book, horizon=paths.shape[1])
    full = -revalue(paths, FACTORS, book).final
    np.testing.assert_allclose(f(paths.sum(axis=1)), full, rtol=1e-10, atol=1e-6)


def test_linear_book_matches_the_closed_form():
    """For loss = −wᵀx, interventional SHAP is φ_i = −w_i (x_i − E_B x_i) (Lundberg & Lee 2017, linear case)."""
    paths = _paths()
    weights = {"EQ": 1e6, "RATE": -3e5, "VOL": 0.0, "OIL": 2.5e5}
    book = Portfolio(tuple(LinearPosition(f, exposure=w) for f, w in weights.items()))
    worst = list(np.argsort(revalue(paths, FACTORS, book).final)[:4])
    settings = ShapSettings(background=50, sample=40, seed=7)
    result = explain_losses(paths, FACTORS, book, worst_index=worst, settings=settings)
    moves = paths.sum(axis=1)
    rng = np.random.default_rng(settings.seed)  # the same draw explain_losses makes
    background = moves[np.sort(rng.choice(len(moves), size=50, replace=False))]
    w = np.array([weights[f] for f in FACTORS])
    expected = -w * (moves[worst] - background.mean(axis=0))
    np.testing.assert_allclose(result.worst_values, expected, rtol=1e-9, atol=1e-6)
    assert result.additivity_residual < 1e-6
    assert result.permutation_error < 1e-6  # no interactions: every permutation gives the same values
    assert result.global_importance[FACTORS.index("VOL")] == 0.0


def test_pairwise_book_equals_shaps_exact_explainer_and_is_additive():
    """Without 3-way interactions one antithetic permutation is exact: compare with shap.ExactExplainer."""
    paths = _paths(seed=11)
    book = Portfolio((LinearPosition("EQ", exposure=1e6), QuadraticPosition("OIL", exposure=2e5, convexity=-4e6),
                      BondPosition(rate_factor="RATE", quantity=500, coupon=0.04, maturity=7.0, yield0=0.04,
                                   spread_factor="OIL", spread_scale=0.01)))
    losses = -revalue(paths, FACTORS, book).final
    worst = list(np.argsort(-losses)[:5])
    settings = ShapSettings(background=40, sample=30, seed=2)
    result = explain_losses(paths, FACTORS, book, worst_index=worst, settings=settings)
    moves = paths.sum(axis=1)
    rng = np.random.default_rng(settings.seed)
    background = moves[np.sort(rng.choice(len(moves), size=40, replace=False))]
    f = loss_function(FACTORS, book, horizon=paths.shape[1])
    oracle = shap.ExactExplainer(f, shap.maskers.Independent(background, max_samples=40))(moves[worst])
    np.testing.assert_allclose(result.worst_values, oracle.values, rtol=1e-7, atol=1e-4)
    assert result.base_value == pytest.approx(float(oracle.base_values[0]), rel=1e-12)
    residual = np.abs(result.worst_values.sum(axis=1) - (losses[worst] - result.base_value)).max()
    assert residual < 1e-4 and result.additivity_residual < 1e-4
    assert result.worst_loss == pytest.approx(list(losses[worst]))


def test_option_book_states_its_permutation_error_against_the_exact_values():
    """Options carry 3-way (spot, vol, rate) terms: the stated error bounds the gap to exact SHAP."""
    paths = _paths(seed=5)
    book = Portfolio((OptionPosition(underlying="EQ", option_type="put", quantity=1000, strike=100, expiry=0.1,
                                     spot=100, vol=0.2, rate=0.02, vol_factor="VOL", rate_factor="RATE",
                                     vol_scale=0.01, rate_scale=1.0),))
    losses = -revalue(paths, FACTORS, book).final
    worst = list(np.argsort(-losses)[:3])
    result = explain_losses(paths, FACTORS, book, worst_index=worst, settings=ShapSettings(background=30, sample=20))
    assert result.additivity_residual < 1e-6 * max(1.0, float(np.abs(losses).max()))
    assert result.permutation_error is not None and np.isfinite(result.permutation_error)
    summary = result.summary()
    assert summary["max_evals_per_row"] == 2 * len(FACTORS) + 1 and summary["explained_rows"] == 3 + 20


def test_settings_are_checked():
    with pytest.raises(ValueError, match="background"):
        ShapSettings(background=0)
    with pytest.raises(ValueError, match="too large"):
        ShapSettings(sample=10**6)
