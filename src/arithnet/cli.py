"""The ``arithnet`` command: a thin layer that builds configurations and calls the library."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

app = typer.Typer(
    help="arithnet: neural networks that learn exact arithmetic and read it out as a formula.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()
errors = Console(stderr=True)


def fail(message: str) -> None:
    """One line on stderr and exit code 2: the CLI's answer to bad input."""
    errors.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(2)


@app.callback()
def main() -> None:
    """Train networks on +, −, × and ÷ and read out what they learned."""


@app.command("train")
def train_command(
    operation: Annotated[str, typer.Argument(help="Operation: add, sub, mul or div.")],
    recipe: Annotated[str, typer.Option(help="Training recipe: default, seed-v1 or seed-v2.")] = "default",
    seeds: Annotated[int, typer.Option(help="Number of seeds trained together.")] = 100,
    first_seed: Annotated[int, typer.Option(help="Number of the first seed.")] = 0,
    steps: Annotated[int | None, typer.Option(help="Training steps [default: the recipe's].")] = None,
    train_range: Annotated[
        str | None, typer.Option("--range", help="Training range LOW,HIGH for every input [default: the recipe's].")
    ] = None,
    out: Annotated[Path, typer.Option(help="Directory for result.json, weights.png and loss.png.")] = Path(
        "runs/latest"
    ),
    as_json: Annotated[bool, typer.Option("--json", help="Print a machine-readable summary instead.")] = False,
) -> None:
    """Train SEEDS networks on OPERATION at once and report what they learned."""
    from arithnet.data import Range
    from arithnet.operations import get_operation
    from arithnet.outputs import prepare_directory, save_run
    from arithnet.training import TrainConfig, get_recipe, train

    try:
        config = TrainConfig(
            operation=operation,
            recipe=recipe,
            n_seeds=seeds,
            first_seed=first_seed,
            steps=steps,
            train_range=Range.parse(train_range) if train_range is not None else None,
        )
        total_steps = config.steps or get_recipe(config.recipe).steps_for(get_operation(config.operation))
        prepare_directory(out)
        with Progress(
            TextColumn(f"training {seeds} seed(s) of {operation}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=errors,
            transient=True,
            disable=as_json or not errors.is_terminal,
        ) as progress:
            task = progress.add_task("train", total=total_steps)
            result = train(config, progress=lambda done: progress.update(task, completed=done))
        written = save_run(result, out)
    except ValueError as error:
        fail(str(error))
    if as_json:
        sys.stdout.write(json.dumps(result.summary()) + "\n")
        return
    _print_report(result, written)


def _matrix(values: list) -> str:
    return "\n".join("  ".join(f"{v: .6g}" for v in row) for row in values)


def _print_report(result, written: list[Path]) -> None:
    cfg = result.config
    ev = result.evaluation
    console.print(
        f"[bold]{cfg.operation}[/] with recipe [bold]{cfg.recipe}[/]: {cfg.n_seeds} seeds "
        f"({cfg.first_seed}…{cfg.first_seed + cfg.n_seeds - 1}), {cfg.steps} steps, training range {cfg.train_range}"
    )
    weights = Table(title=f"weights of seed {cfg.first_seed}", title_justify="left")
    weights.add_column("parameter")
    weights.add_column("initial")
    weights.add_column("final")
    initial, final = result.weights(0, initial=True), result.weights(0)
    for name in final:
        weights.add_row(name, _matrix(initial[name]), _matrix(final[name]))
    console.print(weights)
    console.print(f"formula of seed {cfg.first_seed}: [bold]{ev.formulas[0]}[/]")
    errors_table = Table(title="relative error |y − t| / |t|", title_justify="left")
    for column in ("test set", "inputs", f"median, seed {cfg.first_seed}", f"max, seed {cfg.first_seed}", "median over seeds of the median"):
        errors_table.add_column(column)
    for name, description in ev.set_descriptions.items():
        errors_table.add_row(
            name,
            description,
            f"{float(ev.median_error[name][0]):.2e}",
            f"{float(ev.max_error[name][0]):.2e}",
            f"{float(ev.median_error[name].median()):.2e}",
        )
    console.print(errors_table)
    colour = "green" if result.n_solved == cfg.n_seeds else "yellow"
    console.print(
        f"solved: [bold {colour}]{result.n_solved} of {cfg.n_seeds}[/] seeds "
        f"(exact formula: {int(ev.exact.sum())}, diverged: {result.n_diverged})"
    )
    console.print(f"wall time: {result.seconds:.2f} s")
    console.print("wrote " + ", ".join(str(p) for p in written))


def _names(text: str) -> tuple[str, ...]:
    return tuple(name.strip() for name in text.split(",") if name.strip())


def _range_names(text: str) -> tuple[str, ...]:
    """'all', a grid name, 'LOW-HIGH' of the Primer's numbered ranges, or names, comma-separated."""
    from arithnet.bench.tasks import GRIDS

    names: list[str] = []
    for token in _names(text):
        if token in GRIDS:
            names.extend(GRIDS[token])
        elif "-" in token and all(part.isdigit() for part in token.split("-", 1)):
            low, high = (int(part) for part in token.split("-", 1))
            names.extend(str(i) for i in range(low, high + 1))
        else:
            names.append(token)
    return tuple(dict.fromkeys(names))


def _unit_options(texts: list[str]) -> tuple[tuple[str, object], ...]:
    import ast

    options = []
    for text in texts:
        name, separator, value = text.partition("=")
        if not separator or not name.isidentifier():
            raise ValueError(f"unit option {text!r} must be NAME=VALUE, e.g. regularization_start=20000")
        try:
            options.append((name, ast.literal_eval(value)))
        except (ValueError, SyntaxError):
            options.append((name, value))
    return tuple(options)


@app.command("bench")
def bench_command(
    units: Annotated[str, typer.Option(help="Units, comma-separated; 'A>B' stacks two (ICLR task).")],
    ops: Annotated[str, typer.Option(help="Operations, comma-separated.")] = "add,sub,mul,div",
    task: Annotated[str, typer.Option(help="primer (single module) or iclr (100 inputs, two layers).")] = "primer",
    input_size: Annotated[int, typer.Option(help="Inputs per sample (Primer: 2 or 10; ICLR: 100).")] = 2,
    ranges: Annotated[str, typer.Option(help="Range names: 1-9, primer, division-extra, iclr, or a list.")] = "primer",
    seeds: Annotated[int, typer.Option(help="Seeds per (unit, operation, range).")] = 25,
    first_seed: Annotated[int, typer.Option(help="Number of the first seed.")] = 0,
    steps: Annotated[int | None, typer.Option(help="Steps [default: 50,000 for input 2, 100,000 otherwise].")] = None,
    lr: Annotated[float | None, typer.Option(help="Adam learning rate [default: the unit's paper].")] = None,
    loss: Annotated[str, typer.Option(help="mse (the field's) or log (LogExp units).")] = "mse",
    lr_schedule: Annotated[str, typer.Option(help="constant (the field's) or cosine.")] = "constant",
    dtype: Annotated[str, typer.Option(help="float32 (the field's) or float64.")] = "float32",
    force: Annotated[bool, typer.Option(help="Run units on operations they cannot represent.")] = False,
    option: Annotated[
        list[str] | None, typer.Option(help="Unit option NAME=VALUE, repeatable, e.g. regularization_start=20000.")
    ] = None,
    store: Annotated[Path, typer.Option(help="SQLite results store, created if missing.")] = Path("runs/bench.sqlite"),
    report: Annotated[Path | None, typer.Option(help="Report directory [default: beside the store].")] = None,
    jobs: Annotated[int, typer.Option(help="Worker processes (one torch thread each).")] = 2,
) -> None:
    """Run the field's benchmark protocol over units × operations × ranges × seeds."""
    from arithnet.bench.figures import write_report
    from arithnet.bench.protocol import BenchConfig
    from arithnet.bench.runner import Grid, pending_runs, run_grid
    from arithnet.bench.store import ResultsStore
    from arithnet.files import prepare_directory

    try:
        if seeds < 1 or jobs < 1:
            raise ValueError(f"seeds and jobs must be at least 1, got seeds={seeds}, jobs={jobs}")
        template = BenchConfig(
            unit=_names(units)[0] if _names(units) else "",
            operation=(_names(ops) or ("",))[0],
            task=task,
            input_size=input_size,
            range_name=(_range_names(ranges) or ("",))[0],
            steps=steps or (50_000 if input_size == 2 else 100_000),
            lr=lr,
            loss=loss,
            lr_schedule=lr_schedule,
            dtype=dtype,
            force=force,
            unit_options=_unit_options(option or []),
        )
        grid = Grid(_names(units), _names(ops), _range_names(ranges), tuple(range(first_seed, first_seed + seeds)), template)
        runs = grid.runs()
        report_dir = prepare_directory(report or store.parent / "report", "report directory")
        with ResultsStore(store) as results:
            todo = pending_runs(runs, results)
        errors.print(f"{len(runs)} runs, {len(runs) - len(todo)} already in {store}, {len(todo)} to train", soft_wrap=True)
        with Progress(
            TextColumn("benchmark"),
            BarColumn(),
            TextColumn("{task.completed:.1f}/{task.total} runs"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=errors,
            transient=True,
            disable=not errors.is_terminal,
        ) as progress:
            bar = progress.add_task("bench", total=len(todo))
            run_grid(todo, store, jobs, lambda done, total: progress.update(bar, completed=done))
        keys = {config.key(seed) for config, seed in runs}
        with ResultsStore(store) as results:
            rows = [row for row in results.rows() if row.key in keys]
        written = write_report(rows, report_dir)
    except ValueError as error:
        fail(str(error))
    console.print(f"{len(rows)} runs in {store}; report: {written[0]}", soft_wrap=True)
    _print_bench_table(rows)


def _print_bench_table(rows) -> None:
    from arithnet.bench.stats import success_table

    table = Table(title="success rate [95% Wilson interval]", title_justify="left")
    for column in ("unit", "operation", "runs", "raw 1e-5", "ICLR ε-perfect", "Primer ε-perfect", "exact formula"):
        table.add_column(column)
    by_criterion = {c: success_table(rows, criterion=c) for c in ("raw", "iclr", "primer")}
    for i, entry in enumerate(by_criterion["raw"]):
        cells = [
            f"{100 * by_criterion[c][i]['rate']:.1f}% [{100 * by_criterion[c][i]['low']:.1f}, {100 * by_criterion[c][i]['high']:.1f}]"
            for c in ("raw", "iclr", "primer")
        ]
        exact = f"{100 * entry['exact_rate']:.1f}% [{100 * entry['exact_low']:.1f}, {100 * entry['exact_high']:.1f}]"
        table.add_row(entry["unit"], entry["operation"], str(entry["n"]), *cells, exact)
    console.print(table)
