"""``arithnet train``: train seeds of an operation with a recipe, write the run's outputs, report what they learned."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import MofNCompleteColumn, TextColumn
from rich.table import Table

from arithnet.cli.shared import AsJson, Compile, Device, console, fail, given, progress, wrote

#: ``train`` options that decide the result: with --config they come from FILE.
RESULT_OPTIONS = {
    "operation": "OPERATION",
    "recipe": "--recipe",
    "seeds": "--seeds",
    "first_seed": "--first-seed",
    "steps": "--steps",
    "train_range": "--range",
}

ConfigFile = Annotated[
    Path | None,
    typer.Option(
        "--config",
        metavar="FILE",
        help="Train again the configuration saved in FILE (the result.json of arithnet train, "
        "or a configuration object); OPERATION, --recipe, --seeds, --first-seed, --steps and --range "
        "then come from FILE.",
    ),
]


def command(
    ctx: typer.Context,
    operation: Annotated[
        str | None, typer.Argument(help="Operation: add, sub, mul or div (not with --config).", show_default=False)
    ] = None,
    recipe: Annotated[str, typer.Option(help="Training recipe: default, seed-v1 or seed-v2.")] = "default",
    seeds: Annotated[int, typer.Option(help="Number of seeds trained together.")] = 100,
    first_seed: Annotated[int, typer.Option(help="Number of the first seed.")] = 0,
    steps: Annotated[int | None, typer.Option(help="Training steps \\[default: the recipe's].")] = None,
    train_range: Annotated[
        str | None,
        typer.Option("--range", help="Training range LOW,HIGH for every input \\[default: the recipe's]."),
    ] = None,
    config_file: ConfigFile = None,
    out: Annotated[Path, typer.Option(help="Directory for result.json, weights.png and loss.png.")] = Path(
        "runs/latest"
    ),
    as_json: AsJson = False,
    device: Device = "cpu",
    compile: Compile = None,
) -> None:
    """Train SEEDS networks on OPERATION at once and report what they learned."""
    given_options = {name: flag for name, flag in RESULT_OPTIONS.items() if given(ctx, name)}
    try:
        if config_file is not None:
            config = _saved_config(config_file, given_options, device if given(ctx, "device") else None, compile)
        else:
            config = _new_config(operation, recipe, seeds, first_seed, steps, train_range, device, compile)
        result, written = _train(config, out, quiet=as_json)
    except ValueError as error:
        fail(str(error))
    if as_json:
        from arithnet.outputs import summary_json

        sys.stdout.write(summary_json(result) + "\n")
        return
    _print_report(result, written)


def _train(config, out: Path, quiet: bool):
    """Check everything, train with a progress bar, write the outputs: (result, files written)."""
    from arithnet.outputs import prepare_output, save_run
    from arithnet.training import train
    from arithnet.training.trainer import check

    # Every refusal comes before the output directory is touched: refused input leaves nothing behind.
    total_steps = check(config).steps
    prepare_output(out)
    label = f"training {config.n_seeds} seed(s) of {config.operation}"
    with progress(TextColumn(label), MofNCompleteColumn(), total=total_steps, disable=quiet) as update:
        result = train(config, progress=update)
    return result, save_run(result, out)


def _saved_config(path: Path, given_options: dict[str, str], device: str | None, compile: bool | None):
    """The configuration saved in ``path``, with the execution choices given on the command line."""
    from dataclasses import replace

    from arithnet.training.saved import load_config

    if given_options:
        raise ValueError(
            f"--config takes its settings from FILE; do not also give {next(iter(given_options.values()))}"
        )
    config = load_config(path)
    overrides: dict[str, Any] = {"device": device} if device is not None else {}
    if compile is not None:
        overrides["compile"] = compile
    return replace(config, **overrides)


def _new_config(operation, recipe, seeds, first_seed, steps, train_range, device, compile):
    """The TrainConfig of the command line's options."""
    from arithnet.data import Range
    from arithnet.training.config import TrainConfig

    if operation is None:
        raise ValueError("give an OPERATION (add, sub, mul or div) or --config FILE")
    return TrainConfig(
        operation=operation,
        recipe=recipe,
        n_seeds=seeds,
        first_seed=first_seed,
        steps=steps,
        train_range=Range.parse(train_range) if train_range is not None else None,
        device=device,
        compile=compile,
    )


def _matrix(values: list) -> str:
    return "\n".join("  ".join(f"{v: .6g}" for v in row) for row in values)


def _print_report(result, written: list[Path]) -> None:
    config = result.config
    console.print(
        f"[bold]{config.operation}[/] with recipe [bold]{config.recipe}[/]: {config.n_seeds} seeds "
        f"({config.first_seed}…{config.first_seed + config.n_seeds - 1}), {config.steps} steps, "
        f"training range {config.train_range}"
    )
    weights = Table(title=f"weights of seed {config.first_seed}", title_justify="left")
    for column in ("parameter", "initial", "final"):
        weights.add_column(column)
    initial, final = result.weights(0, initial=True), result.weights(0)
    for name in final:
        weights.add_row(name, _matrix(initial[name]), _matrix(final[name]))
    console.print(weights)
    summary = result.summary()
    console.print(f"formula of seed {config.first_seed}: [bold]{summary['formula']}[/]")
    console.print(_errors_table(summary))
    colour = "green" if summary["n_solved"] == config.n_seeds else "yellow"
    by_readout = summary["n_verified_by_readout"]
    console.print(
        f"solved: [bold {colour}]{summary['n_solved']} of {config.n_seeds}[/] seeds "
        f"(exact formula: {summary['n_exact_formula']}, diverged: {summary['n_diverged']}"
        + (f", set exact by the readout: {by_readout}" if by_readout is not None else "")
        + ")"
    )
    console.print(f"wall time: {summary['seconds']:.2f} s")
    wrote(written)


def _errors_table(summary: dict) -> Table:
    """The relative errors of the first seed and the median over seeds, per test set (from ``result.summary()``)."""
    seed = summary["first_seed"]
    table = Table(title="relative error |y − t| / |t|", title_justify="left")
    columns = ("test set", "inputs", f"median, seed {seed}", f"max, seed {seed}", "median over seeds of the median")
    for column in columns:
        table.add_column(column)
    for name, errors in summary["errors"].items():
        cells = (errors["median_first_seed"], errors["max_first_seed"], errors["median_of_medians"])
        table.add_row(name, errors["description"], *(_error(value) for value in cells))
    return table


def _error(value: float | None) -> str:
    """An error as the table shows it; None (strict JSON for an infinite or NaN error: a diverged seed) as such."""
    return f"{value:.2e}" if value is not None else "not finite"
