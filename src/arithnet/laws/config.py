"""Every setting of a law search, as one dataclass that law.json keeps."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from arithnet.checks import check_count, check_positive

if TYPE_CHECKING:
    from arithnet.tables import Table

#: The exponents physics laws use: LawNet's sparse starts and the lattice stage's single-variable groups.
LATTICE_POWERS = (-2.0, -1.0, -0.5, 0.5, 1.0, 2.0)
#: Target powers q: a network fits t = sign(y)·|y|^q, so y = t^(1/q) is a power of a sum.
SUM_POWERS = ("1", "-1", "2", "-2", "1/2", "-1/2")
#: Target powers tried with ratios (a ratio's −1 is the ratio turned over).
RATIO_POWERS = ("1", "2")


@dataclass(frozen=True)
class Stage:
    """One tensor program of the search: K monomials per network, and the shapes trained side by side.

    ``shapes`` are (numerator terms, denominator terms): (K, 0) is a sum of K
    monomials, (2, 2) a ratio of two sums of two. Every shape is trained for
    every target power it allows (sums: SUM_POWERS, ratios: RATIO_POWERS).
    """

    n_terms: int
    shapes: tuple[tuple[int, int], ...]

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Stage:
        return cls(int(data["n_terms"]), tuple(tuple(int(v) for v in shape) for shape in data["shapes"]))


#: Simplest first: the search stops after the first stage that yields a verified law.
DEFAULT_STAGES = (
    Stage(2, ((2, 0), (1, 1))),
    Stage(3, ((3, 0), (2, 1), (1, 2))),
    Stage(4, ((4, 0), (2, 2), (3, 1), (1, 3))),
    Stage(6, ((6, 0), (3, 3), (4, 2), (2, 4))),
)


@dataclass(frozen=True)
class FitConfig:
    """How ``fit_law`` searches (docs/laws.md says why each default is what it is).

    Attributes:
        seed: the search's random stream (starts, the held-out split).
        holdout: the fraction of rows kept out of training, for verification.
        n_starts: networks per shape and target power in a stage.
        n_kept: of those, how many go on to the polish (the lowest losses).
        steps: Adam steps of the search, on ``batch_rows`` rows (a fixed random subset).
        polish_steps: Adam steps of the polish, on the training rows (at most 4,096).
        lr: Adam's learning rate, constant: the lattice pull of the polish needs steps that still move.
        stages: the search's stages, simplest first.
        sum_powers, ratio_powers: the target powers q (y^q = the sum, or the ratio) tried.
        lattice_stage: try the power law's factor times one dimensionless group before training.
        rational_stage: solve y^q·Q = P over polynomial libraries in closed form before training
            (laws/search/rational.py).
        shared_starts: half the starts begin around the power law's common factor.
        lattice_pull: half the kept runs are pulled to half-integer exponents in the polish.
        exponent_grids: denominators exponents are snapped to (2: halves).
        max_denominator: constants snap to rationals p/q with q up to this.
        snap_sigmas: each fitted structure is read out once per entry, its constants snapped within that
            many standard errors (laws/constants.py). A second, tighter reading (1σ) was tried: it leaves
            constants as floats where no exact number is that close, and on a small table such a fit set
            the noise estimate below what the law itself reaches (the planets' aphelion).
        exact_tolerance: the held-out relative error below which a law is exact.
        max_noise: the largest relative noise a law may be verified to.
        time_budget: seconds, a cap on the whole search (its work is set by counts; a search the cap cuts
            short says so).
        screen_columns: a table of more than 10 input columns is first screened for the columns that matter
            (laws/search/screening.py).
        factored_stages: train FactorNets, sums of terms that are numerators times powers of sums
            (laws/search/factored.py), after the closed-form stages.
        power_moves: last, move a power of a sum of the noise-level laws by ½ where the rows prefer the
            neighbour, judge the moved law, and count such neighbours as rivals (laws/search/moves.py).
        min_rows: fewer rows are refused (and fewer than 2·(inputs + 2): a law needs rows to spare).
    """

    seed: int = 0
    holdout: float = 0.25
    n_starts: int = 32
    n_kept: int = 2
    steps: int = 500
    polish_steps: int = 300
    lr: float = 0.05
    batch_rows: int = 128
    stages: tuple[Stage, ...] = DEFAULT_STAGES
    sum_powers: tuple[str, ...] = SUM_POWERS
    ratio_powers: tuple[str, ...] = RATIO_POWERS
    lattice_stage: bool = True
    rational_stage: bool = True
    shared_starts: bool = True
    lattice_pull: bool = True
    exponent_grids: tuple[int, ...] = (2, 3)
    max_denominator: int = 24
    snap_sigmas: tuple[float, ...] = (4.0,)
    exact_tolerance: float = 1e-9
    max_noise: float = 0.1
    time_budget: float = 60.0
    min_rows: int = 8
    screen_columns: bool = True
    factored_stages: bool = True
    power_moves: bool = True

    def __post_init__(self) -> None:
        check_count("seed", self.seed, minimum=0)
        if not 0.05 <= self.holdout <= 0.5:
            raise ValueError(f"holdout must lie in [0.05, 0.5], got {self.holdout!r}")
        for name in ("n_starts", "n_kept", "steps", "polish_steps", "batch_rows", "max_denominator", "min_rows"):
            check_count(name.replace("_", " "), getattr(self, name))
        if self.n_starts % self.n_kept or self.n_starts == self.n_kept:
            raise ValueError(f"n_starts ({self.n_starts}) must be a multiple of n_kept ({self.n_kept}), and larger")
        for name in ("lr", "exact_tolerance", "max_noise", "time_budget"):
            check_positive(name.replace("_", " "), getattr(self, name))
        for name in (
            "screen_columns",
            "rational_stage",
            "factored_stages",
            "power_moves",
            "lattice_stage",
            "shared_starts",
            "lattice_pull",
        ):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name} must be true or false, got {getattr(self, name)!r}")
        if not self.snap_sigmas or not all(isinstance(v, int | float) and v > 0 for v in self.snap_sigmas):
            raise ValueError(f"snap sigmas must be positive numbers, at least one, got {self.snap_sigmas!r}")
        if not self.stages or not all(g >= 1 for g in self.exponent_grids):
            raise ValueError("a search needs at least one stage and exponent grids of at least 1")
        for power in (*self.sum_powers, *self.ratio_powers):
            if not isinstance(power, str) or not _is_power(power):
                raise ValueError(f"a target power is a non-zero fraction such as '-1/2', got {power!r}")
        for stage in self.stages:
            if any(p < 1 or q < 0 or p + q > stage.n_terms for p, q in stage.shapes):
                raise ValueError(f"stage with {stage.n_terms} terms has a shape that does not fit: {stage.shapes}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FitConfig:
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown fit settings: {', '.join(sorted(unknown))}")
        values = dict(data)
        if "stages" in values:
            values["stages"] = tuple(Stage.from_dict(s) if isinstance(s, dict) else s for s in values["stages"])
        for name in ("exponent_grids", "sum_powers", "ratio_powers", "snap_sigmas"):
            if name in values:
                values[name] = tuple(values[name])
        return cls(**values)


def _is_power(text: str) -> bool:
    try:
        return Fraction(text) != 0
    except (ValueError, ZeroDivisionError):
        return False


def power_value(text: str) -> float:
    """A target power's value: "-1/2" → −0.5."""
    return float(Fraction(text))


#: The largest table a search takes: input columns, and input cells (rows × inputs); documented in docs/laws.md.
MAX_INPUTS = 100
MAX_CELLS = 10_000_000


def check_size(n_rows: int, n_inputs: int, source: str) -> None:
    """Refuse a table beyond the search's documented limits, saying what to do (before it is read, where possible)."""
    if n_inputs > MAX_INPUTS:
        raise ValueError(
            f"{source}: {n_inputs} input columns; a search takes at most {MAX_INPUTS}: choose them with --columns"
        )
    if n_rows * n_inputs > MAX_CELLS:
        most = MAX_CELLS // n_inputs
        raise ValueError(
            f"{source}: {n_rows:,} rows of {n_inputs} input columns, more than the {MAX_CELLS:,} input cells a search "
            f"takes: sample at most {most:,} rows (a few thousand pin a law)"
        )


def check_rows(table: Table, config: FitConfig) -> None:
    """Refuse a table with fewer rows than the search needs: ``min_rows``, and 2·(inputs + 2) (rows to spare)."""
    needed = max(config.min_rows, 2 * (len(table.names) + 2))
    if len(table.y) < needed:
        raise ValueError(f"{table.source}: {len(table.y)} rows; the search needs at least {needed}")
    check_size(len(table.y), len(table.names), table.source)
