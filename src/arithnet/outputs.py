"""A training run's outputs: result.json, weights.png and loss.png, one directory replaced as a whole.

The directory holds nothing else: each run builds a complete new one beside
it and renames it into place (``files.write_set``), so a failure or a kill
at any moment leaves either the old set or the new one, never a mixture.
"""

from __future__ import annotations

import re
from pathlib import Path

from arithnet.files import prepare_set, strict_json, text_writer, write_set
from arithnet.training.trainer import TrainResult

__all__ = ["OUTPUT_NAMES", "prepare_output", "save_run", "summary_json"]

#: The files of a run's output directory.
OUTPUT_NAMES = ("result.json", "weights.png", "loss.png")

#: Temporary files that earlier arithnet, which wrote file by file, left in the
#: directory when killed (``.result.json.k3j2_x.json``, ``.arithnet-check-…``):
#: arithnet's own, so they go with the old set instead of blocking the new one.
_OLD_TEMPORARY = re.compile(r"\.(result\.json|weights\.png|loss\.png)\.\w+\.(json|png)|\.arithnet-check-\w+")


def _owned(name: str) -> bool:
    return name in OUTPUT_NAMES or _OLD_TEMPORARY.fullmatch(name) is not None


def prepare_output(directory: Path) -> Path:
    """Check, before training, that ``directory`` can receive a run's outputs; one-line ValueError if not.

    Refused: a file, a directory holding anything but a run's outputs (it is
    replaced as a whole, so those would be lost; the message names one), and a
    place that cannot be written. Creates nothing; removes what killed runs
    left beside ``directory``.
    """
    return prepare_set(Path(directory), _owned)


def summary_json(result: TrainResult, indent: int | None = None) -> str:
    """The run's summary as strict JSON: no NaN or Infinity (``summary()`` has null for them)."""
    return strict_json(result.summary(), indent=indent)


def save_run(result: TrainResult, directory: Path) -> list[Path]:
    """Write result.json (summary with the full configuration), weights.png and loss.png: all or nothing.

    ``directory`` must be new or hold only a run's outputs (``prepare_output``);
    it is replaced by a directory holding exactly the three new files.
    """
    from arithnet.plots import RunCurves, save_figure

    curves = RunCurves.from_history(result.history)
    label = f"seed {result.config.first_seed}"
    text = summary_json(result, indent=2) + "\n"

    def figure_writer(kind: str):
        return lambda path: save_figure(kind, curves, label, path)

    writers = {
        "result.json": text_writer(text),
        "weights.png": figure_writer("weights"),
        "loss.png": figure_writer("loss"),
    }
    return write_set(Path(directory), [(name, writers[name]) for name in OUTPUT_NAMES], _owned)
