"""The protocol room: what a benchmark run is, how a group of runs trains, and how a run is judged.

It owns the tasks and their range grids (``tasks``, ``distributions``), what
each network reads (``data``), the success thresholds (``thresholds`` and the
shipped ``thresholds.json``), the papers' settings (``presets``), the names a
grid may use (``names``), a run's settings asked and resolved with its key
(``config``), the network it trains (``model``), the training of a group as
one tensor program (``group``), what is measured (``measure``), the row a run
leaves (``rows``) and its verdicts (``verdicts``).

It may import the library below the bench (units, engine, operations,
formula, random, files, checks, devices), never ``bench.run``,
``bench.report`` or ``bench.grid``. Its names are imported on first use.
"""

from __future__ import annotations

from arithnet.lazy import lazy_exports

_EXPORTS = {
    **dict.fromkeys(
        (
            "BenchConfig",
            "BenchFields",
            "DTYPES",
            "KEY_VERSION",
            "BENCH_LOSSES",
            "ResolvedConfig",
            "Run",
            "TASKS",
            "THRESHOLD_SUBSETS",
            "needs_force",
            "resolve",
        ),
        "arithnet.bench.protocol.config",
    ),
    **dict.fromkeys(
        ("build_model", "check_model", "check_option_names", "takes_option", "unit_names"),
        "arithnet.bench.protocol.model",
    ),
    **dict.fromkeys(("run_group", "run_threshold"), "arithnet.bench.protocol.group"),
    **dict.fromkeys(("CRITERIA", "Record", "RunRow"), "arithnet.bench.protocol.rows"),
    **dict.fromkeys(
        ("EXACT", "RUN_FIELDS", "VERDICT_CRITERIA", "CriterionVerdict", "applies", "run_verdicts"),
        "arithnet.bench.protocol.verdicts",
    ),
    **dict.fromkeys(("threshold",), "arithnet.bench.protocol.thresholds"),
    **dict.fromkeys(
        ("DIVISION_EXTRA_RANGES", "GRIDS", "ICLR_RANGES", "PRIMER_RANGES", "RangePair", "get_range"),
        "arithnet.bench.protocol.tasks",
    ),
    **dict.fromkeys(("Distribution",), "arithnet.bench.protocol.distributions"),
    **dict.fromkeys(("GroupData", "index_offset", "target_masks"), "arithnet.bench.protocol.data"),
    **dict.fromkeys(("fixed_set_mse", "formula_verdicts", "sparsity_errors"), "arithnet.bench.protocol.measure"),
    **dict.fromkeys(
        ("PRESETS", "PRESET_TASKS", "covered_operations", "forced", "preset_rows", "preset_settings"),
        "arithnet.bench.protocol.presets",
    ),
    **dict.fromkeys(("SETTINGS", "check_names"), "arithnet.bench.protocol.names"),
}

__all__ = sorted(_EXPORTS)
__getattr__ = lazy_exports(__name__, _EXPORTS)
