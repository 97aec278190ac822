"""A run's output directory: written as one set, replaced as a whole, and no leftovers after a kill."""

from __future__ import annotations

import json
import os
import stat
import subprocess

import pytest

from arithnet import TrainConfig, train
from arithnet.outputs import OUTPUT_NAMES, prepare_output, save_run

OUTPUTS = sorted(OUTPUT_NAMES)


@pytest.fixture(scope="module")
def results():
    """Two small finished runs with different summaries."""
    return [train(TrainConfig(operation="add", n_seeds=1, first_seed=k, steps=40, n_snapshots=2)) for k in (0, 1)]


def contents(directory) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(directory.iterdir())}


@pytest.fixture
def dead_pid() -> int:
    """The id of a process that has ended (reaped, so nothing answers to it)."""
    done = subprocess.Popen(["true"])
    done.wait()
    return done.pid


def test_save_run_writes_exactly_the_set(tmp_path, results):
    out = tmp_path / "runs" / "latest"
    written = save_run(results[0], out)
    assert written == [out / name for name in OUTPUT_NAMES]
    assert sorted(p.name for p in out.iterdir()) == OUTPUTS
    assert os.listdir(tmp_path / "runs") == ["latest"]  # no temporary left beside it
    assert json.loads((out / "result.json").read_text()) == json.loads(json.dumps(results[0].summary()))
    umask = os.umask(0)
    os.umask(umask)
    assert out.stat().st_mode & 0o777 == 0o777 & ~umask


def test_prepare_output_creates_nothing(tmp_path):
    assert prepare_output(tmp_path / "runs" / "a" / "latest") == (tmp_path / "runs" / "a" / "latest").resolve()
    assert os.listdir(tmp_path) == []
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(ValueError, match="cannot be written: Not a directory"):
        prepare_output(blocker / "run")


def test_a_second_run_replaces_the_set(tmp_path, results):
    out = tmp_path / "out"
    save_run(results[0], out)
    (out / ".result.json.k3j2_x.json").write_text("{")  # what an older, file-by-file arithnet left when killed
    save_run(results[1], out)
    assert sorted(p.name for p in out.iterdir()) == OUTPUTS
    assert json.loads((out / "result.json").read_text())["first_seed"] == 1
    assert os.listdir(tmp_path) == ["out"]


def test_a_second_run_keeps_the_modes_of_the_first(tmp_path, results):
    out = tmp_path / "out"
    save_run(results[0], out)
    out.chmod(0o700)
    for name in OUTPUT_NAMES:
        (out / name).chmod(0o600)
    save_run(results[1], out)
    assert json.loads((out / "result.json").read_text())["first_seed"] == 1
    assert stat.S_IMODE(out.stat().st_mode) == 0o700
    assert {stat.S_IMODE((out / name).stat().st_mode) for name in OUTPUT_NAMES} == {0o600}


def test_a_failing_figure_leaves_the_old_set_unchanged(tmp_path, results, monkeypatch):
    out = tmp_path / "out"
    save_run(results[0], out)
    before = contents(out)

    def fail_on_loss(kind, *args):
        if kind == "loss":
            raise RuntimeError("figure failed")
        return original(kind, *args)

    import arithnet.plots

    original = arithnet.plots.save_figure
    monkeypatch.setattr(arithnet.plots, "save_figure", fail_on_loss)
    with pytest.raises(RuntimeError, match="figure failed"):
        save_run(results[1], out)
    assert contents(out) == before
    assert os.listdir(tmp_path) == ["out"]


def test_a_failing_rename_puts_the_old_set_back(tmp_path, results, monkeypatch):
    out = tmp_path / "out"
    save_run(results[0], out)
    before = contents(out)
    rename = os.rename

    def refuse_the_new_set(source, target):
        if ".arithnet-partial-" in str(source):
            raise OSError(28, "No space left on device")
        rename(source, target)

    monkeypatch.setattr("arithnet.files.sets.os.rename", refuse_the_new_set)
    with pytest.raises(ValueError, match=r"output directory '.*' cannot be written: No space left on device"):
        save_run(results[1], out)
    assert contents(out) == before
    assert os.listdir(tmp_path) == ["out"]


def test_other_files_are_never_replaced(tmp_path, results):
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    for attempt in (lambda: prepare_output(out), lambda: save_run(results[0], out)):
        with pytest.raises(ValueError, match=r"holds 'notes\.txt', which arithnet did not write"):
            attempt()
    assert contents(out) == {"notes.txt": b"mine"}


@pytest.mark.parametrize(("make", "message"), [("file", "is not a directory"), ("root", "root directory")])
def test_places_that_cannot_hold_a_set(tmp_path, make, message):
    out = tmp_path / "out"
    if make == "file":
        out.write_text("x")
    else:
        out = out.anchor or "/"
    with pytest.raises(ValueError, match=message):
        prepare_output(out)


def test_leftovers_of_killed_runs_are_cleaned_at_the_next_run(tmp_path, dead_pid):
    out = tmp_path / "latest"
    dead = [f".latest.arithnet-partial-{dead_pid}-a1b2c3d4", f".other.run.arithnet-partial-{dead_pid}-x_9"]
    live = f".latest.arithnet-partial-{os.getpid()}-e5f6g7h8"  # a run still going: not ours to remove
    for name in (*dead, live):
        (tmp_path / name).mkdir()
        (tmp_path / name / "result.json").write_text("{")
    (tmp_path / "keep.arithnet-partial-1-x").mkdir()  # not hidden: not a name arithnet makes
    prepare_output(out)
    assert sorted(os.listdir(tmp_path)) == sorted([live, "keep.arithnet-partial-1-x"])


def test_an_old_set_moved_aside_by_a_killed_run_goes_back(tmp_path, dead_pid):
    # Killed between moving the old set aside and renaming the new one in: the old set is the run's outcome.
    aside = tmp_path / f".latest.arithnet-old-{dead_pid}-a1b2c3d4"
    aside.mkdir()
    (aside / "result.json").write_text('{"old": true}')
    prepare_output(tmp_path / "latest")
    assert os.listdir(tmp_path) == ["latest"]
    assert (tmp_path / "latest" / "result.json").read_text() == '{"old": true}'


def test_an_old_set_left_after_the_new_one_is_removed(tmp_path, dead_pid, results):
    save_run(results[1], tmp_path / "latest")
    aside = tmp_path / f".latest.arithnet-old-{dead_pid}-a1b2c3d4"
    aside.mkdir()
    (aside / "result.json").write_text('{"old": true}')
    prepare_output(tmp_path / "latest")
    assert os.listdir(tmp_path) == ["latest"]
    assert json.loads((tmp_path / "latest" / "result.json").read_text())["first_seed"] == 1
