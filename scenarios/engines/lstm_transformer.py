"""An autoregressive LSTM–Transformer generator of GARCH-EVT Gaussian scores (pure torch).

The network models the Gaussian scores ``g`` of ``deep_common.fit_sandwich`` (GJR-GARCH-t filter,
GPD-tailed margins); samples go back through ``deep_common.scores_to_increments``, so fat tails and
volatility clustering come from the filter and the network adds dependence across factors and days.

Model. A sequence [s, x_0, …, x_{T−1}] — s a learned start token, x_t the F scores of day t
linearly embedded — plus an embedding of the condition vector c added at *every* step, runs
through an LSTM backbone (Hochreiter & Schmidhuber 1997), then a Transformer encoder head
(Vaswani et al. 2017) with a causal (subsequent-position) mask, the c-embedding added again at its
input. Output position t parameterises p(x_t | x_{<t}, c): a mixture of ``components`` (1 or 2)
diagonal Gaussians in score space (mixture-density network, Bishop 1994). Both blocks are causal,
so the prediction for day t sees only days < t.

Training: teacher forcing on overlapping windows of ``window`` days, minimising the negative
log-likelihood; early stopping on the NLL of the last ``validation_fraction`` of windows.
Condition dropout (probability ``cond_dropout``) trains the null vector as "unconditioned".
Dropout (``dropout``, on the LSTM output) is drawn from the training ``torch.Generator``; the
Transformer layers' own dropout is off because it would draw from torch's global RNG.

Sampling. The first day is drawn from the *learned initial distribution* — the model's prediction
at the start token, p(x_0 | s, c) — not from a training context, so a checkpoint needs no data.
Each later day is drawn from p(x_t | previous days, c) with the generator passed in. The model was
trained on windows starting anywhere in the series, so beyond ``window`` days the context slides:
day t is predicted from [s, x_{t−window+1}, …, x_{t−1}], exactly the input shape seen in training.
Each drawn day is clipped to ±Φ⁻¹(1 − 10⁻⁶) ≈ ±4.75, the support of the training scores, before it
is fed back, so the GPD tails are never extrapolated past their fitted range.
A severity conditions natively through c (``deep_common.condition_vector`` over ``window`` days);
its ``vol_multiplier`` then scales the GARCH recursion in ``scores_to_increments`` and explicit
targets are met by ``base.apply_condition`` (targets only: a drift on the median cumulative move).

Determinism: ``init_module`` for the weights, a ``torch.Generator`` seeded with ``Config.seed`` for
batches, condition dropout and dropout, ``torch_generator(rng, device)`` for sampling.

Generated score windows pass through ``deep_common.fit_score_calibration``'s maps (fitted at fit
time on a seeded unconditioned draw, stored as ``calibration.*`` arrays) before the sandwich, so an
under-trained network cannot break the sandwich's tails (states saved without them sample as before).
Sampling caches the LSTM state over the first ``window`` days (``generate_scores(cache=True)``,
tested equal to re-running the prefix); beyond, the context slides and is re-run each day.
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

from scenarios.engines.base import Condition, FittedState, check_sample_args
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
    module_to_arrays,
    pick_device,
    prepare,
    scores_to_increments,
    torch_generator,
    train_epochs,
)

ENGINE = "lstm_transformer"
LOGVAR_RANGE = (-7.0, 4.0)
SAMPLE_CHUNK = 4096  # paths generated per forward pass (fixed: the chunking is part of the RNG stream)
SCORE_LIMIT = float(stats.norm.ppf(1 - 1e-6))  # the support of the sandwich's training scores


@dataclass(frozen=True)
class Config:
    window: int = 20
    hidden: int = 48
    lstm_layers: int = 1
    heads: int = 4
    transformer_layers: int = 2
    feedforward: int = 96
    components: int = 2  # 1: a diagonal Gaussian; 2: a mixture of two
    dropout: float = 0.1
    cond_dropout: float = 0.1
    epochs: int = 40
    batch_size: int = 256
    learning_rate: float = 2e-3
    weight_decay: float = 0.0
    grad_clip: float = 1.0
    patience: int = 6
    validation_fraction: float = 0.15
    tail_quantile: float = 0.1
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("window", "hidden", "lstm_layers", "heads", "transformer_layers", "feedforward", "epochs",
                     "batch_size", "patience"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if self.window < 2:
            raise ValueError(f"window must be at least 2, got {self.window}")
        if self.hidden % self.heads:
            raise ValueError(f"hidden ({self.hidden}) must be divisible by heads ({self.heads})")
        if self.components not in (1, 2):
            raise ValueError(f"components must be 1 or 2, got {self.components!r}")
        if not 0.0 <= self.dropout < 1.0 or not 0.0 <= self.cond_dropout < 1.0:
            raise ValueError("dropout and cond_dropout must be in [0, 1)")
        if not 0.0 < self.validation_fraction < 0.5:
            raise ValueError(f"validation_fraction must be in (0, 0.5), got {self.validation_fraction!r}")
        if not 0.0 < self.tail_quantile < 0.5:
            raise ValueError(f"tail_quantile must be in (0, 0.5), got {self.tail_quantile!r}")
        if not (self.learning_rate > 0 and self.weight_decay >= 0 and self.grad_clip > 0):
            raise ValueError("learning_rate and grad_clip must be positive, weight_decay non-negative")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Config:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown lstm_transformer config keys: {', '.join(unknown)}")
        return cls(**data)


# ── network ─────────────────────────────────────────────────────────────────────────────────
def causal_mask(length: int, device: torch.device) -> torch.Tensor:
    """Additive mask: position i may attend to positions ≤ i only (−inf above the diagonal)."""
    return nn.Transformer.generate_square_subsequent_mask(length, device=device)


class LSTMTransformer(nn.Module):
    def __init__(self, config: Config, n_factors: int) -> None:
        super().__init__()
        h = config.hidden
        self.n_factors, self.components, self.dropout = n_factors, config.components, config.dropout
        self.embed = nn.Linear(n_factors, h)
        self.start = nn.Parameter(torch.zeros(h))
        self.cond_embed = nn.Linear(COND_DIM, h)
        self.lstm = nn.LSTM(h, h, num_layers=config.lstm_layers, batch_first=True)
        layer = nn.TransformerEncoderLayer(h, config.heads, config.feedforward, dropout=0.0, activation="gelu",
                                           batch_first=True, norm_first=True)
        self.transformer = nn.TransformerEncoder(layer, config.transformer_layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(h)
        self.head = nn.Linear(h, config.components * (1 + 2 * n_factors))

    def reset_parameters(self) -> None:
        # init_module calls this on every submodule that has it (this module first); the start token is a
        # bare parameter and MultiheadAttention only has the private _reset_parameters.
        nn.init.normal_(self.start, std=0.02)
        for module in self.modules():
            if isinstance(module, nn.MultiheadAttention):
                module._reset_parameters()

    def transform(self, hidden: torch.Tensor) -> torch.Tensor:
        """The causally masked Transformer head over [B, T, H]."""
        return self.transformer(hidden, mask=causal_mask(hidden.shape[1], hidden.device), is_causal=True)

    def forward(self, context: torch.Tensor, cond: torch.Tensor,
                generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Mixture parameters for days 0..T given ``context`` [B, T, F] (T ≥ 0) and ``cond`` [B, C].

        Returns (log-weights [B, T+1, K], means [B, T+1, K, F], log-variances [B, T+1, K, F]);
        output t is p(x_t | context_{<t}, c).
        """
        batch = context.shape[0]
        c = self.cond_embed(cond)[:, None, :]
        tokens = torch.cat([self.start.expand(batch, 1, -1).to(context.dtype), self.embed(context)], dim=1)
        hidden, _ = self.lstm(tokens + c)
        if self.training and generator is not None and self.dropout > 0:
            keep = torch.rand(hidden.shape, generator=generator, device=hidden.device) >= self.dropout
            hidden = hidden * keep.to(hidden.dtype) / (1.0 - self.dropout)
        return self.mixture(hidden, c)

    def mixture(self, hidden: torch.Tensor, c: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The Transformer head and the mixture parameters over LSTM outputs ``hidden`` [B, T+1, H]
        (``c``: the embedded condition [B, 1, H])."""
        out = self.head(self.norm(self.transform(hidden + c)))
        k, f = self.components, self.n_factors
        logits = out[..., :k]
        params = out[..., k:].reshape(*out.shape[:-1], k, 2 * f)
        means, logvars = params[..., :f], params[..., f:].clamp(*LOGVAR_RANGE)
        return torch.log_softmax(logits.float(), dim=-1), means.float(), logvars.float()


def build_model(config: Config, n_factors: int) -> LSTMTransformer:
    return LSTMTransformer(config, n_factors)


def mixture_nll(x: torch.Tensor, log_weights: torch.Tensor, means: torch.Tensor,
                logvars: torch.Tensor) -> torch.Tensor:
    """−log Σ_k π_k N(x; μ_k, diag σ_k²) per position: x [B, T, F] → [B, T]."""
    diff = x[..., None, :] - means
    component = -0.5 * (diff.pow(2) * torch.exp(-logvars) + logvars + math.log(2 * math.pi)).sum(dim=-1)
    return -torch.logsumexp(log_weights + component, dim=-1)


def _loss(model: LSTMTransformer, x: torch.Tensor, cond: torch.Tensor, generator: torch.Generator | None,
          device: torch.device) -> torch.Tensor:
    """Teacher-forced NLL per day and factor, averaged over the batch."""
    with autocast(device):
        log_w, means, logvars = model(x[:, :-1], cond, generator)
    return mixture_nll(x, log_w, means, logvars).mean() / x.shape[2]


# ── fit ─────────────────────────────────────────────────────────────────────────────────────
def fit(train: np.ndarray, factors: Sequence[str], config: Config, kinds: Sequence[str] | None = None,
        progress: Progress | None = None, device: str | torch.device | None = None) -> FittedState:
    """Fit the sandwich, the condition labels and the generator on the training increments."""
    if not isinstance(config, Config):
        raise ValueError(f"config must be a lstm_transformer.Config, got {type(config).__name__}")
    prepared = prepare(train, factors, kinds, window=config.window, tail_quantile=config.tail_quantile,
                       validation_fraction=config.validation_fraction)
    array, sandwich, labels = prepared.array, prepared.sandwich, prepared.labels
    train_idx, val_idx = prepared.train_idx, prepared.val_idx
    dev = pick_device(device)

    model = build_model(config, array.shape[1])
    init_module(model, config.seed)
    model.to(dev)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay)

    def validation_loss(model, x_val, c_val, epoch) -> float:
        model.eval()
        with torch.no_grad():
            return sum(float(_loss(model, x_val[s: s + 512], c_val[s: s + 512], None, dev)) * len(x_val[s: s + 512])
                       for s in range(0, len(x_val), 512)) / len(x_val)

    curve, epoch, stopper = train_epochs(
        model, prepared, config, device=dev, optimizer=optimizer,
        batch_loss=lambda model, x, c, gen, epoch: _loss(model, x, c, gen, dev),
        validation_loss=validation_loss, progress=progress, name="lstm_transformer")
    model.eval()
    arrays = module_to_arrays(model, "model.") | sandwich.to_arrays() | labels.to_arrays()
    # Score calibration (deep_common.fit_score_calibration) on a seeded unconditioned draw of windows.
    calibration_rng = torch.Generator(device=dev).manual_seed(config.seed + 3)
    null = torch.zeros(1, COND_DIM, device=dev)

    def draw(rows: int) -> np.ndarray:
        with torch.no_grad():
            return generate_scores(model, config, rows, config.window, null, calibration_rng).cpu().numpy()

    arrays |= draw_for_calibration(draw, prepared.windows)
    model.cpu()
    meta = {"loss_curve": curve, "epochs_run": epoch, "best_val_loss": stopper.best,
            "train_windows": len(train_idx), "validation_windows": len(val_idx), "first_step": "learned"}
    return FittedState(engine=ENGINE, config=dataclasses.asdict(config), factors=list(factors), arrays=arrays,
                       meta=meta, kinds=list(kinds) if kinds is not None else None)


# ── sample ──────────────────────────────────────────────────────────────────────────────────
def load_model(state: FittedState, device: str | torch.device | None = None) -> tuple[LSTMTransformer, Config]:
    """The trained network of a state (eval mode, on ``device``) and its config."""
    if state.engine != ENGINE:
        raise ValueError(f"state is for engine {state.engine!r}, not {ENGINE!r}")
    config = Config.from_dict(state.config)
    model = build_model(config, len(state.factors))
    load_module_arrays(model, state.arrays, "model.")
    return model.to(pick_device(device)).eval(), config


def _cond_tensor(state: FittedState, condition: Condition | None, config: Config, device: torch.device) -> torch.Tensor:
    labels = Labels.from_arrays(state.arrays)
    vector = condition_vector(labels, condition, state.factors, state.kinds, config.window, shape_only=True)
    if vector is None:
        return torch.zeros(1, COND_DIM, device=device)
    return torch.from_numpy(vector)[None].to(device)


def predict_next(state: FittedState, context: np.ndarray, condition: Condition | None = None,
                 device: str | torch.device | None = None) -> np.ndarray:
    """Mean of p(x_t | context, c) in score space: context [n, t, F] (t ≥ 0; only the last window−1 used)."""
    model, config = load_model(state, device)
    dev = next(model.parameters()).device
    array = np.asarray(context, dtype=np.float32)
    if array.ndim != 3 or array.shape[2] != len(state.factors):
        raise ValueError(f"context must be [n, t, {len(state.factors)}], got shape {array.shape}")
    array = array[:, max(0, array.shape[1] - (config.window - 1)):]
    cond = _cond_tensor(state, condition, config, dev)
    with torch.no_grad(), autocast(dev):
        log_w, means, _ = model(torch.from_numpy(np.ascontiguousarray(array)).to(dev), cond.expand(len(array), -1))
    mean = (log_w[:, -1].exp()[..., None] * means[:, -1]).sum(dim=1)
    return mean.float().cpu().numpy().astype(np.float64)


def generate_scores(model: LSTMTransformer, config: Config, n: int, horizon: int, cond: torch.Tensor,
                    generator: torch.Generator, *, cache: bool = True) -> torch.Tensor:
    """Ancestral sampling, day by day, with a context sliding over the last window−1 days: [n, horizon, F].

    With ``cache`` the first ``window`` days — while the context is still the whole growing prefix
    [start, x₀ … x_{t−1}] — advance the LSTM by one token per day from its cached state instead of
    re-running it over the prefix (the Transformer head, causal and only ``window`` long, is re-run over
    the cached LSTM outputs). Beyond the window the context slides (its first day drops out and the
    start token moves), which no recurrent state can undo, so those days re-run the context as without
    the cache. Same values either way (the cache changes the order of nothing but the LSTM's steps).
    """
    dev = cond.device
    out = torch.zeros(n, horizon, model.n_factors, device=dev)
    cond = cond.expand(n, -1)
    state, outputs = None, []
    for t in range(horizon):
        with autocast(dev):
            if cache and t < config.window:
                c = model.cond_embed(cond)[:, None, :]
                token = model.start.expand(n, 1, -1) if t == 0 else model.embed(out[:, t - 1: t])
                hidden, state = model.lstm(token + c, state)
                outputs.append(hidden)
                log_w, means, logvars = model.mixture(torch.cat(outputs, dim=1), c)
            else:
                log_w, means, logvars = model(out[:, max(0, t - (config.window - 1)): t], cond)
        log_w, means, logvars = log_w[:, -1], means[:, -1], logvars[:, -1]
        if model.components > 1:
            pick = torch.multinomial(log_w.exp(), 1, generator=generator)[:, 0]
        else:
            pick = torch.zeros(n, dtype=torch.long, device=dev)
        rows = torch.arange(n, device=dev)
        noise = torch.randn(n, model.n_factors, generator=generator, device=dev)
        step = means[rows, pick] + torch.exp(0.5 * logvars[rows, pick]) * noise
        out[:, t] = step.clamp(-SCORE_LIMIT, SCORE_LIMIT)
    return out


def sample(state: FittedState, n: int, horizon: int, condition: Condition | None, rng: np.random.Generator,
           device: str | torch.device | None = None) -> np.ndarray:
    """``n`` scenario paths of increments [n, horizon, F]."""
    check_sample_args(n, horizon)
    model, config = load_model(state, device)
    dev = next(model.parameters()).device
    cond = _cond_tensor(state, condition, config, dev)
    generator = torch_generator(rng, dev)
    calibrated = has_calibration(state.arrays)  # states saved before the calibration have none
    # The calibration maps act on whole windows: generate a whole number of windows, then cut.
    per_path = -(-horizon // config.window) if calibrated else 1
    length = per_path * config.window if calibrated else horizon
    chunks = []
    with torch.no_grad():
        for start in range(0, n, SAMPLE_CHUNK):
            size = min(SAMPLE_CHUNK, n - start)
            chunks.append(generate_scores(model, config, size, length, cond, generator).cpu().numpy())
    scores = np.concatenate(chunks).astype(np.float64)
    if calibrated:
        windows_ = calibrate_scores(state.arrays, scores.reshape(n * per_path, config.window, -1), rng)
        scores = np.clip(windows_.reshape(n, length, -1)[:, :horizon], -SCORE_CLIP, SCORE_CLIP)
    multiplier = condition.effective_vol_multiplier if condition is not None else 1.0
    paths = scores_to_increments(Sandwich.from_arrays(state.arrays), scores, rng, vol_multiplier=multiplier)
    return impose_targets(paths, condition, state.factors, state.kinds)  # severity move / targets, once
