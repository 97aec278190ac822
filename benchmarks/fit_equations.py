"""The arithmetic Feynman laws (benchmarks/feynman.py) fitted by arithnet and two baselines.

For each law, one generator (from ``--seed`` and the law's id) draws the training rows (``--rows``, from the
benchmark's ranges), the target noise as SRBench adds it, y + noise·RMS(y)·N(0, 1), and 1000 test rows 3 to 10
times outside the training range (``feynman.sample_outside``). Every tool fits the same rows and is scored on the
same test rows by the median relative error |pred − y|/|y| there: "exact" below 1e-6, "close" below 1e-3, else
"wrong". Seconds are the wall time of the fit alone.

Tools:

- ``arithnet``: ``arithnet.laws.fit_law`` on ``table_from_arrays(x, y, names=variables)`` with ``FitConfig(seed)``
  (the target is named y, or "target" where an input is named y); ``--fit-config JSON`` overrides FitConfig's
  settings, e.g. '{"lattice_pull": false, "n_starts": 8}', and each row keeps the overrides (``fit_config``). Its
  rows also give the law found, its verification, and ``structure_right``: each Float in the law is made a free
  constant, the constants are refitted by ``scipy.optimize.least_squares`` on the noise-free targets of the training
  rows, and the structure is right when the refitted law is exact outside (a law without Floats: when it is exact).
- ``logls``: least squares of log|y| on [log|x_i|, 1], the sign of y's majority in front (the power-law baseline;
  ``arithnet.laws.log_least_squares_law`` when that exists).
- ``gplearn``: ``gplearn.genetic.SymbolicRegressor`` with function_set (add, sub, mul, div, sqrt),
  random_state = ``--seed``, n_jobs=1, feature_names = the variables, every other setting at gplearn's defaults
  (parsimony 0.001, tournament 20, …). ``--gplearn-budget standard`` (the default) is population 1000 × 40
  generations: measured here with 2 workers on 2 cores, one fit on 1000 rows took 23–66 s (I.11.19 24 s, II.36.38
  26 s, I.12.2 34 s, I.16.6 36 s, III.19.51 54 s, I.32.17 67 s; time grows with the programs' bloat), and a fit stops
  early when it is exact (I.29.4: 2 s). ``small`` (200 × 10, 1–3 s) is for a quick check; ``POP,GEN`` sets both.

Laws run in parallel worker processes (``--workers``, each with torch.set_num_threads(1)). The long table (one row
per law × tool) goes to ``--out``; the summary, the project's headline targets and the laws arithnet did not get
exactly are printed. For example:

    .venv/bin/python benchmarks/fit_equations.py --laws rational --tools arithnet,logls
    .venv/bin/python benchmarks/fit_equations.py --laws all --noise 0.01 --tools arithnet
    .venv/bin/python benchmarks/fit_equations.py --laws I.16.6,I.12.2 --tools logls,gplearn --gplearn-budget small
"""

from __future__ import annotations

import argparse
import csv
import importlib
import json
import multiprocessing
import os
import sys
import time
import traceback
import zlib
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import sympy
from rich.console import Console
from rich.table import Table as RichTable

from feynman import BY_ID as FEYNMAN_BY_ID
from feynman import sample, sample_outside
from feynman import select as select_feynman
from outside import OUTSIDE
from panel import DEVELOPMENT, HELD_OUT

BY_ID = {**FEYNMAN_BY_ID, **{law.id: law for law in DEVELOPMENT + HELD_OUT + OUTSIDE}}
PANELS = {"development": DEVELOPMENT, "held-out": HELD_OUT, "outside": OUTSIDE}


def select(spec: str):
    """Feynman laws (``all``, ``power``, ``rational``, ids), a part of the made-up panel (``development``,
    ``held-out``, or panel ids such as D.R1), or the laws outside the class (``outside``, ids such as O.exp1)."""
    if spec in PANELS:
        return PANELS[spec]
    ids = [part.strip() for part in spec.split(",") if part.strip()]
    if ids and all(id_ in BY_ID and id_ not in FEYNMAN_BY_ID for id_ in ids):
        return [BY_ID[id_] for id_ in ids]
    return select_feynman(spec)


