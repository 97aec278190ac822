"""Success thresholds of the benchmark: the test MSE a run must beat to count as solved.

Three criteria (nalm.md, "Success criterion"):

- ``raw``: test MSE < 1e-5 (the division paper, Mistry et al. 2022);
- ``iclr``: the test MSE of an ε-perfect model, ε = 1e-5 (Madsen & Johansen,
  ICLR 2020): relevant weights 1 − ε, irrelevant weights ε;
- ``primer``: the test MSE of the Primer's ε-perfect outputs, ε = 1e-4
  (Mistry, Farrahi & Hare, JMLR 2022).

The two ε-perfect thresholds are Monte Carlo estimates over 10^6 samples of
the range's test distribution, in float64, with a seed fixed by the
configuration, their squared errors summed exactly (``math.fsum``) so that no
thread count or summation order enters (docs/thresholds.md says what
regenerating gives back). They are computed once by ``python -m arithnet.bench.protocol.thresholds``
and shipped in ``thresholds.json``; ``threshold()`` reads that table.

ε-perfect models (a = x0, b = x1, distractors o = x2 … x(I−1)). The inputs
other than a and b are i.i.d. and each formula is symmetric in them, so the
position k of a = x_k, b = x_{k+1} does not change the distribution of the
error: the thresholds use k = 0.

=====  ===========================================  ===========================================
op     ``iclr`` (ε = 1e-5)                          ``primer`` (ε = 1e-4)
=====  ===========================================  ===========================================
add    NAU: (1−ε)(a + b) + ε Σ o                    (a + b) − ε Σ|x|
sub    NAU: (1−ε)(a − b) + ε Σ o                    (a − b) − ε Σ|x|
mul    NMU: ∏_{a,b} ((1−ε)x + ε) · ∏_o (ε o + 1−ε)   (1−ε)² a b ∏_o (1 − ε|o|)
div    sign(a b) |a|^(1−ε) |b|^−(1−ε) ∏_o |o|^ε     (1−ε)/(1+ε) · (a/b) ∏_o (1 − ε|o|)
=====  ===========================================  ===========================================

The ``iclr`` division model is the Real NPU's exp(W · log|x|) with W = (1−ε,
−(1−ε), ε, …) and the exact sign of a·b; the NPU's cos(π W·[x < 0]) differs
from that sign by a relative (π·Σ_{o<0} ε)²/2 < 1e-8, too little to matter.

The ICLR task (``task="iclr"``, a = Σ x[0:25], b = Σ x[13:38], 100 inputs in
the paper, at least 38 here; its range is ``iclr``, U[2, 6] at test, or any
range that gives a and b no distributions of their own) uses the paper's
model: a first layer of two NAU sums with weights 1 − ε on the subset and ε
elsewhere, then the exact operation on the two sums. The ICLR authors'
simulation script leaves the second layer exact, and only then do the
published thresholds come out; ``perturb_output_layer=True`` gives it weights
1 − ε too. Their script also sums 26 elements per subset (R's inclusive
``a.start:a.end``) where the task sums 25; ``published_subsets=True``
reproduces that (docs/thresholds.md compares the four variants). The shipped
table holds the ICLR task's thresholds both ways: with the task's subsets
(``threshold``'s default) and with the script's (``published_subsets=True``,
the ``iclr`` preset's, bench.protocol.presets). The Primer's
outputs are defined for the single-module task only, so ``primer`` on the
``iclr`` task is NaN: no run counts as solved by it.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import json
import math
from collections.abc import Iterator
from pathlib import Path

import torch

from arithnet.bench.protocol.rows import CRITERIA
from arithnet.bench.protocol.tasks import GRIDS, ICLR_RANGES, RangePair
from arithnet.files import strict_json, text_writer, write_all
from arithnet.operations import OPERATIONS, get_operation

#: Division paper (Mistry et al., 2022): solved when the raw test MSE < 1e-5.
RAW = 1e-5
#: ε of the ICLR 2020 ε-perfect model (Madsen & Johansen).
ICLR_EPSILON = 1e-5
#: ε of the Primer's ε-perfect outputs (Mistry et al., JMLR 2022).
PRIMER_EPSILON = 1e-4
#: Monte Carlo sample count of both papers' threshold simulations.
N_SAMPLES = 1_000_000

TASKS = ("primer", "iclr")
#: The ICLR 2020 arithmetic task's ranges: train U[1, 2], test U[2, 6].
ICLR_RANGE = ICLR_RANGES["iclr"]
#: ICLR 2020's published ε-perfect thresholds for its 100-input task.
ICLR_PUBLISHED = {"add": 1.479e-5, "sub": 1.384e-8, "mul": 0.1600, "div": 4.938e-12}
#: Input sizes of the Primer task that the shipped table covers.
INPUT_SIZES = (2, 10)

TABLE_PATH = Path(__file__).with_name("thresholds.json")

# ICLR 2020's task: a = Σ x[0:25], b = Σ x[13:38] (subset ratio 0.25, overlap 0.5 of 100 inputs),
# fixed for any input size as in arithnet.bench.protocol.config; the ICLR authors' R script sums
# x[0:26] and x[13:39] (its inclusive start:end).
_ICLR_SUBSETS = ((0, 25), (13, 38))
_ICLR_PUBLISHED_SUBSETS = ((0, 26), (13, 39))
_CHUNK_ELEMENTS = 1 << 21  # inputs per sampled chunk: 16 MB per float64 tensor


# -- names ------------------------------------------------------------------------
def ranges() -> dict[str, RangePair]:
    """Every range a threshold can be asked for: the task grids and ``iclr``."""
    return {name: pair for grid in GRIDS.values() for name, pair in grid.items()}


def _valid(kind: str, kinds: str, name: object, valid: tuple[str, ...] | list[str]) -> None:
    if name not in valid:
        raise ValueError(f"unknown {kind} {name!r}; valid {kinds}: {', '.join(valid)}")


def _check(criterion: str, operation: str, range_name: str, input_size: int, task: str) -> RangePair:
    """Validate a configuration; return its range pair."""
    _valid("criterion", "criteria", criterion, CRITERIA)
    get_operation(operation)
    _valid("task", "tasks", task, TASKS)
    all_ranges = ranges()
    _valid("range", "ranges", range_name, list(all_ranges))
    pair = all_ranges[range_name]
    if task == "primer" and not input_size >= 2:
        raise ValueError(f"the primer task needs input_size >= 2, got {input_size}")
    if task == "iclr":
        if len({pair.role("test", role) for role in ("a", "b", "other")}) > 1:
            raise ValueError(f"range {range_name!r} gives a and b their own distributions; the iclr task has none")
        _iclr_subsets(input_size)
    return pair


def table_key(
    criterion: str, operation: str, range_name: str, input_size: int, task: str = "primer", published_subsets=False
) -> str:
    """The readable key of a threshold in thresholds.json; the ICLR script's subsets add ``subsets=published``."""
    key = f"task={task} criterion={criterion} op={operation} range={range_name} input={input_size}"
    return key + " subsets=published" if published_subsets else key


