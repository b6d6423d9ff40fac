"""Portfolio revaluation of scenario sets: P&L per scenario and per horizon day.

Scenarios are increments ``[n, horizon, F]`` with factor names (log-returns for price factors,
differences for rates/levels; see scenarios.engines.base). The factor move *up to* horizon day
``d`` (1-based) is the cumulative sum of the increments of days ``1..d``; every position is
revalued on that cumulative move, so ``PnL.by_day[:, d-1]`` is the P&L accumulated up to day ``d``
and ``PnL.final == PnL.by_day[:, -1]``.

Position kinds
--------------
* ``LinearPosition`` / ``QuadraticPosition``: the delta(-gamma) approximation
  ``R = wᵀX + vᵀ(X∘X)`` on the cumulative move ``X`` (diagonal quadratic term, per factor).
  All such positions are aggregated into two vectors ``w, v ∈ R^F`` and evaluated with matrix
  products on chunks of scenarios (memory bounded by ``chunk_elements``).
* ``OptionPosition``: European call/put, full revaluation with the Black–Scholes–Merton formula
  with a continuous dividend yield (Black & Scholes 1973, J. Political Economy 81(3):637–654;
  Merton 1973, Bell J. Econ. 4(1):141–183; Hull, *Options, Futures, and Other Derivatives*,
  11th ed., §15.8/§17.4). Spot ``S = S0·exp(X_equity)``; implied vol ``σ = σ0 + vol_scale·ΔX_vol``
  (e.g. VIX points × 0.01 → annualised vol), floored at ``MIN_VOL``; rate
  ``r = r0 + rate_scale·ΔX_rate``; time to expiry ``T − d/days_per_year``. Past expiry the option
  is worth its intrinsic value at that day's spot (held as cash).
* ``BondPosition``: fixed-rate bullet bond, full price (not duration/convexity) at the shocked
  yield ``y = y0 + rate_scale·ΔX_rate (+ spread_scale·ΔX_spread)``:
  ``P = Σ_i c/(1+y/f)^(f·t_i) + face/(1+y/f)^(f·T)`` with ``c = face·coupon/f`` and coupon times
  ``t_i = T − k/f > 0`` (Fabozzi, *Bond Markets, Analysis and Strategies*, ch. 2; Hull §4.4).
  Prices are dirty (full) prices. The coupon sum is a geometric series and is evaluated in closed
  form, ``c·((1+y/f)^K − 1)/(y/f)`` for the ``K`` remaining coupons, which is algebraically identical
  to the explicit sum (tested against it). As the horizon advances cash flows with ``t_i ≤ d/days``
  are received as cash (no reinvestment), so P&L = price_d + cash received − price_0.

P&L of every kind is ``quantity × (value_d − value_0)`` (linear/quadratic: the formula itself).
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import MISSING, asdict, dataclass, field, fields
from typing import Any, ClassVar

import numpy as np
from scipy.special import ndtr

MIN_VOL = 1e-4  # vol floor: a large negative vol-factor shock must not give σ ≤ 0 (BS undefined)
DEFAULT_DAYS_PER_YEAR = 252.0
DEFAULT_CHUNK_ELEMENTS = 1 << 17  # 1 MiB of float64 per intermediate array: cache-friendly, bounded memory


# ── position spec ───────────────────────────────────────────────────────────────────────────
def _finite(value: Any, what: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be a number, got {value!r}") from None
    if not math.isfinite(number):
        raise ValueError(f"{what} must be finite, got {value!r}")
    return number


@dataclass(frozen=True)
class LinearPosition:
    """P&L = exposure · X, X the cumulative move of ``factor`` (currency per unit of move)."""

    factor: str
    exposure: float
    name: str = ""
    kind: ClassVar[str] = "linear"

    def validate(self) -> None:
        _finite(self.exposure, f"position {self.name or self.factor!r}: exposure")


@dataclass(frozen=True)
class QuadraticPosition:
    """P&L = exposure · X + convexity · X² (delta–gamma with ``convexity = Γ/2`` in move units)."""

    factor: str
    convexity: float
    exposure: float = 0.0
    name: str = ""
    kind: ClassVar[str] = "quadratic"

    def validate(self) -> None:
        label = self.name or self.factor
        _finite(self.exposure, f"position {label!r}: exposure")
        _finite(self.convexity, f"position {label!r}: convexity")


@dataclass(frozen=True)
class OptionPosition:
    """A European option on an equity factor, revalued with Black–Scholes–Merton.

    underlying: equity factor (log-return increments); spot: S0; strike: K > 0; expiry: years > 0;
    vol: σ0 > 0 (annualised, decimal); rate: r0 (continuously compounded, decimal);
    vol_factor / rate_factor: optional factor names whose level changes shift σ and r, scaled by
    vol_scale / rate_scale (default 0.01: factor levels in percentage points, as VIX and yields).
    quantity: number of options (negative = written).
    """

    underlying: str
    option_type: str
    quantity: float
    strike: float
    expiry: float
    spot: float
    vol: float
    rate: float = 0.0
    dividend_yield: float = 0.0
    vol_factor: str | None = None
    rate_factor: str | None = None
    vol_scale: float = 0.01
    rate_scale: float = 0.01
    name: str = ""
    kind: ClassVar[str] = "option"

    def validate(self) -> None:
        label = f"position {self.name or self.underlying!r}"
        if self.option_type not in ("call", "put"):
            raise ValueError(f"{label}: option_type must be 'call' or 'put', got {self.option_type!r}")
        _finite(self.quantity, f"{label}: quantity")
        for attr in ("strike", "expiry", "spot", "vol"):
            if _finite(getattr(self, attr), f"{label}: {attr}") <= 0:
                raise ValueError(f"{label}: {attr} must be > 0, got {getattr(self, attr)!r}")
        for attr in ("rate", "dividend_yield", "vol_scale", "rate_scale"):
            _finite(getattr(self, attr), f"{label}: {attr}")


@dataclass(frozen=True)
class BondPosition:
    """A fixed-rate bullet bond, fully repriced from the shocked yield.

    rate_factor: the yield factor (level differences); yield0: y0 (decimal, compounded ``frequency``
    times a year); coupon: annual coupon rate (decimal); maturity: years > 0; face: redemption per
    bond; frequency: coupons per year (1, 2, 4, 12); quantity: number of bonds;
    spread_factor: optional credit-spread factor added to the yield; rate_scale / spread_scale:
    factor units → decimal yield (default 0.01: percentage points).
    """

    rate_factor: str
    quantity: float
    coupon: float
    maturity: float
    yield0: float
    face: float = 100.0
    frequency: int = 2
    spread_factor: str | None = None
    rate_scale: float = 0.01
    spread_scale: float = 0.01
    name: str = ""
    kind: ClassVar[str] = "bond"

    def validate(self) -> None:
        label = f"position {self.name or self.rate_factor!r}"
        _finite(self.quantity, f"{label}: quantity")
        if _finite(self.maturity, f"{label}: maturity") <= 0:
            raise ValueError(f"{label}: maturity must be > 0, got {self.maturity!r}")
        if _finite(self.face, f"{label}: face") <= 0:
            raise ValueError(f"{label}: face must be > 0, got {self.face!r}")
        if _finite(self.coupon, f"{label}: coupon") < 0:
            raise ValueError(f"{label}: coupon must be >= 0, got {self.coupon!r}")
        if isinstance(self.frequency, bool) or not isinstance(self.frequency, int) or self.frequency < 1:
            raise ValueError(f"{label}: frequency must be a positive integer, got {self.frequency!r}")
        if _finite(self.yield0, f"{label}: yield0") <= -self.frequency:
            raise ValueError(f"{label}: yield0 must be > -frequency, got {self.yield0!r}")
        _finite(self.rate_scale, f"{label}: rate_scale")
        _finite(self.spread_scale, f"{label}: spread_scale")


Position = LinearPosition | QuadraticPosition | OptionPosition | BondPosition
POSITION_TYPES: dict[str, type] = {cls.kind: cls for cls in (LinearPosition, QuadraticPosition, OptionPosition,
                                                             BondPosition)}


def position_to_dict(position: Position) -> dict[str, Any]:
    return {"kind": position.kind, **asdict(position)}


def position_from_dict(data: Mapping[str, Any]) -> Position:
    """Build a position from ``{"kind": ..., **fields}``; unknown/missing keys raise ValueError."""
    if not isinstance(data, Mapping):
        raise ValueError(f"a position must be a mapping, got {type(data).__name__}")
    kind = data.get("kind")
    if kind not in POSITION_TYPES:
        raise ValueError(f"position kind must be one of {sorted(POSITION_TYPES)}, got {kind!r}")
    cls = POSITION_TYPES[kind]
    allowed = {f.name for f in fields(cls)}
    unknown = sorted(set(data) - allowed - {"kind"})
    if unknown:
        raise ValueError(f"{kind} position: unknown field(s) {unknown}")
    required = {f.name for f in fields(cls) if f.default is MISSING and f.default_factory is MISSING}
    missing = sorted(required - set(data))
    if missing:
        raise ValueError(f"{kind} position: missing field(s) {missing}")
    position = cls(**{k: v for k, v in data.items() if k != "kind"})
    position.validate()
    return position


@dataclass(frozen=True)
class Portfolio:
    """A named list of positions (plain data; ``to_dict``/``from_dict`` round-trip)."""

    positions: tuple[Position, ...]
    name: str = ""
    currency: str = "USD"

    def __post_init__(self) -> None:
        object.__setattr__(self, "positions", tuple(self.positions))
        if not self.positions:
            raise ValueError("portfolio has no positions")
        for position in self.positions:
            if not isinstance(position, tuple(POSITION_TYPES.values())):
                raise ValueError(f"not a position: {position!r}")
            position.validate()

    @property
    def factors(self) -> tuple[str, ...]:
        """Every factor name the portfolio references, in first-use order."""
        seen: dict[str, None] = {}
        for position in self.positions:
            for attr in ("factor", "underlying", "vol_factor", "rate_factor", "spread_factor"):
                value = getattr(position, attr, None)
                if value:
                    seen.setdefault(value)
        return tuple(seen)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "currency": self.currency,
                "positions": [position_to_dict(p) for p in self.positions]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Portfolio:
        if not isinstance(data, Mapping) or "positions" not in data:
            raise ValueError("portfolio dict needs a 'positions' list")
        positions = []
        for i, item in enumerate(data["positions"]):
            try:
                positions.append(position_from_dict(item))
            except (TypeError, ValueError) as error:
                raise ValueError(f"positions[{i}]: {error}") from None
        return cls(positions=tuple(positions), name=str(data.get("name", "")),
                   currency=str(data.get("currency", "USD")))


# ── CSV upload ──────────────────────────────────────────────────────────────────────────────
#: CSV columns (header names, case-insensitive, order free; empty cell = not given/default):
#: kind (linear|quadratic|option|bond, required), name,
#: linear/quadratic: factor, exposure, convexity;
#: option: underlying, option_type (call|put), quantity, strike, expiry (years), spot, vol,
#:         rate, dividend_yield, vol_factor, rate_factor, vol_scale, rate_scale;
#: bond: rate_factor, quantity, coupon, maturity (years), yield0, face, frequency, spread_factor,
#:       rate_scale, spread_scale.
CSV_COLUMNS: dict[str, tuple[str, ...]] = {
    kind: tuple(f.name for f in fields(cls)) for kind, cls in POSITION_TYPES.items()
}
_STRING_FIELDS = {"factor", "underlying", "option_type", "vol_factor", "rate_factor", "spread_factor", "name"}
_INT_FIELDS = {"frequency"}


def portfolio_from_csv_rows(rows: Iterable[Mapping[str, Any]], name: str = "") -> Portfolio:
    """A portfolio from CSV rows (``csv.DictReader`` dicts). Errors name the row (1-based data row,
    the header being row 0) and the column. Columns not used by a row's kind must be empty."""
    positions: list[Position] = []
    known = {c for cols in CSV_COLUMNS.values() for c in cols} | {"kind"}
    for index, raw in enumerate(rows, start=1):
        row = {str(k).strip().lower(): ("" if v is None else str(v).strip()) for k, v in raw.items() if k is not None}
        unknown = sorted(k for k in row if k not in known)
        if unknown:
            raise ValueError(f"row {index}: unknown column(s) {unknown}")
        kind = row.get("kind", "").lower()
        if kind not in POSITION_TYPES:
            raise ValueError(f"row {index}, column 'kind': must be one of {sorted(POSITION_TYPES)}, got {kind!r}")
        allowed = set(CSV_COLUMNS[kind])
        values: dict[str, Any] = {}
        for column, text in row.items():
            if column == "kind" or text == "":
                continue
            if column not in allowed:
                raise ValueError(f"row {index}, column {column!r}: not used by a {kind} position (leave empty)")
            if column in _STRING_FIELDS:
                values[column] = text.lower() if column == "option_type" else text
            elif column in _INT_FIELDS:
                try:
                    values[column] = int(text)
                except ValueError:
                    raise ValueError(f"row {index}, column {column!r}: not an integer: {text!r}") from None
            else:
                try:
                    number = float(text)
                except ValueError:
                    raise ValueError(f"row {index}, column {column!r}: not a number: {text!r}") from None
                if not math.isfinite(number):
                    raise ValueError(f"row {index}, column {column!r}: not finite: {text!r}")
                values[column] = number
        cls = POSITION_TYPES[kind]
        for f in fields(cls):
            if f.default is MISSING and f.default_factory is MISSING and f.name not in values:
                raise ValueError(f"row {index}, column {f.name!r}: required for a {kind} position")
        try:
            position = cls(**values)
            position.validate()
        except ValueError as error:
            raise ValueError(f"row {index}: {error}") from None
        positions.append(position)
    if not positions:
        raise ValueError("CSV has no position rows")
    return Portfolio(positions=tuple(positions), name=name)


