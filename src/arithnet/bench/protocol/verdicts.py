"""Benchmark verdicts as a long table: one record per run and success criterion.

A ``RunRow`` is what the results store keeps: one wide row per run, with a
``solved_*``/``solved_at_*`` pair per MSE criterion and the exact-formula flag.
Statistics (stats.py) read the long form instead, where every criterion is a
value of one ``criterion`` column, so "success rate of criterion c per group" is
the same computation for every c, the exact formula included.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from arithnet.bench.protocol.rows import CRITERIA, Record, RunRow

#: The exact-formula criterion: the run's rounded weights give the target formula. It has no solved-at step.
EXACT = "exact"

#: Every criterion of the long table: the MSE criteria in their report order, then the exact formula.
VERDICT_CRITERIA = (*CRITERIA, EXACT)

#: The fields that identify a run; statistics group by any of them.
RUN_FIELDS = ("key", "unit", "operation", "task", "range_name", "seed")


@dataclass(frozen=True)
class Verdict(Record):
    """Whether one run passed one criterion.

    ``solved_at`` is the first step at which the run passed (None if it did not,
    or for the exact-formula criterion, which is judged once, at the end).
    ``sparsity_error`` is the run's, the same in every criterion's record.
    """

    key: str
    unit: str
    operation: str
    task: str
    range_name: str
    seed: int
    criterion: str
    solved: bool
    solved_at: int | None
    sparsity_error: float


def run_verdicts(row: RunRow) -> list[Verdict]:
    """The verdicts of one run, in ``VERDICT_CRITERIA`` order."""
    run = {name: getattr(row, name) for name in RUN_FIELDS}
    records = []
    for criterion in CRITERIA:
        solved = bool(getattr(row, f"solved_{criterion}"))
        solved_at = getattr(row, f"solved_at_{criterion}") if solved else None
        records.append(
            Verdict(**run, criterion=criterion, solved=solved, solved_at=solved_at, sparsity_error=row.sparsity_error)
        )
    records.append(
        Verdict(
            **run, criterion=EXACT, solved=bool(row.formula_exact), solved_at=None, sparsity_error=row.sparsity_error
        )
    )
    return records


def verdicts(rows: Iterable[RunRow]) -> list[Verdict]:
    """The long table of ``rows``: one ``Verdict`` per run and criterion, runs in the given order."""
    return [record for row in rows for record in run_verdicts(row)]
