"""``arithnet bench``: a small grid end to end, resuming, and bad input."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys

import matplotlib
import pytest
import torch
from typer.testing import CliRunner

from arithnet.bench import grid as grid_module
from arithnet.bench.run import ResultsStore, limits
from arithnet.bench.run import runner as runner_module
from arithnet.bench.run import store as store_module
from arithnet.bench.run import writer as writer_module
from arithnet.bench.run.workers import start_workers
from arithnet.cli import app

runner = CliRunner()
SMALL = [
    "bench",
    "--units",
    "LogExp-direct",
    "--ops",
    "div",
    "--input-size",
    "10",
    "--ranges",
    "6-7",
    "--seeds",
    "2",
    "--steps",
    "1500",
    "--loss",
    "log",
    "--lr",
    "0.05",
    "--lr-schedule",
    "cosine",
    "--jobs",
    "1",
]


def test_small_grid_writes_rows_report_and_resumes(tmp_path):
    store, report = tmp_path / "results.sqlite", tmp_path / "report"
    first = runner.invoke(app, [*SMALL, "--store", str(store), "--report", str(report)])
    assert first.exit_code == 0, first.output
    assert "4 runs, 0 already" in first.output and "LogExp" in first.output
    assert (report / "summary.md").exists() and (report / "success_raw.png").exists()
    again = runner.invoke(app, [*SMALL, "--store", str(store), "--report", str(report)])
    assert again.exit_code == 0
    assert "4 runs, 4 already in" in again.output and "0 to train" in again.output


def run_bad(tmp_path, *args):
    result = runner.invoke(app, [*args, "--store", str(tmp_path / "s.sqlite"), "--report", str(tmp_path / "r")])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert result.output.strip().count("\n") == 0, result.output
    return result.output


def test_unknown_names_list_the_valid_ones(tmp_path):
    assert "valid units:" in run_bad(tmp_path, "bench", "--units", "Foo", "--ops", "div")
    assert "valid operations:" in run_bad(tmp_path, "bench", "--units", "NMU", "--ops", "pow")
    assert "valid tasks:" in run_bad(tmp_path, "bench", "--units", "NMU", "--ops", "mul", "--task", "tsp")
    assert "valid ranges:" in run_bad(tmp_path, "bench", "--units", "NMU", "--ops", "mul", "--ranges", "42")


def test_unit_that_cannot_do_the_operation_is_refused(tmp_path):
    output = run_bad(tmp_path, "bench", "--units", "NMU", "--ops", "div")
    assert "NMU cannot represent div" in output and "--force" in output


def test_foreign_store_is_refused_and_left_alone(tmp_path):
    foreign = tmp_path / "s.sqlite"
    foreign.write_text("my lab notes\n")
    output = run_bad(tmp_path, *SMALL)
    assert "is not an arithnet results store" in output
    assert foreign.read_text() == "my lab notes\n"


def test_bad_unit_options_are_refused(tmp_path):
    nau = ["bench", "--units", "NAU", "--ops", "add"]
    assert "must be NAME=VALUE" in run_bad(tmp_path, *nau, "--option", "oops")
    assert "unit option foo: NAU takes no option 'foo'" in run_bad(tmp_path, *nau, "--option", "foo=1")


def test_a_bad_training_rule_option_is_refused_before_anything_is_created(tmp_path):
    output = run_bad(tmp_path, "bench", "--units", "iNALU", "--ops", "div", "--option", "restart_rule='keras'")
    assert "restart_rule must be one of" in output
    assert sorted(tmp_path.iterdir()) == []  # no store, no report


def test_bad_unit_option_values_are_refused_not_kept_as_text(tmp_path):
    output = run_bad(tmp_path, "bench", "--units", "NAU", "--ops", "add", "--option", "regularization_scale=abc")
    assert "unit option regularization_scale=abc" in output and "quote a string" in output


def test_inverted_range_span(tmp_path):
    output = run_bad(tmp_path, "bench", "--units", "NAU", "--ops", "add", "--ranges", "9-1")
    assert "range 9-1 is inverted: write 1-9" in output


def test_zero_steps_seeds_and_jobs_are_refused(tmp_path):
    assert "steps" in run_bad(tmp_path, "bench", "--units", "NAU", "--ops", "add", "--steps", "0")
    assert "seeds" in run_bad(tmp_path, "bench", "--units", "NAU", "--ops", "add", "--seeds", "0")
    assert "jobs" in run_bad(tmp_path, "bench", "--units", "NAU", "--ops", "add", "--jobs", "0")


def test_missing_units_is_one_line(tmp_path):
    assert "Missing option '--units'" in run_bad(tmp_path, "bench", "--ops", "add")


def test_unknown_device(tmp_path):
    assert "valid devices: cpu, cuda" in run_bad(tmp_path, "bench", "--units", "NAU", "--ops", "add", "--device", "tpu")


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a CUDA GPU")
def test_cuda_without_a_gpu(tmp_path):
    assert "needs a CUDA GPU" in run_bad(tmp_path, "bench", "--units", "NAU", "--ops", "add", "--device", "cuda")


# -- everything is checked before training, and a refusal creates nothing ----------------------


def refused(tmp_path, *args, store=None):
    """Run a bench that must be refused: one line, exit 2, and no file or directory created or removed."""
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    store = store or tmp_path / "runs" / "s.sqlite"
    result = runner.invoke(app, ["bench", *args, "--store", str(store)])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and result.output.strip().count("\n") == 0, result.output
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before
    return result.output


NAU_ADD = ["--units", "NAU", "--ops", "add", "--ranges", "7", "--seeds", "2", "--steps", "300", "--jobs", "1"]


def test_bad_values_are_refused_before_anything_is_created(tmp_path):
    assert "first seed must be at least 0" in refused(tmp_path, *NAU_ADD, "--first-seed", "-5")
    assert "seed numbers must be below 2**32" in refused(tmp_path, *NAU_ADD, "--first-seed", str(2**32 - 1))
    assert "learning rate" in refused(tmp_path, *NAU_ADD, "--lr", "inf")
    assert "regularization_scale=inf is not a finite number" in refused(
        tmp_path, *NAU_ADD, "--option", "regularization_scale=1e999"
    )


def test_bad_store_or_report_directory_creates_nothing(tmp_path):
    foreign = tmp_path / "notes.sqlite"
    foreign.write_text("my lab notes\n")
    assert "is not an arithnet results store" in refused(tmp_path, *NAU_ADD, store=foreign)  # and no report/
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    output = refused(tmp_path, *NAU_ADD, "--report", str(blocker / "report"))  # and no store
    assert "report directory" in output and "is not a directory" in output


def test_sizes_beyond_the_limits_are_refused_before_anything_is_built_from_them(tmp_path, monkeypatch):
    # "At once": before a run's settings are resolved or the grid's seeds and runs are laid out,
    # which for 10^8 seeds would take minutes and gigabytes.
    built = []
    monkeypatch.setattr(grid_module, "_resolved_configs", lambda *args: built.append("resolved settings"))
    monkeypatch.setattr(grid_module, "Grid", lambda *args: built.append("grid"))
    nau = ["--units", "NAU", "--ops", "add"]
    assert "beyond the numbered ranges, which are 1-9" in refused(tmp_path, *nau, "--ranges", "1-100000000")
    assert "number of seeds is 100,000,000, more than the limit" in refused(tmp_path, *nau, "--seeds", "100000000")
    assert "number of runs is" in refused(tmp_path, "--units", "NAU,NAC+,NALU", "--ranges", "all", "--seeds", "5000")
    assert "input size is 1,000,000, more than the limit" in refused(tmp_path, *nau, "--input-size", "1000000")
    assert "number of steps" in refused(tmp_path, *nau, "--steps", str(10**12))
    assert built == []


def test_input_size_that_does_not_fit_in_memory_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(limits, "physical_memory", lambda: 2**27)  # a 128 MB machine
    output = refused(tmp_path, "--units", "NAU", "--ops", "add", "--input-size", "100")
    assert "one run with input size 100 needs about" in output and "more than this machine can give" in output


@contextlib.contextmanager
def read_only(path):
    """Make ``path`` read-only for this process: chmod, or for root (who writes anyway) chattr +i."""
    if os.geteuid() != 0:
        mode = path.stat().st_mode
        path.chmod(mode & ~0o222)
        try:
            yield
        finally:
            path.chmod(mode)
        return
    if shutil.which("chattr") is None or subprocess.run(["chattr", "+i", str(path)], capture_output=True).returncode:
        pytest.skip("running as root, and chattr +i is not available to make a file read-only")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=True)


def test_read_only_store_is_refused_before_training(tmp_path):
    store = tmp_path / "s.sqlite"
    ResultsStore(store).close()
    with read_only(store):
        output = refused(tmp_path, *NAU_ADD, store=store)
    assert "is read-only" in output and "s.sqlite" in output


def test_read_only_store_directory_is_refused_before_training(tmp_path):
    directory = tmp_path / "runs"
    directory.mkdir()
    ResultsStore(directory / "s.sqlite").close()
    with read_only(directory):
        assert "is read-only" in refused(tmp_path, *NAU_ADD, store=directory / "s.sqlite")
        assert "cannot be written" in refused(tmp_path, *NAU_ADD, store=directory / "new" / "s.sqlite")


def test_store_locked_by_another_writer_is_refused_before_training(tmp_path, monkeypatch):
    monkeypatch.setattr(store_module, "LOCK_PROBE_TIMEOUT", 0.2)
    path = tmp_path / "s.sqlite"
    ResultsStore(path).close()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another writer, mid-transaction
    try:
        assert "another process has held its write lock" in refused(tmp_path, *NAU_ADD, store=path)
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_corrupt_store_is_one_short_line(tmp_path):
    path = tmp_path / "s.sqlite"
    path.write_bytes(b"SQLite format 3\x00" + bytes(range(256)) * 16)
    output = refused(tmp_path, *NAU_ADD, store=path)
    assert "is corrupt" in output and len(output) < 300


# -- training: jobs, a busy store, strict JSON ----------------------------------------------------


def test_jobs_are_capped_at_the_cpus_and_groups(tmp_path, monkeypatch):
    started = []

    def recording(count):
        started.append(count)
        return start_workers(count)

    monkeypatch.setattr(runner_module, "start_workers", recording)
    result = runner.invoke(app, ["bench", *NAU_ADD[:-2], "--jobs", "1000", "--store", str(tmp_path / "s.sqlite")])
    assert result.exit_code == 0, result.output
    cpus = limits.cpu_count()
    assert started == [min(cpus, 2)]  # 2 runs make at most 2 groups
    assert f"using {cpus} workers" in result.output
    assert limits.worker_count(1000) == cpus and limits.worker_count(1000, 3) == min(3, cpus)


def _hold_lock(path):
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    return holder


def test_busy_store_during_the_run_loses_no_row(tmp_path, monkeypatch):
    monkeypatch.setattr(writer_module, "ATTEMPT_TIMEOUT", 0.1)
    monkeypatch.setattr(writer_module, "FIRST_RETRY", 0.2)
    path = tmp_path / "s.sqlite"
    holder, refusals = None, []
    original_start, original_add = runner_module.start_workers, writer_module.StoreWriter.add

    def start_then_lock(count):  # after the lock probe, before any row arrives
        nonlocal holder
        holder = _hold_lock(path)
        return original_start(count)

    def add_then_unlock(self, rows):
        original_add(self, rows)
        refusals.append(len(self.waiting))
        holder.execute("ROLLBACK")  # the other writer is done: the retry must store the rows

    monkeypatch.setattr(runner_module, "start_workers", start_then_lock)
    monkeypatch.setattr(writer_module.StoreWriter, "add", add_then_unlock)
    result = runner.invoke(app, ["bench", *NAU_ADD, "--store", str(path)])
    holder.close()
    assert result.exit_code == 0, result.output
    assert refusals == [2]  # both rows were refused once, then stored by a retry
    assert "2 runs in" in result.output and not writer_module.side_file(path).exists()
    with ResultsStore(path) as store:
        assert len(store) == 2
        for row in store.rows():  # the stored configuration is strict JSON
            json.loads(row.config, parse_constant=_refuse_constant)


def _refuse_constant(name):
    raise ValueError(f"{name} in a stored configuration")


def test_store_that_never_frees_keeps_rows_in_a_side_file_imported_next_time(tmp_path, monkeypatch):
    monkeypatch.setattr(writer_module, "ATTEMPT_TIMEOUT", 0.1)
    monkeypatch.setattr(writer_module, "FINISH_TIMEOUT", 0.5)
    path = tmp_path / "s.sqlite"
    holders = []

    def start_then_lock(count):
        holders.append(_hold_lock(path))
        return start_workers(count)

    monkeypatch.setattr(runner_module, "start_workers", start_then_lock)
    result = runner.invoke(app, ["bench", *NAU_ADD, "--store", str(path)])
    assert result.exit_code == 0, result.output
    side = writer_module.side_file(path)
    assert f"runs wait in {side}" in result.output and "2 runs in" in result.output  # the report has them
    assert side.name == "s.sqlite.pending.jsonl" and len(side.read_text().splitlines()) == 2
    holders[0].execute("ROLLBACK")
    holders[0].close()
    again = runner.invoke(app, ["bench", *NAU_ADD, "--store", str(path)])
    assert again.exit_code == 0, again.output
    assert "2 runs, 2 already in" in again.output and f"2 imported from {side}" in again.output
    assert not side.exists()
    with ResultsStore(path) as store:
        assert len(store) == 2


# -- paper presets (docs/presets.md) ---------------------------------------------------------------
def test_show_preset_prints_the_table_without_units():
    result = runner.invoke(app, ["bench", "--show-preset", "primer"], env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    assert "preset primer" in result.output and "regularization_start" in result.output
    assert "--regualizer-scaling-start 20000" in result.output and "iNALU" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--show-preset", "nalu"], "unknown preset 'nalu'; valid presets: primer, iclr, division"),
        (["--units", "NAU", "--preset", "nalu"], "unknown preset 'nalu'"),
        (
            ["--units", "NAU", "--ops", "mul", "--preset", "primer"],
            "preset primer does not cover NAU on mul at input 2",
        ),
        (["--units", "NAU", "--ops", "add", "--preset", "iclr"], "preset iclr does not cover NAU on add at input 100"),
    ],
)
def test_bad_presets_are_one_line(tmp_path, args, message):
    assert message in run_bad(tmp_path, "bench", *args)


def test_tiny_preset_grid_end_to_end(tmp_path):
    store = tmp_path / "s.sqlite"
    args = ["bench", "--preset", "primer", "--units", "NMU,NALU", "--ops", "mul", "--ranges", "7", "--seeds", "1"]
    result = runner.invoke(app, [*args, "--steps", "300", "--jobs", "1", "--store", str(store)])
    assert result.exit_code == 0, result.output
    with contextlib.closing(sqlite3.connect(store)) as connection:
        configs = {unit: json.loads(text) for unit, text in connection.execute("SELECT unit, config FROM runs")}
    assert set(configs) == {"NMU", "NALU"}
    nmu, nalu = configs["NMU"], configs["NALU"]
    assert nmu["preset"] == nalu["preset"] == "primer" and nmu["log_step_zero"] and nmu["steps"] == 300
    assert ["regularization_start", 20000] in nmu["unit_options"] and nalu[
        "force"
    ]  # NALU: forced, as the Primer ran it


def test_compiling_without_a_writable_cache_runs_eagerly_and_keeps_the_runs(tmp_path):
    # A home whose cache cannot be made (below a regular file, which even root cannot write into) and no
    # private temporary cache either (the one there is writable by others): compiled code cannot be
    # cached anywhere safe, so the bench trains eagerly with one notice instead of losing the group.
    (tmp_path / "file").write_text("")
    (tmp_path / "tmp" / f"arithnet-inductor-{os.getuid()}").mkdir(parents=True)
    (tmp_path / "tmp" / f"arithnet-inductor-{os.getuid()}").chmod(0o777)
    env = {name: value for name, value in os.environ.items() if name != "TORCHINDUCTOR_CACHE_DIR"}
    env |= {"XDG_CACHE_HOME": str(tmp_path / "file" / "cache"), "TMPDIR": str(tmp_path / "tmp")}
    env |= {"MPLCONFIGDIR": matplotlib.get_cachedir()}  # this session's, built once: a new one scans every font
    grid = ["--units", "NAU", "--ops", "add", "--ranges", "1", "--seeds", "1", "--steps", "200", "--compile"]
    store = tmp_path / "s.sqlite"
    done = subprocess.run(
        [sys.executable, "-m", "arithnet", "bench", *grid, "--store", str(store)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    notices = [line for line in done.stderr.splitlines() if "cache" in line]
    assert len(notices) == 1 and notices[0].endswith("cannot be written (Not a directory); running eagerly")
    with ResultsStore(store) as results:
        assert len(results) == 1


def _damaged_store(path, column: str, value) -> None:
    """A store holding one run of NAU on add (range 1, seed 0) whose ``column`` was changed by hand to ``value``."""
    from arithnet.bench.protocol import RunRow

    config = {"unit": "NAU", "operation": "add", "task": "primer", "input_size": 2, "range_name": "1", "steps": 200}
    numbers = dict(best_step=200, best_val_mse=1.0, best_test_mse=1.0, sparsity_error=0.1, seconds=1.0)
    criteria = ("raw", "iclr", "primer")
    thresholds = {f"threshold_{c}": 1e-5 for c in criteria}
    verdicts = {f"solved_{c}": False for c in criteria} | {f"solved_at_{c}": None for c in criteria}
    names = dict(key="a" * 24, unit="NAU", operation="add", task="primer", range_name="1", seed=0, steps=200)
    outcome = dict(formula="x0", formula_exact=False, **numbers, **thresholds, **verdicts)
    row = RunRow(**names, config=json.dumps(config), **outcome)
    with ResultsStore(path) as store:
        store.add([row])
    with contextlib.closing(sqlite3.connect(path)) as connection, connection:
        connection.execute(f"UPDATE runs SET {column} = ?", (value,))


@pytest.mark.parametrize(
    ("column", "value", "problem"),
    [
        ("best_val_mse", "abc", "best_val_mse is 'abc', not a number"),
        ("config", "{nope", "its config is not a JSON object"),
        ("config", "[1, 2]", "its config is not a JSON object"),
        ("seed", "seven", "seed is 'seven', not an integer"),
    ],
)
def test_a_damaged_row_is_named_in_one_line_by_report_and_bench_alike(tmp_path, column, value, problem):
    store = tmp_path / "s.sqlite"
    _damaged_store(store, column, value)
    expected = f"results store '{store}': row 1 (key '{'a' * 24}') is damaged: {problem}"
    report = runner.invoke(app, ["report", "primer", "--store", str(store)])
    assert report.exit_code == 2 and expected in report.output and report.output.count("\n") == 1, report.output
    grid = ["--units", "NAU", "--ops", "add", "--ranges", "1", "--seeds", "1", "--steps", "200"]
    bench = runner.invoke(app, ["bench", *grid, "--store", str(store)])
    assert bench.exit_code == 2 and expected in bench.output and bench.output.count("\n") == 1, bench.output
    assert not (tmp_path / "report").exists()  # refused before training and before the report directory


def test_a_typo_is_named_before_a_unit_that_needs_force(tmp_path):
    output = run_bad(tmp_path, "bench", "--units", "NAU,NAC*,NAUU", "--ops", "add,pow")
    assert "unknown unit 'NAUU'; valid units:" in output and "unknown operation 'pow'" in output
    assert "force" not in output and not (tmp_path / "s.sqlite").exists()


def test_force_does_not_make_a_run_anew_and_earlier_forced_rows_count(tmp_path):
    from arithnet.bench import bench_grid
    from arithnet.bench.run import v1_keys

    store, grid = tmp_path / "s.sqlite", ["--units", "NAU", "--ops", "add", "--ranges", "1", "--seeds", "2"]
    assert runner.invoke(app, ["bench", *grid, "--steps", "200", "--store", str(store)]).exit_code == 0
    forced = runner.invoke(app, ["bench", *grid, "--steps", "200", "--store", str(store), "--force"])
    assert forced.exit_code == 0 and "2 runs, 2 already in" in forced.output and "0 to train" in forced.output
    with ResultsStore(store) as results:
        assert len(results) == 2  # one row per run, not one per way of asking for it
    # A row that an earlier arithnet (keys of version 1, a store of schema 1) stored under the key --force
    # gave it is the run's row: not trained again, and re-keyed as the run's when the store is upgraded.
    runs = bench_grid("NAU", "add", ranges="1", seeds=2, steps=200).runs()
    (config, seed), _ = runs
    with contextlib.closing(sqlite3.connect(store)) as connection, connection:
        connection.execute("UPDATE runs SET key = ? WHERE key = ?", (v1_keys(config, seed)[1], config.key(seed)))
        connection.execute("UPDATE arithnet_meta SET value = '1' WHERE key = 'schema_version'")
    again = runner.invoke(app, ["bench", *grid, "--steps", "200", "--store", str(store)])
    assert again.exit_code == 0 and "2 runs, 2 already in" in again.output and "| NAU  | add" not in again.output
    assert "│ NAU  │ add       │ 2 " in again.output  # both rows in the table
    with ResultsStore(store) as results:
        assert results.schema_version() == "2" and results.keys() == {config.key(seed) for config, seed in runs}


def test_two_benches_on_one_store_each_leave_a_report_of_the_whole_store(tmp_path):
    store, tiny = tmp_path / "s.sqlite", ["--ranges", "1", "--seeds", "1", "--steps", "200", "--jobs", "1"]
    nau = runner.invoke(app, ["bench", "--units", "NAU", "--ops", "add", *tiny, "--store", str(store)])
    nmu = runner.invoke(app, ["bench", "--units", "NMU", "--ops", "mul", *tiny, "--store", str(store)])
    assert nau.exit_code == nmu.exit_code == 0
    assert "│ NAU " not in nmu.output  # the command's own table: its own runs
    summary = (tmp_path / "report" / "summary.md").read_text()
    assert "2 runs; units: NAU, NMU; operations: add, mul;" in summary  # the second bench kept the first's runs
    # The same unit and operation with other settings: its own line, never pooled with the first.
    longer = runner.invoke(app, ["bench", "--units", "NAU", "--ops", "add", *tiny[:4], "--steps", "300",
                                 "--jobs", "1", "--store", str(store)])  # fmt: skip
    assert longer.exit_code == 0
    summary = (tmp_path / "report" / "summary.md").read_text()
    assert "3 runs; units: NAU (steps 200), NAU (steps 300), NMU;" in summary
