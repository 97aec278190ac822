"""Running a benchmark grid: plan the runs, skip finished ones, train groups in worker processes.

A grid is every (unit × operation × range × seed) combination. Runs whose
rows are already in the results store are skipped, so running the same
command again resumes it. The other runs are put into groups that share one
tensor program (same configuration but for range and seed), split so that
every worker has work and a group fits in memory, and trained by worker
processes (bench.run.workers), one torch thread each. The main process alone
writes the store, each group's rows as soon as they arrive (bench.run.writer):
a bench stopped midway loses only unfinished groups.

SIGINT or SIGTERM stops a grid in order: no new group starts, workers are
told to stop (those reading formulas after their last step first send their
rows), every finished row is stored or put in the side file, and
``GridStopped`` is raised. A second signal kills the workers at once.
"""

from __future__ import annotations

import math
import signal
import threading
from collections import defaultdict, deque
from collections.abc import Callable, Sequence
from pathlib import Path

from arithnet.bench.protocol import Run
from arithnet.bench.run import limits
from arithnet.bench.run.store import ResultsStore
from arithnet.bench.run.workers import Worker, kill_workers, receive, start_workers, stop_workers
from arithnet.bench.run.writer import StoreWriter
from arithnet.engine.compiler import prepare_cache

#: Runs trained together in one process at most: beyond this the tensors
#: leave the cache and a step gets slower than two half-size groups.
MAX_GROUP = 256
#: Seconds stopped workers get to send the rows of groups past their last step, before they are killed.
STOP_GRACE = 5.0
#: Seconds other stopped workers get to exit by themselves before they are killed (nothing is lost).
STOP_QUICK = 1.0
#: Seconds a stopped bench keeps retrying a busy store before it writes the side file.
STOP_FINISH_TIMEOUT = 2.0
#: Seconds between looks at the workers, the store and the stop flag in the main loop.
TICK = 0.25


class GridStopped(KeyboardInterrupt):
    """A grid stopped by SIGINT or SIGTERM (``signum``); every finished run is kept.

    ``added`` rows were stored by the stopped call; ``side_file`` is the file
    that holds rows the store refused, or None.
    """

    def __init__(self, signum: int, added: int = 0, side_file: Path | None = None) -> None:
        super().__init__(signum)
        self.signum, self.added, self.side_file = signum, added, side_file


class WorkerFailed(RuntimeError):
    """A worker raised an error or died while training a group."""


def pending_runs(runs: Sequence[Run], store: ResultsStore) -> list[Run]:
    """The runs whose keys ``store`` does not hold (an older store's rows count under their runs' keys)."""
    done = store.keys()
    return [(config, seed) for config, seed in runs if config.key(seed) not in done]


def make_groups(runs: Sequence[Run], jobs: int, max_group: int = MAX_GROUP) -> list[list[Run]]:
    """Runs that can share a tensor program, in groups of at most ``max_group``, at least ``jobs`` in all."""
    by_key: dict[tuple, list[Run]] = defaultdict(list)
    for config, seed in runs:
        by_key[config.group_key()].append((config, seed))
    n_groups = max(jobs, sum(math.ceil(len(g) / max_group) for g in by_key.values()))
    groups = []
    for members in by_key.values():
        share = max(1, round(n_groups * len(members) / len(runs)))
        size = max(1, min(max_group, math.ceil(len(members) / share)))
        groups.extend(members[i : i + size] for i in range(0, len(members), size))
    return sorted(groups, key=lambda g: -len(g) * g[0][0].steps)


