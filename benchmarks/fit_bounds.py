"""Bounded time and memory: the law search on wide and long tables, each case in a fresh process.

Each case draws a table (columns uniform in [1, 5]), fits it with ``fit_law`` under a time budget, and reports
the search's own seconds (``LawFit.seconds``: screening, stages, readout and verification) against the budget,
the process's wall time, and its peak resident memory (``wait4``); a last case runs ``arithnet fit`` on a CSV of
100 columns × 100,000 rows, reading included. The targets: seconds ≤ budget × 1.1, peak memory < 2 GB.

    .venv/bin/python benchmarks/fit_bounds.py
    .venv/bin/python benchmarks/fit_bounds.py --cases wide-in,long-out
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

#: name: (rows, columns, budget, screen, target); "in": x0·x1/(x0 + x2), "out": exp(x0)·sin(x1) + x2^1.3.
CASES = {
    "3 of 40 columns": (1000, 40, 60.0, True, "in"),
    "20 columns, out of class": (1000, 20, 5.0, False, "out"),
    "100 × 100,000, screened": (100_000, 100, 10.0, True, "in"),
    "100 × 100,000, unscreened": (100_000, 100, 10.0, False, "in"),
    "100 × 100,000, out of class": (100_000, 100, 10.0, True, "out"),
    "4 × 200,000, out of class": (200_000, 4, 10.0, False, "out"),
    "4 × 1,000, budget 2 s": (1000, 4, 2.0, False, "out"),
}

RUN = r"""
import json, sys
import numpy as np
from arithnet.laws import FitConfig, fit_law
from arithnet.tables import table_from_arrays
rows, columns, budget, screen, target = json.loads(sys.argv[1])
x = np.random.default_rng(0).uniform(1, 5, (rows, columns))
y = x[:, 0] * x[:, 1] / (x[:, 0] + x[:, 2]) if target == "in" else np.exp(x[:, 0]) * np.sin(x[:, 1]) + x[:, 2] ** 1.3
fit = fit_law(table_from_arrays(x, y), FitConfig(time_budget=budget, screen_columns=screen))
print(json.dumps({"seconds": fit.seconds, "law": str(fit.law), "verification": fit.verification.value,
                  "stopped": fit.stopped}))
"""


def run(args: list[str]) -> tuple[float, float, str]:
    """(wall seconds, peak resident MB, stdout) of one process."""
    start = time.perf_counter()
    with tempfile.TemporaryFile() as output:
        process = subprocess.Popen(args, stdout=output, stderr=subprocess.DEVNULL)
        _, _, usage = os.wait4(process.pid, 0)
        process.returncode = 0
        wall = time.perf_counter() - start
        output.seek(0)
        return wall, usage.ru_maxrss / 1024, output.read().decode(errors="replace")


def csv_case(directory: Path) -> tuple[float, float, dict]:
    """``arithnet fit`` on a CSV of 100 columns × 100,000 rows (budget 10 s): reading the table included."""
    import numpy as np
    import pandas as pd

    x = np.random.default_rng(0).uniform(1, 5, (100_000, 100))
    frame = pd.DataFrame(x, columns=[f"c{i}" for i in range(100)]).assign(y=x[:, 0] * x[:, 1] / (x[:, 0] + x[:, 2]))
    frame.to_csv(directory / "wide.csv", index=False)
    args = [sys.executable, "-m", "arithnet", "fit", str(directory / "wide.csv"), "--target", "y", "--json"]
    wall, peak, text = run([*args, "--time-budget", "10", "--out", str(directory / "law"), "--no-figure"])
    return wall, peak, json.loads(text.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", default="all", help="all, or comma-separated case names")
    parser.add_argument("--no-csv", action="store_true", help="skip the CSV case (it writes a 190 MB file)")
    options = parser.parse_args()
    names = list(CASES) if options.cases == "all" else [n.strip() for n in options.cases.split(",")]
    print(f"{'case':<32} {'budget':>7} {'search s':>9} {'÷ budget':>9} {'wall s':>8} {'peak MB':>8}  verdict")
    for name in names:
        rows, columns, budget, screen, target = CASES[name]
        wall, peak, text = run([sys.executable, "-c", RUN, json.dumps([rows, columns, budget, screen, target])])
        found = json.loads(text.strip().splitlines()[-1])
        line = f"{name:<32} {budget:>7.0f} {found['seconds']:>9.2f} {found['seconds'] / budget:>9.2f}"
        print(f"{line} {wall:>8.2f} {peak:>8.0f}  {found['verification']} ({found['stopped'] or 'not cut'})")
    if not options.no_csv:
        with tempfile.TemporaryDirectory() as directory:
            wall, peak, found = csv_case(Path(directory))
        line = f"{'arithnet fit, 100 × 100,000 CSV':<32} {10:>7} {found['seconds']:>9.2f} {found['seconds'] / 10:>9.2f}"
        print(f"{line} {wall:>8.2f} {peak:>8.0f}  {found['verification']}")


if __name__ == "__main__":
    main()