# ── pricing functions (vectorised, broadcasting) ────────────────────────────────────────────
def black_scholes_price(spot, strike, expiry, rate, vol, dividend_yield=0.0, option_type: str = "call"):
    """Black–Scholes–Merton price of a European option; all numeric arguments broadcast.

    c = S e^{-qT} N(d1) − K e^{-rT} N(d2), p = K e^{-rT} N(−d2) − S e^{-qT} N(−d1),
    d1 = (ln(S/K) + (r − q + σ²/2)T)/(σ√T), d2 = d1 − σ√T (Black & Scholes 1973; Merton 1973;
    Hull, 11th ed., eq. 15.20–15.21 and 17.4). Where ``expiry <= 0`` the intrinsic value is returned.
    """
    if option_type not in ("call", "put"):
        raise ValueError(f"option_type must be 'call' or 'put', got {option_type!r}")
    spot, strike, expiry, rate, vol, q = np.broadcast_arrays(*(np.asarray(a, dtype=np.float64) for a in (
        spot, strike, expiry, rate, vol, dividend_yield)))
    if np.any(strike <= 0):
        raise ValueError("strike must be > 0")
    if np.any(spot < 0):
        raise ValueError("spot must be >= 0")
    live = expiry > 0
    t = np.where(live, expiry, 1.0)
    sqrt_t = np.sqrt(t)
    sig = np.maximum(vol, MIN_VOL)
    sigma_sqrt_t = sig * sqrt_t
    with np.errstate(divide="ignore"):
        d1 = (np.log(spot / strike) + (rate - q + 0.5 * sig * sig) * t) / sigma_sqrt_t
    d2 = d1 - sigma_sqrt_t
    fwd_spot = spot * np.exp(-q * t)
    disc_strike = strike * np.exp(-rate * t)
    if option_type == "call":
        price = fwd_spot * ndtr(d1) - disc_strike * ndtr(d2)
        intrinsic = np.maximum(spot - strike, 0.0)
    else:
        price = disc_strike * ndtr(-d2) - fwd_spot * ndtr(-d1)
        intrinsic = np.maximum(strike - spot, 0.0)
    return np.where(live, price, intrinsic)


