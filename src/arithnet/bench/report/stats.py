"""Benchmark statistics: success rates, solved-at steps and sparsity errors with 95% intervals.

Pure numpy/scipy functions, nothing drawn (figures.py draws); per-group tables
are computed from the long table of verdicts (verdicts.py). The measures are
the field's (Madsen & Johansen, ICLR 2020, and the stable-nalu summaries):
success rate with a Wilson interval (scipy's); the solved-at step's mean with
an interval from a gamma model (fitted by scipy); the sparsity error's mean
with an interval from a beta model (fitted here: see ``beta_fit``). Where a
quantity is undefined (no runs, one run, a fit that cannot be made) it is NaN,
silently: a report of sparse groups should not spray warnings.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
from scipy import optimize, special, stats

from arithnet.bench.protocol import EXACT, RUN_FIELDS, VERDICT_CRITERIA, CriterionVerdict, RunRow
from arithnet.bench.protocol.verdicts import verdicts

NAN = float("nan")
#: Sparsity errors are moved this far inside (0, 1) before the beta fit: the beta
#: likelihood is 0 or infinite at the ends, and exact 0 is common (clamped weights).
BETA_CLIP = 1e-12


def _check_confidence(confidence: float) -> None:
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")


def wilson_interval(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float, float]:
    """Success rate and its Wilson score interval: ``(rate, low, high)``.

    The Wilson interval stays inside [0, 1] and keeps its coverage near 0% and
    100%, where the normal approximation collapses to a point. Computed by
    scipy (``binomtest(...).proportion_ci(method="wilson")``, no continuity
    correction). With no runs (n = 0) the rate is NaN and the interval is the
    uninformative (0, 1); at 0 or n successes the bound is exactly 0 or 1.
    """
    if n < 0 or not 0 <= successes <= n:
        raise ValueError(f"need 0 <= successes <= n, got successes={successes}, n={n}")
    _check_confidence(confidence)
    if n == 0:
        return NAN, 0.0, 1.0
    interval = stats.binomtest(int(successes), int(n)).proportion_ci(confidence, method="wilson")
    low = 0.0 if successes == 0 else max(0.0, float(interval.low))
    high = 1.0 if successes == n else min(1.0, float(interval.high))
    return successes / n, low, high


def _as_sample(values, name: str) -> np.ndarray:
    sample = np.asarray(values, dtype=float).ravel()
    if not np.all(np.isfinite(sample)) or np.any(sample < 0):
        raise ValueError(f"{name} must be finite and non-negative")
    return sample


def _gamma_shape(sample: np.ndarray) -> float:
    """Maximum-likelihood shape of a gamma distribution with location 0 (scipy's ``gamma.fit``); NaN if none.

    The MLE exists when the values are positive and not all equal, that is when
    s = log(mean) − mean(log x) > 0; up to rounding (s ≤ 1e-14) scipy's solver
    fails, so such samples are NaN without asking it.
    """
    if sample.size < 2 or np.any(sample <= 0):
        return NAN
    if not float(np.log(sample.mean()) - np.mean(np.log(sample))) > 1e-14:
        return NAN
    try:
        shape, _, _ = stats.gamma.fit(sample, floc=0)
    except (stats.FitError, ValueError):
        return NAN
    return float(shape) if np.isfinite(shape) and shape > 0 else NAN


def solved_at_summary(steps, confidence: float = 0.95) -> dict[str, float]:
    """Median and mean of solved-at steps, with an interval for the mean from a gamma fit.

    Returns ``{"median", "mean", "mean_low", "mean_high"}``.

    The interval: fit gamma(k, θ) by maximum likelihood with location 0
    (scipy's ``gamma.fit`` with ``floc=0``). The mean m of n independent gamma(k, θ) values is
    gamma(nk, θ/n), so m / μ, with μ = kθ the true mean, is gamma(nk, 1/(nk))
    whatever θ is: a pivot. With q_lo, q_hi its 2.5% and 97.5% quantiles,
    [m / q_hi, m / q_lo] covers μ with probability 95% for the fitted k (exact
    if k were known; the uncertainty of k̂ is ignored). The interval is skewed
    upwards, as it should be for a positive, right-skewed quantity. stable-nalu
    used a profile-likelihood interval for the same mean; both agree for large n.
    Ignoring k̂'s uncertainty makes the interval too narrow for few runs: in
    simulation (k = 2) it covered 94% with 50 values, 91% with 10, 76% with 3.

    NaN where undefined: everything for no steps; the interval for one step, for
    all-equal steps, or when a step is 0 (the gamma likelihood is then 0).
    """
    sample = _as_sample(steps, "steps")
    if sample.size == 0:
        return {"median": NAN, "mean": NAN, "mean_low": NAN, "mean_high": NAN}
    mean = float(sample.mean())
    low = high = NAN
    shape = _gamma_shape(sample)
    if np.isfinite(shape):
        alpha = 1 - confidence
        n_shape = sample.size * shape
        q_low, q_high = stats.gamma.ppf([alpha / 2, 1 - alpha / 2], n_shape, scale=1 / n_shape)
        low, high = mean / float(q_high), mean / float(q_low)
    return {"median": float(np.median(sample)), "mean": mean, "mean_low": low, "mean_high": high}


def beta_fit(sample: np.ndarray, n_iterations: int = 200) -> tuple[float, float]:
    """Maximum-likelihood (a, b) of a beta distribution on (0, 1); (NaN, NaN) if there is none.

    Newton's method on the score equations ψ(a) − ψ(a+b) = mean(log x),
    ψ(b) − ψ(a+b) = mean(log(1−x)), from the method-of-moments start. The
    log-likelihood is concave in (a, b) (an exponential family), so the Newton
    direction always climbs; halving the step until it stays positive and
    climbs makes every iteration an improvement.

    Hand-written because scipy's ``beta.fit(sample, floc=0, fscale=1)`` (1.17)
    raises ``FitSolverError`` on samples with many values at the clip bound,
    which sparsity errors have (exact zeros of clamped weights); on samples
    without them both agree. The tests check both.
    """
    if sample.size < 2 or np.ptp(sample) == 0 or np.any((sample <= 0) | (sample >= 1)):
        return NAN, NAN
    mean_log, mean_log1m = np.mean(np.log(sample)), np.mean(np.log1p(-sample))
    mean, variance = sample.mean(), sample.var()
    concentration = mean * (1 - mean) / variance - 1
    params = np.array([mean, 1 - mean]) * concentration if concentration > 0 else np.ones(2)

    def log_likelihood(ab: np.ndarray) -> float:  # per value
        return (ab[0] - 1) * mean_log + (ab[1] - 1) * mean_log1m - special.betaln(ab[0], ab[1])

    for _ in range(n_iterations):
        gradient = np.array([mean_log, mean_log1m]) - special.digamma(params) + special.digamma(params.sum())
        # Minus the Hessian, per value: positive definite for a, b > 0.
        information = np.diag(special.polygamma(1, params)) - special.polygamma(1, params.sum())
        step = np.linalg.solve(information, gradient)
        current = log_likelihood(params)
        while np.any(params + step <= 0) or log_likelihood(params + step) < current:
            step /= 2
            if np.all(np.abs(step) <= 1e-12 * params):
                break
        params = params + step
        if np.all(np.abs(step) <= 1e-10 * params):
            return float(params[0]), float(params[1])
    return NAN, NAN


def sparsity_summary(errors, confidence: float = 0.95) -> dict[str, float]:
    """Mean of sparsity errors (of solved runs), with an interval from a beta fit.

    Returns ``{"mean", "low", "high"}``; ``mean`` is the plain sample mean.

    The interval: values are clipped into (1e-12, 1 − 1e-12) and a beta(a, b)
    is fitted by maximum likelihood (``beta_fit``); its concentration ν = a + b
    fixes the variance μ(1 − μ)/(ν + 1) for any mean μ. The mean of n values
    then has variance μ(1 − μ)/(n(ν + 1)), which we model as a beta with
    concentration ν_n = n(ν + 1) − 1 (matching mean and variance; exact for
    n = 1, normal for large n). The interval is every μ for which the observed
    mean m is in neither 2.5% tail of beta(μ ν_n, (1 − μ) ν_n) — the same test
    inversion that gives ``solved_at_summary`` its pivot interval. It stays
    inside (0, 1) and is skewed away from 0, where sparsity errors crowd.
    Like the gamma interval it ignores the fit's own uncertainty: in simulation
    (beta(1.5, 30)) it covered 94% with 50 values, 89% with 10, 74% with 3.

    NaN where undefined: everything for no errors; the interval for one value,
    all-equal values, or any value above 1 (outside the beta's support:
    possible for unbounded weights, |W| > 2).
    """
    sample = _as_sample(errors, "errors")
    if sample.size == 0:
        return {"mean": NAN, "low": NAN, "high": NAN}
    mean = float(sample.mean())
    if np.any(sample > 1):
        return {"mean": mean, "low": NAN, "high": NAN}
    clipped = np.clip(sample, BETA_CLIP, 1 - BETA_CLIP)
    a, b = beta_fit(clipped)
    if not np.isfinite(a):
        return {"mean": mean, "low": NAN, "high": NAN}
    n_concentration = sample.size * (a + b + 1) - 1
    observed = float(clipped.mean())

    def tail(mu: float, probability: float) -> float:
        return float(stats.beta.cdf(observed, mu * n_concentration, (1 - mu) * n_concentration)) - probability

    alpha = 1 - confidence
    bounds = []
    # The cdf at m falls from 1 to 0 as μ goes from 0 to 1: one root each, or the end of (0, 1).
    for probability, end in ((1 - alpha / 2, 0.0), (alpha / 2, 1.0)):
        lo_mu, hi_mu = BETA_CLIP, 1 - BETA_CLIP
        if tail(lo_mu, probability) > 0 > tail(hi_mu, probability):
            bounds.append(optimize.brentq(tail, lo_mu, hi_mu, args=(probability,), xtol=1e-15))
        else:
            bounds.append(end)
    return {"mean": mean, "low": float(bounds[0]), "high": float(bounds[1])}


def _prefixed(prefix: str, summary: dict[str, float]) -> dict[str, float]:
    return {f"{prefix}_{name}": value for name, value in summary.items()}


def _group_key(record: CriterionVerdict, by: Sequence[str]) -> tuple:
    return tuple(getattr(record, name) for name in by)


def success_table(
    records: Iterable[CriterionVerdict] | Iterable[RunRow],
    by: Sequence[str] = ("unit", "operation"),
    criterion: str = "raw",
) -> list[dict]:
    """One summary per group of runs: success rate, solved-at steps, sparsity error, exact formulas.

    ``records`` is the long table of verdicts (``verdicts.verdicts``); RunRows
    are accepted too and converted to it. Groups are the distinct values of the
    ``by`` fields (run fields: key, unit, operation, task, range_name, seed),
    sorted. Each dict has the ``by`` fields and:
      n, successes, rate, low, high: runs, runs solved under ``criterion``,
        rate with its Wilson interval;
      solved_at_median, solved_at_mean, solved_at_mean_low, solved_at_mean_high:
        ``solved_at_summary`` of the solved runs' first solving step (all NaN
        for the exact criterion, which has no solving step);
      sparsity_mean, sparsity_low, sparsity_high: ``sparsity_summary`` of the
        solved runs' sparsity errors (NaN errors, weights that could not be read, left out);
      exact_successes, exact_rate, exact_low, exact_high: the same group's
        verdicts under the "exact" criterion (rounded weights give the exact
        formula), of all its runs, with a Wilson interval;
      solved_inexact: runs solved under ``criterion`` whose "exact" verdict is
        not solved — the gap the MSE criterion leaves (see the reference, "A gap in the criterion").
    """
    if criterion not in VERDICT_CRITERIA:
        raise ValueError(f"unknown criterion {criterion!r}; expected one of {VERDICT_CRITERIA}")
    unknown = set(by) - set(RUN_FIELDS)
    if unknown:
        raise ValueError(f"cannot group by {sorted(unknown)}: not run fields {RUN_FIELDS}")
    records = list(records)
    if any(isinstance(record, RunRow) for record in records):
        records = verdicts(records)
    groups: dict[tuple, list[CriterionVerdict]] = {}
    exact_groups: dict[tuple, list[CriterionVerdict]] = {}
    for record in records:
        if record.criterion == criterion:
            groups.setdefault(_group_key(record, by), []).append(record)
        if record.criterion == EXACT:
            exact_groups.setdefault(_group_key(record, by), []).append(record)
    exact_keys = {record.key for record in records if record.criterion == EXACT and record.solved}
    table = []
    for group_key in sorted(groups.keys() | exact_groups.keys()):
        members = groups.get(group_key, [])
        exact = exact_groups.get(group_key, [])
        solved = [record for record in members if record.solved]
        steps = [record.solved_at for record in solved if record.solved_at is not None]
        errors = np.array([record.sparsity_error for record in solved], dtype=float)
        n_exact = sum(record.solved for record in exact)
        rate, low, high = wilson_interval(len(solved), len(members))
        exact_rate, exact_low, exact_high = wilson_interval(n_exact, len(exact))
        table.append(
            dict(zip(by, group_key, strict=True))
            | {"n": len(members), "successes": len(solved), "rate": rate, "low": low, "high": high}
            | _prefixed("solved_at", solved_at_summary(steps))
            | _prefixed("sparsity", sparsity_summary(errors[np.isfinite(errors)]))
            | {"exact_successes": n_exact, "exact_rate": exact_rate, "exact_low": exact_low, "exact_high": exact_high}
            | {"solved_inexact": sum(record.key not in exact_keys for record in solved)}
        )
    return table


def solved_fraction_curve(solved_at: Iterable[int], n_runs: int, last_step: int) -> tuple[np.ndarray, np.ndarray]:
    """The fraction of ``n_runs`` runs solved by each step, as a step function from step 0 to ``last_step``.

    ``solved_at`` holds the first solving step of each solved run (unsolved
    runs are left out, so the curve ends at the success rate). Returns
    ``(steps, fraction)``: steps 0, every distinct solving step and
    ``last_step``, ascending; ``fraction[i]`` = runs solved at or before
    ``steps[i]``, over ``n_runs``. Drawn with ``where="post"``.
    """
    steps = np.sort(np.asarray(list(solved_at), dtype=float))
    if n_runs < steps.size or n_runs < 1:
        raise ValueError(f"need at least one run and no more solved runs than runs, got {steps.size} of {n_runs}")
    if steps.size and (steps[0] < 0 or steps[-1] > last_step):
        raise ValueError(f"solving steps must lie in [0, {last_step}]")
    points = np.unique(np.concatenate([[0.0], steps, [float(last_step)]]))
    return points, np.searchsorted(steps, points, side="right") / n_runs


def rates_by_criterion(rows: Iterable[RunRow], criteria: Sequence[str] = VERDICT_CRITERIA) -> list[dict]:
    """Per unit and operation, the runs and each criterion's success rate with its 95% Wilson interval.

    One dict per (unit, operation), in ``success_table``'s order: ``unit``,
    ``operation``, ``n`` (runs) and, for each criterion, ``criterion: (rate,
    low, high)``; the rate is NaN where the criterion applies to none of the
    runs (verdicts.py). The table ``arithnet bench`` prints when it ends.
    """
    records = verdicts(rows)
    tables = {
        criterion: {(entry["unit"], entry["operation"]): entry for entry in success_table(records, criterion=criterion)}
        for criterion in {*criteria, EXACT}
    }
    return [
        {"unit": unit, "operation": operation, "n": runs["n"]}  # every run has an exact-formula verdict
        | {
            criterion: tuple(tables[criterion][unit, operation][k] for k in ("rate", "low", "high"))
            for criterion in criteria
        }
        for (unit, operation), runs in tables[EXACT].items()
    ]
