"""Speed of the benchmark's training step, eager against compiled, in seed-steps per second.

The Primer's input-10 division task (25 seeds per range, 9 ranges) for a
product unit (RealNPU-mod) and an additive one (NAU, on addition), with
S = 1, 25 and 225 runs in one process and one torch thread, logging every
1,000 steps as the protocol does. Eager and compiled are measured in the same
run. The rate is taken between the first log and the last, so the time to
compile (paid once per group and process, in the first step) is left out of
it and reported apart ("first 1k s": the first 1,000 steps, compilation
included). The published reference code runs about 450 steps per second per
seed on one core (nalm.md).

    .venv/bin/python benchmarks/throughput.py [--steps 5000] [--sizes 1,25,225] [--device cpu|cuda]

Only CPU has been measured here (docs/benchmarks.md). ``--device cuda``
without a CUDA GPU stops at once with one line, as ``arithnet bench`` does.
"""

from __future__ import annotations

import argparse
import time

import torch

from arithnet.bench.protocol import BenchConfig, run_group, run_threshold
from arithnet.devices import check_device

REFERENCE_STEPS_PER_SECOND = 450
CASES = (("RealNPU-mod", "div"), ("NAU", "add"))


def group(unit: str, operation: str, n_runs: int, steps: int, compile: bool, device: str) -> list[BenchConfig]:
    return [
        BenchConfig(
            unit=unit,
            operation=operation,
            input_size=10,
            range_name=str(1 + i % 9),
            steps=steps,
            log_every=1000,
            compile=compile,
            device=device,
        )
        for i in range(n_runs)
    ]


def measure(unit: str, operation: str, n_runs: int, steps: int, compile: bool, device: str) -> tuple[float, float]:
    """(seed-steps per second from the first log to the last, seconds to the first log)."""
    logs: list[tuple[int, float]] = []
    start = time.perf_counter()
    configs = group(unit, operation, n_runs, steps, compile, device)
    run_group(
        configs, [i // 9 for i in range(n_runs)], run_threshold, lambda step: logs.append((step, time.perf_counter()))
    )
    (first_step, first_time), (last_step, last_time) = logs[0], logs[-1]
    return n_runs * (last_step - first_step) / (last_time - first_time), first_time - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=5000)
    parser.add_argument("--sizes", default="1,25,225", help="runs per program (S), comma-separated")
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    args = parser.parse_args()
    try:
        check_device(args.device)
        sizes = [int(size) for size in args.sizes.split(",")]
    except ValueError as error:
        parser.error(str(error))
    torch.set_num_threads(1)
    print(f"Primer input-10 task, {args.steps} steps, one thread, device {args.device}")
    header = ("unit", "S", "eager/s", "compiled/s", "speed-up", "vs 450/s", "s to 1st log")
    print("{:>12} {:>4} {:>10} {:>11} {:>9} {:>9} {:>12}".format(*header))
    for unit, operation in CASES:
        for n_runs in sizes:
            eager, _ = measure(unit, operation, n_runs, args.steps, False, args.device)
            compiled, first_log = measure(unit, operation, n_runs, args.steps, True, args.device)
            print(
                f"{unit:>12} {n_runs:>4} {eager:10,.0f} {compiled:11,.0f} {compiled / eager:9.2f}"
                f" {compiled / REFERENCE_STEPS_PER_SECOND:9.1f} {first_log:12.1f}"
            )


if __name__ == "__main__":
    main()