def bond_cashflow_times(maturity: float, frequency: int) -> np.ndarray:
    """Coupon times ``t_i = T − k/f > 0`` (ascending), the last one being the maturity."""
    count = int(math.ceil(maturity * frequency - 1e-9))
    times = maturity - np.arange(count, dtype=np.float64) / frequency
    return np.sort(times[times > 1e-12])


def bond_price(yield_, face: float, coupon: float, maturity: float, frequency: int = 2, elapsed: float = 0.0):
    """Full (dirty) price of a fixed-rate bond at yield(s) ``yield_`` after ``elapsed`` years.

    P = Σ_{t_i>τ} c (1+y/f)^{-f(t_i−τ)} + face (1+y/f)^{-f(T−τ)}, c = face·coupon/f (Fabozzi ch. 2;
    Hull §4.4). The coupon sum over the K remaining equally spaced coupons is the geometric series
    (1+y/f)^{-f(T−τ)} · c · ((1+y/f)^K − 1)/(y/f), evaluated with expm1/log1p (limit c·K at y → 0).
    Returns 0 when the bond has matured (τ ≥ T).
    """
    y = np.asarray(yield_, dtype=np.float64)
    if frequency < 1:
        raise ValueError(f"frequency must be >= 1, got {frequency!r}")
    if np.any(y <= -frequency):
        raise ValueError("yield must be > -frequency (1 + y/f must be positive)")
    remaining = maturity - elapsed
    if remaining <= 1e-12:
        return np.zeros_like(y)
    times = bond_cashflow_times(maturity, frequency)
    k = int(np.count_nonzero(times - elapsed > 1e-12))
    per = y / frequency
    log_g = np.log1p(per)
    small = np.abs(per) < 1e-12
    safe = np.where(small, 1.0, per)
    annuity = np.where(small, float(k), np.expm1(k * log_g) / safe)
    coupon_cash = face * coupon / frequency
    return np.exp(-frequency * remaining * log_g) * (coupon_cash * annuity + face)


