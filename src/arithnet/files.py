"""Writing several files all or nothing: never a half-written file, never a partial set."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

#: Writes one file's content to the path it is given.
Writer = Callable[[Path], None]


def _temporary_beside(path: Path) -> Path:
    """An empty file next to ``path`` with the usual file mode: renaming it over ``path`` is atomic."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=path.suffix)
    os.close(handle)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(temporary, 0o666 & ~umask)  # mkstemp makes 0600
    return Path(temporary)


def write_all(files: Sequence[tuple[Path, Writer]]) -> list[Path]:
    """Write every (path, writer) pair under a temporary name, then rename all into place.

    If any writer fails, every temporary file is removed and nothing at the
    final paths changes.
    """
    pending: list[tuple[Path, Path]] = []
    try:
        for final, write in files:
            temporary = _temporary_beside(Path(final))
            pending.append((temporary, Path(final)))
            write(temporary)
    except BaseException:
        for temporary, _ in pending:
            temporary.unlink(missing_ok=True)
        raise
    for temporary, final in pending:
        os.replace(temporary, final)
    return [final for _, final in pending]


def prepare_directory(path: Path, what: str = "output directory") -> Path:
    """Create ``path`` if needed and check that files can be written in it.

    Called before long work, so that a bad directory costs no time.
    """
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".arithnet-check-"):
            pass
    except OSError as error:
        reason = error.strerror or str(error)
        raise ValueError(f"{what} {str(path)!r} cannot be written: {reason}") from None
    return path
