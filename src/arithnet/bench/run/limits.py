"""How big a benchmark may be: documented upper limits and a memory estimate.

Every limit is checked before anything is built, written or trained, so a
command that cannot run is refused at once with one line instead of failing
minutes later with an allocation error (docs/cli.md, "Limits").
"""

from __future__ import annotations

import math
import os

from arithnet.checks import check_at_most  # also grid.py's: one message for every limit

#: Seeds per (unit, operation, range) in one command.
MAX_SEEDS = 10_000
#: Runs in one command (units × operations × ranges × seeds): planning costs about
#: 30 µs per run, and a report over more is unreadable anyway.
MAX_RUNS = 100_000
#: Training steps of a run: 200 times the Primer's 50,000.
MAX_STEPS = 10_000_000
#: Inputs per sample. The field's largest task has 100 (ICLR); from about 250
#: inputs the formula reader exceeds Python's recursion limit after training.
MAX_INPUT_SIZE = 128
#: Seed numbers are below this (arithnet.random hashes them as 32-bit numbers).
SEED_LIMIT = 2**32
#: Share of the machine's physical memory that all workers together may plan to use.
MEMORY_SHARE = 0.8
#: Measured peak memory of a group is about 2.2 times the inputs of its data sets (float64 while
#: sampling, then the unit's dtype, then intermediates of the evaluation); 3 leaves a margin.
MEMORY_FACTOR = 3
_SAMPLE_BYTES = 8  # inputs are sampled in float64 whatever the unit's dtype
_CHUNK_STEPS = 8  # training steps drawn at once (bench.protocol.data._CHUNK)


def check_grid_size(n_units: int, n_operations: int, n_ranges: int, seeds: int) -> None:
    """Refuse a grid with too many seeds or runs, from its sizes alone (nothing is built)."""
    check_at_most("the number of seeds", seeds, MAX_SEEDS)
    total = n_units * n_operations * n_ranges * seeds
    check_at_most("the number of runs", total, MAX_RUNS, " (units × operations × ranges × seeds); split the grid")


def physical_memory() -> int | None:
    """Bytes of physical memory, or None where the system does not say."""
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def group_bytes(config, n_runs: int) -> int:
    """Estimated peak memory of a group of ``n_runs`` runs of ``config`` (a BenchConfig).

    The fixed validation and test sets and a chunk of training batches, per
    run, plus two runs' worth for the draws that all runs of a group share.
    """
    samples = config.n_valid + config.n_test + _CHUNK_STEPS * config.batch_size
    return (n_runs + 2) * samples * config.input_size * _SAMPLE_BYTES * MEMORY_FACTOR


def memory_budget() -> float:
    """Bytes that all workers together may use: a share of physical memory (unbounded if unknown)."""
    total = physical_memory()
    return math.inf if total is None else MEMORY_SHARE * total


def check_memory(config) -> None:
    """Refuse a configuration of which not even one run fits this machine's memory."""
    need, budget = group_bytes(config, 1), memory_budget()
    if need > budget:
        raise ValueError(
            f"one run with input size {config.input_size} needs about {need / 2**30:.1f} GB, "
            f"more than this machine can give ({budget / 2**30:.1f} GB); use a smaller input size"
        )


def runs_that_fit(config, workers: int) -> int:
    """The most runs of ``config`` in one group such that ``workers`` such groups fit in memory (at least 1)."""
    share = memory_budget() / workers
    if group_bytes(config, 1) >= share:
        return 1
    if math.isinf(share):
        return 2**31
    per_run = group_bytes(config, 2) - group_bytes(config, 1)
    return max(1, int((share - group_bytes(config, 0)) // per_run))


def cpu_count() -> int:
    """CPUs this process may run on (its affinity mask where the system has one)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def worker_count(jobs: int, n_groups: int | None = None) -> int:
    """``jobs`` capped at the CPUs this process may use and, if given, at the number of groups."""
    capped = min(jobs, cpu_count())
    return capped if n_groups is None else max(1, min(capped, n_groups))
