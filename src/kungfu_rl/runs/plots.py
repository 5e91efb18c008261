"""Learning curves from metrics.csv: the notebook's plots."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from .metrics import load_metrics, warn_damaged_rows


def ewma(values: list[float] | np.ndarray, span: float = 10) -> np.ndarray:
    """Exponentially weighted moving average (pandas' `ewm(span=span).mean()`), skipping NaN."""
    alpha = 2.0 / (span + 1.0)
    out = np.full(len(values), math.nan)
    num = den = 0.0
    for i, v in enumerate(values):
        if math.isfinite(v):
            num = (1 - alpha) * num + v
            den = (1 - alpha) * den + 1.0
        elif den == 0:
            continue
        out[i] = num / den
    return out


def _finite(x: list[float], y: list[float]) -> tuple[np.ndarray, np.ndarray]:
    x_arr, y_arr = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    keep = np.isfinite(y_arr)
    return x_arr[keep], y_arr[keep]


def _save(fig: plt.Figure, out_png: Path, title: str) -> Path:
    """Title, lay out and write `fig` to `out_png` (folders made as needed), then close it.

    Titles and legends hold run names, shown letter for letter: a `$` in a name must not
    start matplotlib's mathematics (`y$\\frac{$` would not even parse).
    """
    if title:
        fig.suptitle(title, parse_math=False)
    for ax in fig.axes:
        legend = ax.get_legend()
        for text in legend.get_texts() if legend else ():
            text.set_parse_math(False)
    fig.tight_layout()
    out_png = Path(out_png)
    out_png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out_png, dpi=100)
    plt.close(fig)
    return out_png


def _metrics(metrics_csv: Path) -> dict[str, list[float]]:
    """The rows to draw; ValueError (one line, with the damaged rows skipped) if none."""
    m, skipped = load_metrics(metrics_csv)
    if not m.get("frames"):
        damaged = f" ({skipped} damaged row(s) skipped)" if skipped else ""
        raise ValueError(f"{metrics_csv} has no rows yet{damaged}")
    warn_damaged_rows(metrics_csv, skipped)
    return m


def plot_learning_curves(metrics_csv: Path, out_png: Path, title: str = "") -> Path:
    """Score (training games and evaluations, with EWMA span 10), entropy, and the policy and
    value losses vs frames, each loss on its own axis (the value loss is often a thousand
    times the policy loss, which would draw flat beside it)."""
    m = _metrics(metrics_csv)
    frames = np.asarray(m["frames"]) / 1e6
    fig, grid = plt.subplots(2, 2, figsize=(13, 8))
    score_ax, entropy_ax, policy_ax, value_ax = grid.flat

    x, y = _finite(frames, m["rollout/episode_score"])
    if len(y):
        score_ax.plot(x, y, color="tab:blue", alpha=0.3, label="training games")
        score_ax.plot(x, ewma(y, span=10), color="tab:blue", label="training games, EWMA@10")
    x, y = _finite(frames, m["eval/score_mean"])
    if len(y):
        score_ax.plot(x, y, "o-", color="tab:red", label="evaluation mean (full games)")
    if score_ax.get_legend_handles_labels()[0]:
        score_ax.legend(loc="upper left", fontsize=8)

    for ax, key, color in (
        (entropy_ax, "loss/entropy", "tab:green"),
        (policy_ax, "loss/policy", "tab:purple"),
        (value_ax, "loss/value", "tab:orange"),
    ):
        ax.plot(*_finite(frames, m[key]), color=color)
    for ax, name in (
        (score_ax, "game score"),
        (entropy_ax, "policy entropy"),
        (policy_ax, "policy loss (loss/policy)"),
        (value_ax, "value loss (loss/value)"),
    ):
        ax.set_title(name)
        ax.set_xlabel("frames (millions)")
        ax.grid(alpha=0.3)
    return _save(fig, out_png, title)


def plot_comparison(runs: Sequence[tuple[str, Path]], out_png: Path, title: str = "") -> Path:
    """Several runs' scores in one figure: against frames, and against wall-clock minutes.

    `runs` is (legend label, metrics.csv) pairs; runs with the same label (seeds of one
    setting) share a colour and one legend entry. Training-game scores are drawn as an EWMA
    (span 10), evaluation means (full games) as dots of the same colour.
    """
    fig, axes = plt.subplots(1, 2, figsize=(13, 4.5), sharey=True)
    colors: dict[str, str] = {}
    for label, metrics_csv in runs:
        m = _metrics(metrics_csv)
        first = label not in colors
        color = colors.setdefault(label, f"C{len(colors)}")
        for ax, x in (
            (axes[0], np.asarray(m["frames"]) / 1e6),
            (axes[1], np.asarray(m["time/elapsed_s"]) / 60),
        ):
            xs, ys = _finite(x, m["rollout/episode_score"])
            ax.plot(
                xs,
                ewma(ys, span=10),
                color=color,
                label=f"{label}: training games, EWMA@10" if first else None,
            )
            xs, ys = _finite(x, m["eval/score_mean"])
            ax.plot(xs, ys, "o", color=color, label=f"{label}: evaluation mean" if first else None)
    axes[0].set_xlabel("frames (millions)")
    axes[1].set_xlabel("wall-clock minutes")
    axes[0].set_ylabel("game score")
    for ax in axes:
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8, loc="upper left")
    return _save(fig, out_png, title)
