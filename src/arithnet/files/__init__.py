"""Every file arithnet writes goes through this package: never a half-written file, never a partial set.

A file per idea: ``writing`` (whole files, with the modes and links they keep), ``sets`` (a directory
replaced as one), ``checks`` (the checks before long work) and ``strict`` (strict JSON).

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
``check_file_writable`` (a file written in place: the results store),
``directory_problem`` (a cache's probe), ``prepare_file``, ``prepare_files``
and ``prepare_set``.

Strict JSON (no NaN, no Infinity: what other languages' parsers accept):
``finite_or_none`` replaces every non-finite float in a nested value by
None, and ``strict_json`` writes the result.
"""

from __future__ import annotations

from arithnet.files.checks import (
    check_directory_creatable,
    check_file_writable,
    directory_problem,
    prepare_directory,
    prepare_file,
    prepare_files,
)
from arithnet.files.sets import clean_leftovers, prepare_set, write_set
from arithnet.files.strict import finite_or_none, strict_json
from arithnet.files.writing import (
    Writer,
    append_text,
    temporary_beside,
    text_writer,
    write_all,
    write_files,
    write_text,
)

__all__ = [
    "Writer",
    "append_text",
    "check_directory_creatable",
    "check_file_writable",
    "clean_leftovers",
    "directory_problem",
    "finite_or_none",
    "prepare_directory",
    "prepare_file",
    "prepare_files",
    "prepare_set",
    "strict_json",
    "temporary_beside",
    "text_writer",
    "write_all",
    "write_files",
    "write_set",
    "write_text",
]
