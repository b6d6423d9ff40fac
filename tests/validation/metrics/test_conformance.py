"""Conformance tier: a conditioned set against what its condition asked, on Gaussian paths with known laws."""

from __future__ import annotations

import numpy as np
import pytest

from validation.metrics.conformance import conformance_metrics, realised_vol_ratio
from validation.outcomes import judge
from validation.policy_defaults import thresholds_for

FACTORS = ["SP500", "VIX", "UST10Y"]
SD = np.array([0.01, 0.05, 0.002])
H = 20


def gaussian(rng, n, horizon=H, scale=1.0):
    return rng.standard_normal((n, horizon, len(FACTORS))) * SD * scale


def outcomes(results):
    return [item.outcome for item in judge(results, thresholds_for(2))]


def severe(vol=2.0, targets=()):
    return {"label": "severe", "vol_multiplier": vol, "targets": list(targets)}


def test_a_set_with_four_times_the_vol_fails_conformance_and_one_with_twice_passes():
    rng = np.random.default_rng(0)
    reference = gaussian(rng, 2000)
    too_wild = conformance_metrics(gaussian(rng, 2000, scale=4.0), reference, FACTORS, asked=severe())
    assert [r.name for r in too_wild] == ["conformance_vol_ratio"] * 3
    assert [r.factor for r in too_wild] == FACTORS
    for row in too_wild:
        assert row.value == pytest.approx(1.0, abs=0.03)
        assert row.details["asked"] == 2.0 and row.details["realised"] == pytest.approx(4.0, rel=0.015)
    assert outcomes(too_wild) == ["FAIL"] * 3
    right = conformance_metrics(gaussian(rng, 2000, scale=2.0), reference, FACTORS, asked=severe())
    assert all(abs(r.value) < 0.03 for r in right)
    assert outcomes(right) == ["PASS"] * 3


def test_the_vol_ratio_is_the_pooled_standard_deviation_ratio():
    rng = np.random.default_rng(1)
    reference, synthetic = gaussian(rng, 50, horizon=7), gaussian(rng, 30, scale=1.7)
    expected = synthetic.reshape(-1, 3).std(axis=0, ddof=1) / reference.reshape(-1, 3).std(axis=0, ddof=1)
    np.testing.assert_allclose(realised_vol_ratio(synthetic, reference), expected, rtol=1e-12)
    rows = conformance_metrics(synthetic, reference, FACTORS, asked=severe(vol=1.5))
    np.testing.assert_allclose([r.value for r in rows], expected / 1.5 - 1.0, rtol=1e-12)


def test_a_constant_drift_does_not_change_the_vol_ratio():
    rng = np.random.default_rng(2)
    reference, synthetic = gaussian(rng, 300), gaussian(rng, 300, scale=2.0)
    drifted = synthetic + np.array([-0.01, 0.02, 0.0])
    plain = conformance_metrics(synthetic, reference, FACTORS, asked=severe())
    moved = conformance_metrics(drifted, reference, FACTORS, asked=severe())
    np.testing.assert_allclose([r.value for r in moved], [r.value for r in plain], rtol=1e-10)


def test_the_vol_message_names_the_condition_and_both_multipliers():
    rng = np.random.default_rng(3)
    reference = gaussian(rng, 400)
    rows = conformance_metrics(3.4 * reference, reference, FACTORS, asked=severe())
    assert rows[0].details["message"] == "severe asked for 2.0× vol, set has 3.4×"
    assert rows[0].value == pytest.approx(0.7)
    rows = conformance_metrics(1.25 * reference, reference, FACTORS, asked=severe(vol=1.25))
    assert rows[0].details["message"] == "severe asked for 1.25× vol, set has 1.25×"


