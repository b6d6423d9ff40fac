"""LSTM–Transformer generator: shapes, determinism, checkpoints, causal mask, AR(1) recovery, fat tails."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy import stats

from scenarios.engines import lstm_transformer as lt
from scenarios.engines.base import Condition, FittedState
from scenarios.engines.deep_common import COND_DIM, fit_sandwich, init_module, windows
from tests.scenarios.engines import deep_tails

FACTORS = ["spx", "ndx"]
KINDS = ["equity", "equity"]


def tiny(**overrides) -> lt.Config:
    values = dict(window=10, hidden=16, heads=2, transformer_layers=1, feedforward=32, epochs=2, batch_size=128,
                  patience=5, seed=5)
    return lt.Config(**(values | overrides))


@pytest.fixture(scope="module")
def train() -> np.ndarray:
    """Daily log-returns of the S&P 500 and the NASDAQ composite (arch's bundled data), last 1,500 days."""
    from arch.data import nasdaq, sp500

    spx, ndx = sp500.load()["Adj Close"], nasdaq.load()["Adj Close"]
    prices = np.log(np.column_stack([spx.to_numpy(), ndx.loc[spx.index].to_numpy()]))
    out = np.diff(prices, axis=0)
    return out[np.isfinite(out).all(axis=1)][-1500:]


@pytest.fixture(scope="module")
def fitted(train) -> FittedState:
    return lt.fit(train, FACTORS, tiny(), kinds=KINDS)


def test_shapes_loss_curve_and_long_horizons(fitted):
    paths = lt.sample(fitted, 6, 23, None, np.random.default_rng(0))  # 23 > window: the context slides
    assert paths.shape == (6, 23, 2) and np.isfinite(paths).all()
    assert set(fitted.meta["loss_curve"][0]) == {"epoch", "loss", "val_loss"}
    assert fitted.meta["first_step"] == "learned"
    stressed = lt.sample(fitted, 300, 20, Condition(severity="severe"), np.random.default_rng(1))
    calm = lt.sample(fitted, 300, 20, Condition(severity="mild"), np.random.default_rng(1))
    assert np.median(stressed.std(axis=1)) > 1.2 * np.median(calm.std(axis=1))


def test_fit_and_sample_are_deterministic_and_checkpoints_round_trip(train):
    config = tiny(components=1, epochs=1)
    first, second = (lt.fit(train[-800:], FACTORS, config, kinds=KINDS) for _ in range(2))
    assert first.to_bytes() == second.to_bytes()
    restored = FittedState.from_bytes(first.to_bytes())
    a = lt.sample(first, 4, 12, Condition(severity="extreme"), np.random.default_rng(2))
    b = lt.sample(restored, 4, 12, Condition(severity="extreme"), np.random.default_rng(2))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, lt.sample(first, 4, 12, Condition(severity="extreme"), np.random.default_rng(3)))


def test_the_transformer_head_and_the_whole_model_are_causal():
    model = lt.build_model(tiny(), 2).eval()
    init_module(model, 0)
    mask = lt.causal_mask(5, torch.device("cpu"))
    assert torch.isinf(mask.triu(1)[mask.triu(1) != 0]).all() and (mask.tril() == 0).all()
    generator = torch.Generator().manual_seed(0)
    hidden = torch.randn(2, 9, 16, generator=generator)
    context = torch.randn(2, 9, 2, generator=generator)
    cond = torch.randn(2, COND_DIM, generator=generator)
    with torch.no_grad():
        for t in (0, 4, 7):
            changed_h = hidden.clone()
            changed_h[:, t + 1:] += 1.0
            out, out2 = model.transform(hidden), model.transform(changed_h)
            torch.testing.assert_close(out[:, : t + 1], out2[:, : t + 1], rtol=0, atol=0)
            assert not torch.allclose(out[:, t + 1:], out2[:, t + 1:])
            # context day t enters at position t + 1: predictions for days 0..t must not see it
            changed_x = context.clone()
            changed_x[:, t] += 1.0
            _, means, logvars = model(context, cond)
            _, means2, logvars2 = model(changed_x, cond)
            torch.testing.assert_close(means[:, : t + 1], means2[:, : t + 1], rtol=0, atol=0)
            torch.testing.assert_close(logvars[:, : t + 1], logvars2[:, : t + 1], rtol=0, atol=0)
            assert not torch.allclose(means[:, t + 1:], means2[:, t + 1:])


