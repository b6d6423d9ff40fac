"""Charts of the documentation PDF as PNG bytes (matplotlib, Agg backend; no pyplot global state).

Every function takes plain arrays and returns PNG bytes; reports.services.figures feeds them from
the platform's records. Figures are small (the page is A4) and rendered at a fixed dpi so a report
is reproducible byte for byte on one machine.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence

import matplotlib

matplotlib.use("Agg")  # no display; must precede any pyplot-free figure creation too (backend default)

import numpy as np  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.figure import Figure as MplFigure  # noqa: E402

DPI = 110
PANELS = 9  # small multiples per figure (3 × 3)
REAL = "#444444"
SYNTH = "#1f6fb4"
BAD = "#c0392b"


def _png(fig: MplFigure) -> bytes:
    FigureCanvasAgg(fig)
    buffer = io.BytesIO()
    # metadata without a creation date / software version: identical inputs give identical bytes
    fig.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return buffer.getvalue()


def _figure(width: float = 6.6, height: float = 3.0) -> MplFigure:
    fig = MplFigure(figsize=(width, height), layout="constrained")
    return fig


def _grid(count: int, height_per_row: float = 1.9) -> tuple[MplFigure, list]:
    cols = min(3, max(1, count))
    rows = (count + cols - 1) // cols
    fig = _figure(6.6, max(2.2, height_per_row * rows))
    axes = fig.subplots(rows, cols, squeeze=False).ravel().tolist()
    for ax in axes[count:]:
        ax.set_axis_off()
    return fig, axes[:count]


def _chunks(items: Sequence, size: int = PANELS) -> list[list]:
    return [list(items[i:i + size]) for i in range(0, len(items), size)]


def _small(ax, title: str) -> None:
    ax.set_title(title, fontsize=7)
    ax.tick_params(labelsize=6)


# ── methodology ─────────────────────────────────────────────────────────────────────────────
def training_curve(loss_curve: Sequence[Mapping]) -> bytes:
    """Training (and validation) loss per step, as recorded on the training run."""
    fig = _figure(6.6, 2.6)
    ax = fig.add_subplot()
    steps = [row.get("step", i) for i, row in enumerate(loss_curve)]
    for key, colour, label in (("loss", SYNTH, "training loss"), ("val_loss", BAD, "validation loss")):
        values = [row.get(key) for row in loss_curve]
        points = [(s, v) for s, v in zip(steps, values, strict=True) if isinstance(v, int | float)]
        if points:
            ax.plot(*zip(*points, strict=True), color=colour, lw=1.2, label=label, marker="o" if len(points) < 30
                    else None, ms=3)
    if not loss_curve:
        ax.text(0.5, 0.5, "this engine records no loss curve (closed-form / likelihood fit)",
                ha="center", va="center", transform=ax.transAxes, fontsize=8)
    ax.set_xlabel("step", fontsize=8)
    ax.set_ylabel("loss", fontsize=8)
    ax.tick_params(labelsize=7)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=7)
    return _png(fig)


# ── scenarios ───────────────────────────────────────────────────────────────────────────────
def historical_windows(history: np.ndarray, horizon: int, limit: int = 4000) -> np.ndarray:
    """Overlapping ``horizon``-day cumulative paths of the history ``[T, F]`` → ``[m, horizon, F]``."""
    history = np.asarray(history, dtype=np.float64)
    count = history.shape[0] - horizon + 1
    if count < 1:
        return np.zeros((0, horizon, history.shape[1]))
    starts = np.linspace(0, count - 1, min(count, limit)).astype(int)
    cum = np.concatenate([np.zeros((1, history.shape[1])), np.cumsum(history, axis=0)])
    idx = starts[:, None] + np.arange(1, horizon + 1)[None, :]
    return cum[idx] - cum[starts][:, None, :]


def fan_charts(paths: np.ndarray, history: np.ndarray, factors: Sequence[str]) -> list[bytes]:
    """Quantile fans (5–95 %, 25–75 %, median) of generated cumulative paths per factor, with the
    same quantiles of the historical overlapping paths of equal length (dashed)."""
    paths = np.asarray(paths, dtype=np.float64)
    horizon = paths.shape[1]
    cum = np.cumsum(paths, axis=1)
    hist = historical_windows(history, horizon)
    days = np.arange(1, horizon + 1)
    qs = [0.05, 0.25, 0.5, 0.75, 0.95]
    gen_q = np.quantile(cum, qs, axis=0)  # [5, horizon, F]
    hist_q = np.quantile(hist, qs, axis=0) if hist.shape[0] else None
    out = []
    for group in _chunks(list(range(len(factors)))):
        fig, axes = _grid(len(group))
        for ax, j in zip(axes, group, strict=True):
            ax.fill_between(days, gen_q[0, :, j], gen_q[4, :, j], color=SYNTH, alpha=0.18, lw=0)
            ax.fill_between(days, gen_q[1, :, j], gen_q[3, :, j], color=SYNTH, alpha=0.35, lw=0)
            ax.plot(days, gen_q[2, :, j], color=SYNTH, lw=1)
            if hist_q is not None:
                for q in (0, 2, 4):
                    ax.plot(days, hist_q[q, :, j], color=REAL, lw=0.8, ls="--")
            _small(ax, str(factors[j]))
        fig.suptitle("generated (shaded: 5–95 %, 25–75 %) vs historical (dashed: 5/50/95 %) cumulative moves",
                     fontsize=7)
        out.append(_png(fig))
    return out


SEVERITY_CLASSES = ("mild", "moderate", "severe", "extreme")


def stress_scores(paths: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Drawdown of the reference book over the horizon: −(weights · cumulative move at the end)."""
    return -(np.asarray(paths, dtype=np.float64).sum(axis=1) @ np.asarray(weights, dtype=np.float64))


