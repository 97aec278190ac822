"""How long the command takes to refuse bad input, and to print its help, against a bare Python.

Every command checks its input before it imports torch (docs/design.md, "The
command line"), so a refusal costs an interpreter, typer, rich and the
modules that read the input (pandas for a table, sympy for a law file), not
torch's 4–6 s and 400 MB. Each case runs in a fresh process, several times;
the median wall time and the largest peak resident memory (from ``wait4``)
are reported, each as a ratio against ``python -c pass`` measured by the
same command, and the case that loads torch (``import torch``) is shown for
scale.

    .venv/bin/python benchmarks/startup.py              # 5 repeats of each case
    .venv/bin/python benchmarks/startup.py --repeats 11
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

COMMAND = [sys.executable, "-m", "arithnet"]


def cases(directory: Path) -> dict[str, list[str]]:
    """The commands measured, with the files they refuse (written into ``directory``)."""
    (directory / "bad.csv").write_text("a,b\n1,2\n")
    (directory / "foreign.json").write_text('{"law": "a*b"}')
    return {
        "python -c pass (baseline)": [sys.executable, "-c", "pass"],
        "arithnet --help": [*COMMAND, "--help"],
        "arithnet fit bad.csv --target y (refused)": [*COMMAND, "fit", str(directory / "bad.csv"), "--target", "y"],
        "arithnet predict foreign.json bad.csv (refused)": [
            *COMMAND,
            "predict",
            str(directory / "foreign.json"),
            str(directory / "bad.csv"),
        ],
        "python -c 'import torch' (for scale)": [sys.executable, "-c", "import torch"],
    }


def measure(args: list[str]) -> tuple[float, float]:
    """One run of ``args``: (wall seconds, peak resident MB of that process alone)."""
    start = time.perf_counter()
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, _, usage = os.wait4(process.pid, 0)
    process.returncode = 0  # reaped by wait4: Popen must not wait for it again
    return time.perf_counter() - start, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="runs of each case (the median wall time is shown)")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        commands = cases(Path(directory))
        measure(commands["arithnet --help"])  # warm the file cache and byte-compiled modules first
        results = {}
        for name, args in commands.items():
            runs = [measure(args) for _ in range(options.repeats)]
            results[name] = (statistics.median(wall for wall, _ in runs), max(peak for _, peak in runs))
    base_wall, base_peak = results["python -c pass (baseline)"]
    print(f"{'case':<50} {'wall s':>8} {'× pass':>8} {'peak MB':>8} {'× pass':>8}")
    for name, (wall, peak) in results.items():
        print(f"{name:<50} {wall:>8.3f} {wall / base_wall:>8.1f} {peak:>8.0f} {peak / base_peak:>8.1f}")


if __name__ == "__main__":
    main()
