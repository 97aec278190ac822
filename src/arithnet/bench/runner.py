"""Running a benchmark grid: plan the runs, skip finished ones, train groups in processes.

A grid is every (unit × operation × range × seed) combination. Runs whose
rows are already in the results store are skipped, so running the same
command again resumes it. The other runs are put into groups that share one
tensor program (same configuration but for range and seed), split so that
every process has work, and trained by ``jobs`` worker processes, one torch
thread each. A worker appends a group's rows to the store as soon as the
group is done: a run killed midway loses only unfinished groups.
"""

from __future__ import annotations

import math
import multiprocessing
from collections import defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from pathlib import Path

from arithnet.bench.grid import Grid, Run  # noqa: F401  (Grid lives in grid.py, re-exported here)
from arithnet.bench.protocol import BenchConfig, run_group
from arithnet.bench.store import ResultsStore
from arithnet.bench.thresholds import threshold

#: Runs trained together in one process at most: beyond this the tensors
#: leave the cache and a step gets slower than two half-size groups.
MAX_GROUP = 256


def run_threshold(criterion: str, config: BenchConfig) -> float:
    return threshold(criterion, config.operation, config.range_name, config.input_size, config.task)


def pending_runs(runs: Sequence[Run], store: ResultsStore) -> list[Run]:
    done = store.keys()
    return [(config, seed) for config, seed in runs if config.key(seed) not in done]


def make_groups(runs: Sequence[Run], jobs: int) -> list[list[Run]]:
    """Runs that can share a tensor program, in groups of at most MAX_GROUP, at least ``jobs`` in all."""
    by_key: dict[tuple, list[Run]] = defaultdict(list)
    for config, seed in runs:
        by_key[config.group_key()].append((config, seed))
    n_groups = max(jobs, sum(math.ceil(len(g) / MAX_GROUP) for g in by_key.values()))
    groups = []
    for members in by_key.values():
        share = max(1, round(n_groups * len(members) / len(runs)))
        size = max(1, min(MAX_GROUP, math.ceil(len(members) / share)))
        groups.extend(members[i : i + size] for i in range(0, len(members), size))
    return sorted(groups, key=lambda g: -len(g) * g[0][0].steps)


# -- worker processes -------------------------------------------------------------------
_progress = None


def _init_worker(counter) -> None:
    global _progress
    import torch

    torch.set_num_threads(1)
    _progress = counter


def _work(group: list[Run], store_path: str) -> int:
    last = 0

    def report(step: int) -> None:
        nonlocal last
        with _progress.get_lock():
            _progress.value += (step - last) * len(group)
        last = step

    rows = run_group([c for c, _ in group], [s for _, s in group], run_threshold, report)
    with ResultsStore(store_path) as store:
        store.add(rows)
    return len(rows)


def run_grid(
    runs: Sequence[Run],
    store_path: Path,
    jobs: int = 2,
    on_progress: Callable[[float, int], None] | None = None,
) -> int:
    """Train ``runs`` in ``jobs`` processes, appending rows to the store; returns rows added.

    ``on_progress(runs_done, runs_total)`` is called about once a second, with
    fractional progress inside running groups.
    """
    if not runs:
        return 0
    groups = make_groups(runs, jobs)
    total_steps = sum(len(g) * g[0][0].steps for g in groups)
    context = multiprocessing.get_context("spawn")
    counter = context.Value("d", 0.0)
    added = 0
    with ProcessPoolExecutor(jobs, mp_context=context, initializer=_init_worker, initargs=(counter,)) as pool:
        futures = {pool.submit(_work, group, str(store_path)) for group in groups}
        while futures:
            finished, futures = wait(futures, timeout=1.0, return_when=FIRST_COMPLETED)
            for future in finished:
                added += future.result()
            if on_progress is not None:
                on_progress(len(runs) * counter.value / total_steps, len(runs))
    return added
