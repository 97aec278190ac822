"""What every command shares: one-line errors, the consoles, the progress bar and the common option types.

This module and the command modules import only typer, rich and the
standard library at module level: the library (and torch with it) is
imported inside each command, after its input is checked where it can be,
so that ``--help`` and a refused input never wait for torch.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Annotated, Any, ClassVar

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TimeElapsedColumn, TimeRemainingColumn
from typer.core import TyperCommand, TyperGroup

#: The parser's own error class (typer may vendor click, so found through a public subclass).
_ClickException = next(cls for cls in typer.BadParameter.__mro__ if cls.__name__ == "ClickException")

console = Console()
errors = Console(stderr=True)


def error_line(message: str) -> None:
    """``error: message`` on stderr, on one line, the message printed as it is (not as markup)."""
    from rich.markup import escape

    errors.print(f"[bold red]error:[/] {escape(' '.join(message.split()))}", highlight=False, soft_wrap=True)


def fail(message: str) -> None:
    """One line on stderr and exit code 2: the CLI's answer to bad input."""
    error_line(message)
    raise typer.Exit(2)


class OneLineErrors(TyperGroup):
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
            error_line(error.format_message() + hint)
            sys.exit(error.exit_code)
        except typer.Abort:
            error_line("aborted")
            sys.exit(1)
        sys.exit(code if isinstance(code, int) else 0)


def fill_optional_values(args: list[str], optional_values: Mapping[str, str]) -> list[str]:
    """``args`` with the value of each option in ``optional_values`` given bare (last, or before another option)."""
    filled = []
    for index, arg in enumerate(args):
        filled.append(arg)
        if arg == "--":
            return filled + args[index + 1 :]
        following = args[index + 1] if index + 1 < len(args) else "-"
        if arg in optional_values and following.startswith("-"):
            filled.append(optional_values[arg])
    return filled


class OptionalValues(TyperCommand):
    """A command whose options in ``optional_values`` may be given without their value: ``--ray`` is ``--ray local``.

    click's own way (``is_flag=False, flag_value=...``) is not open to typer's
    options, and typer 0.29's parser has no optional values, so the command
    fills the bare option's value in its own arguments before parsing them.
    """

    optional_values: ClassVar[dict[str, str]] = {}

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        return super().parse_args(ctx, fill_optional_values(args, self.optional_values))


@contextmanager
def progress(*columns, total: float, disable: bool = False) -> Iterator[Callable[..., None]]:
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
    ) as bar:
        task = bar.add_task("work", total=total)
        yield lambda completed, **fields: bar.update(task, completed=completed, **fields)


def given(ctx: typer.Context, name: str) -> bool:
    """Whether option ``name`` was given on the command line (not left at its default)."""
    source = ctx.get_parameter_source(name)
    return source is not None and source.name not in ("DEFAULT", "DEFAULT_MAP")


def wrote(paths) -> None:
    """``wrote a, b``: the files a command wrote."""
    console.print("wrote " + ", ".join(str(path) for path in paths), soft_wrap=True)


Device = Annotated[str, typer.Option(help="Device to train on: cpu or cuda.")]
Compile = Annotated[
    bool | None,
    typer.Option(
        "--compile/--no-compile",
        help="Compile the training step with torch.compile, or not \\[default: the library decides].",
        show_default=False,
    ),
]
AsJson = Annotated[bool, typer.Option("--json", help="Print a machine-readable summary instead.")]