def table_configurations() -> list[tuple[str, str, str, int, str]]:
    """(criterion, operation, range, input size, task) of every entry of the shipped table."""
    single = [
        (criterion, operation, range_name, input_size, "primer")
        for criterion in ("iclr", "primer")
        for input_size in INPUT_SIZES
        for grid_name in ("primer", "division-extra")
        for range_name in GRIDS[grid_name]
        for operation in OPERATIONS
    ]
    return single + [("iclr", operation, ICLR_RANGE.name, 100, "iclr") for operation in OPERATIONS]


def published_subset_configurations() -> list[tuple[str, str, str, int, str]]:
    """The shipped entries simulated with the ICLR authors' 26-element subsets (``published_subsets=True``)."""
    return [("iclr", operation, ICLR_RANGE.name, 100, "iclr") for operation in OPERATIONS]


# -- ε-perfect errors: (B, I) inputs in, (B,) ε-perfect output − exact output out ----
def _primer_errors(operation: str, x: torch.Tensor, eps: float) -> torch.Tensor:
    a, b, others = x[:, 0], x[:, 1], x[:, 2:]
    if operation in ("add", "sub"):
        return -eps * x.abs().sum(-1)
    exact, scale = (a * b, (1 - eps) ** 2) if operation == "mul" else (a / b, (1 - eps) / (1 + eps))
    return exact * (scale * torch.prod(1 - eps * others.abs(), -1) - 1)