TOOLS = ("arithnet", "logls", "gplearn", "operon")
GPLEARN_BUDGETS = {"small": (200, 10), "standard": (1000, 40)}
OPERON_BUDGETS = {"small": (200, 20_000), "standard": (1000, 500_000)}  # population, evaluations
OPERON_SYMBOLS = "add,sub,mul,div,sqrt,square,pow,constant,variable"
EXACT, CLOSE = 1e-6, 1e-3
TEST_ROWS = 1000
COLUMNS = (
    "law",
    "kind",
    "n_vars",
    "tool",
    "rows",
    "noise",
    "seed",
    "error_outside",
    "score",
    "seconds",
    "law_text",
    "verification",
    "structure_right",
    "stage",
    "failure",
    "fit_config",
)
console = Console(width=None if sys.stdout.isatty() else 140)


@dataclass(frozen=True)
class Settings:
    tools: tuple[str, ...]
    rows: int
    noise: float
    seed: int
    gplearn: tuple[int, int]  # population, generations
    fit_config: str = "{}"  # JSON: FitConfig overrides for arithnet (a string, so Settings stays frozen and picklable)
    operon: tuple[int, int] = OPERON_BUDGETS["standard"]  # population, evaluations
    operon_iterations: int = 0  # Operon's local optimisation of constants per offspring (0: its default, none)


@dataclass
class Fitted:
    predict: Callable[[np.ndarray], np.ndarray]
    text: str
    extra: dict = field(default_factory=dict)


# --- the data -------------------------------------------------------------------------------------------------------


def law_data(law_id: str, settings: Settings) -> dict[str, np.ndarray]:
    """Training rows (clean and noisy target) and the test rows outside, all from the law's own generator."""
    law = BY_ID[law_id]
    rng = np.random.default_rng([settings.seed, zlib.crc32(law_id.encode())])
    x, y_clean = sample(law, settings.rows, rng)
    scale = settings.noise * np.sqrt(np.mean(y_clean**2))
    y = y_clean + scale * rng.standard_normal(y_clean.shape) if settings.noise else y_clean
    x_out, y_out = sample_outside(law, TEST_ROWS, rng)
    return {"x": x, "y": y, "y_clean": y_clean, "x_out": x_out, "y_out": y_out}


def relative_error(pred: np.ndarray, y: np.ndarray) -> float:
    """Median |pred − y|/|y|; a prediction that is not finite counts as an infinite error."""
    with np.errstate(all="ignore"):
        error = np.abs(np.broadcast_to(np.asarray(pred, dtype=np.float64), y.shape) - y) / np.abs(y)
    return float(np.median(np.where(np.isfinite(error), error, np.inf)))


def score(error: float) -> str:
    return "exact" if error < EXACT else "close" if error < CLOSE else "wrong"


# --- the tools ------------------------------------------------------------------------------------------------------


def target_name(names: tuple[str, ...]) -> str:
    """The target's column name: y, unless an input has that name (II.6.15a)."""
    return "y" if "y" not in names else "target"


def fit_logls(x: np.ndarray, y: np.ndarray, names: tuple[str, ...], settings: Settings) -> Fitted:
    """Power law c·∏ x_i^p_i by least squares on log|y|, with the sign of y's majority."""
    try:
        from arithnet.laws import log_least_squares_law
        from arithnet.tables import table_from_arrays
    except ImportError:
        return own_logls(x, y, names)
    law = log_least_squares_law(table_from_arrays(x, y, names=names, target=target_name(names)))
    return Fitted(law.predict, str(law))


def own_logls(x: np.ndarray, y: np.ndarray, names: tuple[str, ...]) -> Fitted:
    """The baseline written out here, for when arithnet does not provide it."""
    design = np.column_stack([np.log(np.abs(x)), np.ones(len(x))])
    coef, *_ = np.linalg.lstsq(design, np.log(np.abs(y)), rcond=None)
    sign = 1.0 if np.sum(y > 0) >= np.sum(y < 0) else -1.0

    def predict(x_new: np.ndarray) -> np.ndarray:
        with np.errstate(all="ignore"):
            return sign * np.exp(np.column_stack([np.log(np.abs(x_new)), np.ones(len(x_new))]) @ coef)

    powers = "*".join(f"{name}**{p:.6g}" for name, p in zip(names, coef[:-1]))
    return Fitted(predict, f"{sign * np.exp(coef[-1]):.6g}*{powers}")