def fit_to_memory(runs: Sequence[Run], jobs: int) -> tuple[int, int]:
    """(workers, largest group) such that every worker's group fits in memory together (bench.run.limits)."""
    configs = {id(config): config for config, _ in runs}.values()
    heaviest = max(configs, key=lambda config: limits.group_bytes(config, 1))
    budget = limits.memory_budget()
    if math.isfinite(budget):
        jobs = max(1, min(jobs, int(budget // limits.group_bytes(heaviest, 1))))
    return jobs, min(MAX_GROUP, limits.runs_that_fit(heaviest, jobs))


def prepare_compiling(runs: Sequence[Run]) -> None:
    """The compile cache chosen here, before any worker starts: workers inherit it, and its notice comes once."""
    if any(config.compile for config, _ in runs):
        prepare_cache()


def run_grid(
    runs: Sequence[Run],
    store_path: Path,
    jobs: int = 2,
    on_progress: Callable[[float, int], None] | None = None,
) -> int:
    """Train ``runs`` in up to ``jobs`` processes, storing each group's rows as it ends; returns rows added.

    ``jobs`` is capped at the machine's CPUs, the number of groups and what
    fits in memory (bench.run.limits). ``on_progress(runs_done, runs_total)`` is
    called a few times a second, with fractional progress inside running
    groups. Rows the store refuses until the end wait in its side file
    (bench.run.writer.side_file). SIGINT or SIGTERM raises ``GridStopped`` once
    the finished runs are kept (see the module's docstring).
    """
    if not runs:
        return 0
    prepare_compiling(runs)
    jobs, max_group = fit_to_memory(runs, limits.worker_count(jobs))
    groups = make_groups(runs, jobs, max_group)
    n_workers = limits.worker_count(jobs, len(groups))
    return train_and_store(
        store_path, lambda writer, signals: _run_groups(groups, n_workers, writer, signals, on_progress, len(runs))
    )


def train_and_store(store_path: Path, train: Callable[[StoreWriter, StopSignals], None]) -> int:
    """Call ``train(writer, signals)`` under a grid's stop rules; returns the rows the writer stored.

    ``train`` hands each finished group's rows to ``writer`` and returns when
    all groups are done or ``signals.pending()`` turns true. Shared by the
    local workers and the Ray cluster (bench.run.cluster), so both stop alike.
    """
    writer, signals = StoreWriter(store_path), StopSignals()
    try:
        with signals:
            train(writer, signals)
            side_file = writer.finish(STOP_FINISH_TIMEOUT if signals.received else None, stop=signals.pending)
    except GridStopped as stop:  # a second signal: no more waiting for the store
        raise GridStopped(stop.signum, writer.added, writer.save_waiting()) from None
    except BaseException:
        writer.save_waiting()
        raise
    finally:
        writer.close()
    if signals.received is not None:
        raise GridStopped(signals.received, writer.added, side_file)
    return writer.added


class StopSignals:
    """SIGINT and SIGTERM while a grid runs: the first asks for an orderly stop, the next stops at once.

    Handlers can only be set in the main thread; elsewhere the caller's stay.
    """

    def __init__(self) -> None:
        self.received: int | None = None
        self.on_second: Callable[[], None] | None = None
        self._previous: dict[int, object] = {}

    def pending(self) -> bool:
        return self.received is not None

    def __enter__(self) -> StopSignals:
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGINT, signal.SIGTERM):
                self._previous[signum] = signal.getsignal(signum)
                signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc_info) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler if handler is not None else signal.SIG_DFL)

    def _handle(self, signum: int, frame) -> None:
        if self.received is None:
            self.received = signum
            return
        if self.on_second is not None:
            self.on_second()
        raise GridStopped(signum)


def _run_groups(groups, n_workers, writer: StoreWriter, signals: StopSignals, on_progress, n_runs: int) -> None:
    """Start the workers, hand out groups until all are done or a stop is asked for, then stop the workers."""
    workers = start_workers(n_workers)
    signals.on_second = lambda: kill_workers(workers)
    try:
        _dispatch(groups, workers, writer, signals, _Progress(groups, n_runs, on_progress))
    finally:
        for _, message in stop_workers(workers, STOP_GRACE, STOP_QUICK):
            if message[0] == "rows":  # a group past its last step when the stop came
                writer.add(message[1])


def _dispatch(groups: list[list[Run]], workers: list[Worker], writer, signals: StopSignals, progress) -> None:
    queued = deque(range(len(groups)))
    for worker in workers:
        _assign(worker, groups, queued)
    while not signals.pending() and any(w.group is not None for w in workers):
        for worker, (kind, value) in receive(workers, TICK):
            if kind == "progress":
                worker.steps = value
                worker.finishing = value >= groups[worker.group][0][0].steps
            elif kind == "rows":
                writer.add(value)
                progress.finished(groups[worker.group])
                _assign(worker, groups, queued)
            elif worker.group is not None or queued:
                raise WorkerFailed(_failure(worker, groups, kind, value))
        writer.flush()
        progress.report(workers, groups)


def _assign(worker: Worker, groups: list[list[Run]], queued: deque) -> None:
    worker.group, worker.steps, worker.finishing = (queued.popleft() if queued else None), 0, False
    if worker.group is not None:
        worker.send(groups[worker.group])


def _failure(worker: Worker, groups: list[list[Run]], kind: str, value) -> str:
    group = groups[worker.group] if worker.group is not None else None
    what = f"a group of {len(group)} runs of {group[0][0].unit} on {group[0][0].operation}" if group else "no group"
    if kind == "error":
        return f"a worker failed training {what}:\n{value}"
    hint = " (killed: out of memory?)" if value == -signal.SIGKILL else ""
    return f"worker process {worker.process.pid} exited with code {value}{hint} while training {what}"


class _Progress:
    """Runs done, counting the steps of running groups as fractions of runs."""

    def __init__(self, groups: list[list[Run]], n_runs: int, callback) -> None:
        self.total = sum(len(g) * g[0][0].steps for g in groups)
        self.n_runs, self.callback, self.done = n_runs, callback, 0

    def finished(self, group: list[Run]) -> None:
        self.done += len(group) * group[0][0].steps

    def report(self, workers: list[Worker], groups: list[list[Run]]) -> None:
        if self.callback is None:
            return
        running = sum(len(groups[w.group]) * w.steps for w in workers if w.group is not None)
        self.callback(self.n_runs * (self.done + running) / self.total, self.n_runs)
