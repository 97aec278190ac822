"""One torch thread per process while training: tiny tensors run fastest on one core."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch


@contextmanager
def single_thread() -> Iterator[None]:
    """One torch thread inside the block, the previous count after it.

    Two threads on tiny tensors were measured up to 1000× slower while the
    other core was busy; arithnet uses the cores through processes instead.
    """
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)