def test_targets_hit_pass_and_targets_missed_by_two_sd_fail():
    rng = np.random.default_rng(4)
    reference = gaussian(rng, 4000)
    sd20 = SD[0] * np.sqrt(H)
    target = {"factor": "SP500", "day": H, "move": -0.20, "quantile": 0.5}
    hit = gaussian(rng, 4000, scale=2.0)
    hit[:, :, 0] += -0.20 / H  # a constant drift: the median 20-day move is the target
    missed = hit.copy()
    missed[:, :, 0] += 2.0 * sd20 / H  # the median now lands two reference sd above the target
    rows_hit = conformance_metrics(hit, reference, FACTORS, asked=severe(targets=[target]))
    rows_missed = conformance_metrics(missed, reference, FACTORS, asked=severe(targets=[target]))
    hit_row, missed_row = rows_hit[-1], rows_missed[-1]
    assert hit_row.name == missed_row.name == "conformance_target" and hit_row.factor == "SP500"
    assert hit_row.details["sd"] == pytest.approx(sd20, rel=0.05)
    assert abs(hit_row.value) < 0.1 and missed_row.value == pytest.approx(2.0, abs=0.15)
    assert outcomes([hit_row, missed_row]) == ["PASS", "FAIL"]
    expected = (np.quantile(missed[:, :, 0].sum(axis=1), 0.5) + 0.20) / reference[:, :, 0].sum(axis=1).std(ddof=1)
    assert missed_row.value == pytest.approx(expected, rel=1e-12)


def test_a_target_before_the_horizon_and_at_another_quantile_uses_that_day_and_quantile():
    rng = np.random.default_rng(5)
    reference, synthetic = gaussian(rng, 1000), gaussian(rng, 1000, scale=1.5)
    target = {"factor": "VIX", "day": 5, "move": 0.3, "quantile": 0.95}
    row = conformance_metrics(synthetic, reference, FACTORS, asked=severe(targets=[target]))[-1]
    realised = np.quantile(synthetic[:, :5, 1].sum(axis=1), 0.95)
    sd = reference[:, :5, 1].sum(axis=1).std(ddof=1)
    assert row.details["realised"] == pytest.approx(realised) and row.details["sd"] == pytest.approx(sd)
    assert row.value == pytest.approx((realised - 0.3) / sd)
    assert "95 % quantile VIX move" in row.details["message"]


def test_a_reference_shorter_than_the_target_day_has_its_sd_scaled_as_a_random_walk():
    rng = np.random.default_rng(6)
    reference, synthetic = gaussian(rng, 3000, horizon=5), gaussian(rng, 100)
    target = {"factor": "SP500", "day": 20, "move": 0.0}
    row = conformance_metrics(synthetic, reference, FACTORS, asked=severe(vol=None, targets=[target]))[-1]
    assert row.details["sd"] == pytest.approx(reference[:, :, 0].sum(axis=1).std(ddof=1) * 2.0)
    assert "sqrt(20/5)" in row.details["sd_scaled"]


def test_the_target_message_prints_log_moves_as_percent_and_other_units_as_numbers():
    synthetic = np.zeros((3, H, 3))
    synthetic[:, :, 0] = np.array([-0.3, -0.123, 0.1])[:, None] / H
    synthetic[:, :, 2] = np.array([0.5, 1.5, 2.0])[:, None] / H
    reference = np.random.default_rng(7).standard_normal((200, H, 3)) * SD
    targets = [{"factor": "SP500", "day": H, "move": -0.20},
               {"factor": "UST10Y", "day": H, "move": -1.5, "units": "percentage points"}]
    rows = conformance_metrics(synthetic, reference, FACTORS, asked=severe(targets=targets))
    equity, rates = rows[-2], rows[-1]
    assert equity.details["message"] == "severe asked for a median SP500 move of −20.0 % over 20 days, set has −12.3 %"
    assert rates.details["message"] == ("severe asked for a median UST10Y move of −1.5 over 20 days, set has 1.5")


