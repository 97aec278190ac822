"""``arithnet bench``: the field's protocol over units × operations × ranges × seeds, into a results store."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, ClassVar

import typer
from rich.progress import TextColumn
from rich.table import Table

from arithnet.cli.shared import Compile, Device, OptionalValues, console, errors, fail, progress


class BenchCommand(OptionalValues):
    """``--ray`` alone (last, or followed by another option) is ``--ray local``: a local Ray instance."""

    optional_values: ClassVar[dict[str, str]] = {"--ray": "local"}


# The command's options that are long to declare (its signature must fit on a screen).
Units = Annotated[str | None, typer.Option(help="Units, comma-separated; 'A>B' stacks two (ICLR task). Required.")]
Ops = Annotated[
    str | None,
    typer.Option(help="Operations, comma-separated \\[default: add,sub,mul,div; with --preset, the paper's]."),
]
Task = Annotated[
    str | None,
    typer.Option(help="primer (single module) or iclr (100 inputs, two layers) \\[default: primer, or the preset's]."),
]
InputSize = Annotated[
    int | None, typer.Option(help="Inputs per sample (Primer: 2 or 10; ICLR: 100) \\[default: 2, or the preset's].")
]
Ranges = Annotated[
    str | None,
    typer.Option(
        help="Ranges, comma-separated: all, primer, division-extra, iclr, spans such as 1-9, names "
        "\\[default: primer, or the preset's]."
    ),
]
Preset = Annotated[
    str | None,
    typer.Option(
        help="A paper's settings for every unit and operation: primer, iclr or division; settings given "
        "explicitly win (docs/presets.md)."
    ),
]
ShowPreset = Annotated[
    str | None, typer.Option(metavar="NAME", help="Print a preset's settings with their sources, and exit.")
]
Steps = Annotated[int | None, typer.Option(help="Steps \\[default: 50,000 for input 2, 100,000 otherwise].")]
Lr = Annotated[float | None, typer.Option(help="Adam learning rate \\[default: the unit's paper].")]
Loss = Annotated[str, typer.Option(help="mse (the field's), log (LogExp units) or projected (RatioNet).")]
UnitOption = Annotated[
    list[str] | None,
    typer.Option(
        help="Unit option NAME=VALUE, repeatable; VALUE a Python literal, strings quoted: "
        "regularization_start=20000, gate_gradient='clamp'."
    ),
]
Store = Annotated[Path, typer.Option(help="SQLite results store, created if missing.")]
Jobs = Annotated[int, typer.Option(help="Worker processes (one torch thread each), at most this machine's CPUs.")]
Ray = Annotated[
    str | None,
    typer.Option(
        "--ray",
        metavar="[ADDRESS]",
        help="Train the groups as Ray tasks. Alone: on a local Ray instance of --jobs CPUs; with ADDRESS "
        "(ray://HOST:10001, HOST:6379 or auto): on that cluster's CPUs. Needs pip install 'arithnet\\[ray]'.",
        show_default=False,
    ),
]


def command(
    units: Units = None,
    ops: Ops = None,
    task: Task = None,
    input_size: InputSize = None,
    ranges: Ranges = None,
    preset: Preset = None,
    show_preset: ShowPreset = None,
    seeds: Annotated[int, typer.Option(help="Seeds per (unit, operation, range).")] = 25,
    first_seed: Annotated[int, typer.Option(help="Number of the first seed.")] = 0,
    steps: Steps = None,
    lr: Lr = None,
    loss: Loss = "mse",
    lr_schedule: Annotated[str, typer.Option(help="constant (the field's) or cosine.")] = "constant",
    dtype: Annotated[str, typer.Option(help="float32 (the field's) or float64.")] = "float32",
    force: Annotated[bool, typer.Option(help="Run units on operations they cannot represent.")] = False,
    option: UnitOption = None,
    store: Store = Path("runs/bench.sqlite"),
    report: Annotated[Path | None, typer.Option(help="Report directory \\[default: beside the store].")] = None,
    jobs: Jobs = 2,
    ray: Ray = None,
    device: Device = "cpu",
    compile: Compile = None,
) -> None:
    """Run the field's benchmark protocol over units × operations × ranges × seeds."""
    from arithnet.bench import bench_grid

    if show_preset is not None:
        return _show_preset(show_preset)  # prints the table, needs no --units
    plan, runs = None, []  # plan is set once the store is open: a stop after that keeps what finished
    try:
        if units is None:
            raise ValueError("Missing option '--units': name at least one unit (or --show-preset NAME)")
        if jobs < 1:
            raise ValueError(f"jobs must be at least 1, got {jobs}")
        grid = bench_grid(
            units, ops=ops, task=task, input_size=input_size, ranges=ranges, seeds=seeds, first_seed=first_seed,
            steps=steps, preset=preset, lr=lr, loss=loss, lr_schedule=lr_schedule, dtype=dtype, force=force,
            device=device, compile=compile, unit_options=option or (),
        )  # fmt: skip
        runs = grid.runs()
        if ray is not None:  # refused before the store is made, like every other bad input
            from arithnet.bench.run import check_ray

            check_ray(ray)
        plan = _prepare(runs, store, report or store.parent / "report", jobs, ray)
        rows, written = _run(plan, runs, store, jobs, ray)
    except ValueError as error:
        fail(str(error))
    except KeyboardInterrupt as stop:  # GridStopped while training
        _stopped(stop, plan, runs, store)
    console.print(f"{len(rows)} runs in {store}; report: {written[0]}", soft_wrap=True)
    _print_table(rows)