def severity_mix(paths: np.ndarray, history: np.ndarray, weights: np.ndarray) -> tuple[bytes, dict[str, int]]:
    """Share of scenarios per severity class. Classes are quantiles of the same stress score on the
    historical windows (mild < 50 % ≤ moderate < 75 % ≤ severe < 95 % ≤ extreme), the definition
    the conditioned engines use (scenarios.engines.deep_common)."""
    horizon = np.asarray(paths).shape[1]
    generated = stress_scores(paths, weights)
    hist = historical_windows(history, horizon)
    # hist holds cumulative paths: its score is the last day's move (stress_scores sums increments)
    reference = -(hist[:, -1, :] @ np.asarray(weights, dtype=np.float64)) if hist.shape[0] else generated
    edges = np.quantile(reference, [0.5, 0.75, 0.95])
    classes = np.searchsorted(edges, generated, side="right")
    counts = {name: int((classes == i).sum()) for i, name in enumerate(SEVERITY_CLASSES)}
    hist_classes = np.searchsorted(edges, reference, side="right")
    hist_share = [float((hist_classes == i).mean()) for i in range(4)]
    fig = _figure(6.6, 2.4)
    ax = fig.add_subplot()
    x = np.arange(4)
    total = max(1, generated.size)
    ax.bar(x - 0.2, [counts[c] / total for c in SEVERITY_CLASSES], width=0.4, color=SYNTH, label="generated")
    ax.bar(x + 0.2, hist_share, width=0.4, color=REAL, alpha=0.6, label="historical windows")
    ax.set_xticks(x, SEVERITY_CLASSES, fontsize=8)
    ax.set_ylabel("share of scenarios", fontsize=8)
    ax.tick_params(labelsize=7)
    ax.legend(fontsize=7)
    return _png(fig), counts


