"""The field's benchmark: its protocol over units × operations × ranges × seeds, the rows kept, the reports.

Three rooms, each importing only the ones before it:

- ``bench.protocol``: what a run is and how it is trained and judged (tasks,
  data, thresholds, presets, the run's settings and key, the group's training,
  rows and verdicts);
- ``bench.run``: running many runs and keeping their rows (limits, preflight,
  workers, Ray, the results store and its writer);
- ``bench.report``: what the rows say (statistics, summary, figures, the
  field's tables next to the published numbers).

``bench.grid`` is the entry point that ``arithnet bench`` and library users
share: ``bench_grid`` builds a grid's runs from names. Its names are offered
here, imported on first use.
"""

from __future__ import annotations

from arithnet.lazy import lazy_exports

_EXPORTS = dict.fromkeys(
    ("Grid", "bench_grid", "default_steps", "parse_unit_options", "range_names"), "arithnet.bench.grid"
)

__all__ = sorted(_EXPORTS)
__getattr__ = lazy_exports(__name__, _EXPORTS)
