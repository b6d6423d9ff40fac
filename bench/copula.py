"""GARCH-EVT-copula engine benchmarks: sampling speed, and the ``copulas`` library as a yardstick.

Data: S&P 500 and NASDAQ composite (adjusted close) and WTI spot (DCOILWTICO) from ``arch.data``,
aligned on the dates where all three have a price, as daily log-returns.

* copula_sampling: a 50-factor panel = the 12 real columns of ``real_panel`` (3 series x lags
  0..3) plus 38 simulated factors, each a random linear combination of the 3 same-day real
  returns plus independent Student-t(4) noise (so the panel has real fat tails and volatility
  clustering and a realistic correlation structure). Fit, then time ``sample`` of 1,000,000
  one-day scenarios for the Gaussian and t copulas. Target: <= 3 s per family.
* copula_vs_copulas_lib: on the 12-column real panel, this engine's Gaussian copula (unconditional
  one-day scenarios, ``start_variance="historical"``) against ``copulas.multivariate.
  GaussianMultivariate()`` with its default margin selection: fit time, time to sample 5,000
  rows, speed ratios (target >= 20x on sampling), and fit quality of both (Frobenius norm of the
  difference between the samples' and the data's Pearson correlation matrices; two-sample KS
  statistic of each margin against the data).
"""

from __future__ import annotations

import time
import warnings

import numpy as np
from scipy import stats

from bench import median_seconds
from scenarios.engines import copula

SAMPLING_TARGET_SECONDS = 3.0
SPEED_RATIO_TARGET = 20.0


def real_prices():
    import pandas as pd
    from arch.data import nasdaq, sp500, wti

    frame = pd.concat({"spx": sp500.load()["Adj Close"], "ndx": nasdaq.load()["Adj Close"],
                       "wti": wti.load()["DCOILWTICO"]}, axis=1, join="inner").dropna()
    return frame[(frame > 0).all(axis=1)]


def real_panel(lags: int = 3) -> tuple[np.ndarray, list[str]]:
    """[T, 3 * (lags + 1)] log-returns with lags 0..lags of S&P 500, NASDAQ, WTI on common dates."""
    returns = np.diff(np.log(real_prices().to_numpy()), axis=0)
    rows = returns.shape[0] - lags
    columns, names = [], []
    for k, series in enumerate(("spx", "ndx", "wti")):
        for lag in range(lags + 1):
            columns.append(returns[lags - lag: lags - lag + rows, k])
            names.append(f"{series}_lag{lag}")
    return np.column_stack(columns), names


def fifty_factor_panel(seed: int = 0) -> tuple[np.ndarray, list[str]]:
    panel, names = real_panel()
    rng = np.random.default_rng(seed)
    same_day = panel[:, [0, 4, 8]]
    loadings = rng.normal(0.0, 0.7, size=(3, 38))
    noise = rng.standard_t(4, size=(panel.shape[0], 38)) / np.sqrt(2.0) * same_day.std(axis=0).mean()
    simulated = same_day @ loadings + noise
    return np.column_stack([panel, simulated]), names + [f"sim{i:02d}" for i in range(38)]


def copula_sampling(quick: bool) -> dict:
    train, names = fifty_factor_panel()
    rows = 100_000 if quick else 1_000_000
    out: dict = {"rows": rows, "factors": len(names), "horizon": 1, "train_rows": int(train.shape[0]),
                 "target_seconds": SAMPLING_TARGET_SECONDS,
                 "panel": "12 real columns (S&P 500, NASDAQ, WTI log-returns, lags 0-3) + 38 simulated factors "
                          "(random loadings on the same-day real returns + t(4) noise)"}
    per_family = {}
    for family in ("gaussian", "student_t"):
        start = time.perf_counter()
        state = copula.fit(train, names, copula.Config(family=family))
        fit_seconds = time.perf_counter() - start
        rng = np.random.default_rng(0)
        seconds, paths = median_seconds(lambda state=state, rng=rng: copula.sample(state, rows, 1, None, rng))
        per_family[family] = {"seconds": seconds, "fit_seconds": fit_seconds, "scenarios_per_second": rows / seconds,
                              "meets_target": seconds <= SAMPLING_TARGET_SECONDS,
                              "finite": bool(np.isfinite(paths).all())}
        if family == "student_t":
            per_family[family]["nu"] = state.meta["nu"]
        del paths
    out["families"] = per_family
    out["seconds"] = max(f["seconds"] for f in per_family.values())
    return out