def fit_gplearn(x: np.ndarray, y: np.ndarray, names: tuple[str, ...], settings: Settings) -> Fitted:
    from gplearn.genetic import SymbolicRegressor

    population, generations = settings.gplearn
    model = SymbolicRegressor(
        population_size=population,
        generations=generations,
        function_set=("add", "sub", "mul", "div", "sqrt"),
        random_state=settings.seed,
        n_jobs=1,
        feature_names=list(names),
    )
    model.fit(x, y)
    return Fitted(model.predict, str(model._program))


def fit_operon(x: np.ndarray, y: np.ndarray, names: tuple[str, ...], settings: Settings) -> Fitted:
    """Operon's scikit-learn wrapper: population and evaluation budget from ``settings.operon``, one thread.

    The functions are +, −, ×, ÷ with sqrt, square and pow (``OPERON_SYMBOLS``): the laws hold square roots and
    powers such as 3/2 and −2, and gplearn gets sqrt; pow with a constant exponent reaches the other powers. Every
    other setting is the wrapper's default (objective R² with linear scaling, max length 50, tournament 5), and so
    is optimizer_iterations=0, no local optimisation of constants, unless ``settings.operon_iterations`` asks for
    Levenberg–Marquardt steps (SRBench runs Operon with 5). Operon computes in float32: its predictions of the
    right law carry about 1e-7 relative error, below the 1e-6 of "exact".
    """
    from pyoperon.sklearn import SymbolicRegressor

    population, evaluations = settings.operon
    model = SymbolicRegressor(
        allowed_symbols=OPERON_SYMBOLS,
        population_size=population,
        max_evaluations=evaluations,
        n_threads=1,
        random_state=settings.seed,
        optimizer_iterations=settings.operon_iterations,
    )
    model.fit(x, y)
    return Fitted(model.predict, model.get_model_string(model.model_, 6, names=list(names)))


def fit_arithnet(x: np.ndarray, y: np.ndarray, names: tuple[str, ...], settings: Settings) -> Fitted:
    from arithnet.laws import FitConfig, fit_law
    from arithnet.tables import table_from_arrays

    table = table_from_arrays(x, y, names=names, target=target_name(names))
    fit = fit_law(table, FitConfig.from_dict({"seed": settings.seed, **json.loads(settings.fit_config)}))
    extra = {"verification": fit.verification.value, "expression": fit.law.expression, "stage": fit.chosen.stage}
    return Fitted(fit.law.predict, str(fit.law), extra)


FITTERS = {"arithnet": fit_arithnet, "logls": fit_logls, "gplearn": fit_gplearn, "operon": fit_operon}


# --- structure right ------------------------------------------------------------------------------------------------


def free_constants(expr: sympy.Basic, found: list[tuple[sympy.Symbol, float]]) -> sympy.Basic:
    """``expr`` with every Float occurrence replaced by a new symbol; ``found`` gets (symbol, value) pairs."""
    if isinstance(expr, sympy.Float):
        symbol = sympy.Symbol(f"_const{len(found)}")
        found.append((symbol, float(expr)))
        return symbol
    if not expr.args:
        return expr
    return expr.func(*(free_constants(arg, found) for arg in expr.args))


def structure_right(expression: sympy.Expr, names: tuple[str, ...], data: dict, error_outside: float) -> bool:
    """Whether the law, its Float constants refitted on noise-free rows, is exact outside the training range."""
    from scipy.optimize import least_squares

    found: list[tuple[sympy.Symbol, float]] = []
    template = free_constants(expression, found)
    if not found:
        return error_outside < EXACT
    by_name = {symbol.name: symbol for symbol in expression.free_symbols}
    variables = [by_name.get(name, sympy.Symbol(name)) for name in names]
    function = sympy.lambdify([*variables, *(symbol for symbol, _ in found)], template, "numpy")

    def predict(x: np.ndarray, constants: np.ndarray) -> np.ndarray:
        with np.errstate(all="ignore"):
            return np.broadcast_to(np.asarray(function(*x.T, *constants), dtype=np.float64), (len(x),))

    def residuals(constants: np.ndarray) -> np.ndarray:
        y = data["y_clean"]
        r = (predict(data["x"], constants) - y) / np.abs(y)
        return np.where(np.isfinite(r), r, 1e6)

    start = np.array([value for _, value in found])
    solution = least_squares(residuals, start, method="lm", xtol=1e-15, ftol=1e-15, gtol=1e-15, max_nfev=5000)
    return relative_error(predict(data["x_out"], solution.x), data["y_out"]) < EXACT