def _show_preset(name: str) -> None:
    """Print a preset's table (bench.protocol.presets): each unit's settings with their values and sources.

    One block per (unit, task, input size, operations), one line per setting:
    citations are long paths, which a table would fold into narrow columns.
    """
    from itertools import groupby

    from rich.markup import escape

    from arithnet.bench.protocol import preset_rows

    try:
        rows = preset_rows(name)
    except ValueError as error:
        fail(str(error))
    console.print(f"[bold]preset {name}[/bold]: every setting, its value and its source")
    for (unit, task, input_size, operations), settings in groupby(rows, key=lambda row: row[:4]):
        console.print(f"\n[bold]{escape(unit)}[/bold], {task} task, input {input_size}, {escape(operations)}")
        for *_, setting, value, citation in settings:
            console.print(f"  {escape(setting)} = {escape(value)}  [dim]({escape(citation)})[/dim]", soft_wrap=True)


def _prepare(runs, store: Path, report: Path, jobs: int, ray: str | None = None):
    """Every check, then the store and report directory: the plan of what is done and what to train."""
    from arithnet.bench.run import prepare_bench, side_file, worker_count

    plan = prepare_bench(runs, store, report)
    imported = f" ({plan.imported} imported from {side_file(store)})" if plan.imported else ""
    errors.print(
        f"{len(runs)} runs, {plan.done} already in {store}{imported}, {len(plan.todo)} to train", soft_wrap=True
    )
    if plan.todo and worker_count(jobs) < jobs and ray in (None, "local"):  # a cluster's CPUs are not ours
        note = f"note: --jobs {jobs} is more than this machine's CPUs: using {worker_count(jobs)} workers"
        errors.print(note, soft_wrap=True)
    return plan


def _run(plan, runs, store: Path, jobs: int, ray: str | None = None):
    """Train what is missing and write the report: (rows, report files)."""
    from arithnet.bench.report import write_report
    from arithnet.bench.run import grid_rows, run_grid, side_file, store_rows

    with progress(
        TextColumn("benchmark"), TextColumn("{task.completed:.1f}/{task.total} runs"), total=len(plan.todo)
    ) as update:
        if ray is None:
            run_grid(plan.todo, store, jobs, lambda done, total: update(done))
        else:
            from arithnet.bench.run import run_grid_ray

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

    from arithnet.bench.run import GridStopped

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # stopped already: another Ctrl-C must not cut the exit
    kept = "every finished run is kept" if plan else "nothing was trained"
    if isinstance(stop, GridStopped):
        kept = f"{plan.done + stop.added} of {len(runs)} runs are in {store}"
        kept += f", others wait in {stop.side_file}" if stop.side_file else ""
    errors.print(f"stopped: {kept}; run the same command again to resume", soft_wrap=True, highlight=False)
    raise typer.Exit(128 + getattr(stop, "signum", signal.SIGINT)) from None


def _print_table(rows) -> None:
    from arithnet.bench.report import format_rate, rates_by_criterion

    table = Table(title="success rate [95% Wilson interval]", title_justify="left")
    for column in ("unit", "operation", "runs", "raw 1e-5", "ICLR ε-perfect", "Primer ε-perfect", "exact formula"):
        table.add_column(column)
    criteria = ("raw", "iclr", "primer", "exact")
    for line in rates_by_criterion(rows, criteria):
        table.add_row(
            line["unit"], line["operation"], str(line["n"]), *(format_rate(*line[criterion]) for criterion in criteria)
        )
    console.print(table)
