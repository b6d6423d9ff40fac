"""Charts are real PNGs whose numbers match what they claim to show."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from reports.pdf import charts


def _image(png: bytes) -> Image.Image:
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    image = Image.open(io.BytesIO(png))
    image.load()
    return image


def _rng():
    return np.random.default_rng(0)


def test_every_chart_is_a_png_of_the_page_width():
    rng = _rng()
    syn = rng.standard_t(4, size=(300, 10, 4)) * 0.01
    real = rng.standard_t(4, size=(500, 4)) * 0.01
    factors = ["A", "B", "C", "D"]
    pngs = [charts.training_curve([{"step": i, "loss": 1 / (i + 1), "val_loss": 1.1 / (i + 1)} for i in range(20)]),
            charts.training_curve([]), *charts.fan_charts(syn, real, factors),
            *charts.distribution_overlays(syn, real, factors), *charts.qq_plots(syn, real, factors),
            charts.acf_abs(syn, real, factors), charts.correlation_heatmaps(syn, real, factors),
            charts.loss_distribution(rng.normal(size=1000), [{"level": 0.99, "var": 2.3, "es": 2.6}]),
            charts.shap_global([("A", 3.0, 0.1), ("B", 1.0, 0.2)]),
            charts.shap_waterfall(factors, np.array([1.0, -0.5, 0.25, 2.0]), 0.5, 3.25, "scenario 1", top=2)]
    for png in pngs:
        image = _image(png)
        assert image.width == round(6.6 * charts.DPI)


def test_small_multiples_page_over_many_factors():
    rng = _rng()
    factors = [f"f{i}" for i in range(20)]
    syn = rng.normal(size=(50, 5, 20))
    real = rng.normal(size=(100, 20))
    assert len(charts.fan_charts(syn, real, factors)) == 3  # 9 + 9 + 2 panels
    assert len(charts.qq_plots(syn, real, factors)) == 3


def test_charts_are_deterministic():
    rng = _rng()
    losses = rng.normal(size=500)
    measures = [{"level": 0.99, "var": 2.3, "es": 2.7}]
    assert charts.loss_distribution(losses, measures) == charts.loss_distribution(losses, measures)


def test_historical_windows_are_cumulative_sums():
    history = np.arange(12, dtype=float).reshape(6, 2)
    windows = charts.historical_windows(history, 3)
    assert windows.shape == (4, 3, 2)
    np.testing.assert_allclose(windows[1, -1], history[1:4].sum(axis=0))
    np.testing.assert_allclose(windows[0, 0], history[0])


def test_severity_mix_uses_the_historical_quantiles():
    rng = _rng()
    history = rng.normal(0, 0.01, size=(5000, 1))
    calm = rng.normal(0, 0.01, size=(4000, 5, 1))
    _, counts = charts.severity_mix(calm, history, np.ones(1))
    shares = np.array([counts[c] for c in charts.SEVERITY_CLASSES]) / 4000
    np.testing.assert_allclose(shares, [0.5, 0.25, 0.2, 0.05], atol=0.03)  # same law: the class widths
    _, stressed = charts.severity_mix(calm - 0.05, history, np.ones(1))
    assert stressed["extreme"] > 0.9 * 4000


def test_var_exceedances_count_against_the_synthetic_quantile():
    rng = _rng()
    syn = rng.normal(0, 1, size=(2000, 10, 2))
    real = rng.normal(0, 1, size=(1000, 2))
    weights = np.array([1.0, 0.0])
    _, summary = charts.var_exceedances(syn, real, weights, level=0.99)
    var = np.quantile(-syn.reshape(-1, 2)[:, 0], 0.99, method="inverted_cdf")
    assert summary["var"] == var
    assert summary["exceedances"] == int((-real[:, 0] > var).sum())
    assert summary["expected"] == pytest.approx(10.0)


def test_peak_to_trough():
    assert charts._peak_to_trough(np.array([100, 120, 60, 90]), relative=True) == -50.0
    assert charts._peak_to_trough(np.array([1.0, 3.0, 2.0]), relative=False) == -1.0


def test_supervisory_comparison_reports_peak_to_trough_of_the_fed_path():
    fed = {"quarters": ["2025 Q1", "2025 Q2", "2025 Q3"],
           "variables": {"Dow Jones Total Stock Market Index (Level)": [40000.0, 30000.0, 36000.0]},
           "jump_off": {"quarter": "2024 Q4", "values": {"Dow Jones Total Stock Market Index (Level)": 50000.0}}}
    paths = _rng().normal(-0.001, 0.01, size=(200, 130, 2))
    png, rows = charts.supervisory_comparison(fed, paths, ["SP500", "WTI"])
    _image(png)
    assert rows[0]["series"].startswith("Fed: Dow Jones") and rows[0]["peak_to_trough"] == -40.0
    assert len(rows) == 3
