"""Files written whole: under a temporary name beside their place, renamed over it once complete."""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from arithnet.files.checks import prepare_file

#: Writes one file's content to the path it is given.
Writer = Callable[[Path], None]


def text_writer(text: str) -> Writer:
    """A writer of ``text`` as UTF-8."""
    return lambda path: Path(path).write_text(text, encoding="utf-8")


def _umask() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return umask


def kept_mode(path: Path, default: int) -> int:
    """The permission bits of what is at ``path`` now (followed through links), or ``default`` & ~umask."""
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        return default & ~_umask()


def written_path(path: Path) -> Path:
    """Where writing ``path`` puts the bytes: the file a symbolic link points to (a dangling one too)."""
    if not os.path.islink(path):
        return path
    target = Path(os.path.realpath(path))
    if os.path.islink(target):  # realpath stops at a loop
        raise OSError(errno.ELOOP, "Too many levels of symbolic links")
    return target


def temporary_beside(path: Path) -> Path:
    """An empty file next to ``path``, with the mode of the file at ``path`` (or the usual mode if none).

    Renaming it over ``path`` is atomic. ``path`` is the real place: links
    are resolved by the caller (``write_all``).
    """
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=path.suffix)
    os.close(handle)
    os.chmod(temporary, kept_mode(path, 0o666))  # mkstemp makes 0600
    return Path(temporary)


def write_all(files: Sequence[tuple[Path, Writer]]) -> list[Path]:
    """Write every (path, writer) pair under a temporary name, then rename all into place; the paths, as given.

    If any writer fails, every temporary file is removed and nothing at the
    final paths changes. A path that is a symbolic link is written through
    (module docstring); a replaced file keeps its mode.
    """
    pending: list[tuple[Path, Path]] = []  # (temporary, the real place it goes)
    try:
        for final, write in files:
            place = written_path(Path(final))
            pending.append((temporary_beside(place), place))
            write(pending[-1][0])
    except BaseException:
        for temporary, _ in pending:
            temporary.unlink(missing_ok=True)
        raise
    for temporary, place in pending:
        os.replace(temporary, place)
    return [Path(final) for final, _ in files]


def _create(directory: Path) -> list[Path]:
    """Create ``directory`` and its missing parents; the ones created, deepest first (to remove on failure)."""
    missing = []
    place = directory.absolute()
    while not os.path.lexists(place):
        missing.append(place)
        place = place.parent
    if not place.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, "Not a directory")  # mkdir would say "File exists", which misleads
    directory.mkdir(parents=True, exist_ok=True)
    return missing


def write_files(directory: str | os.PathLike, files: Sequence[tuple[Path, Writer]], what: str) -> list[Path]:
    """``write_all`` into ``directory``, created if needed; on failure the directories created go again.

    An OSError becomes the one-line ValueError "``what`` cannot be written: reason".
    """
    created: list[Path] = []
    try:
        created = _create(Path(directory))
        return write_all(files)
    except BaseException as error:
        for place in created:
            try:
                place.rmdir()
            except OSError:
                break  # something else appeared in it meanwhile: not ours to remove
        if isinstance(error, OSError):
            raise ValueError(f"{what} cannot be written: {error.strerror or error}") from None
        raise


def write_text(path: str | os.PathLike, text: str, what: str = "output file") -> Path:
    """Replace the file ``path`` by ``text`` atomically, creating its directory if needed. One-line ValueError."""
    described = f"{what} {str(path)!r}"
    path = prepare_file(path, what)
    return write_files(path.parent, [(path, text_writer(text))], described)[0]


def append_text(path: str | os.PathLike, text: str) -> None:
    """Append ``text`` to the file ``path`` in one write, and flush it to disk.

    One write: another process appending its own lines to the same file
    (opened for appending too) does not interleave with these.
    """
    with open(path, "a", encoding="utf-8") as file:
        file.write(text)
        file.flush()
        os.fsync(file.fileno())
