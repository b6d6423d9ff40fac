"""Family-wise control across factors (validation.familywise): Holm against statsmodels, and the verdict rules."""

from __future__ import annotations

import numpy as np
import pytest
from statsmodels.stats.multitest import multipletests

from validation.familywise import adjust, floor_pvalue, holm_adjusted
from validation.metrics.result import Floor, MetricResult
from validation.outcomes import judge
from validation.policy_defaults import SETTINGS, thresholds_for

RULE = SETTINGS["familywise"]


def _floor(high=0.10):
    return Floor(low=0.0, median=0.05, high=high, n=20, method="test")


def _ks(value, factor, floor=None):
    return MetricResult(name="ks_daily", tier="univariate", value=value, threshold=0.05, direction="max",
                        factor=factor, floor=floor or _floor())


def test_holm_adjusted_pvalues_match_statsmodels():
    p = np.random.default_rng(0).uniform(0, 0.2, size=17)
    assert np.allclose(holm_adjusted(p), multipletests(p, method="holm")[1])


def test_a_value_on_the_edge_of_the_floors_band_has_the_rows_size():
    assert floor_pvalue(_ks(0.10, "A"), 0.05) == pytest.approx(0.05)
    assert floor_pvalue(_ks(0.05, "A"), 0.05) == pytest.approx(0.5)


def test_one_marginal_factor_among_twenty_passes_at_the_family_level_but_a_gross_one_does_not():
    rows = [_ks(0.04, f"F{i}") for i in range(18)] + [_ks(0.11, "F18"), _ks(0.40, "F19")]
    judged = judge(rows, thresholds_for(2), settings=SETTINGS)
    before = judge(rows, thresholds_for(2))
    assert [j.outcome for j in before[-2:]] == ["FAIL", "FAIL"]  # 0.11 > warn 0.10, outside the 90 % band
    assert judged[-2].outcome == "WARN"  # explained by noise in a family of 20: softened, never to PASS
    assert judged[-2].result.details["familywise"]["significant"] is False
    assert judged[-2].result.details["familywise"]["before"] == "FAIL"
    assert judged[-1].outcome == "FAIL" and judged[-1].result.details["familywise"]["significant"] is True


def test_a_warn_explained_by_noise_passes_and_a_single_row_family_is_left_alone():
    rows = [_ks(0.04, f"F{i}") for i in range(19)] + [_ks(0.08, "F19", _floor(high=0.075))]
    assert judge(rows, thresholds_for(2))[-1].outcome == "WARN"
    assert judge(rows, thresholds_for(2), settings=SETTINGS)[-1].outcome == "PASS"
    assert judge(rows[-1:], thresholds_for(2), settings=SETTINGS)[0].outcome == "WARN"


def test_without_the_familywise_setting_the_judge_is_row_by_row():
    rows = [_ks(0.04, f"F{i}") for i in range(18)] + [_ks(0.11, "F18")]
    old = {k: v for k, v in SETTINGS.items() if k != "familywise"}
    assert judge(rows, thresholds_for(2), settings=old) == judge(rows, thresholds_for(2))
    assert [r for r, _ in adjust([(r, "FAIL") for r in rows], None)] == rows


def test_rows_without_a_noise_model_keep_fail_only_when_more_fail_than_chance_explains():
    def fact(value, factor):
        return MetricResult(name="stylized_leverage_effect", tier="stylized_facts", value=value, threshold=1.0,
                            direction="min", factor=factor)

    one = [fact(1.0, f"F{i}") for i in range(19)] + [fact(0.0, "F19")]
    assert judge(one, {}, settings=SETTINGS)[-1].outcome == "WARN"
    many = [fact(1.0, f"F{i}") for i in range(14)] + [fact(0.0, f"F{i}") for i in range(14, 20)]
    assert {j.outcome for j in judge(many, {}, settings=SETTINGS)[14:]} == {"FAIL"}


def test_a_holm_rejection_on_the_metrics_own_pvalue_stands():
    rows = [MetricResult(name="x", tier="t", value=1.0, threshold=0.5, direction="max", factor=f"F{i}",
                         pvalue=1e-6 if i == 0 else 0.5) for i in range(5)]
    judged = judge(rows, {"x": {"threshold": 0.5, "warn": 2.0}}, settings=SETTINGS)
    assert judged[0].outcome == "WARN" and judged[0].result.details["familywise"]["significant"] is True
    assert {j.outcome for j in judged[1:]} == {"PASS"}


@pytest.mark.parametrize("bad", [{"method": "bonferroni"}, {"alpha": 0.7}, {"scope": "everything"},
                                 {"row_size": True}])
def test_a_bad_familywise_setting_is_an_input_error(bad):
    with pytest.raises(ValueError, match="familywise"):
        judge([_ks(0.04, "A"), _ks(0.5, "B")], {}, settings={"familywise": RULE | bad})
