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
