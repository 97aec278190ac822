"""Speed of the multi-seed benchmark trainer, in seed-steps per second.

The Primer's input-10 division task (25 seeds per range, 9 ranges), trained
with the modified Real NPU for a short run with S = 1, 25 and 225 networks
in one process and one torch thread. The ratios are against S = 1 measured in
the same process; the published reference code runs about 450 steps per
second per seed on one core (nalm.md).

    .venv/bin/python benchmarks/throughput.py [--steps 5000] [--unit RealNPU-mod]
"""

from __future__ import annotations

import argparse
import time

import torch

from arithnet.bench.protocol import BenchConfig, run_group
from arithnet.bench.runner import run_threshold

REFERENCE_STEPS_PER_SECOND = 450


def measure(unit: str, n_networks: int, steps: int) -> float:
    """Seed-steps per second of the training loop (one logged evaluation included)."""
    ranges = [str(1 + i % 9) for i in range(n_networks)]
    configs = [
        BenchConfig(unit=unit, operation="div", input_size=10, range_name=r, steps=steps, log_every=steps)
        for r in ranges
    ]
    seeds = [i // 9 for i in range(n_networks)]
    start = time.perf_counter()
    run_group(configs, seeds, run_threshold)
    return n_networks * steps / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=5000)
    parser.add_argument("--unit", default="RealNPU-mod")
    args = parser.parse_args()
    torch.set_num_threads(1)
    measure(args.unit, 9, 50)  # warm-up
    results = {n: measure(args.unit, n, args.steps) for n in (1, 25, 225)}
    print(f"{args.unit}, Primer input-10 division, {args.steps} steps, one thread")
    print(f"{'S':>5} {'seed-steps/s':>14} {'vs S=1':>8} {'vs reference 450/s':>20}")
    for n, rate in results.items():
        print(f"{n:>5} {rate:14,.0f} {rate / results[1]:8.1f} {rate / REFERENCE_STEPS_PER_SECOND:20.1f}")
    full_grid = 225 * 100_000 / results[225]
    print(f"225 runs x 100,000 steps at S=225: {full_grid / 60:.1f} min in one process")


if __name__ == "__main__":
    main()