def test_without_a_vol_multiplier_the_vol_rows_are_not_run_per_factor():
    rng = np.random.default_rng(8)
    reference = gaussian(rng, 200)
    fed = {"label": "Fed 2025 severely adverse", "vol_multiplier": None,
           "targets": [{"factor": "SP500", "day": 20, "move": -0.3, "quantile": 0.5}]}
    rows = conformance_metrics(gaussian(rng, 200), reference, FACTORS, asked=fed)
    vol_rows = [r for r in rows if r.name == "conformance_vol_ratio"]
    assert [r.factor for r in vol_rows] == FACTORS
    assert all(r.not_run == "the condition sets no volatility" for r in vol_rows)
    assert outcomes(vol_rows) == ["NOT_RUN"] * 3
    assert rows[-1].details["message"].startswith("Fed 2025 severely adverse asked for a median SP500 move of −30.0 %")
    assert outcomes(rows[-1:]) == ["FAIL"]  # an unconditioned-looking set misses a -30 % target by ~7 sd


def test_a_condition_that_asks_nothing_is_one_not_run_row():
    rng = np.random.default_rng(9)
    reference = gaussian(rng, 50)
    rows = conformance_metrics(reference, reference, FACTORS, asked={"label": "custom", "vol_multiplier": None,
                                                                     "targets": []})
    assert len(rows) == 1 and rows[0].name == "conformance_vol_ratio"
    assert rows[0].not_run == "the set is unconditioned: nothing to conform to"
    assert outcomes(rows) == ["NOT_RUN"]


def test_a_reference_that_does_not_move_in_a_factor_is_not_run_for_that_factor():
    rng = np.random.default_rng(10)
    reference = gaussian(rng, 50)
    reference[:, :, 1] = 0.0
    rows = conformance_metrics(gaussian(rng, 50), reference, FACTORS, asked=severe(
        targets=[{"factor": "VIX", "day": 3, "move": 0.1}]))
    assert [bool(r.not_run) for r in rows] == [False, True, False, True]
    assert "VIX" in rows[1].not_run


@pytest.mark.parametrize(("change", "message"), [
    ({"vol_multiplier": 0.0}, "vol_multiplier must be a positive finite number"),
    ({"vol_multiplier": float("nan")}, "vol_multiplier must be a positive finite number"),
    ({"targets": [{"factor": "GOLD", "day": 1, "move": 0.1}]}, "names factor 'GOLD'"),
    ({"targets": [{"factor": "SP500", "day": 21, "move": 0.1}]}, "day must be an integer in 1..20"),
    ({"targets": [{"factor": "SP500", "day": 0, "move": 0.1}]}, "day must be an integer in 1..20"),
    ({"targets": [{"factor": "SP500", "day": 5, "move": float("inf")}]}, "move must be a finite number"),
    ({"targets": [{"factor": "SP500", "day": 5, "move": 0.1, "quantile": 1.0}]}, "quantile must lie in"),
])
def test_bad_asked_conditions_are_refused_with_the_reason(change, message):
    rng = np.random.default_rng(11)
    reference = gaussian(rng, 20)
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(".", r"\.")):
        conformance_metrics(reference, reference, FACTORS, asked=severe() | change)


def test_bad_arrays_are_refused_with_the_reason():
    rng = np.random.default_rng(12)
    reference = gaussian(rng, 20)
    with pytest.raises(ValueError, match="3 factors but the real data has 2"):
        conformance_metrics(reference, reference, FACTORS[:2], asked=severe())
    broken = reference.copy()
    broken[1, 2, 0] = np.nan
    with pytest.raises(ValueError, match="non-finite"):
        conformance_metrics(broken, reference, FACTORS, asked=severe())
    with pytest.raises(ValueError, match="reference must be"):
        conformance_metrics(reference, np.zeros((2, 2, 2, 3)), FACTORS, asked=severe())
    with pytest.raises(ValueError, match="asked must be a mapping"):
        conformance_metrics(reference, reference, FACTORS, asked=None)
