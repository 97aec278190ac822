"""The package's shape: no module imports upward, and every function fits on a screen."""

from __future__ import annotations

import ast
import pathlib
import sys

import pytest

SOURCE = pathlib.Path(__file__).resolve().parent.parent / "src" / "arithnet"
#: Lower layers never import higher ones. Units sit at the bottom; the CLI at the top.
LAYERS = [
    ("arithnet.random", "arithnet.schedules", "arithnet.devices", "arithnet.checks"),
    ("arithnet.units",),
    ("arithnet.operations", "arithnet.data", "arithnet.formula", "arithnet.files", "arithnet.tables"),
    ("arithnet.engine",),
    ("arithnet.evaluation", "arithnet.plots", "arithnet.laws"),
    ("arithnet.training", "arithnet.outputs", "arithnet.estimator"),
    ("arithnet.bench",),
    ("arithnet.cli", "arithnet.__main__"),
]
MAX_FUNCTION_LINES = 60
#: The command line is a package of one module per command; none grows past this.
MAX_CLI_MODULE_LINES = 450
#: What a CLI module may import when it is loaded: the library (and torch with it) is imported inside the
#: commands, after their input is checked, so that --help and a refused input never wait for torch.
CLI_TOP_LEVEL_IMPORTS = ("__future__", "typer", "rich", "arithnet.cli")


def layer(module: str) -> int:
    for index, prefixes in enumerate(LAYERS):
        if any(module == p or module.startswith(p + ".") for p in prefixes):
            return index
    raise AssertionError(f"module {module} has no layer in tests/test_layout.py")


def modules() -> list[tuple[str, ast.Module]]:
    found = []
    for path in sorted(SOURCE.rglob("*.py")):
        parts = path.relative_to(SOURCE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found.append((name, ast.parse(path.read_text())))
    return found


def imported(tree: ast.Module) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("arithnet"):
            names.add(node.module)
            if node.module == "arithnet":  # from arithnet import random: a module; __version__ is not
                names.update(f"arithnet.{a.name}" for a in node.names if (SOURCE / f"{a.name}.py").exists())
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names if alias.name.startswith("arithnet"))
    return {name for name in names if name != "arithnet"}


SUBMODULES = [m for m in modules() if m[0] != "arithnet"]


@pytest.mark.parametrize(("name", "tree"), SUBMODULES, ids=[name for name, _ in SUBMODULES])
def test_no_module_imports_upward(name, tree):
    upward = sorted(other for other in imported(tree) if layer(other) > layer(name))
    assert not upward, f"{name} (layer {layer(name)}) imports {upward}"


def test_every_function_fits_on_a_screen():
    long = [
        f"{name}.{node.name}: {node.end_lineno - node.lineno + 1} lines"
        for name, tree in modules()
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES
    ]
    assert not long, long


CLI_MODULES = [(name, tree) for name, tree in SUBMODULES if layer(name) == layer("arithnet.cli")]


def test_nothing_in_the_library_imports_the_cli():
    library = [(name, tree) for name, tree in SUBMODULES if layer(name) < layer("arithnet.cli")]
    reaching_up = sorted(
        name for name, tree in library if any(layer(other) == layer("arithnet.cli") for other in imported(tree))
    )
    assert not reaching_up


@pytest.mark.parametrize(("name", "tree"), CLI_MODULES, ids=[name for name, _ in CLI_MODULES])
def test_a_cli_module_is_short_and_loads_no_library(name, tree):
    assert tree.body[-1].end_lineno <= MAX_CLI_MODULE_LINES, f"{name} has {tree.body[-1].end_lineno} lines"
    loaded = set()
    for node in tree.body:  # statements run when the module is imported (not those inside functions)
        if isinstance(node, ast.ImportFrom):
            loaded.add(node.module)
        elif isinstance(node, ast.Import):
            loaded.update(alias.name for alias in node.names)
    stdlib = {name for name in loaded if name.split(".")[0] in sys.stdlib_module_names}
    heavy = sorted(
        module
        for module in loaded - stdlib
        if not any(module == p or module.startswith(p + ".") for p in CLI_TOP_LEVEL_IMPORTS)
    )
    assert not heavy, f"{name} imports {heavy} when loaded"