def bond_cash_received(face: float, coupon: float, maturity: float, frequency: int, elapsed: float) -> float:
    """Coupons (and redemption) paid in ``(0, elapsed]`` per bond, not reinvested."""
    times = bond_cashflow_times(maturity, frequency)
    paid = int(np.count_nonzero(times <= elapsed + 1e-12))
    cash = paid * face * coupon / frequency
    if maturity <= elapsed + 1e-12:
        cash += face
    return cash


# ── revaluation ─────────────────────────────────────────────────────────────────────────────
@dataclass(frozen=True)
class PnL:
    """P&L of a portfolio per scenario.

    by_day: ``[n, horizon]`` P&L accumulated up to each horizon day; final: ``[n]`` (last day);
    by_kind: final P&L per position kind present (``linear`` covers linear and quadratic).
    """

    by_day: np.ndarray
    final: np.ndarray
    by_kind: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def losses(self) -> np.ndarray:
        return -self.final

    def to_dict(self) -> dict[str, Any]:
        return {"n": int(self.by_day.shape[0]), "horizon": int(self.by_day.shape[1]),
                "mean": float(self.final.mean()), "std": float(self.final.std()),
                "min": float(self.final.min()), "max": float(self.final.max()),
                "by_kind_mean": {k: float(v.mean()) for k, v in self.by_kind.items()}}


