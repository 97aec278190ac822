"""A results store written by an earlier arithnet (schema 1, keys of version 1) reads, reports and resumes alike.

``tests/data/store-bea4bfc.sqlite`` was written by ``arithnet bench`` at commit
bea4bfc with the grids of ``GRIDS`` (``--jobs 1``): plain runs, the same runs
forced needlessly (which made them anew then), a needlessly forced run alone,
a truly forced one, a preset's, a stack given a unit option, and runs that
solve. ``tests/data/store-bea4bfc.summary.md`` is the summary that arithnet
at commit 028a131, the last with keys of version 1, wrote of that store, but
for its ICLR run under the Primer's criterion, which judges no ICLR run: a
dash where 028a131 wrote 0.0% (bench.protocol.verdicts.applies).
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from arithnet.bench import bench_grid
from arithnet.bench.protocol import KEY_VERSION, BenchConfig
from arithnet.bench.report import markdown_summary
from arithnet.bench.run import ResultsStore, current_keys, grid_rows, prepare_bench, side_file, store_rows, v1_keys
from arithnet.cli import app

DATA = Path(__file__).parent / "data"
GRIDS = [
    dict(units="NAU", ops="add,sub", ranges="6,7", seeds=2, steps=200),
    dict(units="NAU", ops="add", ranges="6", seeds=2, force=True, steps=200),
    dict(units="NAU", ops="add", ranges="9", seeds=1, force=True, steps=200),
    dict(units="NAC*", ops="add", ranges="7", seeds=1, force=True, steps=200),
    dict(units="NMU", ops="mul", preset="primer", ranges="7", seeds=1, steps=200),
    dict(
        units="NAU>NMU",
        task="iclr",
        input_size=38,
        ops="mul",
        ranges="iclr",
        seeds=1,
        steps=200,
        unit_options=["regularization_start=100"],
    ),
    dict(
        units="LogExp-direct",
        ops="div",
        input_size=10,
        loss="log",
        lr=0.05,
        lr_schedule="cosine",
        ranges="6,7",
        seeds=2,
        steps=1500,
    ),
]
#: The rows of NAU on add, range 6, that the second grid stored again under the keys its needless force gave them.
NEEDLESSLY_FORCED_TWINS = {"08d946b542161239d880243c", "14d691c14f43f513387b49c1"}


@pytest.fixture
def old_store(tmp_path) -> Path:
    path = tmp_path / "old.sqlite"
    shutil.copyfile(DATA / "store-bea4bfc.sqlite", path)
    return path


def stored(path: Path) -> list[dict]:
    """The rows as SQLite holds them, keys and all, in the order they were written."""
    with sqlite3.connect(path) as connection:
        connection.row_factory = sqlite3.Row
        return [dict(row) for row in connection.execute("SELECT * FROM runs ORDER BY rowid")]


def without_keys(rows) -> list[dict]:
    """Rows (RunRows or SQLite's) as comparable dicts but for their keys; NaN is stored as NULL."""
    rows = [row if isinstance(row, dict) else dataclasses.asdict(row) for row in rows]
    plain = [{k: None if v != v else v for k, v in {**row, "key": None}.items()} for row in rows]
    return sorted(plain, key=lambda row: json.dumps(row, sort_keys=True))


def grid_runs() -> list[list]:
    return [bench_grid(**grid).runs() for grid in GRIDS]


def test_the_old_store_is_read_as_it_is_each_row_under_its_runs_key(old_store):
    before, rows_before = old_store.read_bytes(), stored(old_store)
    with ResultsStore(old_store) as store:
        assert store.schema_version() == "1"
        keys, rows = store.keys(), store.rows()
    assert old_store.read_bytes() == before  # reading upgrades nothing
    assert all(config.key(seed) in keys for runs in grid_runs() for config, seed in runs)
    assert without_keys(rows) == without_keys(rows_before)  # the same rows, but for their keys
    assert {row.key for row in rows} == keys and len(keys) == len(rows) == 18


def test_a_bench_resumes_the_old_store_without_training_and_upgrades_it(old_store, tmp_path):
    rows_before = stored(old_store)
    for runs in grid_runs():
        plan = prepare_bench(runs, old_store, tmp_path / "report")
        assert plan.todo == [] and plan.done == len(runs) and plan.imported == 0
    with ResultsStore(old_store) as store:
        assert store.schema_version() == "2"
    rows = stored(old_store)
    assert len(rows) == 18
    assert without_keys(rows) == without_keys(rows_before)  # only keys changed
    # Every row is under its run's key now, but a needlessly forced twin, which keeps its own: the run's row
    # is the one without force, as it was when the run was read under its keys of version 1.
    by_key = {row["key"]: row for row in rows}
    kept = {row["key"] for row in rows if row["key"] in {old["key"] for old in rows_before}}
    assert kept == NEEDLESSLY_FORCED_TWINS
    for runs in grid_runs():
        for config, seed in runs:
            assert json.loads(by_key[config.key(seed)]["config"])["force"] in (config.force, True)
    forced, plain = bench_grid(**GRIDS[1]).runs(), bench_grid(**{**GRIDS[1], "force": False}).runs()
    assert [row.key for row in grid_rows(forced, old_store)] == [row.key for row in grid_rows(plain, old_store)]
    assert all(not json.loads(row.config)["force"] for row in grid_rows(forced, old_store))


def test_the_upgraded_store_reports_the_same_rows(old_store, tmp_path):
    expected = (DATA / "store-bea4bfc.summary.md").read_text()
    assert markdown_summary(store_rows(old_store)) == expected  # read as it is
    prepare_bench(grid_runs()[0], old_store, tmp_path / "report")
    assert markdown_summary(store_rows(old_store)) == expected  # upgraded
    every = [run for runs in grid_runs() for run in runs]
    found = {row.key: row for row in grid_rows(every, old_store)}.values()  # the forced grid's runs are the first's
    assert without_keys(found) == without_keys(
        row for row in stored(old_store) if row["key"] not in NEEDLESSLY_FORCED_TWINS
    )


def test_the_command_resumes_the_old_store(old_store):
    grid = GRIDS[-1]
    command = ["bench", "--units", grid["units"], "--ops", "div", "--input-size", "10", "--loss", "log"]
    command += ["--lr", "0.05", "--lr-schedule", "cosine", "--ranges", "6,7", "--seeds", "2", "--steps", "1500"]
    result = CliRunner().invoke(app, [*command, "--store", str(old_store)])
    assert result.exit_code == 0, result.output
    assert "4 runs, 4 already in" in result.output and "0 to train" in result.output
    expected = (DATA / "store-bea4bfc.summary.md").read_text()
    assert (old_store.parent / "report" / "summary.md").read_text() == expected  # the report of the whole store


def test_rows_an_earlier_arithnet_left_in_the_side_file_get_their_runs_keys(old_store, tmp_path):
    (config, seed), *_ = bench_grid(**GRIDS[-1]).runs()
    old_key = v1_keys(config, seed)[0]
    with sqlite3.connect(old_store) as connection:
        connection.row_factory = sqlite3.Row
        (row,) = [dict(r) for r in connection.execute("SELECT * FROM runs WHERE key = ?", (old_key,))]
        connection.execute("DELETE FROM runs WHERE key = ?", (old_key,))
    side_file(old_store).write_text(json.dumps(row) + "\n")  # as the writer of bea4bfc left it
    plan = prepare_bench(bench_grid(**GRIDS[-1]).runs(), old_store, tmp_path / "report")
    assert plan.imported == 1 and plan.todo == [] and not side_file(old_store).exists()
    with ResultsStore(old_store) as store:
        assert config.key(seed) in store.keys() and old_key not in store.keys()


def test_keys_of_version_1_are_those_earlier_stores_hold():
    plain = BenchConfig(unit="NAU", operation="add").resolved()
    # Its own key, then the one a needless force gave it (tests/test_presets.py pins more of them).
    assert v1_keys(plain, 3) == ("b6201c71d75ef56c13f4e0b8", "06fd8d8af5db62984b0ee5ba")
    needed = BenchConfig(unit="NAC*", operation="add", force=True).resolved()
    assert len(v1_keys(needed, 3)) == 1
    assert KEY_VERSION == 2 and plain.key(3) not in v1_keys(plain, 3)


def test_a_row_that_names_no_run_keeps_its_key():
    config = BenchConfig(unit="NAU", operation="add").resolved()
    own, needless = v1_keys(config, 0)
    records = [
        (own, config.to_json(), 0),  # the run's key of version 1
        ("f" * 24, config.to_json(), 0),  # no key this arithnet ever gave that run (a stack before its mark, say)
        ("e" * 24, "{not json", 0),  # a damaged configuration
        ("d" * 24, json.dumps({**json.loads(config.to_json()), "unit": "Gone"}), 0),  # a unit no longer known
        (needless, config.to_json(), 0),  # the same run, forced needlessly: its twin holds the key
        (config.key(1), config.to_json(), 1),  # already of version 2
    ]
    keys = current_keys(records)
    assert keys == [config.key(0), "f" * 24, "e" * 24, "d" * 24, needless, config.key(1)]
    assert current_keys(records[4:5]) == [config.key(0)]  # alone, the needlessly forced row is the run's
    assert current_keys(records[4:5], taken={config.key(0)}) == [needless]
