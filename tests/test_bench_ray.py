"""Benchmark grids on Ray (bench.run.cluster): the rows of one machine, resumed, retried; bad input refused.

One local Ray instance of 2 CPUs serves the module. It lives in a temporary
directory of its own and Ray picks free ports. Starting one takes seconds, so
the module's tests form one xdist group (``make test`` runs pytest with
``--dist loadgroup``): one worker runs them all and starts one instance.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading

import pytest
import ray
from typer.testing import CliRunner

from arithnet.bench import bench_grid
from arithnet.bench.run import ResultsStore, WorkerFailed, cluster, pending_runs, run_grid
from arithnet.cli import app
from arithnet.cli.bench import BenchCommand
from arithnet.cli.shared import fill_optional_values

pytestmark = pytest.mark.xdist_group("ray")

#: 6 runs in 2 groups (NAU on add, ranges 1-3, 2 seeds), a few seconds each.
GRID = {"units": "NAU", "ops": "add", "ranges": "1-3", "seeds": 2, "steps": 400}
CLI_GRID = ["bench", "--units", "NAU", "--ops", "add", "--ranges", "1-2", "--seeds", "1", "--steps", "200"]
#: Fields that depend on the machine's speed, not on the run.
TIMING = {"seconds"}


@pytest.fixture(scope="module")
def ray_instance():
    temp_dir = tempfile.mkdtemp(prefix="arithnet-ray-")  # short: Ray's socket paths must stay under 108 bytes
    ray.init(
        num_cpus=2,
        object_store_memory=100 * 2**20,  # rows are small
        include_dashboard=False,
        log_to_driver=False,
        logging_level="WARNING",
        _temp_dir=temp_dir,
    )
    yield ray
    ray.shutdown()
    shutil.rmtree(temp_dir, ignore_errors=True)


def test_the_module_runs_as_one_xdist_group(request):
    """Under ``--dist loadgroup`` every test here carries the group "ray", so one worker starts one instance."""
    if getattr(request.config.option, "loadgroup", False):
        assert request.node.nodeid.endswith("@ray"), "pytest-xdist's groups are not applied by this pytest"


def _fields(store_path) -> list[dict]:
    with ResultsStore(store_path) as store:
        return [{k: v for k, v in dataclasses.asdict(row).items() if k not in TIMING} for row in store.rows()]


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_ray_gives_the_rows_of_one_machine_and_resumes(ray_instance, tmp_path):
    runs = bench_grid(**GRID).runs()
    assert run_grid(runs, tmp_path / "local.sqlite", jobs=2) == 6
    seen = []
    added = run_grid_ray_here(runs, tmp_path / "ray.sqlite", lambda done, total: seen.append((done, total)))
    assert added == 6 and seen[0] == (0, 6) and seen[-1] == (6, 6)
    local, on_ray = _fields(tmp_path / "local.sqlite"), _fields(tmp_path / "ray.sqlite")
    assert len(local) == 6 and on_ray == local  # every field but the seconds, bit for bit
    assert run_grid_ray_here(runs, tmp_path / "ray.sqlite") == 0  # trained again: stored once per key
    with ResultsStore(tmp_path / "ray.sqlite") as store:
        assert len(store) == 6 and pending_runs(runs, store) == []


def run_grid_ray_here(runs, store_path, on_progress=None) -> int:
    return cluster.run_grid_ray(runs, store_path, on_progress=on_progress, address=None)


def _dying_once(marker: str):
    """A group's task whose first run anywhere kills its own worker process; later runs train."""

    def train(group):
        try:
            os.close(os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            return cluster.train_group(group)
        os._exit(1)

    return train


def test_a_group_whose_worker_dies_runs_again(ray_instance, tmp_path, monkeypatch):
    marker = tmp_path / "died"
    remote = ray.remote(num_cpus=1, max_retries=cluster.MAX_RETRIES)(_dying_once(str(marker)))
    monkeypatch.setattr(cluster, "_remote_train", lambda _: remote)
    runs = bench_grid(**{**GRID, "ranges": "1-2", "seeds": 1, "steps": 200}).runs()
    assert run_grid_ray_here(runs, tmp_path / "ray.sqlite") == 2
    assert marker.exists()  # a worker did die, and its group's row is stored all the same
    with ResultsStore(tmp_path / "ray.sqlite") as store:
        assert pending_runs(runs, store) == []


def test_an_error_in_a_task_is_reported_with_its_traceback(ray_instance, tmp_path, monkeypatch):
    def failing(group):  # nested: Ray ships it by value, the workers cannot import this module
        raise ArithmeticError(f"no training for {len(group)} runs")

    remote = ray.remote(num_cpus=1, max_retries=cluster.MAX_RETRIES)(failing)
    monkeypatch.setattr(cluster, "_remote_train", lambda _: remote)
    runs = bench_grid(**{**GRID, "ranges": "1-2", "seeds": 1}).runs()
    expected = r"(?s)a Ray task failed training a group of 1 runs of NAU on add:.*ArithmeticError: no training"
    with pytest.raises(WorkerFailed, match=expected):
        run_grid_ray_here(runs, tmp_path / "ray.sqlite")


def test_the_command_runs_on_a_local_ray_instance_and_resumes(tmp_path):
    store = tmp_path / "results.sqlite"
    command = [sys.executable, "-m", "arithnet", *CLI_GRID, "--store", str(store), "--ray", "--jobs", "2"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "2 runs, 0 already" in done.stderr and "2 runs in" in done.stdout
    again = CliRunner().invoke(app, [*CLI_GRID, "--store", str(store), "--ray"])  # nothing to train: Ray not started
    assert again.exit_code == 0 and "2 runs, 2 already in" in again.output and "0 to train" in again.output


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["bench", "--ray"], ["bench", "--ray", "local"]),
        (["bench", "--ray", "--jobs", "2"], ["bench", "--ray", "local", "--jobs", "2"]),
        (["bench", "--ray", "ray://head:10001", "--jobs", "2"], ["bench", "--ray", "ray://head:10001", "--jobs", "2"]),
        (["bench", "--ray=auto"], ["bench", "--ray=auto"]),
        (["bench", "--", "--ray"], ["bench", "--", "--ray"]),
    ],
)
def test_ray_alone_means_a_local_instance(args, expected):
    assert fill_optional_values(args, BenchCommand.optional_values) == expected


