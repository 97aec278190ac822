"""Sets: a directory of files replaced as a whole (a training run's outputs), and what killed runs left."""

from __future__ import annotations

import errno
import os
import re
import shutil
import tempfile
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path

from arithnet.files.checks import check_place, unwritable
from arithnet.files.writing import Writer, kept_mode

#: A set directory's temporary siblings: ``.NAME.arithnet-partial-PID-XXXX`` and ``.NAME.arithnet-old-PID-XXXX``.
_LEFTOVER = re.compile(r"\.(?P<name>.+)\.arithnet-(?P<kind>partial|old)-(?P<pid>\d+)-\w+")


def _alive(pid: int) -> bool:
    """Whether process ``pid`` exists (on this machine); unsure counts as alive, so nothing in use is removed."""
    if pid <= 0:
        return False  # signal 0 to pid 0 would probe our own process group
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (OverflowError, ValueError):
        return False  # no such pid can exist
    except OSError:
        return True  # e.g. PermissionError: another user's live process
    return True


def clean_leftovers(parent: Path) -> None:
    """Remove the temporary directories that ended processes left in ``parent``.

    An old set moved aside by a process killed before it renamed the new set
    in goes back into its place (the run is then as if it never happened).
    """
    try:
        names = os.listdir(parent)
    except OSError:
        return
    for name in names:
        match = _LEFTOVER.fullmatch(name)
        if match is None or _alive(int(match["pid"])):
            continue
        place = parent / match["name"]
        try:
            if match["kind"] == "old" and not os.path.lexists(place):
                os.rename(parent / name, place)
            else:
                shutil.rmtree(parent / name)
        except OSError:
            pass  # cleaning is a courtesy: the next run tries again


def _sibling(path: Path, kind: str) -> str:
    """The start of a temporary sibling's name for ``path`` that ``_LEFTOVER`` recognises (a random tail follows)."""
    return f".{path.name}.arithnet-{kind}-{os.getpid()}-"


def prepare_set(path: Path, owned: Callable[[str], bool], what: str = "output directory") -> Path:
    """Check that ``write_set`` can put a set at ``path``; the path to write (symlinks followed).

    Refused with a one-line ValueError: a ``path`` that is not a directory or
    holds a file ``owned`` does not claim (replacing the set would delete it)
    or a member that is not a regular file (a directory, or a symbolic link,
    which a set replaced as one cannot write through), and a place that
    cannot be created or written. Creates nothing (the parent directory is
    made by ``write_set``), so that input refused later still leaves nothing
    behind; removes the leftovers of killed runs in the parent. Called before
    long work, so that a bad directory costs no time.
    """
    shown = str(path)
    path = Path(path).resolve()
    try:
        if path.parent == path:
            raise ValueError(f"{what} {shown!r} cannot be the root directory")
        if os.path.lexists(path):
            _check_replaceable(path, owned, f"{what} {shown!r}")
        _check_parent(path)
    except OSError as error:
        raise unwritable(what, shown, error) from None
    return path


def _check_replaceable(path: Path, owned: Callable[[str], bool], what: str) -> None:
    if not path.is_dir():
        raise ValueError(f"{what} exists and is not a directory")
    names = sorted(os.listdir(path))
    foreign = [name for name in names if not owned(name)]
    if foreign:
        raise ValueError(
            f"{what} holds {foreign[0]!r}, which arithnet did not write: its outputs replace "
            "the whole directory, so choose a new or empty one, or move that file"
        )
    for name in names:
        if os.path.islink(path / name):
            raise ValueError(
                f"{what} holds {name!r} as a symbolic link: its outputs replace the whole directory, "
                "which a link in it cannot be written through; replace the link by a file, or choose another directory"
            )
        if (path / name).is_dir():
            raise ValueError(f"{what} holds a directory {name!r}, which a file would replace")
    if not os.access(path, os.W_OK | os.X_OK):  # its old files could not be deleted
        raise PermissionError(errno.EACCES, "Permission denied")


def _check_parent(path: Path) -> None:
    """Raise OSError unless the directory that will hold ``path`` exists and is writable, or can be made."""
    if check_place(path.parent) != path.parent:
        return  # made by write_set, in a place that can be written
    clean_leftovers(path.parent)
    os.rmdir(tempfile.mkdtemp(dir=path.parent, prefix=_sibling(path, "partial")))  # the real test of writing


def write_set(
    path: Path, files: Sequence[tuple[str, Writer]], owned: Callable[[str], bool], what: str = "output directory"
) -> list[Path]:
    """Write a directory of files (name, writer) at ``path`` as one unit, replacing the set there.

    The files are written into a new directory beside ``path``, which is
    renamed into place only when all are complete; an old directory at
    ``path`` (checked by ``prepare_set``: only files ``owned`` claims) is moved
    aside first and deleted after. The new directory and each file that
    replaces one of the same name keep the old one's mode. On any failure the
    old set stays (or is put back) and the new directory is removed. An
    OSError becomes a one-line ValueError. Returns the paths written, under
    ``path`` as given.
    """
    final = prepare_set(path, owned, what)
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
        partial = Path(tempfile.mkdtemp(dir=final.parent, prefix=_sibling(final, "partial")))
        try:
            for name, write in files:
                write(partial / name)
                os.chmod(partial / name, kept_mode(final / name, 0o666))
            os.chmod(partial, kept_mode(final, 0o777))  # mkdtemp makes 0700; set last, in case it is read-only
            _rename_in(partial, final)
        except BaseException:
            shutil.rmtree(partial, ignore_errors=True)
            raise
    except OSError as error:
        raise unwritable(what, str(path), error) from None
    return [Path(path) / name for name, _ in files]


def _rename_in(partial: Path, final: Path) -> None:
    """Rename ``partial`` to ``final``, replacing a directory there; the old one is back if this fails."""
    if not os.path.lexists(final):
        os.rename(partial, final)
        return
    aside = final.parent / (_sibling(final, "old") + uuid.uuid4().hex[:8])
    os.rename(final, aside)
    try:
        os.rename(partial, final)
    except BaseException:
        os.rename(aside, final)
        raise
    shutil.rmtree(aside, ignore_errors=True)  # if this fails, clean_leftovers retries once we have ended
