"""The ``arithnet`` command: it parses, builds configurations with the library, calls it and prints.

Everything else (range spans, unit options, default steps, saved
configurations, device checks) is in the library, so a library user gets
exactly what the command gets. Every error is one line on stderr and exit
code 2. Help texts are rich markup: a literal ``[`` is written ``\\[``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table
from typer.core import TyperGroup

#: The parser's own error class (typer may vendor click, so found through a public subclass).
_ClickException = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException")


class _OneLineErrors(TyperGroup):
    """Usage errors (unknown option, missing or bad value) as one line on stderr, exit code 2."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra: Any) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        try:
            code = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except _ClickException as error:
            if type(error).__name__ == "NoArgsIsHelpError":  # bare `arithnet`: the help, already printed
                sys.exit(error.exit_code)
            ctx = getattr(error, "ctx", None)
            hint = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
            _error_line(error.format_message() + hint)
            sys.exit(error.exit_code)
        except typer.Abort:
            _error_line("aborted")
            sys.exit(1)
        sys.exit(code if isinstance(code, int) else 0)


app = typer.Typer(
    cls=_OneLineErrors,
    help="arithnet: neural networks that learn exact arithmetic and read it out as a formula.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()
errors = Console(stderr=True)


def _error_line(message: str) -> None:
    """``error: message`` on stderr, on one line, the message printed as it is (not as markup)."""
    from rich.markup import escape

    errors.print(f"[bold red]error:[/] {escape(' '.join(message.split()))}", highlight=False, soft_wrap=True)


def fail(message: str) -> None:
    """One line on stderr and exit code 2: the CLI's answer to bad input."""
    _error_line(message)
    raise typer.Exit(2)


def _print_version(value: bool) -> None:
    if value:
        from arithnet import __version__

        sys.stdout.write(f"arithnet {__version__}\n")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool, typer.Option("--version", callback=_print_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """Train networks on +, −, × and ÷ and read out what they learned."""


Device = Annotated[str, typer.Option(help="Device to train on: cpu or cuda.")]
Compile = Annotated[
    bool | None,
    typer.Option(
        "--compile/--no-compile",
        help="Compile the training step with torch.compile, or not \\[default: the library decides].",
        show_default=False,
    ),
]

#: ``train`` options that decide the result: with --config they come from FILE.
_RESULT_OPTIONS = {
    "operation": "OPERATION",
    "recipe": "--recipe",
    "seeds": "--seeds",
    "first_seed": "--first-seed",
    "steps": "--steps",
    "train_range": "--range",
}


def _given(ctx: typer.Context, name: str) -> bool:
    source = ctx.get_parameter_source(name)
    return source is not None and source.name not in ("DEFAULT", "DEFAULT_MAP")


@app.command("train")
def train_command(
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
    config_file: Annotated[
        Path | None,
        typer.Option(
            "--config",
            metavar="FILE",
            help="Train again the configuration saved in FILE (the result.json of arithnet train, "
            "or a configuration object); OPERATION, --recipe, --seeds, --first-seed, --steps and --range "
            "then come from FILE.",
        ),
    ] = None,
    out: Annotated[Path, typer.Option(help="Directory for result.json, weights.png and loss.png.")] = Path(
        "runs/latest"
    ),
    as_json: Annotated[bool, typer.Option("--json", help="Print a machine-readable summary instead.")] = False,
    device: Device = "cpu",
    compile: Compile = None,
) -> None:
    """Train SEEDS networks on OPERATION at once and report what they learned."""
    from dataclasses import replace

    from arithnet.data import Range
    from arithnet.devices import check_device
    from arithnet.outputs import prepare_directory, save_run
    from arithnet.training import TrainConfig, train
    from arithnet.training.saved import load_config

    try:
        if config_file is not None:
            for name, flag in _RESULT_OPTIONS.items():
                if _given(ctx, name):
                    raise ValueError(f"--config takes its settings from FILE; do not also give {flag}")
            config = load_config(config_file)
            overrides: dict[str, Any] = {"device": device} if _given(ctx, "device") else {}
            if compile is not None:
                overrides["compile"] = compile
            config = replace(config, **overrides)
        elif operation is None:
            raise ValueError("give an OPERATION (add, sub, mul or div) or --config FILE")
        else:
            config = TrainConfig(
                operation=operation,
                recipe=recipe,
                n_seeds=seeds,
                first_seed=first_seed,
                steps=steps,
                train_range=Range.parse(train_range) if train_range is not None else None,
                device=device,
                compile=compile,
            )
        check_device(config.device)
        total_steps = config.resolved().steps
        prepare_directory(out)
        with Progress(
            TextColumn(f"training {config.n_seeds} seed(s) of {config.operation}"),
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
    seed = cfg.first_seed
    columns = ("test set", "inputs", f"median, seed {seed}", f"max, seed {seed}", "median over seeds of the median")
    for column in columns:
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


@app.command("bench")
def bench_command(
    units: Annotated[str, typer.Option(help="Units, comma-separated; 'A>B' stacks two (ICLR task).")],
    ops: Annotated[str, typer.Option(help="Operations, comma-separated.")] = "add,sub,mul,div",
    task: Annotated[str, typer.Option(help="primer (single module) or iclr (100 inputs, two layers).")] = "primer",
    input_size: Annotated[int, typer.Option(help="Inputs per sample (Primer: 2 or 10; ICLR: 100).")] = 2,
    ranges: Annotated[
        str, typer.Option(help="Ranges, comma-separated: all, primer, division-extra, iclr, spans such as 1-9, names.")
    ] = "primer",
    seeds: Annotated[int, typer.Option(help="Seeds per (unit, operation, range).")] = 25,
    first_seed: Annotated[int, typer.Option(help="Number of the first seed.")] = 0,
    steps: Annotated[int | None, typer.Option(help="Steps \\[default: 50,000 for input 2, 100,000 otherwise].")] = None,
    lr: Annotated[float | None, typer.Option(help="Adam learning rate \\[default: the unit's paper].")] = None,
    loss: Annotated[str, typer.Option(help="mse (the field's) or log (LogExp units).")] = "mse",
    lr_schedule: Annotated[str, typer.Option(help="constant (the field's) or cosine.")] = "constant",
    dtype: Annotated[str, typer.Option(help="float32 (the field's) or float64.")] = "float32",
    force: Annotated[bool, typer.Option(help="Run units on operations they cannot represent.")] = False,
    option: Annotated[
        list[str] | None,
        typer.Option(
            help="Unit option NAME=VALUE, repeatable; VALUE a Python literal, strings quoted: "
            "regularization_start=20000, gate_gradient='clamp'."
        ),
    ] = None,
    store: Annotated[Path, typer.Option(help="SQLite results store, created if missing.")] = Path("runs/bench.sqlite"),
    report: Annotated[Path | None, typer.Option(help="Report directory \\[default: beside the store].")] = None,
    jobs: Annotated[int, typer.Option(help="Worker processes (one torch thread each).")] = 2,
    device: Device = "cpu",
    compile: Compile = None,
) -> None:
    """Run the field's benchmark protocol over units × operations × ranges × seeds."""
    from arithnet.bench.figures import write_report
    from arithnet.bench.grid import bench_grid
    from arithnet.bench.runner import pending_runs, run_grid
    from arithnet.bench.store import ResultsStore
    from arithnet.files import prepare_directory

    try:
        if jobs < 1:
            raise ValueError(f"jobs must be at least 1, got {jobs}")
        grid = bench_grid(
            units,
            ops,
            task=task,
            input_size=input_size,
            ranges=ranges,
            seeds=seeds,
            first_seed=first_seed,
            steps=steps,
            lr=lr,
            loss=loss,
            lr_schedule=lr_schedule,
            dtype=dtype,
            force=force,
            unit_options=option or (),
            device=device,
            compile=compile,
        )
        runs = grid.runs()
        report_dir = prepare_directory(report or store.parent / "report", "report directory")
        with ResultsStore(store) as results:
            todo = pending_runs(runs, results)
        done = len(runs) - len(todo)
        errors.print(f"{len(runs)} runs, {done} already in {store}, {len(todo)} to train", soft_wrap=True)
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
    from arithnet.bench.summary import format_rate
    from arithnet.bench.verdicts import verdicts

    table = Table(title="success rate [95% Wilson interval]", title_justify="left")
    for column in ("unit", "operation", "runs", "raw 1e-5", "ICLR ε-perfect", "Primer ε-perfect", "exact formula"):
        table.add_column(column)
    records = verdicts(rows)
    criteria = ("raw", "iclr", "primer", "exact")
    by_criterion = {c: {(e["unit"], e["operation"]): e for e in success_table(records, criterion=c)} for c in criteria}
    for (unit, operation), entry in by_criterion["raw"].items():
        cells = [format_rate(*(by_criterion[c][unit, operation][k] for k in ("rate", "low", "high"))) for c in criteria]
        table.add_row(unit, operation, str(entry["n"]), *cells)
    console.print(table)
