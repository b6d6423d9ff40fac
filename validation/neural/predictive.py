"""Train on synthetic, test on real (TSTR): does a forecaster learnt from the scenarios work on real data?

* Esteban, C., Hyland, S. L. & Rätsch, G. (2017). "Real-valued (medical) time series generation
  with recurrent conditional GANs." arXiv:1706.02633 — the TSTR protocol (and its TRTR baseline).
* Yoon, J., Jarrett, D. & van der Schaar, M. (2019). "Time-series Generative Adversarial Networks."
  NeurIPS 32, Sec. 5.2, "Predictive score": a post-hoc GRU trained on synthetic sequences to
  predict the next step, its mean absolute error measured on real sequences.

Here the GRU predicts the next day's increments of *all* factors from the days before (one step
ahead at every position of a window). The same forecaster is trained twice with the same budget —
on the scenarios (TSTR) and on real training windows (TRTR) — and both are scored on the same real
test windows. The value is ``MAE_TSTR / MAE_TRTR``: about 1 when the scenarios teach the real
dynamics as well as real data does, larger when they teach the wrong ones. Device and seeding
follow ``discriminative``.

**The reference must be exchangeable with the scenarios** (issue 15 §5). A generator of the
holdout's law produces windows from the mixture of all its periods. Until issue 15 the TRTR
forecaster learnt from the first half of the holdout only and both were scored on the second half:
TRTR then paid for the change of regime between the halves and TSTR did not, so the ratio of a
perfect generator depended on how different the two halves were (below 1 after a calm-to-crisis
holdout, hiding a poor generator; above 1 the other way round). The real windows are now split
like the discriminative score's (``discriminative.split_real_windows``): contiguous blocks of
``2 × horizon`` days assigned at random to training or testing, windows inside one block, so the
TRTR training windows, the test windows and a perfect generator's paths all come from the same
mixture of periods, no test window shares a day with a training window, and a perfect generator's
ratio is about 1.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from validation.metrics.result import MetricResult, check_real, check_synthetic
from validation.neural.discriminative import (
    Trainer,
    autocast,
    batches,
    check_positive_float,
    check_positive_int,
    init_parameters,
    pick_device,
    split_real_windows,
    standardiser,
)

TIER = "discriminative"
REFERENCE = ("Esteban, Hyland & Raetsch (2017), arXiv:1706.02633 (TSTR); Yoon, Jarrett & van der Schaar (2019), "
             "Time-series Generative Adversarial Networks, NeurIPS, Sec. 5.2 (predictive score)")


class GRUForecaster(nn.Module):
    def __init__(self, n_features: int, hidden: int, layers: int):
        super().__init__()
        self.gru = nn.GRU(n_features, hidden, num_layers=layers, batch_first=True)
        self.head = nn.Linear(hidden, n_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        output, _ = self.gru(x)
        return self.head(output)


def _fit_and_score(train: torch.Tensor, test: torch.Tensor, *, n_features: int, hidden: int, layers: int,
                   epochs: int, batch_size: int, learning_rate: float, generator: torch.Generator,
                   device: torch.device) -> tuple[float, float]:
    """Train a one-step-ahead forecaster on ``train`` windows; its MAE on ``test`` windows and last train loss."""
    with torch.random.fork_rng(devices=[]):  # the modules' own default init must not advance the global RNG
        model = GRUForecaster(n_features, hidden, layers)
    init_parameters(model, generator)
    model.to(device)
    train, test = train.to(device), test.to(device)
    trainer = Trainer(model, device, learning_rate)

    def loss_fn(x: torch.Tensor) -> torch.Tensor:
        return (model(x[:, :-1]).float() - x[:, 1:]).abs().mean()

    model.train()
    last_loss = float("nan")
    for _ in range(epochs):
        for index in batches(train.shape[0], batch_size, generator):
            last_loss = trainer.step(loss_fn, train[index.to(device)])
    model.eval()
    with torch.no_grad(), autocast(device):
        mae = float(loss_fn(test))
    return mae, last_loss


def predictive_score(
    synthetic: Any,
    real: Any,
    *,
    train_fraction: float = 0.5,
    block_days: int | None = None,
    max_sequences: int = 2000,
    hidden: int = 16,
    layers: int = 1,
    epochs: int = 5,
    batch_size: int = 256,
    learning_rate: float = 1e-2,
    seed: int = 0,
    threshold: float = 1.2,
    device: str | torch.device | None = None,
) -> MetricResult:
    """TSTR/TRTR ratio of one-step-ahead mean absolute errors (Esteban et al. 2017; Yoon et al. 2019).

    ``synthetic`` is ``[n, horizon, F]`` (``horizon >= 2``); ``real`` the holdout ``[T, F]``.
    The holdout is cut into contiguous blocks of ``block_days`` days (default ``2 × horizon``), a
    random ``train_fraction`` of which give the TRTR training windows and the rest the evaluation
    windows (the overlapping ``horizon``-day windows inside one block, capped at ``max_sequences``;
    see the module docstring). Both forecasters get the same number of training sequences
    (``min(n, real training windows, max_sequences)``), epochs, batch size and learning rate.
    Features are standardised with the holdout's mean/std, so MAEs are in its standard
    deviations. Metric ``predictive_mae_ratio``, tier ``discriminative``, direction ``max``.
    """
    real = check_real(real, min_rows=2)
    synthetic = check_synthetic(synthetic, real.shape[1])
    horizon = synthetic.shape[1]
    if horizon < 2:
        raise ValueError("one-step-ahead prediction needs scenarios of at least 2 steps")
    train_fraction = check_positive_float(train_fraction, "train_fraction")
    if train_fraction >= 1:
        raise ValueError(f"train_fraction must lie in (0, 1), got {train_fraction}")
    max_sequences = check_positive_int(max_sequences, "max_sequences", 8)
    hidden = check_positive_int(hidden, "hidden")
    layers = check_positive_int(layers, "layers")
    epochs = check_positive_int(epochs, "epochs")
    batch_size = check_positive_int(batch_size, "batch_size")
    learning_rate = check_positive_float(learning_rate, "learning_rate")
    seed = check_positive_int(seed, "seed", 0)

    if block_days is not None:
        block_days = check_positive_int(block_days, "block_days", horizon)
    mean, std = standardiser(real)
    generator = torch.Generator().manual_seed(seed)
    # split_real_windows takes the *test* share; its record names the test blocks (the evaluation windows).
    train_windows, test_windows, split = split_real_windows(real, horizon, 1.0 - train_fraction, generator,
                                                            block_days=block_days)
    n_train = min(max_sequences, synthetic.shape[0], train_windows.shape[0])
    n_test = min(max_sequences, test_windows.shape[0])
    if n_train < 8:
        raise ValueError(f"only {n_train} training sequences (scenarios: {synthetic.shape[0]}, real training "
                         f"windows: {train_windows.shape[0]}); the score needs at least 8")
    run_device = pick_device(device)

    def draw(array: np.ndarray, k: int) -> torch.Tensor:
        index = torch.randperm(array.shape[0], generator=generator)[:k].numpy()
        return torch.as_tensor((array[index] - mean) / std, dtype=torch.float32)

    synthetic_x = draw(synthetic, n_train)
    real_train_x = draw(train_windows, n_train)
    test_x = draw(test_windows, n_test)
    settings = {"n_features": real.shape[1], "hidden": hidden, "layers": layers, "epochs": epochs,
                "batch_size": batch_size, "learning_rate": learning_rate, "generator": generator,
                "device": run_device}
    mae_tstr, loss_tstr = _fit_and_score(synthetic_x, test_x, **settings)
    mae_trtr, loss_trtr = _fit_and_score(real_train_x, test_x, **settings)
    # Context: the MAE of always forecasting the holdout's mean (0 after standardisation).
    mae_mean_forecast = float(test_x[:, 1:].abs().mean())
    ratio = mae_tstr / mae_trtr if mae_trtr > 0 else float("inf")
    return MetricResult(
        name="predictive_mae_ratio", tier=TIER, value=ratio, threshold=threshold, direction="max",
        details={"mae_tstr": mae_tstr, "mae_trtr": mae_trtr, "mae_mean_forecast": mae_mean_forecast,
                 "final_train_loss_tstr": loss_tstr, "final_train_loss_trtr": loss_trtr, "n_train": n_train,
                 "n_test": n_test, "horizon": horizon, "split": split, "hidden": hidden, "layers": layers,
                 "epochs": epochs, "batch_size": batch_size, "learning_rate": learning_rate, "seed": seed,
                 "device": run_device.type},
        reference=REFERENCE,
    )
