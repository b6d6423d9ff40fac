"""Conditional WGAN-GP engine (QuantGAN generator): losses by hand, determinism, checkpoints, tails, conditioning."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from arch.data import nasdaq, sp500
from scipy import stats

from scenarios.engines import wgan
from scenarios.engines.base import Condition, FittedState, Target
from scenarios.engines.deep_common import COND_DIM, fit_sandwich
from tests.scenarios.engines import deep_tails

TINY = dict(window=10, noise_dim=2, channels=8, dilations=(1, 2, 4), critic_channels=8, critic_layers=2,
            iterations=30, batch_size=32, n_critic=2, eval_every=10, patience=100, acf_lags=3)
FACTORS = ["a", "b"]


def correlated_returns(rows: int, rho: float, seed: int) -> np.ndarray:
    """Two factors with correlation rho, Student-t(5) shocks, daily-return scale."""
    rng = np.random.default_rng(seed)
    chol = np.linalg.cholesky(np.array([[1.0, rho], [rho, 1.0]]))
    z = rng.standard_normal((rows, 2)) @ chol.T
    return 0.01 * z / np.sqrt(rng.chisquare(5.0, rows) / 5.0)[:, None]


@pytest.fixture(scope="module", autouse=True)
def single_thread():
    """Tiny networks gain nothing from intra-op threads, and on a busy CI box OpenMP's spin-waiting makes
    two threads several times slower than one; restored afterwards (no engine sets global state)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def toy() -> np.ndarray:
    return correlated_returns(600, 0.5, seed=3)


@pytest.fixture(scope="module")
def toy_state(toy) -> FittedState:
    return wgan.fit(toy, FACTORS, wgan.Config(**TINY), kinds=["equity", "rate"], device="cpu")


@pytest.fixture(scope="module")
def market() -> np.ndarray:
    prices = np.log(np.stack([sp500.load()["Adj Close"].to_numpy(), nasdaq.load()["Adj Close"].to_numpy()], 1))
    return np.diff(prices, axis=0)


def test_shapes_loss_curve_and_horizons_beyond_the_window(toy_state):
    for horizon in (1, 7, 10, 23):
        out = wgan.sample(toy_state, 5, horizon, None, np.random.default_rng(0), device="cpu")
        assert out.shape == (5, horizon, 2)
        assert np.isfinite(out).all()
    curve = toy_state.meta["loss_curve"]
    assert [p["step"] for p in curve] == [10, 20, 30]
    assert set(curve[0]) == {"step", "critic_loss", "generator_loss", "val_loss"}
    assert toy_state.meta["early_stopping"] == "moment_acf_distance"


def test_same_seed_same_weights_and_samples(toy, toy_state):
    again = wgan.fit(toy, FACTORS, wgan.Config(**TINY), kinds=["equity", "rate"], device="cpu")
    for name, array in toy_state.arrays.items():
        np.testing.assert_array_equal(array, again.arrays[name], err_msg=name)
    condition = Condition(severity="severe")
    first = wgan.sample(toy_state, 20, 15, condition, np.random.default_rng(5))
    second = wgan.sample(again, 20, 15, condition, np.random.default_rng(5))
    np.testing.assert_array_equal(first, second)
    other = wgan.sample(toy_state, 20, 15, condition, np.random.default_rng(6))
    assert not np.allclose(first, other)


def test_checkpoint_round_trip_gives_identical_samples(toy_state):
    blob = toy_state.to_bytes()
    restored = FittedState.from_bytes(blob)
    assert restored.to_bytes() == blob
    assert wgan.Config.from_dict(restored.config) == wgan.Config(**TINY)
    for condition in (None, Condition(severity="mild", targets=(Target("a", -0.1, 20),))):
        np.testing.assert_array_equal(wgan.sample(toy_state, 9, 12, condition, np.random.default_rng(1)),
                                      wgan.sample(restored, 9, 12, condition, np.random.default_rng(1)))


