"""Anti-gaming audit: a condition-ignoring test double is flagged, an honest one passes; the grid's edges."""

from __future__ import annotations

import numpy as np
import pytest

from validation.metrics.adversarial import adversarial_metrics, condition_grid
from validation.outcomes import judge
from validation.policy_defaults import SETTINGS, thresholds_for

# What the test double's honest engine means by a severity (vol multiplier, 20-day equity move).
SEVERITY = {"mild": (1.25, -0.05), "moderate": (1.5, -0.10), "severe": (2.0, -0.20), "extreme": (3.0, -0.35)}


def honest_losses(cell, z):
    """Loss of one unit long equity: the asked drift plus the asked vol times common shocks ``z``."""
    condition = cell["condition"]
    vol, move = 1.0, 0.0
    if "severity" in condition:
        vol, move = SEVERITY[condition["severity"]]
    vol = condition.get("vol_multiplier", vol)
    move = condition.get("equity_move", move)
    return -(move + vol * 0.04 * z)


def outcomes(results):
    return {item.result.name: item.outcome for item in judge(results, thresholds_for(2))}


def test_the_grid_is_one_at_a_time_around_the_unconditioned_cell():
    cells, edges = condition_grid(SETTINGS["adversarial"])
    assert cells[0] == {"axis": "baseline", "value": None, "label": "unconditioned", "condition": {}}
    assert [c["axis"] for c in cells[1:]] == ["severity"] * 4 + ["vol_multiplier"] * 4 + ["equity_move"] * 4
    assert [c["condition"] for c in cells[1:5]] == [{"severity": s} for s in ("mild", "moderate", "severe", "extreme")]
    assert cells[6]["condition"] == {"vol_multiplier": 1.5} and cells[12]["condition"] == {"equity_move": -0.35}
    assert cells[10]["label"] == "equity −10 %" and cells[7]["label"] == "vol ×2"
    # vol ×1 asks exactly what the baseline asks: the baseline's edge goes to vol ×1.5
    assert edges == [(0, 1), (1, 2), (2, 3), (3, 4), (0, 6), (5, 6), (6, 7), (7, 8),
                     (0, 9), (9, 10), (10, 11), (11, 12)]


@pytest.mark.parametrize(("grid", "message"), [
    ({"vol_multiplier": [2.0, 1.5]}, "vol_multiplier values must be strictly increasing"),
    ({"vol_multiplier": [0.0, 1.5]}, "vol_multiplier values must be positive"),
    ({"equity_move": [-0.2, -0.1]}, "equity_move values must be strictly decreasing"),
    ({"equity_move": [-0.1, float("nan")]}, "equity_move value must be a finite number"),
    ({"severity": ["mild", "mild"]}, "distinct severity names"),
])
def test_a_grid_not_ordered_from_less_to_more_stress_is_refused(grid, message):
    with pytest.raises(ValueError, match=message):
        condition_grid(grid)


def test_an_engine_that_ignores_the_condition_is_flagged_benign_and_non_monotone():
    cells, edges = condition_grid(SETTINGS["adversarial"])
    z = np.random.default_rng(0).standard_normal(500)
    same = -0.04 * z  # common random numbers and no conditioning: every cell has the same losses
    results = adversarial_metrics(cells, [same.copy() for _ in cells], edges, quantile=0.99)
    benign, monotone, anomalous = results
    assert benign.name == "adversarial_benign_share" and benign.value == 1.0
    assert len(benign.details["benign"]) == len(edges) == 12
    assert monotone.name == "severity_monotone" and monotone.value == 3.0
    assert [v["to"] for v in monotone.details["violations"]] == ["moderate", "severe", "extreme"]
    assert anomalous.not_run
    assert outcomes(results) == {"adversarial_benign_share": "FAIL", "severity_monotone": "FAIL",
                                 "adversarial_anomalous_cells": "NOT_RUN"}


def test_an_engine_whose_losses_grow_with_stress_passes():
    cells, edges = condition_grid(SETTINGS["adversarial"])
    z = np.random.default_rng(1).standard_normal(500)
    losses = [honest_losses(cell, z) for cell in cells]
    results = adversarial_metrics(cells, losses, edges, quantile=0.99, outside_shares=[0.0] * len(cells))
    benign, monotone, anomalous = results
    assert benign.value == 0.0 and benign.details["benign"] == []
    assert monotone.value == 0.0
    assert list(monotone.details["loss_per_severity"]) == ["mild", "moderate", "severe", "extreme"]
    assert anomalous.value == 0.0
    assert set(outcomes(results).values()) == {"PASS"}


