"""One law search, stage by stage, simplest first: each stage's structures are read out and judged as candidates.

The stages are the power law, the lattice stage (one dimensionless group
away from it), the polynomial library (y^q a polynomial of degree 2), the
rational library (y^q·Q = P, polynomials of any degree, one SVD each), the
factored stages (FactorNets: sums of terms that are numerators times powers of
sums, laws/search/factored.py), LawNet's stages (LawNets of growing size), and
last, on noisy rows, the noise-level laws with a power of a sum moved where
the rows prefer it (laws/search/moves.py).
The first four are enumeration and closed-form solves in numpy; the trained
stages, factored and LawNet's, import torch when they run. The search stops at
the first stage with an exact law, when a noise-level law survives a bigger
trained stage, or when the time budget runs out.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable

import numpy as np
import sympy

from arithnet.laws.config import FitConfig
from arithnet.laws.law.symbolic import from_sympy
from arithnet.laws.readout.algebra import law_values, monomials, relative_rms
from arithnet.laws.readout.composite import (
    Composite,
    from_run,
    library_values,
    power_neighbours,
    predict,
    simplified,
)
from arithnet.laws.readout.composite import expression as composite_expression
from arithnet.laws.readout.composite import fit as fit_composite
from arithnet.laws.readout.expression import (
    effective,
    exponent_denominator,
    fitted_sign,
    law_expression,
    size,
    tidy,
)
from arithnet.laws.readout.in_turn import snapped_in_turn
from arithnet.laws.readout.rows import Rows
from arithnet.laws.readout.shortlist import pruned, shortlist
from arithnet.laws.readout.structure import ContinuousFit, Structure
from arithnet.laws.search.budget import Budget, OutOfTime
from arithnet.laws.search.lattice import lattice_blocks, polynomial_structures, prefiltered
from arithnet.laws.search.power_law import power_law_exponents
from arithnet.laws.search.rational import rational_library
from arithnet.laws.verdict import Verdict
from arithnet.laws.verification.ambiguity import Rival
from arithnet.laws.verification.front import Candidate, n_numbers, noise_band
from arithnet.laws.verification.judge import Evidence, Judge
from arithnet.laws.verification.noise import looks_like_noise

#: The structures of each shortlist (best held-out error first) also read out with their constants snapped in turn.
IN_TURN = 8
#: Training rows the readout fits at most (the first of a random order): enough to pin a law's constants,
#: and the readout's memory stays bounded whatever the table's length.
READOUT_ROWS = 4096

#: Runs of a factored stage read out (the lowest training errors), and at most how many of one variant.
FACTORED_READOUTS = 8
FACTORED_PER_VARIANT = 2
#: The least time a trained stage starts with: importing torch alone takes a few seconds and cannot be cut short.
TRAINED_STAGE_SECONDS = 3.0
#: progress(fraction done, what is running)
FitProgress = Callable[[float, str], None]


class Search:
    """One call of ``fit_law`` on chosen columns: the scaled rows, the candidates so far, a short method per part."""

    def __init__(self, x: np.ndarray, y: np.ndarray, names, split, config: FitConfig, budget: Budget, progress=None):
        self.config, self.progress, self.names, self.budget = config, progress, tuple(names), budget
        train, held = split
        rows = Rows.scaled(x, y, train, held)
        self.rows = rows.head(READOUT_ROWS)
        batch = min(config.batch_rows, len(self.rows.y))
        self.training_rows = (rows.x[:batch], rows.y[:batch], self.rows.x, self.rows.y)
        evidence = Evidence(self.names, x[train][:READOUT_ROWS], y[train][:READOUT_ROWS], x[held], y[held])
        self.judge = Judge(evidence, config)
        self.symbols = [sympy.Symbol(name) for name in self.names]
        self.positive = [bool((x[:, i] > 0).all()) for i in range(x.shape[1])]
        self.candidates: dict[str, Candidate] = {}
        self.fits: list[ContinuousFit] = []
        self.best_continuous = math.inf
        self.power_law = np.zeros(x.shape[1])

    def run(self) -> Search:
        """Every stage in turn, until one is exact, a noise-level law holds, or the budget is spent.

        The power law always runs, whatever the budget: it takes milliseconds, and a search that stops
        at once still has a law to report.
        """
        self.power_law_stage()
        try:
            for name, stage, trained in self.stages():
                if self.found_exact():
                    break
                self.budget.check(name)
                previous = self.noise_consistent() if trained else []
                stage()
                if trained and previous and self.noise_consistent():
                    break  # a bigger network did not beat the noise level: more terms would only fit noise
            if self.config.power_moves and not self.found_exact():
                from arithnet.laws.search.moves import power_moves_stage

                power_moves_stage(self)
        except OutOfTime:
            pass
        return self

    def stages(self):
        """(name, run, trained) of each stage after the power law, simplest first."""
        if self.config.lattice_stage:
            yield "lattice", self.lattice_stage, False
            yield "polynomial library", self.polynomial_stage, False
        if self.config.rational_stage:
            yield "rational library", self.rational_stage, False
        lawnet = list(self.lawnet_stages())
        # LawNet's smallest shapes, two monomials, are simpler than any factored variant: while nothing fits to the
        # noise level they run first (a sum of two monomials in many columns, which no library enumerates), and as
        # the closed-form stages never end the search on their own. Otherwise they keep their place after.
        if lawnet and self.config.factored_stages and not self.noise_consistent():
            name, run, _ = lawnet.pop(0)
            yield name, run, False
        if self.config.factored_stages:
            from arithnet.laws.search.factored_stages import default_stages

            for index, (name, variants) in enumerate(default_stages()):
                yield (
                    name,
                    lambda index=index, name=name, variants=variants: self.factored_stage(index, name, variants),
                    True,
                )
        yield from lawnet

    def lawnet_stages(self):
        """(name, run, trained) of each of LawNet's stages, smallest first."""
        for index, stage in enumerate(self.config.stages):
            name = f"trained, {stage.n_terms} monomials"
            yield name, lambda index=index, stage=stage, name=name: self.trained_stage(index, stage, name), True

    def power_law_stage(self) -> None:
        self.power_law = power_law_exponents(self.rows.x, self.rows.y)
        centres = np.stack([self.power_law, power_law_exponents(self.rows.x, self.rows.y, weighted=True)])[:, None]
        ones = np.ones((2, 1))
        found = shortlist(self.rows, centres, ones, ones[:, 0], ["y = power law"] * 2, self.grids)
        self.add(found, "power law", capped=False)

    def lattice_stage(self) -> None:
        bases = np.stack([self.power_law, power_law_exponents(self.rows.x, self.rows.y, weighted=True)])
        blocks = lattice_blocks(bases, self.config)
        found = prefiltered(self.rows.x, self.rows.y, blocks, deadline=self.budget.spent)
        self.budget.check("lattice")
        self.add(shortlist(self.rows, *found, (2,), self.checker("lattice")), "lattice")

    def polynomial_stage(self) -> None:
        polynomials = polynomial_structures(len(self.names), self.config)
        if polynomials is not None:
            found = shortlist(self.rows, *polynomials, (2,), self.checker("polynomial library"))
            self.add(found, "polynomial library")

    def rational_stage(self) -> None:
        found = rational_library(self.rows, lambda: self.budget.check("rational library"))
        if found is not None:
            self.add(found, "rational library")

    def trained_stage(self, index: int, stage, name: str) -> None:
        self.budget.check(name, needed=TRAINED_STAGE_SECONDS)
        from arithnet.laws.search.trained import train_stage

        total = self.config.steps + self.config.polish_steps

        def progress(step: int) -> None:
            self.budget.check(name)
            if self.progress is not None:
                self.progress((index + step / total) / len(self.config.stages), f"{stage.n_terms} monomials")

        variants, roles, powers, exponents = train_stage(
            self.training_rows, self.power_law, stage, index, self.config, progress
        )
        labels = [v.label for v in variants for _ in range(self.config.n_kept)]
        self.add(shortlist(self.rows, exponents, roles, powers, labels, self.grids, self.checker(name)), name)

    def factored_stage(self, index: int, name: str, variants) -> None:
        """Train a factored stage's FactorNets, read out their best runs (readout.composite) and judge them."""
        self.budget.check(name, needed=TRAINED_STAGE_SECONDS)
        from arithnet.laws.search.factored import train_factored
        from arithnet.laws.search.factored_stages import POLISH_STEPS, STEPS

        total = STEPS + POLISH_STEPS

        def progress(step: int) -> None:
            self.budget.check(name)
            if self.progress is not None:
                self.progress(step / total, name)

        library, runs, labels = train_factored(self.training_rows, variants, index, self.config, progress)
        phi = library_values(self.rows.x, library)
        for run in best_runs(runs, labels):
            self.budget.check(name)
            composite = from_run({key: value[run] for key, value in runs.items()}, library, phi, labels[run])
            if composite is None:
                continue
            composite = simplified(composite, phi, self.rows.y)
            settings = (self.config.max_denominator, self.config.snap_sigmas[0], exponent_denominator(self.grids))
            expression, readings = composite_expression(composite, self.rows, self.symbols, settings)
            self.judged(expression, composite.label, name, composite.key(), readings, composite)

    def checker(self, stage: str):
        """The budget's check for ``stage``, for work that runs long inside one call (a shortlist)."""
        return lambda: self.budget.check(stage)

    @property
    def grids(self) -> tuple[int, ...]:
        return self.config.exponent_grids

    def add(self, found, stage: str, capped: bool = True) -> None:
        """Read out and judge each shortlisted structure (``readings``); keep the unsnapped fits to compare with.

        ``found`` is a shortlist's (structures with held-out errors, best unsnapped error, unsnapped fits);
        ``capped``: the budget may stop the readout between structures.
        """
        structures, continuous, fits = found
        self.best_continuous = min(self.best_continuous, continuous)
        self.fits.extend(fits)
        for structure, sigmas in self.readings(structures):
            if capped:
                self.budget.check(stage)
            sign = fitted_sign(structure, self.rows.x)
            settings = (self.config.max_denominator, sigmas, exponent_denominator(self.grids))
            expression, readings = law_expression(structure, self.rows, self.symbols, sign, settings)
            if sympy.srepr(expression) not in self.candidates:
                written = effective(structure, readings)
                self.judged(expression, structure.label, stage, written.key(), readings, written)

    def judged(self, expression, template: str, stage: str, structure=(), readings=(), origin=None) -> None:
        """Judge ``expression`` (verification.judge) and keep it, unless the same law is a candidate already."""
        key = sympy.srepr(expression)
        if key not in self.candidates:
            self.candidates[key] = self.judge(expression, template, stage, structure, readings, origin)

    def readings(self, structures: list[tuple[Structure, float]]):
        """(structure, snap sigmas) pairs to read out: every structure at every ``snap_sigmas``, and the best
        IN_TURN of them, where not exact already, with their constants snapped in turn (readout.in_turn)."""
        for index, (structure, held) in enumerate(structures):
            for sigmas in self.config.snap_sigmas:
                yield structure, sigmas
            if index < IN_TURN and held > self.config.exact_tolerance:
                sigmas = self.config.snap_sigmas[0]
                turned = snapped_in_turn(self.rows, structure, self.config.max_denominator, sigmas)
                if turned is not None:
                    yield turned, sigmas

    def found_exact(self) -> bool:
        return any(c.verified == Verdict.EXACT for c in self.candidates.values())

    def noise_level(self) -> float:
        """The noise estimate: the lowest training error of any fit, snapped or not.

        Training errors, not held-out ones: the held-out minimum over many
        candidates is biased low (the winner's curse), most on heavy-tailed targets.
        """
        return min([self.best_continuous, *(c.train_error for c in self.candidates.values())])

    def noise_consistent(self, determined: bool = True) -> list[Candidate]:
        """Candidates whose held-out error is within the noise band of the best error seen.

        Their residuals must also pass the tests for leftover structure
        (verification.noise): a search that found nothing must not call its best miss noise. With
        ``determined``, their constants must be fixed by the data too (no 95% interval holding 0): a fit
        whose constants the data leave free is no law verified to the noise level, though it is a rival.
        """
        level = self.noise_level()
        if not level <= self.config.max_noise:
            return []
        limit = level * noise_band(len(self.rows.y_held))
        found = [c for c in self.candidates.values() if c.error <= limit and c.unstructured]
        return [c for c in found if c.determined] if determined else found

    def tidied(self, candidate: Candidate, always: bool = False) -> Candidate:
        """The candidate in its shortest form (readout.tidy); once the budget is spent, only the chosen law
        (``always``): tidying is bounded (at most TIDY_MAX_SIZE nodes go through sympy's simplify)."""
        if self.budget.spent() and not always:
            return candidate
        x = self.judge.test_x  # training and held-out rows: a rewrite that flips a sign must hold on both
        expression = tidy(candidate.expression, self.names, self.positive, x)
        candidate.expression, candidate.complexity = expression, size(expression)
        return candidate

    def rival(self, candidate: Candidate) -> Rival:
        """A candidate as a rival law: its predictions in the table's units, its training error and parameters."""
        tree = from_sympy(candidate.expression)
        evidence = self.judge.evidence
        train_rms = float(relative_rms(evidence.values(tree, evidence.x)[None], evidence.y)[0])
        if candidate.structure[:1] == ("moved",):  # read off its tree (search.moves): every number counts
            k = n_numbers(candidate.expression)
        else:
            k = sum(1 for r in candidate.constants if r.snapped != 0) + key_exponents(candidate.structure)
        return Rival(
            str(candidate.expression), candidate.stage, candidate.error, lambda x: evidence.values(tree, x),
            candidate.structure, train_rms, k,
        )  # fmt: skip

    def rivals(self, level: float, chosen: Candidate, near=None) -> list[Rival]:
        """Every law that fits to the noise: the noise-level candidates, the unsnapped fits off the lattice, the
        chosen law's neighbours on the lattice (one exponent moved by ½ or 1, constants refitted), and its powers
        of sums moved by ½ (``near``, verification.powers.Neighbourhood: search.moves).

        A law of the class stands alone on the lattice: moving one of its exponents breaks the fit. A law of
        the class that only approximates one outside it (a sum of powers of x for log x) has neighbours that
        approximate it as well, and lead elsewhere outside the data.
        """
        rivals = [self.rival(c) for c in self.noise_consistent(determined=False)]
        limit = level * noise_band(len(self.rows.y_held))
        if isinstance(chosen.origin, Composite):
            rivals += self.composite_rivals(chosen.origin, limit)
        if self.config.power_moves and near is not None and near.own is not None:
            from arithnet.laws.search.moves import power_rivals

            rivals += power_rivals(self, self.rival(chosen), near, limit)
        unsnapped = [fit for fit in self.fits if not on_lattice(fit.exponents, self.grids)]  # else a candidate already
        for fit in unsnapped + lattice_neighbours(self.rows, chosen.structure):
            error, unstructured, train_rms = self.fit_quality(fit)
            if error <= limit and unstructured:
                active = fit.roles != 0
                n_parameters = int(active.sum() + (fit.exponents[active] != 0).sum())
                rivals.append(Rival(fit.label, "unsnapped fit", error, self.fit_predictor(fit), ("unsnapped", id(fit)),
                                    train_rms, n_parameters))  # fmt: skip
        return rivals

    def composite_rivals(self, composite: Composite, limit: float) -> list[Rival]:
        """A factored law's neighbours that fit to the noise: one sum's power moved by ½ or the sum left out."""
        phi_train, phi_held = (
            library_values(self.rows.x, composite.library),
            library_values(self.rows.x_held, composite.library),
        )
        found = []
        for neighbour in power_neighbours(composite):
            fitted = fit_composite(neighbour, phi_train, self.rows.y)
            held = predict(fitted, phi_held)
            error = float(relative_rms(held[None], self.rows.y_held)[0])
            train = predict(fitted, phi_train)
            residual = np.concatenate([train - self.rows.y, held - self.rows.y_held])[: len(self.judge.test_x)]
            if error <= limit and looks_like_noise(self.judge.test_x, residual):
                train_rms = float(relative_rms(train[None], self.rows.y)[0])
                k = fitted.n_parameters() + key_exponents(fitted.key())
                found.append(Rival(fitted.label, "a neighbour of the law", error, self.composite_predictor(fitted),
                                   fitted.key(), train_rms, k))  # fmt: skip
        return found

    def composite_predictor(self, composite: Composite):
        scale_x, scale_y = np.exp(self.rows.log_x), math.exp(self.rows.log_y)
        return lambda x: scale_y * predict(composite, library_values(x / scale_x, composite.library))

    def fit_quality(self, fit: ContinuousFit) -> tuple[float, bool, float]:
        """A continuous fit's held-out error, whether its residuals look like noise, and its training error."""
        held = self.fit_values(fit, self.rows.x_held)
        error = float(relative_rms(held[None], self.rows.y_held)[0])
        train = self.fit_values(fit, self.rows.x)
        residual = np.concatenate([train - self.rows.y, held - self.rows.y_held])[: len(self.judge.test_x)]
        train_rms = float(relative_rms(train[None], self.rows.y)[0])
        return error, looks_like_noise(self.judge.test_x, residual), train_rms

    def fit_values(self, fit: ContinuousFit, z: np.ndarray) -> np.ndarray:
        m = monomials(z, fit.exponents[None])
        return law_values(m, fit.coefficients[None], fit.roles[None], np.array([fit.power]))[0]

    def fit_predictor(self, fit: ContinuousFit):
        scale_x, scale_y = np.exp(self.rows.log_x), math.exp(self.rows.log_y)
        return lambda x: scale_y * self.fit_values(fit, x / scale_x)


