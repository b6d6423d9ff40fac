"""Multivariate normal factor Monte Carlo: daily increments F ~ N(μ, Σ), iid over the horizon.

The covariance Σ of the training increments is estimated by one of:

* ``"sample"``: the unbiased sample covariance (``np.cov``).
* ``"ewma"``: the RiskMetrics exponentially weighted estimator with decay λ (0.94 for daily
  data; J.P. Morgan/Reuters, *RiskMetrics — Technical Document*, 4th ed., 1996, §5.2.1, eq. 5.25):
  Σ = Σ_{i=0}^{T-1} w_i r_{T-i} r_{T-i}ᵀ with w_i = (1-λ) λ^i / (1 - λ^T), i.e. the recursion
  S_t = λ S_{t-1} + (1-λ) r_t r_tᵀ from S_0 = 0, normalised by (1-λ^T) so the finite weights sum
  to one. RiskMetrics assumes zero-mean daily returns, so r_t are the raw increments (not demeaned).
* ``"ledoit_wolf"``: linear shrinkage towards a scaled identity (Ledoit & Wolf, "A well-conditioned
  estimator for large-dimensional covariance matrices", J. Multivariate Analysis 88, 2004) via
  ``sklearn.covariance.LedoitWolf``.

Days are drawn independently (no volatility clustering, no autocorrelation: a deliberate,
documented simplification; use the bootstrap or GARCH engines for dynamics). Amplification
``gamma`` >= 1 scales the *shocks*, not the drift: a draw is μ + γ (F - μ), so the std of every
factor is multiplied by γ ("beyond plausible" scenarios). Conditioning uses ``base.apply_condition``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
from sklearn.covariance import LedoitWolf

from scenarios.engines.base import Condition, FittedState, apply_condition, check_sample_args, check_train

ENGINE = "factor_mc"
ESTIMATORS = ("sample", "ewma", "ledoit_wolf")
MEANS = ("sample", "zero")


@dataclass(frozen=True)
class Config:
    """estimator: "sample" | "ewma" | "ledoit_wolf"; ewma_lambda: RiskMetrics decay in (0, 1);
    gamma: shock amplification >= 1; mean: "sample" (training mean drift) or "zero"."""

    estimator: str = "sample"
    ewma_lambda: float = 0.94
    gamma: float = 1.0
    mean: str = "sample"

    def __post_init__(self) -> None:
        if self.estimator not in ESTIMATORS:
            raise ValueError(f"unknown covariance estimator {self.estimator!r}; use one of {', '.join(ESTIMATORS)}")
        if not (np.isfinite(self.ewma_lambda) and 0 < self.ewma_lambda < 1):
            raise ValueError(f"ewma_lambda must lie strictly between 0 and 1, got {self.ewma_lambda!r}")
        if not (np.isfinite(self.gamma) and self.gamma >= 1):
            raise ValueError(f"gamma must be a finite number >= 1 (amplification), got {self.gamma!r}")
        if self.mean not in MEANS:
            raise ValueError(f"unknown mean {self.mean!r}; use one of {', '.join(MEANS)}")


def ewma_covariance(increments: np.ndarray, lam: float = 0.94) -> np.ndarray:
    """RiskMetrics (1996) EWMA covariance of zero-mean increments, weights normalised to one."""
    array = np.asarray(increments, dtype=np.float64)
    if array.ndim != 2 or array.shape[0] < 1:
        raise ValueError(f"increments must be 2-D with at least one row, got shape {array.shape}")
    if not 0 < lam < 1:
        raise ValueError(f"lambda must lie strictly between 0 and 1, got {lam!r}")
    rows = array.shape[0]
    # Weight of row t (0-based, last row newest) is (1-λ) λ^(T-1-t); closed form of the recursion.
    weights = (1 - lam) * lam ** np.arange(rows - 1, -1, -1, dtype=np.float64)
    weights /= weights.sum()
    return (array * weights[:, None]).T @ array


def estimate_covariance(increments: np.ndarray, config: Config) -> np.ndarray:
    if config.estimator == "sample":
        return np.atleast_2d(np.cov(increments, rowvar=False))
    if config.estimator == "ewma":
        return ewma_covariance(increments, config.ewma_lambda)
    return LedoitWolf(assume_centered=False).fit(increments).covariance_


def _root(cov: np.ndarray) -> np.ndarray:
    """A matrix A with A Aᵀ = cov; eigh so a semi-definite Σ (collinear factors) still works."""
    try:
        return np.linalg.cholesky(cov)
    except np.linalg.LinAlgError:
        evals, evecs = np.linalg.eigh(cov)
        return evecs * np.sqrt(np.clip(evals, 0.0, None))


def fit(train: np.ndarray, factors: Sequence[str], config: Config, kinds: Sequence[str] | None = None) -> FittedState:
    """Estimate μ and Σ of the training increments."""
    if not isinstance(config, Config):
        raise ValueError(f"config must be a factor_mc.Config, got {type(config).__name__}")
    array = check_train(train, factors)
    if kinds is not None and len(kinds) != len(factors):
        raise ValueError(f"{len(kinds)} kinds for {len(factors)} factors")
    mean = array.mean(axis=0) if config.mean == "sample" else np.zeros(array.shape[1])
    cov = estimate_covariance(array, config)
    if not np.isfinite(cov).all():
        raise ValueError("estimated covariance is not finite")
    return FittedState(engine=ENGINE, config=asdict(config), factors=list(factors),
                       arrays={"mean": mean, "cov": cov}, meta={"rows": int(array.shape[0])},
                       kinds=list(kinds) if kinds is not None else None)


def sample(state: FittedState, n: int, horizon: int, condition: Condition | None,
           rng: np.random.Generator) -> np.ndarray:
    """``n`` paths ``[n, horizon, F]`` of iid daily draws μ + γ·A z, z ~ N(0, I), A Aᵀ = Σ."""
    check_sample_args(n, horizon)
    if state.engine != ENGINE:
        raise ValueError(f"state is for engine {state.engine!r}, not {ENGINE!r}")
    config = Config(**state.config)
    mean, cov = state.arrays["mean"], state.arrays["cov"]
    z = rng.standard_normal((int(n), int(horizon), mean.size))
    paths = mean + config.gamma * (z @ _root(cov).T)
    return apply_condition(paths, condition, state.factors, state.kinds)
