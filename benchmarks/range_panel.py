"""Every operation on every range: the default recipe over the public panel, and each range choice switched off.

For each operation and range, 100 seeds (900–999, as in the issue that asked
for it) are trained with ``arithnet train``'s default recipe; a cell is the
number solved (median relative error below 1e-6 on every test set, and the
exact formula). With ``--ablation`` the same panel is run with one choice
switched off at a time, and each variant prints its total and the ranges it
loses seeds on.

    .venv/bin/python benchmarks/range_panel.py [--seeds 100] [--ablation]
"""

from __future__ import annotations

import argparse
import dataclasses
import time

import torch

from arithnet import Range, TrainConfig, train
from arithnet.bench.protocol import PRIMER_RANGES
from arithnet.training.recipes.default import SETTINGS

#: The Primer's nine training ranges, then the issue's wide, far and mixed-sign ones.
PANEL = [
    *(Range(p.train.low, p.train.high) for p in PRIMER_RANGES.values()),
    Range(1, 1000),
    Range(1e-3, 0.1),
    Range(1e-3, 1e3),
    Range(1e3, 1e6),
    Range(1e-6, 1e-3),
    Range(-3, 4),
]
OPERATIONS = ("add", "sub", "mul", "div")
VARIANTS = {
    "no input scaling (and so no log power)": {"scale_inputs": False},
    "÷: no log power": {"log_power": False},
    "no snap-and-verify readout": {"snap_readout": False},
    "÷: LogExp ε = 1e-7 (the field's)": {"eps": 1e-7},
    "÷: W_out from 0 (the post's trick)": {"init_out": (0.0, 0.0)},
}


SECONDS: dict[str, float] = {}  # the longest ``train`` per operation, training, readout and evaluation


def solved(operation: str, train_range: Range, n_seeds: int, changes: dict) -> int | None:
    """Seeds solved of ``n_seeds``; None where the recipe refuses the range (÷ over zero)."""
    settings = dataclasses.replace(SETTINGS[operation], **changes)
    config = TrainConfig(operation, n_seeds=n_seeds, first_seed=900, train_range=train_range, settings=settings)
    try:
        result = train(config)
    except ValueError:
        return None
    SECONDS[operation] = max(SECONDS.get(operation, 0.0), result.seconds)
    return result.n_solved


def panel(n_seeds: int, changes: dict) -> dict[str, list[int | None]]:
    return {op: [solved(op, r, n_seeds, changes) for r in PANEL] for op in OPERATIONS}


def print_table(table: dict[str, list[int | None]], n_seeds: int) -> None:
    print(f"solved of {n_seeds} seeds (900–{899 + n_seeds}); the last column: the slowest range's seconds in train()")
    print("| operation | " + " | ".join(str(r) for r in PANEL) + " | max s |")
    print("|---" * (len(PANEL) + 2) + "|")
    for op, cells in table.items():
        row = " | ".join("refused" if c is None else str(c) for c in cells)
        print(f"| {op} | {row} | {SECONDS[op]:.2f} |")


def print_ablation(n_seeds: int) -> None:
    print("\n| switched off | solved | ranges that lose seeds (operation: solved) |")
    print("|---|---|---|")
    for label, changes in VARIANTS.items():
        table = panel(n_seeds, changes)
        cells = [(op, r, c) for op, row in table.items() for r, c in zip(PANEL, row) if c is not None]
        lost = ", ".join(f"{op} {r}: {c}" for op, r, c in cells if c < n_seeds) or "none"
        print(f"| {label} | {sum(c for *_, c in cells)} of {n_seeds * len(cells)} | {lost} |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=100)
    parser.add_argument("--ablation", action="store_true", help="also switch each range choice off in turn")
    args = parser.parse_args()
    torch.set_num_threads(1)
    start = time.perf_counter()
    print_table(panel(args.seeds, {}), args.seeds)
    print(f"\n({time.perf_counter() - start:.0f} s for the panel, one process)")
    if args.ablation:
        print_ablation(args.seeds)


if __name__ == "__main__":
    main()
