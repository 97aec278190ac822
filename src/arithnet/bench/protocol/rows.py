"""One benchmark run's outcome: the row kept in the results store."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

#: The three success criteria, in the order they are reported.
CRITERIA = ("raw", "iclr", "primer")


class Record:
    """A flat dataclass record: its fields as a dict, and its column names."""

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def column_names(cls) -> list[str]:
        return [f.name for f in fields(cls)]


@dataclass(frozen=True)
class RunRow(Record):
    """Outcome of one (unit, operation, task, range, seed) run.

    ``key`` identifies the run: the same configuration and seed give the same
    key, so a rerun can skip runs whose rows exist. ``config`` is the full
    configuration as JSON text.
    """

    key: str
    unit: str
    operation: str
    task: str
    range_name: str
    seed: int
    steps: int
    config: str
    best_step: int
    best_val_mse: float
    best_test_mse: float
    threshold_raw: float
    threshold_iclr: float
    threshold_primer: float
    solved_raw: bool
    solved_iclr: bool
    solved_primer: bool
    solved_at_raw: int | None
    solved_at_iclr: int | None
    solved_at_primer: int | None
    sparsity_error: float
    formula: str
    formula_exact: bool
    seconds: float
