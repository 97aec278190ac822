"""Input is checked before torch is imported: fit and predict refuse bad input without loading torch.

Each case runs in a fresh interpreter whose import system refuses torch: an
import of torch on the way to a refusal fails the case with a traceback that
shows who imported it. (How long a refusal takes is measured in
benchmarks/startup.py, not here.)
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import sympy

from arithnet.laws.law import Law

#: Runs the command once per argument list, in one process that cannot import torch; prints what happened.
PROBE = r"""
import contextlib, io, json, sys

class NoTorch:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "torch":
            raise ImportError("torch was imported on the way to a refusal")
        return None

sys.meta_path.insert(0, NoTorch())
from arithnet.cli import app

results = []
for args in json.loads(sys.argv[1]):
    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr):
        try:
            app(args, prog_name="arithnet")
        except SystemExit as stop:
            results.append({"code": stop.code, "stderr": stderr.getvalue()})
print(json.dumps({"results": results, "torch": sorted(m for m in sys.modules if m.split(".")[0] == "torch")}))
"""


def refusals(cases: list[list[str]]) -> list[dict]:
    """Each case's exit code and stderr, run without torch; fails if torch was imported."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(cases)], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.splitlines()[-1])  # after whatever the commands printed
    assert report["torch"] == []
    return report["results"]


@pytest.fixture
def files(tmp_path):
    """A good table, a short one, one with an empty cell, a law of it, one without column b, a file, a directory."""
    rng = np.random.default_rng(0)
    a, b = rng.uniform(1, 5, 40), rng.uniform(1, 5, 40)
    good = pd.DataFrame({"a": a, "b": b, "y": a * b / (a + b)})
    good.to_csv(tmp_path / "good.csv", index=False)
    good.iloc[:3].to_csv(tmp_path / "short.csv", index=False)
    good.assign(b=[*b[:5], np.nan, *b[6:]]).to_csv(tmp_path / "nan.csv", index=False)
    good[["a"]].to_csv(tmp_path / "no_b.csv", index=False)
    x, y = sympy.symbols("a b")
    (tmp_path / "law.json").write_text(json.dumps(Law.from_sympy(x * y / (x + y), ("a", "b"), "y").to_dict()))
    (tmp_path / "foreign.json").write_text('{"law": "a*b"}')
    (tmp_path / "file").write_text("not a directory")
    (tmp_path / "dir").mkdir()
    return tmp_path


def test_fit_refuses_bad_input_without_torch(files):
    good = str(files / "good.csv")
    cases = {
        "missing.csv: no such file": ["fit", str(files / "missing.csv"), "--target", "y"],
        "good.csv: no column 'nope'": ["fit", good, "--target", "nope"],
        "short.csv: 3 rows; the search needs at least": ["fit", str(files / "short.csv"), "--target", "y"],
        "nan.csv: column 'b', row 6 is empty": ["fit", str(files / "nan.csv"), "--target", "y"],
        "seed must be an integer of at least 0": ["fit", good, "--target", "y", "--seed", "-1"],
        "exists and is not a directory": ["fit", good, "--target", "y", "--out", str(files / "file")],
        "No such option: --bogus": ["fit", good, "--target", "y", "--bogus"],
    }
    for (message, args), result in zip(cases.items(), refusals(list(cases.values())), strict=True):
        assert result["code"] == 2 and message in result["stderr"], (args, result)
        assert result["stderr"].count("\n") == 1, result["stderr"]


def test_predict_refuses_bad_input_without_torch(files):
    law, new = str(files / "law.json"), str(files / "good.csv")
    cases = {
        "missing.json: no such file": ["predict", str(files / "missing.json"), new],
        "foreign.json: not an arithnet law file": ["predict", str(files / "foreign.json"), new],
        "no_b.csv: no column 'b', which the law uses": ["predict", law, str(files / "no_b.csv")],
        "missing.csv: no such file": ["predict", law, str(files / "missing.csv")],
        "prediction column 'a' is an input column of the law": ["predict", law, new, "--column", "a"],
        "is a directory": ["predict", law, new, "--output", str(files / "dir")],
        "cannot be written: Not a directory": ["predict", law, new, "--output", str(files / "file" / "p.csv")],
    }
    for (message, args), result in zip(cases.items(), refusals(list(cases.values())), strict=True):
        assert result["code"] == 2 and message in result["stderr"], (args, result)
        assert result["stderr"].count("\n") == 1, result["stderr"]


def test_help_needs_no_torch():
    results = refusals([["--help"], ["fit", "--help"], ["train", "--help"], ["bench", "--help"]])
    assert [result["code"] for result in results] == [0, 0, 0, 0]
