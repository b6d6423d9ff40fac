"""Hypothetical (expert-judgement) scenarios: deterministic shocks written as readable text.

A spec such as ``"equity -30%, rates +200bp, credit spreads +150bp, oil -40%"`` is parsed into
per-factor shocks in *increment units* (the units of the training data, see base):

* ``%``  on a price factor (kinds in ``PRICE_KINDS``): a relative move x% becomes the log-return
  log(1 + x/100), so "-30%" means the price ends at 70% of its start.
* ``bp`` on a rate/spread factor (``BP_KINDS``): x basis points become x * ``bp_size`` level units
  (``bp_size`` = 0.0001 for decimal rates; pass 0.01 for rates quoted in percent).
* ``pts`` / ``vol pts`` on a level factor (``PTS_KINDS``, e.g. VIX): x level units.

Unshocked factors may be moved with the conditional-Gaussian projection on the historical
covariance of increments: for X ~ N(0, Σ) split into shocked s and unshocked u,

    E[X_u | X_s = s]   = Σ_us Σ_ss⁻¹ s
    Cov[X_u | X_s = s] = Σ_uu - Σ_us Σ_ss⁻¹ Σ_su

(T. W. Anderson, *An Introduction to Multivariate Statistical Analysis*, 3rd ed., 2003, Thm 2.5.1;
its use for stress tests: P. Kupiec, "Stress Testing in a Value at Risk Framework", Journal of
Derivatives 6(1), 1998). With iid daily increments the horizon total has covariance h·Σ, and the
projection coefficient Σ_us Σ_ss⁻¹ is unchanged by that scaling, so the *daily* covariance is used
to project the *total* shock.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass

import numpy as np
import scipy.linalg

from scenarios.engines.base import Condition, FittedState, check_sample_args, check_train, condition_targets

ENGINE = "hypothetical"

# Includes the dataset risk classes (scenarios.datasets.RISK_CLASSES): equity, commodity, fx are
# moved in %, rates and credit in bp, volatility and macro levels in points.
PRICE_KINDS = frozenset({"equity", "commodity", "fx", "price", "index"})
BP_KINDS = frozenset({"rate", "rates", "credit", "spread", "yield"})
PTS_KINDS = frozenset({"vol", "volatility", "level", "macro"})
KINDS = PRICE_KINDS | BP_KINDS | PTS_KINDS

# Unit spelling -> canonical unit, and which kinds accept it.
UNITS: dict[str, str] = {"%": "%", "bp": "bp", "bps": "bp", "pts": "pts", "pt": "pts", "vol pts": "vol pts",
                         "vol pt": "vol pts"}
UNIT_KINDS: dict[str, frozenset[str]] = {"%": PRICE_KINDS, "bp": BP_KINDS, "pts": PTS_KINDS, "vol pts": PTS_KINDS}

# Everyday words for a kind; the word maps to a factor only when exactly one factor has that kind.
KIND_ALIASES: dict[str, tuple[str, ...]] = {
    "equity": ("equity", "equities", "stocks"),
    "rate": ("rates", "rate", "yields", "interest rates"),
    "spread": ("credit spreads", "credit spread", "spreads", "credit"),
    "commodity": ("oil", "commodities", "commodity"),
    "vol": ("vix", "volatility", "vol"),
    "fx": ("fx", "currency", "dollar"),
}

_NUMBER = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"
# Greedy name, unit without digits: the value is the *last* number, so "UST 10Y +50bp" reads
# as factor "UST 10Y", not factor "UST" moved by 10 "Y +50bp".
_TOKEN = re.compile(rf"^(?P<name>.*\S)\s+(?P<value>{_NUMBER})\s*(?P<unit>[^\d\s.+-][^\d]*?)?\s*$")

SCHEDULES = ("linear", "day1")


@dataclass(frozen=True)
class Shock:
    """One parsed shock: ``value`` in ``unit`` as written, ``increment`` in data units."""

    factor: str
    kind: str
    value: float
    unit: str
    increment: float


def _norm(word: str) -> str:
    return " ".join(word.lower().split())


def default_factor_map(factors: Sequence[str], kinds: Sequence[str]) -> dict[str, tuple[str, str]]:
    """Aliases -> (factor, kind): every exact factor name, plus the words of ``KIND_ALIASES`` for
    each kind held by exactly one factor (with two equity factors, "equity" would be ambiguous)."""
    if len(kinds) != len(factors):
        raise ValueError(f"{len(kinds)} kinds for {len(factors)} factors")
    out: dict[str, tuple[str, str]] = {}
    for factor, kind in zip(factors, kinds, strict=True):
        if kind not in KINDS:
            raise ValueError(f"factor {factor!r} has unknown kind {kind!r}; use one of {', '.join(sorted(KINDS))}")
    for kind, words in KIND_ALIASES.items():
        holders = [f for f, k in zip(factors, kinds, strict=True) if k == kind]
        if len(holders) == 1:
            for word in words:
                out[_norm(word)] = (holders[0], kind)
    # Exact names win over kind words (a factor literally called "oil" must be itself).
    for factor, kind in zip(factors, kinds, strict=True):
        out[_norm(factor)] = (factor, kind)
    return out


def parse_shock_spec(spec: str, factor_map: Mapping[str, tuple[str, str]], bp_size: float = 1e-4) -> dict[str, Shock]:
    """Parse ``"name ±value unit, ..."`` (comma or semicolon separated) into ``{factor: Shock}``.

    ``factor_map`` maps words (matched case- and whitespace-insensitively) to ``(factor, kind)``;
    see ``default_factor_map``. Raises ValueError naming the offending token for an unreadable
    token, unknown factor, missing or unknown unit, a unit that does not fit the factor's kind,
    a move of -100% or worse, or a factor shocked twice.
    """
    if not isinstance(spec, str):
        raise ValueError(f"shock spec must be a string, got {type(spec).__name__}")
    if not (np.isfinite(bp_size) and bp_size > 0):
        raise ValueError("bp_size must be a positive finite number")
    lookup = {_norm(k): v for k, v in factor_map.items()}
    shocks: dict[str, Shock] = {}
    for raw in re.split(r"[,;]", spec):
        token = raw.strip()
        if not token:
            continue
        match = _TOKEN.match(token)
        if match is None:
            raise ValueError(f"cannot read shock {token!r}; write e.g. 'equity -30%' or 'rates +200bp'")
        name, value, unit_text = _norm(match["name"]), float(match["value"]), match["unit"]
        if name not in lookup:
            raise ValueError(f"unknown factor {match['name']!r} in {token!r}; known: {', '.join(sorted(lookup))}")
        factor, kind = lookup[name]
        if unit_text is None:
            raise ValueError(f"shock {token!r} has no unit; use %, bp or pts")
        unit = UNITS.get(_norm(unit_text))
        if unit is None:
            raise ValueError(f"unknown unit {unit_text!r} in {token!r}; use %, bp, pts or vol pts")
        if kind not in UNIT_KINDS[unit]:
            raise ValueError(f"unit {unit!r} does not fit factor {factor!r} of kind {kind!r} in {token!r}")
        if not math.isfinite(value):
            raise ValueError(f"shock {token!r} is not finite")
        if unit == "%":
            if value <= -100:
                raise ValueError(f"shock {token!r}: a price cannot fall by 100% or more")
            increment = math.log1p(value / 100.0)
        elif unit == "bp":
            increment = value * bp_size
        else:
            increment = value
        if factor in shocks:
            raise ValueError(f"factor {factor!r} is shocked twice (again in {token!r})")
        shocks[factor] = Shock(factor=factor, kind=kind, value=value, unit=unit, increment=increment)
    if not shocks:
        raise ValueError("shock spec is empty")
    return shocks


def _format_number(value: float) -> str:
    text = repr(float(value))
    if text.endswith(".0"):
        text = text[:-2]
    return text if text.startswith("-") else "+" + text


def format_shock_spec(shocks: Mapping[str, Shock]) -> str:
    """The canonical spec of parsed shocks, using exact factor names, in insertion order.

    ``parse_shock_spec(format_shock_spec(s), m) == s`` for any ``s`` parsed with a map ``m`` that
    contains the factors' own names (``default_factor_map`` does); ``repr`` keeps floats exact.
    """
    return ", ".join(f"{s.factor} {_format_number(s.value)}{s.unit if s.unit != 'vol pts' else ' vol pts'}"
                     for s in shocks.values())


def conditional_projection(cov: np.ndarray, shocked: Sequence[int],
                           values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Conditional-Gaussian mean of all factors and covariance of the rest, given X_s = values.

    Returns ``(mean[F], cond_cov[F, F])``: ``mean[s] = values``, ``mean[u] = Σ_us Σ_ss⁻¹ values``;
    ``cond_cov`` is Σ_uu - Σ_us Σ_ss⁻¹ Σ_su on the unshocked block and zero on shocked rows/columns
    (they are known exactly). Anderson (2003) Thm 2.5.1.
    """
    cov = np.asarray(cov, dtype=np.float64)
    size = cov.shape[0]
    s = np.asarray(shocked, dtype=int)
    if len(set(s.tolist())) != s.size or (s.size and (s.min() < 0 or s.max() >= size)):
        raise ValueError(f"shocked indices {s.tolist()} must be distinct and within 0..{size - 1}")
    u = np.setdiff1d(np.arange(size), s)
    mean = np.zeros(size)
    mean[s] = values
    cond = np.zeros((size, size))
    if s.size == 0:
        cond[:] = cov
        return mean, cond
    sigma_ss = cov[np.ix_(s, s)]
    try:
        factor = scipy.linalg.cho_factor(sigma_ss)
    except np.linalg.LinAlgError as exc:
        raise ValueError("covariance of the shocked factors is singular (they move in lockstep)") from exc
    if u.size:
        sigma_us = cov[np.ix_(u, s)]
        beta = scipy.linalg.cho_solve(factor, sigma_us.T).T  # Σ_us Σ_ss⁻¹
        mean[u] = beta @ np.asarray(values, dtype=np.float64)
        block = cov[np.ix_(u, u)] - beta @ sigma_us.T
        cond[np.ix_(u, u)] = (block + block.T) / 2  # symmetrise away rounding
    return mean, cond


