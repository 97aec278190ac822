"""How long the command takes to refuse bad input, and to print its help, against a bare Python.

Every command checks its input before it imports torch (docs/design.md, "The
command line"), so a refusal costs an interpreter, typer, rich and the
modules that read the input (pandas for a table, sympy for a law file), not
torch's 4–6 s and 400 MB. Each case runs in a fresh process, several times;
the median wall time and the largest peak resident memory (from ``wait4``)
are reported, each as a ratio against ``python -c pass`` measured by the
same command, and the case that loads torch (``import torch``) is shown for
scale. Two fits are timed whole, start to files written: a law that the
lattice stage finds in well under a second (a·b/(a + b) on 300 rows), and the
tutorial's aphelion of the eight planets; their line also gives the search's
own seconds (``fit --json``), so that what the command adds to a search is
its wall time less those.

    .venv/bin/python benchmarks/startup.py              # 5 repeats of each case
    .venv/bin/python benchmarks/startup.py --repeats 11
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

COMMAND = [sys.executable, "-m", "arithnet"]


def lens_table(path: Path) -> None:
    """y = a·b/(a + b) on 300 rows, a and b uniform in [1, 5]: a law the lattice stage finds at once."""
    import numpy as np

    rng = np.random.default_rng(0)
    a, b = rng.uniform(1, 5, 300), rng.uniform(1, 5, 300)
    rows = "\n".join(f"{x!r},{y!r},{x * y / (x + y)!r}" for x, y in zip(a, b))
    path.write_text("a,b,y\n" + rows + "\n")


def cases(directory: Path) -> dict[str, list[str]]:
    """The commands measured, with the files they refuse (written into ``directory``)."""
    (directory / "bad.csv").write_text("a,b\n1,2\n")
    (directory / "foreign.json").write_text('{"law": "a*b"}')
    lens_table(directory / "lens.csv")
    planets = Path(__file__).resolve().parent.parent / "examples" / "planets.csv"
    out = ["--out", str(directory / "law"), "--json"]
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
        "arithnet fit lens.csv --target y (found)": [
            *COMMAND, "fit", str(directory / "lens.csv"), "--target", "y", *out,
        ],
        "arithnet fit planets.csv --target aphelion (found)": [
            *COMMAND, "fit", str(planets), "--target", "aphelion", "--columns", "a,e", *out,
        ],
    }  # fmt: skip


def measure(args: list[str]) -> tuple[float, float, float | None]:
    """One run of ``args``: (wall seconds, peak resident MB of that process alone, a fit's own seconds or None)."""
    start = time.perf_counter()
    with tempfile.TemporaryFile() as output:
        process = subprocess.Popen(args, stdout=output, stderr=subprocess.DEVNULL)
        _, _, usage = os.wait4(process.pid, 0)
        process.returncode = 0  # reaped by wait4: Popen must not wait for it again
        wall = time.perf_counter() - start
        output.seek(0)
        text = output.read().decode(errors="replace").strip().splitlines()
    searched = json.loads(text[-1])["seconds"] if "--json" in args and text else None
    return wall, usage.ru_maxrss / 1024, searched


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
            searched = [run[2] for run in runs if run[2] is not None]
            search = statistics.median(searched) if searched else None
            results[name] = (statistics.median(run[0] for run in runs), max(run[1] for run in runs), search)
    base_wall, base_peak, _ = results["python -c pass (baseline)"]
    print(f"{'case':<56} {'wall s':>8} {'× pass':>8} {'peak MB':>8} {'× pass':>8} {'search s':>9}")
    for name, (wall, peak, search) in results.items():
        searched = f"{search:9.2f}" if search is not None else " " * 9
        print(f"{name:<56} {wall:>8.3f} {wall / base_wall:>8.1f} {peak:>8.0f} {peak / base_peak:>8.1f} {searched}")


if __name__ == "__main__":
    main()
