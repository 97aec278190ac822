"""The ``arithnet`` command: one module per command, each parsing, calling the library and printing.

``train``, ``bench``, ``report``, ``fit`` and ``predict`` live in modules of
those names, and what they share (one-line errors, the progress bar, common
options) in ``shared``. Everything else (range spans, unit options, default
steps, saved configurations, device checks, statistics) is in the library, so
a library user gets exactly what the command gets. Every error is one line on
stderr and exit code 2. Help texts are rich markup: a literal ``[`` is
written ``\\[``. The library is imported inside the commands, so that
``--help`` and refused input do not wait for torch.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from arithnet.cli import bench, fit, predict, report, train
from arithnet.cli.shared import OneLineErrors, console, errors

__all__ = ["app", "console", "errors"]

app = typer.Typer(
    cls=OneLineErrors,
    help="arithnet: neural networks that learn exact arithmetic and read it out as a formula.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


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


app.command("train")(train.command)
app.command("bench", cls=bench.BenchCommand)(bench.command)
app.command("report")(report.command)
app.command("fit")(fit.command)
app.command("predict")(predict.command)