#: The moves of one exponent that make the chosen law's lattice neighbours.
NEIGHBOUR_STEPS = (-1.0, -0.5, 0.5, 1.0)


def lattice_neighbours(rows: Rows, key: tuple) -> list[ContinuousFit]:
    """The structure of ``key`` (power, {(role, exponents)}) with one exponent moved, its coefficients refitted."""
    if len(key) != 2 or key[0] in ("factored", "moved"):
        return []  # no structure, a plain square (its neighbours would be other laws), or a factored law (its own)
    power, terms = key
    roles = np.array([float(role) for role, _ in sorted(terms)])
    exponents = np.array([exponent for _, exponent in sorted(terms)], dtype=np.float64)
    moved = []
    for k, i, step in itertools.product(range(len(roles)), range(exponents.shape[1]), NEIGHBOUR_STEPS):
        neighbour = exponents.copy()
        neighbour[k, i] += step
        moved.append(neighbour)
    if not moved:
        return []
    stacked = np.stack(moved)
    powers = np.full(len(stacked), float(power))
    coefficients, _, fitted_roles = pruned(rows, stacked, np.tile(roles, (len(stacked), 1)), powers)
    return [
        ContinuousFit(stacked[n], fitted_roles[n], coefficients[n], float(power), "a lattice neighbour of the law")
        for n in range(len(stacked))
    ]


