"""Running a benchmark grid on a Ray cluster: the same groups as on one machine, trained as Ray tasks.

The grid is planned and grouped as by bench.run.runner (same groups, same
thresholds), and each group becomes one Ray task of one CPU that trains it
in one torch thread and returns its rows. Ray does the scheduling: tasks go
to free CPUs anywhere in the cluster, and a task whose worker process or
node dies is run again (``MAX_RETRIES``). The driver, the process that
called ``run_grid_ray``, alone writes the one results store, each group's
rows as they arrive (bench.run.writer), so a grid stopped or rerun resumes as on
one machine, and a group trained twice (a retry after its rows were sent)
adds nothing: rows are stored once per key.

SIGINT or SIGTERM stops the grid as bench.run.runner does: the rows of groups
already finished are stored, the outstanding tasks are cancelled, and
``GridStopped`` is raised.

Ray is optional (``pip install 'arithnet[ray]'``) and imported only here,
only when a grid runs on it. Every node needs the same arithnet installed:
tasks name their function by module, they do not ship the code.
"""

from __future__ import annotations

import contextlib
import re
import socket
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from arithnet.bench.protocol import Run, RunRow
from arithnet.bench.run import limits
from arithnet.bench.run.runner import (
    TICK,
    StopSignals,
    WorkerFailed,
    fit_to_memory,
    make_groups,
    prepare_compiling,
    train_and_store,
)
from arithnet.bench.run.store_files import first_line
from arithnet.bench.run.writer import StoreWriter

#: Times Ray runs a group again after its worker process or node died (not after an error in training).
MAX_RETRIES = 3
#: Seconds to reach a cluster's address before giving up on it (Ray itself waits minutes).
CONNECT_TIMEOUT = 3.0
#: Ports of an address given without one: Ray Client's (ray://) and the head node's GCS.
CLIENT_PORT, GCS_PORT = 10001, 6379
#: Terminal colour codes, which Ray puts in the tracebacks of failed tasks.
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
INSTALL_HINT = "pip install 'arithnet[ray]' -c constraints.txt (the versions arithnet is tested with)"


def train_group(group: Sequence[Run]) -> list[RunRow]:
    """The body of one Ray task: train ``group`` in one torch thread and return its rows."""
    import torch

    from arithnet.bench.protocol import run_group

    torch.set_num_threads(1)
    return run_group([config for config, _ in group], [seed for _, seed in group])


def run_grid_ray(
    runs: Sequence[Run],
    store_path: Path,
    jobs: int = 2,
    on_progress: Callable[[float, int], None] | None = None,
    address: str | None = "local",
) -> int:
    """Train ``runs`` as Ray tasks, storing each group's rows as it ends; returns rows added.

    ``address`` "local" starts a Ray instance on this machine with ``jobs``
    CPUs (capped at the machine's, as ``run_grid`` caps its workers) and
    stops it at the end; any other address (``ray://HOST:10001``,
    ``HOST:6379``, ``auto``) joins that cluster and uses all its CPUs; None
    uses the Ray instance this process already joined (``ray.init``).
    ``on_progress(runs_done, runs_total)`` is called as groups finish.
    ValueError with one line if Ray is not installed or the address cannot be
    reached; ``GridStopped`` on SIGINT or SIGTERM, as ``run_grid``.
    """
    if not runs:
        return 0
    ray = import_ray()
    prepare_compiling(runs)  # a local instance's workers inherit the cache chosen here
    jobs, _ = fit_to_memory(runs, limits.worker_count(jobs))  # a local instance gets the CPUs run_grid would use
    with joined(ray, address, jobs) as (n_cpus, node_cpus):
        _, max_group = fit_to_memory(runs, node_cpus)  # a node's groups must fit in its memory together
        groups = make_groups(runs, n_cpus, max_group)
        progress = _Progress(len(runs), on_progress)
        return train_and_store(store_path, lambda writer, signals: _train(ray, groups, writer, signals, progress))


def import_ray():
    """The ray module; ValueError saying how to install it if it is missing."""
    try:
        import ray
    except ImportError:
        raise ValueError(f"running a grid on Ray needs the ray package, not installed: {INSTALL_HINT}") from None
    return ray


