"""Figures of a training run. Each function returns a matplotlib Figure; nothing is shown.

The figures are drawn from plain NumPy arrays (``RunCurves``), so this module
imports neither torch nor the rest of arithnet.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure


@dataclass
class RunCurves:
    """What the figures show: snapshot steps (T,), weights {name: (T, S, ...)}, loss (T, S)."""

    steps: np.ndarray
    weights: dict[str, np.ndarray]
    loss: np.ndarray

    @classmethod
    def from_history(cls, history) -> RunCurves:
        """From a ``training.History``."""
        weights = {name: w.numpy() for name, w in history.stacked_weights().items()}
        return cls(np.asarray(history.steps), weights, history.stacked_loss().numpy())


def weights_figure(curves: RunCurves, seed_index: int = 0, label: str | None = None) -> Figure:
    """Every weight's trajectory: one column per layer, one panel per row of it.

    The layout of the seed post's graph_div.png: panel (row r, layer l) holds
    the weights w[l][r, :] into unit r of layer l.
    """
    weights = {name: w[:, seed_index] for name, w in curves.weights.items()}
    steps = curves.steps
    n_rows = max(w.shape[1] for w in weights.values())
    figure, axes = plt.subplots(n_rows, len(weights), figsize=(6 * len(weights), 3 * n_rows), squeeze=False)
    for column, (name, values) in enumerate(weights.items()):
        for row in range(n_rows):
            ax = axes[row, column]
            if row >= values.shape[1]:
                ax.axis("off")
                continue
            for j in range(values.shape[2]):
                ax.plot(steps, values[:, row, j], label=f"{name}[{row},{j}]")
            ax.grid(True)
            ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=9)
            ax.set_xlabel("step")
    figure.suptitle(f"weights of {label or f'seed index {seed_index}'}")
    # Fixed margins (room for the legends on the right) instead of tight_layout,
    # which measures every text twice and costs a tenth of a second per figure.
    figure.subplots_adjust(left=0.06, right=0.86, bottom=0.1, top=0.9, wspace=0.55, hspace=0.45)
    return figure


def loss_figure(curves: RunCurves, seed_index: int = 0, label: str | None = None) -> Figure:
    """Training loss over the steps: median and 10–90% band over seeds, and one seed."""
    loss = curves.loss[1:]  # the step-0 snapshot has no loss
    steps = curves.steps[1:]
    finite = np.where(np.isfinite(loss), loss, np.nan)
    figure, ax = plt.subplots(figsize=(8, 4.5))
    with np.errstate(all="ignore"), warnings.catch_warnings():
        # A step where every seed's loss is NaN (all diverged) has no percentile: NaN, drawn as a gap.
        warnings.simplefilter("ignore", RuntimeWarning)
        low, median, high = np.nanpercentile(finite, [10, 50, 90], axis=1)
    ax.fill_between(steps, low, high, alpha=0.3, label="10–90% of seeds")
    ax.plot(steps, median, label="median over seeds")
    ax.plot(steps, finite[:, seed_index], linestyle="--", label=label or f"seed index {seed_index}")
    ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("training loss (mean since the previous point)")
    ax.grid(True, which="both", alpha=0.4)
    ax.legend()
    figure.subplots_adjust(left=0.12, right=0.97, bottom=0.12, top=0.95)
    return figure


FIGURES = {"weights": weights_figure, "loss": loss_figure}


def save_figure(kind: str, curves: RunCurves, label: str, path: str | Path) -> None:
    """Draw figure ``kind`` ('weights' or 'loss') of the first seed and save it as PNG."""
    figure = FIGURES[kind](curves, 0, label)
    figure.savefig(path, dpi=80, format="png")
    plt.close(figure)


def law_figure(measured: np.ndarray, predicted: np.ndarray, title: str) -> Figure:
    """A law against the data: predicted against measured with the line y = x, and relative residuals.

    Rows where the law is not defined (NaN) or the measured value is 0 (no
    relative residual) are left out of the panel that cannot show them.
    """
    measured, predicted = np.asarray(measured, dtype=np.float64), np.asarray(predicted, dtype=np.float64)
    shown = np.isfinite(measured) & np.isfinite(predicted)
    with np.errstate(all="ignore"):
        residual = (predicted - measured) / np.abs(measured)
    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4.5))
    left.scatter(measured[shown], predicted[shown], s=8, alpha=0.6)
    if shown.any():
        low, high = float(measured[shown].min()), float(measured[shown].max())
        left.plot([low, high], [low, high], color="black", linewidth=1, label="y = x")
        left.legend(loc="upper left")
    left.set_xlabel("measured")
    left.set_ylabel("predicted")
    left.grid(True, alpha=0.4)
    finite = shown & np.isfinite(residual)
    right.scatter(measured[finite], residual[finite], s=8, alpha=0.6)
    right.axhline(0.0, color="black", linewidth=1)
    right.set_xlabel("measured")
    right.set_ylabel("(predicted − measured) / |measured|")
    right.grid(True, alpha=0.4)
    figure.suptitle(title)
    # Fixed margins, as in the other figures: tight_layout costs a tenth of a second per figure.
    figure.subplots_adjust(left=0.08, right=0.97, bottom=0.12, top=0.88, wspace=0.35)
    return figure