# --- one law, all tools ---------------------------------------------------------------------------------------------


def run_tool(tool: str, law_id: str, data: dict, settings: Settings) -> dict:
    """One row of the long table: fit, time, score outside (and arithnet's extra columns)."""
    law = BY_ID[law_id]
    row = {"law": law_id, "kind": law.kind, "n_vars": len(law.variables), "tool": tool, "rows": settings.rows}
    row |= {"noise": settings.noise, "seed": settings.seed, "error_outside": np.inf, "score": "wrong", "law_text": ""}
    row |= {"verification": "", "structure_right": "", "stage": "", "failure": "", "fit_config": settings.fit_config}
    start = time.perf_counter()
    try:
        fitted = FITTERS[tool](data["x"], data["y"], law.variables, settings)
        row["seconds"] = time.perf_counter() - start
        row["law_text"] = fitted.text
        row["error_outside"] = relative_error(fitted.predict(data["x_out"]), data["y_out"])
        row["score"] = score(row["error_outside"])
        if "expression" in fitted.extra:
            row["verification"] = fitted.extra["verification"]
            row["stage"] = fitted.extra["stage"]
            right = structure_right(fitted.extra["expression"], law.variables, data, row["error_outside"])
            row["structure_right"] = bool(right)
    except Exception as error:  # a tool that fails scores "wrong"; the reason is kept, the traceback goes to stderr
        row.setdefault("seconds", time.perf_counter() - start)
        row["failure"] = f"{type(error).__name__}: {error}".splitlines()[0][:300]
        traceback.print_exc()
    return row


def run_law(law_id: str, settings: Settings) -> list[dict]:
    data = law_data(law_id, settings)
    return [run_tool(tool, law_id, data, settings) for tool in settings.tools]


def init_worker(tools: tuple[str, ...]) -> None:
    """One torch thread; the tools' modules imported here, so that no fit's seconds include an import."""
    import torch

    torch.set_num_threads(1)
    arithnet = ["arithnet.laws", "arithnet.tables"]
    modules = {"arithnet": [*arithnet, "scipy.optimize"], "logls": arithnet, "gplearn": ["gplearn.genetic"]}
    modules["operon"] = ["pyoperon", "pyoperon.sklearn"]
    for name in [module for tool in tools for module in modules.get(tool, [])]:
        try:
            importlib.import_module(name)
        except ImportError:
            pass  # the tool's fit fails and says so in its row


def run_all(law_ids: list[str], settings: Settings, workers: int) -> list[dict]:
    """Every law in a pool of worker processes; prints a line per law × tool as they finish."""
    for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[variable] = "1"  # the workers' numpy, one thread each
    context = multiprocessing.get_context("spawn")
    rows: list[dict] = []
    pool = ProcessPoolExecutor(workers, mp_context=context, initializer=init_worker, initargs=(settings.tools,))
    with pool:
        futures = [pool.submit(run_law, law_id, settings) for law_id in law_ids]
        for future in as_completed(futures):
            for row in future.result():
                rows.append(row)
                text = row["law_text"] or row["failure"]
                line = f"{row['law']:10} {row['tool']:8} {row['score']:5} error {row['error_outside']:.2e}"
                print(f"{line} {row['seconds']:7.1f} s  {text[:80]}", flush=True)
    order = {law_id: i for i, law_id in enumerate(law_ids)}
    return sorted(rows, key=lambda row: (order[row["law"]], settings.tools.index(row["tool"])))


def write_csv(rows: list[dict], path: Path, columns: tuple[str, ...] = COLUMNS) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(
            {**row, "error_outside": f"{row['error_outside']:.3e}", "seconds": f"{row['seconds']:.2f}"} for row in rows
        )


# --- the summary ----------------------------------------------------------------------------------------------------


def percent(rows: list[dict], test: Callable[[dict], bool]) -> float:
    return 100.0 * sum(map(test, rows)) / len(rows) if rows else float("nan")