def _quality(sample: np.ndarray, data: np.ndarray) -> dict:
    corr_error = float(np.linalg.norm(np.corrcoef(sample, rowvar=False) - np.corrcoef(data, rowvar=False)))
    # Rank correlation is what a copula models; Pearson's estimate is noisy under fat-tailed margins.
    spearman_error = float(np.linalg.norm(stats.spearmanr(sample).statistic - stats.spearmanr(data).statistic))
    ks = [float(stats.ks_2samp(sample[:, j], data[:, j]).statistic) for j in range(data.shape[1])]
    return {"corr_frobenius_error": corr_error, "spearman_frobenius_error": spearman_error,
            "ks_mean": float(np.mean(ks)), "ks_max": float(np.max(ks)), "ks_per_margin": ks}


def copula_vs_copulas_lib(quick: bool) -> dict:
    import pandas as pd
    from copulas.multivariate import GaussianMultivariate

    train, names = real_panel()
    rows = 1_000 if quick else 5_000
    repeats = 1 if quick else 3
    # Like for like: a static Gaussian copula on the raw columns (what the library fits). The
    # GARCH-filtered engine is reported beside it: its one-day draws mix volatility states, which
    # is right for stress paths but adds noise to a plain correlation comparison.
    config = copula.Config(family="gaussian", volatility_filter="none")
    garch_config = copula.Config(family="gaussian", start_variance="historical")

    ours_fit, state = median_seconds(lambda: copula.fit(train, names, config), repeats=repeats)
    ours_sample, ours = median_seconds(lambda: copula.sample(state, rows, 1, None, np.random.default_rng(0))[:, 0, :],
                                       repeats=max(repeats, 5))
    garch_state = copula.fit(train, names, garch_config)
    garch_draws = copula.sample(garch_state, rows, 1, None, np.random.default_rng(0))[:, 0, :]

    frame = pd.DataFrame(train, columns=names)

    def fit_lib():
        model = GaussianMultivariate()
        model.fit(frame)
        return model

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        np.random.seed(0)  # the library samples from numpy's global generator
        lib_fit, model = median_seconds(fit_lib, repeats=repeats)
        lib_sample, lib = median_seconds(lambda: model.sample(rows).to_numpy(), repeats=repeats)

    return {
        "seconds": ours_sample,
        "rows_sampled": rows, "train_rows": int(train.shape[0]), "columns": names,
        "ours": {"fit_seconds": ours_fit, "sample_seconds": ours_sample, "mode": "static (volatility_filter=none)",
                 **_quality(ours, train)},
        "ours_garch_filtered": {"mode": "GJR-GARCH-filtered, historical start", **_quality(garch_draws, train)},
        "copulas_lib": {"fit_seconds": lib_fit, "sample_seconds": lib_sample, **_quality(lib, train),
                        "margins_chosen": [type(getattr(u, "_instance", u)).__name__
                                           for u in getattr(model, "univariates", [])]},
        "sample_speed_ratio": lib_sample / ours_sample,
        "fit_speed_ratio": lib_fit / ours_fit,
        "speed_ratio_target": SPEED_RATIO_TARGET,
        "meets_target": lib_sample / ours_sample >= SPEED_RATIO_TARGET,
        "fit_at_least_as_good": bool(
            _quality(ours, train)["spearman_frobenius_error"] <= _quality(lib, train)["spearman_frobenius_error"] * 1.05
            and _quality(ours, train)["ks_mean"] <= _quality(lib, train)["ks_mean"] * 1.05),
    }


BENCHMARKS = {"copula_sampling": copula_sampling, "copula_vs_copulas_lib": copula_vs_copulas_lib}
