"""Benchmark verdicts as a long table: one record per run and success criterion.

A ``RunRow`` is what the results store keeps: one wide row per run, with a
``solved_*``/``solved_at_*`` pair per MSE criterion and the exact-formula flag.
Statistics (stats.py) read the long form instead, where every criterion is a
value of one ``criterion`` column, so "success rate of criterion c per group" is
the same computation for every c, the exact formula included.

A criterion that does not apply to a run has no record of it: the run's
threshold is NaN (the Primer's ε-perfect outputs are defined on the
single-module task only, so ``primer`` never judges an ICLR run). Its rate
over such runs is then undefined, and reports print a dash, never 0%.
"""

from __future__ import annotations

import math
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
class CriterionVerdict(Record):
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


def applies(row: RunRow, criterion: str) -> bool:
    """Whether ``criterion`` judges the run of ``row``: the exact formula always, an MSE criterion where its
    threshold is a number."""
    return criterion == EXACT or not math.isnan(getattr(row, f"threshold_{criterion}"))


def run_verdicts(row: RunRow) -> list[CriterionVerdict]:
    """The verdicts of one run under the criteria that apply to it (``applies``), in ``VERDICT_CRITERIA`` order."""
    run = {name: getattr(row, name) for name in RUN_FIELDS}
    records = []
    for criterion in (criterion for criterion in CRITERIA if applies(row, criterion)):
        solved = bool(getattr(row, f"solved_{criterion}"))
        solved_at = getattr(row, f"solved_at_{criterion}") if solved else None
        records.append(
            CriterionVerdict(
                **run, criterion=criterion, solved=solved, solved_at=solved_at, sparsity_error=row.sparsity_error
            )
        )
    records.append(
        CriterionVerdict(
            **run, criterion=EXACT, solved=bool(row.formula_exact), solved_at=None, sparsity_error=row.sparsity_error
        )
    )
    return records


def verdicts(rows: Iterable[RunRow]) -> list[CriterionVerdict]:
    """The long table of ``rows``: one ``CriterionVerdict`` per run and criterion that applies, runs in order."""
    return [record for row in rows for record in run_verdicts(row)]
