"""Why the law search is what it is: parts of ``fit_law``'s search switched off or changed, one at a time.

Every variant is a set of FitConfig overrides (``VARIANTS``); each is run by benchmarks/fit_equations.py's machinery
(arithnet only, target noise ``--noise``, 0 by default) on the same laws and the same rows: the training rows, and the
test rows 3 to 10 times outside the training range, drawn from ``--seed`` and the law's id. A law is "exact" when
the median relative error outside is below 1e-6; seconds are the wall time of the fit alone. Every variant's
FitConfig gets ``--time-budget`` as its time_budget. The default laws are twelve rational Feynman laws.

The long table (one row per variant × law, with fit_equations' columns and the overrides in ``fit_config``) goes to
``--out``; the summary prints, per variant, the laws run, exact %, median and max seconds, and the laws it gets that
the default does not and the other way round. docs/laws.md reports its figures. For example:

    .venv/bin/python benchmarks/law_ablation.py
    .venv/bin/python benchmarks/law_ablation.py --laws I.27.6,I.34.1 --variants default,"no lattice pull" --workers 1
    .venv/bin/python benchmarks/law_ablation.py --laws rational --noise 0.01 --variants default,"two snap readings"
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from rich.table import Table as RichTable

from fit_equations import COLUMNS, GPLEARN_BUDGETS, Settings, console, fit_config_error, run_all, select, write_csv

SUMS_ONLY = [{"n_terms": k, "shapes": [[k, 0]]} for k in (2, 3, 4, 6)]
#: The trained stages' parts are ablated without the lattice stage and the rational library, which alone find
#: many laws of the list (the rational library, on noise-free rows, all twelve).
TRAINED = {"lattice_stage": False, "rational_stage": False}
#: The variants of the target powers, the ratio shapes and the trained stages run without the rational library too:
#: its own y and y² (closed form, not trained) would find first what they take away.
VARIANTS: dict[str, dict] = {
    "default": {},
    "no rational library": {"rational_stage": False},
    # The factored stages (laws/search/factored.py) and the lattice stage, each switched off alone: on the made-up
    # panel (--laws development) they show what the networks find that the closed-form stages do not.
    "no factored stages": {"factored_stages": False},
    "no lattice stage alone": {"lattice_stage": False},
    # The last stage and the rivals of moved powers (laws/search/moves.py), off: what the local moves add at noise.
    "no power moves": {"power_moves": False},
    "no target powers": {"sum_powers": ["1"], "ratio_powers": ["1"], "rational_stage": False},
    "sums only (no ratios)": {"stages": SUMS_ONLY, "rational_stage": False},
    "no lattice stage": TRAINED,
    "no lattice stage, no shared-factor starts": {**TRAINED, "shared_starts": False},
    "no lattice stage, no lattice pull": {**TRAINED, "lattice_pull": False},
    "no lattice stage, no polish": {**TRAINED, "polish_steps": 1},
    "no lattice stage, 8 starts": {**TRAINED, "n_starts": 8},
    "1/2 grid only": {"exponent_grids": [2]},
    # A second readout of every structure with its constants snapped within 1 standard error (docs/laws.md).
    "two snap readings": {"snap_sigmas": [4.0, 1.0]},
}
LAWS = "I.10.7,I.11.19,I.13.12,I.16.6,I.18.4,I.27.6,I.34.1,I.39.11,I.48.2,II.11.3,II.11.28,III.10.19"


def variant_settings(overrides: dict, args: argparse.Namespace) -> Settings:
    """fit_equations' settings for one variant: arithnet alone, ``--noise``, the variant's FitConfig overrides."""
    fit_config = json.dumps({"time_budget": args.time_budget, **overrides})
    return Settings(("arithnet",), args.rows, args.noise, args.seed, GPLEARN_BUDGETS["small"], fit_config)


def run_variants(law_ids: list[str], args: argparse.Namespace) -> list[dict]:
    """Every variant on every law (the laws of a variant in parallel); rows tagged with the variant's name."""
    rows: list[dict] = []
    for name in args.variants:
        settings = variant_settings(VARIANTS[name], args)
        console.print(f"[bold]{name}[/]: {settings.fit_config}", highlight=False)
        rows += [{"variant": name, **row} for row in run_all(law_ids, settings, args.workers)]
    return rows


def exact_laws(rows: list[dict], variant: str) -> set[str]:
    return {row["law"] for row in rows if row["variant"] == variant and row["score"] == "exact"}


def summary(rows: list[dict], variants: list[str], law_ids: list[str], noise: float = 0.0) -> RichTable:
    """Per variant: laws, exact %, median and max seconds, and the laws gained and lost against the default."""
    table = RichTable(title=f"Law search ablation (arithnet, noise {noise:g})", title_justify="left")
    for name in ("variant", "laws", "exact %", "median s", "max s", "exact, not by default", "exact by default, not"):
        table.add_column(name, justify="right" if name in ("laws", "exact %", "median s", "max s") else "left")
    baseline = exact_laws(rows, "default") if "default" in variants else None
    order = {law_id: i for i, law_id in enumerate(law_ids)}
    for variant in variants:
        part = [row for row in rows if row["variant"] == variant]
        seconds = [row["seconds"] for row in part]
        exact = exact_laws(rows, variant)
        cells = [variant, str(len(part)), f"{100.0 * len(exact) / len(part):.0f}"]
        cells += [f"{np.median(seconds):.1f}", f"{max(seconds):.1f}"]
        if baseline is None or variant == "default":
            cells += ["—", "—"]
        else:
            cells += [", ".join(sorted(laws, key=order.get)) or "none" for laws in (exact - baseline, baseline - exact)]
        table.add_row(*cells)
    return table


def variant_list(text: str) -> list[str]:
    names = [part.strip() for part in text.split(",") if part.strip()]
    unknown = [name for name in names if name not in VARIANTS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown variant(s) {', '.join(unknown) or text!r}; choose from {list(VARIANTS)}"
        )
    return list(dict.fromkeys(names))


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    laws = "all | rational | power | development | held-out | ID,ID (default: 12 Feynman laws)"
    parser.add_argument("--laws", default=LAWS, help=laws)
    parser.add_argument("--variants", type=variant_list, default=list(VARIANTS), help="NAME,NAME (default: all)")
    parser.add_argument("--workers", type=int, default=2, help="worker processes (laws in parallel)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rows", type=int, default=1000, help="training rows per law")
    parser.add_argument("--noise", type=float, default=0.0, help="target noise as fit_equations adds it")
    parser.add_argument("--time-budget", type=float, default=60.0, help="FitConfig.time_budget of every variant (s)")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/law_ablation.csv"))
    args = parser.parse_args(argv)
    try:
        args.law_ids = [law.id for law in select(args.laws)]
    except ValueError as error:
        parser.error(str(error))
    for name in args.variants:
        if error := fit_config_error(variant_settings(VARIANTS[name], args).fit_config):
            parser.error(f"variant {name!r}: {error}")
    args.workers = max(1, args.workers)
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    console.print(
        f"{len(args.variants)} variants × {len(args.law_ids)} laws; {args.rows} rows, noise {args.noise:g}, "
        f"seed {args.seed}, "
        f"{args.workers} workers, time budget {args.time_budget:g} s",
        highlight=False,
    )
    rows = run_variants(args.law_ids, args)
    write_csv(rows, args.out, ("variant", *COLUMNS))
    console.print(summary(rows, args.variants, args.law_ids, args.noise))
    console.print(f"table: {args.out}", highlight=False)


if __name__ == "__main__":
    main()
