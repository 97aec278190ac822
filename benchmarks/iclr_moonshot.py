"""arithnet's configuration on the ICLR 100-input task: ÷ and × of two sums, 100 seeds, the field's protocol.

The configuration (docs/moonshot.md): the unit RatioNet, y = (u·x)·(v·x)^p,
trained with the projected loss (u solved by least squares every step, v
and p by Adam, lr 0.01 with a cosine decay), 10,000 steps of batch 128;
everything else is the bench's ICLR protocol (--task iclr --input-size 100
--ranges iclr: train U[1, 2], test U[2, 6], validation and test MSE on
10,000 fixed samples every 1,000 steps, success at the best validation
step). Rows go to a results store, one per run, keyed as `arithnet bench`
keys them, so a rerun skips what is stored. The same runs as one bench command:

    arithnet bench --units RatioNet --ops div,mul --task iclr --input-size 100 --ranges iclr \\
        --seeds 100 --steps 10000 --loss projected --lr-schedule cosine --jobs 1 --store runs/moonshot.sqlite

It prints, per operation, the success rate under the ICLR ε-perfect criterion
and the exact-formula rate with 95% Wilson intervals, the median solved-at
step and the seconds per run. For example:

    .venv/bin/python benchmarks/iclr_moonshot.py                          # 100 seeds, ÷ and ×
    .venv/bin/python benchmarks/iclr_moonshot.py --seeds 20 --option snap_tolerance=0   # an ablation

This script builds the same grid through the library (bench_grid,
run_grid: worker processes, stored runs skipped) and prints the figures.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from arithnet.bench import bench_grid
from arithnet.bench.report import solved_at_summary, wilson_interval
from arithnet.bench.run import ResultsStore, pending_runs, run_grid


def run(args: argparse.Namespace) -> dict[str, list]:
    """The grid through the library's own path (bench_grid, run_grid): stored runs are skipped; rows by operation."""
    grid = bench_grid(
        units=args.unit, ops=args.ops, task="iclr", input_size=100, ranges="iclr", seeds=args.seeds,
        steps=args.steps, loss=args.loss, lr=args.lr, lr_schedule=args.lr_schedule, unit_options=args.option,
    )  # fmt: skip
    runs = grid.runs()
    with ResultsStore(args.store) as store:
        todo = pending_runs(runs, store)
    run_grid(todo, args.store, args.jobs)
    keys = {config.key(seed) for config, seed in runs}
    with ResultsStore(args.store) as store:
        rows = [row for row in store.rows() if row.key in keys]
    return {operation: [row for row in rows if row.operation == operation] for operation in grid.operations}


def summary(operation: str, rows: list) -> str:
    """One line: ICLR success and exact formulas with Wilson intervals, median solved-at, seconds per run."""
    n = len(rows)
    parts = [f"{operation}: {n} runs"]
    for label, count in (
        ("ICLR ε-perfect", sum(r.solved_iclr for r in rows)),
        ("exact formula", sum(r.formula_exact for r in rows)),
    ):
        rate, low, high = wilson_interval(count, n)
        parts.append(f"{label} {100 * rate:.0f}% [{100 * low:.1f}, {100 * high:.1f}]")
    solved_at = [r.solved_at_iclr for r in rows if r.solved_iclr and r.solved_at_iclr is not None]
    median = solved_at_summary(solved_at)["median"] if solved_at else float("nan")
    parts.append(f"median solved at {median:,.0f}")
    parts.append(f"{np.mean([r.seconds for r in rows]):.1f} s per run")
    return "; ".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--ops", default="div,mul")
    parser.add_argument("--seeds", type=int, default=100)
    parser.add_argument("--steps", type=int, default=10_000)
    parser.add_argument("--unit", default="RatioNet")
    parser.add_argument("--loss", default="projected")
    parser.add_argument("--lr", type=float, default=None)
    parser.add_argument("--lr-schedule", default="cosine")
    parser.add_argument("--option", action="append", default=[], help="unit option NAME=VALUE")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--store", type=Path, default=Path("runs/moonshot.sqlite"))
    args = parser.parse_args()
    args.store.parent.mkdir(parents=True, exist_ok=True)
    lines = [summary(operation, rows) for operation, rows in run(args).items()]
    print("\n".join(lines))


if __name__ == "__main__":
    main()
