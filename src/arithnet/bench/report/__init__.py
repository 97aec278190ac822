"""The report room: what the rows of a results store say, next to what the papers published.

It owns the statistics (``stats``: Wilson intervals, gamma and beta fits),
the markdown summary of a whole store (``summary``), the figures
(``figures``), the published numbers (``published``) and the field's tables
built from a store (``field_tables``, ``arithnet report``).

It may import ``bench.protocol`` (rows, verdicts, tasks, presets),
``bench.run`` (the store it reads) and the library below the bench, never
``bench.grid``. Its names are imported on first use.
"""

from __future__ import annotations

from arithnet.lazy import lazy_exports

_EXPORTS = {
    **dict.fromkeys(
        ("rates_by_criterion", "solved_at_summary", "solved_fraction_curve", "success_table", "wilson_interval"),
        "arithnet.bench.report.stats",
    ),
    **dict.fromkeys(("format_rate", "line_rows", "markdown_summary"), "arithnet.bench.report.summary"),
    **dict.fromkeys(("FIGURES", "write_report"), "arithnet.bench.report.figures"),
    **dict.fromkeys(("PUBLISHED", "Published"), "arithnet.bench.report.published"),
    **dict.fromkeys(
        (
            "TABLES",
            "Report",
            "TableSpec",
            "build_report",
            "long_table",
            "replaced_file",
            "table_cells",
            "write_figures",
        ),
        "arithnet.bench.report.field_tables",
    ),
}

__all__ = sorted(_EXPORTS)
__getattr__ = lazy_exports(__name__, _EXPORTS)
