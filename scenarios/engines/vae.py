"""Conditional variational autoencoders over windows of GARCH-EVT Gaussian scores (pure torch).

The network never sees raw returns: ``deep_common.fit_sandwich`` filters every factor with
GJR-GARCH-t and semi-parametric (GPD-tailed) margins and the VAE models the Gaussian scores ``g``
of the residuals over windows of ``window`` days; samples go back through
``deep_common.scores_to_increments`` (fat tails and volatility clustering come from the filter).

Architectures (``Config.architecture``)
---------------------------------------
``beta_vae`` — Higgins et al. (2017), "β-VAE: learning basic visual concepts with a constrained
    variational framework", ICLR. Encoder q(z | x, c) over the whole window — an MLP over the
    flattened ``[window · F]`` scores (``encoder="mlp"``) or two 1-D convolutions over time then a
    linear map (``encoder="conv"``) — to one latent vector z ∈ R^L with prior N(0, I). Decoder
    p(x | z, c): a diagonal Gaussian (mean and log-variance per day and factor) over the window.
    Loss: −E[log p(x | z, c)] + β · KL(q ‖ N(0, I)) (Higgins et al., eq. 4), with a linear
    warm-up of the KL weight over ``kl_warmup_epochs``.
``time_causal`` — a sequential VAE whose encoder is a stack of causal dilated 1-D convolutions
    (left padding only, dilations 1, 2, 4, …; van den Oord et al. 2016, WaveNet; Bai et al. 2018,
    TCN), so the latent z_t of day t depends on days ≤ t only; prior N(0, I) independent per day.
    The decoder is autoregressive: a GRU reads (z_t, c, x_{t−1}) (x_{−1} = 0) and emits a diagonal
    Gaussian for x_t; trained with teacher forcing, sampled step by step.

Conditioning: the condition vector c (``deep_common.condition_vector``, COND_DIM) is concatenated to
the encoder's and the decoder's inputs. During training it is replaced by the null vector (zeros)
with probability ``cond_dropout``, so the null vector samples the unconditional distribution.
``condition_vector`` is evaluated for ``window`` days, the length the labels were fitted on.

Stress sampling from the latent tails (the rule)
------------------------------------------------
Let d be the latent dimension of one window (L for ``beta_vae``, ``window · L`` for
``time_causal``). Under the prior ‖z‖² ~ χ²_d, and z = r·u with radius r = ‖z‖ independent of the
direction u, uniform on the unit sphere. For a severity s with quantile q_s
(``tail_quantiles``: mild 0.5, moderate 0.75, severe 0.95, extreme 0.99) a latent is drawn from
the prior *conditioned on lying in its tail* {‖z‖² ≥ F⁻¹_{χ²_d}(q_s)}:

    V ~ U(q_s, 1),   r = sqrt(F⁻¹_{χ²_d}(V)),   u = ε / ‖ε‖ with ε ~ N(0, I_d),   z = r · u,

which is exact (the truncated-radius law times the uniform direction). The decoder receives this z
together with the severity's condition vector (asked for the class's shape only). The tail latent
chooses *which* patterns (the rare configurations of the latent space); the magnitude is the
severity's volatility multiplier alone, applied once in the GARCH recursion: the decoded tail
windows are standardised per factor to the mean and standard deviation of prior-latent windows decoded with the same
condition vector in the same call (``deep_common.match_reference_scale``). Without that the tail radius inflated the
scores on top of the multiplier (severe gave 2.9× the unconditioned volatility instead of 2×).
A condition without a severity (only a
``vol_multiplier`` or targets) and unconditioned sampling draw z ~ N(0, I); unconditioned sampling
uses the null condition vector. Then, outside the network, the severity's (or the explicit)
``vol_multiplier`` scales the GARCH recursion in ``scores_to_increments`` and explicit targets are
met by ``base.apply_condition`` (targets only: a drift that moves the median cumulative move).

Horizons longer than ``window`` concatenate independently drawn windows of scores (each with its
own latent) before the GARCH recursion runs over the whole horizon, so volatility clustering
carries across the joins. Samples are the decoder mean plus its Gaussian noise
(``decoder_noise=True``); the mean alone would under-disperse the scores and thin the tails.
Generated scores are clipped to ±Φ⁻¹(1 − 10⁻⁶) ≈ ±4.75, the support of the training scores, so an
extreme latent cannot push the GPD tails past the range they were fitted on.

Determinism: weights are initialised with ``init_module``; batches, condition dropout and the
reparameterisation noise come from a ``torch.Generator`` seeded with ``Config.seed``; sampling
noise from ``torch_generator(rng, device)``. On the CPU a seed gives the same weights and samples.

Generated score windows pass through ``deep_common.fit_score_calibration``'s maps (fitted at fit
time on a seeded unconditioned draw, stored as ``calibration.*`` arrays) before the sandwich, so an
under-trained network cannot break the sandwich's tails (states saved without them sample as before).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from scipy import stats
from torch import nn

from scenarios.engines.base import (
    SEVERITIES,
    Condition,
    FittedState,
    check_sample_args,
)
from scenarios.engines.deep_common import (
    COND_DIM,
    SCORE_CLIP,
    Labels,
    Progress,
    Sandwich,
    autocast,
    calibrate_scores,
    condition_vector,
    draw_for_calibration,
    has_calibration,
    impose_targets,
    init_module,
    load_module_arrays,
    match_reference_scale,
    module_to_arrays,
    pick_device,
    prepare,
    scores_to_increments,
    torch_generator,
    train_epochs,
)

ENGINE = "vae"
ARCHITECTURES = ("beta_vae", "time_causal")
ENCODERS = ("mlp", "conv")
LOGVAR_RANGE = (-7.0, 4.0)  # clamp of decoder log-variances: keeps the NLL finite early in training
SAMPLE_CHUNK = 8192  # windows generated per forward pass (fixed: the chunking is part of the RNG stream)
PRIOR_REFERENCE = 4096  # prior windows decoded to fix the scale of severity-conditioned tail windows
# The sandwich's training scores lie within ±Φ⁻¹(1 − 10⁻⁶) (deep_common clips the margin CDF there); generated
# scores are clipped to the same support, so the GPD tails are never extrapolated past what was fitted.
SCORE_LIMIT = float(stats.norm.ppf(1 - 1e-6))


@dataclass(frozen=True)
class Config:
    architecture: str = "beta_vae"
    window: int = 20
    latent_dim: int = 8  # beta_vae: size of z; time_causal: size of z_t per day
    hidden: int = 64
    encoder: str = "mlp"  # beta_vae only: "mlp" or "conv"
    kernel_size: int = 3  # conv / causal-conv kernel
    levels: int = 3  # time_causal: causal conv layers with dilations 1, 2, 4, ...
    beta: float = 1.0
    kl_warmup_epochs: int = 10
    cond_dropout: float = 0.1
    decoder_noise: bool = True
    tail_quantiles: tuple[float, ...] = (0.5, 0.75, 0.95, 0.99)  # mild, moderate, severe, extreme
    epochs: int = 100
    batch_size: int = 256
    learning_rate: float = 1e-3
    weight_decay: float = 0.0
    grad_clip: float = 1.0
    patience: int = 15
    validation_fraction: float = 0.15
    tail_quantile: float = 0.1  # GPD threshold of the sandwich's margins
    seed: int = 0

    def __post_init__(self) -> None:
        if self.architecture not in ARCHITECTURES:
            raise ValueError(f"architecture must be one of {', '.join(ARCHITECTURES)}, got {self.architecture!r}")
        if self.encoder not in ENCODERS:
            raise ValueError(f"encoder must be one of {', '.join(ENCODERS)}, got {self.encoder!r}")
        for name in ("window", "latent_dim", "hidden", "kernel_size", "levels", "epochs", "batch_size", "patience"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if self.window < 2:
            raise ValueError(f"window must be at least 2, got {self.window}")
        if self.kl_warmup_epochs < 0:
            raise ValueError("kl_warmup_epochs must be >= 0")
        if not (np.isfinite(self.beta) and self.beta > 0):
            raise ValueError(f"beta must be positive, got {self.beta!r}")
        if not 0.0 <= self.cond_dropout < 1.0:
            raise ValueError(f"cond_dropout must be in [0, 1), got {self.cond_dropout!r}")
        if not 0.0 < self.validation_fraction < 0.5:
            raise ValueError(f"validation_fraction must be in (0, 0.5), got {self.validation_fraction!r}")
        if not 0.0 < self.tail_quantile < 0.5:
            raise ValueError(f"tail_quantile must be in (0, 0.5), got {self.tail_quantile!r}")
        if not (self.learning_rate > 0 and self.weight_decay >= 0 and self.grad_clip > 0):
            raise ValueError("learning_rate and grad_clip must be positive, weight_decay non-negative")
        q = tuple(float(v) for v in self.tail_quantiles)
        if len(q) != len(SEVERITIES) or not all(0.0 <= v < 1.0 for v in q) or list(q) != sorted(q):
            raise ValueError(f"tail_quantiles needs {len(SEVERITIES)} increasing values in [0, 1), got {q!r}")
        object.__setattr__(self, "tail_quantiles", q)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Config:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown vae config keys: {', '.join(unknown)}")
        values = dict(data)
        if "tail_quantiles" in values:
            values["tail_quantiles"] = tuple(values["tail_quantiles"])
        return cls(**values)


# ── networks ────────────────────────────────────────────────────────────────────────────────
def _clamp_logvar(logvar: torch.Tensor) -> torch.Tensor:
    return logvar.clamp(*LOGVAR_RANGE)


class BetaVAE(nn.Module):
    """One latent vector per window; MLP or convolutional encoder/decoder."""

    def __init__(self, config: Config, n_factors: int) -> None:
        super().__init__()
        w, f, h, latent = config.window, n_factors, config.hidden, config.latent_dim
        self.window, self.n_factors, self.kind = w, f, config.encoder
        self.latent_size = latent
        pad = config.kernel_size // 2
        if self.kind == "mlp":
            self.encoder = nn.Sequential(nn.Linear(w * f + COND_DIM, h), nn.GELU(), nn.Linear(h, h), nn.GELU(),
                                         nn.Linear(h, 2 * latent))
            self.decoder = nn.Sequential(nn.Linear(latent + COND_DIM, h), nn.GELU(), nn.Linear(h, h), nn.GELU(),
                                         nn.Linear(h, 2 * w * f))
        else:
            # 'same' padding for odd kernels; the window length is restored by the final linear map.
            self.encoder_conv = nn.Sequential(nn.Conv1d(f + COND_DIM, h, config.kernel_size, padding=pad), nn.GELU(),
                                              nn.Conv1d(h, h, config.kernel_size, padding=pad), nn.GELU())
            conv_len = w + 2 * (2 * pad - config.kernel_size + 1)
            self.encoder = nn.Linear(h * conv_len, 2 * latent)
            self.decoder_in = nn.Sequential(nn.Linear(latent + COND_DIM, h * w), nn.GELU())
            self.decoder_conv = nn.Sequential(nn.Conv1d(h, h, config.kernel_size, padding=pad), nn.GELU(),
                                              nn.Conv1d(h, 2 * f, config.kernel_size, padding=pad))
            self.decoder_out = nn.Linear(w + 2 * (2 * pad - config.kernel_size + 1), w)
        self.hidden = h

    def encode(self, x: torch.Tensor, cond: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(mean, log-variance) of q(z | x, c), each [B, L]."""
        if self.kind == "mlp":
            out = self.encoder(torch.cat([x.flatten(1), cond], dim=1))
        else:
            c = cond[:, :, None].expand(-1, -1, x.shape[1])
            out = self.encoder(self.encoder_conv(torch.cat([x.transpose(1, 2), c], dim=1)).flatten(1))
        mean, logvar = out.chunk(2, dim=-1)
        return mean, logvar

    def decode(self, z: torch.Tensor, cond: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(mean, log-variance) of p(x | z, c), each [B, W, F]."""
        inp = torch.cat([z, cond], dim=1)
        if self.kind == "mlp":
            out = self.decoder(inp).view(-1, self.window, 2 * self.n_factors)
        else:
            hid = self.decoder_in(inp).view(-1, self.hidden, self.window)
            out = self.decoder_out(self.decoder_conv(hid)).transpose(1, 2)
        mean, logvar = out.chunk(2, dim=-1)
        return mean, _clamp_logvar(logvar)

    def reconstruct(self, x: torch.Tensor, cond: torch.Tensor, z: torch.Tensor):
        return self.decode(z, cond)

    def generate(self, z: torch.Tensor, cond: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        mean, logvar = self.decode(z, cond)
        if generator is not None:
            noise = torch.randn(mean.shape, generator=generator, device=mean.device, dtype=mean.dtype)
            mean = mean + torch.exp(0.5 * logvar) * noise
        return mean.clamp(-SCORE_LIMIT, SCORE_LIMIT)


class CausalConv1d(nn.Conv1d):
    """A dilated convolution padded on the left only: output t sees inputs ≤ t (WaveNet, TCN)."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, dilation: int) -> None:
        super().__init__(in_channels, out_channels, kernel_size, dilation=dilation)
        self.left = (kernel_size - 1) * dilation

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(nn.functional.pad(x, (self.left, 0)))


class TimeCausalVAE(nn.Module):
    """Latent z_t per day from a causal dilated-conv encoder; autoregressive GRU decoder."""

    def __init__(self, config: Config, n_factors: int) -> None:
        super().__init__()
        f, h, latent = n_factors, config.hidden, config.latent_dim
        self.window, self.n_factors, self.latent_dim = config.window, f, latent
        self.latent_size = config.window * latent
        layers: list[nn.Module] = []
        channels = f + COND_DIM
        for level in range(config.levels):
            layers += [CausalConv1d(channels, h, config.kernel_size, dilation=2**level), nn.GELU()]
            channels = h
        self.encoder_conv = nn.Sequential(*layers)
        self.encoder_out = nn.Conv1d(h, 2 * latent, 1)
        self.gru = nn.GRU(latent + COND_DIM + f, h, batch_first=True)
        self.head = nn.Linear(h, 2 * f)

    def encode(self, x: torch.Tensor, cond: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(mean, log-variance) of q(z_t | x_{≤t}, c), each [B, W, L]."""
        c = cond[:, :, None].expand(-1, -1, x.shape[1])
        out = self.encoder_out(self.encoder_conv(torch.cat([x.transpose(1, 2), c], dim=1))).transpose(1, 2)
        mean, logvar = out.chunk(2, dim=-1)
        return mean, logvar

    def reconstruct(self, x: torch.Tensor, cond: torch.Tensor, z: torch.Tensor):
        """Teacher forcing: the GRU reads (z_t, c, x_{t−1}) with x_{−1} = 0."""
        previous = torch.cat([torch.zeros_like(x[:, :1]), x[:, :-1]], dim=1)
        c = cond[:, None, :].expand(-1, x.shape[1], -1)
        out, _ = self.gru(torch.cat([z, c, previous], dim=-1))
        mean, logvar = self.head(out).chunk(2, dim=-1)
        return mean, _clamp_logvar(logvar)

    def generate(self, z: torch.Tensor, cond: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        """Step by step from z [B, W·L] (flattened per-day latents)."""
        z = z.view(z.shape[0], self.window, self.latent_dim)
        previous = torch.zeros(z.shape[0], 1, self.n_factors, device=z.device, dtype=z.dtype)
        c = cond[:, None, :]
        state = None
        steps = []
        for t in range(self.window):
            out, state = self.gru(torch.cat([z[:, t: t + 1], c, previous], dim=-1), state)
            mean, logvar = self.head(out).chunk(2, dim=-1)
            if generator is not None:
                noise = torch.randn(mean.shape, generator=generator, device=mean.device, dtype=mean.dtype)
                mean = mean + torch.exp(0.5 * _clamp_logvar(logvar)) * noise
            previous = mean.clamp(-SCORE_LIMIT, SCORE_LIMIT)
            steps.append(previous)
        return torch.cat(steps, dim=1)


def build_model(config: Config, n_factors: int) -> nn.Module:
    if config.architecture == "beta_vae":
        return BetaVAE(config, n_factors)
    return TimeCausalVAE(config, n_factors)


# ── the latent-tail rule ────────────────────────────────────────────────────────────────────
def tail_latents(n: int, dim: int, severity: str | None, generator: torch.Generator,
                 quantiles: Sequence[float] = Config.tail_quantiles,
                 device: torch.device | str = "cpu") -> torch.Tensor:
    """Latents [n, dim] from N(0, I) conditioned on ‖z‖² ≥ its q_s-quantile (see the module docstring).

    ``severity=None`` draws from the unconditioned prior N(0, I).
    """
    device = torch.device(device)
    eps = torch.randn(n, dim, generator=generator, device=device)
    if severity is None:
        return eps
    if severity not in SEVERITIES:
        raise ValueError(f"unknown severity {severity!r}; use one of {', '.join(SEVERITIES)}")
    q = float(quantiles[SEVERITIES.index(severity)])
    uniform = torch.rand(n, generator=generator, device=device).cpu().double().numpy()
    level = np.clip(q + (1.0 - q) * uniform, 0.0, 1.0 - 1e-12)
    radius = torch.from_numpy(np.sqrt(stats.chi2.ppf(level, dim))).float().to(device)
    direction = eps / eps.norm(dim=1, keepdim=True).clamp_min(1e-12)
    return direction * radius[:, None]


# ── fit ─────────────────────────────────────────────────────────────────────────────────────
def _kl(mean: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    return 0.5 * (mean.pow(2) + logvar.exp() - 1.0 - logvar).flatten(1).sum(dim=1)


def _nll(x: torch.Tensor, mean: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    return 0.5 * ((x - mean).pow(2) * torch.exp(-logvar) + logvar + math.log(2 * math.pi)).flatten(1).sum(dim=1)


def _loss(model: nn.Module, x: torch.Tensor, cond: torch.Tensor, generator: torch.Generator,
          kl_weight: float, device: torch.device) -> torch.Tensor:
    """Negative ELBO per window element (the β-weighted KL of Higgins et al.), averaged over the batch."""
    with autocast(device):
        mean_z, logvar_z = model.encode(x, cond)
    mean_z, logvar_z = mean_z.float(), logvar_z.float().clamp(-12.0, 8.0)
    noise = torch.randn(mean_z.shape, generator=generator, device=mean_z.device)
    z = mean_z + torch.exp(0.5 * logvar_z) * noise
    with autocast(device):
        mean_x, logvar_x = model.reconstruct(x, cond, z)
    loss = _nll(x, mean_x.float(), logvar_x.float()) + kl_weight * _kl(mean_z, logvar_z)
    return loss.mean() / (x.shape[1] * x.shape[2])


def fit(train: np.ndarray, factors: Sequence[str], config: Config, kinds: Sequence[str] | None = None,
        progress: Progress | None = None, device: str | torch.device | None = None) -> FittedState:
    """Fit the sandwich, the condition labels and the conditional VAE on the training increments."""
    if not isinstance(config, Config):
        raise ValueError(f"config must be a vae.Config, got {type(config).__name__}")
    prepared = prepare(train, factors, kinds, window=config.window, tail_quantile=config.tail_quantile,
                       validation_fraction=config.validation_fraction)
    array, sandwich, labels = prepared.array, prepared.sandwich, prepared.labels
    train_idx, val_idx = prepared.train_idx, prepared.val_idx
    dev = pick_device(device)

    model = build_model(config, array.shape[1])
    init_module(model, config.seed)
    model.to(dev)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay)

    def kl_weight(epoch: int) -> float:
        return config.beta * min(1.0, epoch / config.kl_warmup_epochs) if config.kl_warmup_epochs else config.beta

    curve, epoch, stopper = train_epochs(
        model, prepared, config, device=dev, optimizer=optimizer,
        batch_loss=lambda model, x, c, gen, epoch: _loss(model, x, c, gen, kl_weight(epoch), dev),
        validation_loss=lambda model, x_val, c_val, epoch: _validation_loss(model, x_val, c_val, config, dev),
        progress=progress, name="vae")
    model.eval()
    arrays = module_to_arrays(model, "model.") | sandwich.to_arrays() | labels.to_arrays()
    # Score calibration (deep_common.fit_score_calibration) on a seeded unconditioned draw (plain N(0, I)
    # latents), so the latent-tail stress rule still moves scores up the calibrated scale.
    calibration_rng = torch.Generator(device=dev).manual_seed(config.seed + 3)
    arrays |= draw_for_calibration(
        lambda rows: _generate_windows(model, config, rows, None, None, calibration_rng)[0], prepared.windows)
    model.cpu()
    meta = {"loss_curve": curve, "epochs_run": epoch, "best_val_loss": stopper.best,
            "train_windows": len(train_idx), "validation_windows": len(val_idx), "latent_size": model.latent_size}
    return FittedState(engine=ENGINE, config=dataclasses.asdict(config), factors=list(factors), arrays=arrays,
                       meta=meta, kinds=list(kinds) if kinds is not None else None)


def _validation_loss(model: nn.Module, x: torch.Tensor, cond: torch.Tensor, config: Config,
                     device: torch.device) -> float:
    """Full-β negative ELBO on the validation windows with a fixed noise stream (comparable across epochs)."""
    model.eval()
    generator = torch.Generator(device=device).manual_seed(config.seed + 2)
    total = 0.0
    with torch.no_grad():
        for start in range(0, x.shape[0], 4 * config.batch_size):
            xb, cb = x[start: start + 4 * config.batch_size], cond[start: start + 4 * config.batch_size]
            total += float(_loss(model, xb, cb, generator, config.beta, device)) * xb.shape[0]
    return total / x.shape[0]


# ── sample ──────────────────────────────────────────────────────────────────────────────────
def load_model(state: FittedState, device: str | torch.device | None = None) -> tuple[nn.Module, Config]:
    """The trained network of a state (eval mode, on ``device``) and its config."""
    if state.engine != ENGINE:
        raise ValueError(f"state is for engine {state.engine!r}, not {ENGINE!r}")
    config = Config.from_dict(state.config)
    model = build_model(config, len(state.factors))
    load_module_arrays(model, state.arrays, "model.")
    return model.to(pick_device(device)).eval(), config


def sample_detail(state: FittedState, n: int, horizon: int, condition: Condition | None, rng: np.random.Generator,
                  device: str | torch.device | None = None) -> dict[str, np.ndarray]:
    """``sample`` with its workings: paths [n, horizon, F], scores [n, horizon, F], latent_norms [n, windows]."""
    check_sample_args(n, horizon)
    model, config = load_model(state, device)
    dev = next(model.parameters()).device
    labels = Labels.from_arrays(state.arrays)
    sandwich = Sandwich.from_arrays(state.arrays)
    vector = condition_vector(labels, condition, state.factors, state.kinds, config.window, shape_only=True)
    severity = condition.severity if condition is not None else None
    per_path = -(-horizon // config.window)
    total = n * per_path
    generator = torch_generator(rng, dev)
    windows_, norms = _generate_windows(model, config, total, vector, severity, generator)
    if has_calibration(state.arrays):  # states saved before the calibration existed have none
        windows_ = np.clip(calibrate_scores(state.arrays, windows_, rng), -SCORE_CLIP, SCORE_CLIP)
    if severity is not None:
        reference, _ = _generate_windows(model, config, min(total, PRIOR_REFERENCE), vector, None, generator)
        if has_calibration(state.arrays):
            reference = np.clip(calibrate_scores(state.arrays, reference, rng), -SCORE_CLIP, SCORE_CLIP)
        windows_ = match_reference_scale(windows_, reference, SCORE_CLIP)
    n_factors = len(state.factors)
    scores = windows_.reshape(n, per_path * config.window, n_factors)[:, :horizon]
    multiplier = condition.effective_vol_multiplier if condition is not None else 1.0
    paths = scores_to_increments(sandwich, scores, rng, vol_multiplier=multiplier)
    paths = impose_targets(paths, condition, state.factors, state.kinds)  # severity move / targets, once
    return {"paths": paths, "scores": scores, "latent_norms": norms.reshape(n, per_path)}


def _generate_windows(model: nn.Module, config: Config, total: int, vector: np.ndarray | None,
                      severity: str | None, generator: torch.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``total`` decoded score windows [total, W, F] and their latents' norms [total]."""
    dev = next(model.parameters()).device
    cond = torch.zeros(1, COND_DIM, device=dev) if vector is None else torch.from_numpy(vector)[None].to(dev)
    chunks, norms = [], []
    with torch.no_grad():
        for start in range(0, total, SAMPLE_CHUNK):
            size = min(SAMPLE_CHUNK, total - start)
            z = tail_latents(size, model.latent_size, severity, generator, config.tail_quantiles, dev)
            norms.append(z.norm(dim=1).cpu().numpy())
            with autocast(dev):
                out = model.generate(z, cond.expand(size, -1), generator if config.decoder_noise else None)
            chunks.append(out.float().cpu().numpy())
    return np.concatenate(chunks).astype(np.float64), np.concatenate(norms)


def sample(state: FittedState, n: int, horizon: int, condition: Condition | None, rng: np.random.Generator,
           device: str | torch.device | None = None) -> np.ndarray:
    """``n`` scenario paths of increments [n, horizon, F] (see the module docstring for the stress rule)."""
    return sample_detail(state, n, horizon, condition, rng, device)["paths"]
