"""``neural_scores``: the discriminative and predictive scores on an ideal and a wrong generator, per device.

The ideal generator draws its paths as windows of the holdout itself (issue 15 §5: it must score ≈ 0 on
the discriminative score and ≈ 1 on the predictive MAE ratio with the exchangeable split); the wrong one
scales those windows ×3. Every seed is scored on the CPU and, where CUDA is present, on the GPU, with the
time of each score. Synthetic GARCH(1,1) data with fixed parameters (no download, no arch needed), so the
same figures can be made on a machine that has only numpy and torch.
"""

from __future__ import annotations

import time

import numpy as np


def _garch(days: int, factors: int, rng: np.random.Generator) -> np.ndarray:
    """GARCH(1,1) with ω = 0.05, α = 0.08, β = 0.9 (unit long-run variance), correlated 0.5 across factors."""
    corr = np.full((factors, factors), 0.5) + 0.5 * np.eye(factors)
    chol = np.linalg.cholesky(corr)
    z = rng.standard_normal((days, factors)) @ chol.T
    out, h = np.empty_like(z), np.ones(factors)
    for t in range(days):
        out[t] = np.sqrt(h) * z[t]
        h = 0.05 + 0.08 * out[t] ** 2 + 0.9 * h
    return out


def _score(fn, synthetic, real, seed, device) -> tuple[float, float]:
    start = time.perf_counter()
    result = fn(synthetic, real, seed=seed, device=device)
    return float(result.value), time.perf_counter() - start


def neural_scores(quick: bool = False, seeds: int = 5) -> dict:
    import torch

    from validation.neural.discriminative import discriminative_score
    from validation.neural.predictive import predictive_score

    seeds = 2 if quick else seeds
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    horizon, factors, n = 20, 3, 2000
    out: dict = {"devices": devices, "horizon": horizon, "factors": factors, "paths": n, "seeds": seeds,
                 "cuda_device": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None}
    rows = []
    for seed in range(seeds):
        rng = np.random.default_rng(seed)
        real = _garch(1000, factors, rng)
        starts = rng.integers(0, len(real) - horizon + 1, size=n)
        ideal = real[starts[:, None] + np.arange(horizon)[None, :]]
        for device in devices:
            for name, fn in (("discriminative", discriminative_score), ("predictive", predictive_score)):
                for generator, paths in (("ideal", ideal), ("scaled_x3", ideal * 3.0)):
                    value, seconds = _score(fn, paths, real, seed, device)
                    rows.append({"seed": seed, "device": device, "score": name, "generator": generator,
                                 "value": round(value, 4), "seconds": round(seconds, 3)})
    out["rows"] = rows
    summary = {}
    for device in devices:
        for name in ("discriminative", "predictive"):
            for generator in ("ideal", "scaled_x3"):
                picked = [r for r in rows if (r["device"], r["score"], r["generator"]) == (device, name, generator)]
                values = [r["value"] for r in picked]
                summary[f"{device}/{name}/{generator}"] = {
                    "mean": round(float(np.mean(values)), 4), "max": round(float(np.max(values)), 4),
                    "min": round(float(np.min(values)), 4),
                    "median_seconds": round(float(np.median([r["seconds"] for r in picked])), 3)}
    out["summary"] = summary
    out["seconds"] = sum(r["seconds"] for r in rows)
    return out


BENCHMARKS = {"neural_scores": neural_scores}
