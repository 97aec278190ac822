"""The benchmark's results store: one SQLite file, one row per run, shared by many processes.

SQLite does the hard parts: every ``add`` is one transaction, so a process
killed midway loses nothing it had committed and leaves no half-written row;
WAL journal mode lets readers run beside a writer; a busy timeout makes
concurrent writers wait for each other instead of failing.

A file that is not an arithnet store is refused and left untouched: the checks
only read, and tables are created only in a new file that no one else can see
yet (it is built under a temporary name and linked into place).

A store of schema 1 holds keys of version 1 (bench.run.keys). It is read as it
is, each row under the key it has now, and upgraded to schema 2 (its rows
re-keyed, in one transaction) by ``migrate`` or before the first rows are
added to it.
"""

from __future__ import annotations

import contextlib
import json
import math
import operator
import os
import sqlite3
import typing
import urllib.parse
from collections.abc import Iterable, Iterator
from pathlib import Path

from arithnet.bench.protocol import RunRow
from arithnet.bench.run.keys import current_keys, current_rows
from arithnet.bench.run.store_files import first_line, foreign_file_reason
from arithnet.files import prepare_directory, temporary_beside

FORMAT = "arithnet-results"
#: Bump when the ``runs`` columns change (a new RunRow field, a new meaning) or the keys' version
#: (``ResolvedConfig.key``), and upgrade older stores in ``_upgrade``. 2: keys of version 2.
SCHEMA_VERSION = "2"
#: The schemas this arithnet reads: 1 (keys of version 1, re-keyed as they are read) and its own.
READABLE_SCHEMAS = ("1", SCHEMA_VERSION)
#: Seconds a writer waits for another one's transaction before giving up.
BUSY_TIMEOUT = 60.0
#: Seconds ``check_writable`` waits for the write lock: longer means another process holds it.
LOCK_PROBE_TIMEOUT = 3.0
#: Columns ``rows()`` can filter on.
FILTERS = ("unit", "operation", "task", "range_name")

# Python type of a RunRow field -> SQLite column type. Floats may be NULL because
# SQLite stores NaN as NULL (a diverged run has NaN losses); NULL reads back as NaN.
_COLUMN_TYPES = {
    str: "TEXT NOT NULL",
    int: "INTEGER NOT NULL",
    bool: "INTEGER NOT NULL",
    float: "REAL",
    int | None: "INTEGER",
}
_FIELD_TYPES: dict[str, object] = typing.get_type_hints(RunRow)
_COLUMNS = RunRow.column_names()


def _schema() -> list[str]:
    columns = []
    for name in _COLUMNS:
        kind = _FIELD_TYPES[name]
        if kind not in _COLUMN_TYPES:
            raise TypeError(f"RunRow.{name} has type {kind}, which the results store cannot hold")
        constraint = " PRIMARY KEY" if name == "key" else ""
        check = f" CHECK ({name} IN (0, 1))" if kind is bool else ""
        columns.append(f"{name} {_COLUMN_TYPES[kind]}{constraint}{check}")
    return [
        "CREATE TABLE arithnet_meta (key TEXT PRIMARY KEY, value TEXT)",
        f"CREATE TABLE runs ({', '.join(columns)})",
    ]


def _to_record(row: RunRow) -> tuple:
    """RunRow -> SQL parameters, converting numpy scalars and checking types."""
    if not isinstance(row, RunRow):
        raise TypeError(f"expected a RunRow, got {type(row).__name__}")
    record = []
    for name in _COLUMNS:
        value, kind = getattr(row, name), _FIELD_TYPES[name]
        if kind is str:
            if not isinstance(value, str):
                raise TypeError(f"RunRow.{name} must be str, got {type(value).__name__}")
        elif kind is bool:
            value = int(bool(value))
        elif kind is float:
            value = float(value)
        elif value is not None or kind is int:
            value = operator.index(value)  # accepts numpy integers, refuses 3.7
        record.append(value)
    return tuple(record)


class DamagedRow(ValueError):
    """A stored row that is not what arithnet writes (a value of another type, a config that is not JSON)."""


def _from_record(record: tuple) -> RunRow:
    """The RunRow of a stored record; DamagedRow saying what is wrong with it."""
    values = {name: _read_value(name, value) for name, value in zip(_COLUMNS, record)}
    try:
        config = json.loads(values["config"])
    except (ValueError, RecursionError):
        config = None
    if not isinstance(config, dict):
        raise DamagedRow("its config is not a JSON object")
    return RunRow(**values)


