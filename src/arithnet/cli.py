"""The ``arithnet`` command: it parses, builds configurations with the library, calls it and prints.

Everything else (range spans, unit options, default steps, saved
configurations, device checks) is in the library, so a library user gets
exactly what the command gets. Every error is one line on stderr and exit
code 2. Help texts are rich markup: a literal ``[`` is written ``\\[``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
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
        args = _fill_optional_values(sys.argv[1:] if args is None else list(args))
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


#: Options whose value may be left out, and the value they then take: ``--ray`` alone is ``--ray local``.
#: (The parser has no optional values: a bare one gets its value before parsing.)
_OPTIONAL_VALUES = {"--ray": "local"}


def _fill_optional_values(args: list[str]) -> list[str]:
    """``args`` with the value of each option in _OPTIONAL_VALUES given bare (last, or before another option)."""
    filled = []
    for index, arg in enumerate(args):
        filled.append(arg)
        if arg == "--":
            return filled + args[index + 1 :]
        following = args[index + 1] if index + 1 < len(args) else "-"
        if arg in _OPTIONAL_VALUES and following.startswith("-"):
            filled.append(_OPTIONAL_VALUES[arg])
    return filled


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
    from arithnet.outputs import prepare_output, save_run, summary_json
    from arithnet.training import train
    from arithnet.training.trainer import check

    given = {name: flag for name, flag in _RESULT_OPTIONS.items() if _given(ctx, name)}
    try:
        if config_file is not None:
            config = _saved_config(config_file, given, device if _given(ctx, "device") else None, compile)
        else:
            config = _new_config(operation, recipe, seeds, first_seed, steps, train_range, device, compile)
        # Every refusal comes before the output directory is touched: refused input leaves nothing behind.
        total_steps = check(config).steps
        prepare_output(out)
        label = f"training {config.n_seeds} seed(s) of {config.operation}"
        with _progress(TextColumn(label), MofNCompleteColumn(), total=total_steps, disable=as_json) as update:
            result = train(config, progress=update)
        written = save_run(result, out)
    except ValueError as error:
        fail(str(error))
    if as_json:
        sys.stdout.write(summary_json(result) + "\n")
        return
    _print_report(result, written)


def _saved_config(path: Path, given: dict[str, str], device: str | None, compile: bool | None):
    """The configuration saved in ``path``, with the execution choices given on the command line."""
    from dataclasses import replace

    from arithnet.training.saved import load_config

    if given:
        raise ValueError(f"--config takes its settings from FILE; do not also give {next(iter(given.values()))}")
    config = load_config(path)
    overrides: dict[str, Any] = {"device": device} if device is not None else {}
    if compile is not None:
        overrides["compile"] = compile
    return replace(config, **overrides)


def _new_config(operation, recipe, seeds, first_seed, steps, train_range, device, compile):
    """The TrainConfig of the command line's options."""
    from arithnet.data import Range
    from arithnet.training import TrainConfig

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


@contextmanager
def _progress(*columns, total: float, disable: bool = False) -> Iterator[Callable[..., None]]:
    """A progress bar on stderr (when it is a terminal); yields ``update(completed, **fields)``.

    ``fields`` are the task's, e.g. ``description=`` for a ``{task.description}`` column.
    """
    with Progress(
        *columns[:1],
        BarColumn(),
        *columns[1:],
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=errors,
        transient=True,
        disable=disable or not errors.is_terminal,
    ) as progress:
        task = progress.add_task("work", total=total)
        yield lambda completed, **fields: progress.update(task, completed=completed, **fields)


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
        f"(exact formula: {int(ev.exact.sum())}, diverged: {result.n_diverged}"
        + (f", set exact by the readout: {int(result.extras['verified'].sum())}" if "verified" in result.extras else "")
        + ")"
    )
    console.print(f"wall time: {result.seconds:.2f} s")
    console.print("wrote " + ", ".join(str(p) for p in written))