def _iclr_errors(operation: str, x: torch.Tensor, eps: float) -> torch.Tensor:
    a, b, others = x[:, 0], x[:, 1], x[:, 2:]
    if operation == "add":
        return eps * (others.sum(-1) - a - b)
    if operation == "sub":
        return eps * (others.sum(-1) - a + b)
    if operation == "mul":
        relevant = ((1 - eps) * a + eps) * ((1 - eps) * b + eps)
        return relevant * torch.prod(eps * others + (1 - eps), -1) - a * b
    # |a|^(1−ε)|b|^−(1−ε)∏|o|^ε = |a/b|·exp(ε(log|b| − log|a| + Σ log|o|)):
    # expm1 gives the tiny difference to a/b without cancellation.
    log_ratio = torch.log(b.abs()) - torch.log(a.abs()) + torch.log(others.abs()).sum(-1)
    return (a / b) * torch.expm1(eps * log_ratio)


def _iclr_subsets(input_size: int, published: bool = False) -> tuple[tuple[int, int], tuple[int, int]]:
    """[start, end) of a and b in the ICLR task; ``published``: those of the ICLR authors' R script."""
    subsets = _ICLR_PUBLISHED_SUBSETS if published else _ICLR_SUBSETS
    if input_size < subsets[1][1]:
        raise ValueError(f"the iclr task needs at least {subsets[1][1]} inputs, got {input_size}")
    return subsets


def _iclr_task_errors(
    operation: str, x: torch.Tensor, eps: float, published_subsets: bool, perturb_output_layer: bool
) -> torch.Tensor:
    (a0, a1), (b0, b1) = _iclr_subsets(x.shape[-1], published_subsets)
    total, sum_a, sum_b = x.sum(-1), x[:, a0:a1].sum(-1), x[:, b0:b1].sum(-1)
    # NAU row with 1 − ε on the subset and ε elsewhere: S + ε(T − 2S).
    z_a, z_b = sum_a + eps * (total - 2 * sum_a), sum_b + eps * (total - 2 * sum_b)
    compute = OPERATIONS[operation].compute
    errors = compute(z_a, z_b) - compute(sum_a, sum_b)
    if perturb_output_layer:
        errors = errors + _iclr_errors(operation, torch.stack((z_a, z_b), -1), eps)
    return errors


# -- Monte Carlo --------------------------------------------------------------------
def _seed(key: str) -> int:
    """A 63-bit seed from the configuration's key: stable across runs and machines."""
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "little") >> 1


