"""The main process's writes to the results store: a finished run is never lost.

Workers send each finished group's rows to the main process, which alone
writes the store (the shape a distributed backend keeps too: the driver owns
the one store). A store that refuses a write for now (another writer holds
its lock, the disk is full) does not stop the bench: the rows wait in memory
and are retried with back-off while training goes on. Rows the store still
refuses when the bench ends go to a side file beside it,
``STORE.pending.jsonl`` (one RunRow as JSON per line), which the next bench
on that store imports before it plans its runs.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from arithnet.bench.protocol import RunRow
from arithnet.bench.run.keys import current_rows
from arithnet.bench.run.store import ResultsStore, StoreRefused
from arithnet.files import append_text

#: Seconds one attempt waits for the write lock: short, so the main process keeps serving workers and Ctrl-C.
ATTEMPT_TIMEOUT = 1.0
#: Back-off between attempts: doubling from FIRST_RETRY up to LAST_RETRY seconds.
FIRST_RETRY = 1.0
LAST_RETRY = 30.0
#: Seconds the end of a bench keeps retrying before it writes the side file.
FINISH_TIMEOUT = 60.0
_NAP = 0.25


def side_file(store_path: str | os.PathLike) -> Path:
    """Where rows wait that the store at ``store_path`` refused: ``STORE.pending.jsonl`` beside it."""
    return Path(f"{store_path}.pending.jsonl")


class StoreWriter:
    """Rows into the store as they arrive; what the store refuses waits and is retried.

    ``add`` never blocks longer than one attempt (ATTEMPT_TIMEOUT) and never
    raises because the store is busy. ``finish`` retries until FINISH_TIMEOUT,
    then ``save_waiting`` puts what is left in the side file.
    """

    def __init__(self, store_path: str | os.PathLike) -> None:
        self.store = ResultsStore(store_path, busy_timeout=ATTEMPT_TIMEOUT)
        self.waiting: list[RunRow] = []
        self.added = 0
        self._retry_at = 0.0
        self._delay = FIRST_RETRY

    def add(self, rows: Iterable[RunRow]) -> None:
        self.waiting.extend(rows)
        self.flush()

    def flush(self) -> bool:
        """Try to store the waiting rows unless backing off; True once none wait."""
        if not self.waiting:
            return True
        if time.monotonic() < self._retry_at:
            return False
        try:
            self.added += self.store.add(self.waiting)
        except StoreRefused:
            self._retry_at = time.monotonic() + self._delay
            self._delay = min(2 * self._delay, LAST_RETRY)
            return False
        self.waiting.clear()
        self._delay = FIRST_RETRY
        return True

    def finish(self, timeout: float | None = None, stop: Callable[[], bool] | None = None) -> Path | None:
        """Retry for up to ``timeout`` s (FINISH_TIMEOUT), or until ``stop()`` turns true, then save what waits.

        Returns the side file if rows went there, else None.
        """
        deadline = time.monotonic() + (FINISH_TIMEOUT if timeout is None else timeout)
        while not self.flush():
            now = time.monotonic()
            if now >= deadline or (stop is not None and stop()):
                break
            self._retry_at = min(self._retry_at, deadline)  # one last attempt at the deadline
            time.sleep(min(_NAP, max(0.0, self._retry_at - now)))  # short naps: a stop is seen soon
        return self.save_waiting()

    def save_waiting(self) -> Path | None:
        """Append the waiting rows to the side file (fast: no lock to wait for); returns it if any were saved."""
        if not self.waiting:
            return None
        path = side_file(self.store.path)
        # One write: a concurrent bench appending its own rows does not interleave. Python's JSON, not strict JSON:
        # the side file is read only by ``read_side_file``, and a row must come back as the store keeps it (an
        # infinite error stays infinite, where strict JSON's null would read back as NaN).
        append_text(path, "".join(json.dumps(row.to_dict()) + "\n" for row in self.waiting))
        self.waiting.clear()
        return path

    def close(self) -> None:
        self.store.close()


def read_side_file(path: str | os.PathLike) -> list[RunRow]:
    """The rows in a side file; ValueError naming the file and line if one is not a row."""
    rows = []
    with open(path, encoding="utf-8") as file:
        for number, line in enumerate(file, 1):
            try:
                rows.append(RunRow(**json.loads(line)))
            except (ValueError, TypeError):
                raise ValueError(
                    f"line {number} of {str(path)!r} is not a benchmark row; fix or delete that line"
                ) from None
    return rows


def side_rows(path: str | os.PathLike, stored: set[str]) -> list[RunRow]:
    """The rows in a side file, with the keys their runs have now (bench.run.keys), beside the ``stored`` keys."""
    return current_rows(read_side_file(path), taken=stored)


def import_side_file(store: ResultsStore) -> int:
    """Store the rows waiting in the store's side file and delete it; returns how many were new.

    The file is first renamed to a name of this process's own, so that rows
    another bench appends meanwhile go to a new side file and are not deleted
    unread. If the store refuses the rows, the file is put back. Rows an
    earlier arithnet wrote there get the keys their runs have now (``side_rows``).
    """
    path = side_file(store.path)
    claimed = path.with_name(f"{path.name}.{os.getpid()}")
    try:
        os.replace(path, claimed)
    except FileNotFoundError:
        return 0
    try:
        added = store.add(side_rows(claimed, store.keys()))
    except BaseException:
        _put_back(claimed, path)
        raise
    claimed.unlink()
    return added


def _put_back(claimed: Path, path: Path) -> None:
    """Return a claimed side file, appending to a side file written meanwhile."""
    if not path.exists():
        os.replace(claimed, path)
        return
    append_text(path, claimed.read_text(encoding="utf-8"))
    claimed.unlink()