# The bench command's options that are long to declare (its signature must fit on a screen).
BenchUnits = Annotated[str | None, typer.Option(help="Units, comma-separated; 'A>B' stacks two (ICLR task). Required.")]
BenchOps = Annotated[
    str | None,
    typer.Option(help="Operations, comma-separated \\[default: add,sub,mul,div; with --preset, the paper's]."),
]
BenchTask = Annotated[
    str | None,
    typer.Option(help="primer (single module) or iclr (100 inputs, two layers) \\[default: primer, or the preset's]."),
]
BenchInputSize = Annotated[
    int | None, typer.Option(help="Inputs per sample (Primer: 2 or 10; ICLR: 100) \\[default: 2, or the preset's].")
]
BenchRanges = Annotated[
    str | None,
    typer.Option(
        help="Ranges, comma-separated: all, primer, division-extra, iclr, spans such as 1-9, names "
        "\\[default: primer, or the preset's]."
    ),
]
BenchPreset = Annotated[
    str | None,
    typer.Option(
        help="A paper's settings for every unit and operation: primer, iclr or division; settings given "
        "explicitly win (docs/presets.md)."
    ),
]
BenchShowPreset = Annotated[
    str | None, typer.Option(metavar="NAME", help="Print a preset's settings with their sources, and exit.")
]
BenchUnitOption = Annotated[
    list[str] | None,
    typer.Option(
        help="Unit option NAME=VALUE, repeatable; VALUE a Python literal, strings quoted: "
        "regularization_start=20000, gate_gradient='clamp'."
    ),
]
BenchJobs = Annotated[int, typer.Option(help="Worker processes (one torch thread each), at most this machine's CPUs.")]


@app.command("bench")
def bench_command(
    units: BenchUnits = None,
    ops: BenchOps = None,
    task: BenchTask = None,
    input_size: BenchInputSize = None,
    ranges: BenchRanges = None,
    preset: BenchPreset = None,
    show_preset: BenchShowPreset = None,
    seeds: Annotated[int, typer.Option(help="Seeds per (unit, operation, range).")] = 25,
    first_seed: Annotated[int, typer.Option(help="Number of the first seed.")] = 0,
    steps: Annotated[int | None, typer.Option(help="Steps \\[default: 50,000 for input 2, 100,000 otherwise].")] = None,
    lr: Annotated[float | None, typer.Option(help="Adam learning rate \\[default: the unit's paper].")] = None,
    loss: Annotated[str, typer.Option(help="mse (the field's), log (LogExp units) or projected (RatioNet).")] = "mse",
    lr_schedule: Annotated[str, typer.Option(help="constant (the field's) or cosine.")] = "constant",
    dtype: Annotated[str, typer.Option(help="float32 (the field's) or float64.")] = "float32",
    force: Annotated[bool, typer.Option(help="Run units on operations they cannot represent.")] = False,
    option: BenchUnitOption = None,
    store: Annotated[Path, typer.Option(help="SQLite results store, created if missing.")] = Path("runs/bench.sqlite"),
    report: Annotated[Path | None, typer.Option(help="Report directory \\[default: beside the store].")] = None,
    jobs: BenchJobs = 2,
    ray: Annotated[
        str | None,
        typer.Option(
            "--ray",
            metavar="[ADDRESS]",
            help="Train the groups as Ray tasks. Alone: on a local Ray instance of --jobs CPUs; with ADDRESS "
            "(ray://HOST:10001, HOST:6379 or auto): on that cluster's CPUs. Needs pip install 'arithnet\\[ray]'.",
            show_default=False,
        ),
    ] = None,
    device: Device = "cpu",
    compile: Compile = None,
) -> None:
    """Run the field's benchmark protocol over units × operations × ranges × seeds."""
    from arithnet.bench.grid import bench_grid

    if show_preset is not None:
        return _show_preset(show_preset)  # prints the table, needs no --units
    plan, runs = None, []  # plan is set once the store is open: a stop after that keeps what finished
    try:
        if units is None:
            raise ValueError("Missing option '--units': name at least one unit (or --show-preset NAME)")
        if jobs < 1:
            raise ValueError(f"jobs must be at least 1, got {jobs}")
        # The command's options carry bench_grid's parameter names: the library builds the grid.
        options = {name: value for name, value in locals().items() if name in _GRID_OPTIONS}
        grid = bench_grid(**options, unit_options=option or ())
        runs = grid.runs()
        if ray is not None:  # refused before the store is made, like every other bad input
            from arithnet.bench.cluster import check_ray

            check_ray(ray)
        plan = _prepare_bench(runs, store, report or store.parent / "report", jobs, ray)
        rows, written = _run_bench(plan, runs, store, jobs, ray)
    except ValueError as error:
        fail(str(error))
    except KeyboardInterrupt as stop:  # GridStopped while training
        _stopped(stop, plan, runs, store)
    console.print(f"{len(rows)} runs in {store}; report: {written[0]}", soft_wrap=True)
    _print_bench_table(rows)


