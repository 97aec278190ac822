"""``arithnet report``: the field's tables from a results store, next to the published numbers."""

from __future__ import annotations

import json
import math
import os
import stat

import numpy as np
import pytest
from scipy import stats
from typer.testing import CliRunner

from arithnet import cli
from arithnet.bench.protocol import RunRow, preset_settings
from arithnet.bench.report import PUBLISHED, TABLES, long_table, solved_fraction_curve
from arithnet.bench.report import field_tables as report_module
from arithnet.bench.report.field_tables import belongs, markdown, replace_block, solved_curves
from arithnet.bench.report.published import published
from arithnet.bench.run import ResultsStore
from arithnet.cli import app

runner = CliRunner()
DIVISION = TABLES["division"]


def config(**overrides) -> str:
    """A stored configuration: the division grid's protocol unless overridden."""
    values = dict(task="primer", input_size=10, steps=100_000, unit_options=[], loss="mse", lr_schedule="constant")
    values |= dict(dtype="float32", force=False, device="cpu", compile=True)
    return json.dumps(values | overrides)


def row(key: str, unit: str, solved: bool, seed: int = 0, range_name: str = "7", **settings) -> RunRow:
    """A run of ``unit`` on ÷; solved under every MSE criterion (first at step 5,000 + 1,000·seed) or not."""
    solved_at = 5_000 + 1_000 * seed if solved else None
    return RunRow(
        key=key,
        unit=unit,
        operation=settings.pop("operation", "div"),
        task="primer",
        range_name=range_name,
        seed=seed,
        steps=settings.get("steps", 100_000),
        config=config(**settings),
        best_step=50_000,
        best_val_mse=1e-9,
        best_test_mse=1e-9 if solved else 1.0,
        threshold_raw=1e-5,
        threshold_iclr=1e-11,
        threshold_primer=1e-7,
        solved_raw=solved,
        solved_iclr=solved,
        solved_primer=solved,
        solved_at_raw=solved_at,
        solved_at_iclr=solved_at,
        solved_at_primer=solved_at,
        sparsity_error=0.0,
        formula="x0/x1" if solved else "x0",
        formula_exact=solved and unit != "NMRU",
        seconds=1.0,
    )


def runs(unit: str, n_solved: int, n_runs: int, **settings) -> list[RunRow]:
    return [
        row(
            f"{unit}-{i}-{sorted(settings.items())}",
            unit,
            i < n_solved,
            seed=i % 25,
            range_name=str(1 + i % 9),
            **settings,
        )
        for i in range(n_runs)
    ]


