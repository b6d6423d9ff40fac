"""Conditional denoising-diffusion engine for multi-factor paths, inside the GARCH-EVT sandwich.

Pipeline (``fit``): the training increments go through ``deep_common.fit_sandwich`` (GJR-GARCH-t
filter + semi-parametric EVT margins) to Gaussian scores ``g`` [T, F]; overlapping windows of ``g``
(length ``window``) are the data of a DDPM (Ho, Jain & Abbeel 2020, "Denoising Diffusion
Probabilistic Models", ε-prediction loss, Eq. 14) whose denoiser is a stack of dilated temporal
convolutions with a sinusoidal time-step embedding and a condition embedding; conditioning uses
classifier-free guidance (Ho & Salimans 2022, "Classifier-Free Diffusion Guidance"): the condition
vector (``deep_common.fit_labels``) is replaced by zeros plus a "null" flag with probability
``cond_dropout`` in training. ``sample`` draws windows of ``g`` with DDIM (Song, Meng & Ermon 2021,
"Denoising Diffusion Implicit Models", Eq. 12) or ancestral DDPM (Ho et al. Eq. 11), concatenates
ceil(horizon / window) of them per scenario and maps them back to increments with
``scores_to_increments`` (the GARCH recursion runs over the whole horizon, so volatility carries
across window boundaries).

Guidance convention: ε̃ = ε(x, ∅) + s · (ε(x, c) − ε(x, ∅)), the diffusers convention; ``s`` is
``1 + w`` in Ho & Salimans' notation. ``s = 0`` *is* the unconditional model (the conditional pass is
skipped), ``s = 1`` the plain conditional model, ``s > 1`` sharpens the condition.

Conditioning of a scenario request, each magnitude applied once: the severity's stress-score class
becomes the guidance vector (``condition_vector``: the shape of stressed windows learned from the
training data); ``vol_multiplier = condition.effective_vol_multiplier`` scales ω and the starting
variance by m² in ``scores_to_increments``; the severity's documented equity move or explicit
``targets`` are imposed as a drift (``deep_common.impose_targets``: the median cumulative move hits
the target) with no further vol scaling.

Noise schedules (``Config.schedule``):

* ``linear`` — β linear from 1e-4 to 0.02 (Ho et al. 2020, §4);
* ``cosine`` — ᾱ(t) = f(t)/f(0), f(t) = cos²((t/T + s)/(1 + s) · π/2), s = 0.008, β ≤ 0.999
  (Nichol & Dhariwal 2021, "Improved DDPM", Eq. 17);
* ``vol_scaled`` — the volatility-scaled schedule of "seed 001": the noise added to factor f is
  multiplied by its empirical volatility σ_f, x_t = √ᾱ_t x_0 + √(1 − ᾱ_t) σ_f ε (linear ᾱ). That is the
  same as diffusing x/σ_f with the base schedule and scaling back, which is how it is implemented (the
  step functions stay the textbook ones). **After the sandwich** every factor's scores are already
  GARCH-filtered and mapped to N(0, 1) margins, so σ_f ≈ 1 and the schedule is (nearly) the linear
  one: the volatility differences between factors live in the GARCH filter, not in the network's
  input. σ_f (the training scores' standard deviations) is stored with the weights.

Everything is pure torch over tensors; randomness only from explicit ``torch.Generator`` objects,
mixed precision through ``deep_common.autocast`` (CUDA only; full precision and deterministic on the
CPU); progress through the callback passed to ``fit`` (it may raise to cancel training).

Generated score windows pass through ``deep_common.fit_score_calibration``'s maps (fitted at fit
time on a seeded unconditioned draw, stored as ``calibration.*`` arrays) before the sandwich, so an
under-trained network cannot break the sandwich's tails (states saved without them sample as before).
DDIM sampling computes the step's embedding and FiLM parameters once per step and, with η = 0,
denoises cache-sized sub-batches through all the steps (``ddim_sample``); format 2 states carry the
calibration, format 1 states still load.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, fields

import numpy as np
import torch
import torch.nn.functional as F
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
    module_to_arrays,
    pick_device,
    report,
    scores_to_increments,
    split_train_validation,
    torch_generator,
    windows,
)

ENGINE = "diffusion"
# 1: no score calibration; 2: deep_common's score calibration ("calibration.*" arrays). Both load.
ENGINE_FORMAT = 2
SUPPORTED_FORMATS = (1, 2)
SCHEDULES = ("linear", "cosine", "vol_scaled")
SAMPLERS = ("ddim", "ddpm")
SAMPLE_CHUNK = 4096  # windows denoised per forward pass: bounds memory, keeps the matmuls large


@dataclass(frozen=True)
class Config:
    """Hyper-parameters, saved with the weights (``asdict``) and rebuilt with ``from_dict``.

    Defaults are sized so the S&P 500 / NASDAQ / WTI panel (~4,000 training days) trains in a few
    minutes on two CPU cores; ``channels`` = 128 keeps the denoiser's matmuls large enough to run
    near the machine's matmul peak. ``clip_x0`` clamps the sampler's x̂₀ in score units (0: off): the
    sandwich's scores are N(0, 1) with |g| ≤ Φ⁻¹(1 − 10⁻⁶) ≈ 4.75, so x̂₀ beyond ±5 is an error of the
    network (large at high noise levels, where x̂₀ divides by √ᾱ_t ≈ 0) and would otherwise blow up
    the GARCH recursion downstream. Dilations cycle through ``dilations``; (1, 3, 9) with kernel 3
    gives a receptive field of 27 days ≥ ``window``.
    """

    window: int = 20
    channels: int = 128
    blocks: int = 3
    dilations: tuple[int, ...] = (1, 3, 9)
    time_dim: int = 128
    schedule: str = "linear"
    timesteps: int = 1000
    epochs: int = 60
    batch_size: int = 256
    lr: float = 1e-3
    patience: int = 10
    cond_dropout: float = 0.1
    guidance_scale: float = 2.0
    clip_x0: float = 5.0
    sampler: str = "ddim"
    ddim_steps: int = 50
    eta: float = 0.0
    validation_fraction: float = 0.15
    seed: int = 0
    # GJR filter of the sandwich refitted under a finite-fourth-moment bound (garch_evt.fit_gjr_garch); None: free
    max_fourth_moment_factor: float | None = None

    def __post_init__(self) -> None:
        bound = self.max_fourth_moment_factor
        if bound is not None and not (isinstance(bound, int | float) and 0.0 < bound < 1.0):
            raise ValueError(f"max_fourth_moment_factor must lie in (0, 1) or be null, got {bound!r}")
        positive = {"window": self.window, "channels": self.channels, "blocks": self.blocks,
                    "time_dim": self.time_dim, "timesteps": self.timesteps, "epochs": self.epochs,
                    "batch_size": self.batch_size, "patience": self.patience, "ddim_steps": self.ddim_steps}
        for name, value in positive.items():
            if not isinstance(value, int | np.integer) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if self.time_dim % 2:
            raise ValueError(f"time_dim must be even, got {self.time_dim}")
        if not self.dilations or any(not isinstance(d, int | np.integer) or d < 1 for d in self.dilations):
            raise ValueError(f"dilations must be positive integers, got {self.dilations!r}")
        if self.schedule not in SCHEDULES:
            raise ValueError(f"schedule must be one of {', '.join(SCHEDULES)}, got {self.schedule!r}")
        if self.sampler not in SAMPLERS:
            raise ValueError(f"sampler must be one of {', '.join(SAMPLERS)}, got {self.sampler!r}")
        if self.ddim_steps > self.timesteps:
            raise ValueError(f"ddim_steps ({self.ddim_steps}) cannot exceed timesteps ({self.timesteps})")
        if not (math.isfinite(self.lr) and self.lr > 0):
            raise ValueError(f"lr must be a positive finite number, got {self.lr!r}")
        if not 0.0 <= self.cond_dropout <= 1.0:
            raise ValueError(f"cond_dropout must lie in [0, 1], got {self.cond_dropout!r}")
        if not (math.isfinite(self.guidance_scale) and self.guidance_scale >= 0):
            raise ValueError(f"guidance_scale must be a finite number >= 0, got {self.guidance_scale!r}")
        if not (math.isfinite(self.clip_x0) and self.clip_x0 >= 0):
            raise ValueError(f"clip_x0 must be a finite number >= 0 (0: no clipping), got {self.clip_x0!r}")
        if not 0.0 <= self.eta <= 1.0:
            raise ValueError(f"eta must lie in [0, 1], got {self.eta!r}")
        if not 0.0 < self.validation_fraction < 1.0:
            raise ValueError(f"validation_fraction must lie in (0, 1), got {self.validation_fraction!r}")

    def to_dict(self) -> dict:
        data = asdict(self)
        data["dilations"] = list(self.dilations)
        return data

    @classmethod
    def from_dict(cls, data: Mapping | None) -> Config:
        data = dict(data or {})
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown diffusion config keys {sorted(unknown)}")
        if "dilations" in data:
            data["dilations"] = tuple(int(d) for d in data["dilations"])
        return cls(**data)


# ── noise schedules ─────────────────────────────────────────────────────────────────────────
@dataclass(frozen=True)
class Schedule:
    """β_t, ᾱ_t (float32 tensors, t = 0..T-1) and the per-factor noise multiplier σ_f ([F])."""

    betas: torch.Tensor
    alphas_cumprod: torch.Tensor
    noise_scale: torch.Tensor

    @property
    def timesteps(self) -> int:
        return int(self.betas.shape[0])

    def to(self, device: torch.device) -> Schedule:
        return Schedule(self.betas.to(device), self.alphas_cumprod.to(device), self.noise_scale.to(device))


def make_schedule(kind: str, timesteps: int, noise_scale: np.ndarray | torch.Tensor | None = None,
                  n_factors: int | None = None) -> Schedule:
    """The β schedule of ``kind`` (see the module docstring); ``noise_scale`` only for ``vol_scaled``."""
    if kind not in SCHEDULES:
        raise ValueError(f"schedule must be one of {', '.join(SCHEDULES)}, got {kind!r}")
    if kind == "cosine":
        s = 0.008
        steps = torch.arange(timesteps + 1, dtype=torch.float64) / timesteps
        f = torch.cos((steps + s) / (1 + s) * math.pi / 2) ** 2
        betas = torch.clamp(1 - f[1:] / f[:-1], max=0.999).float()
    else:
        # Ho et al. (2020) §4: linear from 1e-4 to 0.02 at T = 1000 (rescaled for other T as in iDDPM).
        scale = 1000.0 / timesteps
        betas = torch.linspace(scale * 1e-4, scale * 0.02, timesteps, dtype=torch.float32)
    alphas_cumprod = torch.cumprod(1.0 - betas, dim=0)
    if kind == "vol_scaled":
        if noise_scale is None:
            raise ValueError("the vol_scaled schedule needs each factor's volatility (noise_scale)")
        sigma = torch.as_tensor(np.asarray(noise_scale, dtype=np.float32))
        if sigma.ndim != 1 or not torch.all(torch.isfinite(sigma) & (sigma > 0)):
            raise ValueError("noise_scale must be a 1-D array of positive finite volatilities")
    else:
        sigma = torch.ones(n_factors if n_factors is not None else
                           (len(noise_scale) if noise_scale is not None else 1), dtype=torch.float32)
    return Schedule(betas=betas, alphas_cumprod=alphas_cumprod, noise_scale=sigma)


# ── the denoiser ────────────────────────────────────────────────────────────────────────────
def timestep_embedding(t: torch.Tensor, dim: int) -> torch.Tensor:
    """Sinusoidal embedding of integer time steps (Vaswani et al. 2017; as in Ho et al. 2020)."""
    half = dim // 2
    freqs = torch.exp(-math.log(10000.0) * torch.arange(half, device=t.device, dtype=torch.float32) / half)
    args = t.float()[:, None] * freqs[None, :]
    return torch.cat([torch.sin(args), torch.cos(args)], dim=-1)


class TemporalConv(nn.Module):
    """Dilated 1-D convolution over time, channels-last ``[B, L, C]``, "same" zero padding.

    Mathematically Conv1d(C, C, k, dilation=d, padding=d·(k−1)/2). Computed as one GEMM
    [B·L, C] @ [C, k·C] giving every tap's contribution at once, then k shifted adds: no padded
    or concatenated copies of the input, and one wide matmul on every device (1.7x faster on the
    CPU than the im2col form [B·L, k·C] @ [k·C, C]). ``forward(x, add_bias=False)`` leaves the bias
    out (the residual block folds it into its FiLM shift, one pass over the activations fewer).
    """

    def __init__(self, channels: int, dilation: int, kernel: int = 3) -> None:
        super().__init__()
        if kernel % 2 == 0:
            raise ValueError("kernel must be odd")
        self.channels, self.dilation, self.kernel = channels, dilation, kernel
        self.linear = nn.Linear(channels, kernel * channels, bias=False)
        self.bias = nn.Parameter(torch.zeros(channels))

    def forward(self, x: torch.Tensor, add_bias: bool = True) -> torch.Tensor:
        length = x.shape[1]
        taps = self.linear(x).split(self.channels, dim=-1)
        centre = self.kernel // 2
        # The centre tap (a view of the GEMM's output) accumulates the others in place.
        out = taps[centre] + self.bias if add_bias else taps[centre]
        if not add_bias and torch.is_grad_enabled():
            out = out.clone()  # autograd: never write into a view of a tensor it saved
        for i, tap in enumerate(taps):
            offset = (i - centre) * self.dilation  # out[t] += tap[t + offset]
            if i == centre or abs(offset) >= length:
                continue
            if offset < 0:
                out[:, -offset:] += tap[:, :length + offset]
            else:
                out[:, :length - offset] += tap[:, offset:]
        return out


class ResidualBlock(nn.Module):
    """x + W₂ SiLU(FiLM(conv_d(SiLU(LN(x))), emb)): a pre-norm residual block with FiLM conditioning.

    ``film_params(emb)`` gives (1 + scale, shift + b_conv·(1 + scale)) per window — computed once per
    sampling step for all windows (their embedding is shared) — so the conv bias and the FiLM cost
    one fused ``addcmul`` over the activations; without gradients the SiLUs and the residual GEMM
    (``addmm_`` into x) work in place. Same function as the textbook form, fewer memory passes:
    on a CPU the element-wise passes over [B·L, C], not the matmuls, were half of the sampling time.
    """

    def __init__(self, channels: int, emb_dim: int, dilation: int) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(channels)
        self.conv = TemporalConv(channels, dilation)
        self.film = nn.Linear(emb_dim, 2 * channels)
        self.mix = nn.Linear(channels, channels)

    def film_params(self, emb: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        scale, shift = self.film(emb).unsqueeze(1).chunk(2, dim=-1)
        gain = 1 + scale
        return gain, torch.addcmul(shift, self.conv.bias, gain)

    def forward(self, x: torch.Tensor, emb: torch.Tensor | None = None,
                film: tuple[torch.Tensor, torch.Tensor] | None = None) -> torch.Tensor:
        gain, shift = film if film is not None else self.film_params(emb)
        inplace = not torch.is_grad_enabled()
        h = self.conv(F.silu(self.norm(x), inplace=inplace), add_bias=False)
        h = F.silu(torch.addcmul(shift, h, gain), inplace=inplace)
        if not inplace:
            return x + self.mix(h)
        out = x.add(self.mix.bias)  # a fresh tensor: the caller's x is never modified
        out.view(-1, out.shape[-1]).addmm_(h.reshape(-1, h.shape[-1]), self.mix.weight.t())
        return out


class Denoiser(nn.Module):
    """ε_θ(x_t, t, c): x_t ``[B, L, F]`` → predicted noise ``[B, L, F]``.

    ``cond`` [B, COND_DIM] and ``null`` [B] (1 = unconditioned: the vector is zeroed and a flag set,
    the classifier-free-guidance "null" token). ``forward`` = ``trunk(x, films(embedding(t, cond,
    null)))``; the samplers call the parts, computing the embedding once per step for the distinct
    (t, condition) rows instead of once per window.
    """

    def __init__(self, n_factors: int, channels: int, blocks: int, dilations: Sequence[int], time_dim: int) -> None:
        super().__init__()
        self.time_dim = time_dim
        self.inp = nn.Linear(n_factors, channels)
        self.time_mlp = nn.Sequential(nn.Linear(time_dim, time_dim), nn.SiLU(), nn.Linear(time_dim, time_dim))
        self.cond_mlp = nn.Sequential(nn.Linear(COND_DIM + 1, time_dim), nn.SiLU(), nn.Linear(time_dim, time_dim))
        self.blocks = nn.ModuleList(ResidualBlock(channels, time_dim, dilations[i % len(dilations)])
                                    for i in range(blocks))
        # No normalisation on the way out: the residual stream carries the *magnitude* of x_t, which a
        # per-position LayerNorm over so few input factors would erase (ε ≈ x_t at large t).
        self.out = nn.Linear(channels, n_factors)

    def embedding(self, t: torch.Tensor, cond: torch.Tensor | None = None, null: torch.Tensor | None = None,
                  dtype: torch.dtype = torch.float32) -> torch.Tensor:
        batch = t.shape[0]
        if cond is None:
            cond = torch.zeros(batch, COND_DIM, device=t.device, dtype=dtype)
            null = torch.ones(batch, device=t.device, dtype=dtype)
        elif null is None:
            null = torch.zeros(batch, device=t.device, dtype=dtype)
        null = null.to(dtype).reshape(batch, 1)
        cond_in = torch.cat([cond.to(dtype) * (1 - null), null], dim=-1)
        return F.silu(self.time_mlp(timestep_embedding(t, self.time_dim)) + self.cond_mlp(cond_in))

    def films(self, emb: torch.Tensor) -> list[tuple[torch.Tensor, torch.Tensor]]:
        return [block.film_params(emb) for block in self.blocks]

    def trunk(self, x: torch.Tensor, films: Sequence[tuple[torch.Tensor, torch.Tensor]]) -> torch.Tensor:
        h = self.inp(x)
        for block, film in zip(self.blocks, films, strict=True):
            h = block(h, film=film)
        return self.out(h)

    def forward(self, x: torch.Tensor, t: torch.Tensor, cond: torch.Tensor | None = None,
                null: torch.Tensor | None = None) -> torch.Tensor:
        return self.trunk(x, self.films(self.embedding(t, cond, null, dtype=x.dtype)))


def build_denoiser(config: Config, n_factors: int) -> Denoiser:
    return Denoiser(n_factors, config.channels, config.blocks, config.dilations, config.time_dim)


# ── samplers: pure functions over tensors ───────────────────────────────────────────────────
def _as_scalar(value) -> float:
    return float(value.item()) if isinstance(value, torch.Tensor) else float(value)


def _predict_x0(x_t: torch.Tensor, eps: torch.Tensor, a_t: float, clip_x0: float | None) -> torch.Tensor:
    """x̂₀ = (x_t − √(1−ᾱ_t) ε) / √ᾱ_t (Ho et al. Eq. 15), optionally clamped to ±clip_x0 ("static
    thresholding", Saharia et al. 2022; diffusers' ``clip_sample``)."""
    x0 = (x_t - math.sqrt(1.0 - a_t) * eps) / math.sqrt(a_t)
    return x0.clamp(-clip_x0, clip_x0) if clip_x0 is not None else x0


def ddim_step(x_t: torch.Tensor, eps: torch.Tensor, alpha_bar_t, alpha_bar_prev, eta: float,
              generator: torch.Generator | None, *, clip_x0: float | None = None) -> torch.Tensor:
    """One DDIM update (Song, Meng & Ermon 2021, Eq. 12):

    x̂₀ = (x_t − √(1−ᾱ_t) ε) / √ᾱ_t,  σ = η √((1−ᾱ_{t−1})/(1−ᾱ_t)) √(1 − ᾱ_t/ᾱ_{t−1}),
    x_{t−1} = √ᾱ_{t−1} x̂₀ + √(1 − ᾱ_{t−1} − σ²) ε + σ z,  z ~ N(0, I) from ``generator`` (only when σ > 0).
    ``clip_x0`` clamps x̂₀ (the direction term keeps the model's ε, as diffusers does by default).
    """
    a_t, a_prev = _as_scalar(alpha_bar_t), _as_scalar(alpha_bar_prev)
    x0 = _predict_x0(x_t, eps, a_t, clip_x0)
    sigma = eta * math.sqrt((1.0 - a_prev) / (1.0 - a_t)) * math.sqrt(max(1.0 - a_t / a_prev, 0.0))
    out = math.sqrt(a_prev) * x0 + math.sqrt(max(1.0 - a_prev - sigma**2, 0.0)) * eps
    if sigma > 0:
        out = out + sigma * torch.randn(x_t.shape, generator=generator, device=x_t.device, dtype=x_t.dtype)
    return out


def ddpm_step(x_t: torch.Tensor, eps: torch.Tensor, alpha_bar_t, alpha_bar_prev,
              generator: torch.Generator | None, *, clip_x0: float | None = None) -> torch.Tensor:
    """One ancestral DDPM update (Ho et al. 2020, Eq. 11, Algorithm 2) with σ_t² = β̃_t:

    α_t = ᾱ_t/ᾱ_{t−1}, β_t = 1 − α_t,  x_{t−1} = (x_t − β_t/√(1−ᾱ_t) ε)/√α_t + σ_t z,
    β̃_t = (1−ᾱ_{t−1})/(1−ᾱ_t) β_t (the true posterior variance; 0 on the last step, ᾱ_{−1} = 1).
    Computed in the equivalent posterior form μ̃ = √ᾱ_{t−1} β_t/(1−ᾱ_t) x̂₀ + √α_t (1−ᾱ_{t−1})/(1−ᾱ_t) x_t
    (Eq. 7), so that ``clip_x0`` can clamp x̂₀ (identical to Eq. 11 without clipping).
    """
    a_t, a_prev = _as_scalar(alpha_bar_t), _as_scalar(alpha_bar_prev)
    alpha = a_t / a_prev
    beta = 1.0 - alpha
    x0 = _predict_x0(x_t, eps, a_t, clip_x0)
    mean = (math.sqrt(a_prev) * beta / (1.0 - a_t)) * x0 + (math.sqrt(alpha) * (1.0 - a_prev) / (1.0 - a_t)) * x_t
    variance = (1.0 - a_prev) / (1.0 - a_t) * beta
    if variance > 0:
        mean = mean + math.sqrt(variance) * torch.randn(x_t.shape, generator=generator, device=x_t.device,
                                                        dtype=x_t.dtype)
    return mean


def ddim_timesteps(timesteps: int, steps: int) -> list[int]:
    """Evenly spaced ("leading") sub-sequence, descending: [(steps−1)·k, …, k, 0] with k = T // steps."""
    if not 1 <= steps <= timesteps:
        raise ValueError(f"steps must lie in [1, {timesteps}], got {steps}")
    ratio = timesteps // steps
    return [i * ratio for i in range(steps)][::-1]


def guided_eps(model: nn.Module, x: torch.Tensor, t: int, cond: torch.Tensor | None, guidance: float) -> torch.Tensor:
    """Classifier-free guidance: ε(x, ∅) + s (ε(x, c) − ε(x, ∅)); s = 0 or no condition → ε(x, ∅) exactly."""
    batch = x.shape[0]
    t_vec = torch.full((batch,), t, device=x.device, dtype=torch.long)
    if cond is None or guidance == 0.0:
        return model(x, t_vec).float()
    cond = cond.to(x.device, x.dtype)
    if cond.ndim == 1:
        cond = cond.expand(batch, -1)
    if guidance == 1.0:
        return model(x, t_vec, cond).float()
    # One forward over [conditional; unconditional] keeps the matmuls twice as large.
    null = torch.cat([x.new_zeros(batch), x.new_ones(batch)])
    both = model(torch.cat([x, x]), torch.cat([t_vec, t_vec]), torch.cat([cond, torch.zeros_like(cond)]), null).float()
    eps_c, eps_u = both[:batch], both[batch:]
    return eps_u + guidance * (eps_c - eps_u)


def _step_films(model: Denoiser, t: int, cond: torch.Tensor | None, guidance: float, device: torch.device):
    """The FiLM parameters of one sampling step, computed once for the distinct condition rows:
    (unconditional, conditional or None). The embedding depends on (t, c) only, so one row serves all
    windows when the condition is one vector (a per-window condition gets one row per window)."""
    t_one = torch.full((1,), t, device=device, dtype=torch.long)
    uncond = model.films(model.embedding(t_one)) if cond is None or guidance != 1.0 else None
    if cond is None or guidance == 0.0:
        return uncond, None
    rows = cond.reshape(-1, cond.shape[-1])
    conditional = model.films(model.embedding(t_one.expand(rows.shape[0]), rows.to(device)))
    return uncond, conditional


def _fast_eps(model: Denoiser, x: torch.Tensor, films, guidance: float) -> torch.Tensor:
    """ε̃ from one step's precomputed FiLM parameters (``_step_films``): the value ``guided_eps`` gives."""
    uncond, conditional = films
    if conditional is None:
        return model.trunk(x, uncond).float()
    eps_c = model.trunk(x, conditional).float()
    if uncond is None:
        return eps_c
    eps_u = model.trunk(x, uncond).float()
    return eps_u.add_(eps_c.sub_(eps_u), alpha=guidance)


def _start(shape: Sequence[int], schedule: Schedule, generator: torch.Generator | None,
           device: torch.device) -> torch.Tensor:
    return torch.randn(tuple(shape), generator=generator, device=device, dtype=torch.float32)


SUB_BATCH_ROWS = 8192  # rows (windows × days) per deterministic DDIM pass: the activations stay in cache


@torch.inference_mode()
def ddim_sample(model: nn.Module, shape: Sequence[int], cond: torch.Tensor | None, schedule: Schedule, steps: int,
                eta: float, guidance: float, generator: torch.Generator | None, *,
                clip_x0: float | None = None) -> torch.Tensor:
    """DDIM from pure noise to x₀ ``shape`` = [B, L, F] (in data units: × σ_f for ``vol_scaled``).

    The model sees the standardised variable y = x/σ_f (see the module docstring); ``generator``
    (on the model's device) supplies the starting noise and, with η > 0, each step's noise;
    ``clip_x0`` clamps each step's x̂₀ (standardised units).

    Speed (same values): the step's embedding and FiLM parameters are computed once per step, not once
    per window; with η = 0 nothing random happens after the starting noise, so the windows are
    denoised in sub-batches of ``SUB_BATCH_ROWS`` rows through all the steps — on a CPU the
    activations then stay in cache and the element-wise passes stop being memory-bound.
    """
    device = schedule.alphas_cumprod.device
    abar = schedule.alphas_cumprod.double().cpu().numpy()
    seq = ddim_timesteps(schedule.timesteps, steps)
    x = _start(shape, schedule, generator, device)
    cond_t = cond.to(device, x.dtype) if cond is not None else None
    fast = isinstance(model, Denoiser) and (cond_t is None or cond_t.ndim == 1)
    sub = max(1, SUB_BATCH_ROWS // max(1, x.shape[1])) if eta == 0.0 and fast else x.shape[0]
    films = [_step_films(model, t, cond_t, guidance, device) for t in seq] if fast else None
    with autocast(device):
        parts = []
        for start in range(0, x.shape[0], sub):
            xs = x[start: start + sub]
            for i, t in enumerate(seq):
                prev = abar[seq[i + 1]] if i + 1 < len(seq) else 1.0
                eps = _fast_eps(model, xs, films[i], guidance) if fast else guided_eps(model, xs, t, cond_t, guidance)
                xs = ddim_step(xs, eps, abar[t], prev, eta, generator, clip_x0=clip_x0)
            parts.append(xs)
        x = torch.cat(parts) if len(parts) > 1 else parts[0]
    return x * schedule.noise_scale.to(x.dtype)


@torch.inference_mode()
def ddpm_sample(model: nn.Module, shape: Sequence[int], cond: torch.Tensor | None, schedule: Schedule,
                guidance: float, generator: torch.Generator | None, *, clip_x0: float | None = None) -> torch.Tensor:
    """Full ancestral DDPM sampling (Ho et al. 2020, Algorithm 2): all T steps, t = T−1 … 0."""
    device = schedule.alphas_cumprod.device
    abar = schedule.alphas_cumprod.double().cpu().numpy()
    x = _start(shape, schedule, generator, device)
    with autocast(device):
        for t in range(schedule.timesteps - 1, -1, -1):
            prev = abar[t - 1] if t > 0 else 1.0
            eps = guided_eps(model, x, t, cond, guidance)
            x = ddpm_step(x, eps, abar[t], prev, generator, clip_x0=clip_x0)
    return x * schedule.noise_scale.to(x.dtype)


# ── training ────────────────────────────────────────────────────────────────────────────────
def q_sample(y0: torch.Tensor, t: torch.Tensor, eps: torch.Tensor, alphas_cumprod: torch.Tensor) -> torch.Tensor:
    """Forward process q(y_t | y_0) = N(√ᾱ_t y_0, (1 − ᾱ_t) I) (Ho et al. Eq. 4)."""
    a = alphas_cumprod[t].reshape(-1, *([1] * (y0.ndim - 1)))
    return a.sqrt() * y0 + (1 - a).sqrt() * eps


def _loss(model: nn.Module, y0: torch.Tensor, cond: torch.Tensor | None, null: torch.Tensor | None,
          t: torch.Tensor, eps: torch.Tensor, schedule: Schedule) -> torch.Tensor:
    y_t = q_sample(y0, t, eps, schedule.alphas_cumprod)
    return F.mse_loss(model(y_t, t, cond, null).float(), eps)


def train_denoiser(data: np.ndarray, cond: np.ndarray | None, config: Config, *, progress: Progress | None = None,
                   device: str | torch.device | None = None, noise_scale: np.ndarray | None = None,
                   ) -> tuple[Denoiser, Schedule, list[dict]]:
    """Train ε_θ on windows ``data`` [N, L, F] (conditions ``cond`` [N, COND_DIM] or None).

    Loss: ‖ε − ε_θ(√ᾱ_t y₀ + √(1−ᾱ_t) ε, t, c)‖² with t uniform (Ho et al. Eq. 14, Algorithm 1) on
    y₀ = x₀/σ_f; conditions dropped to "null" with probability ``cond_dropout``. Adam, gradient norm
    clipped at 1, cosine learning-rate decay over ``epochs``; early stopping on the loss over the last
    ``validation_fraction`` of windows (in time), measured with fixed t and ε so epochs compare.
    Returns the best model (on the device it ran on), the schedule (on the CPU) and the loss curve.
    """
    data = np.asarray(data, dtype=np.float32)
    if data.ndim != 3 or not np.all(np.isfinite(data)):
        raise ValueError(f"data must be a finite [windows, length, factors] array, got shape {data.shape}")
    if cond is not None:
        cond = np.asarray(cond, dtype=np.float32)
        if cond.shape != (data.shape[0], COND_DIM):
            raise ValueError(f"cond must have shape ({data.shape[0]}, {COND_DIM}), got {cond.shape}")
    device = pick_device(device)
    n_factors = data.shape[2]
    if noise_scale is None:
        noise_scale = data.reshape(-1, n_factors).std(axis=0) if config.schedule == "vol_scaled" else None
    schedule = make_schedule(config.schedule, config.timesteps, noise_scale, n_factors)
    train_idx, val_idx = split_train_validation(data.shape[0], config.validation_fraction)

    model = build_denoiser(config, n_factors)
    init_module(model, config.seed)
    model.to(device)
    sched = schedule.to(device)
    y_all = torch.from_numpy(data).to(device) / sched.noise_scale
    c_all = torch.from_numpy(cond).to(device) if cond is not None else None
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    # Cosine decay of the learning rate to 0 over the planned epochs (Loshchilov & Hutter 2017): the
    # ε-loss is noisy, and a small final step size is what pins down the data's mean and covariance.
    steps_per_epoch = math.ceil(len(train_idx) / config.batch_size)
    lr_decay = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=config.epochs * steps_per_epoch)

    generator = torch.Generator(device=device)
    generator.manual_seed(config.seed + 1)
    val_generator = torch.Generator(device=device)
    val_generator.manual_seed(config.seed + 2)
    val_y = y_all[torch.from_numpy(val_idx).to(device)]
    val_c = c_all[torch.from_numpy(val_idx).to(device)] if c_all is not None else None
    val_t = torch.randint(0, config.timesteps, (len(val_idx),), generator=val_generator, device=device)
    val_eps = torch.randn(val_y.shape, generator=val_generator, device=device)

    stopper = EarlyStopping(config.patience)
    curve: list[dict] = []
    train_t = torch.from_numpy(train_idx).to(device)
    for epoch in range(config.epochs):
        model.train()
        order = train_t[torch.randperm(len(train_idx), generator=generator, device=device)]
        total, count = 0.0, 0
        for start in range(0, len(order), config.batch_size):
            idx = order[start: start + config.batch_size]
            y0 = y_all[idx]
            t = torch.randint(0, config.timesteps, (len(idx),), generator=generator, device=device)
            eps = torch.randn(y0.shape, generator=generator, device=device)
            if c_all is not None:
                null = (torch.rand(len(idx), generator=generator, device=device) < config.cond_dropout).float()
                c = c_all[idx]
            else:
                null, c = None, None
            with autocast(device):
                loss = _loss(model, y0, c, null, t, eps, sched)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            lr_decay.step()
            total += float(loss.detach()) * len(idx)
            count += len(idx)
        model.eval()
        with torch.no_grad(), autocast(device):
            val_loss = float(_loss(model, val_y, val_c, None, val_t, val_eps, sched))
        train_loss = total / max(count, 1)
        curve.append({"epoch": epoch + 1, "loss": train_loss, "val_loss": val_loss})
        stop = stopper.update(val_loss, model)
        report(progress, (epoch + 1) / config.epochs, epoch=epoch + 1, loss=train_loss, val_loss=val_loss)
        if stop:
            break
    stopper.restore(model)
    model.eval()
    return model, schedule, curve


# ── the engine interface ────────────────────────────────────────────────────────────────────
def fit(train: np.ndarray, factors: Sequence[str], config: Config | None = None, kinds: Sequence[str] | None = None,
        progress: Progress | None = None, device: str | torch.device | None = None) -> FittedState:
    """Sandwich → Gaussian scores → windows + condition labels → DDPM training (see the module docstring)."""
    config = config if config is not None else Config()
    if not isinstance(config, Config):
        raise ValueError(f"config must be a diffusion.Config, got {type(config).__name__}")
    array = check_train(train, factors, min_rows=max(30, 2 * config.window))
    if kinds is not None and len(kinds) != len(factors):
        raise ValueError(f"{len(kinds)} kinds for {len(factors)} factors")
    sandwich, scores = fit_sandwich(array, max_fourth_moment_factor=config.max_fourth_moment_factor)
    data = windows(scores, config.window)
    labels, cond = fit_labels(array, config.window, kinds)
    noise_scale = scores.std(axis=0) if config.schedule == "vol_scaled" else np.ones(len(factors))
    model, schedule, curve = train_denoiser(data, cond, config, progress=progress, device=device,
                                            noise_scale=noise_scale)
    arrays = {**module_to_arrays(model, "model."), **sandwich.to_arrays(), **labels.to_arrays(),
              "noise_scale": schedule.noise_scale.cpu().numpy().astype(np.float64)}
    # Score calibration (deep_common.fit_score_calibration) on a seeded unconditioned draw.
    device = next(model.parameters()).device
    loaded = (config, model, schedule.to(device))
    draft = FittedState(engine=ENGINE, config=config.to_dict(), factors=list(factors), arrays=arrays)
    generator = torch.Generator(device=device)
    generator.manual_seed(config.seed + 3)
    arrays |= draw_for_calibration(
        lambda rows: sample_scores(draft, rows, None, generator, loaded=loaded), data)
    best = min(row["val_loss"] for row in curve)
    meta = {"engine_format": ENGINE_FORMAT, "loss_curve": curve, "epochs_run": len(curve), "best_val_loss": best,
            "training_windows": int(data.shape[0])}
    return FittedState(engine=ENGINE, config=config.to_dict(), factors=list(factors), arrays=arrays, meta=meta,
                       kinds=list(kinds) if kinds is not None else None)


def load(state: FittedState, device: str | torch.device | None = None) -> tuple[Config, Denoiser, Schedule]:
    """Rebuild the denoiser and schedule of a fitted state (on ``device``)."""
    if state.engine != ENGINE:
        raise ValueError(f"state belongs to engine {state.engine!r}, not {ENGINE!r}")
    if state.meta.get("engine_format") not in SUPPORTED_FORMATS:
        raise ValueError(f"diffusion state format {state.meta.get('engine_format')!r} is not supported "
                         f"(one of {SUPPORTED_FORMATS}); retrain the model version")
    device = pick_device(device)
    config = Config.from_dict(state.config)
    model = build_denoiser(config, len(state.factors))
    load_module_arrays(model, state.arrays, "model.")
    model.to(device).eval()
    schedule = make_schedule(config.schedule, config.timesteps, state.arrays["noise_scale"],
                             len(state.factors)).to(device)
    return config, model, schedule


def sample_scores(state: FittedState, n_windows: int, cond: np.ndarray | None, generator: torch.Generator,
                  device: str | torch.device | None = None, *, guidance: float | None = None,
                  sampler: str | None = None, loaded: tuple | None = None) -> np.ndarray:
    """``n_windows`` windows of Gaussian scores [n_windows, window, F] from the fitted network."""
    config, model, schedule = loaded if loaded is not None else load(state, device)
    device = schedule.alphas_cumprod.device
    guidance = config.guidance_scale if guidance is None else float(guidance)
    sampler = config.sampler if sampler is None else sampler
    if sampler not in SAMPLERS:
        raise ValueError(f"sampler must be one of {', '.join(SAMPLERS)}, got {sampler!r}")
    cond_t = torch.as_tensor(cond, dtype=torch.float32, device=device) if cond is not None else None
    clip = config.clip_x0 or None
    out = []
    for start in range(0, n_windows, SAMPLE_CHUNK):
        shape = (min(SAMPLE_CHUNK, n_windows - start), config.window, len(state.factors))
        if sampler == "ddim":
            x = ddim_sample(model, shape, cond_t, schedule, config.ddim_steps, config.eta, guidance, generator,
                            clip_x0=clip)
        else:
            x = ddpm_sample(model, shape, cond_t, schedule, guidance, generator, clip_x0=clip)
        out.append(x.float().cpu().numpy())
    return np.concatenate(out, axis=0).astype(np.float64)


def sample(state: FittedState, n: int, horizon: int, condition: Condition | None, rng: np.random.Generator,
           device: str | torch.device | None = None) -> np.ndarray:
    """``n`` scenarios of ``horizon`` days of increments [n, horizon, F] (see the module docstring)."""
    check_sample_args(n, horizon)
    if condition is not None and not isinstance(condition, Condition):
        raise ValueError(f"condition must be a Condition or None, got {type(condition).__name__}")
    if not isinstance(rng, np.random.Generator):
        raise ValueError("rng must be a numpy.random.Generator")
    loaded = load(state, device)
    config, _, schedule = loaded
    labels = Labels.from_arrays(state.arrays)
    sandwich = Sandwich.from_arrays(state.arrays)
    # The labels describe windows of ``config.window`` days, so the vector is asked for one window.
    vector = condition_vector(labels, condition, state.factors, state.kinds, config.window, shape_only=True)
    per_path = math.ceil(horizon / config.window)
    generator = torch_generator(rng, schedule.alphas_cumprod.device)
    scores = sample_scores(state, n * per_path, vector, generator, loaded=loaded)
    if has_calibration(state.arrays):
        scores = np.clip(calibrate_scores(state.arrays, scores, rng), -SCORE_CLIP, SCORE_CLIP)
    scores = scores.reshape(n, per_path * config.window, len(state.factors))
    mult = condition.effective_vol_multiplier if condition is not None else 1.0
    paths = scores_to_increments(sandwich, scores, rng, vol_multiplier=mult)[:, :horizon]
    # The severity's equity move / explicit targets as a drift; the vol multiplier was applied above.
    paths = impose_targets(paths, condition, state.factors, state.kinds)
    return np.ascontiguousarray(paths, dtype=np.float64)