def check_ray(address: str, timeout: float = CONNECT_TIMEOUT) -> None:
    """Refuse, before anything is made, a Ray grid that cannot start: Ray missing, ``address`` not Ray's.

    Within about ``timeout`` seconds (each check's), and without a word from Ray's own clients.
    """
    import_ray()
    if address != "local":
        check_address(address, timeout)


def check_address(address: str, timeout: float = CONNECT_TIMEOUT) -> None:
    """ValueError naming ``address`` unless it accepts a connection and answers as Ray does, each within ``timeout``."""
    check_reachable(address, timeout)
    check_answers(address, timeout)


@contextlib.contextmanager
def joined(ray, address: str | None, jobs: int) -> Iterator[tuple[int, int]]:
    """Ray joined at ``address`` (see ``run_grid_ray``); yields (CPUs of the cluster, CPUs of its largest node).

    Leaves Ray as it found it: an instance started or joined here is left at the end.
    """
    if address is None:
        if not ray.is_initialized():
            raise ValueError("address None uses the Ray instance this process joined, but ray.init was not called")
        yield cluster_cpus(ray, "the Ray instance of this process")
        return
    if address != "local":
        check_address(address)
    if ray.is_initialized():
        raise ValueError(f"this process joined a Ray instance already; to use it pass address None, not {address!r}")
    options = {"num_cpus": jobs} if address == "local" else {}
    try:
        # Warnings only (Ray's INFO lines would break into the progress bar); workers' output stays in Ray's logs.
        ray.init(address=address, include_dashboard=False, log_to_driver=False, logging_level="WARNING", **options)
    except (ConnectionError, RuntimeError, ValueError) as error:
        raise ValueError(f"cannot join the Ray cluster at {address!r}: {first_line(error, limit=None)}") from None
    try:
        yield cluster_cpus(ray, f"the Ray cluster at {address!r}")
    finally:
        ray.shutdown()


def cluster_cpus(ray, name: str) -> tuple[int, int]:
    """(CPUs of the live nodes, CPUs of the largest one); ValueError if there are none."""
    cpus = [int(node["Resources"].get("CPU", 0)) for node in ray.nodes() if node["Alive"]]
    if not any(cpus):
        raise ValueError(f"{name} has no CPUs for tasks")
    return sum(cpus), max(cpus)


def check_reachable(address: str, timeout: float = CONNECT_TIMEOUT) -> None:
    """ValueError naming ``address`` unless a TCP connection to it opens within ``timeout`` s.

    Only the connection is checked; ``check_answers`` asks whether Ray listens there.
    """
    host, port = _host_port(address)
    try:
        socket.create_connection((host, port), timeout).close()
    except OSError as error:
        reason = f"no answer within {timeout:g} s" if isinstance(error, TimeoutError) else error.strerror or str(error)
        where = "" if address == f"{host}:{port}" else f" ({host}:{port})"
        raise ValueError(f"cannot reach the Ray cluster at {address!r}{where}: {reason}") from None


def check_answers(address: str, timeout: float = CONNECT_TIMEOUT) -> None:
    """ValueError naming ``address`` unless Ray answers there within ``timeout`` s.

    One call that Ray's own clients make first: the GCS's (``HOST:6379``,
    ``auto``) cluster id, or a Ray Client server's (``ray://``) ping. ``ray.init``
    on something else waits 25 s or more and prints Ray's connection warnings;
    this call is silent. The channel is Ray's own (``init_grpc_channel``): TLS
    and the token as ``RAY_USE_TLS`` and ``RAY_AUTH_MODE`` say. A refusal for
    want of a token still comes from Ray, and is left to ``ray.init`` to explain.
    """
    import grpc
    from ray._private.grpc_utils import init_grpc_channel

    host, port = _host_port(address)
    channel = init_grpc_channel(f"[{host}]:{port}" if ":" in host else f"{host}:{port}")
    try:
        _ping(channel, client=address.startswith("ray://"), timeout=timeout)
    except grpc.RpcError as error:
        code = error.code() if callable(getattr(error, "code", None)) else None
        if code not in (grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED):
            served = "a Ray Client server" if address.startswith("ray://") else "a Ray cluster's GCS"
            reasons = {
                grpc.StatusCode.DEADLINE_EXCEEDED: f"no answer within {timeout:g} s",
                grpc.StatusCode.UNIMPLEMENTED: "a gRPC server without Ray's calls",
                grpc.StatusCode.UNAVAILABLE: "it does not speak gRPC",
            }
            reason = reasons.get(code, getattr(code, "name", "no answer"))
            raise ValueError(
                f"the address {address!r} accepts connections but does not answer as Ray does "
                f"({reason}): is it {served}?"
            ) from None
    finally:
        channel.close()


