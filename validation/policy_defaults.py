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
}
TIER_SCALE = {1: 0.8, 2: 1.0, 3: 1.25}
# Bounds that are probabilities or quantile levels are not scaled.
UNSCALED = {"crisis_loss_quantile", "coherence_floor", "coherence_ceiling", "coherence_non_negative",
            "kupiec_pof", "christoffersen_independence", "christoffersen_cc", "es_backtest_z2"}


def thresholds_for(tier: int) -> dict[str, dict[str, float]]:
    scale = TIER_SCALE[tier]
    out = {}
    for name, (direction, threshold, warn) in BASE.items():
        if name in UNSCALED:
            out[name] = {"threshold": threshold, "warn": warn}
        elif direction == "min":
            # stricter means a higher minimum, capped at 1 for shares
            out[name] = {"threshold": round(min(1.0, threshold / scale), 4), "warn": round(min(1.0, warn / scale), 4)}
        else:
            out[name] = {"threshold": round(threshold * scale, 6), "warn": round(warn * scale, 6)}
    return out