def supervisory_comparison(fed_path: Mapping, paths: np.ndarray, factors: Sequence[str],
                           days_per_quarter: int = 63) -> tuple[bytes, list[dict]]:
    """The Fed quarterly path (relative to its jump-off, %) beside the generated median cumulative
    moves (%, at quarter ends); peak-to-trough of each Fed variable and generated factor."""
    variables = dict(fed_path.get("variables") or {})
    quarters = list(fed_path.get("quarters") or [])
    jump = (fed_path.get("jump_off") or {}).get("values") or {}
    rows: list[dict] = []
    fig = _figure(6.6, 2.8)
    left, right = fig.subplots(1, 2)
    for name, series in list(variables.items())[:8]:
        values = np.array([np.nan if v is None else float(v) for v in series])
        start = float(jump.get(name, values[0] if values.size else np.nan))
        if not np.isfinite(start):
            continue
        level = np.concatenate([[start], values])
        rel = level - start if ("rate" in name.lower() or "yield" in name.lower() or "%" in name) else (
            100.0 * (level / start - 1.0) if start else level - start)
        left.plot(range(len(rel)), rel, lw=1, label=str(name)[:28])
        rows.append({"series": f"Fed: {name}", "peak_to_trough": _peak_to_trough(level, relative=True)})
    left.set_title("supervisory path (vs jump-off)", fontsize=7)
    left.set_xticks(range(len(quarters) + 1), ["JO", *[q[-2:] for q in quarters]], fontsize=5)
    left.tick_params(labelsize=6)
    if variables:
        left.legend(fontsize=4)
    cum = np.cumsum(np.asarray(paths, dtype=np.float64), axis=1)
    median = np.median(cum, axis=0)  # [horizon, F]
    ends = list(range(days_per_quarter - 1, median.shape[0], days_per_quarter)) or [median.shape[0] - 1]
    for j, name in enumerate(list(factors)[:8]):
        moves = np.concatenate([[0.0], median[ends, j]])
        right.plot(range(len(moves)), 100 * moves, lw=1, label=str(name)[:20])
        level = np.exp(np.concatenate([[0.0], median[:, j]]))
        rows.append({"series": f"generated median: {name}", "peak_to_trough": _peak_to_trough(level, relative=True)})
    right.set_title("generated median cumulative move (%) at quarter ends", fontsize=7)
    right.tick_params(labelsize=6)
    right.legend(fontsize=5)
    return _png(fig), rows


def _peak_to_trough(level: np.ndarray, relative: bool) -> float:
    """Largest fall from a running peak, in % of the peak (relative) or in level units."""
    level = np.asarray(level, dtype=np.float64)
    level = level[np.isfinite(level)]
    if level.size < 2:
        return 0.0
    peak = np.maximum.accumulate(level)
    drop = (level - peak) / np.where(peak == 0, 1, np.abs(peak)) * 100 if relative else level - peak
    return float(drop.min())


# ── validation ──────────────────────────────────────────────────────────────────────────────
def distribution_overlays(synthetic: np.ndarray, real: np.ndarray, factors: Sequence[str]) -> list[bytes]:
    """Histograms of daily increments, synthetic (all days pooled) vs the holdout."""
    syn = np.asarray(synthetic, dtype=np.float64).reshape(-1, len(factors))
    real = np.asarray(real, dtype=np.float64)
    out = []
    for group in _chunks(list(range(len(factors)))):
        fig, axes = _grid(len(group))
        for ax, j in zip(axes, group, strict=True):
            lo, hi = np.quantile(np.concatenate([syn[:, j], real[:, j]]), [0.001, 0.999])
            bins = np.linspace(lo, hi, 40) if hi > lo else 10
            ax.hist(syn[:, j], bins=bins, density=True, color=SYNTH, alpha=0.5, label="synthetic")
            ax.hist(real[:, j], bins=bins, density=True, histtype="step", color=REAL, label="holdout")
            _small(ax, str(factors[j]))
        axes[0].legend(fontsize=5)
        out.append(_png(fig))
    return out


def qq_plots(synthetic: np.ndarray, real: np.ndarray, factors: Sequence[str]) -> list[bytes]:
    """Quantiles of synthetic vs holdout daily increments (0.5–99.5 %), with the 45° line."""
    syn = np.asarray(synthetic, dtype=np.float64).reshape(-1, len(factors))
    real = np.asarray(real, dtype=np.float64)
    probs = np.linspace(0.005, 0.995, 99)
    out = []
    for group in _chunks(list(range(len(factors)))):
        fig, axes = _grid(len(group))
        for ax, j in zip(axes, group, strict=True):
            qs, qr = np.quantile(syn[:, j], probs), np.quantile(real[:, j], probs)
            ax.scatter(qr, qs, s=3, color=SYNTH)
            lo, hi = min(qr.min(), qs.min()), max(qr.max(), qs.max())
            ax.plot([lo, hi], [lo, hi], color=REAL, lw=0.7)
            _small(ax, str(factors[j]))
        fig.supxlabel("holdout quantile", fontsize=7)
        fig.supylabel("synthetic quantile", fontsize=7)
        out.append(_png(fig))
    return out


