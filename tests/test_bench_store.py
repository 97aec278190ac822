"""Benchmark results: the SQLite store, the statistics, the markdown summary and the report files."""

from __future__ import annotations

import math
import multiprocessing
import os
import signal
import sqlite3

import numpy as np
import pytest

from arithnet.bench.rows import CRITERIA, RunRow
from arithnet.bench.stats import (
    beta_fit,
    gamma_shape,
    solved_at_summary,
    sparsity_summary,
    success_table,
    wilson_interval,
)
from arithnet.bench.store import ResultsStore
from arithnet.bench.summary import markdown_summary


def make_row(key: str = "k0", **overrides) -> RunRow:
    """A plausible run's row; ``overrides`` set any field."""
    values = dict(
        key=key,
        unit="NMU",
        operation="mul",
        task="primer-2",
        range_name="r1",
        seed=0,
        steps=50_000,
        config='{"unit": "NMU"}',
        best_step=30_000,
        best_val_mse=1e-9,
        best_test_mse=1e-8,
        threshold_raw=1e-5,
        threshold_iclr=0.16,
        threshold_primer=1e-7,
        solved_raw=True,
        solved_iclr=True,
        solved_primer=True,
        solved_at_raw=10_000,
        solved_at_iclr=8_000,
        solved_at_primer=12_000,
        sparsity_error=0.01,
        formula="x0*x1",
        formula_exact=True,
        seconds=12.5,
    )
    values.update(overrides)
    return RunRow(**values)


# -- store ---------------------------------------------------------------------


def test_store_round_trip(tmp_path):
    rows = [
        make_row("a"),
        make_row("b", unit="NAU", operation="add", solved_raw=False, solved_at_raw=None, formula_exact=False),
        make_row("c", best_test_mse=math.nan, best_val_mse=math.inf, seed=np.int64(3), sparsity_error=np.float64(0.2)),
    ]
    path = tmp_path / "sub" / "results.sqlite"  # the directory is created
    with ResultsStore(path) as store:
        assert store.add(rows) == 3
        assert len(store) == 3
        assert store.keys() == {"a", "b", "c"}
    with ResultsStore(path) as store:  # reopening an existing store
        by_key = {row.key: row for row in store.rows()}
        assert by_key["a"] == rows[0]
        assert by_key["b"] == rows[1]
        assert by_key["b"].solved_raw is False and by_key["b"].solved_at_raw is None
        assert math.isnan(by_key["c"].best_test_mse) and by_key["c"].best_val_mse == math.inf
        assert by_key["c"].seed == 3 and type(by_key["c"].seed) is int
        assert [row.key for row in store.rows(unit="NAU")] == ["b"]
        assert [row.key for row in store.rows(unit="NMU", operation="mul")] == ["a", "c"]
        assert store.rows(range_name="nope") == []
        with pytest.raises(TypeError):
            store.rows(seed=0)
    assert sorted(p.name for p in path.parent.iterdir()) == ["results.sqlite"]  # no temporary, no -wal left


def test_store_format_and_wal(tmp_path):
    path = tmp_path / "results.sqlite"
    ResultsStore(path).close()
    connection = sqlite3.connect(path)
    meta = dict(connection.execute("SELECT key, value FROM arithnet_meta"))
    assert meta == {"format": "arithnet-results", "schema_version": "1"}
    assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    columns = [row[1] for row in connection.execute("PRAGMA table_info(runs)")]
    assert columns == RunRow.column_names()
    connection.close()


def test_duplicate_key_is_ignored_and_the_first_row_kept(tmp_path):
    with ResultsStore(tmp_path / "results.sqlite") as store:
        assert store.add([make_row("a", seed=1)]) == 1
        assert store.add([make_row("a", seed=2), make_row("b")]) == 1
        assert store.add([make_row("a", seed=3)]) == 0
        assert store.add([]) == 0
        assert len(store) == 2
        assert {row.key: row.seed for row in store.rows()} == {"a": 1, "b": 0}


def test_add_checks_all_rows_before_writing(tmp_path):
    with ResultsStore(tmp_path / "results.sqlite") as store:
        with pytest.raises(TypeError):
            store.add([make_row("a"), make_row("b", seed=1.5)])
        with pytest.raises(TypeError):
            store.add([make_row("a"), {"key": "x"}])
        assert len(store) == 0


