"""The field's published success rates, as data: each with its source, criterion, runs and interval.

Only numbers found stated in a paper are here (nalm.md, "Published results",
checked against the papers' abstracts where they state them); a table line
without an entry reads "not published here". In particular the Primer
(Mistry et al., JMLR 2022) shows its single-module results per range as
figures (its Figures 14–17), without success rates in its text or in its
code's repository (bmistry4/nalm-benchmark holds scripts, no result files), so
the ``primer`` table has no entries.

Where the paper gives an interval (the ICLR paper's "98% (+1/−5)") it is
kept as published (``interval="paper"``); otherwise the interval is the 95%
Wilson interval of round(rate · n) successes in n runs (``interval="wilson"``),
which gives back the published rate to its printed digit for every entry here.

Units are named as arithnet runs them: the ICLR task's two-layer networks as
``FIRST>SECOND``, following the reference code's models (stable-nalu: "NAU" is
NAU→NAU, "NMU" is NAU→NMU, "NAC•" is NAC+→NAC•, "NAC+" and "NALU" use the
same unit in both layers).
"""

from __future__ import annotations

from dataclasses import dataclass

from arithnet.bench.report.stats import wilson_interval

DIVISION_PAPER = (
    "Mistry, Farrahi & Hare, Learning Division with Neural Arithmetic Logic Modules, "
    "arXiv 2110.05177, abstract and results (input 10, 225 training sets)"
)
ICLR_PAPER = "Madsen & Johansen, Neural Arithmetic Units, ICLR 2020, arithmetic task table (100 seeds)"
#: 25 seeds × the Primer's 9 ranges: the division paper's "225 training sets".
DIVISION_RUNS = 225
#: Seeds per model and operation in the ICLR paper's arithmetic task.
ICLR_RUNS = 100


@dataclass(frozen=True)
class Published:
    """One published success rate of a unit on an operation, in one of the report's tables.

    ``rate``, ``low``, ``high`` are fractions; ``interval`` says where the
    bounds come from: "paper" (stated there) or "wilson" (computed here from
    ``rate`` and ``n_runs``). ``solved_at_median`` is the published median
    solved-at step, if any.
    """

    table: str
    unit: str
    operation: str
    rate: float
    low: float
    high: float
    interval: str
    n_runs: int
    criterion: str
    source: str
    solved_at_median: float | None = None


def _wilson(table: str, unit: str, operation: str, rate: float, n_runs: int, criterion: str, source: str, **extra):
    _, low, high = wilson_interval(round(rate * n_runs), n_runs)
    return Published(table, unit, operation, rate, low, high, "wilson", n_runs, criterion, source, **extra)


def _iclr(unit: str, operation: str, rate: float, plus_minus: tuple[float, float] | None = None, **extra):
    if plus_minus is None:
        return _wilson("iclr", unit, operation, rate, ICLR_RUNS, "iclr", ICLR_PAPER, **extra)
    low, high = rate - plus_minus[1], rate + plus_minus[0]
    return Published("iclr", unit, operation, rate, low, high, "paper", ICLR_RUNS, "iclr", ICLR_PAPER, **extra)


def _division(unit: str, rate: float) -> Published:
    return _wilson("division", unit, "div", rate, DIVISION_RUNS, "raw", DIVISION_PAPER)


def _published() -> tuple[Published, ...]:
    entries = [
        # The division paper: modified Real NPU 85.3%, "improving over the original by 15.1%", NMRU 91.6%.
        _division("RealNPU", 0.702),
        _division("RealNPU-mod", 0.853),
        _division("NMRU", 0.916),
        _iclr("NAU>NMU", "mul", 0.98, (0.01, 0.05), solved_at_median=1.4e6),
        _iclr("NAC+>NAC*", "mul", 0.31),
        _iclr("NALU>NALU", "mul", 0.0),
        _iclr("NAU>NAU", "add", 1.0, solved_at_median=1.8e4),
        _iclr("NAC+>NAC+", "add", 1.0),
        _iclr("NALU>NALU", "add", 0.14),
        _iclr("NAU>NAU", "sub", 1.0, solved_at_median=5.0e3),
        _iclr("NAC+>NAC+", "sub", 1.0),
        _iclr("NAU>NMU", "sub", 0.56),
        _iclr("NALU>NALU", "sub", 0.14),
    ]
    # "÷: every module 0% (+4)": the table's modules, as arithnet's stacks.
    for unit in ("NAU>NAU", "NAU>NMU", "NAC+>NAC+", "NAC+>NAC*", "NALU>NALU"):
        entries.append(_iclr(unit, "div", 0.0, (0.04, 0.0)))
    return tuple(entries)


PUBLISHED: tuple[Published, ...] = _published()


def published(table: str, unit: str, operation: str) -> Published | None:
    """The published rate of ``unit`` on ``operation`` in ``table``, or None if none is stored."""
    for entry in PUBLISHED:
        if (entry.table, entry.unit, entry.operation) == (table, unit, operation):
            return entry
    return None
