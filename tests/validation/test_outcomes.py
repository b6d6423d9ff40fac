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
        assert latest.version == 3 and latest.thresholds["es_backtest_z2"] == {"threshold": -0.7, "warn": -1.8}
        assert latest.thresholds["kupiec_pof"] == {"threshold": 3.841459, "warn": 6.634897}  # carried over
