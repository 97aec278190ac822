"""Benchmark statistics: success rates, solved-at steps and sparsity errors with 95% intervals.

Pure numpy/scipy functions, nothing drawn (figures.py draws). The measures are
the field's (Madsen & Johansen, ICLR 2020, and the stable-nalu summaries):
success rate with a Wilson interval; the solved-at step's mean with an interval
from a gamma model; the sparsity error's mean with an interval from a beta
model. Where a quantity is undefined (no runs, one run, a fit that cannot be
made) it is NaN, silently: a report of sparse groups should not spray warnings.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
from scipy import optimize, special, stats

from arithnet.bench.rows import CRITERIA, RunRow

NAN = float("nan")
#: Sparsity errors are moved this far inside (0, 1) before the beta fit: the beta
#: likelihood is 0 or infinite at the ends, and exact 0 is common (clamped weights).
BETA_CLIP = 1e-12


def _z(confidence: float) -> float:
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    return float(stats.norm.ppf(0.5 + confidence / 2))


def wilson_interval(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float, float]:
    """Success rate and its Wilson score interval: ``(rate, low, high)``.

    The Wilson interval stays inside [0, 1] and keeps its coverage near 0% and
    100%, where the normal approximation collapses to a point. With no runs
    (n = 0) the rate is NaN and the interval is the uninformative (0, 1).
    """
    if n < 0 or not 0 <= successes <= n:
        raise ValueError(f"need 0 <= successes <= n, got successes={successes}, n={n}")
    z = _z(confidence)
    if n == 0:
        return NAN, 0.0, 1.0
    rate = successes / n
    denominator = 1 + z * z / n
    centre = (rate + z * z / (2 * n)) / denominator
    half_width = z * np.sqrt(rate * (1 - rate) / n + z * z / (4 * n * n)) / denominator
    # At 0 or n successes the bound is exactly 0 or 1; pin it so rounding does not show -1e-17.
    low = 0.0 if successes == 0 else max(0.0, centre - half_width)
    high = 1.0 if successes == n else min(1.0, centre + half_width)
    return rate, float(low), float(high)


def _as_sample(values, name: str) -> np.ndarray:
    sample = np.asarray(values, dtype=float).ravel()
    if not np.all(np.isfinite(sample)) or np.any(sample < 0):
        raise ValueError(f"{name} must be finite and non-negative")
    return sample


def gamma_shape(sample: np.ndarray) -> float:
    """Maximum-likelihood shape k of a gamma distribution with location 0; NaN if there is none.

    The MLE solves log k − ψ(k) = log(mean) − mean(log x) =: s (the scale is
    then mean / k). It exists when the values are positive and not all equal (s > 0).
    Minka's closed-form approximation (within 1.5%) brackets the root.
    """
    if sample.size < 2 or np.any(sample <= 0):
        return NAN
    s = float(np.log(sample.mean()) - np.mean(np.log(sample)))
    if not s > 1e-14:  # all equal, up to rounding: the fit would be a point mass
        return NAN
    guess = (3 - s + np.sqrt((s - 3) ** 2 + 24 * s)) / (12 * s)
    return float(optimize.brentq(lambda k: np.log(k) - special.digamma(k) - s, guess / 2, guess * 2))


def solved_at_summary(steps, confidence: float = 0.95) -> dict[str, float]:
    """Median and mean of solved-at steps, with an interval for the mean from a gamma fit.

    Returns ``{"median", "mean", "mean_low", "mean_high"}``.

    The interval: fit gamma(k, θ) by maximum likelihood with location 0 (see
    ``gamma_shape``). The mean m of n independent gamma(k, θ) values is
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
    shape = gamma_shape(sample)
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
    climbs makes every iteration an improvement. (scipy's beta.fit with fixed
    location and scale fails to converge or returns negative parameters on
    samples with many values at the clip bound, which sparsity errors have.)
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


def success_table(
    rows: Iterable[RunRow], by: Sequence[str] = ("unit", "operation"), criterion: str = "raw"
) -> list[dict]:
    """One summary per group of rows: success rate, solved-at steps, sparsity error, exact formulas.

    Groups are the distinct values of the ``by`` fields, sorted. Each dict has
    the ``by`` fields and:
      n, successes, rate, low, high: runs, solved runs under ``criterion``,
        rate with its Wilson interval;
      solved_at_median, solved_at_mean, solved_at_mean_low, solved_at_mean_high:
        ``solved_at_summary`` of the solved runs' first solving step;
      sparsity_mean, sparsity_low, sparsity_high: ``sparsity_summary`` of the
        solved runs' sparsity errors (NaN errors, weights that could not be read, left out);
      exact_successes, exact_rate, exact_low, exact_high: runs whose rounded
        weights give the exact formula, of all n runs, with a Wilson interval;
      solved_inexact: solved runs whose formula is not exact — the gap the MSE
        criterion leaves (see the reference, "A gap in the criterion").
    """
    if criterion not in CRITERIA:
        raise ValueError(f"unknown criterion {criterion!r}; expected one of {CRITERIA}")
    unknown = set(by) - set(RunRow.column_names())
    if unknown:
        raise ValueError(f"cannot group by {sorted(unknown)}: not RunRow fields")
    groups: dict[tuple, list[RunRow]] = {}
    for row in rows:
        groups.setdefault(tuple(getattr(row, name) for name in by), []).append(row)
    table = []
    for group_key in sorted(groups):
        members = groups[group_key]
        solved = [row for row in members if getattr(row, f"solved_{criterion}")]
        steps = [getattr(row, f"solved_at_{criterion}") for row in solved]
        errors = np.array([row.sparsity_error for row in solved], dtype=float)
        n_exact = sum(row.formula_exact for row in members)
        rate, low, high = wilson_interval(len(solved), len(members))
        exact_rate, exact_low, exact_high = wilson_interval(n_exact, len(members))
        table.append(
            dict(zip(by, group_key))
            | {"n": len(members), "successes": len(solved), "rate": rate, "low": low, "high": high}
            | _prefixed("solved_at", solved_at_summary([step for step in steps if step is not None]))
            | _prefixed("sparsity", sparsity_summary(errors[np.isfinite(errors)]))
            | {"exact_successes": n_exact, "exact_rate": exact_rate, "exact_low": exact_low, "exact_high": exact_high}
            | {"solved_inexact": sum(not row.formula_exact for row in solved)}
        )
    return table
