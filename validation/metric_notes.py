"""What each validation metric measures, in one line a reviewer can read next to its value (issue 17 §3).

Keyed by the metric's name as stored on ``MetricRow.name``; each line names the source of the statistic.
The metric's full reference (paper, equation) is on the row itself (``MetricRow.reference``). Pure data:
no Django, no numpy.
"""

from __future__ import annotations

NOTES: dict[str, str] = {
    # univariate: each factor's marginal law, daily and over the horizon
    "ks_daily": "Largest gap between the synthetic and holdout CDFs of daily moves (Kolmogorov-Smirnov; Massey 1951).",
    "ks_horizon": "Largest CDF gap of the cumulative move over the horizon (Kolmogorov-Smirnov; Massey 1951).",
    "ad_daily": "Tail-weighted CDF distance of daily moves (k-sample Anderson-Darling; Scholz & Stephens 1987).",
    "ad_horizon": "Tail-weighted CDF distance of horizon moves (k-sample Anderson-Darling; Scholz & Stephens 1987).",
    "mean_diff_daily": "Difference of mean daily moves, in holdout standard deviations (first moment).",
    "mean_diff_horizon": "Difference of mean horizon moves, in holdout standard deviations (first moment).",
    "vol_rel_diff_daily": "Relative error of daily volatility, synthetic vs holdout (second moment).",
    "vol_rel_diff_horizon": "Relative error of horizon volatility, synthetic vs holdout (second moment).",
    "skew_diff_daily": "Difference of skewness of daily moves (third standardised moment; Cont 2001 asymmetry).",
    "skew_diff_horizon": "Difference of skewness of horizon moves (third standardised moment).",
    "kurt_diff_daily": "Difference of excess kurtosis of daily moves: fat tails (Cont 2001, heavy tails).",
    "kurt_diff_horizon": "Difference of excess kurtosis of horizon moves (Cont 2001, aggregational Gaussianity).",
    "q01_err_daily": "Error of the 1 % quantile of daily moves, in holdout standard deviations (left tail).",
    "q05_err_daily": "Error of the 5 % quantile of daily moves, in holdout standard deviations.",
    "q95_err_daily": "Error of the 95 % quantile of daily moves, in holdout standard deviations.",
    "q99_err_daily": "Error of the 99 % quantile of daily moves, in holdout standard deviations (right tail).",
    "q01_err_horizon": "Error of the 1 % quantile of horizon moves, in holdout standard deviations (left tail).",
    "q05_err_horizon": "Error of the 5 % quantile of horizon moves, in holdout standard deviations.",
    "q95_err_horizon": "Error of the 95 % quantile of horizon moves, in holdout standard deviations.",
    "q99_err_horizon": "Error of the 99 % quantile of horizon moves, in holdout standard deviations (right tail).",
    # multivariate: the joint law across factors
    "corr_frobenius_daily": "Frobenius norm of the gap between correlation matrices of daily moves.",
    "corr_frobenius_horizon": "Frobenius norm of the gap between correlation matrices of horizon moves.",
    "energy_distance_daily": "Energy distance between the joint laws of daily moves (Szekely & Rizzo 2013).",
    "energy_distance_horizon": "Energy distance between the joint laws of horizon moves (Szekely & Rizzo 2013).",
    "mmd2_daily": "Squared maximum mean discrepancy, Gaussian kernel, daily moves (Gretton et al. 2012).",
    "mmd2_horizon": "Squared maximum mean discrepancy, Gaussian kernel, horizon moves (Gretton et al. 2012).",
    "tail_dep_lower": "Gap in lower-tail dependence: do factors crash together as often (Joe 1997, ch. 2).",
    "tail_dep_upper": "Gap in upper-tail dependence: do factors rally together as often (Joe 1997, ch. 2).",
    # temporal: dependence over time
    "acf_returns": "Gap in autocorrelation of daily moves, first lags (Cont 2001: absence of linear autocorrelation).",
    "acf_abs_returns": "Gap in autocorrelation of |moves|: volatility clustering "
                       "(Cont 2001; Ding, Granger & Engle 1993).",
    "acf_squared_returns": "Gap in autocorrelation of squared moves: volatility clustering (Cont 2001).",
    "ljung_box_returns": "Gap in share of Ljung-Box rejections on moves (Ljung & Box 1978).",
    "ljung_box_squared": "Gap in share of Ljung-Box rejections on squared moves: ARCH effects (McLeod & Li 1983).",
    "arch_lm": "Gap in share of ARCH-LM rejections: conditional heteroskedasticity (Engle 1982).",
    "leverage": "Gap in leverage effect: correlation of today's move with tomorrow's volatility "
                "(Black 1976; Cont 2001).",
    # stylized facts
    "stylized_coverage": "Share of Cont's (2001) stylised facts of returns the synthetic paths reproduce.",
    "stylized_leverage_effect": "Negative return-volatility correlation reproduced or not (Cont 2001, fact 10).",
    # discriminative and predictive (neural)
    "discriminative_score": "|accuracy - 0.5| of a classifier telling synthetic from real paths "
                            "(Yoon et al. 2019, TimeGAN).",
    "predictive_mae_ratio": "Error of a predictor trained on synthetic, tested on real, over one trained on real "
                            "(train-synthetic-test-real; Esteban et al. 2017; Yoon et al. 2019).",
    # memorisation
    "memorisation_distance_ratio": "Nearest synthetic-to-training distance over training-to-holdout distance: "
                                   "below 1 means copying (Meehan et al. 2020).",
    "memorisation_close_share": "Share of synthetic paths closer to a training window than real data ever is "
                                "(Meehan et al. 2020, data-copying test).",
    "memorisation_copies": "Synthetic paths that are near-exact copies of a training window.",
    # crisis windows
    "crisis_loss_quantile": "Quantile of the worst historical crisis loss within the synthetic loss distribution.",
    "crisis_wasserstein": "Wasserstein-1 distance between synthetic and crisis-window moves (Villani 2009).",
    "crisis_window_skipped": "A crisis window that could not be compared (not in the data): tested nothing.",
    "crisis_windows_none": "No crisis window falls in the data: the crisis tier tested nothing.",
    # coherence (economic rules)
    "coherence_rules": "Share of scenarios breaking the configured economic-coherence rules.",
    "coherence_co_move": "Share of equity sell-offs without the expected co-moves (e.g. volatility up).",
    "coherence_floor": "Share of scenarios breaching a rate's floor (lowest policy rates seen, -0.75 %).",
    "coherence_ceiling": "Share of scenarios breaching a factor's ceiling.",
    "coherence_non_negative": "Share of scenarios with a negative level where none is possible (prices, spreads).",
    "coherence_max_daily_move": "Share of scenarios with a daily move beyond the largest plausible for its "
                                "risk class (S&P 500, 19 Oct 1987).",
    "coherence_option_non_negative": "Share of scenarios revaluing an option below zero (no-arbitrage bound).",
    "coherence_put_call_parity": "Share of scenarios breaking put-call parity beyond tolerance (Stoll 1969).",
    "coherence_strike_monotone": "Share of scenarios where option prices are not monotone in the strike "
                                 "(Merton 1973).",
    "filter_removed_share": "Share of drawn paths the plausibility filter removed: more hides a broken model.",
    # backtests of the VaR and ES the scenarios imply
    "var_exceedance_rate": "Share of holdout days whose loss exceeded the scenarios' VaR (Basel Committee 1996).",
    "kupiec_pof": "Likelihood-ratio test of the VaR exceedance count, proportion of failures (Kupiec 1995).",
    "christoffersen_independence": "Likelihood-ratio test that VaR exceedances do not cluster (Christoffersen 1998).",
    "christoffersen_cc": "Conditional coverage: right count and no clustering of VaR exceedances "
                         "(Christoffersen 1998).",
    "basel_traffic_light": "Green/yellow/red zone of the exceedance count over 250 days (Basel Committee 1996).",
    "es_backtest_z2": "Expected-shortfall backtest statistic Z2; below -0.7 is yellow (Acerbi & Szekely 2014).",
    # conditioned sets, plausibility, anti-gaming, comparison
    "conformance_vol_ratio": "Realised volatility multiple of a conditioned set over the asked one, minus 1.",
    "conformance_target": "Realised median cumulative move minus the condition's target, in reference "
                          "standard deviations.",
    "plausibility_outside_share": "Share of paths outside the model's plausibility region (Mahalanobis; "
                                  "Breuer et al. 2009).",
    "plausibility_analogue": "Nearest historical analogue of the scenario's move (Breuer et al. 2009).",
    "adversarial_benign_share": "Share of stress-grid steps where more stress gives no more loss (anti-gaming audit).",
    "severity_monotone": "Severity-order violations: a harsher severity giving a smaller loss (any is a FAIL).",
    "adversarial_anomalous_cells": "Share of stress-grid cells outside the plausibility region (Breuer et al. 2009).",
    "version_disagreement": "A version's VaR over the median of versions in use for the same condition.",
    "conservatism_vs_benchmark": "Share of measures where the AI champion is less severe than the classical "
                                 "benchmark (SR 11-7 conservatism).",
    "holdout_comparator": "How the paths judged were obtained: the holdout replay from the model's own filter.",
}

_PATTERNS = (
    ("_tier", "The tier as a whole: why it tested nothing, when it did not run."),
    ("coherence_", "Share of scenarios breaking this economic-coherence rule."),
)


def note_for(name: str) -> str:
    """The one-line meaning of a metric ('' when none is written)."""
    if name in NOTES:
        return NOTES[name]
    for affix, note in _PATTERNS:
        if name.endswith(affix) or name.startswith(affix):
            return note
    return ""


__all__ = ["NOTES", "note_for"]
