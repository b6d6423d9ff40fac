"""Comparison tier: disagreement across versions in use and conservatism against the classical benchmark,
on hand-computed values."""

from __future__ import annotations

import pytest

from validation.metrics.conservatism import conservatism_vs_benchmark, version_disagreement
from validation.outcomes import judge
from validation.policy_defaults import thresholds_for

MEASURES = {
    "v1 (champion)": {"severe var_99": 0.10, "severe es_99": 0.14},
    "v2 (challenger)": {"severe var_99": 0.12, "severe es_99": 0.16},
    "v3 (benchmark)": {"severe var_99": 0.30, "severe es_99": 0.20},
}


def outcomes(results):
    return [item.outcome for item in judge(results, thresholds_for(2))]


def test_each_measure_of_the_subject_is_its_loss_over_the_median_of_the_other_versions():
    var, es = version_disagreement(MEASURES, subject="v1 (champion)")
    assert (var.name, var.tier, var.factor, var.direction) == ("version_disagreement", "comparison",
                                                               "severe var_99", "min")
    assert var.value == pytest.approx(0.10 / 0.21)  # median of the others' 0.12, 0.30
    assert es.value == pytest.approx(0.14 / 0.18)  # the others' 0.16, 0.20
    assert var.details["median"] == pytest.approx(0.21) and var.details["lowest"] == "v1 (champion)"
    assert var.details["values"] == {"v1 (champion)": 0.10, "v2 (challenger)": 0.12, "v3 (benchmark)": 0.30}
    assert outcomes([var, es]) == ["WARN", "PASS"]  # 0.48 of the others: below half their median


def test_a_version_far_below_the_others_fails():
    measures = MEASURES | {"v4 (challenger)": {"severe var_99": 0.03}}
    (row,) = version_disagreement(measures, subject="v4 (challenger)")
    assert row.value == pytest.approx(0.03 / 0.12)  # median of the others' 0.10, 0.12, 0.30
    assert row.details["lowest"] == "v4 (challenger)"
    assert outcomes([row]) == ["FAIL"]
    measures["v4 (challenger)"]["severe var_99"] = 0.05  # 0.05 / 0.12 = 0.42: between 0.33 and 0.5
    assert outcomes(version_disagreement(measures, subject="v4 (challenger)")) == ["WARN"]


def test_a_measure_only_the_subject_has_and_a_lone_version_are_not_run():
    measures = MEASURES | {"v1 (champion)": {"severe var_99": 0.10, "fed es_995": 0.2}}
    var, fed = version_disagreement(measures, subject="v1 (champion)")
    assert not var.not_run and fed.factor == "fed es_995" and "no other version" in fed.not_run
    (alone,) = version_disagreement({"v1": {"severe var_99": 0.1}}, subject="v1")
    assert alone.not_run == "v1 is the only version in use: nothing to compare with"
    assert outcomes([fed, alone]) == ["NOT_RUN", "NOT_RUN"]


def test_a_median_that_is_not_a_loss_gives_no_ratio():
    (row,) = version_disagreement({"a": {"m": 0.1}, "b": {"m": -0.2}, "c": {"m": -0.3}}, subject="a")
    assert "not a loss" in row.not_run


def test_a_champion_below_the_benchmark_on_three_of_four_measures_fails():
    champion = {"severe var_99": 0.10, "severe es_99": 0.14, "severe var_995": 0.20, "severe es_995": 0.30}
    benchmark = {"severe var_99": 0.12, "severe es_99": 0.15, "severe var_995": 0.25, "severe es_995": 0.28,
                 "extreme var_99": 0.5}
    row = conservatism_vs_benchmark(champion, benchmark)
    assert (row.name, row.tier, row.direction) == ("conservatism_vs_benchmark", "comparison", "max")
    assert row.value == 0.75 and row.details["measures"] == 4
    assert [b["measure"] for b in row.details["below"]] == ["severe var_99", "severe es_99", "severe var_995"]
    assert row.details["below"][0] == {"measure": "severe var_99", "champion": 0.10, "benchmark": 0.12}
    assert outcomes([row]) == ["FAIL"]


def test_a_champion_at_least_as_conservative_passes_and_one_measure_in_four_is_on_the_bound():
    benchmark = {"a": 1.0, "b": 1.0, "c": 1.0, "d": 1.0}
    assert conservatism_vs_benchmark({"a": 1.0, "b": 2.0, "c": 1.5, "d": 1.1}, benchmark).value == 0.0
    one = conservatism_vs_benchmark({"a": 0.9, "b": 2.0, "c": 1.5, "d": 1.1}, benchmark)
    assert one.value == 0.25
    assert outcomes([one]) == ["PASS"]


def test_without_a_benchmark_or_a_common_measure_the_check_is_not_run():
    assert "no classical benchmark" in conservatism_vs_benchmark({"a": 1.0}, None).not_run
    assert "no measure in common" in conservatism_vs_benchmark({"a": 1.0}, {"b": 1.0}).not_run


def test_bad_inputs_are_refused_with_the_reason():
    with pytest.raises(ValueError, match="subject 'v9' is not among the versions"):
        version_disagreement(MEASURES, subject="v9")
    with pytest.raises(ValueError, match="non-empty mapping"):
        version_disagreement({}, subject="v1")
    with pytest.raises(ValueError, match="measure 'm' must be a finite number"):
        version_disagreement({"v1": {"m": float("nan")}, "v2": {"m": 1.0}}, subject="v1")
    with pytest.raises(ValueError, match="champion: measure 'm' must be a finite number"):
        conservatism_vs_benchmark({"m": "high"}, {"m": 1.0})
    with pytest.raises(ValueError, match="champion must be a mapping"):
        conservatism_vs_benchmark(None, {"m": 1.0})
