"""Every file arithnet writes goes through this module: never a half-written file, never a partial set.

Writing (each raises a one-line ValueError where it says so):

- ``write_all(files)``: several files, each written under a temporary name
  beside its final path and renamed over it once all are complete;
- ``write_files(directory, files, what)``: ``write_all`` into a directory that
  is created if needed, and removed again if writing fails;
- ``write_text(path, text, what)``: one text file, replaced whole;
- ``append_text(path, text)``: one write appended to a log and flushed to disk;
- ``write_set(path, files, owned, what)``: a whole directory built beside its
  final place and renamed in, replacing the old set as a unit (a training
  run's outputs). Its temporary directories are named
  ``.NAME.arithnet-partial-PID-XXXX`` (being built) and
  ``.NAME.arithnet-old-PID-XXXX`` (the old set, moved aside), so that a run
  killed with them in place can be recognised: the next ``write_set`` in the
  same parent removes them, or moves an old set back when its place is
  empty, once process PID has ended.

A file or directory that is replaced keeps its permission bits (a private
600 result stays 600; a new one gets the usual mode, 666 or 777 less the
umask). A symbolic link is written through: the file it points to is
replaced, by a rename in that file's own directory (so still atomically),
and the link stays a link. Only a set's members cannot be links, since the
set's directory is replaced as one: ``prepare_set`` refuses them.

Checking, before long work (creating nothing unless the name says so):
``prepare_directory`` (creates), ``check_directory_creatable``,
``prepare_file``, ``prepare_files`` and ``prepare_set``.

Strict JSON (no NaN, no Infinity: what other languages' parsers accept):
``finite_or_none`` replaces every non-finite float in a nested value by
None, and ``strict_json`` writes the result.
"""

from __future__ import annotations

import errno
import json
import math
import os
import re
import shutil
import stat
import tempfile
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

#: Writes one file's content to the path it is given.
Writer = Callable[[Path], None]


# -- strict JSON ---------------------------------------------------------------------------------------------------


def finite_or_none(value: Any) -> Any:
    """``value`` with every float inside it (dicts, lists, tuples) that is not finite replaced by None."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: finite_or_none(item) for key, item in value.items()}
    if isinstance(value, list):
        return [finite_or_none(item) for item in value]
    if isinstance(value, tuple):
        return tuple(finite_or_none(item) for item in value)
    return value


def strict_json(value: Any, indent: int | None = None) -> str:
    """``value`` as strict JSON text: a float that is not finite is written as null."""
    return json.dumps(finite_or_none(value), indent=indent, allow_nan=False)


def text_writer(text: str) -> Writer:
    """A writer of ``text`` as UTF-8."""
    return lambda path: Path(path).write_text(text, encoding="utf-8")


# -- modes and links -----------------------------------------------------------------------------------------------


def _umask() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return umask


def _kept_mode(path: Path, default: int) -> int:
    """The permission bits of what is at ``path`` now (followed through links), or ``default`` & ~umask."""
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        return default & ~_umask()


def _written_path(path: Path) -> Path:
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
    os.chmod(temporary, _kept_mode(path, 0o666))  # mkstemp makes 0600
    return Path(temporary)


# -- files ---------------------------------------------------------------------------------------------------------


def write_all(files: Sequence[tuple[Path, Writer]]) -> list[Path]:
    """Write every (path, writer) pair under a temporary name, then rename all into place; the paths, as given.

    If any writer fails, every temporary file is removed and nothing at the
    final paths changes. A path that is a symbolic link is written through
    (module docstring); a replaced file keeps its mode.
    """
    pending: list[tuple[Path, Path]] = []  # (temporary, the real place it goes)
    try:
        for final, write in files:
            place = _written_path(Path(final))
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


# -- checks --------------------------------------------------------------------------------------------------------


def _check_place(path: Path) -> Path:
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


def _unwritable(what: str, shown: str, error: OSError) -> ValueError:
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
        raise _unwritable(what, str(path), error) from None
    return path


def check_directory_creatable(path: str | os.PathLike, what: str) -> None:
    """ValueError unless ``path`` is, or can be made, a writable directory; creates nothing.

    The message names the place in the way: "... cannot be written: '/a/file'
    is not a directory" (or "is read-only").
    """
    path = Path(path).absolute()
    try:
        _check_place(path)
    except OSError as error:
        problem = "is not a directory" if isinstance(error, NotADirectoryError) else "is read-only"
        raise ValueError(f"{what} {str(path)!r} cannot be written: {error.filename!r} {problem}") from None


def prepare_file(path: str | os.PathLike, what: str = "output file") -> Path:
    """Check, before work, that ``write_text`` can write the file ``path``; create nothing. One-line ValueError."""
    path, shown = Path(path), str(path)
    if path.is_dir():
        raise ValueError(f"{what} {shown!r} is a directory")
    try:
        _check_place(path.parent)
    except OSError as error:
        raise _unwritable(what, shown, error) from None
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
        _check_place(path)
    except OSError as error:
        raise _unwritable(what, shown, error) from None
    return path


# -- sets: a directory replaced as a whole ---------------------------------------------------------------------------

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
        raise _unwritable(what, shown, error) from None
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
    if _check_place(path.parent) != path.parent:
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
                os.chmod(partial / name, _kept_mode(final / name, 0o666))
            os.chmod(partial, _kept_mode(final, 0o777))  # mkdtemp makes 0700; set last, in case it is read-only
            _rename_in(partial, final)
        except BaseException:
            shutil.rmtree(partial, ignore_errors=True)
            raise
    except OSError as error:
        raise _unwritable(what, str(path), error) from None
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