@pytest.mark.parametrize(
    ("args", "address"),
    [
        (["--ray"], "local"),
        (["--ray", "--jobs", "1"], "local"),
        (["--ray", "auto", "--jobs", "1"], "auto"),
        (["--ray=ray://head:10001"], "ray://head:10001"),
    ],
)
def test_the_command_reads_ray_with_or_without_an_address(tmp_path, monkeypatch, args, address):
    def refuse(given):
        raise ValueError(f"address {given}")

    monkeypatch.setattr("arithnet.bench.run.cluster.check_ray", refuse)
    result = CliRunner().invoke(app, [*CLI_GRID, "--store", str(tmp_path / "s.sqlite"), *args])
    assert result.exit_code == 2 and f"address {address}" in result.output


def test_without_ray_installed_the_message_says_how_to_install_it(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` now raises ImportError
    runs = bench_grid(**GRID).runs()
    with pytest.raises(ValueError, match=r"pip install 'arithnet\[ray\]' -c constraints.txt"):
        cluster.run_grid_ray(runs, tmp_path / "ray.sqlite")
    result = CliRunner().invoke(app, [*CLI_GRID, "--store", str(tmp_path / "cli.sqlite"), "--ray"])
    assert result.exit_code == 2 and "pip install 'arithnet[ray]'" in result.output
    assert len(result.output.strip().splitlines()) == 1 and not (tmp_path / "cli.sqlite").exists()


def test_an_unreachable_address_is_refused_at_once_naming_it(tmp_path):
    address = f"127.0.0.1:{_closed_port()}"
    runs = bench_grid(**GRID).runs()
    with pytest.raises(ValueError, match=re.escape(f"cannot reach the Ray cluster at '{address}'")):
        cluster.run_grid_ray(runs, tmp_path / "ray.sqlite", address=address)
    result = CliRunner().invoke(app, [*CLI_GRID, "--store", str(tmp_path / "cli.sqlite"), "--ray", f"ray://{address}"])
    assert result.exit_code == 2 and f"cannot reach the Ray cluster at 'ray://{address}'" in result.output
    assert len(result.output.strip().splitlines()) == 1 and not (tmp_path / "cli.sqlite").exists()
    # At once: the port's refusal is the reason, not CONNECT_TIMEOUT passing without an answer.
    assert "Connection refused" in result.output and "no answer" not in result.output


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux drops connections to a full accept queue")
def test_an_address_that_does_not_answer_times_out_in_seconds(monkeypatch):
    timeouts = []  # the connection's own timeout bounds the wait: the one given, not the OS's minutes
    create_connection = socket.create_connection

    def recorded(address, timeout, *args, **kwargs):
        timeouts.append(timeout)
        return create_connection(address, timeout, *args, **kwargs)

    monkeypatch.setattr(cluster.socket, "create_connection", recorded)
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(0)  # never accepts: once the queue is full, connections get no answer
        address = f"127.0.0.1:{server.getsockname()[1]}"
        fillers = [socket.socket() for _ in range(3)]
        for filler in fillers:
            filler.setblocking(False)
            filler.connect_ex(("127.0.0.1", server.getsockname()[1]))
        with pytest.raises(ValueError, match=re.escape(f"cannot reach the Ray cluster at '{address}': no answer")):
            cluster.check_reachable(address, timeout=0.5)
        assert timeouts == [0.5]
        for filler in fillers:
            filler.close()


@pytest.mark.parametrize("address", ["ray://", "host/path:1", "ray://:10001"])
def test_a_malformed_address_is_refused(address):
    with pytest.raises(ValueError, match="bad Ray address"):
        cluster.check_reachable(address)


@contextlib.contextmanager
def _silent_server():
    """A local TCP server that accepts every connection and never says a word; yields its HOST:PORT."""
    server, accepted, stop = socket.socket(), [], threading.Event()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    server.settimeout(0.05)

    def serve():
        while not stop.is_set():
            with contextlib.suppress(OSError):  # the timeout: look at the stop flag again
                accepted.append(server.accept()[0])

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.getsockname()[1]}"
    finally:
        stop.set()
        thread.join()
        for connection in accepted:
            connection.close()
        server.close()


@pytest.mark.parametrize("scheme", ["", "ray://"])
def test_an_address_that_accepts_but_is_not_ray_is_refused_in_seconds(scheme):
    with _silent_server() as address:
        expected = f"the address '{scheme}{address}' accepts connections but does not answer as Ray"
        with pytest.raises(ValueError, match=re.escape(expected)):
            cluster.check_ray(f"{scheme}{address}", timeout=0.5)


def test_the_command_refuses_an_address_that_is_not_ray_creating_nothing(tmp_path):
    store = tmp_path / "runs" / "results.sqlite"
    with _silent_server() as address:
        command = [sys.executable, "-m", "arithnet", *CLI_GRID, "--store", str(store), "--ray", address]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and "does not answer as Ray" in done.stderr, done.stderr  # no Ray warnings
    assert not (tmp_path / "runs").exists()  # no store, no report directory


def test_ray_itself_passes_the_check_and_other_servers_do_not(ray_instance):
    from concurrent import futures

    import grpc
    from ray.util.client.server import server as ray_client_server

    cluster.check_ray(ray_instance.get_runtime_context().gcs_address)  # the GCS answers
    port = _closed_port()
    client_server = ray_client_server.serve("127.0.0.1", port)  # a Ray Client server answers its ping
    try:
        cluster.check_ray(f"ray://127.0.0.1:{port}")
    finally:
        client_server.grpc_server.stop(0)
    other = grpc.server(futures.ThreadPoolExecutor(max_workers=1))
    address = f"127.0.0.1:{other.add_insecure_port('127.0.0.1:0')}"
    other.start()
    try:
        with pytest.raises(ValueError, match=re.escape(f"'{address}' accepts connections but does not answer as")):
            cluster.check_ray(address)
    finally:
        other.stop(0)