class LinearCritic(torch.nn.Module):
    """f(x, c) = w·x: its gradient is w everywhere, so the penalty is λ(‖w‖ − 1)² exactly."""

    def __init__(self, weight: torch.Tensor) -> None:
        super().__init__()
        self.weight = torch.nn.Parameter(weight)

    def forward(self, path: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        return (path * self.weight).sum(dim=(1, 2))


def test_gradient_penalty_equals_hand_computation_on_a_linear_critic():
    gen = torch.Generator().manual_seed(0)
    weight = torch.randn(10, 3, generator=gen) * 0.7
    critic = LinearCritic(weight)
    real, fake = torch.randn(16, 10, 3, generator=gen), torch.randn(16, 10, 3, generator=gen)
    cond = torch.zeros(16, COND_DIM)
    penalty = wgan.gradient_penalty(critic, real, fake, cond, 10.0, torch.Generator().manual_seed(1))
    expected = 10.0 * (float(weight.norm()) - 1.0) ** 2
    assert float(penalty.detach()) == pytest.approx(expected, rel=1e-5)
    # differentiable in the critic's weights (the critic is trained through it): d/dw = 2λ(‖w‖−1) w/‖w‖
    (grad,) = torch.autograd.grad(penalty, critic.weight)
    norm = weight.norm()
    torch.testing.assert_close(grad, 2 * 10.0 * (norm - 1) * weight / norm, rtol=1e-4, atol=1e-6)
    unit = LinearCritic(weight / weight.norm())
    unit_penalty = wgan.gradient_penalty(unit, real, fake, cond, 10.0, torch.Generator().manual_seed(1))
    assert float(unit_penalty.detach()) < 1e-10


def test_correlation_penalty_zero_for_identical_batches_positive_otherwise():
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(32, 10, 3, generator=gen)
    assert float(wgan.correlation_penalty(x, x.clone())) == pytest.approx(0.0, abs=1e-6)
    y = torch.randn(32, 10, 3, generator=gen)
    y[..., 1] = y[..., 0] + 0.1 * y[..., 1]  # strongly correlated factors 0 and 1
    assert float(wgan.correlation_penalty(x, y)) > 0.5
    assert float(wgan.correlation_penalty(x[..., :1], y[..., :1])) == pytest.approx(0.0, abs=1e-6)


def _generated_correlation(state: FittedState, n: int = 3000) -> float:
    config = wgan.Config.from_dict(state.config)
    scores = wgan.sample_scores(wgan.load_generator(state, torch.device("cpu")), config, n, None,
                                torch.Generator().manual_seed(0), torch.device("cpu"))
    return float(np.corrcoef(scores.reshape(-1, 2).T)[0, 1])


def test_correlation_penalty_moves_generated_correlation_toward_the_real_one():
    data = correlated_returns(800, 0.9, seed=8)
    _, scores = fit_sandwich(data)
    real = float(np.corrcoef(scores.T)[0, 1])
    assert real > 0.8
    # Same seed and budget; a larger learning rate than the default so 25 steps move the generator.
    budget = {**TINY, "iterations": 25, "eval_every": 25, "cond_dropout": 0.5, "generator_lr": 1e-3,
              "critic_lr": 1e-3}
    without = wgan.fit(data, FACTORS, wgan.Config(**budget), device="cpu")
    with_penalty = wgan.fit(data, FACTORS, wgan.Config(**budget, corr_penalty=1.0), device="cpu")
    error_without = abs(_generated_correlation(without) - real)
    error_with = abs(_generated_correlation(with_penalty) - real)
    assert error_with < error_without
    assert error_with < 0.1


def test_severe_condition_gives_higher_realised_vol_than_mild_on_market_data(market):
    config = wgan.Config(**{**TINY, "window": 20, "iterations": 20})
    state = wgan.fit(market, ["SPX", "NDX"], config, kinds=["equity", "equity"], device="cpu")
    mild = wgan.sample(state, 400, 20, Condition(severity="mild"), np.random.default_rng(0))
    severe = wgan.sample(state, 400, 20, Condition(severity="severe"), np.random.default_rng(0))
    vol_mild, vol_severe = mild.std(axis=1).mean(axis=0), severe.std(axis=1).mean(axis=0)
    assert (vol_severe > 1.3 * vol_mild).all()
    # the severity's equity drawdown is applied as a target on the median cumulative move
    assert np.median(severe.sum(axis=1), axis=0) == pytest.approx([-0.20, -0.20], abs=1e-9)


def test_fat_tails_on_sp500_through_the_sandwich(market):
    spx = market[:, :1]
    assert stats.kurtosis(spx[:, 0]) > 3
    state = wgan.fit(spx, ["SPX"], wgan.Config(**{**TINY, "iterations": 20}), kinds=["equity"], device="cpu")
    out = wgan.sample(state, 2000, 20, None, np.random.default_rng(4))
    assert stats.kurtosis(out.reshape(-1)) > 3


def test_raising_progress_callback_stops_training(toy):
    calls = []

    def cancel(fraction, **detail):
        calls.append((fraction, detail))
        raise RuntimeError("cancelled")

    with pytest.raises(RuntimeError, match="cancelled"):
        wgan.fit(toy, FACTORS, wgan.Config(**TINY), progress=cancel, device="cpu")
    assert len(calls) == 1
    assert calls[0][0] == pytest.approx(10 / 30)
    assert set(calls[0][1]) == {"step", "critic_loss", "generator_loss", "val_loss"}


@pytest.mark.parametrize("changes", [dict(window=1), dict(dilations=()), dict(corr_penalty=-1.0),
                                     dict(gp_weight=float("nan")), dict(n_critic=0), dict(cond_dropout=1.0),
                                     dict(betas=(0.0, 1.5)), dict(start_variance="first"), dict(acf_lags=10)])
def test_bad_config_raises(changes):
    with pytest.raises(ValueError):
        wgan.Config(**{**TINY, **changes})


def test_bad_inputs_raise(toy, toy_state):
    config = wgan.Config(**TINY)
    with pytest.raises(ValueError, match="non-finite"):
        wgan.fit(np.where(np.arange(600)[:, None] == 5, np.nan, toy), FACTORS, config)
    with pytest.raises(ValueError, match="2-D"):
        wgan.fit(toy[:, 0], FACTORS, config)
    with pytest.raises(ValueError, match="factor names"):
        wgan.fit(toy, ["a"], config)
    with pytest.raises(ValueError, match="kinds"):
        wgan.fit(toy, FACTORS, config, kinds=["equity"])
    with pytest.raises(ValueError, match="at least"):
        wgan.fit(toy[:40], FACTORS, config)
    with pytest.raises(ValueError, match="config"):
        wgan.fit(toy, FACTORS, {"window": 10})
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="n must"):
        wgan.sample(toy_state, 0, 5, None, rng)
    with pytest.raises(ValueError, match="horizon"):
        wgan.sample(toy_state, 3, 0, None, rng)
    with pytest.raises(ValueError, match="rng"):
        wgan.sample(toy_state, 3, 5, None, 42)
    with pytest.raises(ValueError, match="Condition"):
        wgan.sample(toy_state, 3, 5, {"severity": "severe"}, rng)
    with pytest.raises(ValueError, match="unknown factor"):
        wgan.sample(toy_state, 3, 5, Condition(targets=(Target("zzz", -0.1, 5),)), rng)
    other = FittedState(engine="vae", config={}, factors=FACTORS)
    with pytest.raises(ValueError, match="state"):
        wgan.sample(other, 3, 5, None, rng)


# ── tails by design, on the real S&P 500 / NASDAQ / WTI panel (see deep_tails) ────────────────
@pytest.mark.slow
def test_tails_of_the_real_panel_are_reproduced(panel_state):
    real, factors, state = panel_state
    deep_tails.assert_tails_reproduced(lambda n, h, rng: wgan.sample(state, n, h, None, rng), real, factors)


@pytest.mark.slow
def test_each_severity_is_applied_once_on_the_real_panel(panel_state):
    _, _, state = panel_state
    deep_tails.assert_severity_applied_once(lambda n, h, condition, rng: wgan.sample(state, n, h, condition, rng))


@pytest.fixture(scope="module")
def panel_state():
    real, factors = deep_tails.panel()
    config = wgan.Config(iterations=300, channels=16, critic_channels=16)
    return real, factors, wgan.fit(real, factors, config, kinds=deep_tails.KINDS, device="cpu")
