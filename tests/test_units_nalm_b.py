"""NPU, Real NPU, NRU, NMRU: what the generic suite does not cover.

Penalty schedules at chosen steps, projections, training versus evaluation
forward passes, signs, the NPU's gate gradient and complex weights, and the
faithfulness of the sympy expressions away from the exact solutions.
"""

from __future__ import annotations

import cmath
import math

import pytest
import sympy
import torch

from arithnet import UNITS
from arithnet.formula import input_symbols
from arithnet.units import NMRU, NPU, NRU, RealNPU

DOUBLE = torch.float64


def tensor(values) -> torch.Tensor:
    return torch.tensor(values, dtype=DOUBLE)


def with_weights(unit: torch.nn.Module, **values) -> torch.nn.Module:
    unit = unit.double()
    with torch.no_grad():
        for name, value in values.items():
            getattr(unit, name).copy_(tensor(value))
    return unit


def close(actual, expected, rtol=1e-12, atol=0.0):
    torch.testing.assert_close(
        torch.as_tensor(actual, dtype=DOUBLE), torch.as_tensor(expected, dtype=DOUBLE), rtol=rtol, atol=atol
    )


# -- penalties and their schedules ------------------------------------------


@pytest.mark.parametrize(
    ("step", "beta"),
    [(0, 1e-9), (9_999, 1e-9), (10_000, 1e-8), (19_999, 1e-8), (20_000, 1e-7), (50_000, 1e-7), (10**9, 1e-7)],
)
def test_npu_l1_schedule_grows_tenfold_every_10k_steps_up_to_its_end(step, beta):
    unit = with_weights(NPU(2, 1), **{k: v.tolist() for k, v in NPU.exact_solution("div").items()})
    assert unit.l1_weight(step) == pytest.approx(beta, rel=1e-12)
    # Σ|p| = |1| + |−1| + 0 + 0 + |1| + |1| = 4 (W_re, W_im, gate).
    close(unit.regularization(step), 4 * beta)


def test_npu_l1_schedule_for_multiplication_is_an_option():
    unit = NPU(2, 1, l1_start=1e-7, l1_end=1e-5)
    assert [unit.l1_weight(s) for s in (0, 10_000, 20_000, 30_000)] == pytest.approx([1e-7, 1e-6, 1e-5, 1e-5])


def test_npu_l1_counts_every_parameter_per_seed():
    unit = with_weights(
        NPU(2, 1, n_seeds=2),
        weight_real=[[[0.5, -1.0]], [[0.0, 2.0]]],
        weight_imag=[[[0.25, 0.0]], [[-0.5, 0.0]]],
        gate=[[1.0, 0.5], [0.0, -0.25]],
    )
    penalty = unit.regularization(0)
    assert penalty.shape == (2,)
    close(penalty, [1e-9 * 3.25, 1e-9 * 2.75])


def test_real_npu_penalty_is_l1_only():
    unit = with_weights(RealNPU(2, 1), weight=[[0.5, -0.25]], gate=[0.2, 0.9])
    assert unit.regularization(0).shape == ()
    close(unit.regularization(62_500), 1e-7 * 1.85)


@pytest.mark.parametrize(("step", "ramp"), [(0, 0.0), (50_000, 0.0), (62_500, 0.5), (75_000, 1.0), (200_000, 1.0)])
def test_modified_real_npu_adds_ramped_sign_and_gate_penalties(step, ramp):
    unit = with_weights(UNITS["RealNPU-mod"].build(2, 1), weight=[[0.5, -0.25]], gate=[0.2, 0.9])
    assert unit.ramp_weight(step) == ramp
    # L1: Σ|p| = 1.85; mean|1 − |W|| = (0.5 + 0.75)/2; mean min(g, 1 − g) = (0.2 + 0.1)/2.
    close(unit.regularization(step), unit.l1_weight(step) * 1.85 + ramp * (0.625 + 0.15))


def test_modified_real_npu_ramp_for_input_2_is_an_option():
    unit = RealNPU(2, 1, modified=True, regularization_start=40_000, regularization_end=50_000)
    assert [unit.ramp_weight(s) for s in (40_000, 45_000, 50_000)] == [0.0, 0.5, 1.0]


@pytest.mark.parametrize(("step", "scale"), [(0, 0.0), (50_000, 0.0), (62_500, 5.0), (75_000, 10.0), (10**7, 10.0)])
def test_nru_penalty_is_the_nau_penalty_on_a_ramp_to_10(step, scale):
    unit = with_weights(NRU(2, 1), weight=[[0.3, -0.8]])
    # min(|W|, 1 − |W|) = (0.3, 0.2): mean 0.25.
    close(unit.regularization(step), scale * 0.25)