_GRID_OPTIONS = (
    "units", "ops", "task", "input_size", "ranges", "seeds", "first_seed", "steps", "lr", "loss", "lr_schedule",
    "dtype", "force", "device", "compile", "preset",
)  # fmt: skip


def _show_preset(name: str) -> None:
    """Print a preset's table (bench.presets): each unit's settings with their values and sources.

    One block per (unit, task, input size, operations), one line per setting:
    citations are long paths, which a table would fold into narrow columns.
    """
    from itertools import groupby

    from rich.markup import escape

    from arithnet.bench.presets import preset_rows

    try:
        rows = preset_rows(name)
    except ValueError as error:
        fail(str(error))
    console.print(f"[bold]preset {name}[/bold]: every setting, its value and its source")
    for (unit, task, input_size, operations), settings in groupby(rows, key=lambda row: row[:4]):
        console.print(f"\n[bold]{escape(unit)}[/bold], {task} task, input {input_size}, {escape(operations)}")
        for *_, setting, value, citation in settings:
            console.print(f"  {escape(setting)} = {escape(value)}  [dim]({escape(citation)})[/dim]", soft_wrap=True)


def _prepare_bench(runs, store: Path, report: Path, jobs: int, ray: str | None = None):
    """Every check, then the store and report directory: the plan of what is done and what to train."""
    from arithnet.bench.limits import worker_count
    from arithnet.bench.preflight import prepare_bench
    from arithnet.bench.writer import side_file

    plan = prepare_bench(runs, store, report)
    imported = f" ({plan.imported} imported from {side_file(store)})" if plan.imported else ""
    errors.print(
        f"{len(runs)} runs, {plan.done} already in {store}{imported}, {len(plan.todo)} to train", soft_wrap=True
    )
    if plan.todo and worker_count(jobs) < jobs and ray in (None, "local"):  # a cluster's CPUs are not ours
        note = f"note: --jobs {jobs} is more than this machine's CPUs: using {worker_count(jobs)} workers"
        errors.print(note, soft_wrap=True)
    return plan


def _run_bench(plan, runs, store: Path, jobs: int, ray: str | None = None):
    """Train what is missing and write the report: (rows, report files)."""
    from arithnet.bench.figures import write_report
    from arithnet.bench.preflight import grid_rows, store_rows
    from arithnet.bench.runner import run_grid
    from arithnet.bench.writer import side_file

    with _progress(
        TextColumn("benchmark"), TextColumn("{task.completed:.1f}/{task.total} runs"), total=len(plan.todo)
    ) as update:
        if ray is None:
            run_grid(plan.todo, store, jobs, lambda done, total: update(done))
        else:
            from arithnet.bench.cluster import run_grid_ray

            run_grid_ray(plan.todo, store, jobs, lambda done, total: update(done), address=ray)
    if side_file(store).exists():
        waiting = f"the store was busy: runs wait in {side_file(store)}; the next bench on it imports them"
        errors.print(waiting, soft_wrap=True)
    rows = grid_rows(runs, store)  # the command's table: its own runs; the report: every run in the store
    return rows, write_report(store_rows(store), plan.report_dir)


def _stopped(stop: KeyboardInterrupt, plan, runs, store: Path) -> None:
    """One line on what was kept and how to resume; exit 128 + the signal's number."""
    import signal
    import threading

    from arithnet.bench.runner import GridStopped

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # stopped already: another Ctrl-C must not cut the exit
    kept = "every finished run is kept" if plan else "nothing was trained"
    if isinstance(stop, GridStopped):
        kept = f"{plan.done + stop.added} of {len(runs)} runs are in {store}"
        kept += f", others wait in {stop.side_file}" if stop.side_file else ""
    errors.print(f"stopped: {kept}; run the same command again to resume", soft_wrap=True, highlight=False)
    raise typer.Exit(128 + getattr(stop, "signum", signal.SIGINT)) from None


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


