"""What a path must be before it is opened as a results store, and SQLite's messages on one line.

Refusals made before any work (``check_writable``) and before SQLite opens a
file (``foreign_file_reason``): both only look, creating nothing.
"""

from __future__ import annotations

import os
from pathlib import Path

from arithnet.files import check_file_writable

#: The first bytes of every SQLite database file.
SQLITE_HEADER = b"SQLite format 3\x00"


def first_line(message: str | BaseException, limit: int | None = 100) -> str:
    """A message on one line (SQLite's and Ray's reports can hold newlines and many problems), cut to ``limit``
    characters unless None (a Ray message listing addresses is kept whole). An error without a message is named
    by its type."""
    line = " ".join(str(message).split())
    if not line and isinstance(message, BaseException):
        return type(message).__name__
    return line if limit is None or len(line) <= limit else line[: limit - 1] + "…"


def check_writable(path: str | os.PathLike) -> None:
    """Refuse, creating nothing, a store this process could not write: ValueError with one line.

    An existing store needs a writable file and a writable directory (SQLite
    writes its -wal and -shm files beside it); a new one needs a directory
    that exists or can be made, and can be written. A lock held by another
    process is found by ``ResultsStore.check_lock``.
    """
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"{str(path)!r} is not an arithnet results store: it is a directory")
    hints = ("make it writable or choose another --store", "SQLite writes its -wal and -shm files there")
    check_file_writable(path, "results store", *hints)


def foreign_file_reason(path: Path) -> str | None:
    """Why the file at ``path`` cannot be an SQLite database, judged from its first bytes; None if it may be."""
    if path.is_dir():
        return "it is a directory"
    try:
        with open(path, "rb") as file:
            header = file.read(len(SQLITE_HEADER))
    except OSError as error:
        return f"it cannot be read ({error.strerror or error})"
    if not header:
        return "it is empty (0 bytes); arithnet never leaves a store empty, so delete the file to start a new store"
    if header != SQLITE_HEADER:
        return "it is not an SQLite database"
    return None
