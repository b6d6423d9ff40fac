"""What every deep generative engine shares (pure torch/numpy): tails, conditioning, training, weights.

**Tails by design.** Networks trained on raw returns and sampled from Gaussian noise produce light
tails (a DDIM sampler with η = 0 is a smooth map of Gaussian noise). So every deep engine works
inside a GARCH-EVT "sandwich" (McNeil & Frey 2000): each factor is filtered by GJR-GARCH(1,1)-t,
its standardised residuals get a semi-parametric margin (empirical body, GPD tails), and the
network models the *Gaussian scores* ``g = Φ⁻¹(F(z))`` of those residuals — their dependence across
factors and time. Sampling maps the network's ``g`` back through ``F⁻¹(Φ(g))`` to innovations and
runs the GARCH recursion forward, so fat tails, the Hill index and volatility clustering come from
the fitted filter and margins, and the network adds the joint structure. All fitted on the
training window only.

**Conditioning.** Labels come from the training data itself: for every training window of the
engine's length, a stress score (realised volatility relative to its median, plus the cumulative
move of the equity factors) is computed; severity classes are its quantiles (mild < 50 % ≤
moderate < 75 % ≤ severe < 95 % ≤ extreme). A condition vector is ``[one-hot severity (4),
standardised realised-vol ratio, standardised equity move]``; the null condition (all zeros, used
for classifier-free guidance) means "unconditioned".
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from scipy import stats

from scenarios.engines import garch_evt
from scenarios.engines.base import SEVERITIES, Condition, apply_condition, condition_targets

COND_DIM = len(SEVERITIES) + 2
SEVERITY_QUANTILES = {"mild": (0.0, 0.5), "moderate": (0.5, 0.75), "severe": (0.75, 0.95), "extreme": (0.95, 1.0)}
Progress = Callable[..., None]


# ── devices and randomness ──────────────────────────────────────────────────────────────────
def pick_device(device: str | torch.device | None = None) -> torch.device:
    """``device`` as given, else CUDA when present, else the CPU: the same code path on both."""
    if device is not None:
        return torch.device(device)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def autocast(device: torch.device) -> contextlib.AbstractContextManager:
    """Mixed precision on CUDA (bfloat16 when supported); full precision on the CPU for determinism."""
    if device.type == "cuda":
        dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        return torch.autocast(device_type="cuda", dtype=dtype)
    return contextlib.nullcontext()


def torch_generator(rng: np.random.Generator, device: torch.device) -> torch.Generator:
    """A torch.Generator seeded from the caller's numpy generator (no global seeding anywhere)."""
    generator = torch.Generator(device=device)
    generator.manual_seed(int(rng.integers(0, 2**63 - 1)))
    return generator


