"""Writing a training run's files: result.json, weights.png and loss.png, all or nothing."""

from __future__ import annotations

import json
from pathlib import Path

from arithnet.files import prepare_directory, write_all
from arithnet.training.trainer import TrainResult

__all__ = ["prepare_directory", "save_run"]


def save_run(result: TrainResult, directory: Path) -> list[Path]:
    """Write result.json (summary with the full configuration), weights.png and loss.png."""
    import matplotlib.pyplot as plt

    from arithnet.plots import loss_figure, weights_figure  # matplotlib is slow to import

    directory = prepare_directory(directory)
    label = f"seed {result.config.first_seed}"

    def figure_writer(make):
        def write(path: Path) -> None:
            figure = make(result.history, 0, label)
            figure.savefig(path, dpi=80, format="png")
            plt.close(figure)

        return write

    return write_all(
        [
            (directory / "result.json", lambda p: p.write_text(json.dumps(result.summary(), indent=2) + "\n")),
            (directory / "weights.png", figure_writer(weights_figure)),
            (directory / "loss.png", figure_writer(loss_figure)),
        ]
    )