def key_exponents(key: tuple) -> int:
    """The non-zero exponents of a structure's key (a ratio's, or a factored law's, whose powers count one each)."""
    if not key:
        return 0
    if key[0] != "factored":
        return sum(sum(1 for e in exponents if e != 0) for _, exponents in key[1])

    def nonzero(monomials) -> int:
        return sum(sum(1 for e in exponents if e != 0) for exponents in monomials)

    return sum(nonzero(numerator) + sum(1 + nonzero(sums) for _, _, sums in factors) for numerator, factors in key[1])


def best_runs(runs: dict, labels: list[str]) -> list[int]:
    """The runs to read out: lowest training error first, at most FACTORED_PER_VARIANT of one variant."""
    chosen, per_label = [], dict.fromkeys(labels, 0)
    for run in np.argsort(runs["loss"], kind="stable").tolist():
        if np.isfinite(runs["loss"][run]) and per_label[labels[run]] < FACTORED_PER_VARIANT:
            chosen.append(run)
            per_label[labels[run]] += 1
        if len(chosen) == FACTORED_READOUTS:
            break
    return chosen


def on_lattice(exponents: np.ndarray, grids: tuple[int, ...]) -> bool:
    """Whether every exponent is a multiple of 1/g for one of the grids (or of ½)."""
    denominator = math.lcm(2, *grids)
    return bool(np.all(np.abs(exponents * denominator - np.round(exponents * denominator)) < 1e-9))