def init_module(module: torch.nn.Module, seed: int) -> None:
    """Deterministic initialisation without touching torch's global RNG."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        for submodule in module.modules():
            if hasattr(submodule, "reset_parameters"):
                submodule.reset_parameters()


# ── the GARCH-EVT sandwich ──────────────────────────────────────────────────────────────────
@dataclass
class Sandwich:
    params: np.ndarray  # [F, 6] GJR-GARCH-t (scaled units)
    scale: np.ndarray  # [F] multiply increments by this to get scaled units
    h_history: np.ndarray  # [T, F] in-sample conditional variances (for starting states)
    h_next: np.ndarray  # [F] variance of the first day after the training window
    knots: np.ndarray  # [K, F] margin knots (each column a sorted residual sample)
    tails: np.ndarray  # [F, 8] margin scalars (garch_evt.SemiParametricMargin.to_array)
    innovation_moments: np.ndarray  # [F, 2] mean and std of each margin (to standardise innovations)

    def margins(self) -> list[garch_evt.SemiParametricMargin]:
        return [garch_evt.SemiParametricMargin.from_array(self.knots[:, j], self.tails[j])
                for j in range(self.params.shape[0])]

    def to_arrays(self, prefix: str = "sandwich.") -> dict[str, np.ndarray]:
        return {prefix + name: np.asarray(getattr(self, name)) for name in
                ("params", "scale", "h_history", "h_next", "knots", "tails", "innovation_moments")}

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray], prefix: str = "sandwich.") -> Sandwich:
        return cls(**{name: arrays[prefix + name] for name in
                      ("params", "scale", "h_history", "h_next", "knots", "tails", "innovation_moments")})


def fit_sandwich(train: np.ndarray, tail_quantile: float = 0.1, *,
                 max_fourth_moment_factor: float | None = None) -> tuple[Sandwich, np.ndarray]:
    """Fit the filter and margins on the training increments; returns (sandwich, Gaussian scores [T, F])."""
    fits = [garch_evt.fit_gjr_garch(train[:, j], max_fourth_moment_factor=max_fourth_moment_factor)
            for j in range(train.shape[1])]
    residuals = np.stack([fit.std_resid for fit in fits], axis=1)
    margins = [garch_evt.fit_margin(residuals[:, j], tail_quantile) for j in range(train.shape[1])]
    scores = np.stack([_gaussian_scores(margins[j], residuals[:, j]) for j in range(train.shape[1])], axis=1)
    sandwich = Sandwich(
        params=np.stack([f.params for f in fits]), scale=np.array([f.scale for f in fits]),
        h_history=np.stack([f.h for f in fits], axis=1), h_next=np.array([f.h_next for f in fits]),
        knots=np.stack([m.knots_x for m in margins], axis=1), tails=np.stack([m.to_array() for m in margins]),
        innovation_moments=np.array([garch_evt.margin_moments(m) for m in margins]),
    )
    return sandwich, scores


def _gaussian_scores(margin, z: np.ndarray) -> np.ndarray:
    u = np.clip(margin.cdf(z), 1e-6, 1 - 1e-6)
    return stats.norm.ppf(u)


def scores_to_increments(sandwich: Sandwich, scores: np.ndarray, rng: np.random.Generator, *,
                         vol_multiplier: float = 1.0, start: str = "historical") -> np.ndarray:
    """Map network output ``g`` [n, h, F] back to increments through margins and the GARCH recursion.

    start="historical" draws each path's starting variance from the in-sample conditional
    variances (the same day for all factors: unconditional scenarios with the data's tails);
    "last" starts from the day after the training window. Severity multiplies the starting
    variance and ω by m² (every day's volatility m times higher).
    """
    n, horizon, n_factors = scores.shape
    u = stats.norm.cdf(np.clip(scores, -8.0, 8.0))
    innovations = np.empty_like(scores, dtype=np.float64)
    for j, margin in enumerate(sandwich.margins()):
        mean, std = sandwich.innovation_moments[j]
        innovations[:, :, j] = (margin.ppf(np.clip(u[:, :, j], 1e-9, 1 - 1e-9)) - mean) / std
    if start == "historical":
        days = rng.integers(0, sandwich.h_history.shape[0], size=n)
        h_start = sandwich.h_history[days]
    elif start == "last":
        h_start = np.broadcast_to(sandwich.h_next, (n, n_factors))
    else:
        raise ValueError(f"start must be 'historical' or 'last', got {start!r}")
    params = np.array(sandwich.params, copy=True)
    m2 = float(vol_multiplier) ** 2
    params[:, 1] *= m2
    scaled = garch_evt.simulate_gjr(params, h_start * m2, innovations)
    return scaled / sandwich.scale


# ── windows and conditioning labels ─────────────────────────────────────────────────────────
def windows(array: np.ndarray, length: int, stride: int = 1) -> np.ndarray:
    """Overlapping windows ``[N, length, F]`` of a ``[T, F]`` series."""
    if array.shape[0] < length:
        raise ValueError(f"need at least {length} rows for windows of {length}, got {array.shape[0]}")
    starts = np.arange(0, array.shape[0] - length + 1, stride)
    return array[starts[:, None] + np.arange(length)[None, :]]


@dataclass
class Labels:
    """How conditions map to vectors: the training windows' stress statistics (fitted, frozen)."""

    vol_median: float
    vol_mean: float
    vol_std: float
    move_mean: float
    move_std: float
    score_quantiles: np.ndarray  # stress-score values at 0.5, 0.75, 0.95
    equity: np.ndarray  # [F] bool mask of equity factors (all factors when none is equity)

    def to_arrays(self, prefix: str = "labels.") -> dict[str, np.ndarray]:
        return {prefix + "scalars": np.array([self.vol_median, self.vol_mean, self.vol_std, self.move_mean,
                                              self.move_std]),
                prefix + "score_quantiles": self.score_quantiles, prefix + "equity": self.equity.astype(np.int8)}

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray], prefix: str = "labels.") -> Labels:
        vm, vmean, vstd, mmean, mstd = (float(v) for v in arrays[prefix + "scalars"])
        return cls(vm, vmean, vstd, mmean, mstd, np.asarray(arrays[prefix + "score_quantiles"]),
                   np.asarray(arrays[prefix + "equity"]).astype(bool))


