"""Training losses, one value per run: mse, relative, log-space and projected.

Each takes the unit, inputs x (N, B, I) and targets (N, B) and returns (N,).
Shape letters: N runs, B batch, I inputs.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from arithnet.units import LogParts, Projected, Unit

#: log|t| of a zero target would be −inf; 1e-30 keeps it finite and far below any real target.
LOG_TARGET_FLOOR = 1e-30


def mse(unit: Unit, x: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean squared error, the field's loss."""
    return (unit(x)[..., 0] - target).square().mean(-1)


def relative(unit: Unit, x: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean squared error over the mean squared target: the same scale whatever the range."""
    return mse(unit, x, target) / target.square().mean(-1).clamp_min(1e-300)


def log_space(unit: Unit, x: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """(Re z − log|t|)² + (cos Im z − sign t)² for units computing y = Re exp(z) (``LogParts``).

    The error of exp(z) explodes with z, the error of z does not: this is
    arithnet's loss for × and ÷ with LogExp units (docs/recipes.md).
    """
    real, imaginary = unit.log_parts(x)
    log_error = real[..., 0] - torch.log(target.abs().clamp_min(LOG_TARGET_FLOOR))
    sign_error = torch.cos(imaginary[..., 0]) - torch.sign(target)
    return (log_error.square() + sign_error.square()).mean(-1)


def projected(unit: Unit, x: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Relative squared error of the unit's prediction with its output layer solved for the batch (``Projected``).

    Variable projection (Golub & Pereyra): the output weights are a least-squares
    solve, so the gradient moves the other weights only (LawNet's exponents).
    """
    error = (unit.projected(x, target)[..., 0] - target).square().mean(-1)
    return error / target.square().mean(-1).clamp_min(1e-300)


Loss = Callable[[Unit, torch.Tensor, torch.Tensor], torch.Tensor]
LOSSES: dict[str, Loss] = {"mse": mse, "relative": relative, "log": log_space, "projected": projected}


def get_loss(name: str) -> Loss:
    """The loss called ``name``; a ValueError lists the valid names."""
    try:
        return LOSSES[name]
    except KeyError:
        raise ValueError(f"unknown loss {name!r}; valid losses: {', '.join(LOSSES)}") from None


def check_loss(name: str, unit_class: type[Unit]) -> None:
    """Raise ValueError when ``unit_class`` cannot be trained with loss ``name`` (units.capabilities)."""
    get_loss(name)
    if name == "log" and not issubclass(unit_class, LogParts):
        raise ValueError(f"the log-space loss needs a unit with log_parts (LogExp), not {unit_class.name}")
    if name == "projected" and not issubclass(unit_class, Projected):
        raise ValueError(f"the projected loss needs a unit with projected(x, target) (LawNet), not {unit_class.name}")