def tool_table(tool: str, rows: list[dict]) -> RichTable:
    """Exact %, close %, seconds and (arithnet) structure right %, per kind."""
    table = RichTable(title=f"{tool}", title_justify="left")
    for name in ("kind", "laws", "exact %", "close %", "wrong %", "median s", "max s"):
        table.add_column(name, justify="left" if name == "kind" else "right")
    if tool == "arithnet":
        table.add_column("structure right %", justify="right")
    kinds = list(dict.fromkeys(row["kind"] for row in rows))
    for kind in [*kinds, "all"] if len(kinds) > 1 else kinds:
        part = [row for row in rows if kind in ("all", row["kind"])]
        if not part:
            continue
        seconds = [row["seconds"] for row in part]
        cells = [kind, str(len(part))]
        cells += [f"{percent(part, lambda row, s=s: row['score'] == s):.0f}" for s in ("exact", "close", "wrong")]
        cells += [f"{np.median(seconds):.1f}", f"{max(seconds):.1f}"]
        if tool == "arithnet":
            cells.append(f"{percent(part, lambda row: row['structure_right'] is True):.0f}")
        table.add_row(*cells)
    return table


def headline(rows: list[dict], tools: tuple[str, ...], noise: float) -> RichTable:
    """The project's targets, measured for every tool run (structure right only for arithnet)."""
    table = RichTable(title=f"Headline targets (noise {noise:g})", title_justify="left")
    table.add_column("target")
    for tool in tools:
        table.add_column(tool, justify="right")
    checks = [
        ("rational: exact ≥ 90%", "rational", lambda part: percent(part, is_exact), lambda v: v >= 90, "{:.0f}%"),
        ("rational: median seconds < 20", "rational", median_seconds, lambda v: v < 20, "{:.1f} s"),
        ("power: exact 100%", "power", lambda part: percent(part, is_exact), lambda v: v >= 100, "{:.0f}%"),
        ("power: every fit < 5 s", "power", max_seconds, lambda v: v < 5, "max {:.1f} s"),
    ]
    for target, kind, measure, passes, form in checks:
        table.add_row(target, *(judged(rows, tool, kind, measure, passes, form) for tool in tools))
    target = "noise 0.01: structure right ≥ 80% of rational"
    cells = [structure_cell(rows, noise) if tool == "arithnet" else "—" for tool in tools]
    table.add_row(target, *cells)
    return table


def is_exact(row: dict) -> bool:
    return row["score"] == "exact"


def median_seconds(part: list[dict]) -> float:
    return float(np.median([row["seconds"] for row in part]))


def max_seconds(part: list[dict]) -> float:
    return max(row["seconds"] for row in part)


def judged(rows: list[dict], tool: str, kind: str, measure: Callable, passes: Callable, form: str) -> str:
    part = [row for row in rows if row["tool"] == tool and row["kind"] == kind]
    if not part:
        return "not run"
    value = measure(part)
    return f"[{'green' if passes(value) else 'red'}]{form.format(value)}[/]"


def structure_cell(rows: list[dict], noise: float) -> str:
    part = [row for row in rows if row["tool"] == "arithnet" and row["kind"] == "rational"]
    if not part:
        return "not run"
    value = percent(part, lambda row: row["structure_right"] is True)
    if noise != 0.01:
        return f"{value:.0f}% (run with --noise 0.01)"
    return f"[{'green' if value >= 80 else 'red'}]{value:.0f}%[/]"


def stage_table(rows: list[dict]) -> RichTable:
    """Which stage of arithnet's search found each law: laws right outside (exact, or the structure right) by stage."""
    table = RichTable(title="arithnet: the stage that found the law", title_justify="left")
    for name in ("stage", "laws chosen", "exact outside", "structure right"):
        table.add_column(name, justify="left" if name == "stage" else "right")
    stages = sorted({row["stage"] for row in rows})
    for stage in stages:
        part = [row for row in rows if row["stage"] == stage]
        exact = sum(row["score"] == "exact" for row in part)
        right = sum(row["structure_right"] is True for row in part)
        table.add_row(stage or "(failed)", str(len(part)), str(exact), str(right))
    return table


def print_summary(rows: list[dict], settings: Settings) -> None:
    for tool in settings.tools:
        console.print(tool_table(tool, [row for row in rows if row["tool"] == tool]))
    console.print(headline(rows, settings.tools, settings.noise))
    if "arithnet" not in settings.tools:
        return
    console.print(stage_table([row for row in rows if row["tool"] == "arithnet"]))
    missed = [row for row in rows if row["tool"] == "arithnet" and row["score"] != "exact"]
    console.print(f"arithnet did not get {len(missed)} law(s) exactly" + (":" if missed else "."), highlight=False)
    for row in missed:
        found = row["law_text"] or row["failure"]
        line = f"  {row['law']:10} {row['score']:5} error {row['error_outside']:.2e}"
        print(f"{line}  found {found}   (truth {BY_ID[row['law']].formula})", flush=True)


