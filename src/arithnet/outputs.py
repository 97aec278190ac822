"""Writing a training run's files: result.json, weights.png and loss.png, all or nothing."""

from __future__ import annotations

import json
from pathlib import Path

from arithnet.files import prepare_directory, write_all
from arithnet.training.trainer import TrainResult

__all__ = ["prepare_directory", "save_run"]


def save_run(result: TrainResult, directory: Path) -> list[Path]:
    """Write result.json (summary with the full configuration), weights.png and loss.png.

    All three are written under temporary names and renamed into place only
    when all are complete.
    """
    from arithnet.plots import RunCurves, save_figure

    directory = prepare_directory(directory)
    curves = RunCurves.from_history(result.history)
    label = f"seed {result.config.first_seed}"

    def figure_writer(kind: str):
        return lambda path: save_figure(kind, curves, label, path)

    return write_all(
        [
            (directory / "result.json", lambda p: p.write_text(json.dumps(result.summary(), indent=2) + "\n")),
            (directory / "weights.png", figure_writer("weights")),
            (directory / "loss.png", figure_writer("loss")),
        ]
    )