def test_learns_an_ar1_toy():
    phi, rows = 0.6, 2000
    rng = np.random.default_rng(11)
    x = np.zeros((rows, 2))
    noise = rng.standard_normal((rows, 2)) * 0.01
    for t in range(1, rows):
        x[t] = phi * x[t - 1] + noise[t]
    # predict_next(condition=None) uses the null vector, which condition dropout trains
    config = tiny(window=6, hidden=24, epochs=8, components=1, dropout=0.0, cond_dropout=0.5, learning_rate=5e-3)
    state = lt.fit(x, ["a", "b"], config)
    # the network sees the sandwich's scores: an AR(1) whose coefficient the GARCH filter shrinks a little
    _, scores = fit_sandwich(x, config.tail_quantile)
    phi_scores = float((scores[1:] * scores[:-1]).sum() / (scores[:-1] ** 2).sum())
    assert 0.4 < phi_scores <= phi
    context = windows(scores, config.window - 1)[-400:-1]
    target = phi_scores * context[:, -1, :]
    predicted = lt.predict_next(state, context)
    assert predicted.shape == target.shape
    slope = float((predicted * target).sum() / (target * target).sum())
    assert slope == pytest.approx(1.0, abs=0.2)
    assert np.sqrt(np.mean((predicted - target) ** 2)) < 0.25  # vs an innovation s.d. of ≈ 0.8 in scores


def test_fat_tails_on_the_sp500_come_through_the_sandwich(fitted):
    paths = lt.sample(fitted, 150, 120, None, np.random.default_rng(5))
    assert stats.kurtosis(paths[:, :, 0].ravel()) > 3.0


def test_a_raising_progress_callback_stops_training(train):
    seen = []

    def progress(fraction: float, **detail) -> None:
        seen.append(detail["epoch"])
        raise RuntimeError("cancelled")

    with pytest.raises(RuntimeError, match="cancelled"):
        lt.fit(train, FACTORS, tiny(epochs=50), progress=progress)
    assert seen == [1]


def test_bad_inputs_raise_value_errors(train, fitted):
    bad = train.copy()
    bad[7, 0] = np.inf
    with pytest.raises(ValueError, match="non-finite"):
        lt.fit(bad, FACTORS, tiny())
    with pytest.raises(ValueError, match="columns"):
        lt.fit(train, ["spx", "ndx", "vix"], tiny())
    with pytest.raises(ValueError, match="lstm_transformer.Config"):
        lt.fit(train, FACTORS, None)
    for bad_config in ({"components": 3}, {"hidden": 10, "heads": 4}, {"window": 1}, {"dropout": 1.5},
                       {"validation_fraction": 0.0}):
        with pytest.raises(ValueError):
            tiny(**bad_config)
    with pytest.raises(ValueError, match="unknown lstm_transformer config"):
        lt.Config.from_dict({"latent_dim": 2})
    with pytest.raises(ValueError, match="n must"):
        lt.sample(fitted, -1, 5, None, np.random.default_rng(0))
    with pytest.raises(ValueError, match="horizon"):
        lt.sample(fitted, 2, 0, None, np.random.default_rng(0))
    with pytest.raises(ValueError, match="context"):
        lt.predict_next(fitted, np.zeros((2, 3)))
    with pytest.raises(ValueError, match="engine"):
        lt.sample(FittedState(engine="vae", config={}, factors=FACTORS), 2, 5, None, np.random.default_rng(0))


# ── tails by design, on the real S&P 500 / NASDAQ / WTI panel (see deep_tails) ────────────────
@pytest.mark.slow
def test_tails_of_the_real_panel_are_reproduced(panel_state):
    real, factors, state = panel_state
    deep_tails.assert_tails_reproduced(lambda n, h, rng: lt.sample(state, n, h, None, rng), real, factors)


@pytest.mark.slow
def test_each_severity_is_applied_once_on_the_real_panel(panel_state):
    _, _, state = panel_state
    deep_tails.assert_severity_applied_once(lambda n, h, condition, rng: lt.sample(state, n, h, condition, rng))


@pytest.fixture(scope="module")
def panel_state():
    real, factors = deep_tails.panel()
    config = lt.Config(epochs=12, hidden=24, feedforward=48, transformer_layers=1)
    return real, factors, lt.fit(real, factors, config, kinds=deep_tails.KINDS, device="cpu")


@pytest.mark.parametrize("horizon", [4, 10, 23])  # shorter than, equal to and beyond the window of 10
def test_cached_sampling_agrees_with_recomputing_the_prefix(fitted, horizon):
    """The LSTM-state cache (first window of days) gives the very values of re-running the context each day."""
    model, config = lt.load_model(fitted)
    cond = torch.as_tensor(np.eye(1, COND_DIM, 2, dtype=np.float32))  # "severe" one-hot
    with torch.no_grad():
        cached = lt.generate_scores(model, config, 200, horizon, cond, torch.Generator().manual_seed(7), cache=True)
        plain = lt.generate_scores(model, config, 200, horizon, cond, torch.Generator().manual_seed(7), cache=False)
    torch.testing.assert_close(cached, plain, rtol=1e-5, atol=1e-6)
    assert cached.std() > 0.1  # real draws, not a degenerate output that would agree trivially
