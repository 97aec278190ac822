"""The benchmark tasks and their range grids.

A ``RangePair`` says how inputs are drawn for training and validation
(interpolation) and for testing (extrapolation); the dividend a and the
divisor b may have their own distributions, the other inputs (distractors)
follow ``train``/``test``.

Grids (nalm.md, "Benchmark protocols"):

- ``primer``: the nine range pairs of the Primer (Mistry et al., JMLR 2022);
- ``division-extra``: the division paper's extra grids (Mistry et al., 2022).
  The paper names them; the exact parameters below are arithnet's reading,
  documented in docs/benchmarks.md: mixed signs (the Primer's positive ranges
  6–9 with a negated), Benford (log-uniform), truncated normals, wide
  uniforms, and divisors near zero (a ~ U[1, 2], b ~ U[0, c] → U[c, 2c]).
"""

from __future__ import annotations

from dataclasses import dataclass

from arithnet.bench.protocol.distributions import Distribution as D


@dataclass(frozen=True)
class RangePair:
    name: str
    train: D
    test: D
    train_a: D | None = None
    train_b: D | None = None
    test_a: D | None = None
    test_b: D | None = None

    def role(self, split: str, role: str) -> D:
        """Distribution of input ``role`` ('a', 'b' or 'other') in ``split`` ('train' or 'test')."""
        specific = getattr(self, f"{split}_{role}", None) if role in ("a", "b") else None
        return specific or getattr(self, split)


PRIMER_RANGES: dict[str, RangePair] = {
    r.name: r
    for r in (
        RangePair("1", D(-20, -10), D(-40, -20)),
        RangePair("2", D(-2, -1), D(-6, -2)),
        RangePair("3", D(-1.2, -1.1), D(-6.1, -1.2)),
        RangePair("4", D(-0.2, -0.1), D(-2, -0.2)),
        RangePair("5", D(-2, 2), D(2, 6, random_sign=True)),
        RangePair("6", D(0.1, 0.2), D(0.2, 2)),
        RangePair("7", D(1, 2), D(2, 6)),
        RangePair("8", D(1.1, 1.2), D(1.2, 6)),
        RangePair("9", D(10, 20), D(20, 40)),
    )
}


def _mixed(name: str, base: RangePair) -> RangePair:
    negate = lambda d: D(-d.high, -d.low)  # noqa: E731
    return RangePair(name, base.train, base.test, train_a=negate(base.train), test_a=negate(base.test))


DIVISION_EXTRA_RANGES: dict[str, RangePair] = {
    r.name: r
    for r in (
        *(_mixed(f"mixed-{k}", PRIMER_RANGES[k]) for k in ("6", "7", "8", "9")),
        RangePair("benford", D(10, 100, kind="loguniform"), D(100, 1000, kind="loguniform")),
        RangePair(
            "truncnormal-1", D(1, 2, kind="truncnormal", mean=1.5, std=0.25), D(2, 6, kind="truncnormal", mean=4, std=1)
        ),
        RangePair(
            "truncnormal-2", D(0.1, 2, kind="truncnormal", mean=1, std=0.5), D(2, 6, kind="truncnormal", mean=4, std=1)
        ),
        RangePair("wide-50", D(-50, 50), D(50, 100, random_sign=True)),
        RangePair("wide-100", D(-100, 100), D(100, 200, random_sign=True)),
        *(
            RangePair(f"near-zero-{edge:g}", D(1, 2), D(1, 2), train_b=D(0, edge), test_b=D(edge, 2 * edge))
            for edge in (1e-4, 1e-3, 1e-2, 1e-1, 1.0)
        ),
    )
}

#: The ICLR 2020 arithmetic task's range (Madsen & Johansen): train U[1, 2], test U[2, 6].
ICLR_RANGES: dict[str, RangePair] = {"iclr": RangePair("iclr", D(1, 2), D(2, 6))}

GRIDS: dict[str, dict[str, RangePair]] = {
    "primer": PRIMER_RANGES,
    "division-extra": DIVISION_EXTRA_RANGES,
    "iclr": ICLR_RANGES,
}


def get_range(name: str) -> RangePair:
    """A range pair by name from any grid; a ValueError lists the valid names."""
    for grid in GRIDS.values():
        if name in grid:
            return grid[name]
    valid = ", ".join(name for grid in GRIDS.values() for name in grid)
    raise ValueError(f"unknown range {name!r}; valid ranges: {valid}")
