"""Default thresholds of the validation policy (version 1 of each model tier; data migration 0002).

Base values are for tier 2; tier 1 (highest risk) is 20 % stricter, tier 3 25 % looser. Each entry
is ``{"threshold": pass bound, "warn": bound beyond which the metric FAILs}``, in the metric's
direction. Metrics with a real-vs-real noise floor pass inside the floor's 90 % band whatever the
threshold; the threshold then only matters when the floor is exceeded.
"""

from __future__ import annotations

# name: (direction, threshold, warn) for tier 2
BASE = {
    "ks_daily": ("max", 0.05, 0.10), "ks_horizon": ("max", 0.08, 0.15),
    "ad_daily": ("max", 10.0, 30.0), "ad_horizon": ("max", 10.0, 30.0),
    "mean_diff_daily": ("abs", 0.05, 0.10), "mean_diff_horizon": ("abs", 0.15, 0.30),
    "vol_rel_diff_daily": ("abs", 0.15, 0.30), "vol_rel_diff_horizon": ("abs", 0.20, 0.40),
    "skew_diff_daily": ("abs", 0.5, 1.0), "skew_diff_horizon": ("abs", 0.5, 1.0),
    "kurt_diff_daily": ("abs", 3.0, 6.0), "kurt_diff_horizon": ("abs", 2.0, 4.0),
    "q01_err_daily": ("max", 0.3, 0.6), "q05_err_daily": ("max", 0.2, 0.4),
    "q95_err_daily": ("max", 0.2, 0.4), "q99_err_daily": ("max", 0.3, 0.6),
    "q01_err_horizon": ("max", 0.4, 0.8), "q05_err_horizon": ("max", 0.3, 0.6),
    "q95_err_horizon": ("max", 0.3, 0.6), "q99_err_horizon": ("max", 0.4, 0.8),
    "corr_frobenius_daily": ("max", 0.3, 0.6), "corr_frobenius_horizon": ("max", 0.4, 0.8),
    "energy_distance_daily": ("max", 0.05, 0.10), "energy_distance_horizon": ("max", 0.10, 0.20),
    "mmd2_daily": ("max", 0.02, 0.05), "mmd2_horizon": ("max", 0.05, 0.10),
    "tail_dep_lower": ("max", 0.15, 0.30), "tail_dep_upper": ("max", 0.15, 0.30),
    "acf_returns": ("max", 0.08, 0.15), "acf_abs_returns": ("max", 0.10, 0.20),
    "acf_squared_returns": ("max", 0.10, 0.20), "ljung_box_returns": ("max", 0.20, 0.40),
    "ljung_box_squared": ("max", 0.25, 0.50), "arch_lm": ("max", 0.25, 0.50), "leverage": ("max", 0.10, 0.20),
    "stylized_coverage": ("min", 0.8, 0.6),
    "discriminative_score": ("max", 0.15, 0.25), "predictive_mae_ratio": ("max", 1.2, 1.5),
    "memorisation_distance_ratio": ("min", 0.8, 0.5), "memorisation_close_share": ("max", 0.05, 0.10),
    "crisis_loss_quantile": ("max", 0.99, 0.999),
    "coherence_co_move": ("max", 0.05, 0.10), "coherence_floor": ("max", 0.0, 0.01),
    "coherence_ceiling": ("max", 0.0, 0.01), "coherence_non_negative": ("max", 0.0, 0.01),
    # chi-squared 5 % / 1 % critical values (policy version 2, migration 0003)
    "kupiec_pof": ("max", 3.841459, 6.634897), "christoffersen_independence": ("max", 3.841459, 6.634897),
    "christoffersen_cc": ("max", 5.991465, 9.21034),
    # Acerbi & Szekely (2014): Z2 yellow from -0.70 (5 %), red from -1.8 (0.01 %) (policy version 3, migration 0004)
    "es_backtest_z2": ("min", -0.7, -1.8),
    # ── policy version 4 (issue 15, migration 0006): what is used is validated ──
    # Conformance of a conditioned set to its condition (validation.metrics.conformance): realised vol ratio
    # to the unconditioned reference over the asked multiplier, minus 1; the realised median cumulative move
    # minus the target in standard deviations of the reference's cumulative move.
    "conformance_vol_ratio": ("abs", 0.25, 0.5), "conformance_target": ("abs", 0.25, 0.5),
    # Plausibility (validation.metrics.plausibility): share of paths outside the model's plausibility region.
    "plausibility_outside_share": ("max", 0.01, 0.05),
    # Anti-gaming audit (validation.metrics.adversarial): share of grid edges where more stress gives no more
    # loss; severity-order violations (any is a FAIL); share of grid cells outside the plausibility region.
    "adversarial_benign_share": ("max", 0.0, 0.1), "severity_monotone": ("max", 0.0, 0.0),
    "adversarial_anomalous_cells": ("max", 0.1, 0.25),
    # Across versions in use (validation.metrics.conservatism): a version's VaR over the median of the versions
    # for the same condition; share of measures where the AI champion is below the classical benchmark.
    "version_disagreement": ("min", 0.5, 0.33), "conservatism_vs_benchmark": ("max", 0.25, 0.5),
    # Share of paths the generation's plausibility filter removed (seed 001 §4: soft constraints).
    "filter_removed_share": ("max", 0.05, 0.05),
    # Default coherence rules (validation.metrics.coherence): shares of violating scenarios.
    "coherence_max_daily_move": ("max", 0.0, 0.01), "coherence_option_non_negative": ("max", 0.0, 0.0),
    "coherence_put_call_parity": ("max", 0.0, 0.01), "coherence_strike_monotone": ("max", 0.0, 0.0),
}
TIER_SCALE = {1: 0.8, 2: 1.0, 3: 1.25}
# Bounds that are probabilities or quantile levels are not scaled.
UNSCALED = {"crisis_loss_quantile", "coherence_floor", "coherence_ceiling", "coherence_non_negative",
            "kupiec_pof", "christoffersen_independence", "christoffersen_cc", "es_backtest_z2",
            "adversarial_benign_share", "severity_monotone", "conservatism_vs_benchmark", "filter_removed_share",
            "coherence_max_daily_move", "coherence_option_non_negative", "coherence_put_call_parity",
            "coherence_strike_monotone"}