@pytest.mark.parametrize(("step", "scale"), [(0, 0.0), (56_250, 2.5), (75_000, 10.0)])
def test_nmru_penalty_is_the_nmu_penalty_on_a_ramp_to_10(step, scale):
    unit = with_weights(NMRU(2, 1), weight=[[0.1, 0.6, 1.0, 0.0]])
    # min(W, 1 − W) = (0.1, 0.4, 0, 0): mean 0.125.
    close(unit.regularization(step), scale * 0.125)


def test_ramp_penalties_have_one_value_per_seed():
    nru = with_weights(NRU(2, 1, n_seeds=2), weight=[[[0.3, -0.8]], [[1.0, 0.5]]])
    close(nru.regularization(75_000), [10 * 0.25, 10 * 0.25])
    nmru = with_weights(NMRU(2, 1, n_seeds=3), weight=[[[0.1, 0.6, 1.0, 0.0]], [[0.5] * 4], [[1.0, 0.0, 0.0, 1.0]]])
    close(nmru.regularization(75_000), [1.25, 5.0, 0.0])


def test_input_2_ramp_of_the_primer_is_an_option():
    unit = with_weights(NRU(2, 1, regularization_start=20_000, regularization_end=35_000), weight=[[0.3, -0.8]])
    close(unit.regularization(27_500), 5.0 * 0.25)


# -- projections ------------------------------------------------------------


def test_projections_clamp_in_place():
    nru = with_weights(NRU(2, 1), weight=[[1.5, -2.0]])
    nru.project_()
    close(nru.weight, [[1.0, -1.0]])

    nmru = with_weights(NMRU(2, 1), weight=[[1.2, -0.1, 0.5, 1.0]])
    nmru.project_()
    close(nmru.weight, [[1.0, 0.0, 0.5, 1.0]])

    modified = with_weights(UNITS["RealNPU-mod"].build(2, 1), weight=[[1.5, -1.2]], gate=[1.3, -0.4])
    modified.project_()
    close(modified.weight, [[1.0, -1.0]])
    close(modified.gate, [1.0, 0.0])


def test_npu_and_plain_real_npu_are_not_projected():
    npu = with_weights(NPU(2, 1), weight_real=[[2.0, -3.0]], weight_imag=[[1.5, 0.0]], gate=[1.3, -0.4])
    real = with_weights(RealNPU(2, 1), weight=[[2.0, -3.0]], gate=[1.3, -0.4])
    npu.project_()
    real.project_()
    close(npu.gate, [1.3, -0.4])
    close(real.weight, [[2.0, -3.0]])
    close(real.gate, [1.3, -0.4])


# -- NRU: training and evaluation --------------------------------------------


def test_nru_selects_with_steep_tanh_in_training_and_abs_weight_at_evaluation():
    unit = with_weights(NRU(2, 1), weight=[[0.5, -0.5]])
    x = tensor([[4.0, 16.0]])
    # Training: tanh(500)² = 1, so y = 4^0.5 · 16^−0.5.
    close(unit.train()(x), [[0.5]])
    # Evaluation: t = |W| = 0.5, so y = (0.5·2 + 0.5)·(0.5·0.25 + 0.5).
    close(unit.eval()(x), [[1.5 * 0.625]])


def test_nru_small_weight_is_mostly_selected_in_training_only():
    unit = with_weights(NRU(1, 1), weight=[[0.001]])
    x = tensor([[-3.0]])
    t = math.tanh(1.0) ** 2
    close(unit.train()(x), [[-(3.0**0.001) * t + 1 - t]])
    close(unit.eval()(x), [[-(3.0**0.001) * 0.001 + 0.999]])


def test_nru_keeps_signs_and_zero_inputs_give_zero():
    unit = with_weights(NRU(2, 1), **{k: v.tolist() for k, v in NRU.exact_solution("div").items()}).eval()
    x = tensor([[-6.0, 3.0], [6.0, -3.0], [-6.0, -3.0], [3.0, 0.0], [0.0, 3.0]]).requires_grad_(True)
    y = unit(x)[:, 0]
    # sign(0) = 0 (the paper's formula): 3/0 reads as 0, and 0/3 is exactly 0.
    close(y, [-2.0, -2.0, 2.0, 0.0, 0.0])
    y.sum().backward()
    assert torch.isfinite(x.grad).all() and torch.isfinite(unit.weight.grad).all()


# -- NMRU: signs, training and evaluation -------------------------------------


def test_every_nmru_sign_rule_keeps_signs_at_its_solution():
    x = tensor([[-6.0, 3.0], [6.0, -3.0], [-6.0, -3.0], [6.0, 3.0]])
    for name in ("NMRU", "NMRU-vanilla", "NMRU-gated"):
        state = {k: v.tolist() for k, v in UNITS[name].exact_solution("div").items()}
        unit = with_weights(UNITS[name].build(2, 1), **state).eval()
        # The vanilla NMRU multiplies the signed x′ (nalm-division): its sign comes out of the product.
        close(unit(x)[:, 0], [-2.0, -2.0, 2.0, 2.0])
        assert unit.handles_signs