# Reports of the field's tables -----------------------------------------------------------------------------------


@app.command("report")
def report_command(
    table: Annotated[
        str, typer.Argument(metavar="TABLE", help="The table: primer, division or iclr.", show_default=False)
    ],
    store: Annotated[
        Path, typer.Option(metavar="PATH", help="The results store that arithnet bench wrote.", show_default=False)
    ],
    write: Annotated[
        Path | None,
        typer.Option(
            metavar="FILE",
            help="Replace the lines between <!-- report:TABLE --> and <!-- /report:TABLE --> in FILE with the table.",
        ),
    ] = None,
    figures: Annotated[
        Path | None, typer.Option(metavar="DIR", help="Write solved_at_TABLE.png (runs solved against step) into DIR.")
    ] = None,
) -> None:
    """Print one of the field's tables from the results store, next to the published numbers."""
    from arithnet.bench.report import build_report, replaced_file, write_figures, write_text

    try:
        report = build_report(table, store)
        # The file and its markers are checked before anything is written.
        new_text = replaced_file(write, report.spec.name, report.markdown()) if write is not None else None
        written = write_figures(report, figures) if figures is not None else []
        if write is not None:
            written.append(write_text(write, new_text))
    except ValueError as error:
        fail(str(error))
    _print_field_table(report)
    if written:
        console.print("wrote " + ", ".join(str(p) for p in written), soft_wrap=True)


def _print_field_table(report) -> None:
    from rich.markup import escape

    from arithnet.bench.report import table_cells

    header, body = table_cells(report.spec, report.table)
    table = Table(title=f"{report.spec.name}: {report.spec.title}", title_justify="left")
    for column in header:
        table.add_column(escape(column))
    for cells in body:
        table.add_row(*(escape(cell.replace("**", "")) for cell in cells))
    console.print(table)


# Laws ------------------------------------------------------------------------------------------------------------


@app.command("fit")
def fit_command(
    data: Annotated[
        Path,
        typer.Argument(
            metavar="DATA", help="The table: CSV, or Parquet (.parquet, .pq) with pyarrow.", show_default=False
        ),
    ],
    target: Annotated[str, typer.Option(metavar="COLUMN", help="The column the law gives.", show_default=False)],
    columns: Annotated[
        str | None,
        typer.Option(metavar="A,B,C", help="Input columns, comma-separated \\[default: every other column]."),
    ] = None,
    out: Annotated[
        Path, typer.Option(metavar="DIR", help="Directory for law.json and law.png; other files in it stay.")
    ] = Path("runs/law"),
    as_json: Annotated[bool, typer.Option("--json", help="Print a machine-readable summary instead.")] = False,
    seed: Annotated[
        int | None, typer.Option(metavar="N", help="Seed of the search's starts and held-out rows \\[default: 0].")
    ] = None,
    time_budget: Annotated[
        float | None,
        typer.Option(metavar="SECONDS", help="No new stage of the search starts after this \\[default: 60]."),
    ] = None,
    figure: Annotated[bool, typer.Option("--figure/--no-figure", help="Write law.png, or not.")] = True,
) -> None:
    """Find the exact law that gives the --target column of DATA from the other columns."""
    import json

    from arithnet.laws.outputs import prepare_law_output, save_law, summary_content

    try:
        table, in_file, config = _fit_input(data, target, columns, seed, time_budget)
        prepare_law_output(out)  # refused before the search, which takes seconds to minutes
        fit = _search(table, config, quiet=as_json)
        written = save_law(fit, table, out, in_file, figure)
    except ValueError as error:
        fail(str(error))
    if as_json:
        sys.stdout.write(json.dumps(summary_content(fit, written), allow_nan=False) + "\n")
        return
    _print_law_report(fit, written)