@dataclass(frozen=True)
class Config:
    """Hypothetical-shock engine settings.

    spec: the default shock spec (a condition may override it with ``extra["shock_spec"]``).
    propagate: move unshocked factors by the conditional-Gaussian projection (else they stay 0).
    noise: add conditional residual noise N(0, Σ_u|s) per day to unshocked factors (needs propagate).
    schedule: "linear" spreads each total shock evenly over the horizon; "day1" puts it all on day 1.
    bp_size: level units of one basis point in the data (1e-4 for decimal rates, 0.01 for percent).
    """

    spec: str = ""
    propagate: bool = True
    noise: bool = False
    schedule: str = "linear"
    bp_size: float = 1e-4

    def __post_init__(self) -> None:
        if self.schedule not in SCHEDULES:
            raise ValueError(f"unknown schedule {self.schedule!r}; use one of {', '.join(SCHEDULES)}")
        if self.noise and not self.propagate:
            raise ValueError("noise needs propagate=True (residuals are conditional on the shock)")
        if not (np.isfinite(self.bp_size) and self.bp_size > 0):
            raise ValueError("bp_size must be a positive finite number")


def fit(train: np.ndarray, factors: Sequence[str], config: Config, kinds: Sequence[str] | None = None) -> FittedState:
    """Store the covariance of the training increments; check the configured spec parses."""
    if not isinstance(config, Config):
        raise ValueError(f"config must be a hypothetical.Config, got {type(config).__name__}")
    array = check_train(train, factors)
    if kinds is None:
        raise ValueError("the hypothetical engine needs factor kinds (to know what % or bp means for each factor)")
    factor_map = default_factor_map(factors, kinds)
    if config.spec:
        parse_shock_spec(config.spec, factor_map, config.bp_size)
    cov = np.cov(array, rowvar=False).reshape(len(factors), len(factors))
    return FittedState(engine=ENGINE, config=asdict(config), factors=list(factors), arrays={"cov": cov},
                       meta={"rows": int(array.shape[0])}, kinds=list(kinds))