def _acf(x: np.ndarray, lags: int) -> np.ndarray:
    x = x - x.mean()
    denom = float((x * x).sum()) or 1.0
    return np.array([float((x[k:] * x[:-k]).sum()) / denom for k in range(1, lags + 1)])


def acf_abs(synthetic: np.ndarray, real: np.ndarray, factors: Sequence[str], max_lag: int = 10) -> bytes:
    """ACF of |r| (volatility clustering): holdout series vs synthetic paths (mean over paths)."""
    syn = np.abs(np.asarray(synthetic, dtype=np.float64))
    real = np.abs(np.asarray(real, dtype=np.float64))
    lags = max(1, min(max_lag, syn.shape[1] - 2))
    count = min(len(factors), PANELS)
    fig, axes = _grid(count, 1.7)
    for ax, j in zip(axes, range(count), strict=True):
        centred = syn[:, :, j] - syn[:, :, j].mean(axis=1, keepdims=True)
        denom = (centred * centred).sum(axis=1)
        denom[denom == 0] = 1.0
        acf_syn = [float(np.mean((centred[:, k:] * centred[:, :-k]).sum(axis=1) / denom)) for k in range(1, lags + 1)]
        ax.bar(np.arange(1, lags + 1) - 0.2, _acf(real[:, j], lags), width=0.4, color=REAL, label="holdout")
        ax.bar(np.arange(1, lags + 1) + 0.2, acf_syn, width=0.4, color=SYNTH, label="synthetic")
        _small(ax, f"|r| ACF {factors[j]}")
    axes[0].legend(fontsize=5)
    return _png(fig)


