"""VaR / ES backtests of a reference portfolio: the scenarios' risk figures against realised holdout P&L.

Tier ``risk_backtest``. The scenario set is treated as a forecast distribution of the portfolio's
``horizon``-day P&L; its VaR and ES are compared with what the holdout actually delivered.

References
----------
* Kupiec, P. (1995). "Techniques for verifying the accuracy of risk measurement models."
  Journal of Derivatives 3(2), 73–84 — proportion-of-failures (POF) likelihood-ratio test.
* Christoffersen, P. (1998). "Evaluating interval forecasts." International Economic Review
  39(4), 841–862 — Markov independence test and conditional coverage ``LR_cc = LR_pof + LR_ind``.
* Basel Committee on Banking Supervision (1996). "Supervisory framework for the use of
  'backtesting' in conjunction with the internal models approach to market risk capital
  requirements" — the traffic-light zones and plus factors (Table 2).
* Acerbi, C. & Székely, B. (2014). "Backtesting expected shortfall." Risk, December 2014 —
  the ``Z2`` statistic.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from scipy import stats
from scipy.special import xlogy

from validation.metrics.result import MetricResult, check_real, check_synthetic, horizon_sums

TIER = "risk_backtest"

KUPIEC_REF = "Kupiec (1995), J. Derivatives 3(2):73-84, proportion-of-failures LR test"
CHRISTOFFERSEN_REF = "Christoffersen (1998), Int. Econ. Review 39(4):841-862, independence and conditional coverage"
BASEL_REF = ("Basel Committee on Banking Supervision (1996), Supervisory framework for the use of backtesting "
             "in conjunction with the internal models approach, Table 2")
ACERBI_REF = "Acerbi & Szekely (2014), Backtesting expected shortfall, Risk (Dec), statistic Z2"

# Basel (1996) Table 2: the plus factor by the number of exceptions in 250 days at 99 % VaR.
BASEL_PLUS_FACTORS = {0: 0.0, 1: 0.0, 2: 0.0, 3: 0.0, 4: 0.0, 5: 0.40, 6: 0.50, 7: 0.65, 8: 0.75, 9: 0.85}
GREEN_BELOW = 0.95  # cumulative binomial probability at which the yellow zone starts
RED_FROM = 0.9999  # ... and at which the red zone starts

# Acerbi & Székely (2014) report Z2's 5 % critical value as about -0.70 across a wide range of
# return distributions (0.01 % level: about -1.8).
Z2_CRITICAL_5PCT = -0.70
# A backtest needs at least this many expected exceedances (n_obs * alpha) to say anything: below it a correct
# and a badly wrong VaR both most likely show none (100 days for a 99 % VaR).
MIN_EXPECTED_EXCEEDANCES = 1.0


# --------------------------------------------------------------------------------------------- checks


def _check_p(p: float, name: str = "p") -> float:
    try:
        p = float(p)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number in (0, 1), got {p!r}") from None
    if not (0.0 < p < 1.0):
        raise ValueError(f"{name} must lie strictly between 0 and 1, got {p}")
    return p


def _check_count(value: Any, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        if isinstance(value, float | np.floating) and float(value).is_integer():
            value = int(value)
        else:
            raise ValueError(f"{name} must be an integer, got {value!r}")
    value = int(value)
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")
    return value


def _check_hits(hits: Any, minimum: int = 1) -> np.ndarray:
    array = np.asarray(hits)
    if array.ndim != 1:
        raise ValueError(f"hits must be a 1-D sequence of 0/1, got shape {array.shape}")
    if array.size < minimum:
        raise ValueError(f"hits has {array.size} observations; this test needs at least {minimum}")
    if array.dtype == bool:
        return array.astype(np.int64)
    try:
        numeric = array.astype(np.float64)
    except (TypeError, ValueError):
        raise ValueError("hits must contain only 0 and 1") from None
    bad = ~np.isin(numeric, (0.0, 1.0))
    if bad.any():
        index = int(np.argmax(bad))
        raise ValueError(f"hits must contain only 0 and 1; found {array[index]!r} at position {index}")
    return numeric.astype(np.int64)


def _chi2_threshold(df: int, significance: float) -> float:
    return float(stats.chi2.ppf(1.0 - _check_p(significance, "significance"), df))


# ------------------------------------------------------------------------------------------- kupiec


def _lr_pof(x: int, n: int, p: float) -> float:
    # LR_pof = -2 ln[(1-p)^(n-x) p^x] + 2 ln[(1-π̂)^(n-x) π̂^x], π̂ = x/n; xlogy gives 0·ln 0 = 0,
    # which handles x = 0 and x = n (the maximised likelihood is then 1).
    pi_hat = x / n
    log_null = xlogy(n - x, 1.0 - p) + xlogy(x, p)
    log_alt = xlogy(n - x, 1.0 - pi_hat) + xlogy(x, pi_hat)
    return max(0.0, float(-2.0 * (log_null - log_alt)))


def kupiec_pof(exceedances: int, n: int, p: float, *, significance: float = 0.05) -> MetricResult:
    """Kupiec (1995) proportion-of-failures test: is the exceedance rate ``x/n`` equal to ``p``?

    ``LR_pof = -2 ln[(1-p)^(n-x) p^x] + 2 ln[(1-x/n)^(n-x) (x/n)^x]`` is asymptotically χ²(1).
    ``value`` is the LR statistic; ``threshold`` the χ²(1) critical value at ``significance``.
    """
    n = _check_count(n, "n", 1)
    x = _check_count(exceedances, "exceedances", 0)
    if x > n:
        raise ValueError(f"exceedances ({x}) cannot exceed the number of observations n ({n})")
    p = _check_p(p)
    lr = _lr_pof(x, n, p)
    return MetricResult(
        name="kupiec_pof", tier=TIER, value=lr, threshold=_chi2_threshold(1, significance), direction="max",
        pvalue=float(stats.chi2.sf(lr, 1)),
        details={"exceedances": x, "n": n, "p": p, "expected": n * p, "observed_rate": x / n, "df": 1,
                 "significance": significance},
        reference=KUPIEC_REF,
    )


# ---------------------------------------------------------------------------------- christoffersen


def _transitions(hits: np.ndarray) -> dict[str, int]:
    prev, curr = hits[:-1], hits[1:]
    return {
        "n00": int(np.sum((prev == 0) & (curr == 0))),
        "n01": int(np.sum((prev == 0) & (curr == 1))),
        "n10": int(np.sum((prev == 1) & (curr == 0))),
        "n11": int(np.sum((prev == 1) & (curr == 1))),
    }


def _lr_ind(c: dict[str, int]) -> tuple[float, dict[str, float | None]]:
    n00, n01, n10, n11 = c["n00"], c["n01"], c["n10"], c["n11"]
    row0, row1 = n00 + n01, n10 + n11
    total = row0 + row1
    pi = (n01 + n11) / total
    # An empty row (e.g. no exceedance before the last day) contributes nothing to either likelihood.
    pi01 = n01 / row0 if row0 else 0.0
    pi11 = n11 / row1 if row1 else 0.0
    log_null = xlogy(n00 + n10, 1.0 - pi) + xlogy(n01 + n11, pi)
    log_alt = xlogy(n00, 1.0 - pi01) + xlogy(n01, pi01) + xlogy(n10, 1.0 - pi11) + xlogy(n11, pi11)
    lr = max(0.0, float(-2.0 * (log_null - log_alt)))
    return lr, {"pi": pi, "pi01": pi01 if row0 else None, "pi11": pi11 if row1 else None}


def christoffersen_independence(hits: Any, *, significance: float = 0.05) -> MetricResult:
    """Christoffersen (1998) Markov test of independence of the hit sequence.

    With ``n_ij`` the number of days in state ``j`` after a day in state ``i``,
    ``π01 = n01/(n00+n01)``, ``π11 = n11/(n10+n11)``, ``π = (n01+n11)/(n00+n01+n10+n11)``:
    ``LR_ind = -2 ln[(1-π)^(n00+n10) π^(n01+n11)] + 2 ln[(1-π01)^n00 π01^n01 (1-π11)^n10 π11^n11]``,
    asymptotically χ²(1). Empty transition cells contribute ``0 · ln 0 = 0``.
    """
    hits = _check_hits(hits, minimum=2)
    counts = _transitions(hits)
    lr, probs = _lr_ind(counts)
    return MetricResult(
        name="christoffersen_independence", tier=TIER, value=lr, threshold=_chi2_threshold(1, significance),
        direction="max", pvalue=float(stats.chi2.sf(lr, 1)),
        details={**counts, **probs, "n": int(hits.size), "exceedances": int(hits.sum()), "df": 1,
                 "significance": significance},
        reference=CHRISTOFFERSEN_REF,
    )


def christoffersen_cc(hits: Any, p: float, *, significance: float = 0.05) -> MetricResult:
    """Christoffersen (1998) conditional coverage: ``LR_cc = LR_pof + LR_ind`` ~ χ²(2).

    ``LR_pof`` is Kupiec's statistic on the whole hit sequence; ``LR_ind`` the Markov independence
    statistic on its ``n - 1`` transitions (Christoffersen 1998, eq. 11 and the additive decomposition).
    """
    hits = _check_hits(hits, minimum=2)
    p = _check_p(p)
    n, x = int(hits.size), int(hits.sum())
    lr_pof = _lr_pof(x, n, p)
    counts = _transitions(hits)
    lr_ind, probs = _lr_ind(counts)
    lr = lr_pof + lr_ind
    return MetricResult(
        name="christoffersen_cc", tier=TIER, value=lr, threshold=_chi2_threshold(2, significance),
        direction="max", pvalue=float(stats.chi2.sf(lr, 2)),
        details={"lr_pof": lr_pof, "lr_ind": lr_ind, **counts, **probs, "n": n, "exceedances": x, "p": p,
                 "df": 2, "significance": significance},
        reference=CHRISTOFFERSEN_REF,
    )


# -------------------------------------------------------------------------------------- traffic light


def _zone(cumulative: float) -> str:
    if cumulative < GREEN_BELOW:
        return "green"
    if cumulative < RED_FROM:
        return "yellow"
    return "red"


def basel_traffic_light(exceedances: int, n: int = 250, p: float = 0.01) -> MetricResult:
    """Basel (1996) traffic light: the zone of ``x`` exceedances in ``n`` days of a ``1-p`` VaR.

    Zones by the cumulative binomial probability ``P(X <= x)``, ``X ~ Bin(n, p)``: green below
    95 %, yellow below 99.99 %, red from 99.99 %. For ``n = 250, p = 0.01`` this is green 0–4,
    yellow 5–9, red 10 or more, with plus factors 0.40, 0.50, 0.65, 0.75, 0.85 for 5–9 and 1.00 in
    the red zone (Basel 1996, Table 2).

    For other ``n`` or ``p`` the zone comes from the same cumulative probabilities, and the plus
    factor is read from the Basel table at the 250-day / 1 % exception count with the same
    cumulative probability (the smallest ``k`` with ``P(Bin(250, 0.01) <= k) >= P(X <= x)``), so
    that a longer or shorter holdout is judged on the scale the table was written for.

    ``value`` is ``x``; ``threshold`` the largest green count, so ``passed`` means green; the zone,
    plus factor and exceedances per 250 days are in ``details``, and ``warn_bound`` = the largest yellow
    count (``validation.outcomes``: yellow is WARN, red FAIL — Basel's own reading: yellow results raise questions
    about the model without settling them, red ones almost certainly indicate a problem).
    """
    n = _check_count(n, "n", 1)
    x = _check_count(exceedances, "exceedances", 0)
    if x > n:
        raise ValueError(f"exceedances ({x}) cannot exceed the number of observations n ({n})")
    p = _check_p(p)
    cumulative = float(stats.binom.cdf(x, n, p))
    zone = _zone(cumulative)
    counts = np.arange(n + 1)
    cdf = stats.binom.cdf(counts, n, p)
    green_max = int(counts[cdf < GREEN_BELOW].max()) if (cdf < GREEN_BELOW).any() else -1
    yellow_max = int(counts[cdf < RED_FROM].max()) if (cdf < RED_FROM).any() else -1
    if zone == "green":
        plus = 0.0
        equivalent = None
    elif zone == "red":
        plus = 1.0
        equivalent = None
    else:
        if n == 250 and math.isclose(p, 0.01):
            equivalent = x
        else:
            basel_cdf = stats.binom.cdf(np.arange(251), 250, 0.01)
            equivalent = int(np.searchsorted(basel_cdf, cumulative - 1e-12, side="left"))
        plus = BASEL_PLUS_FACTORS[min(max(equivalent, 5), 9)]
    return MetricResult(
        name="basel_traffic_light", tier=TIER, value=float(x), threshold=float(green_max), direction="max",
        pvalue=float(stats.binom.sf(x - 1, n, p)),  # P(X >= x): how surprising this many exceedances is
        details={"zone": zone, "plus_factor": plus, "cumulative_probability": cumulative, "n": n, "p": p,
                 "exceedances": x, "exceedances_per_250": x * 250.0 / n, "green_max": green_max,
                 "yellow_max": yellow_max, "warn_bound": yellow_max, "basel_equivalent_exceedances": equivalent},
        reference=BASEL_REF,
    )


# ------------------------------------------------------------------------------------- var backtest


def _check_weights(weights: Any, n_factors: int) -> np.ndarray:
    w = np.asarray(weights, dtype=np.float64)
    if w.ndim != 1 or w.size != n_factors:
        raise ValueError(f"weights must be a 1-D vector of {n_factors} factor weights, got shape {w.shape}")
    if not np.isfinite(w).all():
        raise ValueError("weights must be finite")
    if not np.any(w):
        raise ValueError("weights are all zero: the portfolio has no P&L")
    return w


@dataclass(frozen=True)
class DayAhead:
    """A conditional model's day-ahead forecasts over the holdout, location-scale in its filter.

    Day ``t``'s increments are distributed as ``mean + sigma[t] * innovations[i]`` (``i`` uniform):
    ``sigma`` [T, F] from the filter run on realised data up to day ``t - 1`` with parameters frozen at
    the training window, ``innovations`` [N, F] the model's own standardised joint innovations.
    """

    mean: np.ndarray
    sigma: np.ndarray
    innovations: np.ndarray
    method: str = ""

    def portfolio(self, weights: np.ndarray, rows: slice | np.ndarray = slice(None)) -> np.ndarray:
        """P&L [t, N] of the linear book for the selected days."""
        return (self.mean @ weights) + (self.innovations[None, :, :] * self.sigma[rows, None, :]) @ weights


def day_ahead_var_es(forecast: DayAhead, weights: np.ndarray, alpha: float,
                     chunk: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """Each holdout day's VaR and ES (positive losses) at tail probability ``alpha``."""
    n_days = forecast.sigma.shape[0]
    var, es = np.empty(n_days), np.empty(n_days)
    for start in range(0, n_days, chunk):
        pnl = forecast.portfolio(weights, slice(start, start + chunk))
        cut = np.quantile(pnl, alpha, axis=1)
        var[start:start + chunk] = -cut
        tail = pnl <= cut[:, None]
        es[start:start + chunk] = -(pnl * tail).sum(axis=1) / tail.sum(axis=1)
    return var, es