def test_nmru_uses_shifted_reciprocal_in_training_and_exact_one_at_evaluation():
    unit = with_weights(NMRU(2, 1), **{k: v.tolist() for k, v in NMRU.exact_solution("div").items()})
    x = tensor([[-6.0, 3.0]])
    close(unit.train()(x), [[-6.0 / (3.0 + 1e-7)]])
    close(unit.eval()(x), [[-2.0]])


@pytest.mark.parametrize("training", [True, False])
def test_nmru_reciprocal_of_zero_is_one_over_eps(training):
    unit = with_weights(NMRU(2, 1), **{k: v.tolist() for k, v in NMRU.exact_solution("div").items()})
    unit.train(training)
    # x1 = −ε would give 1/0 in training; x1 = 0 would give 1/0 at evaluation.
    x = tensor([[3.0, 0.0], [3.0, -1e-7]]).requires_grad_(True)
    y = unit(x)[:, 0]
    y.sum().backward()
    assert torch.isfinite(x.grad).all() and torch.isfinite(unit.weight.grad).all()
    close(y[0], 3e7)
    close(y[1].abs(), 3e7 if training else 3.0 / 1e-7, rtol=1e-9)


def test_nmru_sign_term_is_the_cosine_for_fractional_weights():
    unit = with_weights(NMRU(1, 1), weight=[[0.5, 0.25]]).eval()
    x = tensor([[-4.0]])
    # (0.5·4 + 0.5)·(0.25·0.25 + 0.75)·cos(π·(0.5 + 0.25))
    close(unit(x), [[2.5 * 0.8125 * math.cos(0.75 * math.pi)]])


def test_nmru_declares_its_papers_training_settings():
    assert NMRU.default_lr == 1e-2
    assert NMRU.grad_clip_norm == 1.0
    assert NMRU(3, 2).weight.shape == (2, 6)


# -- NPU: gate gradient and complex weights -----------------------------------


def npu_gate_gradient(gate: list[float], gate_gradient: str) -> torch.Tensor:
    unit = with_weights(
        NPU(2, 1, gate_gradient=gate_gradient), weight_real=[[1.0, -1.0]], weight_imag=[[0.0, 0.0]], gate=gate
    )
    unit(tensor([[2.0, -3.0], [5.0, 0.5]])).sum().backward()
    return unit.gate.grad


def test_npu_gate_gradient_clamp_stops_outside_the_box_straight_through_does_not():
    outside = [1.5, -0.5]
    assert (npu_gate_gradient(outside, "clamp") == 0).all()
    straight = npu_gate_gradient(outside, "straight_through")
    assert (straight != 0).all()
    # Straight-through passes the gradient taken at the clipped gate ĝ = (1, 0).
    close(straight, npu_gate_gradient([1.0, 0.0], "clamp"))


def test_npu_gate_options_agree_inside_the_box_and_in_value():
    inside = [0.3, 0.8]
    close(npu_gate_gradient(inside, "straight_through"), npu_gate_gradient(inside, "clamp"))
    x = tensor([[2.0, -3.0]])
    weights = {"weight_real": [[1.0, -1.0]], "weight_imag": [[0.0, 0.0]], "gate": [1.5, -0.5]}
    values = [with_weights(NPU(2, 1, gate_gradient=g), **weights)(x) for g in ("straight_through", "clamp")]
    close(values[0], values[1], rtol=0)
    close(values[0], [[2.0 + 1e-7]])  # ĝ = (1, 0): x0 only, x1 replaced by 1


def test_npu_rejects_unknown_gate_gradient():
    with pytest.raises(ValueError, match="gate_gradient"):
        NPU(2, 1, gate_gradient="sigmoid")


def npu_oracle(x: list[float], w_real: list[float], w_imag: list[float], gate: list[float], eps=1e-7) -> float:
    """Re exp(Σ w_i · Log b_i) with b_i = r_i·e^{ik_i}, by cmath."""
    total = 0j
    for xi, a, b, g in zip(x, w_real, w_imag, gate):
        r = g * (abs(xi) + eps) + 1 - g
        k = g * math.pi * (xi < 0)
        total += complex(a, b) * complex(math.log(r), k)
    return cmath.exp(total).real