#: What a column of each RunRow field type must hold, and its name in a message.
_STORED_TYPES = {str: (str, "text"), int: (int, "an integer"), bool: (int, "0 or 1"), int | None: (int, "an integer")}


def _read_value(name: str, value: object) -> object:
    """A stored value as its RunRow field's type; DamagedRow if it cannot be (text where a number belongs)."""
    kind = _FIELD_TYPES[name]
    if kind is float:
        if value is None:  # SQLite stores NaN as NULL
            return math.nan
        if not isinstance(value, int | float):
            raise DamagedRow(f"{name} is {value!r}, not a number")
        return float(value)
    if kind == int | None and value is None:
        return None
    expected, what = _STORED_TYPES[kind]
    if not isinstance(value, expected) or (kind is bool and value not in (0, 1)):
        raise DamagedRow(f"{name} is {value!r}, not {what}")
    return bool(value) if kind is bool else value


class ResultsStore:
    """Benchmark rows in an SQLite file, appendable by several processes at once.

    Args:
        path: the store's file. Created (with its directory) if missing; an
            existing file must be an arithnet results store of a schema this
            arithnet reads (``READABLE_SCHEMAS``), otherwise ``ValueError`` is
            raised and the file is left as it was. An empty (0-byte) file is refused too: arithnet never leaves
            a store empty (new stores appear complete, see ``_create``), so an
            empty file was made by something else.

        busy_timeout: seconds ``add`` waits for another writer's transaction
            before raising ``StoreRefused``.

    Open one store per process (a connection must not cross a fork). Use as a
    context manager or call ``close()``. ``check_writable`` tells, creating
    nothing, whether a later ``add`` can write.

    Examples:
        >>> with ResultsStore("results.sqlite") as store:  # doctest: +SKIP
        ...     store.add(rows)
        ...     solved = [r for r in store.rows(unit="NMU") if r.solved_raw]
    """

    def __init__(self, path: str | os.PathLike, busy_timeout: float = BUSY_TIMEOUT):
        self.path = Path(path)
        self.busy_timeout = busy_timeout
        prepare_directory(self.path.parent, "results store directory")
        if not self.path.exists():
            self._create()
        self._connection = self._open_existing()

    # -- opening -------------------------------------------------------------

    def _create(self) -> None:
        """Build a complete empty store under a temporary name, then link it into place.

        ``os.link`` fails if the path exists, so when several processes create
        the same store at once exactly one wins and the others open its file;
        no process ever sees a store without its tables.
        """
        temporary = temporary_beside(self.path)  # with the usual file mode, as the store is new
        try:
            connection = sqlite3.connect(temporary, isolation_level=None)
            try:
                connection.execute("PRAGMA journal_mode=WAL")  # stored in the file: every later opener uses WAL
                connection.execute("BEGIN")
                for statement in _schema():
                    connection.execute(statement)
                connection.executemany(
                    "INSERT INTO arithnet_meta (key, value) VALUES (?, ?)",
                    [("format", FORMAT), ("schema_version", SCHEMA_VERSION)],
                )
                connection.execute("COMMIT")
            finally:
                connection.close()
            try:
                os.link(temporary, self.path)
            except FileExistsError:
                pass  # another process created it first: open theirs
            except OSError as error:
                raise ValueError(f"cannot create results store {str(self.path)!r}: {error.strerror or error}") from None
        finally:
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(f"{temporary}{suffix}").unlink(missing_ok=True)

    def _open_existing(self) -> sqlite3.Connection:
        """Open the file and check that it is our store, without writing to it before it passes."""
        reason = foreign_file_reason(self.path)
        if reason:
            raise ValueError(f"{str(self.path)!r} is not an arithnet results store: {reason}")
        # mode=rw never creates a file, so a file removed meanwhile is an error, not a new empty db.
        uri = f"file:{urllib.parse.quote(str(self.path.resolve()))}?mode=rw"
        try:
            connection = sqlite3.connect(uri, uri=True, timeout=self.busy_timeout, isolation_level=None)
        except sqlite3.Error as error:
            raise ValueError(f"cannot open results store {str(self.path)!r}: {error}") from None
        try:
            reason = _foreign_store_reason(connection)
            if reason:
                raise ValueError(f"{str(self.path)!r} is not an arithnet results store: {reason}")
            connection.execute("PRAGMA journal_mode=WAL")  # already so in our stores; cheap insurance
        except sqlite3.DatabaseError as error:
            connection.close()
            raise ValueError(
                f"{str(self.path)!r} is corrupt ({first_line(error)}); move it away to start a new store"
            ) from None
        except BaseException:
            connection.close()
            raise
        return connection

    # -- writing and reading ---------------------------------------------------

    def add(self, rows: Iterable[RunRow]) -> int:
        """Insert ``rows`` in one transaction; return how many were new.

        A row whose key is already stored is skipped (the stored one wins), so
        a rerun never duplicates a run. The transaction is committed before
        returning: once ``add`` returns, the rows survive a crash. If SQLite
        refuses the write (another writer holds the lock beyond the busy
        timeout, the file became read-only, the disk is full), nothing is
        written and ``StoreRefused`` is raised: the caller still has the rows.
        A store of an older schema is upgraded in the same transaction first,
        so that its rows and the new ones have keys of one version.
        """
        records = [_to_record(row) for row in rows]  # check all before writing any
        if not records:
            return 0
        placeholders = ", ".join("?" for _ in _COLUMNS)
        # ON CONFLICT(key) rather than INSERT OR IGNORE: OR IGNORE would also
        # silently drop a row that breaks another constraint; here only a known key is skipped.
        statement = f"INSERT INTO runs ({', '.join(_COLUMNS)}) VALUES ({placeholders}) ON CONFLICT(key) DO NOTHING"
        with self._transaction("refused the rows"):
            self._upgrade()
            before = self._connection.total_changes
            self._connection.executemany(statement, records)
            added = self._connection.total_changes - before
        return added

    def migrate(self) -> int:
        """Upgrade a store of an older schema to this one in one transaction; returns the rows re-keyed.

        Each row gets the key its run has now (bench.run.keys). A store of this
        schema is left as it is. ValueError with one line if SQLite refuses the write.
        """
        if self.schema_version() == SCHEMA_VERSION:
            return 0
        try:
            with self._transaction("cannot be upgraded"):
                return self._upgrade()
        except StoreRefused as refused:
            raise ValueError(str(refused)) from None

    def _upgrade(self) -> int:
        """In a write transaction: a store of schema 1 re-keyed and marked of this schema; returns the rows re-keyed.

        The schema is read inside the transaction: another process may have upgraded the store meanwhile.
        """
        if self.schema_version() == SCHEMA_VERSION:
            return 0
        records = self._connection.execute("SELECT rowid, key, config, seed FROM runs").fetchall()
        keys = current_keys(record[1:] for record in records)
        changed = [(key, record[0]) for record, key in zip(records, keys, strict=True) if key != record[1]]
        self._connection.executemany("UPDATE runs SET key = ? WHERE rowid = ?", changed)
        self._connection.execute("UPDATE arithnet_meta SET value = ? WHERE key = 'schema_version'", (SCHEMA_VERSION,))
        return len(changed)

    @contextlib.contextmanager
    def _transaction(self, refused: str) -> Iterator[None]:
        """One write transaction, committed at the end; StoreRefused (``refused``: what) if SQLite refuses it.

        IMMEDIATE takes the write lock at once, so waiting happens at the start, under the busy timeout.
        """
        try:
            self._connection.execute("BEGIN IMMEDIATE")
            try:
                yield
                self._connection.execute("COMMIT")
            except BaseException:
                if self._connection.in_transaction:
                    self._connection.execute("ROLLBACK")
                raise
        except sqlite3.OperationalError as error:
            raise StoreRefused(f"results store {str(self.path)!r} {refused}: {first_line(error)}") from None

    def schema_version(self) -> str:
        """The store's schema version, read now (another process may upgrade the store)."""
        query = "SELECT value FROM arithnet_meta WHERE key = 'schema_version'"
        return self._connection.execute(query).fetchone()[0]

    def check_lock(self, timeout: float | None = None) -> None:
        """Take and release the write lock, waiting at most ``timeout`` s (LOCK_PROBE_TIMEOUT).

        ValueError with one line if another process keeps it longer, or SQLite cannot write.
        """
        timeout = LOCK_PROBE_TIMEOUT if timeout is None else timeout
        self._connection.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
        try:
            self._connection.execute("BEGIN IMMEDIATE")
            self._connection.execute("ROLLBACK")
        except sqlite3.OperationalError as error:
            reason = first_line(error)
            if "lock" in reason or "busy" in reason:
                reason = f"another process has held its write lock for over {timeout:g} s"
            raise ValueError(f"results store {str(self.path)!r} cannot be written: {reason}") from None
        finally:
            self._connection.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout * 1000)}")

    def keys(self) -> set[str]:
        """Keys of all stored runs, as they are now (those of an older schema re-keyed): a rerun skips these."""
        if self.schema_version() == SCHEMA_VERSION:
            return {key for (key,) in self._connection.execute("SELECT key FROM runs")}
        return set(current_keys(self._connection.execute("SELECT key, config, seed FROM runs")))

    def rows(self, **filters: str) -> list[RunRow]:
        """Stored rows, optionally only those equal to ``filters`` (unit, operation, task, range_name).

        Ordered by unit, operation, task, range_name, seed, key. A row that
        arithnet did not write so (a value of another type, a config that is
        not a JSON object) is a ValueError (``DamagedRow``) that names the
        store and the row. The rows of an older schema have the keys they have
        now (bench.run.keys), the store is left as it is.
        """
        unknown = set(filters) - set(FILTERS)
        if unknown:
            raise TypeError(f"cannot filter on {sorted(unknown)}; allowed: {list(FILTERS)}")
        where = " AND ".join(f"{name} = ?" for name in filters)
        query = f"SELECT rowid, {', '.join(_COLUMNS)} FROM runs"
        if where:
            query += f" WHERE {where}"
        query += " ORDER BY unit, operation, task, range_name, seed, key"
        rows = [self._row(record) for record in self._connection.execute(query, tuple(filters.values()))]
        return rows if self.schema_version() == SCHEMA_VERSION else current_rows(rows)

    def check_rows(self) -> None:
        """ValueError naming the first damaged row, if any (``rows`` reads every row as ``RunRow``)."""
        self.rows()

    def _row(self, record: tuple) -> RunRow:
        rowid, *values = record
        try:
            return _from_record(tuple(values))
        except DamagedRow as problem:
            key = values[_COLUMNS.index("key")]
            raise DamagedRow(
                f"results store {str(self.path)!r}: row {rowid} (key {key!r}) is damaged: {problem}; "
                f"arithnet did not write it so: delete it (DELETE FROM runs WHERE rowid = {rowid}) "
                "or move the store away"
            ) from None

    def __len__(self) -> int:
        return self._connection.execute("SELECT COUNT(*) FROM runs").fetchone()[0]

    def close(self) -> None:
        self._connection.close()

    def __enter__(self) -> ResultsStore:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"ResultsStore({str(self.path)!r})"


