"""The package's shape: no module imports upward, and every function fits on a screen."""

from __future__ import annotations

import ast
import importlib
import pathlib
import subprocess
import sys

import pytest

SOURCE = pathlib.Path(__file__).resolve().parent.parent / "src" / "arithnet"
#: Lower layers never import higher ones. Units sit at the bottom; the CLI at the top. The bench is three
#: rooms, the protocol below running it below reporting it, and its entry point (bench_grid) above them.
LAYERS = [
    ("arithnet.random", "arithnet.schedules", "arithnet.devices", "arithnet.checks", "arithnet.lazy"),
    ("arithnet.units",),
    ("arithnet.operations", "arithnet.data", "arithnet.formula", "arithnet.files", "arithnet.tables"),
    ("arithnet.engine",),
    ("arithnet.evaluation", "arithnet.plots", "arithnet.laws"),
    ("arithnet.training", "arithnet.outputs", "arithnet.estimator"),
    ("arithnet.bench.protocol",),
    ("arithnet.bench.run",),
    ("arithnet.bench.report",),
    ("arithnet.bench.grid", "arithnet.bench"),
    ("arithnet.cli", "arithnet.__main__"),
]
#: The bench's rooms: packages whose ``__init__`` names what they offer (``_EXPORTS``, imported on first use).
ROOMS = ("arithnet.bench", "arithnet.bench.protocol", "arithnet.bench.run", "arithnet.bench.report")
MAX_FUNCTION_LINES = 60
#: No module grows past this (the command line is a package of one module per command): a file is one idea.
MAX_MODULE_LINES = 450
#: What a CLI module may import when it is loaded: the library (and torch with it) is imported inside the
#: commands, after their input is checked, so that --help and a refused input never wait for torch.
CLI_TOP_LEVEL_IMPORTS = ("__future__", "typer", "rich", "arithnet.cli")


def layer(module: str) -> int:
    """The layer of the longest prefix of ``module`` in LAYERS (``arithnet.bench.run.store`` is the run room's)."""
    matches = [
        (len(prefix), index)
        for index, prefixes in enumerate(LAYERS)
        for prefix in prefixes
        if module == prefix or module.startswith(prefix + ".")
    ]
    if not matches:
        raise AssertionError(f"module {module} has no layer in tests/test_layout.py")
    return max(matches)[1]


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


MODULES = modules()
MODULE_NAMES = {name for name, _ in MODULES}
SUBMODULES = [m for m in MODULES if m[0] != "arithnet"]


def import_targets(tree: ast.Module) -> set[str]:
    """The modules ``tree`` imports, anywhere in it; a name offered by a room counts as its module's import."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("arithnet"):
            exports = getattr(importlib.import_module(node.module), "_EXPORTS", {}) if node.module in ROOMS else {}
            for alias in node.names:
                submodule = f"{node.module}.{alias.name}"
                names.add(submodule if submodule in MODULE_NAMES else exports.get(alias.name, node.module))
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names if alias.name.startswith("arithnet"))
    return names


@pytest.mark.parametrize(("name", "tree"), SUBMODULES, ids=[name for name, _ in SUBMODULES])
def test_no_module_imports_upward(name, tree):
    upward = sorted(other for other in imported(tree) if layer(other) > layer(name))
    assert not upward, f"{name} (layer {layer(name)}) imports {upward}"


def test_the_bench_has_no_circle():
    """No module of the bench imports, through any chain of imports, one that imports it back."""
    graph = {name: import_targets(tree) - {name} for name, tree in MODULES if name.startswith("arithnet.bench")}

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        for other in graph.get(start, ()):
            if other == goal or (other not in seen and (seen.add(other) or reaches(other, goal, seen))):
                return True
        return False

    circles = sorted(name for name in graph if reaches(name, name, set()))
    assert not circles, circles


@pytest.mark.parametrize("room", ROOMS)
def test_a_room_offers_names_of_its_own_modules(room):
    """Each name a room offers is its module's, and none hides a module of the room (``from room import x``)."""
    package = importlib.import_module(room)
    modules_here = {name.rsplit(".", 1)[1] for name in MODULE_NAMES if name.startswith(room + ".")}
    assert package._EXPORTS and sorted(package._EXPORTS) == package.__all__
    for name, module in package._EXPORTS.items():
        assert module.startswith(room + ".") and name not in modules_here, (name, module)
        assert getattr(package, name) is getattr(importlib.import_module(module), name)


def test_a_bench_worker_imports_no_torch_before_it_runs():
    """A worker process imports its module first and torch only once it listens for a stop (bench.run.workers)."""
    code = "import sys, arithnet.bench.run.workers; assert 'torch' not in sys.modules, 'torch loaded'"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60).returncode == 0


def test_every_function_fits_on_a_screen():
    long = [
        f"{name}.{node.name}: {node.end_lineno - node.lineno + 1} lines"
        for name, tree in modules()
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES
    ]
    assert not long, long


@pytest.mark.parametrize(("name", "tree"), SUBMODULES, ids=[name for name, _ in SUBMODULES])
def test_a_module_is_short(name, tree):
    assert not tree.body or tree.body[-1].end_lineno <= MAX_MODULE_LINES, f"{name} has {tree.body[-1].end_lineno} lines"


CLI_MODULES = [(name, tree) for name, tree in SUBMODULES if layer(name) == layer("arithnet.cli")]


def test_nothing_in_the_library_imports_the_cli():
    library = [(name, tree) for name, tree in SUBMODULES if layer(name) < layer("arithnet.cli")]
    reaching_up = sorted(
        name for name, tree in library if any(layer(other) == layer("arithnet.cli") for other in imported(tree))
    )
    assert not reaching_up


@pytest.mark.parametrize(("name", "tree"), CLI_MODULES, ids=[name for name, _ in CLI_MODULES])
def test_a_cli_module_loads_no_library(name, tree):
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
