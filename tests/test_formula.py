"""Reading formulas from weights: snapping, scale symmetries, and what must not pass."""

from __future__ import annotations

import sympy
import torch

from arithnet import LinearNet, LogExp, SquareNet, is_exact, read_formula, snap

x0, x1 = sympy.symbols("x0:2", real=True)


def with_weights(unit, **weights):
    unit = unit.double()
    unit.load_state_dict({k: torch.tensor(v, dtype=torch.float64) for k, v in weights.items()})
    return unit


def test_snap_rounds_only_what_is_close():
    expr = sympy.Float(0.9999999) * x0 + sympy.Float(2e-9) * x1 + sympy.Float(0.7312)
    assert snap(expr) == x0 + sympy.Float(0.7312, 4)


def test_post_solution_with_scaled_permuted_rows_reads_as_quotient():
    # The seed post's converged run: W_in ≈ 1.005·[[0, 1], [1, 0]], W_out ≈ (−1, 1).
    unit = with_weights(
        LogExp(2, 1),
        weight_in=[[-1.71228449e-08, 1.00525062], [1.00525061, -4.72288257e-09]],
        weight_out=[[-0.99999998, 0.99999998]],
    )
    assert read_formula(unit)[0] == x0 / x1


def test_unequal_row_scales_are_kept():
    # Rows scaled 1 and 2 compute x0 / (2 x1): the constant must survive.
    unit = with_weights(LogExp(2, 1), weight_in=[[1.0, 0.0], [0.0, 2.0]], weight_out=[[1.0, -1.0]])
    formula = read_formula(unit)[0]
    assert formula == x0 / (2 * x1)
    assert not is_exact(formula, x0 / x1)


def test_quarter_squares_with_unusual_rows_read_as_product():
    # ((x0 + 2 x1)² − (x0 − 2 x1)²) / 8 = x0·x1, although no weight is 1/4.
    unit = with_weights(SquareNet(2, 1), weight_in=[[1.0, 2.0], [1.0, -2.0]], weight_out=[[0.125, -0.125]])
    assert read_formula(unit)[0] == x0 * x1


def test_approximate_weights_do_not_pass():
    unit = with_weights(LinearNet(2, 1), weight=[[1.0, 0.97]])
    formula = read_formula(unit)[0]
    assert formula.atoms(sympy.Float)
    assert not is_exact(formula, x0 + x1)


def test_fractional_power_is_read():
    unit = with_weights(LogExp(2, 1), weight_in=[[1.0, 0.0], [0.0, 1.0]], weight_out=[[0.5, 0.0]])
    assert read_formula(unit)[0] == sympy.sqrt(x0)


def test_gated_off_distractors_do_not_spoil_an_exact_formula():
    # RealNPU with gates 1 on x0, x1 and 0 on the distractors: the distractors'
    # exponents do not matter (their base is 1) and need not round.
    from arithnet.formula import rounded_formula
    from arithnet.units import UNITS

    unit = UNITS["RealNPU-mod"].build(4, 1).double()
    unit.load_state_dict(
        {
            "weight": torch.tensor([[1.0, -1.0, 0.0123, -0.0456]], dtype=torch.float64),
            "gate": torch.tensor([1.0, 1.0, 0.0, 0.0], dtype=torch.float64),
        }
    )
    formula, used = rounded_formula(unit)[0]
    assert is_exact(sympy.simplify(formula), x0 / x1)
    assert used == {x0, x1}
