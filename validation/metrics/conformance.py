"""Conformance of a conditioned scenario set to its condition (tier ``conformance``).

A condition ("severe", a Fed supervisory path, a custom vol multiplier or target move) is a promise about
measurable statistics of the set. Clark & Fowler's diffusion stress-scenario paper (§3–5: conditioning on
severity and on supervisory paths, and the governance of conditioned generators) makes the condition the
generator's input; this tier checks the output kept the promise, against the same model's *unconditioned*
paths (its own fit, so that a model's bias is not counted as a conformance error):

* ``conformance_vol_ratio`` (per factor, ``abs_max``): the realised volatility ratio — the standard
  deviation of the set's daily increments over that of the reference, both pooled over paths and days —
  divided by the asked multiplier, minus 1. 0 is exact; 1.0 means twice the asked volatility. A constant
  drift (what a target adds) leaves a pooled standard deviation unchanged, so targets do not bias this.
* ``conformance_target`` (per target, ``abs_max``): the set's ``quantile`` quantile of the cumulative move
  to ``day`` minus the asked move, in standard deviations of the reference's cumulative move to that day.
  When the reference is shorter than ``day`` its ``h2``-day standard deviation is scaled by
  ``sqrt(day / h2)`` (a random walk's scaling; stated in ``details``).

Each row carries a sentence a validator can act on, e.g. "severe asked for 2.0× vol, set has 3.4×".
Inputs: ``synthetic`` ``[n, h, F]`` increments of the conditioned set; ``reference`` ``[m, h2, F]`` the
model's unconditioned paths; ``asked`` = ``{"label", "vol_multiplier" (or None), "targets": [{"factor",
"day" (1..h), "move", "quantile" (default 0.5), "units" ("log" by default: printed as a percent; anything
else printed as a number)}]}``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from validation.metrics.result import MetricResult, check_synthetic

TIER = "conformance"
REFERENCE = ("Clark & Fowler, diffusion stress-scenario paper, §3-5 (conditioned generation); "
             "realised vs asked statistics against the model's unconditioned paths")
DEFAULT_VOL_TOLERANCE = 0.25  # the tier-2 policy bound; the policy's value replaces it when judged
DEFAULT_TARGET_TOLERANCE = 0.25
MINUS = "\u2212"  # a typographic minus, as in the messages of the PDF


def _signed(text: str) -> str:
    return text.replace("-", MINUS)


def _format_move(move: float, units: str) -> str:
    if units == "log":
        return _signed(f"{100.0 * move:.1f} %")
    return _signed(f"{move:.4g}")


def _times(value: float) -> str:
    """2.0, 1.25, 3.41: two decimals at most, one at least."""
    text = f"{value:.2f}".rstrip("0")
    return text + "0" if text.endswith(".") else text


def _quantile_word(quantile: float) -> str:
    if quantile == 0.5:
        return "median"
    return f"{100.0 * quantile:g} % quantile"


def _check_inputs(synthetic, reference, factors, asked) -> tuple[np.ndarray, np.ndarray, list[str], dict]:
    factors = [str(f) for f in factors]
    if not factors:
        raise ValueError("factors is empty")
    if len(set(factors)) != len(factors):
        raise ValueError("factor names must be distinct")
    synthetic = check_synthetic(synthetic, len(factors))
    reference = check_synthetic(reference, len(factors), name="reference")
    for name, array in (("synthetic", synthetic), ("reference", reference)):
        if array.shape[0] * array.shape[1] < 2:
            raise ValueError(f"{name} needs at least 2 increments per factor to have a standard deviation")
    if not isinstance(asked, Mapping):
        raise ValueError("asked must be a mapping {label, vol_multiplier, targets}")
    label = str(asked.get("label") or "the condition")
    vol = asked.get("vol_multiplier")
    if vol is not None:
        if isinstance(vol, bool) or not isinstance(vol, int | float) or not math.isfinite(vol) or vol <= 0:
            raise ValueError(f"asked vol_multiplier must be a positive finite number, got {vol!r}")
        vol = float(vol)
    targets = []
    horizon = synthetic.shape[1]
    for k, target in enumerate(asked.get("targets") or ()):
        if not isinstance(target, Mapping):
            raise ValueError(f"target {k} must be a mapping {{factor, day, move, quantile}}")
        factor = target.get("factor")
        if factor not in factors:
            raise ValueError(f"target {k} names factor {factor!r}, which the set does not have")
        day = target.get("day")
        if isinstance(day, bool) or not isinstance(day, int | np.integer) or not 1 <= int(day) <= horizon:
            raise ValueError(f"target {k} ({factor}) day must be an integer in 1..{horizon}, got {day!r}")
        move = target.get("move")
        if isinstance(move, bool) or not isinstance(move, int | float) or not math.isfinite(move):
            raise ValueError(f"target {k} ({factor}) move must be a finite number, got {move!r}")
        quantile = target.get("quantile", 0.5)
        if quantile is None:
            quantile = 0.5
        if isinstance(quantile, bool) or not isinstance(quantile, int | float) or not 0.0 < quantile < 1.0:
            raise ValueError(f"target {k} ({factor}) quantile must lie in (0, 1), got {quantile!r}")
        units = str(target.get("units") or "log")
        targets.append({"factor": factor, "day": int(day), "move": float(move), "quantile": float(quantile),
                        "units": units})
    return synthetic, reference, factors, {"label": label, "vol_multiplier": vol, "targets": targets}


def realised_vol_ratio(synthetic: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Per factor: std of the set's daily increments / std of the reference's (pooled over paths and days)."""
    syn = synthetic.reshape(-1, synthetic.shape[2]).std(axis=0, ddof=1)
    ref = reference.reshape(-1, reference.shape[2]).std(axis=0, ddof=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(ref > 0, syn / np.where(ref > 0, ref, 1.0), np.nan)


def _vol_rows(synthetic, reference, factors, label, vol) -> list[MetricResult]:
    if vol is None:
        return [MetricResult.skipped(name="conformance_vol_ratio", tier=TIER, factor=f, reference=REFERENCE,
                                     reason="the condition sets no volatility") for f in factors]
    ratios = realised_vol_ratio(synthetic, reference)
    rows = []
    for j, factor in enumerate(factors):
        realised = float(ratios[j])
        if not math.isfinite(realised):
            rows.append(MetricResult.skipped(
                name="conformance_vol_ratio", tier=TIER, factor=factor, reference=REFERENCE,
                reason=f"the unconditioned reference does not move in {factor}: no volatility ratio"))
            continue
        rows.append(MetricResult(
            name="conformance_vol_ratio", tier=TIER, value=realised / vol - 1.0, threshold=DEFAULT_VOL_TOLERANCE,
            direction="abs_max", factor=factor, reference=REFERENCE,
            details={"asked": vol, "realised": realised, "label": label,
                     "message": f"{label} asked for {_times(vol)}× vol, set has {_times(realised)}×"}))
    return rows


def _target_rows(synthetic, reference, factors, label, targets) -> list[MetricResult]:
    index = {f: j for j, f in enumerate(factors)}
    h2 = reference.shape[1]
    rows = []
    for target in targets:
        j, day, move, quantile, units = (index[target["factor"]], target["day"], target["move"],
                                         target["quantile"], target["units"])
        factor = target["factor"]
        realised = float(np.quantile(synthetic[:, :day, j].sum(axis=1), quantile))
        used = min(day, h2)
        ref_moves = reference[:, :used, j].sum(axis=1)
        if ref_moves.size < 2:
            sd = float("nan")
        else:
            # Beyond the reference's horizon the cumulative move's sd is scaled as a random walk's.
            sd = float(ref_moves.std(ddof=1)) * math.sqrt(day / used)
        details: dict[str, Any] = {
            "asked": move, "realised": realised, "day": day, "quantile": quantile, "sd": sd, "units": units,
            "label": label, "message": (f"{label} asked for a {_quantile_word(quantile)} {factor} move of "
                                        f"{_format_move(move, units)} over {day} days, set has "
                                        f"{_format_move(realised, units)}")}
        if used < day:
            details["sd_scaled"] = f"the reference has {h2} days: its {h2}-day sd scaled by sqrt({day}/{h2})"
        if not (math.isfinite(sd) and sd > 0):
            rows.append(MetricResult.skipped(
                name="conformance_target", tier=TIER, factor=factor, reference=REFERENCE, details=details,
                reason=f"the unconditioned reference's {day}-day move of {factor} does not vary: no scale"))
            continue
        rows.append(MetricResult(
            name="conformance_target", tier=TIER, value=(realised - move) / sd, threshold=DEFAULT_TARGET_TOLERANCE,
            direction="abs_max", factor=factor, reference=REFERENCE, details=details))
    return rows


def conformance_metrics(synthetic: Any, reference: Any, factors: Sequence[str], *,
                        asked: Mapping[str, Any]) -> list[MetricResult]:
    """The realised volatility ratio per factor and the realised target moves, against what was asked."""
    synthetic, reference, factors, asked = _check_inputs(synthetic, reference, factors, asked)
    if asked["vol_multiplier"] is None and not asked["targets"]:
        return [MetricResult.skipped(name="conformance_vol_ratio", tier=TIER, reference=REFERENCE,
                                     reason="the set is unconditioned: nothing to conform to")]
    return (_vol_rows(synthetic, reference, factors, asked["label"], asked["vol_multiplier"])
            + _target_rows(synthetic, reference, factors, asked["label"], asked["targets"]))


__all__ = ["TIER", "conformance_metrics", "realised_vol_ratio"]
