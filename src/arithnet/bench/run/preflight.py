"""What a bench does before it trains: every check first, then the store and report directory.

A bench that cannot finish is refused before any training and before it
creates anything (no store, no report directory, no -wal or -shm file): the
store must be writable and not held by another writer, the report directory
creatable. Only then is the store opened (created if new, upgraded if of an
older schema), the rows waiting in its side file imported, and the runs
already stored skipped.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from arithnet.bench.protocol import Run, RunRow
from arithnet.bench.run.runner import pending_runs
from arithnet.bench.run.store import ResultsStore
from arithnet.bench.run.store_files import check_writable
from arithnet.bench.run.writer import import_side_file, side_file, side_rows
from arithnet.files import check_directory_creatable, prepare_directory


@dataclass(frozen=True)
class Plan:
    """The runs left to train (``todo``), how many were stored already, and how many came from the side file."""

    todo: list[Run]
    done: int
    imported: int
    report_dir: Path


def prepare_bench(runs: list[Run], store_path: str | os.PathLike, report_dir: str | os.PathLike) -> Plan:
    """Check the store and report directory, then open them; ValueError with one line if they cannot serve.

    A store of an older schema is upgraded once every check has passed (``ResultsStore.migrate``).
    """
    check_writable(store_path)
    check_directory_creatable(report_dir, "report directory")
    with ResultsStore(store_path) as store:
        store.check_lock()
        store.check_rows()  # a damaged row is refused as the report refuses it, before any training
        store.migrate()
        imported = import_side_file(store)
        todo = pending_runs(runs, store)
    report_dir = prepare_directory(Path(report_dir), "report directory")
    return Plan(todo, len(runs) - len(todo), imported, report_dir)


def grid_rows(runs: list[Run], store_path: str | os.PathLike) -> list[RunRow]:
    """The rows of ``runs``, one per run: stored, or waiting in the side file if the store refused them."""
    by_key = {row.key: row for row in store_rows(store_path)}
    return [by_key[key] for key in (config.key(seed) for config, seed in runs) if key in by_key]


def store_rows(store_path: str | os.PathLike) -> list[RunRow]:
    """Every row of the store, and the rows waiting in its side file that the store does not hold."""
    with ResultsStore(store_path) as store:
        rows = store.rows()
    waiting = side_file(store_path)
    if waiting.exists():
        stored = {row.key for row in rows}
        rows += {row.key: row for row in side_rows(waiting, stored) if row.key not in stored}.values()
    return rows