def _test_inputs(
    pair: RangePair, columns: list[tuple[int, int, str]], input_size: int, n_samples: int, seed: int
) -> Iterator[torch.Tensor]:
    """Chunks (B, I) of test inputs, float64; ``columns`` are [start, end) slices with their role."""
    generator = torch.Generator().manual_seed(seed)
    dists = [(start, end, pair.role("test", role)) for start, end, role in columns]
    signed = any(dist.random_sign for _, _, dist in dists)
    rows = max(1, _CHUNK_ELEMENTS // input_size)
    for first in range(0, n_samples, rows):
        n = min(rows, n_samples - first)
        u = torch.rand(n, input_size, generator=generator, dtype=torch.float64)
        u_sign = torch.rand(n, input_size, generator=generator, dtype=torch.float64) if signed else None
        x = torch.empty_like(u)
        for start, end, dist in dists:
            x[:, start:end] = dist.sample(u[:, start:end], None if u_sign is None else u_sign[:, start:end])
        yield x


def simulate(
    criterion: str,
    operation: str,
    range_name: str,
    input_size: int,
    task: str = "primer",
    *,
    n_samples: int = N_SAMPLES,
    published_subsets: bool = False,
    perturb_output_layer: bool = False,
) -> float:
    """Monte Carlo estimate of an ε-perfect threshold (``raw`` needs none: it returns ``RAW``).

    The Primer defines its ε-perfect outputs for the single-module task only:
    ``primer`` on the ``iclr`` task is NaN, so no run counts as solved by it.

    ``published_subsets`` and ``perturb_output_layer`` change the ICLR task's
    model (module docstring); they share the configuration's seed, so variants
    are compared on the same samples.
    """
    pair = _check(criterion, operation, range_name, input_size, task)
    if criterion == "raw":
        return RAW
    if criterion == "primer" and task == "iclr":
        return math.nan
    if n_samples < 1:
        raise ValueError(f"n_samples must be positive, got {n_samples}")
    if (published_subsets or perturb_output_layer) and task != "iclr":
        raise ValueError("published_subsets and perturb_output_layer apply to the iclr task only")
    if task == "iclr":
        columns = [(0, input_size, "other")]
        errors = functools.partial(
            _iclr_task_errors, published_subsets=published_subsets, perturb_output_layer=perturb_output_layer
        )
    else:
        columns = [(0, 1, "a"), (1, 2, "b"), (2, input_size, "other")]
        errors = _iclr_errors if criterion == "iclr" else _primer_errors
    eps = ICLR_EPSILON if criterion == "iclr" else PRIMER_EPSILON
    seed = _seed(table_key(criterion, operation, range_name, input_size, task))
    squares = (
        errors(operation, x, eps).square().tolist() for x in _test_inputs(pair, columns, input_size, n_samples, seed)
    )
    return _exact_sum(squares) / n_samples


def _exact_sum(chunks: Iterator[list[float]]) -> float:
    """The correctly rounded sum of all values, whatever their order.

    torch's sum of a long tensor splits the work between threads, so its last
    bit depended on the thread count and regenerating the table changed keys;
    math.fsum is exact and leaves nothing to the machine.
    """
    return math.fsum(itertools.chain.from_iterable(chunks))


# -- the shipped table ----------------------------------------------------------------
@functools.cache
def _shipped_table() -> dict[str, float]:
    if not TABLE_PATH.exists():
        return {}
    return json.loads(TABLE_PATH.read_text())["thresholds"]


def threshold(
    criterion: str,
    operation: str,
    range_name: str,
    input_size: int,
    task: str = "primer",
    published_subsets: bool = False,
) -> float:
    """The test-MSE threshold below which a run counts as solved under ``criterion``.

    Reads thresholds.json; a configuration missing there is simulated now
    (10^6 samples, up to a few seconds), kept in memory and not written.
    ``primer`` on the ``iclr`` task is NaN (``simulate``). ``published_subsets``
    (iclr task only) takes the ICLR authors' 26-element subsets.
    """
    _check(criterion, operation, range_name, input_size, task)
    if published_subsets and task != "iclr":
        raise ValueError("published_subsets applies to the iclr task only")
    if criterion == "raw":
        return RAW
    key = table_key(criterion, operation, range_name, input_size, task, published_subsets)
    table = _shipped_table()
    if key in table:
        return table[key]
    return _simulated(criterion, operation, range_name, input_size, task, published_subsets)


@functools.cache
def _simulated(
    criterion: str, operation: str, range_name: str, input_size: int, task: str, published_subsets: bool = False
) -> float:
    """``simulate`` at the default sample count, remembered for the process (never written to the table)."""
    return simulate(criterion, operation, range_name, input_size, task, published_subsets=published_subsets)


def compute_table(n_samples: int = N_SAMPLES) -> dict[str, float]:
    """Every ε-perfect threshold of the shipped table, by key (the raw one is the constant ``RAW``).

    ``table_configurations()`` with the task's subsets, then
    ``published_subset_configurations()`` with the ICLR authors' subsets.
    """
    table = {table_key(*config): simulate(*config, n_samples=n_samples) for config in table_configurations()}
    for config in published_subset_configurations():
        key = table_key(*config, published_subsets=True)
        table[key] = simulate(*config, n_samples=n_samples, published_subsets=True)
    return table


def write_table(path: Path = TABLE_PATH, n_samples: int = N_SAMPLES) -> dict[str, float]:
    """Compute the table and replace ``path`` atomically (write a temporary file, then rename)."""
    table = compute_table(n_samples)
    document = {
        "description": "ε-perfect test-MSE thresholds; see arithnet.bench.protocol.thresholds and docs/thresholds.md",
        "iclr_epsilon": ICLR_EPSILON,
        "primer_epsilon": PRIMER_EPSILON,
        "n_samples": n_samples,
        "thresholds": table,
    }
    if not all(math.isfinite(value) for value in table.values()):
        raise ValueError("a simulated threshold is not finite: the table is not written")
    text = strict_json(document, indent=1, ensure_ascii=False) + "\n"
    write_all([(path, text_writer(text))])
    _shipped_table.cache_clear()
    return table


# -- markdown ---------------------------------------------------------------------------
def _test_distribution(pair: RangePair) -> str:
    a, b, other = (pair.role("test", role) for role in ("a", "b", "other"))
    return str(other) if a == b == other else f"a~{a}, b~{b}, other~{other}"


def _row(label: str, values: list[float], digits: int) -> str:
    return f"| {label} | " + " | ".join(f"{value:.{digits}g}" for value in values) + " |"


def markdown_table() -> str:
    """The thresholds as markdown: per criterion and input size, ranges × operations; then the ICLR task."""
    symbols = [OPERATIONS[op].symbol for op in OPERATIONS]
    header = ["| range | test inputs | " + " | ".join(symbols) + " |", "|---|---|" + "---:|" * len(symbols)]
    lines = [f"Raw criterion (division paper): {RAW:g} for every task, range, operation and input size.", ""]
    for criterion, eps in (("iclr", ICLR_EPSILON), ("primer", PRIMER_EPSILON)):
        for input_size in INPUT_SIZES:
            lines += [f"### {criterion}, ε = {eps:g}, input size {input_size}", "", *header]
            for grid in GRIDS.values():
                for name, pair in grid.items():
                    values = [threshold(criterion, op, name, input_size) for op in OPERATIONS]
                    lines.append(_row(f"{name} | {_test_distribution(pair)}", values, 3))
            lines.append("")
    iclr_task = [threshold("iclr", op, ICLR_RANGE.name, 100, "iclr") for op in OPERATIONS]
    iclr_script = [threshold("iclr", op, ICLR_RANGE.name, 100, "iclr", published_subsets=True) for op in OPERATIONS]
    lines += [
        f"### ICLR task (100 inputs, test {ICLR_RANGE.test}), iclr criterion, ε = {ICLR_EPSILON:g}",
        "",
        "| | " + " | ".join(symbols) + " |",
        "|---|" + "---:|" * len(symbols),
        _row("arithnet, the task's 25-element subsets (default)", iclr_task, 4),
        _row("arithnet, the R script's 26-element subsets (iclr preset)", iclr_script, 4),
        _row("published (ICLR 2020)", [ICLR_PUBLISHED[op] for op in OPERATIONS], 4),
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    torch.set_num_threads(1)
    written = write_table()
    print(f"wrote {len(written)} thresholds to {TABLE_PATH}")
