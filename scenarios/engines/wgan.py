"""Conditional WGAN-GP with a QuantGAN temporal-convolution generator, inside the GARCH-EVT sandwich.

Model:

* **Target.** The networks model windows of the Gaussian scores ``g = Φ⁻¹(F(z))`` of the
  GJR-GARCH-t standardised residuals (``deep_common.fit_sandwich``); fat tails and volatility
  clustering come back through ``deep_common.scores_to_increments`` (McNeil & Frey 2000).
* **Generator** (Wiese, Knobloch, Korn & Kretschmer 2020, "Quant GANs: deep generation of
  financial time series", §4): a temporal convolutional network of dilated *causal* 1-D
  convolutions in residual blocks (two convolutions each, PReLU), every block also emitting a
  skip connection; the sum of skips is mapped by a 1×1 convolution to the F factors. Input: a
  noise sequence ``[B, noise_dim, window]`` with the condition vector broadcast along time.
* **Critic**: 1-D convolutions (LeakyReLU, no batch normalisation, which would break the
  per-sample gradient penalty) over the path with the condition vector broadcast along time,
  then a linear read-out of the flattened features.
* **Loss** (Gulrajani et al. 2017, "Improved training of Wasserstein GANs", Alg. 1):
  critic ``D(x̃) − D(x) + λ (‖∇_x̂ D(x̂)‖₂ − 1)²`` with ``x̂ = εx + (1−ε)x̃``, ε ~ U(0,1) per sample;
  n_critic critic steps per generator step; Adam(1e-4, β = (0, 0.9)). The penalty is computed
  in float32 outside autocast (double back-propagation in reduced precision is unstable).
* **Correlation penalty** (CorrGAN; Marti 2020, "CorrGAN: sampling realistic financial
  correlation matrices using GANs"; here as a moment-matching term on the generator):
  ``λ_corr ‖Corr(real batch) − Corr(generated batch)‖_F`` over the factors, pooled over batch and
  time; off by default (``corr_penalty=0``).
* **Conditioning**: the condition vector of ``deep_common.fit_labels`` (severity one-hot, vol
  ratio, equity move) of each training window is given to both networks; with probability
  ``cond_dropout`` it is replaced by the null vector (zeros) for real and fake alike, so the
  generator also learns the unconditional law (sampling without a condition uses the null vector).

Early stopping (documented choice): the critic's Wasserstein estimate is not comparable across
training steps (the critic itself moves), so the validation criterion is a *moment/ACF distance*
between generated and validation windows of scores (the last ``validation_fraction`` of the
training windows in time, ``deep_common.split_train_validation``): per-factor mean and standard
deviation, the cross-factor correlation matrix (Frobenius), and the autocorrelations of ``g`` and
``|g|`` at lags 1..``acf_lags`` (absolute differences). Validation windows are generated from a
fixed noise draw with the validation windows' own condition vectors, so the criterion is
deterministic given the weights. The best generator (lowest criterion) is kept.

Sampling: ``ceil(horizon / window)`` independent generated windows of scores are concatenated,
cut to ``horizon`` and mapped through ``scores_to_increments`` over the whole horizon with the
condition's volatility multiplier (every day's GARCH volatility m times higher). A severity is
applied once: the generator is asked for the class's *shape* only (``condition_vector(...,
shape_only=True)``), its windows are standardised per factor to the mean and standard deviation
of null-condition windows (``deep_common.match_reference_scale``), the multiplier sets the
magnitude, and the equity move and explicit targets are imposed by ``deep_common.impose_targets``
(a drift on the median cumulative move).

Cost: the default config (1000 generator steps × 5 critic steps, batch 64, 32 channels) takes
about 0.15 s of CPU per generator step, i.e. ≲ 3 minutes on 2 CPU cores for ~4,000 days × 3
factors, less when early stopping fires. The networks are small: on a busy machine one torch
thread is faster than several (the worker, not the engine, sets ``torch.set_num_threads``).

Generated score windows pass through ``deep_common.fit_score_calibration``'s maps (fitted at fit
time on a seeded unconditioned draw, stored as ``calibration.*`` arrays) before the sandwich, so an
under-trained network cannot break the sandwich's tails (states saved without them sample as before).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
import torch
from torch import nn

from scenarios.engines.base import Condition, FittedState, check_sample_args, check_train
from scenarios.engines.deep_common import (
    COND_DIM,
    SCORE_CLIP,
    EarlyStopping,
    Labels,
    Progress,
    Sandwich,
    autocast,
    calibrate_scores,
    condition_vector,
    draw_for_calibration,
    fit_labels,
    fit_sandwich,
    has_calibration,
    impose_targets,
    init_module,
    load_module_arrays,
    match_reference_scale,
    module_to_arrays,
    pick_device,
    report,
    scores_to_increments,
    split_train_validation,
    torch_generator,
    windows,
)

ENGINE = "wgan_gp"
REFERENCE_WINDOWS = 4096  # null-condition windows that fix the scale of a severity's windows
MIN_ROWS = 100
START_VARIANCE = ("historical", "last")
_SAMPLE_CHUNK = 4096  # windows generated per forward pass at sampling time


@dataclass(frozen=True)
class Config:
    window: int = 20
    noise_dim: int = 3
    channels: int = 32
    kernel_size: int = 2
    dilations: tuple[int, ...] = (1, 2, 4, 8)
    critic_channels: int = 32
    critic_layers: int = 3
    iterations: int = 1000  # generator steps
    batch_size: int = 64
    generator_lr: float = 1e-4
    critic_lr: float = 1e-4
    betas: tuple[float, float] = (0.0, 0.9)
    n_critic: int = 5
    gp_weight: float = 10.0
    corr_penalty: float = 0.0
    cond_dropout: float = 0.1
    eval_every: int = 50  # generator steps between validation evaluations
    patience: int = 6  # evaluations without improvement before stopping
    validation_fraction: float = 0.15
    acf_lags: int = 5
    tail_quantile: float = 0.1
    start_variance: str = "historical"
    seed: int = 0

    def __post_init__(self) -> None:
        positive = ("window", "noise_dim", "channels", "kernel_size", "critic_channels", "critic_layers",
                    "iterations", "batch_size", "n_critic", "eval_every", "patience", "acf_lags")
        for name in positive:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if self.window < 2 or self.acf_lags >= self.window:
            raise ValueError(f"window must be >= 2 and acf_lags < window, got {self.window}, {self.acf_lags}")
        if not self.dilations or any(isinstance(d, bool) or not isinstance(d, int) or d < 1 for d in self.dilations):
            raise ValueError(f"dilations must be a non-empty tuple of positive integers, got {self.dilations!r}")
        for name in ("generator_lr", "critic_lr"):
            if not (math.isfinite(getattr(self, name)) and getattr(self, name) > 0):
                raise ValueError(f"{name} must be a positive finite number")
        if len(self.betas) != 2 or not all(0.0 <= b < 1.0 for b in self.betas):
            raise ValueError(f"betas must be two numbers in [0, 1), got {self.betas!r}")
        for name in ("gp_weight", "corr_penalty"):
            if not (math.isfinite(getattr(self, name)) and getattr(self, name) >= 0):
                raise ValueError(f"{name} must be a non-negative finite number")
        if not (0.0 <= self.cond_dropout < 1.0):
            raise ValueError(f"cond_dropout must lie in [0, 1), got {self.cond_dropout}")
        if not (0.0 < self.validation_fraction < 0.5):
            raise ValueError(f"validation_fraction must lie in (0, 0.5), got {self.validation_fraction}")
        if not (0.0 < self.tail_quantile < 0.5):
            raise ValueError(f"tail_quantile must lie in (0, 0.5), got {self.tail_quantile}")
        if self.start_variance not in START_VARIANCE:
            raise ValueError(f"unknown start_variance {self.start_variance!r}; use one of {', '.join(START_VARIANCE)}")

    @classmethod
    def from_dict(cls, data: dict) -> Config:
        data = dict(data)
        for name in ("dilations", "betas"):
            if name in data:
                data[name] = tuple(data[name])
        try:
            return cls(**data)
        except TypeError as error:
            raise ValueError(f"bad wgan_gp config: {error}") from error

    def to_dict(self) -> dict:
        out = asdict(self)
        out["dilations"], out["betas"] = list(self.dilations), list(self.betas)
        return out


# ── networks ───────────────────────────────────────────────────────────────────────────────
class CausalConv1d(nn.Module):
    """A dilated convolution padded on the left only: output t sees inputs ≤ t (Quant GANs, eq. 4.1)."""

    def __init__(self, c_in: int, c_out: int, kernel_size: int, dilation: int) -> None:
        super().__init__()
        self.pad = (kernel_size - 1) * dilation
        self.conv = nn.Conv1d(c_in, c_out, kernel_size, dilation=dilation)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(nn.functional.pad(x, (self.pad, 0)))


class TemporalBlock(nn.Module):
    """Two causal dilated convolutions with PReLU, a residual path and a skip output (Quant GANs, §4.2)."""

    def __init__(self, c_in: int, channels: int, kernel_size: int, dilation: int) -> None:
        super().__init__()
        self.conv1 = CausalConv1d(c_in, channels, kernel_size, dilation)
        self.conv2 = CausalConv1d(channels, channels, kernel_size, dilation)
        self.act1, self.act2 = nn.PReLU(channels), nn.PReLU(channels)
        self.residual = nn.Conv1d(c_in, channels, 1) if c_in != channels else nn.Identity()

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        skip = self.act2(self.conv2(self.act1(self.conv1(x))))
        return skip + self.residual(x), skip


class Generator(nn.Module):
    """noise [B, noise_dim, L] + condition [B, COND_DIM] → scores [B, L, F]."""

    def __init__(self, config: Config, n_factors: int) -> None:
        super().__init__()
        c_in = config.noise_dim + COND_DIM
        self.blocks = nn.ModuleList(
            TemporalBlock(c_in if i == 0 else config.channels, config.channels, config.kernel_size, d)
            for i, d in enumerate(config.dilations))
        self.head = nn.Conv1d(config.channels, n_factors, 1)

    def forward(self, noise: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        x = torch.cat([noise, cond[:, :, None].expand(-1, -1, noise.shape[2])], dim=1)
        skips = 0
        for block in self.blocks:
            x, skip = block(x)
            skips = skips + skip
        return self.head(skips).transpose(1, 2)


class Critic(nn.Module):
    """path [B, L, F] + condition [B, COND_DIM] → a real number per path."""

    def __init__(self, config: Config, n_factors: int) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        c_in = n_factors + COND_DIM
        for _ in range(config.critic_layers):
            layers += [nn.Conv1d(c_in, config.critic_channels, 3, padding=1), nn.LeakyReLU(0.2)]
            c_in = config.critic_channels
        self.features = nn.Sequential(*layers)
        self.out = nn.Linear(config.critic_channels * config.window, 1)

    def forward(self, path: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        x = torch.cat([path.transpose(1, 2), cond[:, :, None].expand(-1, -1, path.shape[1])], dim=1)
        return self.out(self.features(x).flatten(1)).squeeze(1)


# ── losses ─────────────────────────────────────────────────────────────────────────────────
def gradient_penalty(critic: nn.Module, real: torch.Tensor, fake: torch.Tensor, cond: torch.Tensor,
                     weight: float, generator: torch.Generator) -> torch.Tensor:
    """λ E[(‖∇_x̂ D(x̂, c)‖₂ − 1)²], x̂ = εx + (1−ε)x̃, ε ~ U(0,1) per sample (Gulrajani et al. 2017, eq. 3).

    Always in float32 (outside autocast); ε comes from the explicit ``generator``.
    """
    real, fake = real.float(), fake.float()
    eps = torch.rand((real.shape[0],) + (1,) * (real.dim() - 1), generator=generator, device=real.device)
    mixed = (eps * real + (1.0 - eps) * fake).requires_grad_(True)
    with torch.autocast(device_type=real.device.type, enabled=False):
        score = critic(mixed, cond.float())
    (grad,) = torch.autograd.grad(score.sum(), mixed, create_graph=True)
    norm = grad.flatten(1).norm(2, dim=1)
    return weight * ((norm - 1.0) ** 2).mean()


def batch_correlation(x: torch.Tensor) -> torch.Tensor:
    """Cross-factor correlation matrix [F, F] of a batch [B, L, F], pooled over batch and time."""
    flat = x.float().reshape(-1, x.shape[-1])
    centred = flat - flat.mean(dim=0, keepdim=True)
    cov = centred.T @ centred / max(flat.shape[0] - 1, 1)
    std = cov.diagonal().clamp_min(1e-12).sqrt()
    return cov / (std[:, None] * std[None, :])


def correlation_penalty(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """‖Corr(real) − Corr(fake)‖_F (CorrGAN-style moment matching); zero for a single factor."""
    return torch.linalg.matrix_norm(batch_correlation(real) - batch_correlation(fake), ord="fro")


def _acf(x: torch.Tensor, lags: int) -> torch.Tensor:
    """Autocorrelations [lags, F] within windows [N, L, F], pooled over windows (global mean/variance)."""
    centred = x - x.mean(dim=(0, 1), keepdim=True)
    var = centred.pow(2).mean(dim=(0, 1)).clamp_min(1e-12)
    return torch.stack([(centred[:, k:] * centred[:, :-k]).mean(dim=(0, 1)) / var for k in range(1, lags + 1)])


def moment_acf_distance(generated: torch.Tensor, reference: torch.Tensor, lags: int) -> float:
    """The early-stopping criterion: mean/std, correlation and ACF(g), ACF(|g|) distances (module doc)."""
    g, r = generated.float(), reference.float()
    dist = (g.mean(dim=(0, 1)) - r.mean(dim=(0, 1))).abs().mean()
    dist = dist + (g.std(dim=(0, 1)) - r.std(dim=(0, 1))).abs().mean()
    if g.shape[-1] > 1:
        dist = dist + correlation_penalty(r, g) / g.shape[-1]
    dist = dist + (_acf(g, lags) - _acf(r, lags)).abs().mean()
    dist = dist + (_acf(g.abs(), lags) - _acf(r.abs(), lags)).abs().mean()
    return float(dist)


# ── fit ────────────────────────────────────────────────────────────────────────────────────
def fit(train: np.ndarray, factors: Sequence[str], config: Config, kinds: Sequence[str] | None = None,
        progress: Progress | None = None, device: str | torch.device | None = None) -> FittedState:
    """Fit the sandwich, the labels and the conditional WGAN-GP on the training increments [T, F]."""
    if not isinstance(config, Config):
        raise ValueError(f"config must be a wgan.Config, got {type(config).__name__}")
    array = check_train(train, factors, min_rows=max(MIN_ROWS, 5 * config.window))
    if kinds is not None and len(kinds) != len(factors):
        raise ValueError(f"{len(kinds)} kinds but {len(factors)} factors")
    device = pick_device(device)
    n_factors = array.shape[1]

    sandwich, scores = fit_sandwich(array, config.tail_quantile)
    labels, cond_all = fit_labels(array, config.window, kinds)
    score_windows = windows(scores, config.window).astype(np.float32)
    train_idx, val_idx = split_train_validation(score_windows.shape[0], config.validation_fraction)

    data = torch.from_numpy(score_windows[train_idx]).to(device)
    cond_data = torch.from_numpy(cond_all[train_idx]).to(device)
    val_data = torch.from_numpy(score_windows[val_idx]).to(device)
    val_cond = torch.from_numpy(cond_all[val_idx]).to(device)

    generator, critic = Generator(config, n_factors).to(device), Critic(config, n_factors).to(device)
    init_module(generator, config.seed)
    init_module(critic, config.seed + 1)
    opt_g = torch.optim.Adam(generator.parameters(), lr=config.generator_lr, betas=config.betas)
    opt_c = torch.optim.Adam(critic.parameters(), lr=config.critic_lr, betas=config.betas)
    gen = torch.Generator(device=device)
    gen.manual_seed(config.seed)
    eval_gen = torch.Generator(device=device)
    eval_gen.manual_seed(config.seed + 2)
    val_noise = torch.randn((val_data.shape[0], config.noise_dim, config.window), generator=eval_gen, device=device)

    def draw_batch() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        index = torch.randint(0, data.shape[0], (config.batch_size,), generator=gen, device=device)
        keep = torch.rand((config.batch_size, 1), generator=gen, device=device) >= config.cond_dropout
        noise = torch.randn((config.batch_size, config.noise_dim, config.window), generator=gen, device=device)
        return data[index], cond_data[index] * keep, noise

    stopper = EarlyStopping(patience=config.patience)
    curve: list[dict] = []
    critic_loss = generator_loss = torch.zeros((), device=device)
    stopped_at = config.iterations
    for step in range(1, config.iterations + 1):
        generator.train()
        for _ in range(config.n_critic):
            real, cond, noise = draw_batch()
            with torch.no_grad(), autocast(device):
                fake = generator(noise, cond)
            with autocast(device):
                wasserstein = critic(real, cond).float().mean() - critic(fake, cond).float().mean()
            penalty = gradient_penalty(critic, real, fake, cond, config.gp_weight, gen)
            critic_loss = -wasserstein + penalty
            opt_c.zero_grad(set_to_none=True)
            critic_loss.backward()
            opt_c.step()
        for parameter in critic.parameters():
            parameter.requires_grad_(False)
        real, cond, noise = draw_batch()
        with autocast(device):
            fake = generator(noise, cond)
            generator_loss = -critic(fake, cond).float().mean()
        if config.corr_penalty > 0 and n_factors > 1:
            generator_loss = generator_loss + config.corr_penalty * correlation_penalty(real, fake)
        opt_g.zero_grad(set_to_none=True)
        generator_loss.backward()
        opt_g.step()
        for parameter in critic.parameters():
            parameter.requires_grad_(True)

        if step % config.eval_every == 0 or step == config.iterations:
            generator.eval()
            with torch.no_grad(), autocast(device):
                val_fake = generator(val_noise, val_cond)
            val_loss = moment_acf_distance(val_fake, val_data, config.acf_lags)
            point = {"step": step, "critic_loss": float(critic_loss.detach()),
                     "generator_loss": float(generator_loss.detach()),
                     "val_loss": val_loss}
            if not all(math.isfinite(v) for v in point.values()):
                raise ValueError(f"wgan_gp training diverged at step {step}: {point}")
            curve.append(point)
            stop = stopper.update(val_loss, generator)
            report(progress, step / config.iterations, **point)
            if stop:
                stopped_at = step
                break
    stopper.restore(generator)

    arrays = {**sandwich.to_arrays(), **labels.to_arrays(), **module_to_arrays(generator, "generator.")}
    # Score calibration (deep_common.fit_score_calibration) on a seeded unconditioned draw; states saved
    # before it existed have no "calibration.*" arrays and sample as before.
    generator.eval()
    calibration_rng = torch.Generator(device=device)
    calibration_rng.manual_seed(config.seed + 2)
    arrays |= draw_for_calibration(
        lambda rows: sample_scores(generator, config, rows, None, calibration_rng, device), score_windows)
    meta = {"loss_curve": curve, "best_val_loss": stopper.best if math.isfinite(stopper.best) else None,
            "stopped_at": stopped_at, "n_train": int(array.shape[0]),
            "n_train_windows": int(train_idx.size), "n_validation_windows": int(val_idx.size),
            "early_stopping": "moment_acf_distance"}
    return FittedState(engine=ENGINE, config=config.to_dict(), factors=list(factors), arrays=arrays, meta=meta,
                       kinds=list(kinds) if kinds is not None else None)


# ── sample ─────────────────────────────────────────────────────────────────────────────────
def load_generator(state: FittedState, device: torch.device) -> Generator:
    config = Config.from_dict(state.config)
    generator = Generator(config, len(state.factors))
    load_module_arrays(generator, state.arrays, "generator.")
    return generator.to(device).eval()


def sample_scores(generator: Generator, config: Config, n_windows: int, cond: np.ndarray | None,
                  torch_rng: torch.Generator, device: torch.device) -> np.ndarray:
    """Generated windows of Gaussian scores [n_windows, window, F] for one condition vector (None: null)."""
    vector = torch.zeros(COND_DIM, device=device) if cond is None else torch.as_tensor(cond, device=device)
    out = []
    with torch.no_grad():
        for start in range(0, n_windows, _SAMPLE_CHUNK):
            rows = min(_SAMPLE_CHUNK, n_windows - start)
            noise = torch.randn((rows, config.noise_dim, config.window), generator=torch_rng, device=device)
            with autocast(device):
                out.append(generator(noise, vector.float().expand(rows, -1)).float().cpu().numpy())
    return np.concatenate(out).astype(np.float64)


def sample(state: FittedState, n: int, horizon: int, condition: Condition | None, rng: np.random.Generator,
           device: str | torch.device | None = None) -> np.ndarray:
    """Scenarios [n, horizon, F] of increments in the training data's units."""
    if not isinstance(state, FittedState) or state.engine != ENGINE:
        raise ValueError(f"state is not a {ENGINE} state")
    check_sample_args(n, horizon)
    if condition is not None and not isinstance(condition, Condition):
        raise ValueError(f"condition must be a Condition or None, got {type(condition).__name__}")
    if not isinstance(rng, np.random.Generator):
        raise ValueError("rng must be a numpy.random.Generator")
    n, horizon = int(n), int(horizon)
    config = Config.from_dict(state.config)
    device = pick_device(device)
    generator = load_generator(state, device)
    labels = Labels.from_arrays(state.arrays)
    sandwich = Sandwich.from_arrays(state.arrays)
    # The network was trained on window-length labels: targets are rescaled to one window.
    # The network is asked for the class's shape only; the severity's magnitude is applied once, by the
    # GARCH recursion (vol multiplier) and impose_targets (equity move).
    cond = condition_vector(labels, condition, state.factors, state.kinds, config.window, shape_only=True)
    per_path = -(-horizon // config.window)
    torch_rng = torch_generator(rng, device)
    scores = sample_scores(generator, config, n * per_path, cond, torch_rng, device)
    if has_calibration(state.arrays):
        scores = np.clip(calibrate_scores(state.arrays, scores, rng), -SCORE_CLIP, SCORE_CLIP)
    if cond is not None:
        reference = sample_scores(generator, config, min(n * per_path, REFERENCE_WINDOWS), None, torch_rng, device)
        if has_calibration(state.arrays):
            reference = np.clip(calibrate_scores(state.arrays, reference, rng), -SCORE_CLIP, SCORE_CLIP)
        scores = match_reference_scale(scores, reference, SCORE_CLIP)
    scores = scores.reshape(n, per_path * config.window, len(state.factors))[:, :horizon]
    mult = condition.effective_vol_multiplier if condition is not None else 1.0
    paths = scores_to_increments(sandwich, scores, rng, vol_multiplier=mult, start=config.start_variance)
    return impose_targets(paths, condition, state.factors, state.kinds)