def _check_day_ahead(forecast: Any, n_days: int, n_factors: int) -> DayAhead:
    if not isinstance(forecast, DayAhead):
        raise ValueError("day_ahead must be a DayAhead forecast")
    if forecast.sigma.shape != (n_days, n_factors):
        raise ValueError(f"day-ahead sigma has shape {forecast.sigma.shape}; the holdout is {(n_days, n_factors)}")
    if forecast.innovations.ndim != 2 or forecast.innovations.shape[1] != n_factors:
        raise ValueError(f"day-ahead innovations must be [N, {n_factors}], got {forecast.innovations.shape}")
    if not (np.isfinite(forecast.sigma).all() and np.isfinite(forecast.innovations).all()
            and np.isfinite(forecast.mean).all()):
        raise ValueError("the day-ahead forecast has non-finite values")
    return forecast


def var_backtest(synthetic: Any, real: Any, weights: Any, *, level: float = 0.99, horizon: int = 1,
                 significance: float = 0.05, es_simulations: int = 2000,
                 rng: np.random.Generator | None = None, day_ahead: DayAhead | None = None) -> list[MetricResult]:
    """Backtest the scenarios' VaR and ES of a linear portfolio against the realised holdout P&L.

    The portfolio P&L is ``weights · (sum of the factors' increments over horizon days)``.
    VaR and ES at ``level`` (losses as positive numbers) are estimated from the scenarios'
    ``horizon``-day P&L (the first ``horizon`` steps of each path); the holdout is cut into
    *non-overlapping* ``horizon``-day windows (overlapping windows would make the hits
    autocorrelated by construction, voiding the tests' iid premise). A hit is a realised P&L below
    ``-VaR``. Returned, in order:

    * ``var_exceedance_rate`` (info): hit rate, VaR, ES, the hit sequence;
    * ``kupiec_pof`` — Kupiec (1995);
    * ``christoffersen_independence`` and ``christoffersen_cc`` — Christoffersen (1998);
    * ``basel_traffic_light`` — Basel (1996), on the holdout's length, with exceedances per 250 days;
    * ``es_backtest_z2`` — Acerbi & Székely (2014)
      ``Z2 = 1 - Σ_t L_t I_t / (T α ES)``, ``L_t`` the realised loss, ``α = 1 - level``; ``E[Z2] = 0``
      under the null, negative when ES is underestimated. Its p-value is simulated from the
      scenarios' own P&L distribution (the null), ``es_simulations`` draws of ``T`` days with ``rng``;
      the threshold is the paper's 5 % critical value -0.70. The mean realised loss on exceedance
      days against ES is in ``details``.

    Nothing to test is ``NOT_RUN`` (``MetricResult.skipped``), never PASS: every test when the holdout gives
    fewer observations than one expected exceedance (``n_obs * (1 - level) < 1``: 100 days for a 99 % VaR), and
    the independence test when there are fewer than two exceedances (nothing can cluster).

    With ``day_ahead`` (a conditional model, horizon 1) every holdout day has its own VaR_t and ES_t,
    forecast from data up to the day before (the rolling backtest of Christoffersen 1998 and
    McNeil & Frey 2000); Z2 then sums ``L_t I_t / ES_t`` (Acerbi & Szekely 2014, eq. for Z2 with
    time-varying ES). A static distribution judged against years of daily losses only measures how
    far the holdout's volatility regime is from the one the distribution was drawn in.
    """
    real = check_real(real, min_rows=1)
    synthetic = check_synthetic(synthetic, real.shape[1])
    w = _check_weights(weights, real.shape[1])
    level = _check_p(level, "level")
    alpha = round(1.0 - level, 12)  # 1 - 0.99 is 0.010000000000000009 in binary floating point
    horizon = _check_count(horizon, "horizon", 1)
    if horizon > synthetic.shape[1]:
        raise ValueError(f"horizon ({horizon}) is longer than the scenarios' horizon ({synthetic.shape[1]})")
    if real.shape[0] < 2 * horizon:
        raise ValueError(f"the holdout ({real.shape[0]} days) holds fewer than two non-overlapping "
                         f"{horizon}-day windows")
    n_scenarios = synthetic.shape[0]
    if n_scenarios * alpha < 1.0:
        raise ValueError(f"{n_scenarios} scenarios cannot estimate a {level:.4g} VaR: need at least "
                         f"{math.ceil(1.0 / alpha)}")
    es_simulations = _check_count(es_simulations, "es_simulations", 100)
    rng = np.random.default_rng(0) if rng is None else rng

    realised_pnl = horizon_sums(real, horizon)[::horizon] @ w
    if day_ahead is not None:
        if horizon != 1:
            raise ValueError("a day-ahead forecast is backtested with horizon 1")
        forecast = _check_day_ahead(day_ahead, real.shape[0], real.shape[1])
        var_t, es_t = day_ahead_var_es(forecast, w, alpha)
        var, es = float(var_t.mean()), float(es_t.mean())
        method = forecast.method or "rolling day-ahead forecast"
    else:
        synthetic_pnl = synthetic[:, :horizon, :].sum(axis=1) @ w
        var = float(-np.quantile(synthetic_pnl, alpha))
        es = float(-synthetic_pnl[synthetic_pnl <= -var].mean())
        var_t, es_t = np.full(realised_pnl.size, var), np.full(realised_pnl.size, es)
        method = "static: one forecast distribution for every holdout window"
    hits = (realised_pnl < -var_t).astype(np.int64)
    n_obs, x = int(hits.size), int(hits.sum())

    common = {"level": level, "horizon": horizon, "var": var, "es": es, "n_obs": n_obs, "method": method}
    by_day = ({"var_by_day": np.round(var_t, 8).tolist(), "var_min": float(var_t.min()),
               "var_max": float(var_t.max())} if day_ahead is not None else {})
    results = [MetricResult(
        name="var_exceedance_rate", tier=TIER, value=x / n_obs, direction="info",
        details={**common, **by_day, "exceedances": x, "expected_rate": alpha, "expected_exceedances": n_obs * alpha,
                 "hits": hits.tolist(), "n_scenarios": n_scenarios},
        reference=KUPIEC_REF,
    )]
    if n_obs * alpha < MIN_EXPECTED_EXCEEDANCES:
        # Too short a holdout: a correct VaR expects no exceedance at all, so a pass says nothing (and the
        # Basel table has no green zone below 6 days at 1 %). Not run, never PASS.
        reason = (f"the holdout gives {n_obs} {horizon}-day observation(s); a {level:.4g} VaR expects "
                  f"{n_obs * alpha:.2g} exceedance(s) there, and a backtest needs at least "
                  f"{math.ceil(MIN_EXPECTED_EXCEEDANCES / alpha)} observations (one expected exceedance)")
        refs = {"kupiec_pof": KUPIEC_REF, "christoffersen_independence": CHRISTOFFERSEN_REF,
                "christoffersen_cc": CHRISTOFFERSEN_REF, "basel_traffic_light": BASEL_REF,
                "es_backtest_z2": ACERBI_REF}
        return results + [MetricResult.skipped(name=name, tier=TIER, reason=reason, reference=ref,
                                               details={**common, "exceedances": x})
                          for name, ref in refs.items()]
    independence = christoffersen_independence(hits, significance=significance)
    if x < 2:
        # With at most one exceedance no two can cluster: LR_ind is ~0 whatever the model (Christoffersen 1998).
        independence = MetricResult.skipped(
            name="christoffersen_independence", tier=TIER, reference=CHRISTOFFERSEN_REF,
            details=dict(independence.details),
            reason=f"{x} exceedance(s) in {n_obs} observations: independence of exceedances needs at least two")
    for result in (kupiec_pof(x, n_obs, alpha, significance=significance),
                   independence,
                   christoffersen_cc(hits, alpha, significance=significance),
                   basel_traffic_light(x, n_obs, alpha)):
        results.append(replace(result, details={**result.details, **common}))

    losses = -realised_pnl
    if (es_t > 0).all():
        z2 = 1.0 - float(np.sum(losses * hits / es_t)) / (n_obs * alpha)
        null_z2 = _null_z2(day_ahead, synthetic, horizon, w, var_t, es_t, alpha, es_simulations, rng)
        pvalue = float((1 + np.sum(null_z2 <= z2)) / (es_simulations + 1))
    else:
        # ES <= 0 (a portfolio whose tail still gains): the ratio is meaningless; fail it explicitly.
        z2, pvalue = float("-inf"), None
    mean_loss_on_hits = float(losses[hits == 1].mean()) if x else None
    results.append(MetricResult(
        name="es_backtest_z2", tier=TIER, value=z2, threshold=Z2_CRITICAL_5PCT, direction="min", pvalue=pvalue,
        details={**common, "exceedances": x, "mean_loss_on_exceedances": mean_loss_on_hits,
                 "loss_to_es_ratio": float(np.mean(losses[hits == 1] / es_t[hits == 1])) if (x and es > 0) else None,
                 "es_simulations": es_simulations},
        reference=ACERBI_REF,
    ))
    return results


def _null_z2(day_ahead: DayAhead | None, synthetic: np.ndarray, horizon: int, w: np.ndarray, var_t: np.ndarray,
             es_t: np.ndarray, alpha: float, simulations: int, rng: np.random.Generator) -> np.ndarray:
    """Z2 under the null: realised P&L drawn from the forecast distribution of each day."""
    n_obs = var_t.size
    out = np.empty(simulations)
    block = max(1, 200_000 // n_obs)
    for start in range(0, simulations, block):
        size = min(block, simulations - start)
        if day_ahead is None:
            pnl = synthetic[:, :horizon, :].sum(axis=1) @ w
            draws = rng.choice(pnl, size=(size, n_obs), replace=True)
        else:
            picks = day_ahead.innovations[rng.integers(0, day_ahead.innovations.shape[0], size=(size, n_obs))]
            draws = (day_ahead.mean @ w) + (picks * day_ahead.sigma[None, :, :]) @ w
        out[start:start + size] = 1.0 - np.sum(-draws * (draws < -var_t) / es_t, axis=1) / (n_obs * alpha)
    return out
