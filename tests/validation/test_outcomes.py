"""PASS / WARN / FAIL of the backtest metrics under the graded policy (versions 2 and 3): the zones of
the Basel (1996) traffic light and of Acerbi & Székely's Z2, against the binomial distribution."""

from __future__ import annotations

import pytest
from scipy import stats

from validation.metrics.backtest import basel_traffic_light
from validation.metrics.result import MetricResult
from validation.outcomes import judge
from validation.policy_defaults import thresholds_for


def _outcome(result: MetricResult, tier: int) -> str:
    return judge([result], thresholds_for(tier))[0].outcome


@pytest.mark.parametrize("tier", [1, 2, 3])
def test_basel_green_passes_yellow_warns_red_fails_on_any_holdout_length(tier):
    n = 1002  # the 2015-18 holdout's trading days
    cdf = stats.binom.cdf(range(n + 1), n, 0.01)
    last_green = max(k for k in range(n + 1) if cdf[k] < 0.95)
    last_yellow = max(k for k in range(n + 1) if cdf[k] < 0.9999)
    assert (last_green, last_yellow) == (14, 23)
    assert _outcome(basel_traffic_light(last_green, n), tier) == "PASS"
    assert _outcome(basel_traffic_light(last_green + 1, n), tier) == "WARN"
    assert _outcome(basel_traffic_light(last_yellow, n), tier) == "WARN"
    assert _outcome(basel_traffic_light(last_yellow + 1, n), tier) == "FAIL"
    # the 250-day table: yellow 5-9, red from 10
    assert [_outcome(basel_traffic_light(x), tier) for x in (4, 5, 9, 10)] == ["PASS", "WARN", "WARN", "FAIL"]


@pytest.mark.parametrize("tier", [1, 2, 3])
def test_es_z2_warns_between_the_papers_two_critical_values(tier):
    def z2(value):
        return MetricResult(name="es_backtest_z2", tier="risk_backtest", value=value, threshold=-0.7,
                            direction="min")

    assert [_outcome(z2(v), tier) for v in (-0.5, -0.9, -1.79, -1.81)] == ["PASS", "WARN", "WARN", "FAIL"]


def test_a_policy_bound_wins_over_the_metrics_own():
    policy = {"basel_traffic_light": {"threshold": 15, "warn": 16}}
    assert judge([basel_traffic_light(17, 1002)], policy)[0].outcome == "FAIL"


@pytest.mark.django_db
def test_the_migrated_policies_grade_z2_for_every_tier():
    from validation.models import ValidationPolicy

    for tier in (1, 2, 3):
        latest = ValidationPolicy.objects.filter(model_tier=tier).order_by("-version").first()
        assert latest.version == 4 and latest.thresholds["es_backtest_z2"] == {"threshold": -0.7, "warn": -1.8}
        assert latest.thresholds["kupiec_pof"] == {"threshold": 3.841459, "warn": 6.634897}  # carried over


def test_a_metric_that_tested_nothing_is_not_run_and_so_is_a_tier_of_only_such_rows():
    from validation.metrics.result import MetricResult
    from validation.outcomes import not_run_tiers, summarise

    skipped = MetricResult.skipped(name="coherence_rules", tier="coherence", reason="no rule applies")
    info = MetricResult(name="holdout_comparator", tier="coherence", value=1.0, direction="info")
    passed = MetricResult(name="ks_daily", tier="univariate", value=0.01, threshold=0.05)
    judged = judge([skipped, info, passed], {})
    assert [j.outcome for j in judged] == ["NOT_RUN", "INFO", "PASS"]
    tiers, overall = summarise(judged)
    assert tiers == {"coherence": "NOT_RUN", "univariate": "PASS"} and overall == "PASS"
    assert not_run_tiers(tiers) == ["coherence"]
    assert summarise(judge([skipped], {}))[1] == "NOT_RUN"


@pytest.mark.django_db
def test_policy_version_4_carries_the_suite_settings_and_the_new_bounds():
    from validation.models import ValidationPolicy

    for tier in (1, 2, 3):
        latest = ValidationPolicy.objects.filter(model_tier=tier).order_by("-version").first()
        assert latest.suite_settings["filter_max_share"] == 0.05
        assert latest.thresholds["severity_monotone"] == {"threshold": 0.0, "warn": 0.0}
        assert "conformance_vol_ratio" in latest.thresholds
