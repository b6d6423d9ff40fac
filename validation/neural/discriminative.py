"""The post-hoc discriminative score: can a small recurrent classifier tell real windows from scenarios?

Yoon, J., Jarrett, D. & van der Schaar, M. (2019). "Time-series Generative Adversarial Networks."
NeurIPS 32 — Section 5.2, "Discriminative score": a small GRU classifier is trained
post hoc to separate real sequences from synthetic ones; the score is ``|accuracy - 0.5|`` on a
held-out split (0: indistinguishable, 0.5: perfectly separable).

Here the real sequences are the holdout's overlapping windows of the scenarios' horizon. Both
classes are balanced and capped, features are standardised with the real data's mean/std (so the
classifier sees scale differences as scale, not as a numerical-conditioning accident), and every
random choice (block assignment, subsample, split, weight initialisation, batch order) comes from
one seeded ``torch.Generator`` — no global seeding. The device is chosen at run time (CUDA when
present, with ``torch.autocast``), the code path is the same.

**The split must be exchangeable** (issue 15 §5). The score is only calibrated — about 0 for a
generator whose paths have the holdout's law — if the real and the synthetic windows are sampled
and split *the same way*: under that null the four groups (real train, real test, synthetic train,
synthetic test) are then exchangeable and the test accuracy is 0.5 up to binomial noise. Two
splits of the real windows break this:

* *At random over overlapping windows* (the reference implementation): a test window shares all
  but one day with some training window and a 16-unit GRU learns to recognise them — real test
  windows are "seen", synthetic ones never are, and a perfect generator scores ~0.25.
* *In time* (first 80 % train, last 20 % test; this module until issue 15): the real training
  windows come from one period and the real test windows from another, while synthetic windows —
  like the holdout's own law — cover all of it. The classifier learns the period: real test
  windows look like "the other period", hence synthetic, and an ideal generator (2,000 real
  windows of the holdout itself) scored 0.353 with accuracy 0.147, *below* chance.

So the holdout is cut into contiguous blocks of ``block_days`` (by default ``2 × horizon``) days, a
random ``test_fraction`` of the blocks (at least one each side) is assigned to testing, and only
the windows lying *entirely inside* one block are used. Train and test windows then share no day
(every window crossing a block boundary is dropped: an ``h - 1``-day gap between a training block
and a test block), and both sides are drawn from blocks spread over the whole holdout, i.e. from the
same mixture of periods as a generator of the holdout's law. The synthetic paths carry no date:
they are split at random, with the same numbers per class as the real ones. Short blocks keep the
two real sides close in composition (many blocks, interleaved) at the price of dropping about half
of the (highly redundant) overlapping windows.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch
from torch import nn

from validation.metrics.result import MetricResult, check_real, check_synthetic

TIER = "discriminative"
REFERENCE = "Yoon, Jarrett & van der Schaar (2019), Time-series Generative Adversarial Networks, NeurIPS, Sec. 5.2"


# ------------------------------------------------------------------------------ shared helpers


def pick_device(device: str | torch.device | None = None) -> torch.device:
    """``cuda`` when available (or asked for), else CPU."""
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError("device 'cuda' was asked for but CUDA is not available")
    return device


def autocast(device: torch.device) -> contextlib.AbstractContextManager:
    """Mixed precision on CUDA; a no-op elsewhere (CPU autocast would only slow a GRU this small)."""
    if device.type == "cuda":
        return torch.autocast(device_type="cuda", dtype=torch.float16)
    return contextlib.nullcontext()


def init_parameters(module: nn.Module, generator: torch.Generator) -> None:
    """PyTorch's default GRU/Linear initialisation, U(-1/√fan, 1/√fan), drawn from ``generator``.

    Re-drawing the weights from an explicit generator keeps the score reproducible without touching
    the global RNG (house rule: no global seeding).
    """
    with torch.no_grad():
        for sub in module.modules():
            if isinstance(sub, nn.GRU):
                bound = 1.0 / math.sqrt(sub.hidden_size)
                for param in sub.parameters():
                    nn.init.uniform_(param, -bound, bound, generator=generator)
            elif isinstance(sub, nn.Linear):
                bound = 1.0 / math.sqrt(sub.in_features)
                nn.init.uniform_(sub.weight, -bound, bound, generator=generator)
                if sub.bias is not None:
                    nn.init.uniform_(sub.bias, -bound, bound, generator=generator)


def real_windows(real: np.ndarray, horizon: int) -> np.ndarray:
    """All overlapping ``horizon``-day windows of ``real`` ``[T, F]`` as ``[T - horizon + 1, horizon, F]``."""
    if real.shape[0] < horizon:
        raise ValueError(f"the real series ({real.shape[0]} days) is shorter than the horizon ({horizon})")
    return np.lib.stride_tricks.sliding_window_view(real, horizon, axis=0).transpose(0, 2, 1)


def split_real_windows(real: np.ndarray, horizon: int, test_fraction: float, generator: torch.Generator, *,
                       block_days: int | None = None) -> tuple[np.ndarray, np.ndarray, dict]:
    """Training and test windows of ``real`` ``[T, F]`` from randomly assigned contiguous blocks.

    ``real`` is cut into ``T // block_days`` blocks (the last one takes the remainder); a random
    ``round(n_blocks * test_fraction)`` of them (clipped to ``1 .. n_blocks - 1``) are test blocks.
    Each side gets the overlapping ``horizon``-day windows lying entirely inside one of its blocks,
    so no test window shares a day with a training window, and both sides span the whole series
    (see the module docstring: an exchangeable split). Returns the two window arrays and a record
    of the split for the result's details.
    """
    block = 2 * horizon if block_days is None else block_days
    n_blocks = real.shape[0] // block if block >= horizon else 0
    if n_blocks < 2:
        raise ValueError(f"the real series ({real.shape[0]} days) is too short to give both a training and a test "
                         f"block of {block} days holding at least one {horizon}-day window each")
    n_test = min(n_blocks - 1, max(1, round(n_blocks * test_fraction)))
    is_test = np.zeros(n_blocks, dtype=bool)
    is_test[torch.randperm(n_blocks, generator=generator)[:n_test].numpy()] = True
    edges = [i * block for i in range(n_blocks)] + [real.shape[0]]
    parts: dict[bool, list[np.ndarray]] = {True: [], False: []}
    for i in range(n_blocks):
        parts[bool(is_test[i])].append(real_windows(real[edges[i]:edges[i + 1]], horizon))
    record = {"method": "random contiguous blocks, windows inside one block", "block_days": block,
              "n_blocks": n_blocks, "test_blocks": np.flatnonzero(is_test).tolist()}
    return np.concatenate(parts[False]), np.concatenate(parts[True]), record


def standardiser(real: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-factor mean and std of ``real`` ``[T, F]``; a constant factor is an input error."""
    mean = real.mean(axis=0)
    std = real.std(axis=0)
    flat = np.flatnonzero(~(std > 0))
    if flat.size:
        raise ValueError(f"real factor {int(flat[0])} is constant over the window: it cannot be standardised")
    return mean, std