def _fit_input(data: Path, target: str, columns: str | None, seed: int | None, time_budget: float | None):
    """(checked table, every column of the file, FitConfig): every refusal before anything is written."""
    from arithnet.laws import FitConfig
    from arithnet.laws.fit import check_rows
    from arithnet.tables import read_frame, read_table

    # Options not given are left to FitConfig, so the command's defaults are the library's.
    given = {"seed": seed, "time_budget": time_budget}
    config = FitConfig(**{name: value for name, value in given.items() if value is not None})
    table = read_table(data, target, columns.split(",") if columns is not None else None)
    check_rows(table, config)
    return table, list(read_frame(data).columns), config


def _search(table, config, quiet: bool):
    """``fit_law`` with a progress bar on stderr: the fraction done and the stage running."""
    from arithnet.laws import fit_law

    shown = TextColumn("law search: {task.description}"), TextColumn("{task.percentage:>3.0f}%")
    with _progress(*shown, total=1.0, disable=quiet) as update:
        update(0.0, description="starting")
        return fit_law(table, config, progress=lambda fraction, what: update(fraction, description=what))


def _percent(value: float | None) -> str:
    import math

    return f"{100 * value:.2g}%" if value is not None and math.isfinite(value) else "an unbounded error"


def _verification_line(fit) -> str:
    if fit.verification == "exact":
        return "exact on the held-out rows"
    if fit.verification == "noise":
        return f"verified to the noise level, about {_percent(fit.noise_level)} relative noise"
    return f"not verified: the best candidate misses the held-out rows by {_percent(fit.chosen.error)} (relative RMS)"


def _print_law_report(fit, written: list[Path]) -> None:
    from rich.markup import escape

    console.print(f"law: [bold]{escape(str(fit.law))}[/]", soft_wrap=True)
    console.print(f"LaTeX: {escape(fit.law.latex())}", soft_wrap=True, highlight=False)
    colour = {"exact": "green", "noise": "yellow"}.get(fit.verification, "red")
    console.print(f"verification: [{colour}]{escape(_verification_line(fit))}[/]", soft_wrap=True)
    for note in fit.notes:
        console.print(f"note: {escape(note)}", soft_wrap=True)
    console.print(f"relative RMS error over all rows: {fit.error_in_range:.2e}")
    table = Table(title="candidates (Pareto front, simplest first)", title_justify="left", caption="→ the chosen law")
    for column in ("", "complexity", "held-out error", "verified", "law", "template"):
        table.add_column(column, overflow="fold")  # a law is never cut short with "…"
    for candidate in fit.candidates:
        row = candidate.row()
        error = f"{row['error']:.2e}" if row["error"] is not None else "inf"
        mark = "→" if candidate is fit.chosen else ""
        table.add_row(mark, str(row["complexity"]), error, row["verified"], escape(row["law"]), escape(row["template"]))
    console.print(table)
    console.print(f"time: {fit.seconds:.2f} s")
    console.print("wrote " + ", ".join(str(p) for p in written), soft_wrap=True)


@app.command("predict")
def predict_command(
    law_file: Annotated[
        Path, typer.Argument(metavar="LAW.json", help="A law.json written by arithnet fit.", show_default=False)
    ],
    new: Annotated[
        Path,
        typer.Argument(
            metavar="NEW.csv",
            help="Rows to predict (CSV, or Parquet with pyarrow) with the law's columns.",
            show_default=False,
        ),
    ],
    output: Annotated[
        Path | None,
        typer.Option(metavar="FILE", help="Write the CSV to FILE, replaced whole \\[default: standard output]."),
    ] = None,
    column: Annotated[str, typer.Option(metavar="NAME", help="Name of the prediction column.")] = "prediction",
) -> None:
    """Predict with a saved law: CSV of the law's input columns found in NEW and the prediction."""
    from arithnet.laws import load_law
    from arithnet.laws.outputs import csv_text, predictions, write_text
    from arithnet.tables import read_frame

    try:
        law = load_law(law_file)
        text = csv_text(predictions(law, read_frame(new), str(new), column))
        if output is not None:
            write_text(output, text)
    except ValueError as error:
        fail(str(error))
    if output is None:
        sys.stdout.write(text)
