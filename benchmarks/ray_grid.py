"""One grid trained twice: by local worker processes (bench.run.runner) and as Ray tasks (bench.run.cluster).

Both train the same 225 runs (NAU on addition, the Primer's 9 ranges, 25
seeds) with the same number of CPUs, each into a fresh results store, and
the script reports both wall times, their ratio, and whether the stored rows
are equal (every field but the seconds a run took). The Ray time is that of
the command: it includes starting and stopping the local Ray instance, which
is also reported on its own.

    .venv/bin/python benchmarks/ray_grid.py [--steps 5000] [--seeds 25] [--jobs 2]
"""

from __future__ import annotations

import argparse
import dataclasses
import tempfile
import time
from pathlib import Path

import torch

from arithnet.bench import bench_grid
from arithnet.bench.run import ResultsStore, limits, run_grid, run_grid_ray
from arithnet.bench.run.cluster import import_ray, joined

#: Ray within this factor of the local workers' wall time is the target (issue 10).
TARGET_RATIO = 1.2


def stored_fields(path: Path) -> list[dict]:
    """Every stored row's fields but ``seconds``, which depends on the machine's load."""
    with ResultsStore(path) as store:
        return [{k: v for k, v in dataclasses.asdict(r).items() if k != "seconds"} for r in store.rows()]


def timed(call) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def ray_start_stop(jobs: int) -> float:
    """Seconds to start and stop a local Ray instance, with nothing trained."""
    ray = import_ray()
    start = time.perf_counter()
    with joined(ray, "local", jobs):
        pass
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=5000)
    parser.add_argument("--seeds", type=int, default=25)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(1)
    runs = bench_grid(units="NAU", ops="add", ranges="primer", seeds=args.seeds, steps=args.steps).runs()
    jobs = limits.worker_count(args.jobs)
    print(f"{len(runs)} runs (NAU on add, Primer ranges, {args.steps} steps), {jobs} CPUs")
    with tempfile.TemporaryDirectory(prefix="arithnet-ray-grid-") as directory:
        local, on_ray = Path(directory, "local.sqlite"), Path(directory, "ray.sqlite")
        local_seconds = timed(lambda: run_grid(runs, local, jobs))
        ray_seconds = timed(lambda: run_grid_ray(runs, on_ray, jobs, address="local"))
        equal = stored_fields(local) == stored_fields(on_ray)
        n_rows = len(stored_fields(on_ray))
    overhead = ray_start_stop(jobs)
    ratio = ray_seconds / local_seconds
    print(f"local workers: {local_seconds:8.1f} s")
    print(f"Ray tasks:     {ray_seconds:8.1f} s  (of which starting and stopping Ray: {overhead:.1f} s)")
    verdict = "met" if ratio <= TARGET_RATIO else "missed"
    print(f"ratio Ray / local: {ratio:.2f} (target ≤ {TARGET_RATIO}: {verdict})")
    print(f"rows equal but for seconds: {equal} ({n_rows} rows each)")


if __name__ == "__main__":
    main()