def _check_scenarios(scenarios: np.ndarray, factors: Sequence[str]) -> tuple[np.ndarray, dict[str, int]]:
    array = np.asarray(scenarios)
    if array.ndim == 2:
        array = array[:, None, :]
    if array.ndim != 3:
        raise ValueError(f"scenarios must have shape [n, horizon, F] (or [n, F]), got {array.shape}")
    if not np.issubdtype(array.dtype, np.floating) and not np.issubdtype(array.dtype, np.integer):
        raise ValueError(f"scenarios must be numeric, got dtype {array.dtype}")
    n, horizon, width = array.shape
    if n == 0 or horizon == 0:
        raise ValueError(f"scenarios are empty: shape {array.shape}")
    factors = list(factors)
    if len(factors) != width:
        raise ValueError(f"{len(factors)} factor names for {width} scenario columns")
    index = {}
    for i, name in enumerate(factors):
        if name in index:
            raise ValueError(f"duplicate factor name {name!r}")
        index[name] = i
    return array, index


def _factor(index: dict[str, int], name: str | None, label: str) -> int:
    if name is None:
        return -1
    if name not in index:
        raise ValueError(f"position {label!r} references unknown factor {name!r}")
    return index[name]


def _optional_move(cum: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """The cumulative move of an optional factor per position, 0 where the position has none (-1)."""
    move = cum[:, :, np.maximum(idx, 0)]
    if (idx < 0).any():
        move *= idx >= 0
    return move


def _matvec(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """[rows, horizon, P] @ [P] as one 2-D BLAS gemv (a 3-D matmul would loop over rows)."""
    rows, horizon, width = values.shape
    return (values.reshape(rows * horizon, width) @ weights).reshape(rows, horizon)


def _weighted_sum(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Σ_p values[:, d, p] · weights[d, p] → [rows, horizon] (BLAS matvec for one day, else einsum)."""
    if values.shape[1] == 1:
        return (values[:, 0, :] @ weights[0])[:, None]
    return np.einsum("chp,hp->ch", values, weights)


class _Plan:
    """Positions compiled into arrays once, evaluated chunk by chunk."""

    def __init__(self, portfolio: Portfolio, index: dict[str, int], horizon: int, days_per_year: float):
        width = len(index)
        self.w = np.zeros(width)
        self.v = np.zeros(width)
        self.has_linear = False
        opts: list[OptionPosition] = []
        bonds: list[BondPosition] = []
        for pos in portfolio.positions:
            if isinstance(pos, LinearPosition | QuadraticPosition):
                j = _factor(index, pos.factor, pos.name or pos.factor)
                self.w[j] += pos.exposure
                if isinstance(pos, QuadraticPosition):
                    self.v[j] += pos.convexity
                self.has_linear = True
            elif isinstance(pos, OptionPosition):
                opts.append(pos)
            else:
                bonds.append(pos)
        self.has_quadratic = bool(np.any(self.v != 0))
        taus = np.arange(1, horizon + 1, dtype=np.float64) / days_per_year  # elapsed years per day
        self.options: dict[str, Any] | None = None
        if opts:
            o = {a: np.array([getattr(p, a) for p in opts], dtype=np.float64) for a in (
                "quantity", "strike", "expiry", "spot", "vol", "rate", "dividend_yield", "vol_scale", "rate_scale")}
            o["is_put"] = np.array([p.option_type == "put" for p in opts])
            o["eq"] = np.array([_factor(index, p.underlying, p.name or p.underlying) for p in opts])
            o["volf"] = np.array([_factor(index, p.vol_factor, p.name or p.underlying) for p in opts])
            o["ratef"] = np.array([_factor(index, p.rate_factor, p.name or p.underlying) for p in opts])
            o["price0"] = np.array([float(black_scholes_price(p.spot, p.strike, p.expiry, p.rate, p.vol,
                                                              p.dividend_yield, p.option_type)) for p in opts])
            t_left = o["expiry"][None, :] - taus[:, None]  # [horizon, P]
            o["expired"] = t_left <= 0
            o["any_expired"] = bool(o["expired"].any())
            o["t"] = np.where(o["expired"], 1.0, t_left)  # placeholder T for expired (replaced by intrinsic)
            o["sqrt_t"] = np.sqrt(o["t"])
            o["log_moneyness0"] = np.log(o["spot"] / o["strike"])
            o["fwd_disc"] = np.exp(-o["dividend_yield"] * o["t"])  # e^{-qT}
            o["const_vol"] = bool(np.all(o["volf"] < 0))
            o["const_rate"] = bool(np.all(o["ratef"] < 0))
            if o["const_rate"]:
                o["strike_disc"] = o["strike"] * np.exp(-o["rate"] * o["t"])  # K e^{-rT}, [horizon, P]
            if o["const_vol"]:
                o["sig_sqrt_t"] = o["vol"] * o["sqrt_t"]
            o["div_t"] = o["dividend_yield"] * o["t"]
            o["drift0"] = (o["rate"] - o["dividend_yield"]) * o["t"]
            o["fwd0"] = o["spot"] * o["fwd_disc"]
            self.options = o
        self.bonds: dict[str, Any] | None = None
        if bonds:
            b = {a: np.array([getattr(p, a) for p in bonds], dtype=np.float64) for a in (
                "quantity", "coupon", "maturity", "yield0", "face", "frequency", "rate_scale", "spread_scale")}
            b["ratef"] = np.array([_factor(index, p.rate_factor, p.name or p.rate_factor) for p in bonds])
            b["spreadf"] = np.array([_factor(index, p.spread_factor, p.name or p.rate_factor) for p in bonds])
            b["price0"] = np.array([float(bond_price(p.yield0, p.face, p.coupon, p.maturity, p.frequency))
                                    for p in bonds])
            # per horizon day [horizon, B]: remaining years, remaining coupon count, cash received so far
            remaining = b["maturity"][None, :] - taus[:, None]
            b["alive"] = remaining > 1e-12
            b["any_matured"] = bool((~b["alive"]).any())
            b["minus_f_rem"] = -b["frequency"] * np.maximum(remaining, 0.0)
            b["k"] = np.array([[np.count_nonzero(bond_cashflow_times(p.maturity, p.frequency) - t > 1e-12)
                                for p in bonds] for t in taus], dtype=np.float64)
            b["coupon_cash"] = b["face"] * b["coupon"] / b["frequency"]
            cash = np.array([[bond_cash_received(p.face, p.coupon, p.maturity, p.frequency, t) for p in bonds]
                             for t in taus])
            b["base"] = (cash - b["price0"]) @ b["quantity"]  # [horizon]: P&L of the cash legs
            self.bonds = b

    def _options(self, cum: np.ndarray) -> np.ndarray:
        """Black–Scholes–Merton P&L on [rows, horizon, P] (Hull eq. 15.20, 17.4), summed over options.

        Puts by put–call parity p = c − S e^{-qT} + K e^{-rT}; ln(S/K) = ln(S0/K) + X needs no log;
        the constant per-(day, option) weights are folded into the final weighted sums.
        """
        o = self.options
        x = cum[:, :, o["eq"]]
        if o["const_vol"]:
            sig_sqrt_t = o["sig_sqrt_t"]
        else:
            sig_sqrt_t = _optional_move(cum, o["volf"])
            sig_sqrt_t *= o["vol_scale"]
            sig_sqrt_t += o["vol"]
            np.maximum(sig_sqrt_t, MIN_VOL, out=sig_sqrt_t)
            sig_sqrt_t *= o["sqrt_t"]
        # d1 = (ln(S/K) + (r − q)T)/(σ√T) + σ√T/2, d2 = d1 − σ√T
        d1 = x + o["log_moneyness0"]
        if o["const_rate"]:
            d1 += o["drift0"]
            strike_disc = o["strike_disc"]
        else:
            rate_t = _optional_move(cum, o["ratef"])
            rate_t *= o["rate_scale"]
            rate_t += o["rate"]
            rate_t *= o["t"]
            d1 += rate_t
            d1 -= o["div_t"]
            strike_disc = np.exp(-rate_t, out=rate_t)
            strike_disc *= o["strike"]
        d1 /= sig_sqrt_t
        d1 += 0.5 * sig_sqrt_t
        d2 = d1 - sig_sqrt_t
        growth = np.exp(x, out=x)  # S/S0
        n1 = ndtr(d1, out=d1)
        n2 = ndtr(d2, out=d2)
        q = o["quantity"]
        if o["any_expired"]:
            spot = growth * o["spot"]
            fwd = spot * o["fwd_disc"]
            price = n1 * fwd - n2 * strike_disc
            price += np.where(o["is_put"], strike_disc - fwd, 0.0)
            intrinsic = np.where(o["is_put"], o["strike"] - spot, spot - o["strike"])
            price = np.where(o["expired"], np.maximum(intrinsic, 0.0), price)
            return _matvec(price, q) - o["price0"] @ q
        fwd0 = o["fwd0"]  # S0 e^{-qT}, [horizon, P]
        pnl = np.full(growth.shape[:2], -(o["price0"] @ q))
        if o["is_put"].any():
            put_q = q * o["is_put"]
            pnl -= _weighted_sum(growth, fwd0 * put_q)
            pnl += (strike_disc @ put_q)[None, :] if o["const_rate"] else _matvec(strike_disc, put_q)
        growth *= n1
        pnl += _weighted_sum(growth, fwd0 * q)
        if o["const_rate"]:
            pnl -= _weighted_sum(n2, strike_disc * q)
        else:
            n2 *= strike_disc
            pnl -= _matvec(n2, q)
        return pnl

    def _bonds(self, cum: np.ndarray) -> np.ndarray:
        """Full bond prices on [rows, horizon, B]: g = 1 + y/f, P = g^{-f(T−τ)} (c (g^K − 1)/(y/f) + face)."""
        b = self.bonds
        per = cum[:, :, b["ratef"]]
        per *= b["rate_scale"]
        per += b["yield0"]
        if np.any(b["spreadf"] >= 0):
            spread = _optional_move(cum, b["spreadf"])
            spread *= b["spread_scale"]
            per += spread
        per /= b["frequency"]
        np.maximum(per, -1.0 + 1e-9, out=per)  # 1 + y/f > 0; only reached by absurd shocks
        log_g = np.log1p(per)
        annuity = np.expm1(b["k"] * log_g)
        small = np.abs(per) < 1e-12
        if small.any():
            per[small] = 1.0
            annuity /= per
            annuity[small] = np.broadcast_to(b["k"], annuity.shape)[small]
        else:
            annuity /= per
        annuity *= b["coupon_cash"]
        annuity += b["face"]
        log_g *= b["minus_f_rem"]
        price = np.exp(log_g, out=log_g)
        price *= annuity
        if b["any_matured"]:
            price *= b["alive"]
        return _matvec(price, b["quantity"]) + b["base"]

    def run(self, chunk: np.ndarray, out_day: np.ndarray, out_kind: dict[str, np.ndarray]) -> None:
        cum = np.cumsum(chunk, axis=1, dtype=np.float64) if chunk.shape[1] > 1 else chunk.astype(np.float64)
        if self.has_linear:
            lin = _matvec(cum, self.w)
            if self.has_quadratic:
                lin += _matvec(cum * cum, self.v)
            out_day += lin
            out_kind["linear"][:] = lin[:, -1]
        if self.options is not None:
            pnl = self._options(cum)
            out_day += pnl
            out_kind["option"][:] = pnl[:, -1]
        if self.bonds is not None:
            pnl = self._bonds(cum)
            out_day += pnl
            out_kind["bond"][:] = pnl[:, -1]


def revalue(scenarios: np.ndarray, factors: Sequence[str], portfolio: Portfolio, *,
            days_per_year: float = DEFAULT_DAYS_PER_YEAR, chunk_elements: int = DEFAULT_CHUNK_ELEMENTS,
            workers: int | None = None, progress: Callable[[int, int], None] | None = None) -> PnL:
    """Revalue ``portfolio`` on every scenario and horizon day.

    scenarios: ``[n, horizon, F]`` increments (a ``[n, F]`` array is one horizon day); factors: the
    F names; chunk_elements bounds the size of each intermediate array (scenarios are processed in
    row chunks); workers: threads over chunks (numpy releases the GIL; default min(2, cpus));
    progress: optional callback ``progress(scenarios_done, n)`` called after each chunk.
    Returns ``PnL`` with ``by_day [n, horizon]`` and ``final [n]``.
    """
    if not isinstance(portfolio, Portfolio):
        raise ValueError(f"portfolio must be a Portfolio, got {type(portfolio).__name__}")
    if not (math.isfinite(days_per_year) and days_per_year > 0):
        raise ValueError(f"days_per_year must be > 0, got {days_per_year!r}")
    if int(chunk_elements) < 1:
        raise ValueError(f"chunk_elements must be >= 1, got {chunk_elements!r}")
    array, index = _check_scenarios(scenarios, factors)
    n, horizon, width = array.shape
    plan = _Plan(portfolio, index, horizon, days_per_year)  # unknown factors raise before any work
    n_opt = 0 if plan.options is None else len(plan.options["quantity"])
    n_bond = 0 if plan.bonds is None else len(plan.bonds["quantity"])
    per_row = horizon * max(width, n_opt, n_bond, 1)
    rows = max(1, min(n, int(chunk_elements) // per_row))
    workers = workers if workers is not None else min(2, os.cpu_count() or 1)
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers!r}")

    by_day = np.zeros((n, horizon))
    kinds = []
    if plan.has_linear:
        kinds.append("linear")
    if plan.options is not None:
        kinds.append("option")
    if plan.bonds is not None:
        kinds.append("bond")
    by_kind = {k: np.zeros(n) for k in kinds}

    def work(start: int) -> None:
        stop = min(n, start + rows)
        chunk = array[start:stop]
        # NaN/inf are checked per chunk (a full pass over 10^8 values up front would cost a pass)
        if not np.isfinite(chunk).all():
            bad = start + int(np.argwhere(~np.isfinite(chunk).reshape(stop - start, -1).all(axis=1))[0, 0])
            raise ValueError(f"scenarios contain NaN or inf (scenario {bad})")
        plan.run(chunk, by_day[start:stop], {k: v[start:stop] for k, v in by_kind.items()})

    starts = range(0, n, rows)
    done = 0
    if workers == 1 or len(starts) == 1:
        for start in starts:
            work(start)
            done = min(n, start + rows)
            if progress is not None:
                progress(done, n)
    else:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            futures = [pool.submit(work, s) for s in starts]
            try:
                for start, future in zip(starts, futures, strict=True):
                    future.result()
                    if progress is not None:
                        progress(min(n, start + rows), n)
            finally:
                for future in futures:
                    future.cancel()
    return PnL(by_day=by_day, final=by_day[:, -1].copy(), by_kind=by_kind)
