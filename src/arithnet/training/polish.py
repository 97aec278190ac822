"""The default recipe's readout: snap the weights to a simple candidate, verify it on fresh data, keep it if exact.

Training ends near the answer, not at it: on a narrow range such as
[1.1, 1.2] the data barely tell x0 + x1 from 0.9·x0 + 1.1·x1, and a seed of ÷
may stop at (x0 + 0.0087·x1)^1.026 / (0.0092·x0 + x1)^1.026 with a training
error of 3e-3. Such a near miss is one rounding away from the exact network.
Every weight is rounded to a grid (1, then ½, ¼, 1/12), first as trained, then
after the unit's canonical form (``CanonicalForm``); each candidate network is evaluated on
fresh samples of the training range, and a seed takes the first candidate
whose largest relative error there is below 1e-12 (float64 arithmetic on exact
weights gives 1e-16 to 5e-14). A candidate that is not exact is never kept, so
snapping cannot make a seed worse; it only ends training where the data
already pointed. Shape letters: S seeds, B samples.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator

import torch

from arithnet import random as counter_random
from arithnet.data import Range, sample_uniform
from arithnet.operations import Operation
from arithnet.units import CanonicalForm, Refit, Unit

#: Grids tried in order, coarsest (simplest formula) first.
GRIDS = (1.0, 0.5, 0.25, 1.0 / 12.0)
#: Largest relative error on the verification samples for a snapped network to count as exact.
#: Exact weights give a few hundred ulps at most (x0/x1 as exp(log x0 − log x1) at |x| near
#: 1e100: 5e-14). A looser 1e-9 let (x0 + x1)²/4 pass for x0·x1 on [−1.56131e18, −1.56121e18],
#: where it is off by ((x0 − x1)/2)² / (x0·x1) ≈ 1e-9.
VERIFY_TOLERANCE = 1e-12
#: Verification samples per seed: half for the refit, half held out for the check.
N_VERIFY = 512


def verification_inputs(keys: torch.Tensor, train_range: Range, log_uniform: bool) -> torch.Tensor:
    """Fresh inputs (S, N_VERIFY, 2) from the training range, from each seed's own verification stream."""
    u = counter_random.uniform(keys, counter_random.Stream.VERIFY, 0, (N_VERIFY, 2))
    return sample_uniform(u, train_range, log_uniform and not train_range.contains_zero)


def canonical_form_(unit: Unit) -> Unit:
    """The unit in its canonical form, in place (``CanonicalForm``); as it is for a unit without one."""
    if isinstance(unit, CanonicalForm):
        unit.canonical_()
    return unit


def candidates(unit: Unit, x: torch.Tensor, target: torch.Tensor) -> Iterator[list[torch.Tensor]]:
    """Snapped parameter lists: each grid on the weights as trained, in canonical form, then refitted.

    The refit (``Refit``) solves the unit's least-squares part on samples of
    the training data: what training would reach with no end to its steps,
    where the structure is right. A unit without a canonical form or a refit
    gives the weights as trained in their place.
    """
    canonical = canonical_form_(copy.deepcopy(unit))
    refitted = copy.deepcopy(unit)
    if isinstance(refitted, Refit):
        refitted.refit_(x, target[..., None])
    canonical_form_(refitted)
    for source in (unit, canonical, refitted):
        for grid in GRIDS:
            yield [torch.round(p.detach() / grid) * grid for p in source.parameters()]


@torch.no_grad()
def relative_error(unit: Unit, operation: Operation, x: torch.Tensor) -> torch.Tensor:
    """Largest |y − t| / |t| per seed (S,); NaN counts as infinite."""
    target = operation.target(x)
    error = (unit(x)[..., 0] - target).abs() / target.abs().clamp_min(1e-300)
    return torch.nan_to_num(error, nan=torch.inf).amax(-1)


@torch.no_grad()
def polish_(unit: Unit, operation: Operation, x: torch.Tensor) -> torch.Tensor:
    """Replace each seed's weights by its first verified snapped candidate; returns the seeds replaced (S,)."""
    was_training = unit.training
    unit.eval()
    scratch = copy.deepcopy(unit)
    polished = torch.zeros(x.shape[0], dtype=torch.bool)
    fit_x, check_x = x[:, : x.shape[1] // 2], x[:, x.shape[1] // 2 :]
    for snapped in candidates(unit, fit_x, operation.target(fit_x)):
        for target, value in zip(scratch.parameters(), snapped):
            target.copy_(value)
        exact = (relative_error(scratch, operation, check_x) < VERIFY_TOLERANCE).cpu() & ~polished
        if exact.any():
            for parameter, value in zip(unit.parameters(), snapped):
                mask = exact.to(parameter.device).reshape((-1,) + (1,) * (parameter.dim() - 1))
                parameter.copy_(torch.where(mask, value, parameter))
            polished |= exact
    unit.train(was_training)
    return polished
