"""Worker processes of a benchmark: train groups sent by the main process, send back rows.

Each worker is a ``spawn`` process with one torch thread, connected to the
main process by two one-way pipes: groups come in, progress and each
finished group's rows go out. Workers never write the store and never
outlive the main process:

- they ignore SIGINT (blocked from before they start until it is ignored),
  so the terminal's Ctrl-C reaches the main process alone, which then stops
  them in order;
- on Linux the kernel kills them when the main process dies
  (``prctl(PR_SET_PDEATHSIG)``); everywhere a listener thread exits the
  worker when the command pipe reaches end of file or the parent changes;
- a stop message ends a worker at once, unless it is sending a message or
  has passed its group's last training step: then it first sends the rows.
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import os
import queue
import signal
import sys
import threading
import time
import traceback
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from multiprocessing import resource_tracker
from multiprocessing.connection import Connection, wait

_PR_SET_PDEATHSIG = 1
#: Seconds between the listener's checks that the parent still lives.
PARENT_POLL = 1.0
#: Sent to a worker to end it; the only command that is not a group.
STOP = None


# -- in the worker -------------------------------------------------------------


def worker_main(commands: Connection, results: Connection, parent_pid: int) -> None:
    """A worker's life: train each group received on ``commands``, send messages on ``results``.

    Messages: ("progress", steps done), ("rows", list of RunRow), ("error", traceback text).
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})  # a Ctrl-C pending from startup is dropped
    _die_with_parent(parent_pid)
    outbox = _Outbox(results)
    inbox: queue.SimpleQueue = queue.SimpleQueue()
    threading.Thread(target=_listen, args=(commands, inbox, outbox, parent_pid), daemon=True).start()
    import torch  # after the listener starts: a stop during this slow import is obeyed at once

    torch.set_num_threads(1)
    while True:
        _train(inbox.get(), outbox)


def _die_with_parent(parent_pid: int) -> None:
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):  # the listener's checks remain
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, ctypes.c_ulong(signal.SIGKILL), 0, 0, 0)
    if os.getppid() != parent_pid:  # the parent died before the kernel was asked to tell us
        os._exit(0)


def _listen(commands: Connection, inbox: queue.SimpleQueue, outbox: _Outbox, parent_pid: int) -> None:
    """Pass groups on to the training thread; exit the process on STOP or when the parent is gone."""
    while True:
        if os.getppid() != parent_pid:
            os._exit(0)
        try:
            if not commands.poll(PARENT_POLL):
                continue
            message = commands.recv()
        except (EOFError, OSError):  # the main process closed its end, or died
            os._exit(0)
        if message is STOP:
            outbox.exit()
        inbox.put(message)


class _Outbox:
    """Messages to the main process, under a lock that exiting takes too.

    So a stop never cuts a message in half, and a group past its last
    training step (reading formulas) is sent before the worker exits.
    """

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.lock = threading.Lock()
        self.held = False

    def send(self, message: tuple, hold: bool = False) -> None:
        if not self.held:
            self.lock.acquire()
            self.held = True
        try:
            self.connection.send(message)
        except OSError:  # the main process is gone: nobody wants the work
            os._exit(0)
        if not hold:
            self.release()

    def release(self) -> None:
        if self.held:
            self.held = False
            self.lock.release()

    def exit(self) -> None:
        self.lock.acquire()
        os._exit(0)


def _train(group: list, outbox: _Outbox) -> None:
    from arithnet.bench.protocol import run_group

    steps = group[0][0].steps

    def progress(step: int) -> None:
        outbox.send(("progress", step), hold=step >= steps)  # held until the rows are sent

    try:
        rows = run_group([config for config, _ in group], [seed for _, seed in group], progress=progress)
        outbox.send(("rows", rows))
    except Exception:
        outbox.send(("error", traceback.format_exc()))
    finally:
        outbox.release()


# -- in the main process -------------------------------------------------------


@dataclass(eq=False)
class Worker:
    """The main process's handle on one worker: its process, its pipes, the group it trains."""

    process: multiprocessing.process.BaseProcess
    commands: Connection
    results: Connection
    group: int | None = None
    steps: int = 0
    finishing: bool = False  # past the group's last training step: its rows are worth waiting for
    connected: bool = True

    def send(self, message) -> None:
        with contextlib.suppress(OSError):  # a dead worker's end of file is seen on ``results``
            self.commands.send(message)


def start_workers(count: int) -> list[Worker]:
    """Start ``count`` workers, SIGINT blocked meanwhile so that they inherit it blocked."""
    context = multiprocessing.get_context("spawn")
    if not hasattr(signal, "pthread_sigmask"):
        return [_start(context) for _ in range(count)]
    # Starting multiprocessing's resource tracker unblocks SIGINT: start it before blocking.
    resource_tracker.ensure_running()
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        return [_start(context) for _ in range(count)]
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _start(context) -> Worker:
    commands_out, commands_in = context.Pipe(duplex=False)  # (receiving end, sending end)
    results_out, results_in = context.Pipe(duplex=False)
    process = context.Process(
        target=worker_main, args=(commands_out, results_in, os.getpid()), name="arithnet-bench-worker", daemon=True
    )
    process.start()
    # Only the worker may hold its ends: then its death is end of file here, and ours is there.
    commands_out.close()
    results_in.close()
    return Worker(process, commands_in, results_out)


def receive(workers: Sequence[Worker], timeout: float) -> Iterator[tuple[Worker, tuple]]:
    """Messages that arrive within ``timeout`` s; ("exit", exit code) when a worker's pipe closes."""
    by_connection = {w.results: w for w in workers if w.connected}
    for connection in wait(list(by_connection), timeout):
        worker = by_connection[connection]
        try:
            yield worker, connection.recv()
        except Exception:  # end of file; or a message cut by a kill, which leaves the pipe unreadable
            worker.connected = False
            worker.process.join(1.0)
            yield worker, ("exit", worker.process.exitcode)


def stop_workers(workers: Sequence[Worker], grace: float, quick: float) -> Iterator[tuple[Worker, tuple]]:
    """Tell every worker to stop and yield what they still send; kill what still runs after the grace.

    A finishing worker gets ``grace`` s to send its rows; the others ``quick``
    s to exit by themselves (one still starting up cannot read the message).
    """
    try:
        for worker in workers:
            worker.send(STOP)
        start = time.monotonic()
        while True:
            waiting = [w for w in workers if w.connected and time.monotonic() < start + _grace(w, grace, quick)]
            if not waiting:
                break
            yield from receive(waiting, min(0.1, max(0.0, start + grace - time.monotonic())))
    finally:
        kill_workers(workers)


def _grace(worker: Worker, grace: float, quick: float) -> float:
    return grace if worker.finishing else quick


def kill_workers(workers: Sequence[Worker]) -> None:
    """Kill (SIGKILL) every worker still running and reap it. Safe in a signal handler."""
    for worker in workers:
        if worker.process.exitcode is None:
            with contextlib.suppress(OSError):
                worker.process.kill()
    for worker in workers:
        worker.process.join(5.0)