class StoreRefused(RuntimeError):
    """SQLite refused to write rows for now; nothing was written and the caller keeps the rows."""


def _foreign_store_reason(connection: sqlite3.Connection) -> str | None:
    """Why an SQLite database is not our store of a schema this arithnet reads; None if it is. Only reads.

    Raises sqlite3.DatabaseError if the database is damaged.
    """
    problems = [message for (message,) in connection.execute("PRAGMA quick_check")]
    if problems != ["ok"]:
        raise sqlite3.DatabaseError("; ".join(problems[:3]))
    tables = {name for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if "arithnet_meta" not in tables:
        return "it has no arithnet_meta table"
    meta = dict(connection.execute("SELECT key, value FROM arithnet_meta"))
    if meta.get("format") != FORMAT:
        return f"its format is {meta.get('format')!r}, not {FORMAT!r}"
    if meta.get("schema_version") not in READABLE_SCHEMAS:
        readable = " and ".join(repr(version) for version in READABLE_SCHEMAS)
        return f"its schema_version is {meta.get('schema_version')!r}; this arithnet reads {readable}"
    if "runs" not in tables:
        return "it has no runs table"
    columns = [row[1] for row in connection.execute("PRAGMA table_info(runs)")]
    if columns != _COLUMNS:
        return f"its runs columns differ from this arithnet's ({_column_difference(columns)})"
    return None


def _column_difference(columns: list[str]) -> str:
    """The first few differences between a table's columns and RunRow's, briefly."""
    missing = [column for column in _COLUMNS if column not in columns]
    extra = [column for column in columns if column not in _COLUMNS]
    if not missing and not extra:
        return "same columns in another order"
    names = [f"no {column}" for column in missing] + [f"unexpected {column}" for column in extra]
    return ", ".join(names[:3]) + (", …" if len(names) > 3 else "")
