"""Signals to ``arithnet bench``: a stop keeps every finished run, and no process outlives the bench.

Each test runs the command in a session of its own (``start_new_session``),
so the processes it started are exactly that session's members: they are
found in /proc and, whatever happens, killed at the end.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads the process table in /proc")

#: Two groups (add, sub) of 8 runs that train for minutes: still training when the signal comes.
LONG_GRID = ["--units", "NAU", "--ops", "add,sub", "--ranges", "1-4", "--seeds", "2", "--steps", "200000"]
#: Two groups of 4 runs, trained one after the other, each for a second or two: the stop comes while the second trains.
SHORT_GRID = ["--units", "NAU", "--ops", "add,sub", "--ranges", "1-2", "--seeds", "2", "--steps", "2000"]
#: ``python -m arithnet`` as on a machine of 2 CPUs, whatever this one has: the bench caps its workers
#: at the CPUs it may use, and these tests need two workers even on a one-CPU runner.
TWO_CPUS = (
    "from arithnet.bench.run import limits; limits.cpu_count = lambda: 2; "
    "from arithnet.cli import app; app(prog_name='arithnet')"
)


def _session(session_id: int) -> list[int]:
    """Live (not zombie) processes of a session."""
    members = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:  # exited meanwhile
            continue
        fields = stat[stat.rindex(")") + 2 :].split()  # state, ppid, pgrp, session, ...
        if fields[0] != "Z" and int(fields[3]) == session_id:
            members.append(int(entry))
    return members


def _workers(process: subprocess.Popen) -> list[int]:
    """The bench's worker processes: its children started by multiprocessing's spawn."""
    found = []
    for pid in _session(process.pid):
        with contextlib.suppress(OSError):
            if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes():
                found.append(pid)
    return found


def _wait_until(condition, timeout: float, interval: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return condition()


@contextlib.contextmanager
def bench(tmp_path: Path, grid: list[str], jobs: int = 2):
    """``arithnet bench`` in a new session; every process of that session is killed on the way out."""
    store = tmp_path / "store.sqlite"
    command = [sys.executable, "-c", TWO_CPUS, "bench", *grid, "--jobs", str(jobs), "--no-compile"]
    process = subprocess.Popen(
        [*command, "--store", str(store)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        yield process, store
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
        process.stdout.close()
        process.stderr.close()


def _started(process: subprocess.Popen, jobs: int = 2) -> None:
    """Wait until the workers run and have had time to start training."""
    assert _wait_until(lambda: len(_workers(process)) >= jobs, 30), "the workers did not start"
    time.sleep(2.0)


def _check_stop_line(stderr: str, store: Path) -> None:
    assert "Traceback" not in stderr, stderr
    last = stderr.strip().splitlines()[-1]
    assert last.startswith("stopped: ") and str(store) in last, stderr
    assert "run the same command again to resume" in last


def test_one_ctrl_c_stops_keeps_finished_runs_and_leaves_no_process(tmp_path):
    with bench(tmp_path, LONG_GRID) as (process, store):
        _started(process)
        os.killpg(process.pid, signal.SIGINT)  # as the terminal does: to the whole foreground group
        _, stderr = process.communicate(timeout=10)
        assert process.returncode == 130, stderr
        _check_stop_line(stderr, store)
        assert len(stderr.strip().splitlines()) == 2  # the plan, then the stop
        assert _wait_until(lambda: not _session(process.pid), 10), "processes left behind"


def test_second_ctrl_c_exits_at_once(tmp_path):
    with bench(tmp_path, LONG_GRID) as (process, store):
        _started(process)
        os.killpg(process.pid, signal.SIGINT)
        time.sleep(1.0)
        os.killpg(process.pid, signal.SIGINT)
        _, stderr = process.communicate(timeout=5)
        assert process.returncode == 130, stderr
        _check_stop_line(stderr, store)
        assert _wait_until(lambda: not _session(process.pid), 10), "processes left behind"


@pytest.mark.parametrize("signum", [signal.SIGKILL, signal.SIGTERM])
def test_workers_do_not_outlive_the_main_process(tmp_path, signum):
    with bench(tmp_path, LONG_GRID) as (process, store):
        _started(process)
        workers = _workers(process)
        os.kill(process.pid, signum)  # the main process alone: its workers must notice
        _, stderr = process.communicate(timeout=10)
        assert process.returncode == (-signal.SIGKILL if signum == signal.SIGKILL else 128 + signal.SIGTERM)
        assert _wait_until(lambda: not set(workers) & set(_session(process.pid)), 10), "orphaned workers"
        if signum == signal.SIGTERM:
            _check_stop_line(stderr, store)


def _stored(store: Path) -> dict[str, tuple]:
    """Every stored row by key, all columns; {} while the store does not exist."""
    try:
        connection = sqlite3.connect(f"file:{store}?mode=ro", uri=True)
    except sqlite3.Error:
        return {}
    try:
        return {row[0]: row for row in connection.execute("SELECT * FROM runs")}
    except sqlite3.Error:
        return {}
    finally:
        connection.close()


def test_a_grid_stopped_part_way_resumes_and_keeps_its_rows(tmp_path):
    with bench(tmp_path, SHORT_GRID, jobs=1) as (process, store):
        assert _wait_until(lambda: len(_stored(store)) >= 4, 60, 0.05), "the first group did not finish"
        os.killpg(process.pid, signal.SIGINT)  # the second group is training
        _, stderr = process.communicate(timeout=10)
        assert process.returncode == 130, stderr
        _check_stop_line(stderr, store)
        assert "4 of 8 runs are in" in stderr
    before = _stored(store)
    assert len(before) == 4
    with bench(tmp_path, SHORT_GRID, jobs=1) as (process, store):
        _, stderr = process.communicate(timeout=60)
        assert process.returncode == 0, stderr
        assert "8 runs, 4 already in" in stderr and "4 to train" in stderr
    after = _stored(store)
    assert len(after) == 8
    assert {key: after[key] for key in before} == before  # earlier rows unchanged, column for column
