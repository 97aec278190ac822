"""Why the default recipe is what it is: each choice switched off, one at a time.

For each operation this trains the default recipe and variants of it, each on
the same seeds on the default range [0.1, 10], and prints how many seeds are
solved and the time of ``train`` (training, readout and evaluation). Every
variant changes one setting of ``DefaultSettings``; benchmarks/range_panel.py
does the same over many ranges.

    .venv/bin/python benchmarks/recipe_ablation.py --seeds 500
    .venv/bin/python benchmarks/recipe_ablation.py --ops div --seeds 100
"""

from __future__ import annotations

import argparse
import dataclasses

import torch

from arithnet import TrainConfig, train
from arithnet.training.recipes.default import SETTINGS

VARIANTS = {
    "div": {
        "default": {},
        "one start": {"n_starts": 1},
        "uniform sampling": {"log_uniform": False},
        "relative-MSE loss": {"log_space_loss": False},
        "W_in unconstrained": {"nonnegative_in": False},
        "init W_in U[0,1]": {"init_in": (0.0, 1.0)},
        "lr 0.05": {"lr": 0.05},
        "400 steps": {"steps": 400},
        "batch 16": {"batch_size": 16},
    },
    "mul": {
        "default": {},
        "one start": {"n_starts": 1},
        "8 starts": {"n_starts": 8},
        "lr 0.2": {"lr": 0.2},
        "600 steps": {"steps": 600},
        "log-uniform sampling": {"log_uniform": True},
    },
    "add": {"default": {}, "one start": {"n_starts": 1}, "300 steps": {"steps": 300}},
    "sub": {"default": {}, "one start": {"n_starts": 1}, "300 steps": {"steps": 300}},
}


def run(op_name: str, changes: dict, n_seeds: int) -> tuple[int, float]:
    """Seeds solved, and seconds of training and evaluation, for one variant on the default range."""
    settings = dataclasses.replace(SETTINGS[op_name], **changes)
    solved, seconds = 0, 0.0
    for first in range(0, n_seeds, 100):
        config = TrainConfig(op_name, n_seeds=min(100, n_seeds - first), first_seed=first, settings=settings)
        result = train(config)
        solved, seconds = solved + result.n_solved, seconds + result.seconds
    return solved, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=500, help="seeds per variant, trained 100 at a time")
    parser.add_argument("--ops", default="div,mul,add,sub")
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(f"| operation | variant | solved of {args.seeds} | train s per 100 seeds |")
    print("|---|---|---|---|")
    for op_name in args.ops.split(","):
        for label, changes in VARIANTS[op_name].items():
            solved, seconds = run(op_name, changes, args.seeds)
            print(f"| {op_name} | {label} | {solved} | {seconds / (args.seeds / 100):.2f} |", flush=True)


if __name__ == "__main__":
    main()
