"""Hypothetical shocks: parser known answers and round trip, conditional-Gaussian projection."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scenarios.engines import hypothetical
from scenarios.engines.base import Condition, FittedState, Target

FACTORS = ["SPX", "UST10Y", "IG_OAS", "WTI", "VIX"]
KINDS = ["equity", "rate", "spread", "commodity", "vol"]
MAP = hypothetical.default_factor_map(FACTORS, KINDS)


def test_parse_the_readable_spec():
    shocks = hypothetical.parse_shock_spec("equity -30%, rates +200bp, credit spreads +150bp, oil -40%", MAP)
    assert list(shocks) == ["SPX", "UST10Y", "IG_OAS", "WTI"]
    assert shocks["SPX"].increment == pytest.approx(math.log(0.7))
    assert shocks["UST10Y"].increment == pytest.approx(0.02)
    assert shocks["IG_OAS"].increment == pytest.approx(0.015)
    assert shocks["WTI"].increment == pytest.approx(math.log(0.6))
    assert shocks["SPX"] == hypothetical.Shock("SPX", "equity", -30.0, "%", math.log1p(-0.3))


def test_parse_units_aliases_and_case():
    shocks = hypothetical.parse_shock_spec("VIX +25 vol pts; Stocks +5%;  UST10Y -50 bps", MAP, bp_size=0.01)
    assert shocks["VIX"].increment == 25.0 and shocks["VIX"].unit == "vol pts"
    assert shocks["UST10Y"].increment == pytest.approx(-0.5)  # rates quoted in percent
    assert hypothetical.parse_shock_spec("vix +3pts", MAP)["VIX"].increment == 3.0


def test_factor_names_with_digits_keep_their_digits():
    fmap = hypothetical.default_factor_map(["UST 10Y"], ["rate"])
    assert hypothetical.parse_shock_spec("UST 10Y +50bp", fmap)["UST 10Y"].increment == pytest.approx(0.005)


@pytest.mark.parametrize(("spec", "message"), [
    ("gold -5%", "unknown factor 'gold'"),
    ("equity -30kg", "unknown unit 'kg'"),
    ("rates -30%", "unit '%' does not fit factor 'UST10Y' of kind 'rate'"),
    ("equity +20bp", "unit 'bp' does not fit factor 'SPX'"),
    ("equity -30%, stocks -10%", "'SPX' is shocked twice.*'stocks -10%'"),
    ("equity -30", "'equity -30' has no unit"),
    ("equity -100%", "cannot fall by 100%"),
    ("equity", "cannot read shock 'equity'"),
    ("  , ;", "empty"),
])
def test_parse_errors_name_the_bad_token(spec, message):
    with pytest.raises(ValueError, match=message):
        hypothetical.parse_shock_spec(spec, MAP)


def test_ambiguous_kind_word_is_not_an_alias():
    fmap = hypothetical.default_factor_map(["SPX", "NDX"], ["equity", "equity"])
    with pytest.raises(ValueError, match="unknown factor 'equity'"):
        hypothetical.parse_shock_spec("equity -10%", fmap)
    with pytest.raises(ValueError, match="unknown kind 'bond'"):
        hypothetical.default_factor_map(["X"], ["bond"])


def test_format_round_trips_the_example():
    shocks = hypothetical.parse_shock_spec("equity -30%, rates +200bp, vix +10 vol pts, oil -40.5%", MAP)
    text = hypothetical.format_shock_spec(shocks)
    assert text == "SPX -30%, UST10Y +200bp, VIX +10 vol pts, WTI -40.5%"
    assert hypothetical.parse_shock_spec(text, MAP) == shocks


_UNITS_BY_FACTOR = {"SPX": ["%"], "UST10Y": ["bp", "bps"], "IG_OAS": ["bp"], "WTI": ["%"], "VIX": ["pts", "vol pts"]}


@st.composite
def specs(draw):
    chosen = draw(st.lists(st.sampled_from(FACTORS), min_size=1, max_size=5, unique=True))
    parts = []
    for factor in chosen:
        unit = draw(st.sampled_from(_UNITS_BY_FACTOR[factor]))
        low = -99.9 if unit == "%" else -1e4
        value = draw(st.floats(min_value=low, max_value=1e4, allow_nan=False, allow_infinity=False))
        name = draw(st.sampled_from([factor, factor.lower(), f" {factor} "]))
        sep = " " if unit == "vol pts" else draw(st.sampled_from(["", " "]))
        parts.append(f"{name} {value!r}{sep}{unit}")
    return draw(st.sampled_from([", ", ";", " , "])).join(parts)


@settings(max_examples=200, deadline=None)
@given(specs())
def test_parse_format_round_trip_property(spec):
    shocks = hypothetical.parse_shock_spec(spec, MAP)
    text = hypothetical.format_shock_spec(shocks)
    assert hypothetical.parse_shock_spec(text, MAP) == shocks
    assert hypothetical.format_shock_spec(hypothetical.parse_shock_spec(text, MAP)) == text


# ── conditional projection ──────────────────────────────────────────────────────────────────
def test_projection_two_factor_closed_form():
    s1, s2, rho = 0.02, 0.01, -0.6
    cov = np.array([[s1**2, rho * s1 * s2], [rho * s1 * s2, s2**2]])
    mean, cond = hypothetical.conditional_projection(cov, [0], np.array([-0.3]))
    assert mean[0] == -0.3
    assert mean[1] == pytest.approx(rho * s2 / s1 * -0.3)  # regression slope rho*s2/s1
    assert cond[1, 1] == pytest.approx(s2**2 * (1 - rho**2))
    assert cond[0, 0] == 0 and cond[0, 1] == 0


def test_projection_three_factor_hand_computation():
    cov = np.array([[4.0, 2.0, 1.0], [2.0, 3.0, 0.5], [1.0, 0.5, 2.0]])
    s = np.array([1.0, -2.0])  # shock factors 0 and 2
    mean, cond = hypothetical.conditional_projection(cov, [0, 2], s)
    sigma_ss = np.array([[4.0, 1.0], [1.0, 2.0]])
    sigma_us = np.array([[2.0, 0.5]])
    inv = np.array([[2.0, -1.0], [-1.0, 4.0]]) / 7.0  # inverse of sigma_ss by hand (det 7)
    np.testing.assert_allclose(inv @ sigma_ss, np.eye(2), atol=1e-15)
    assert mean[1] == pytest.approx((sigma_us @ inv @ s)[0])
    assert mean[1] == pytest.approx((2 * (2 * 1 - 1 * -2) + 0.5 * (-1 * 1 + 4 * -2)) / 7)
    assert cond[1, 1] == pytest.approx(3.0 - (sigma_us @ inv @ sigma_us.T)[0, 0])
    np.testing.assert_array_equal(mean[[0, 2]], s)


def test_projection_singular_shocked_block():
    cov = np.array([[1.0, 1.0, 0.2], [1.0, 1.0, 0.2], [0.2, 0.2, 1.0]])
    with pytest.raises(ValueError, match="singular"):
        hypothetical.conditional_projection(cov, [0, 1], np.array([0.1, 0.1]))
    with pytest.raises(ValueError, match="distinct"):
        hypothetical.conditional_projection(cov, [0, 0], np.array([0.1, 0.1]))


# ── engine ──────────────────────────────────────────────────────────────────────────────────
def _train(rows: int = 2000) -> np.ndarray:
    rng = np.random.default_rng(11)
    corr = np.array([[1, -0.3, -0.5, 0.3, -0.7], [-0.3, 1, -0.2, 0.1, 0.2], [-0.5, -0.2, 1, -0.2, 0.5],
                     [0.3, 0.1, -0.2, 1, -0.2], [-0.7, 0.2, 0.5, -0.2, 1]])
    sd = np.array([0.012, 0.0007, 0.0004, 0.024, 1.5])
    return rng.multivariate_normal(np.zeros(5), corr * np.outer(sd, sd), size=rows)


SPEC = "equity -30%, rates +200bp"


def test_engine_identical_paths_and_linear_schedule():
    train = _train()
    state = hypothetical.fit(train, FACTORS, hypothetical.Config(spec=SPEC), KINDS)
    np.testing.assert_allclose(state.arrays["cov"], np.cov(train, rowvar=False))
    paths = hypothetical.sample(state, 4, 10, None, np.random.default_rng(0))
    assert paths.shape == (4, 10, 5)
    assert np.all(paths == paths[0])
    total = paths[0].sum(axis=0)
    assert total[0] == pytest.approx(math.log(0.7)) and total[1] == pytest.approx(0.02)
    expected, _ = hypothetical.conditional_projection(state.arrays["cov"], [0, 1], np.array([math.log(0.7), 0.02]))
    np.testing.assert_allclose(total, expected)
    assert total[4] > 0  # VIX rises when equity falls (negative correlation)
    np.testing.assert_allclose(paths[0], np.tile(total / 10, (10, 1)))


def test_engine_day1_schedule_and_no_propagation():
    state = hypothetical.fit(_train(), FACTORS, hypothetical.Config(spec=SPEC, schedule="day1", propagate=False), KINDS)
    paths = hypothetical.sample(state, 2, 5, None, np.random.default_rng(0))
    assert paths[0, 0, 0] == pytest.approx(math.log(0.7))
    assert np.all(paths[:, 1:] == 0) and np.all(paths[:, :, 2:] == 0)


def test_engine_noise_matches_conditional_covariance_and_is_seeded():
    state = hypothetical.fit(_train(), FACTORS, hypothetical.Config(spec=SPEC, noise=True), KINDS)
    a = hypothetical.sample(state, 20000, 5, None, np.random.default_rng(3))
    np.testing.assert_array_equal(a, hypothetical.sample(state, 20000, 5, None, np.random.default_rng(3)))
    assert not np.array_equal(a, hypothetical.sample(state, 20000, 5, None, np.random.default_rng(4)))
    totals = a.sum(axis=1)
    mean, cond = hypothetical.conditional_projection(state.arrays["cov"], [0, 1], np.array([math.log(0.7), 0.02]))
    np.testing.assert_allclose(totals[:, :2], np.tile(mean[:2], (20000, 1)))  # shocked factors are exact
    emp = np.cov(totals[:, 2:], rowvar=False)
    assert np.linalg.norm(emp - 5 * cond[2:, 2:]) / np.linalg.norm(5 * cond[2:, 2:]) < 0.05
    se = np.sqrt(5 * np.diag(cond)[2:] / 20000)
    assert np.all(np.abs(totals[:, 2:].mean(axis=0) - mean[2:]) < 5 * se)
    restored = FittedState.from_bytes(state.to_bytes())
    np.testing.assert_array_equal(hypothetical.sample(restored, 20000, 5, None, np.random.default_rng(3)), a)


def test_condition_overrides_spec_and_targets_add_shocks():
    state = hypothetical.fit(_train(), FACTORS, hypothetical.Config(spec=SPEC), KINDS)
    paths = hypothetical.sample(state, 1, 20, Condition(extra={"shock_spec": "oil -50%"}), np.random.default_rng(0))
    assert paths[0, :, 3].sum() == pytest.approx(math.log(0.5))
    paths = hypothetical.sample(state, 1, 20, Condition(targets=(Target("VIX", 30.0, 20),)), np.random.default_rng(0))
    assert paths[0, :, 4].sum() == pytest.approx(30.0)
    assert paths[0, :, 0].sum() == pytest.approx(math.log(0.7))  # the explicit spec wins over severity
    bare = hypothetical.fit(_train(), FACTORS, hypothetical.Config(), KINDS)
    severe = hypothetical.sample(bare, 1, 20, Condition(severity="severe"), np.random.default_rng(0))
    assert severe[0, :, 0].sum() == pytest.approx(-0.20)


def test_severe_noise_has_higher_vol_than_mild():
    state = hypothetical.fit(_train(), FACTORS, hypothetical.Config(spec=SPEC, noise=True), KINDS)
    mild = hypothetical.sample(state, 2000, 10, Condition(severity="mild"), np.random.default_rng(1))
    severe = hypothetical.sample(state, 2000, 10, Condition(severity="severe"), np.random.default_rng(1))
    assert np.all(severe[:, :, 2:].std(axis=(0, 1)) > 1.5 * mild[:, :, 2:].std(axis=(0, 1)))


def test_bad_engine_inputs():
    with pytest.raises(ValueError, match="unknown schedule"):
        hypothetical.Config(schedule="cubic")
    with pytest.raises(ValueError, match="noise needs propagate"):
        hypothetical.Config(noise=True, propagate=False)
    with pytest.raises(ValueError, match="needs factor kinds"):
        hypothetical.fit(_train(), FACTORS, hypothetical.Config(spec=SPEC))
    with pytest.raises(ValueError, match="unknown factor 'gold'"):
        hypothetical.fit(_train(), FACTORS, hypothetical.Config(spec="gold +5%"), KINDS)
    state = hypothetical.fit(_train(), FACTORS, hypothetical.Config(), KINDS)
    with pytest.raises(ValueError, match="nothing to shock"):
        hypothetical.sample(state, 1, 5, None, np.random.default_rng(0))
    with pytest.raises(ValueError, match="n must be a positive integer"):
        hypothetical.sample(state, 0, 5, None, np.random.default_rng(0))