# --- the command ----------------------------------------------------------------------------------------------------


def gplearn_budget(text: str) -> tuple[int, int]:
    if text in GPLEARN_BUDGETS:
        return GPLEARN_BUDGETS[text]
    try:
        population, generations = (int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: small, standard or POPULATION,GENERATIONS") from None
    return population, generations


def operon_budget(text: str) -> tuple[int, int]:
    if text in OPERON_BUDGETS:
        return OPERON_BUDGETS[text]
    try:
        population, evaluations = (int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: small, standard or POPULATION,EVALUATIONS") from None
    if population < 1 or evaluations < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: the population and the evaluations must be positive")
    return population, evaluations


def tool_list(text: str) -> tuple[str, ...]:
    tools = tuple(part.strip() for part in text.split(",") if part.strip())
    unknown = [tool for tool in tools if tool not in TOOLS]
    if unknown or not tools:
        raise argparse.ArgumentTypeError(f"unknown tool(s) {', '.join(unknown) or text!r}; choose from {TOOLS}")
    return tools


def fit_config_error(text: str) -> str | None:
    """Why ``text`` is not a JSON object of FitConfig overrides (None when it is one)."""
    from arithnet.laws import FitConfig

    try:
        overrides = json.loads(text)
    except json.JSONDecodeError as error:
        return f"--fit-config is not JSON ({error}): {text!r}"
    if not isinstance(overrides, dict):
        return f"--fit-config must be a JSON object of FitConfig settings, got {text!r}"
    try:
        FitConfig.from_dict({"seed": 0, **overrides})
    except (ValueError, TypeError, KeyError) as error:
        return f"--fit-config {text!r}: {type(error).__name__}: {error}"
    return None


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--laws", default="all", help="all | rational | power | ID,ID (e.g. I.16.6,I.12.2)")
    parser.add_argument("--rows", type=int, default=1000, help="training rows per law")
    parser.add_argument(
        "--noise", type=float, default=0.0, help="target noise as SRBench adds it: y + noise·RMS(y)·N(0, 1)"
    )
    parser.add_argument("--tools", type=tool_list, default=TOOLS, help="comma-separated: " + ",".join(TOOLS))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=2, help="worker processes (laws in parallel)")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/fit_equations.csv"))
    parser.add_argument("--gplearn-budget", type=gplearn_budget, default="standard", help="small | standard | P,G")
    parser.add_argument("--operon-budget", type=operon_budget, default="standard", help="small | standard | P,EVALS")
    parser.add_argument(
        "--operon-iterations", type=int, default=0, help="Operon's local optimisation steps per offspring (default 0)"
    )
    parser.add_argument(
        "--fit-config", default="{}", help='JSON object of FitConfig overrides for arithnet, e.g. {"n_starts": 8}'
    )
    args = parser.parse_args(argv)
    if error := fit_config_error(args.fit_config):
        parser.error(error)
    if args.operon_iterations < 0:
        parser.error(f"--operon-iterations must be 0 or more, got {args.operon_iterations}")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    try:
        laws = select(args.laws)
    except ValueError as error:
        raise SystemExit(f"fit_equations.py: {error}") from None
    settings = Settings(
        args.tools,
        args.rows,
        args.noise,
        args.seed,
        args.gplearn_budget,
        args.fit_config,
        args.operon_budget,
        args.operon_iterations,
    )
    console.print(
        f"{len(laws)} laws × {', '.join(settings.tools)}; {settings.rows} rows, noise {settings.noise:g}, "
        f"seed {settings.seed}, {args.workers} workers, gplearn {settings.gplearn[0]} × {settings.gplearn[1]}, "
        f"operon {settings.operon[0]} × {settings.operon[1]:,} evaluations ({settings.operon_iterations} local "
        f"iterations), fit config {settings.fit_config}",
        highlight=False,
    )
    rows = run_all([law.id for law in laws], settings, max(1, args.workers))
    write_csv(rows, args.out)
    print_summary(rows, settings)
    console.print(f"table: {args.out}", highlight=False)


if __name__ == "__main__":
    main()