def correlation_heatmaps(synthetic: np.ndarray, real: np.ndarray, factors: Sequence[str]) -> bytes:
    """Correlation matrices of daily increments: holdout, synthetic and their difference."""
    syn = np.asarray(synthetic, dtype=np.float64).reshape(-1, len(factors))
    real = np.asarray(real, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        c_real = np.nan_to_num(np.atleast_2d(np.corrcoef(real, rowvar=False)))
        c_syn = np.nan_to_num(np.atleast_2d(np.corrcoef(syn, rowvar=False)))
    fig = _figure(6.6, 2.5)
    axes = fig.subplots(1, 3)
    labels = len(factors) <= 12
    for ax, matrix, title, cmap in ((axes[0], c_real, "holdout", "RdBu_r"), (axes[1], c_syn, "synthetic", "RdBu_r"),
                                    (axes[2], c_syn - c_real, "synthetic − holdout", "PuOr_r")):
        image = ax.imshow(matrix, vmin=-1, vmax=1, cmap=cmap)
        _small(ax, title)
        if labels:
            ax.set_xticks(range(len(factors)), [str(f)[:8] for f in factors], rotation=90, fontsize=5)
            ax.set_yticks(range(len(factors)), [str(f)[:8] for f in factors], fontsize=5)
        else:
            ax.set_xticks([])
            ax.set_yticks([])
    fig.colorbar(image, ax=axes, shrink=0.7).ax.tick_params(labelsize=6)
    return _png(fig)


def var_exceedances(synthetic: np.ndarray, real: np.ndarray, weights: np.ndarray,
                    level: float = 0.99, var_by_day=None) -> tuple[bytes, dict]:
    """Holdout daily P&L of the reference book against the one-day VaR (static from the scenarios, or
    the backtest's day-ahead VaR of each day); exceedances marked."""
    w = np.asarray(weights, dtype=np.float64)
    real_pnl = np.asarray(real, dtype=np.float64) @ w
    if var_by_day is not None and len(var_by_day) == real_pnl.size:
        var_line = np.asarray(var_by_day, dtype=np.float64)
        label = f"−VaR {level:.1%} (day-ahead)"
    else:
        syn_pnl = np.asarray(synthetic, dtype=np.float64).reshape(-1, w.size) @ w
        var_line = np.full(real_pnl.size, float(np.quantile(-syn_pnl, level, method="inverted_cdf")))
        label = f"−VaR {level:.1%} (synthetic)"
    hits = -real_pnl > var_line
    fig = _figure(6.6, 2.4)
    ax = fig.add_subplot()
    ax.plot(real_pnl, color=REAL, lw=0.5)
    ax.plot(-var_line, color=SYNTH, lw=1, label=label)
    ax.scatter(np.flatnonzero(hits), real_pnl[hits], color=BAD, s=8, zorder=3, label="exceedance")
    ax.set_xlabel("holdout day", fontsize=8)
    ax.set_ylabel("P&L (reference book)", fontsize=8)
    ax.tick_params(labelsize=7)
    ax.legend(fontsize=7)
    summary = {"level": level, "var": float(var_line.mean()), "days": int(real_pnl.size),
               "exceedances": int(hits.sum()), "expected": float((1 - level) * real_pnl.size)}
    return _png(fig), summary


# ── stress and explanations ─────────────────────────────────────────────────────────────────
def loss_distribution(losses: np.ndarray, measures: Sequence[Mapping]) -> bytes:
    """Histogram of scenario losses with VaR (solid) and ES (dashed) at each level."""
    losses = np.asarray(losses, dtype=np.float64)
    fig = _figure(6.6, 2.6)
    ax = fig.add_subplot()
    ax.hist(losses, bins=60, color=SYNTH, alpha=0.6)
    colours = ["#e67e22", BAD, "#8e44ad", "#16a085"]
    for colour, m in zip(colours, measures, strict=False):
        ax.axvline(m["var"], color=colour, lw=1.2, label=f"VaR {m['level']:.1%} = {m['var']:,.0f}")
        if m.get("es") is not None:
            ax.axvline(m["es"], color=colour, lw=1.2, ls="--", label=f"ES {m['level']:.1%} = {m['es']:,.0f}")
    ax.set_xlabel("loss (−P&L)", fontsize=8)
    ax.set_ylabel("scenarios", fontsize=8)
    ax.tick_params(labelsize=7)
    ax.legend(fontsize=6)
    return _png(fig)


def shap_global(ranked: Sequence[tuple[str, float, float]], top: int = 15) -> bytes:
    """Mean |SHAP| per factor (global importance), with ±2 standard errors of the subsample mean."""
    rows = list(ranked)[:top][::-1]
    fig = _figure(6.6, max(1.8, 0.22 * len(rows) + 0.8))
    ax = fig.add_subplot()
    ax.barh([r[0] for r in rows], [r[1] for r in rows], xerr=[2 * r[2] for r in rows], color=SYNTH,
            error_kw={"lw": 0.7})
    ax.set_xlabel("mean |SHAP value| (loss units)", fontsize=8)
    ax.tick_params(labelsize=7)
    return _png(fig)


def shap_waterfall(factors: Sequence[str], values: np.ndarray, base_value: float, loss: float,
                   title: str, top: int = 10) -> bytes:
    """Waterfall from the expected loss E f to this scenario's loss: the largest |φ| factors, the
    rest summed in one bar (so the bars add up to the loss exactly)."""
    values = np.asarray(values, dtype=np.float64)
    order = np.argsort(-np.abs(values), kind="stable")
    shown = list(order[:top])
    rest = float(values[order[top:]].sum()) if values.size > top else 0.0
    labels = [str(factors[i]) for i in shown] + ([f"{values.size - top} other factors"] if values.size > top else [])
    contributions = [float(values[i]) for i in shown] + ([rest] if values.size > top else [])
    fig = _figure(6.6, 0.22 * len(labels) + 1.2)
    ax = fig.add_subplot()
    running = base_value
    for y, value in enumerate(contributions):
        ax.barh(len(labels) - 1 - y, value, left=running, color=BAD if value > 0 else SYNTH)
        running += value
    ax.set_yticks(range(len(labels)), labels[::-1], fontsize=7)
    ax.axvline(base_value, color=REAL, lw=0.7, ls=":")
    ax.axvline(loss, color=REAL, lw=0.7)
    ax.set_title(f"{title}: E[loss] = {base_value:,.0f} → loss = {loss:,.0f}", fontsize=8)
    ax.tick_params(labelsize=7)
    return _png(fig)