def _window_stats(raw_windows: np.ndarray, equity: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    vol = raw_windows.std(axis=1).mean(axis=1)  # mean over factors of each window's realised vol
    move = raw_windows[:, :, equity].sum(axis=1).mean(axis=1)  # mean cumulative equity move
    return vol, move


def fit_labels(train: np.ndarray, length: int, kinds: Sequence[str] | None) -> tuple[Labels, np.ndarray]:
    """Condition labels of every training window: returns (frozen label stats, vectors [N, COND_DIM])."""
    equity = np.array([k == "equity" for k in kinds], dtype=bool) if kinds else np.zeros(train.shape[1], bool)
    if not equity.any():
        equity = np.ones(train.shape[1], dtype=bool)
    raw = windows(train, length)
    vol, move = _window_stats(raw, equity)
    vol_ratio = vol / np.median(vol)
    labels = Labels(vol_median=float(np.median(vol)), vol_mean=float(vol_ratio.mean()),
                    vol_std=float(vol_ratio.std() or 1.0), move_mean=float(move.mean()),
                    move_std=float(move.std() or 1.0), score_quantiles=np.zeros(3), equity=equity)
    score = _stress_score(labels, vol_ratio, move)
    labels.score_quantiles = np.quantile(score, [0.5, 0.75, 0.95])
    return labels, _vectors(labels, vol_ratio, move, score)


def _stress_score(labels: Labels, vol_ratio: np.ndarray, move: np.ndarray) -> np.ndarray:
    # High volatility and large falls are stressful; each measured in its own standard deviations.
    return (vol_ratio - labels.vol_mean) / labels.vol_std - (move - labels.move_mean) / labels.move_std


def _vectors(labels: Labels, vol_ratio: np.ndarray, move: np.ndarray, score: np.ndarray) -> np.ndarray:
    classes = np.searchsorted(labels.score_quantiles, score, side="right")  # 0..3
    out = np.zeros((score.shape[0], COND_DIM), dtype=np.float32)
    out[np.arange(score.shape[0]), classes] = 1.0
    out[:, len(SEVERITIES)] = (vol_ratio - labels.vol_mean) / labels.vol_std
    out[:, len(SEVERITIES) + 1] = (move - labels.move_mean) / labels.move_std
    return out


def condition_vector(labels: Labels, condition: Condition | None, factors: Sequence[str],
                     kinds: Sequence[str] | None, horizon: int, *, shape_only: bool = False) -> np.ndarray | None:
    """The vector for a requested condition (None: unconditioned).

    Default: a severity asks for the middle of its stress-score class: one-hot class, vol ratio = the
    severity's multiplier, equity move = its documented drawdown (base.SEVERITY_LEVELS); explicit
    targets on equity factors set the move; ``vol_multiplier`` sets the vol ratio.

    ``shape_only=True`` (diffusion, VAE, LSTM-Transformer): the network is asked for the *shape* of the class only
    (continuous coordinates at the training labels' mean) and the caller imposes the magnitudes once
    each — the vol multiplier in the GARCH recursion, the severity's move or explicit targets with
    ``impose_targets``. Asking the network for them as well counts the severity twice: measured on
    S&P 500 with the demo diffusion, "severe" gave 6.2x the unconditioned daily vol (documented 2x) and
    a -70 % median 20-day move (documented -20 %); shape-only gives vol ratios 1.0 / 1.5 / 2.1 / 3.2
    for mild ... extreme and the documented moves.
    """
    if condition is None or (condition.severity is None and condition.vol_multiplier is None
                             and not condition.targets):
        return None
    vector = np.zeros(COND_DIM, dtype=np.float32)
    severity = condition.severity or "moderate"
    vector[SEVERITIES.index(severity)] = 1.0
    if shape_only:
        return vector  # continuous coordinates at 0, the training labels' mean (see above)
    vol_ratio = condition.effective_vol_multiplier
    targets = condition_targets(condition, factors, kinds, horizon)
    equity_targets = [targets[j] for j in np.flatnonzero(labels.equity) if j in targets]
    move = float(np.mean(equity_targets)) if equity_targets else labels.move_mean
    # Clamp the continuous coordinates to ±3 standard deviations of the training labels: beyond that
    # the network extrapolates (seen as spurious drift in non-equity factors); the equity target is
    # then enforced exactly by base.apply_condition and the volatility by the sandwich's multiplier.
    vector[len(SEVERITIES)] = np.clip((vol_ratio - labels.vol_mean) / labels.vol_std, -3.0, 3.0)
    vector[len(SEVERITIES) + 1] = np.clip((move - labels.move_mean) / labels.move_std, -3.0, 3.0)
    return vector


def impose_targets(paths: np.ndarray, condition: Condition | None, factors: Sequence[str],
                   kinds: Sequence[str] | None) -> np.ndarray:
    """The severity's documented equity move and any explicit targets, as a constant drift per
    factor (``base.apply_condition``); no volatility scaling here — the GARCH recursion applied it."""
    if condition is None:
        return paths
    targets_only = Condition(severity=condition.severity, vol_multiplier=1.0, targets=condition.targets,
                             extra=condition.extra)
    return apply_condition(paths, targets_only, factors, kinds)


def match_reference_scale(scores: np.ndarray, reference: np.ndarray, clip: float) -> np.ndarray:
    """Scores [..., F] standardised per factor to the mean and standard deviation of ``reference`` [..., F].

    For engines whose severity changes *which* windows are drawn (a latent tail, a class the network
    was trained on): the windows' patterns stay (temporal shape, cross-factor dependence, which days
    are extreme), while the class-level drift and scale are removed — the severity's volatility
    multiplier sets the magnitude once, in the GARCH recursion (``scores_to_increments``), and its
    equity move is imposed once, by ``impose_targets``."""
    axes = tuple(range(scores.ndim - 1))
    ref_axes = tuple(range(reference.ndim - 1))
    std = scores.std(axis=axes)
    scaled = (scores - scores.mean(axis=axes)) * (reference.std(axis=ref_axes) / np.where(std > 0, std, 1.0))
    return np.clip(scaled + reference.mean(axis=ref_axes), -clip, clip)


# ── training ────────────────────────────────────────────────────────────────────────────────
@dataclass
class Prepared:
    """Everything a deep engine's fit starts from (all from the training window only)."""

    array: np.ndarray  # checked training increments [T, F]
    sandwich: Sandwich
    labels: Labels
    windows: np.ndarray  # Gaussian-score windows [N, window, F] (float32)
    conditions: np.ndarray  # condition vectors [N, COND_DIM]
    train_idx: np.ndarray
    val_idx: np.ndarray


def prepare(train: np.ndarray, factors: Sequence[str], kinds: Sequence[str] | None, *, window: int,
            tail_quantile: float, validation_fraction: float) -> Prepared:
    """Check the input, fit the sandwich and the labels, cut score windows, split for early stopping."""
    from scenarios.engines.base import check_train

    if kinds is not None and len(kinds) != len(factors):
        raise ValueError(f"{len(kinds)} kinds for {len(factors)} factors")
    array = check_train(train, factors, min_rows=max(30, 4 * window))
    sandwich, scores = fit_sandwich(array, tail_quantile)
    labels, conditions = fit_labels(array, window, kinds)
    data = windows(scores.astype(np.float32), window)
    train_idx, val_idx = split_train_validation(data.shape[0], validation_fraction)
    return Prepared(array, sandwich, labels, data, conditions, train_idx, val_idx)


def train_epochs(
    model: torch.nn.Module, prepared: Prepared, config, *, device: torch.device,
    optimizer: torch.optim.Optimizer,
    batch_loss: Callable[[torch.nn.Module, torch.Tensor, torch.Tensor, torch.Generator, int], torch.Tensor],
    validation_loss: Callable[[torch.nn.Module, torch.Tensor, torch.Tensor, int], float],
    progress: Progress | None, name: str,
) -> tuple[list[dict], int, EarlyStopping]:
    """The shared epoch loop: seeded batch order, condition dropout, AMP-safe steps with gradient
    clipping, a validation loss per epoch, progress, divergence check and early stopping (best weights
    restored). ``config`` needs seed, epochs, batch_size, cond_dropout, grad_clip and patience."""
    x_all = torch.from_numpy(np.ascontiguousarray(prepared.windows)).to(device)
    c_all = torch.from_numpy(prepared.conditions).to(device)
    batch_gen = torch.Generator().manual_seed(config.seed)  # batch order, always on the CPU
    noise_gen = batch_gen if device.type == "cpu" else torch.Generator(device=device).manual_seed(config.seed + 1)
    scaler = torch.amp.GradScaler(device.type, enabled=device.type == "cuda" and not torch.cuda.is_bf16_supported())
    stopper = EarlyStopping(patience=config.patience)
    train_t = torch.from_numpy(prepared.train_idx)
    val_t = torch.from_numpy(prepared.val_idx).to(device)
    x_val, c_val = x_all[val_t], c_all[val_t]
    curve: list[dict] = []
    epoch = 0
    for epoch in range(1, config.epochs + 1):
        model.train()
        order = train_t[torch.randperm(len(train_t), generator=batch_gen)].to(device)
        total, count = 0.0, 0
        for start in range(0, len(order), config.batch_size):
            idx = order[start: start + config.batch_size]
            x, c = x_all[idx], c_all[idx]
            dropped = torch.rand(len(idx), generator=noise_gen, device=device) < config.cond_dropout
            c = c.masked_fill(dropped[:, None], 0.0)
            loss = batch_loss(model, x, c, noise_gen, epoch)
            optimizer.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            scaler.unscale_(optimizer)
            torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
            scaler.step(optimizer)
            scaler.update()
            total += float(loss.detach()) * len(idx)
            count += len(idx)
        val_loss = validation_loss(model, x_val, c_val, epoch)
        point = {"epoch": epoch, "loss": total / count, "val_loss": val_loss}
        curve.append(point)
        report(progress, epoch / config.epochs, **point)
        if not np.isfinite(val_loss):
            raise ValueError(f"{name} training diverged at epoch {epoch} (validation loss {val_loss})")
        if stopper.update(val_loss, model):
            break
    stopper.restore(model)
    return curve, epoch, stopper


def split_train_validation(items: int, fraction: float = 0.15) -> tuple[np.ndarray, np.ndarray]:
    """Early-stopping split: the *last* ``fraction`` of training windows in time (never the holdout).

    A gap of one window length between the two parts would be stricter; windows overlap, so the
    first ``fraction`` boundary windows may share days — documented, and the holdout is untouched.
    """
    cut = int(items * (1 - fraction))
    if cut < 1 or cut >= items:
        raise ValueError(f"too few training windows ({items}) for an early-stopping split")
    return np.arange(cut), np.arange(cut, items)


@dataclass
class EarlyStopping:
    patience: int
    best: float = float("inf")
    best_state: dict | None = None
    bad_epochs: int = 0

    def update(self, value: float, module: torch.nn.Module) -> bool:
        """Record a validation loss; True when training should stop."""
        if value < self.best - 1e-6:
            self.best, self.bad_epochs = value, 0
            self.best_state = {k: v.detach().clone() for k, v in module.state_dict().items()}
        else:
            self.bad_epochs += 1
        return self.bad_epochs >= self.patience

    def restore(self, module: torch.nn.Module) -> None:
        if self.best_state is not None:
            module.load_state_dict(self.best_state)


def report(progress: Progress | None, fraction: float, **detail) -> None:
    """Progress to the caller (a run row); the callback may raise to cancel the training."""
    if progress is not None:
        progress(fraction, **detail)


# ── weights in the fitted state ─────────────────────────────────────────────────────────────
def module_to_arrays(module: torch.nn.Module, prefix: str) -> dict[str, np.ndarray]:
    return {prefix + name: tensor.detach().cpu().float().numpy().copy()
            for name, tensor in module.state_dict().items()}


def load_module_arrays(module: torch.nn.Module, arrays: Mapping[str, np.ndarray], prefix: str) -> None:
    state = {name[len(prefix):]: torch.from_numpy(np.asarray(value)) for name, value in arrays.items()
             if name.startswith(prefix)}
    missing = set(module.state_dict()) - set(state)
    if missing:
        raise ValueError(f"checkpoint lacks weights for {sorted(missing)[:5]}")
    module.load_state_dict(state)


def weights_digest(module: torch.nn.Module) -> str:
    """A stable fingerprint of a module's weights (tests of determinism and round trips)."""
    buffer = io.BytesIO()
    for name, tensor in sorted(module.state_dict().items()):
        buffer.write(name.encode())
        buffer.write(tensor.detach().cpu().float().numpy().tobytes())
    import hashlib

    return hashlib.sha256(buffer.getvalue()).hexdigest()


# ── calibration of generated scores (every deep engine) ─────────────────────────────────────
CALIBRATION_WINDOWS = 8192  # generated windows the calibration maps are fitted on, at fit time
MARGINAL_KNOTS = 401
SCALE_KNOTS = 201
CALIBRATION_PASSES = 4
SPAN_THRESHOLD = 0.05  # generated-covariance eigenvalues below 5 % of their mean count as "not spanned"
SCORE_CLIP = 4.0  # calibrated scores beyond ±4σ are clipped: the GPD tails beyond are the margins' job


def fit_score_calibration(generated: np.ndarray, real: np.ndarray, seed: int = 0) -> dict[str, np.ndarray]:
    """Monotone/affine maps, fitted at fit time, that put a network's generated score windows
    ``[N, W, F]`` where the sandwich expects them (``real``: the training score windows):

    1. *joint* — a map of whole windows (the W·F scores of a window as one vector) giving the real
       windows' mean and covariance: whitening in the eigenbasis of the generated covariance
       Σ_g = V Λ Vᵀ, then re-colouring, ``z' = μ_r + u Vᵀ Σ_r^{1/2}`` with ``u = (z − μ_g) V Λ^{-1/2}`` —
       the ZCA choice, closest to the identity (Kessy, Lewin & Strimmer 2018, "Optimal whitening and
       decorrelation", Am. Stat. 72:309–314). One map for days and factors together, so the
       co-movement across factors *at every lag* is the data's: per-factor day maps followed by a map
       of each day's F scores left the diffusion's S&P/WTI correlation of 20-day score sums at 0.01
       against the real 0.13 (same-day correlations right, cross-lag ones not) — the 20-day
       correlation test of the validation failed on it. Directions the generator barely uses
       (eigenvalue below ``SPAN_THRESHOLD`` of the mean: a collapsed generator, e.g. a rank-one
       TimeGAN after a few iterations) cannot be whitened; their coordinates of ``u`` are unit white
       noise from the caller's ``rng`` instead, so the output still has the real covariance and
       never inherits the collapse (a full-rank generator gets no noise);
    2. *scale* — per factor, each window rescaled so that the distribution of window RMS matches the
       real windows' (quantile mapping of the RMS);
    3. *marginal* — per factor, a quantile map of the scores onto N(0, 1);
    2 and 3 alternated ``CALIBRATION_PASSES`` times, as they pull against each other;
    4. *window scale* — map 2 once more, last, so the spread of window RMS is the real one exactly.

    The maps are quantile maps fitted on ``CALIBRATION_WINDOWS`` draws: with 1,024 the stored RMS
    maps over-fitted their own draw and fresh windows came out with a wider RMS spread than the real
    ones (0.158/0.173/0.176 against 0.149/0.161/0.164 on S&P/NASDAQ/WTI); 8,192 gives 0.151/0.164/0.165.

    Why. The GARCH recursion expects N(0, 1) scores that are (nearly) independent over time: real
    windows' RMS scatters like √(χ²_W / W). A network that emits smooth, persistent or uniformly loud
    windows — an under-trained TimeGAN (lag-1 autocorrelation 0.9–0.999 seen on S&P/NASDAQ/WTI after
    a 300-iteration joint phase), a diffusion model after a few epochs — compounds through
    h_{t+1} = ω + (α + γ·1[z<0]) h z² + β h (a window of RMS 1.7 multiplies the variance by about
    (α·1.7² + β)^W) into exploding volatility and kurtosis in the hundreds. And the margins' GPD tails
    are only visited by scores beyond Φ⁻¹(tail quantile): a bounded or light-tailed output layer
    would visit them too rarely and lose the kurtosis and the Hill index. A well-trained network gets
    maps close to the identity; every map is monotone in each score, so a condition that raises the
    scores still raises them.
    """
    g = np.asarray(generated, dtype=np.float64)
    r = np.asarray(real, dtype=np.float64)
    if g.ndim != 3 or g.shape[1:] != r.shape[1:]:
        raise ValueError(f"generated windows {g.shape} and real windows {r.shape} differ in shape")
    if g.shape[0] < 2 or r.shape[0] < 2 or not (np.isfinite(g).all() and np.isfinite(r).all()):
        raise ValueError("calibration needs at least two finite windows of each kind")
    n_factors = g.shape[2]
    arrays = _fit_joint(g, r)
    g = _joint(g, arrays, np.random.default_rng(seed))
    levels = np.linspace(0.0, 1.0, SCALE_KNOTS)
    probabilities = stats.norm.cdf(np.linspace(-SCORE_CLIP, SCORE_CLIP, MARGINAL_KNOTS))
    real_rms = np.quantile(_window_rms(r), levels, axis=0)
    scales, marginals = [], []
    # Maps 2 and 3 interact (making a light-tailed marginal Gaussian widens the spread of window RMS
    # again: seen with the LSTM-Transformer), so they are alternated a few times (alternating
    # projections); each pass's maps are stored and replayed in order.
    for _ in range(CALIBRATION_PASSES):
        scales.append(np.stack([np.quantile(_window_rms(g), levels, axis=0), real_rms]))
        g = _rescale(g, scales[-1])
        marginals.append(np.quantile(g.reshape(-1, n_factors), probabilities, axis=0))
        g = _marginal(g, marginals[-1])
    arrays["calibration.scale"] = np.stack(scales)  # [passes, 2, SCALE_KNOTS, F]
    arrays["calibration.quantiles"] = np.stack(marginals)  # [passes, MARGINAL_KNOTS, F]
    # Map 4: the marginal map of the last pass widens the spread of window RMS again (measured on the S&P 500 /
    # NASDAQ / WTI diffusion: 0.157/0.173/0.175 against the real 0.149/0.161/0.164), and the GARCH recursion
    # turns every excess spread into 20-day kurtosis (FAILs of 3.4–3.6 on the holdout replay); so the windows'
    # RMS is mapped once more, last (margins stay within 1-2 % of N(0, 1) in standard deviation).
    arrays["calibration.window_scale"] = np.stack([np.quantile(_window_rms(g), levels, axis=0), real_rms])
    return arrays


def calibrate_scores(arrays: Mapping[str, np.ndarray], scores: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Apply :func:`fit_score_calibration`'s maps to generated windows ``[N, W, F]`` (``rng``: the noise of
    the directions a collapsed generator does not span); unchanged when the state has none (states
    saved before calibration existed)."""
    if not has_calibration(arrays):
        return scores
    if "calibration.joint_matrix" in arrays:
        out = _joint(np.asarray(scores, dtype=np.float64), arrays, rng)
    else:  # states fitted before the joint map: per-factor temporal map, then the day's cross-factor map
        out = _temporal(np.asarray(scores, dtype=np.float64), arrays, rng)
        if "calibration.cross_matrix" in arrays:
            out = _cross(out, arrays)
    for scale, quantiles in zip(arrays["calibration.scale"], arrays["calibration.quantiles"], strict=True):
        out = _marginal(_rescale(out, scale), quantiles)
    if "calibration.window_scale" in arrays:
        out = _rescale(out, arrays["calibration.window_scale"])
    return out


def has_calibration(arrays: Mapping[str, np.ndarray]) -> bool:
    """Whether a state carries score-calibration maps (states saved before the calibration have none)."""
    return "calibration.quantiles" in arrays


def _fit_joint(g: np.ndarray, r: np.ndarray) -> dict[str, np.ndarray]:
    """Map 1 of :func:`fit_score_calibration`: the ZCA map of whole windows (W·F scores) onto the real mean
    and covariance, stored as one affine map ``z' = μ_r + (z − μ_g) A``, A = V diag(gains) Vᵀ Σ_r^{1/2}, plus
    the rows Vᵀ Σ_r^{1/2} of the directions the generator does not span (their gain is 0; unit noise × rows)."""
    flat_g, flat_r = g.reshape(g.shape[0], -1), r.reshape(r.shape[0], -1)
    values, vectors = np.linalg.eigh(np.cov(flat_g, rowvar=False))
    keep = values > SPAN_THRESHOLD * max(values.mean(), 1e-12)
    out = vectors.T @ _sym_power(np.cov(flat_r, rowvar=False), 0.5)
    gains = np.where(keep, 1.0 / np.sqrt(np.where(keep, values, 1.0)), 0.0)
    return {"calibration.joint_mean": np.stack([flat_g.mean(axis=0), flat_r.mean(axis=0)]),
            "calibration.joint_matrix": (vectors * gains) @ out, "calibration.joint_noise": out[~keep]}


def _joint(scores: np.ndarray, arrays: Mapping[str, np.ndarray], rng: np.random.Generator) -> np.ndarray:
    low, high = arrays["calibration.joint_mean"]
    out = high + (scores.reshape(scores.shape[0], -1) - low) @ arrays["calibration.joint_matrix"]
    noise = arrays["calibration.joint_noise"]
    if noise.shape[0]:
        # Unit white noise in the directions the generator does not span, re-coloured: it carries the
        # real windows' covariance in them (a collapsed generator never passes its collapse on).
        out += rng.standard_normal((scores.shape[0], noise.shape[0])) @ noise
    return out.reshape(scores.shape)


def _marginal(scores: np.ndarray, quantiles: np.ndarray) -> np.ndarray:
    targets = np.linspace(-SCORE_CLIP, SCORE_CLIP, quantiles.shape[0])
    out = np.empty_like(scores)
    for j in range(scores.shape[-1]):
        knots, keep = np.unique(quantiles[:, j], return_index=True)  # np.interp needs increasing knots
        out[..., j] = np.interp(scores[..., j], knots, targets[keep])
    return out


def draw_for_calibration(draw: Callable[[int], np.ndarray], real_windows: np.ndarray) -> dict[str, np.ndarray]:
    """Fit the calibration on ``draw(CALIBRATION_WINDOWS)`` (the engine's seeded unconditioned draw)."""
    return fit_score_calibration(draw(CALIBRATION_WINDOWS), real_windows)


def _sym_power(cov: np.ndarray, power: float) -> np.ndarray:
    values, vectors = np.linalg.eigh((cov + cov.T) / 2)
    values = np.maximum(values, 1e-12 * max(values.max(), 1e-12))
    return (vectors * values**power) @ vectors.T


def _temporal(scores: np.ndarray, arrays: Mapping[str, np.ndarray], rng: np.random.Generator) -> np.ndarray:
    centred = scores - arrays["calibration.mean_generated"]
    gains = arrays["calibration.gains"]  # [F, W]
    u = np.einsum("nwf,fwk->nkf", centred, arrays["calibration.basis"]) * gains.T[None]
    missing = gains.T == 0.0  # [W, F]
    if missing.any():
        # White noise with the real scores' cross-factor correlation, seen in each factor's eigenbasis:
        # a fully collapsed generator then yields independent days that still co-move across factors.
        noise = rng.standard_normal(scores.shape) @ arrays["calibration.cross_cholesky"].T
        noise = np.einsum("nwf,fwk->nkf", noise, arrays["calibration.basis"])
        u[:, missing] = noise[:, missing]
    return arrays["calibration.mean_real"] + np.einsum("nkf,fkv->nvf", u, arrays["calibration.matrix"])


def _cross(scores: np.ndarray, arrays: Mapping[str, np.ndarray]) -> np.ndarray:
    low, high = arrays["calibration.cross_mean"]
    return high + (scores - low) @ arrays["calibration.cross_matrix"]


def _window_rms(scores: np.ndarray) -> np.ndarray:
    return np.sqrt(np.mean(np.square(scores), axis=1) + 1e-12)  # [N, F]


def _rescale(scores: np.ndarray, quantiles: np.ndarray) -> np.ndarray:
    rms = _window_rms(scores)
    target = np.empty_like(rms)
    for j in range(rms.shape[1]):
        knots, keep = np.unique(quantiles[0, :, j], return_index=True)
        target[:, j] = np.interp(rms[:, j], knots, quantiles[1, keep, j])
    return scores * (target / rms)[:, None, :]
