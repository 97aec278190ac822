"""The time budget: a cap on a search whose work is set by counts, never a part of what it finds.

A search runs a fixed list of stages, each of a fixed number of starts, steps
and structures: the same table, seed and settings give the same law on an idle
machine and on a busy one. The budget only stops a search that would run too
long: it is checked between stages, between chunks of enumerated structures,
every few training steps and between readouts, and when it stops the search
the result says after which stage.
"""

from __future__ import annotations

import time


class OutOfTime(Exception):
    """Raised inside a stage when the budget is spent; the search catches it and keeps what it has."""


class Budget:
    """Seconds since the search began, against the cap."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.start = time.perf_counter()
        self.stopped_in: str | None = None  # the stage the budget cut short, once it has

    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def spent(self) -> bool:
        return self.elapsed() > self.seconds

    def check(self, stage: str, needed: float = 0.0) -> None:
        """Raise OutOfTime, recording ``stage``, when the budget is spent, or has less than ``needed`` seconds left
        (a step that cannot be cut short, such as importing torch for a trained stage, must fit in what is left)."""
        if self.elapsed() + needed > self.seconds:
            self.stopped_in = self.stopped_in or stage
            raise OutOfTime(stage)