def _ping(channel, client: bool, timeout: float) -> None:
    """The first call of Ray's clients: a Ray Client server's ping, or the GCS's cluster id."""
    if client:
        from ray.core.generated import ray_client_pb2, ray_client_pb2_grpc

        request = ray_client_pb2.ClusterInfoRequest(type=ray_client_pb2.ClusterInfoType.PING)
        ray_client_pb2_grpc.RayletDriverStub(channel).ClusterInfo(request, timeout=timeout)
    else:
        from ray.core.generated import gcs_service_pb2, gcs_service_pb2_grpc

        gcs_service_pb2_grpc.NodeInfoGcsServiceStub(channel).GetClusterId(
            gcs_service_pb2.GetClusterIdRequest(), timeout=timeout
        )


def _host_port(address: str) -> tuple[str, int]:
    if address == "auto":  # the cluster `ray start` last started here, or RAY_ADDRESS
        from ray._private.services import canonicalize_bootstrap_address_or_die

        try:
            address = canonicalize_bootstrap_address_or_die("auto")
        except ConnectionError as error:
            raise ValueError(f"cannot find a Ray cluster for address 'auto': {first_line(error, limit=None)}") from None
    rest = address.removeprefix("ray://")
    host, colon, port = rest.rpartition(":")
    if not colon:
        host, port = rest, str(CLIENT_PORT if address.startswith("ray://") else GCS_PORT)
    if not host or "/" in host or not port.isdigit():
        raise ValueError(f"bad Ray address {address!r}: expected ray://HOST:PORT, HOST:PORT or auto")
    return host.strip("[]"), int(port)


def _remote_train(ray):
    """``train_group`` as a Ray task: one CPU, run again if its worker dies."""
    return ray.remote(num_cpus=1, max_retries=MAX_RETRIES)(train_group)


def _train(ray, groups: list[list[Run]], writer: StoreWriter, signals: StopSignals, progress: _Progress) -> None:
    """Submit every group, store each one's rows as it ends; on a stop keep what finished and cancel the rest."""
    task = _remote_train(ray)
    pending = {task.remote(group): group for group in groups}
    signals.on_second = lambda: _cancel(ray, pending)
    progress.report()
    try:
        while pending and not signals.pending():
            ready, _ = ray.wait(list(pending), num_returns=len(pending), timeout=TICK)
            _store_ready(ray, ready, pending, writer, progress)
            writer.flush()
        if pending:  # stopped: the groups that ended meanwhile are kept too
            ready, _ = ray.wait(list(pending), num_returns=len(pending), timeout=0)
            _store_ready(ray, ready, pending, writer, progress)
    finally:
        _cancel(ray, pending)


def _store_ready(ray, ready: list, pending: dict, writer: StoreWriter, progress: _Progress) -> None:
    for ref in ready:
        group = pending.pop(ref)
        try:
            rows = ray.get(ref)
        except ray.exceptions.RayError as error:
            what = f"a group of {len(group)} runs of {group[0][0].unit} on {group[0][0].operation}"
            raise WorkerFailed(f"a Ray task failed training {what}:\n{_ANSI.sub('', str(error))}") from None
        writer.add(rows)
        progress.finished(len(group))


def _cancel(ray, pending: dict) -> None:
    """Cancel the outstanding tasks, killing their workers; safe in a signal handler."""
    for ref in list(pending):
        with contextlib.suppress(Exception):  # finished or lost meanwhile: nothing to cancel
            ray.cancel(ref, force=True)


class _Progress:
    """Runs of the finished groups, reported to ``callback(runs_done, runs_total)``."""

    def __init__(self, n_runs: int, callback: Callable[[float, int], None] | None) -> None:
        self.n_runs, self.callback, self.done = n_runs, callback, 0

    def finished(self, n_runs: int) -> None:
        self.done += n_runs
        self.report()

    def report(self) -> None:
        if self.callback is not None:
            self.callback(self.done, self.n_runs)