def test_committed_rows_are_visible_to_another_connection(tmp_path):
    path = tmp_path / "results.sqlite"
    store = ResultsStore(path)
    store.add([make_row("a"), make_row("b")])
    other = sqlite3.connect(path)  # still open: the rows must not wait for close()
    assert other.execute("SELECT COUNT(*) FROM runs").fetchone()[0] == 2
    other.close()
    store.close()


def _foreign_sqlite(path, statements):
    connection = sqlite3.connect(path)
    for statement in statements:
        connection.execute(statement)
    connection.commit()
    connection.close()


@pytest.mark.parametrize(
    "case, message",
    [
        ("text", "is not an arithnet results store: it is not an SQLite database"),
        ("empty", "is not an arithnet results store: it is empty"),
        ("foreign", "is not an arithnet results store: it has no arithnet_meta table"),
        ("other_format", "is not an arithnet results store: its format is 'other'"),
        ("schema_version", "is not an arithnet results store: its schema_version is '2'"),
        ("columns", "is not an arithnet results store: its runs columns"),
        ("corrupt", "is corrupt"),
    ],
)
def test_foreign_files_are_refused_and_left_as_they_were(tmp_path, case, message):
    path = tmp_path / "results.sqlite"
    meta = "CREATE TABLE arithnet_meta (key TEXT PRIMARY KEY, value TEXT)"
    if case == "text":
        path.write_text("seed,loss\n1,0.5\n")
    elif case == "empty":
        path.write_bytes(b"")
    elif case == "foreign":
        _foreign_sqlite(path, ["CREATE TABLE runs (id INTEGER)", "INSERT INTO runs VALUES (7)"])
    elif case == "other_format":
        _foreign_sqlite(path, [meta, "INSERT INTO arithnet_meta VALUES ('format', 'other')"])
    elif case == "schema_version":
        _foreign_sqlite(
            path,
            [
                meta,
                "INSERT INTO arithnet_meta VALUES ('format', 'arithnet-results'), ('schema_version', '2')",
                "CREATE TABLE runs (key TEXT PRIMARY KEY)",
            ],
        )
    elif case == "columns":
        _foreign_sqlite(
            path,
            [
                meta,
                "INSERT INTO arithnet_meta VALUES ('format', 'arithnet-results'), ('schema_version', '1')",
                "CREATE TABLE runs (key TEXT PRIMARY KEY, unit TEXT)",
            ],
        )
    elif case == "corrupt":
        garbage = np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8).tobytes()
        path.write_bytes(b"SQLite format 3\x00" + garbage)
    before = path.read_bytes()
    with pytest.raises(ValueError, match=message):
        ResultsStore(path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["results.sqlite"]


def test_truncated_store_is_corrupt_and_left_as_it_was(tmp_path):
    path = tmp_path / "results.sqlite"
    with ResultsStore(path) as store:
        store.add([make_row(f"k{i}", config="x" * 2000) for i in range(20)])  # several pages
    path.write_bytes(path.read_bytes()[: 3 * 4096 + 100])
    before = path.read_bytes()
    with pytest.raises(ValueError, match="is corrupt"):
        ResultsStore(path)
    assert path.read_bytes() == before


def test_unwritable_directory_is_a_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(ValueError, match="cannot be written"):
        ResultsStore(blocker / "results.sqlite")
    with pytest.raises(ValueError, match="is a directory"):
        ResultsStore(tmp_path)


def _append_worker(path: str, name: str, n_batches: int, start, kill: bool) -> None:
    """Open the store (maybe creating it, racing the other worker) and append batches of rows."""
    start.wait()
    store = ResultsStore(path)
    for batch in range(n_batches):
        # "shared-*" keys are written by both workers: each must end up stored once.
        store.add([make_row(f"{name}-{batch}-{i}", seed=i) for i in range(4)] + [make_row(f"shared-{batch}")])
    if kill:
        os.kill(os.getpid(), signal.SIGKILL)  # no close(): committed rows must survive anyway
    store.close()


def test_concurrent_processes_lose_no_row(tmp_path):
    path = tmp_path / "results.sqlite"
    # fork, not spawn: a spawned child re-imports arithnet and so torch (~4 s each). Forking is safe
    # here: no SQLite connection is open yet, and the child runs only sqlite3 and pure Python.
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    context = multiprocessing.get_context(method)
    start = context.Event()
    n_batches = 200
    workers = [
        context.Process(target=_append_worker, args=(str(path), name, n_batches, start, name == "b"))
        for name in ("a", "b")
    ]
    for worker in workers:
        worker.start()
    start.set()
    for worker in workers:
        worker.join(60)
    assert [worker.exitcode for worker in workers] == [0, -signal.SIGKILL]
    with ResultsStore(path) as store:
        expected = {f"{name}-{batch}-{i}" for name in "ab" for batch in range(n_batches) for i in range(4)}
        expected |= {f"shared-{batch}" for batch in range(n_batches)}
        assert store.keys() == expected
        assert len(store) == len(expected)


# -- statistics ------------------------------------------------------------------


def test_wilson_interval_known_values():
    # Reference values: Wilson (1927) score interval, z = 1.959964 (e.g. R binom.confint method="wilson").
    rate, low, high = wilson_interval(85, 100)
    assert rate == 0.85 and round(low, 4) == 0.7672 and round(high, 4) == 0.9069
    assert wilson_interval(0, 10) == pytest.approx((0.0, 0.0, 0.2775), abs=1e-4)
    assert wilson_interval(10, 10) == pytest.approx((1.0, 0.7225, 1.0), abs=1e-4)
    assert wilson_interval(0, 10)[1] == 0.0 and wilson_interval(10, 10)[2] == 1.0
    rate, low, high = wilson_interval(0, 0)
    assert math.isnan(rate) and (low, high) == (0.0, 1.0)
    with pytest.raises(ValueError):
        wilson_interval(3, 2)


def test_gamma_shape_matches_scipy_mle():
    from scipy import stats

    sample = np.random.default_rng(1).gamma(2.0, 1000.0, 200)
    assert gamma_shape(sample) == pytest.approx(stats.gamma.fit(sample, floc=0)[0], rel=1e-6)


def test_solved_at_summary_on_gamma_data():
    steps = np.random.default_rng(2).gamma(3.0, 5000.0, 40)
    summary = solved_at_summary(steps)
    assert summary["mean"] == pytest.approx(steps.mean())
    assert summary["median"] == pytest.approx(np.median(steps))
    assert summary["mean_low"] < summary["mean"] < summary["mean_high"]
    assert summary["mean_low"] < 15_000 < summary["mean_high"]  # the true mean kθ
    # Skewed upwards, as an interval for a positive right-skewed mean should be.
    assert summary["mean_high"] - summary["mean"] > summary["mean"] - summary["mean_low"]


@pytest.mark.filterwarnings("error")
def test_solved_at_summary_degenerate_cases():
    empty = solved_at_summary([])
    assert all(math.isnan(value) for value in empty.values())
    for steps in ([7000], [5000, 5000, 5000], [0, 1000, 2000]):
        summary = solved_at_summary(steps)
        assert summary["mean"] == pytest.approx(np.mean(steps)) and summary["median"] == np.median(steps)
        assert math.isnan(summary["mean_low"]) and math.isnan(summary["mean_high"])
    with pytest.raises(ValueError):
        solved_at_summary([1.0, math.nan])


def test_beta_fit_matches_scipy_mle():
    from scipy import stats

    sample = np.random.default_rng(3).beta(2.0, 50.0, 200)
    assert beta_fit(sample) == pytest.approx(stats.beta.fit(sample, floc=0, fscale=1)[:2], rel=1e-6)


@pytest.mark.filterwarnings("error")
def test_sparsity_summary():
    errors = np.random.default_rng(4).beta(1.5, 30.0, 40)
    summary = sparsity_summary(errors)
    assert summary["mean"] == pytest.approx(errors.mean())
    assert 0 < summary["low"] < summary["mean"] < summary["high"] < 1
    assert summary["low"] < 1.5 / 31.5 < summary["high"]
    # Many exact zeros (weights clamped onto 0 or 1): clipped, still an interval around the mean.
    with_zeros = sparsity_summary([0, 0, 0, 0.1, 0.2])
    assert with_zeros["mean"] == pytest.approx(0.06) and 0 < with_zeros["low"] < 0.06 < with_zeros["high"] < 1
    assert all(math.isnan(value) for value in sparsity_summary([]).values())
    for errors in ([0.1], [0, 0, 0], [0.3, 1.5]):
        summary = sparsity_summary(errors)
        assert summary["mean"] == pytest.approx(np.mean(errors))
        assert math.isnan(summary["low"]) and math.isnan(summary["high"])


def _synthetic_rows() -> list[RunRow]:
    """NMU on mul: 3 of 4 runs solved in r1, 1 of 2 in r2; NAU on add: none solved; one solved run inexact."""
    rows = []
    for seed, (solved, step, error) in enumerate([(True, 10_000, 0.01), (True, 20_000, 0.02), (True, 30_000, 0.0)]):
        rows.append(make_row(f"nmu-r1-{seed}", seed=seed, solved_raw=solved, solved_at_raw=step, sparsity_error=error))
    rows.append(make_row("nmu-r1-3", seed=3, solved_raw=False, solved_at_raw=None, formula_exact=False))
    rows.append(make_row("nmu-r2-0", range_name="r2", solved_at_raw=40_000, formula_exact=False, sparsity_error=0.3))
    rows.append(make_row("nmu-r2-1", range_name="r2", seed=1, solved_raw=False, solved_at_raw=None))
    for seed in range(2):
        rows.append(
            make_row(f"nau-{seed}", unit="NAU", operation="add", seed=seed, solved_raw=False, solved_at_raw=None,
                     solved_iclr=False, solved_at_iclr=None, solved_primer=False, solved_at_primer=None,
                     formula_exact=False)
        )
    return rows


def test_success_table():
    table = success_table(_synthetic_rows(), criterion="raw")
    assert [(entry["unit"], entry["operation"]) for entry in table] == [("NAU", "add"), ("NMU", "mul")]
    nau, nmu = table
    assert (nau["n"], nau["successes"], nau["rate"], nau["exact_successes"]) == (2, 0, 0.0, 0)
    assert math.isnan(nau["solved_at_median"]) and math.isnan(nau["sparsity_mean"])
    assert (nmu["n"], nmu["successes"], nmu["exact_successes"], nmu["solved_inexact"]) == (6, 4, 4, 1)
    assert (nmu["rate"], nmu["low"], nmu["high"]) == pytest.approx(wilson_interval(4, 6))
    assert nmu["solved_at_median"] == 25_000 and nmu["solved_at_mean"] == 25_000
    assert nmu["sparsity_mean"] == pytest.approx(0.33 / 4)
    by_range = success_table(_synthetic_rows(), ("unit", "operation", "range_name"))
    assert [(e["range_name"], e["successes"], e["n"]) for e in by_range] == [("r1", 0, 2), ("r1", 3, 4), ("r2", 1, 2)]
    with pytest.raises(ValueError):
        success_table([], criterion="strict")


def test_markdown_summary_lines():
    text = markdown_summary(_synthetic_rows())
    lines = text.splitlines()
    assert lines[0] == "# arithnet benchmark results"
    assert "8 runs; units: NAU, NMU; operations: add, mul; tasks: primer-2; ranges: r1, r2." in lines
    for criterion in CRITERIA:
        assert any(line.startswith(f"## Criterion {criterion}:") for line in lines)
    assert "| unit | add | mul |" in lines
    assert "| NMU | – | 66.7% [30.0, 90.3] |" in lines  # 4 of 6, raw: first criterion
    assert "| NAU | 0.0% [0.0, 65.8] | – |" in lines
    assert "| unit | operation | r1 | r2 |" in lines
    assert "| NMU | mul | 75.0% [30.1, 95.4] | 50.0% [9.5, 90.5] |" in lines
    # Solved-at: median, then the mean with its gamma-fit interval; sparsity error mean [beta-fit interval].
    details = [line for line in lines if line.startswith("| NMU | mul | 6 | 4 | 25000 | 25000 [")]
    assert len(details) == 1 and details[0].endswith(" | 1 |")
    assert "| NAU | add | 2 | 0 | – | – | – | 0 |" in lines
    assert "## Exact formula" in lines
    assert "| NMU | – | 66.7% [30.0, 90.3] |" in lines[lines.index("## Exact formula"):]
    assert markdown_summary([]).endswith("No runs.\n")


def test_write_report_writes_every_file_and_no_temporary(tmp_path):
    from arithnet.bench.figures import FIGURES, write_report

    directory = tmp_path / "report"
    written = write_report(_synthetic_rows(), directory, criteria=("raw", "primer"))
    expected = {"summary.md"} | {f"{name}_{c}.png" for name in FIGURES for c in ("raw", "primer")}
    assert {path.name for path in written} == expected
    assert {path.name for path in directory.iterdir()} == expected  # nothing left under a temporary name
    assert (directory / "summary.md").read_text() == markdown_summary(_synthetic_rows(), ("raw", "primer"))
    for path in written:
        if path.suffix == ".png":
            assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_figures_return_figures_even_without_runs():
    from matplotlib.figure import Figure

    from arithnet.bench.figures import FIGURES

    for make in FIGURES.values():
        assert isinstance(make(_synthetic_rows(), "iclr"), Figure)
        assert isinstance(make([], "raw"), Figure)