def test_npu_complex_weights_match_a_cmath_oracle():
    w_real, w_imag, gate = [0.7, -1.3, 0.4], [0.2, -0.6, 0.9], [0.9, 0.35, 1.0]
    unit = with_weights(NPU(3, 1), weight_real=[w_real], weight_imag=[w_imag], gate=gate)
    points = [[1.5, -2.0, 0.3], [-0.7, 4.0, -2.5], [0.0, -1e-3, 6.0]]
    close(unit(tensor(points))[:, 0], [npu_oracle(p, w_real, w_imag, gate) for p in points], rtol=1e-10)


def test_real_npu_cosine_makes_integer_powers_signed():
    unit = with_weights(RealNPU(2, 1), weight=[[2.0, -1.0]], gate=[1.0, 1.0])
    x = tensor([[-3.0, 2.0], [-3.0, -2.0]])
    close(unit(x)[:, 0], [(9.0 + 6e-7 + 1e-14) / (2.0 + 1e-7), -(9.0 + 6e-7 + 1e-14) / (2.0 + 1e-7)])


# -- initialisation and registry ----------------------------------------------


def test_initial_weights_follow_the_papers():
    torch.manual_seed(0)
    npu = NPU(3, 2, n_seeds=50)
    bound = math.sqrt(6 / 5)
    assert npu.weight_real.abs().max() <= bound and npu.weight_real.abs().max() > 0.5
    assert (npu.weight_imag == 0).all() and (npu.gate == 0.5).all()
    modified = UNITS["RealNPU-mod"].build(3, 2, 50)
    assert modified.weight.abs().max() <= 0.5 and (modified.gate == 0.5).all()
    assert NRU(3, 2, n_seeds=50).weight.abs().max() <= 0.5
    nmru = NMRU(3, 2, n_seeds=50).weight
    assert nmru.min() >= 0.25 and nmru.max() <= 0.75


def test_variants_are_options():
    modified = UNITS["RealNPU-mod"].build(2, 1)
    assert isinstance(modified, RealNPU) and modified.modified and modified.gate_gradient == "clamp"
    vanilla = UNITS["NMRU-vanilla"].build(2, 1)
    assert isinstance(vanilla, NMRU) and vanilla.sign_rule == "product"
    gated = UNITS["NMRU-gated"].build(2, 1)
    assert isinstance(gated, NMRU) and gated.sign_rule == "gated" and (gated.gate == 0.5).all()


@pytest.mark.parametrize("name", ["NPU", "RealNPU", "NRU", "NMRU"])
def test_exact_solution_with_distractor_inputs(name):
    unit = UNITS[name].build(5, 1).double().eval()
    unit.load_state_dict({k: v.double() for k, v in unit.exact_solution("div", 5).items()})
    x = tensor([[-6.0, 3.0, 7.0, -0.5, 0.0]])
    close(unit(x), [[-2.0]], rtol=1e-6)
    with pytest.raises(ValueError):
        unit.exact_solution("add")


# -- expressions away from the exact solutions ----------------------------------


def expression_value(unit, point: list[float]) -> float:
    symbols = input_symbols(unit.in_features)
    expression = unit.expression(symbols)[0]
    return complex(sympy.N(expression.subs(dict(zip(symbols, point))), 30)).real


@pytest.mark.parametrize(
    ("unit", "point"),
    [
        (with_weights(NPU(2, 1), weight_real=[[0.7, -1.3]], weight_imag=[[0.2, -0.6]], gate=[0.9, 0.35]), [-1.5, 2.5]),
        (with_weights(RealNPU(2, 1), weight=[[0.6, -1.0]], gate=[1.0, 0.7]), [-2.0, -3.0]),
        (with_weights(NRU(2, 1), weight=[[0.4, -0.7]]).eval(), [-2.0, 3.0]),
        (with_weights(NRU(2, 1), weight=[[0.4, -0.7]]), [-2.0, 3.0]),
        (with_weights(NMRU(2, 1), weight=[[0.3, 0.9, 0.6, 0.2]]).eval(), [-2.0, 3.0]),
        (with_weights(NMRU(2, 1), weight=[[0.3, 0.9, 0.6, 0.2]]), [-2.0, -3.0]),
    ],
    ids=["NPU", "RealNPU", "NRU-eval", "NRU-train", "NMRU-eval", "NMRU-train"],
)
def test_expression_equals_forward_for_fractional_weights_and_negative_inputs(unit, point):
    expected = unit(tensor([point]))[0, 0].item()
    assert expression_value(unit, point) == pytest.approx(expected, rel=1e-9, abs=1e-12)


def test_vanilla_nmru_expression_is_written_for_positive_inputs():
    unit = with_weights(UNITS["NMRU-vanilla"].build(2, 1), weight=[[0.3, 0.9, 0.6, 0.2]]).eval()
    point = [2.0, 3.0]
    assert expression_value(unit, point) == pytest.approx(unit(tensor([point]))[0, 0].item(), rel=1e-12)