def check_positive_int(value: Any, name: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    if int(value) < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")
    return int(value)


def check_positive_float(value: Any, name: str) -> float:
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a positive number, got {value!r}") from None
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a positive number, got {value}")
    return value


def batches(n: int, batch_size: int, generator: torch.Generator) -> Iterator[torch.Tensor]:
    order = torch.randperm(n, generator=generator)
    for start in range(0, n, batch_size):
        yield order[start:start + batch_size]


class Trainer:
    """Adam steps with autocast + gradient scaling on CUDA, plain fp32 on CPU: one code path."""

    def __init__(self, model: nn.Module, device: torch.device, learning_rate: float):
        self.model = model
        self.device = device
        self.optimiser = torch.optim.Adam(model.parameters(), lr=learning_rate)
        self.scaler = torch.amp.GradScaler("cuda", enabled=device.type == "cuda")

    def step(self, loss_fn, *tensors: torch.Tensor) -> float:
        self.optimiser.zero_grad(set_to_none=True)
        with autocast(self.device):
            loss = loss_fn(*tensors)
        self.scaler.scale(loss).backward()
        self.scaler.step(self.optimiser)
        self.scaler.update()
        return float(loss.detach())


# ---------------------------------------------------------------------------------- the classifier


class GRUClassifier(nn.Module):
    def __init__(self, n_features: int, hidden: int, layers: int):
        super().__init__()
        self.gru = nn.GRU(n_features, hidden, num_layers=layers, batch_first=True)
        self.head = nn.Linear(hidden, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _, h = self.gru(x)
        return self.head(h[-1]).squeeze(-1)


def discriminative_score(
    synthetic: Any,
    real: Any,
    *,
    max_per_class: int = 2000,
    hidden: int = 16,
    layers: int = 1,
    epochs: int = 5,
    batch_size: int = 256,
    learning_rate: float = 1e-2,
    test_fraction: float = 0.2,
    block_days: int | None = None,
    seed: int = 0,
    threshold: float = 0.15,
    device: str | torch.device | None = None,
) -> MetricResult:
    """TimeGAN's post-hoc discriminative score ``|accuracy - 0.5|`` (Yoon et al. 2019, Sec. 5.2).

    ``synthetic`` is ``[n, horizon, F]``; ``real`` the holdout ``[T, F]``, cut into contiguous blocks
    of ``block_days`` days (default ``2 × horizon``) of which a random ``test_fraction`` are test
    blocks; the real windows are the overlapping ``horizon``-day windows inside one block (the
    exchangeable split of the module docstring). Per class, up to ``max_per_class`` sequences are
    drawn, ``test_fraction`` of them for testing; the classes are balanced in both parts (the
    synthetic paths are split at random, test paths disjoint from training paths). A
    GRU(hidden, layers) → linear classifier is trained for ``epochs`` passes with Adam and binary
    cross-entropy, and the score is ``|accuracy - 0.5|`` on the test part.
    Metric ``discriminative_score``, tier ``discriminative``, direction ``max``.
    """
    real = check_real(real, min_rows=2)
    synthetic = check_synthetic(synthetic, real.shape[1])
    horizon = synthetic.shape[1]
    max_per_class = check_positive_int(max_per_class, "max_per_class", 10)
    hidden = check_positive_int(hidden, "hidden")
    layers = check_positive_int(layers, "layers")
    epochs = check_positive_int(epochs, "epochs")
    batch_size = check_positive_int(batch_size, "batch_size")
    learning_rate = check_positive_float(learning_rate, "learning_rate")
    test_fraction = check_positive_float(test_fraction, "test_fraction")
    if test_fraction >= 1:
        raise ValueError(f"test_fraction must lie in (0, 1), got {test_fraction}")
    if block_days is not None:
        block_days = check_positive_int(block_days, "block_days", horizon)
    seed = check_positive_int(seed, "seed", 0)
    run_device = pick_device(device)
    mean, std = standardiser(real)
    generator = torch.Generator().manual_seed(seed)
    train_windows, test_windows, split = split_real_windows(real, horizon, test_fraction, generator,
                                                            block_days=block_days)
    # Balanced classes: each contributes n_train training and n_test test sequences.
    budget = min(max_per_class, synthetic.shape[0])
    n_test = min(test_windows.shape[0], max(1, round(budget * test_fraction)))
    n_train = min(train_windows.shape[0], budget - n_test)
    if n_train < 8 or n_test < 2:
        raise ValueError(f"too few sequences per class ({n_train} train, {n_test} test; scenarios: "
                         f"{synthetic.shape[0]}, real days: {real.shape[0]}, horizon: {horizon}); the score "
                         "needs at least 8 training and 2 test sequences per class")

    def draw(array: np.ndarray, k: int) -> torch.Tensor:
        index = torch.randperm(array.shape[0], generator=generator)[:k].numpy()
        return torch.as_tensor((array[index] - mean) / std, dtype=torch.float32)

    syn_x = draw(synthetic, n_train + n_test)
    train_x = torch.cat([draw(train_windows, n_train), syn_x[n_test:]])
    train_y = torch.cat([torch.ones(n_train), torch.zeros(n_train)])
    test_x = torch.cat([draw(test_windows, n_test), syn_x[:n_test]])
    test_y = torch.cat([torch.ones(n_test), torch.zeros(n_test)])

    with torch.random.fork_rng(devices=[]):  # the modules' own default init must not advance the global RNG
        model = GRUClassifier(real.shape[1], hidden, layers)
    init_parameters(model, generator)
    model.to(run_device)
    train_x, train_y = train_x.to(run_device), train_y.to(run_device)
    test_x, test_y = test_x.to(run_device), test_y.to(run_device)
    trainer = Trainer(model, run_device, learning_rate)
    bce = nn.BCEWithLogitsLoss()

    def loss_fn(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return bce(model(x).float(), y)

    model.train()
    last_loss = float("nan")
    for _ in range(epochs):
        for index in batches(train_x.shape[0], batch_size, generator):
            index = index.to(run_device)
            last_loss = trainer.step(loss_fn, train_x[index], train_y[index])

    model.eval()
    with torch.no_grad(), autocast(run_device):
        logits = model(test_x).float()
        test_loss = float(bce(logits, test_y))
        accuracy = float(((logits > 0).float() == test_y).float().mean())
        real_accuracy = float((logits[test_y == 1] > 0).float().mean())
        synthetic_accuracy = float((logits[test_y == 0] <= 0).float().mean())
    return MetricResult(
        name="discriminative_score", tier=TIER, value=abs(accuracy - 0.5), threshold=threshold, direction="max",
        details={"accuracy": accuracy, "real_accuracy": real_accuracy, "synthetic_accuracy": synthetic_accuracy,
                 "test_loss": test_loss, "final_train_loss": last_loss,
                 "n_train": int(train_x.shape[0]), "n_test": int(test_x.shape[0]), "horizon": horizon,
                 "hidden": hidden, "layers": layers, "epochs": epochs, "batch_size": batch_size,
                 "learning_rate": learning_rate, "seed": seed, "device": run_device.type, "split": split},
        reference=REFERENCE,
    )