# Settings of the suite beside the thresholds (policy version 4, ``ValidationPolicy.suite_settings``), chosen a
# priori — each with its reason — and the same for every tier (the tier scales the thresholds above).
SETTINGS = {
    # Default economic-coherence rules applied when a run configures none (validation.coherence_defaults).
    "coherence_defaults": {
        # Floor of a rates factor's level, in the dataset's units (the bundled yields are in percent): the
        # lowest policy rates seen (-0.75 % SNB, -0.5 % ECB deposit) with a margin.
        "rates_floor": -1.0,
        # An equity sell-off that conditions the co-move rules: a cumulative log-return below -10 % over the
        # scenario horizon (about the 5 % quantile of 20-day S&P 500 moves 1999-2018).
        "co_move_min_size": 0.10,
        # Largest plausible one-day log move per risk class: the S&P 500's worst day (19 Oct 1987, -20.5 %,
        # log -0.229) rounded up; oil's largest daily moves (1991, 2020) about -0.4 in logs; FX pegs breaking
        # (CHF, 15 Jan 2015, about 0.17 in logs).
        "max_daily_move": {"equity": 0.25, "commodity": 0.5, "fx": 0.2},
        # Put-call parity tolerance on the revalued options, as a share of the spot.
        "option_parity_tolerance": 0.001,
    },
    # Plausibility region (Breuer et al. 2009): the Mahalanobis distance of the horizon move under the
    # unconditioned fit, beyond the larger of the chi-squared quantile at ``chi2_level`` and the largest
    # distance of any real window of the same horizon in the training data (never seen, and implausible).
    "plausibility": {"chi2_level": 0.9999, "tail_share": 0.01},
    # Anti-gaming audit: a one-at-a-time grid around the unconditioned model with common random numbers.
    "adversarial": {"paths": 500, "quantile": 0.99,
                    "severity": ["mild", "moderate", "severe", "extreme"],
                    "vol_multiplier": [1.0, 1.5, 2.0, 3.0], "equity_move": [-0.05, -0.10, -0.20, -0.35]},
    # The plausibility filter may remove at most this share of a set (more hides a broken model).
    "filter_max_share": 0.05,
    # Family-wise control of false FAILs (validation.familywise, issue 15 §5): the per-factor rows of one metric
    # are a family; Holm (1979) at ``alpha`` over their p-values (from the noise floor read as a normal law, or
    # the metric's own test); a non-significant WARN becomes PASS and FAIL becomes WARN (never PASS). Rows with
    # no noise model: a FAIL count that Bin(m, row_size) explains at ``alpha`` becomes WARN. ``row_size``: the
    # size of one row's test (the floor's 90 % band is one-sided 5 %).
    "familywise": {"method": "holm", "alpha": 0.05, "row_size": 0.05, "scope": "factors within a metric"},
}


# Ratios whose neutral value is 1 (a perfect generator scores ≈ 1): the tier scales their distance above 1,
# not the ratio (policy v4; v1-v3 scaled the ratio, so tier 1's bound 0.96 made a perfect generator WARN).
ABOVE_ONE = {"predictive_mae_ratio"}


def thresholds_for(tier: int) -> dict[str, dict[str, float]]:
    scale = TIER_SCALE[tier]
    out = {}
    for name, (direction, threshold, warn) in BASE.items():
        if name in ABOVE_ONE:
            out[name] = {"threshold": round(1 + (threshold - 1) * scale, 6), "warn": round(1 + (warn - 1) * scale, 6)}
        elif name in UNSCALED:
            out[name] = {"threshold": threshold, "warn": warn}
        elif direction == "min":
            # stricter means a higher minimum, capped at 1 for shares
            out[name] = {"threshold": round(min(1.0, threshold / scale), 4), "warn": round(min(1.0, warn / scale), 4)}
        else:
            out[name] = {"threshold": round(threshold * scale, 6), "warn": round(warn * scale, 6)}
    return out
