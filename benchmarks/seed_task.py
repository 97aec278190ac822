"""The seed post's ÷ task: seed-v2 (the post's procedure) against arithnet's default recipe.

Each measurement runs in a fresh process of its own, which reports its wall
time and peak resident memory, so that the two recipes are measured by the
same command on the same machine. seed-v2 is run as in the post: one seed
per run, one run after another. As a second baseline it is also run with all
its seeds in one multi-seed program, which separates what the multi-seed
trainer gives from what the recipe gives.

    .venv/bin/python benchmarks/seed_task.py                 # 5 seed-v2 runs, 100 default seeds
    .venv/bin/python benchmarks/seed_task.py --v2-seeds 2 --v2-steps 20000   # a quick look
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import torch


def worker(recipe: str, n_seeds: int, first_seed: int, steps: int | None) -> None:
    """Train in this process and print one JSON line with the outcome."""
    from arithnet import TrainConfig, train

    torch.set_num_threads(1)
    start = time.perf_counter()
    result = train(TrainConfig(operation="div", recipe=recipe, n_seeds=n_seeds, first_seed=first_seed, steps=steps))
    seconds = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"n_solved": result.n_solved, "n_seeds": n_seeds, "seconds": seconds, "peak_mb": peak_mb}))


def measure(args: list[str]) -> dict:
    """Run a command and return its wall time and peak memory (from wait4) with its JSON output if any."""
    start = time.perf_counter()
    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    stdout, stderr = process.communicate()
    wall = time.perf_counter() - start
    if process.returncode != 0:
        raise SystemExit(f"command failed ({process.returncode}): {' '.join(args)}\n{stderr}")
    lines = [line for line in stdout.splitlines() if line.startswith("{")]
    report = json.loads(lines[-1]) if lines else {}
    return {**report, "wall_s": wall, "process_peak_mb": usage.ru_maxrss / 1024}


def run_recipe(recipe: str, n_seeds: int, first_seed: int, steps: int | None) -> dict:
    args = [sys.executable, __file__, "--worker", recipe, str(n_seeds), str(first_seed), str(steps or 0)]
    return measure(args)


def per_solved(row: dict) -> float:
    return row["wall_s"] / row["n_solved"] if row["n_solved"] else float("inf")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--v2-seeds", type=int, default=5, help="seed-v2 runs, one seed each (the post ran 5)")
    parser.add_argument("--v2-steps", type=int, default=None, help="seed-v2 steps [default: the post's 200,000]")
    parser.add_argument("--default-seeds", type=int, default=100)
    parser.add_argument("--worker", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        recipe, n_seeds, first_seed, steps = args.worker
        worker(recipe, int(n_seeds), int(first_seed), int(steps) or None)
        return

    print_rows(measure_rows(args))


def measure_rows(args: argparse.Namespace) -> dict[str, dict]:
    """Each run of the comparison in its own process: the default recipe, seed-v2 alone and multi-seed, the CLI."""
    rows = {}
    print(f"default: {args.default_seeds} seeds in one process ...", flush=True)
    rows["default"] = run_recipe("default", args.default_seeds, 0, None)
    singles = []
    for seed in range(args.v2_seeds):
        print(f"seed-v2: seed {seed} alone, as in the post ...", flush=True)
        singles.append(run_recipe("seed-v2", 1, seed, args.v2_steps))
    rows["seed-v2 (one seed per run)"] = {
        "n_solved": sum(r["n_solved"] for r in singles),
        "n_seeds": args.v2_seeds,
        "wall_s": sum(r["wall_s"] for r in singles),
        "seconds": sum(r["seconds"] for r in singles),
        "process_peak_mb": max(r["process_peak_mb"] for r in singles),
    }
    print(f"seed-v2: {args.v2_seeds} seeds in one multi-seed process ...", flush=True)
    rows["seed-v2 (multi-seed)"] = run_recipe("seed-v2", args.v2_seeds, 0, args.v2_steps)
    out = Path("runs/bench-cli")
    print(f"arithnet train div --seeds {args.default_seeds} (the CLI, with figures) ...", flush=True)
    rows["CLI default"] = measure(
        [
            str(Path(sys.executable).with_name("arithnet")),
            "train",
            "div",
            "--seeds",
            str(args.default_seeds),
            "--json",
            "--out",
            str(out),
        ]
    )
    rows["CLI default"]["n_seeds"] = args.default_seeds
    return rows


def print_rows(rows: dict[str, dict]) -> None:
    """The table of the runs, and how seed-v2 compares with the default recipe per solved seed and in memory."""
    print()
    print("wall s: the whole process, start-up and imports included; train s: inside train()")
    print(f"{'run':32} {'solved':>9} {'wall s':>9} {'train s':>9} {'wall s / solved seed':>21} {'peak MB':>8}")
    for name, row in rows.items():
        train_s = f"{row['seconds']:9.2f}" if "seconds" in row else f"{'':9}"
        print(
            f"{name:32} {row['n_solved']:>4}/{row['n_seeds']:<4} {row['wall_s']:9.2f} {train_s} "
            f"{per_solved(row):21.4f} {row['process_peak_mb']:8.0f}"
        )
    base = per_solved(rows["default"])
    print()
    for name in ("seed-v2 (one seed per run)", "seed-v2 (multi-seed)"):
        if rows[name]["n_solved"] == 0:
            print(f"wall time per solved seed, {name} / default: no seed solved by {name}")
        else:
            print(f"wall time per solved seed, {name} / default: {per_solved(rows[name]) / base:,.0f}x")
    peak_ratio = rows["seed-v2 (one seed per run)"]["process_peak_mb"] / rows["default"]["process_peak_mb"]
    print(f"peak memory, seed-v2 (one seed per run) / default: {peak_ratio:.2f}x")


if __name__ == "__main__":
    main()