def total_moves(state: FittedState, horizon: int, condition: Condition | None) -> tuple[np.ndarray, np.ndarray]:
    """Total move per factor over the horizon and the daily residual covariance (see ``sample``)."""
    config = Config(**state.config)
    factors, kinds = state.factors, state.kinds
    spec = config.spec
    if condition is not None and "shock_spec" in condition.extra:
        spec = condition.extra["shock_spec"]
    index = {f: i for i, f in enumerate(factors)}
    fixed: dict[int, float] = {}
    if spec:
        for factor, shock in parse_shock_spec(spec, default_factor_map(factors, kinds), config.bp_size).items():
            fixed[index[factor]] = shock.increment
    # Severity (equity drawdown) and explicit targets act as further shocks; an explicit spec wins.
    for j, move in condition_targets(condition, factors, kinds, horizon).items():
        fixed.setdefault(j, move)
    if not fixed:
        raise ValueError("nothing to shock: give a spec (config or condition.extra['shock_spec']) or targets")
    shocked = sorted(fixed)
    values = np.array([fixed[j] for j in shocked])
    if config.propagate:
        return conditional_projection(state.arrays["cov"], shocked, values)
    mean = np.zeros(len(factors))
    mean[shocked] = values
    return mean, np.zeros((len(factors), len(factors)))


def sample(state: FittedState, n: int, horizon: int, condition: Condition | None,
           rng: np.random.Generator) -> np.ndarray:
    """``n`` paths ``[n, horizon, F]``: the total shock spread over the horizon per ``schedule``.

    Without noise the paths are identical and ``rng`` is not used. With noise, each day of each
    path adds a draw of N(0, m²·Σ_u|s) on the unshocked factors (m: the condition's vol
    multiplier), so the horizon total has residual covariance h·m²·Σ_u|s around the projection.
    """
    check_sample_args(n, horizon)
    if state.engine != ENGINE:
        raise ValueError(f"state is for engine {state.engine!r}, not {ENGINE!r}")
    config = Config(**state.config)
    total, cond_cov = total_moves(state, int(horizon), condition)
    weights = np.full(horizon, 1.0 / horizon) if config.schedule == "linear" else np.eye(1, horizon)[0]
    paths = np.broadcast_to(weights[None, :, None] * total[None, None, :], (n, horizon, total.size)).copy()
    if config.noise:
        mult = condition.effective_vol_multiplier if condition is not None else 1.0
        # eigh, not Cholesky: Σ_u|s is only positive *semi*-definite (zero on shocked factors).
        evals, evecs = np.linalg.eigh(cond_cov)
        root = evecs * np.sqrt(np.clip(evals, 0.0, None))
        paths += mult * rng.standard_normal((n, horizon, total.size)) @ root.T
    return paths
