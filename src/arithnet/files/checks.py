"""Checks made before long work, so that a bad place costs no time: each a one-line ValueError."""

from __future__ import annotations

import errno
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path


def check_place(path: Path) -> Path:
    """The nearest existing one of ``path`` and its parents; OSError unless it is a directory this process can write.

    The error's ``filename`` is that place.
    """
    place = path.absolute()
    while not os.path.lexists(place) and place != place.parent:
        place = place.parent
    if not place.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, "Not a directory", str(place))
    if not os.access(place, os.W_OK | os.X_OK):
        raise PermissionError(errno.EACCES, "Permission denied", str(place))
    return place


def unwritable(what: str, shown: str, error: OSError) -> ValueError:
    return ValueError(f"{what} {shown!r} cannot be written: {error.strerror or error}")


def prepare_directory(path: Path, what: str = "output directory") -> Path:
    """Create ``path`` if needed and check that files can be written in it; one-line ValueError if not.

    Called before long work, so that a bad directory costs no time.
    """
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".arithnet-check-"):
            pass
    except OSError as error:
        raise unwritable(what, str(path), error) from None
    return path


def directory_problem(directory: Path) -> str | None:
    """Why files cannot be made in ``directory`` (created if missing), or None if they can: a temporary file is
    made there and removed, the one test that answers for every file system and permission model."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=directory):
            pass
    except OSError as error:
        return error.strerror or type(error).__name__
    return None


def check_file_writable(path: Path, what: str, file_hint: str, directory_hint: str) -> None:
    """Refuse, creating nothing, a file this process could not write in place: one-line ValueError.

    A new file needs a directory that exists or can be made; an existing one needs write access to itself and
    to its directory (for the files written beside it: SQLite's -wal and -shm)."""
    if not path.exists():
        check_directory_creatable(path.parent, f"{what} directory")
    elif not os.access(path, os.W_OK):
        raise ValueError(f"{what} {str(path)!r} is read-only: {file_hint}")
    elif not os.access(path.parent, os.W_OK | os.X_OK):
        raise ValueError(f"{what} directory {str(path.parent)!r} is read-only: {directory_hint}")


def check_directory_creatable(path: str | os.PathLike, what: str) -> None:
    """ValueError unless ``path`` is, or can be made, a writable directory; creates nothing.

    The message names the place in the way: "... cannot be written: '/a/file'
    is not a directory" (or "is read-only").
    """
    path = Path(path).absolute()
    try:
        check_place(path)
    except OSError as error:
        problem = "is not a directory" if isinstance(error, NotADirectoryError) else "is read-only"
        raise ValueError(f"{what} {str(path)!r} cannot be written: {error.filename!r} {problem}") from None


def prepare_file(path: str | os.PathLike, what: str = "output file") -> Path:
    """Check, before work, that ``write_text`` can write the file ``path``; create nothing. One-line ValueError."""
    path, shown = Path(path), str(path)
    if path.is_dir():
        raise ValueError(f"{what} {shown!r} is a directory")
    try:
        check_place(path.parent)
    except OSError as error:
        raise unwritable(what, shown, error) from None
    return path


def prepare_files(directory: str | os.PathLike, names: Sequence[str], what: str = "output directory") -> Path:
    """Check, before long work, that the files ``names`` can be written in ``directory``; create nothing.

    One-line ValueError for a path that is not a directory, one of ``names``
    there that is a directory, and a place that cannot be written or created.
    """
    path, shown = Path(directory), str(directory)
    try:
        if os.path.lexists(path):
            if not path.is_dir():
                raise ValueError(f"{what} {shown!r} exists and is not a directory")
            for name in names:
                if (path / name).is_dir():
                    raise ValueError(f"{what} {shown!r} holds a directory {name!r}, which a file would replace")
        check_place(path)
    except OSError as error:
        raise unwritable(what, shown, error) from None
    return path