def wilson(successes: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    """The Wilson score interval in closed form: an oracle independent of scipy."""
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


@pytest.fixture
def division_rows() -> list[RunRow]:
    return runs("NMRU", 206, 225) + runs("RealNPU-mod", 150, 225) + runs("LogExp-direct", 225, 225, loss="log")


def entry_of(table: list[dict], unit: str) -> dict:
    (entry,) = [e for e in table if e["unit"] == unit]
    return entry


# -- the published numbers -------------------------------------------------------------------------


def test_published_rates_with_their_intervals():
    nmru = published("division", "NMRU", "div")
    assert (nmru.rate, nmru.n_runs, nmru.interval, nmru.criterion) == (0.916, 225, "wilson", "raw")
    assert (nmru.low, nmru.high) == pytest.approx(wilson(206, 225), abs=1e-9)  # round(0.916 · 225) = 206
    assert published("division", "RealNPU", "div").rate == pytest.approx(0.853 - 0.151)
    nmu = published("iclr", "NAU>NMU", "mul")
    assert (nmu.low, nmu.high, nmu.interval, nmu.solved_at_median) == (pytest.approx(0.93), 0.99, "paper", 1.4e6)
    assert published("iclr", "NALU>NALU", "div").high == pytest.approx(0.04)
    assert published("primer", "NAU", "add") is None  # the Primer states no rates: nothing is made up
    assert all(entry.low <= entry.rate <= entry.high and entry.source for entry in PUBLISHED)


# -- the long table --------------------------------------------------------------------------------


def test_long_table_numbers_published_and_agreement(division_rows):
    table = long_table(DIVISION, division_rows)
    assert [e["unit"] for e in table] == ["LogExp-direct", "NMRU", "RealNPU-mod"]
    nmru = entry_of(table, "NMRU")
    assert (nmru["runs"], nmru["successes"], nmru["ranges"], nmru["seeds"]) == (225, 206, 9, 25)
    assert nmru["rate"] == pytest.approx(206 / 225)
    assert (nmru["low"], nmru["high"]) == pytest.approx(wilson(206, 225), abs=1e-9)
    assert nmru["exact_successes"] == 0 and nmru["exact_high"] == pytest.approx(wilson(0, 225)[1], abs=1e-9)
    assert nmru["solved_at_median"] == np.median([5_000 + 1_000 * (i % 25) for i in range(206)])
    assert nmru["published_rate"] == 0.916 and nmru["agrees"] is True
    realnpu = entry_of(table, "RealNPU-mod")
    assert realnpu["high"] == pytest.approx(wilson(150, 225)[1], abs=1e-9) and realnpu["high"] < 0.853
    # Our 66.7% lies outside the published [80.1%, 89.1%]: a bug or a documented difference.
    assert realnpu["agrees"] is False and realnpu["published_low"] > 150 / 225
    # Fisher's exact test of 150/225 against the paper's 192/225, as scipy computes it.
    assert realnpu["p_value"] == pytest.approx(stats.fisher_exact([[150, 75], [192, 33]]).pvalue)
    assert realnpu["p_value"] < 1e-4 and nmru["p_value"] > 0.5
    logexp = entry_of(table, "LogExp-direct")
    assert logexp["published_rate"] is None and logexp["agrees"] is None
    assert logexp["settings"] == "loss log" and nmru["settings"] == "unit defaults"


def test_rows_are_chosen_by_preset_or_by_the_protocol():
    chosen = row("a", "NMRU", True, preset="division")
    other_preset = row("b", "NMRU", True, preset="primer")
    protocol = row("c", "NMRU", True)  # no preset: the division grid's settings
    two_inputs = row("d", "NMRU", True, input_size=2)
    preset_two_inputs = row("e", "NMRU", True, input_size=2, preset="division")  # the preset spans input sizes
    other_range = row("f", "NMRU", True, range_name="benford")
    candidates = (chosen, other_preset, protocol, two_inputs, preset_two_inputs, other_range)
    assert [belongs(DIVISION, r) for r in candidates] == [True, False, True, False, False, False]
    assert [belongs(TABLES["primer"], r) for r in candidates] == [False, False, False, True, False, False]
    # A preset's runs and runs without one are separate lines, the preset named.
    table = long_table(DIVISION, [chosen, protocol])
    assert sorted(e["settings"] for e in table) == ["preset division", "unit defaults"]


def test_lines_with_other_settings_are_never_pooled():
    rows = runs("NMRU", 3, 4) + runs("NMRU", 1, 4, steps=20_000) + runs("NMRU", 2, 2, unit_options=[["a", 1]])
    table = long_table(DIVISION, rows)
    assert table[0]["steps"] == 20_000  # shorter budgets first
    assert sorted((e["steps"], e["runs"], e["successes"], e["settings"]) for e in table) == [
        (20_000, 4, 1, "unit defaults"),
        (100_000, 2, 2, "a=1"),
        (100_000, 4, 3, "unit defaults"),
    ]
    # Two lines that read alike are told apart by a digest of their settings.
    alike = long_table(DIVISION, runs("NMRU", 1, 2) + runs("NMRU", 1, 2, batch_size=64))
    labels = [e["settings"] for e in alike]
    assert len(set(labels)) == 2 and all(label.startswith("unit defaults #") for label in labels)


def test_a_preset_line_names_only_what_the_command_changed():
    preset = preset_settings("division", "NMRU", "primer", 10, "div")
    options = [list(option) for option in preset["unit_options"]]
    changed = [[name, 99] if name == "regularization_end" else [name, value] for name, value in options]
    rows = runs("NMRU", 2, 2, preset="division", unit_options=options)
    rows += runs("NMRU", 1, 2, preset="division", unit_options=changed)
    labels = sorted(e["settings"] for e in long_table(DIVISION, rows))
    assert labels == ["preset division", "preset division, regularization_end=99"]


def test_markdown_says_how_it_was_made_and_what_is_not_published(division_rows):
    text = markdown(DIVISION, long_table(DIVISION, division_rows), "arithnet report division --store s.sqlite")
    assert text.startswith("Generated by `arithnet report division --store s.sqlite` from 675 runs")
    assert "| unit | operation | settings | steps | runs | raw MSE < 1e-5 [95%] |" in text
    assert "| NMRU | div | unit defaults | 100,000 | 225 | 91.6% [87.2, 94.5] | 0.0% [0.0, 1.7] |" in text
    assert "91.6% [87.2, 94.5]† | yes |" in text and "85.3% [80.1, 89.4]† | **no** |" in text
    assert "| not published here | – |" in text and "arXiv 2110.05177" in text
    assert "published solved at" not in text  # only tables with a published solved-at step show that column


# -- solved-at curves ------------------------------------------------------------------------------


def test_solved_fraction_curve_ends_at_the_success_rate():
    steps, fraction = solved_fraction_curve([3_000, 1_000, 3_000], 4, 10_000)
    assert steps.tolist() == [0, 1_000, 3_000, 10_000]
    assert fraction.tolist() == [0, 0.25, 0.75, 0.75]
    with pytest.raises(ValueError, match="no more solved runs than runs"):
        solved_fraction_curve([1, 2], 1, 10)


def test_solved_curves_per_line(division_rows):
    curves = {c["unit"]: c for c in solved_curves(DIVISION, division_rows)}
    assert curves["NMRU"]["fraction"][-1] == pytest.approx(206 / 225)
    assert curves["NMRU"]["steps"][-1] == 100_000 and curves["LogExp-direct"]["label"] == "LogExp-direct (loss log)"


# -- the block in a markdown file ------------------------------------------------------------------


def test_replace_block_keeps_everything_outside_the_markers():
    text = "# Doc\n\nbefore\n<!-- report:division -->\nold table\n<!-- /report:division -->\nafter\n"
    new = replace_block(text, "division", "new table\n")
    assert new == "# Doc\n\nbefore\n<!-- report:division -->\nnew table\n<!-- /report:division -->\nafter\n"
    assert replace_block(new, "division", "new table\n") == new  # idempotent


@pytest.mark.parametrize(
    "text",
    [
        "no markers\n",
        "<!-- report:division -->\nonly the start\n",
        "<!-- /report:division -->\nx\n<!-- report:division -->\n",
        "<!-- report:division -->\n<!-- /report:division -->\n<!-- report:division -->\n<!-- /report:division -->\n",
        "<!-- report:primer -->\n<!-- /report:primer -->\n",
    ],
)
def test_replace_block_refuses_missing_doubled_or_reversed_markers(text):
    with pytest.raises(ValueError, match="report:division"):
        replace_block(text, "division", "table")


# -- the command -----------------------------------------------------------------------------------


@pytest.fixture
def store(tmp_path, division_rows):
    path = tmp_path / "results.sqlite"
    with ResultsStore(path) as results:
        results.add(division_rows)
    return path


def one_line_error(result) -> str:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and result.output.strip().count("\n") == 0, result.output
    return result.output


def test_command_prints_writes_the_block_and_the_figure(tmp_path, store, monkeypatch):
    # The CLI's console takes its width when arithnet.cli is imported; a narrow one folds the cells.
    monkeypatch.setattr(cli.console, "width", 250)
    doc = tmp_path / "benchmarks.md"
    doc.write_text("intro\n<!-- report:division -->\n<!-- /report:division -->\nrest\n", encoding="utf-8")
    figures = tmp_path / "figures"
    args = ["report", "division", "--store", str(store), "--write", str(doc), "--figures", str(figures)]
    result = runner.invoke(app, args, env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    assert "NMRU" in result.output and "not published here" in result.output and "85.3%" in result.output
    text = doc.read_text(encoding="utf-8")
    assert text.startswith("intro\n<!-- report:division -->\nGenerated by `arithnet report division --store ")
    assert "| NMRU | div |" in text and text.endswith("<!-- /report:division -->\nrest\n")
    assert (figures / "solved_at_division.png").stat().st_size > 0


def test_write_keeps_the_file_mode_and_writes_through_a_link(tmp_path, store):
    docs = tmp_path / "docs"
    docs.mkdir()
    real = docs / "benchmarks.md"
    real.write_text("<!-- report:division -->\n<!-- /report:division -->\n", encoding="utf-8")
    real.chmod(0o600)
    link = tmp_path / "benchmarks.md"
    link.symlink_to(real)
    result = runner.invoke(app, ["report", "division", "--store", str(store), "--write", str(link)])
    assert result.exit_code == 0, result.output
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert "| NMRU | div |" in real.read_text(encoding="utf-8") and stat.S_IMODE(real.stat().st_mode) == 0o600
    assert os.listdir(docs) == ["benchmarks.md"] and "benchmarks.md" in os.listdir(tmp_path)  # no temporary left


def test_command_refuses_bad_input_in_one_line(tmp_path, store):
    missing = tmp_path / "none.sqlite"
    assert "does not exist" in one_line_error(runner.invoke(app, ["report", "division", "--store", str(missing)]))
    assert not missing.exists()  # a missing store is not created
    assert "unknown table 'nope'" in one_line_error(runner.invoke(app, ["report", "nope", "--store", str(store)]))
    assert "no runs of table iclr" in one_line_error(runner.invoke(app, ["report", "iclr", "--store", str(store)]))
    doc, figures = tmp_path / "doc.md", tmp_path / "figures"
    doc.write_text("no markers here\n", encoding="utf-8")
    args = ["report", "division", "--store", str(store), "--write", str(doc), "--figures", str(figures)]
    assert "report:division" in one_line_error(runner.invoke(app, args))
    assert doc.read_text(encoding="utf-8") == "no markers here\n" and not figures.exists()  # nothing written
    args[5] = str(tmp_path / "absent.md")
    assert "cannot read" in one_line_error(runner.invoke(app, args))


def test_markers_name_the_table():
    assert report_module.markers("iclr") == ("<!-- report:iclr -->", "<!-- /report:iclr -->")