def test_one_benign_step_is_named_with_both_losses():
    cells, edges = condition_grid(SETTINGS["adversarial"])
    z = np.random.default_rng(2).standard_normal(500)
    losses = [honest_losses(cell, z) for cell in cells]
    losses[3] = losses[2] * 0.9  # "severe" loses less than "moderate"
    benign, monotone, _ = adversarial_metrics(cells, losses, edges, quantile=0.99)
    q = [float(np.quantile(loss, 0.99)) for loss in losses]
    assert benign.details["benign"] == [{"from": "moderate", "to": "severe", "loss_from": q[2], "loss_to": q[3]}]
    assert benign.value == pytest.approx(1 / 12)
    # ... and "extreme" above the weakened "severe" is no violation: one, not two
    assert monotone.value == 1.0 and monotone.details["violations"][0]["to"] == "severe"
    # one benign step in twelve is within the policy's WARN band; any order violation FAILs
    assert outcomes([benign, monotone]) == {"adversarial_benign_share": "WARN", "severity_monotone": "FAIL"}


def test_the_loss_quantile_is_numpys():
    cells, edges = condition_grid({"vol_multiplier": [1.5, 2.0]})
    rng = np.random.default_rng(3)
    losses = [rng.standard_t(3, size=n) * s for n, s in ((101, 1.0), (257, 2.0), (33, 3.0))]
    benign, *_ = adversarial_metrics(cells, losses, edges, quantile=0.95)
    expected = {c["label"]: float(np.quantile(loss, 0.95)) for c, loss in zip(cells, losses, strict=True)}
    assert benign.details["loss_per_cell"] == expected
    assert benign.details["quantile"] == 0.95


def test_cells_outside_the_plausibility_region_are_counted_against_the_bound():
    cells, edges = condition_grid(SETTINGS["adversarial"])
    z = np.random.default_rng(4).standard_normal(200)
    losses = [honest_losses(cell, z) for cell in cells]
    shares = [0.0] * len(cells)
    shares[4], shares[8], shares[12] = 0.3, 0.06, 0.05  # the last equals the bound: not beyond it
    *_, anomalous = adversarial_metrics(cells, losses, edges, quantile=0.99, outside_shares=shares,
                                        outside_bound=0.05)
    assert anomalous.value == pytest.approx(2 / 13)
    assert [a["cell"] for a in anomalous.details["anomalous"]] == ["extreme", "vol ×3"]
    assert outcomes([anomalous]) == {"adversarial_anomalous_cells": "WARN"}


def test_a_grid_of_one_cell_is_not_run_and_a_grid_without_severities_skips_the_order():
    rows = adversarial_metrics([{"axis": "baseline", "label": "unconditioned"}], [np.ones(5)], [], quantile=0.99)
    assert [r.name for r in rows] == ["adversarial_benign_share", "severity_monotone", "adversarial_anomalous_cells"]
    assert all(r.not_run for r in rows)
    cells, edges = condition_grid({"equity_move": [-0.1, -0.2]})
    z = np.random.default_rng(5).standard_normal(100)
    benign, monotone, _ = adversarial_metrics(cells, [honest_losses(c, z) for c in cells], edges, quantile=0.9)
    assert not benign.not_run and "0 severity cell(s)" in monotone.not_run


@pytest.mark.parametrize(("change", "message"), [
    ({"losses": [np.ones(3)]}, "losses has 1 entries but there are 3 cells"),
    ({"losses": [np.ones(3), np.array([]), np.ones(3)]}, "cell 1 has no losses"),
    ({"losses": [np.ones(3), np.array([1.0, np.inf]), np.ones(3)]}, "cell 1 has a non-finite loss"),
    ({"edges": [(0, 3)]}, "must join two different cells among 0..2"),
    ({"edges": [(1, 1)]}, "must join two different cells"),
    ({"quantile": 1.0}, "quantile must lie in"),
    ({"outside_shares": [0.0, 0.1]}, "outside_shares has 2 entries"),
    ({"outside_shares": [0.0, 0.1, 1.5]}, "shares in"),
])
def test_bad_inputs_are_refused_with_the_reason(change, message):
    cells, edges = condition_grid({"vol_multiplier": [1.5, 2.0]})
    arguments = {"losses": [np.ones(3)] * 3, "edges": edges, "quantile": 0.99} | change
    with pytest.raises(ValueError, match=message):
        adversarial_metrics(cells, arguments.pop("losses"), arguments.pop("edges"), **arguments)
