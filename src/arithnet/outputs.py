"""Writing a run's files: all or nothing, never a half-written file."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from arithnet.training.trainer import TrainResult


def prepare_directory(path: Path) -> Path:
    """Create ``path`` if needed and check that files can be written in it.

    Called before training, so that a bad directory costs no training time.
    """
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".arithnet-check-"):
            pass
    except OSError as error:
        reason = error.strerror or str(error)
        raise ValueError(f"output directory {str(path)!r} cannot be written: {reason}") from None
    return path


def _temporary_beside(path: Path) -> Path:
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=path.suffix)
    os.close(handle)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(temporary, 0o666 & ~umask)  # mkstemp makes 0600; give the usual file mode
    return Path(temporary)


def save_run(result: TrainResult, directory: Path) -> list[Path]:
    """Write result.json (summary with the full configuration), weights.png and loss.png.

    Every file is first written under a temporary name; only when all are
    complete are they renamed into place, so a failure leaves no partial file.
    """
    import matplotlib.pyplot as plt

    from arithnet.plots import loss_figure, weights_figure  # matplotlib is slow to import

    directory = prepare_directory(directory)
    pending: list[tuple[Path, Path]] = []
    try:
        summary = _temporary_beside(directory / "result.json")
        pending.append((summary, directory / "result.json"))
        summary.write_text(json.dumps(result.summary(), indent=2) + "\n")
        for name, make in (("weights.png", weights_figure), ("loss.png", loss_figure)):
            temporary = _temporary_beside(directory / name)
            pending.append((temporary, directory / name))
            figure = make(result.history, 0, f"seed {result.config.first_seed}")
            figure.savefig(temporary, dpi=80, format="png")
            plt.close(figure)
    except BaseException:
        for temporary, _ in pending:
            temporary.unlink(missing_ok=True)
        raise
    for temporary, final in pending:
        os.replace(temporary, final)
    return [final for _, final in pending]
