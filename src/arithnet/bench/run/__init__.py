"""The run room: running a grid's runs and keeping their rows.

It owns the documented limits and the memory estimate (``limits``), every
check before a bench creates anything (``preflight``), the groups and the
worker processes that train them (``runner``, ``workers``) or the Ray tasks
(``cluster``), the SQLite results store (``store``), the keys its rows have
(``keys``: those an earlier arithnet stored get their runs' keys now) and the
one writer of the store with its side file (``writer``).

It may import ``bench.protocol`` and the library below the bench, never
``bench.report`` or ``bench.grid``. Its names are imported on first use: a
worker process imports ``workers`` before it loads torch.
"""

from __future__ import annotations

from arithnet.lazy import lazy_exports

_EXPORTS = {
    **dict.fromkeys(
        ("GridStopped", "WorkerFailed", "make_groups", "pending_runs", "run_grid"), "arithnet.bench.run.runner"
    ),
    **dict.fromkeys(("check_ray", "run_grid_ray"), "arithnet.bench.run.cluster"),
    **dict.fromkeys(("Plan", "grid_rows", "prepare_bench", "store_rows"), "arithnet.bench.run.preflight"),
    **dict.fromkeys(
        ("READABLE_SCHEMAS", "SCHEMA_VERSION", "DamagedRow", "ResultsStore", "StoreRefused"), "arithnet.bench.run.store"
    ),
    "check_writable": "arithnet.bench.run.store_files",
    **dict.fromkeys(("current_keys", "current_rows", "v1_keys"), "arithnet.bench.run.keys"),
    **dict.fromkeys(("StoreWriter", "import_side_file", "read_side_file", "side_file"), "arithnet.bench.run.writer"),
    **dict.fromkeys(("MAX_RUNS", "MAX_SEEDS", "MAX_STEPS", "worker_count"), "arithnet.bench.run.limits"),
}

__all__ = sorted(_EXPORTS)
__getattr__ = lazy_exports(__name__, _EXPORTS)
