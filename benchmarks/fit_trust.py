"""Verdicts that never overclaim: arithnet on laws it cannot write, clean and at 1% noise, over three seeds.

Every law of ``outside.py`` (powers off the lattice, exp, log, sin, sums of two ratios over different
denominators) is fitted by ``fit_equations.run_law`` with arithnet alone, at noise 0 and 0.01 and seeds 0, 1 and 2:
the same rows, noise and scoring as the law benchmark. The figure is the number of ``exact`` and ``noise``
verdicts, whose target is 0, and beside it the number of those whose law is right outside the data (a law of the
class that matches one outside it everywhere would deserve its verdict). ``ambiguous`` and ``not verified`` are the
honest answers. Runs in parallel worker processes; the long table goes to ``--out``. For example:

    .venv/bin/python benchmarks/fit_trust.py
    .venv/bin/python benchmarks/fit_trust.py --seeds 0 --noise 0.01 --laws O.exp1,O.log1
"""

from __future__ import annotations

import argparse
import os
import sys
from collections import Counter
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import replace
from pathlib import Path

from rich.console import Console
from rich.table import Table as RichTable

from fit_equations import BY_ID, COLUMNS, Settings, init_worker, run_law, select, write_csv

console = Console(width=None if sys.stdout.isatty() else 140)
VERDICTS = ("exact", "noise", "ambiguous", "not verified")


def run_all(law_ids: list[str], seeds: list[int], noises: list[float], workers: int) -> list[dict]:
    """Every (law, seed, noise) with arithnet, in worker processes; a line per fit as it finishes."""
    import multiprocessing

    for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[variable] = "1"
    base = Settings(("arithnet",), 1000, 0.0, 0, (1000, 40))
    jobs = [(law_id, replace(base, noise=noise, seed=seed)) for noise in noises for seed in seeds for law_id in law_ids]
    context = multiprocessing.get_context("spawn")
    rows: list[dict] = []
    with ProcessPoolExecutor(workers, mp_context=context, initializer=init_worker, initargs=(("arithnet",),)) as pool:
        for future in as_completed([pool.submit(run_law, law_id, settings) for law_id, settings in jobs]):
            for row in future.result():
                rows.append(row)
                line = f"{row['law']:10} noise {row['noise']:<5g} seed {row['seed']} {row['verification']:13}"
                print(f"{line} outside {row['error_outside']:.1e} {row['seconds']:6.1f} s  {row['law_text'][:70]}")
    return sorted(rows, key=lambda row: (row["noise"], row["law"], row["seed"]))


def overclaims(rows: list[dict]) -> tuple[int, int]:
    """(exact or noise verdicts, of which the law is right outside the data)."""
    claimed = [row for row in rows if row["verification"] in ("exact", "noise")]
    return len(claimed), sum(row["score"] == "exact" or row["structure_right"] is True for row in claimed)


def summary(rows: list[dict]) -> RichTable:
    title = "Laws outside the class: verdicts (target: no exact or noise verdict)"
    table = RichTable(title=title, title_justify="left")
    for name in ("family", "noise", "fits", *VERDICTS, "exact or noise", "of which right outside"):
        table.add_column(name, justify="left" if name == "family" else "right")
    for noise in sorted({row["noise"] for row in rows}):
        families = list(dict.fromkeys(row["kind"] for row in rows))
        for family in [*families, "all"]:
            part = [row for row in rows if row["noise"] == noise and family in ("all", row["kind"])]
            counts = Counter(row["verification"] for row in part)
            claimed, right = overclaims(part)
            verdicts = [str(counts[v]) for v in VERDICTS]
            table.add_row(family, f"{noise:g}", str(len(part)), *verdicts, str(claimed), str(right))
    return table


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--laws", default="outside", help="outside, or ids such as O.exp1,O.log1")
    parser.add_argument("--seeds", default="0,1,2", help="comma-separated seeds")
    parser.add_argument("--noise", default="0,0.01", help="comma-separated noise levels")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/fit_trust.csv"))
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    law_ids = [law.id for law in select(args.laws)]
    seeds = [int(part) for part in args.seeds.split(",")]
    noises = [float(part) for part in args.noise.split(",")]
    console.print(f"{len(law_ids)} laws × seeds {seeds} × noise {noises}, {args.workers} workers", highlight=False)
    rows = run_all(law_ids, seeds, noises, max(1, args.workers))
    write_csv(rows, args.out, COLUMNS)
    console.print(summary(rows))
    console.print(f"table: {args.out}", highlight=False)
    assert all(law_id in BY_ID for law_id in law_ids)


if __name__ == "__main__":
    main()
