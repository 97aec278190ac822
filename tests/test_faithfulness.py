"""arithnet's units against the reference codes' arithmetic (docs/faithfulness.md).

The rule: where the reference formula (written here in float64, after
stable-nalu, nalm-benchmark and nalm-division) is finite, arithnet computes
the same; arithnet's guards act only where the reference gives NaN or inf.
"""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from arithnet.engine import restart_
from arithnet.training.rules import InaluRestarts
from arithnet.training.rules.stalls import run_halves
from arithnet.units import INALU, NAU, NMRU, NMU, NPU, NRU, UNITS, RealNPU

F64 = torch.float64
#: The reference codes' ε: float32's machine epsilon (torch.finfo(torch.float).eps).
FLOAT32_EPS = torch.finfo(torch.float32).eps


def with_weights(unit, **weights):
    unit = unit.double()
    with torch.no_grad():
        for name, value in weights.items():
            getattr(unit, name).copy_(torch.as_tensor(value, dtype=F64))
    return unit


# -- 1. NMRU: the three sign rules of nalm-division -------------------------------------
def reference_nmru(x, weight, eps, training, rule, gate=None):
    """nalm-division's concat_reciprocal_nmu*.py layers, in float64 (no guard)."""
    reciprocal = 1.0 / (x + eps) if training else 1.0 / x
    features = torch.cat([x, reciprocal], -1)
    if rule == "gated":
        features = features * gate
    if rule == "product":
        return torch.prod(features[:, :, None] * weight.T[None] + 1 - weight.T[None], -2)
    k = torch.maximum(-torch.sign(features), torch.zeros_like(features)) * math.pi
    magnitude = torch.prod(features.abs()[:, :, None] * weight.T[None] + 1 - weight.T[None], -2)
    return magnitude * torch.cos(k @ weight.T)


def test_vanilla_nmru_is_the_nmu_over_signed_inputs_and_reciprocals():
    unit = with_weights(UNITS["NMRU-vanilla"].build(2, 1), weight=[[1.0, 0.0, 0.0, 1.0]]).eval()
    assert unit(torch.tensor([[-6.0, 3.0]], dtype=F64)).item() == -2.0  # arithnet gave 2 before


@pytest.mark.parametrize("rule", ["cosine", "product", "gated"])
@pytest.mark.parametrize("training", [True, False])
def test_nmru_rules_equal_the_reference_for_any_weights(rule, training):
    generator = torch.Generator().manual_seed(3)
    weight = torch.rand(2, 6, dtype=F64, generator=generator)
    gate = torch.rand(6, dtype=F64, generator=generator)
    x = (torch.rand(50, 3, dtype=F64, generator=generator) * 8 - 4).clamp_min(-3.9)
    x = torch.where(x.abs() < 0.05, torch.full_like(x, 0.5), x)
    unit = UNITS[{"cosine": "NMRU", "product": "NMRU-vanilla", "gated": "NMRU-gated"}[rule]].build(3, 2)
    unit = with_weights(unit, weight=weight, **({"gate": gate} if rule == "gated" else {}))
    unit.train(training)
    expected = reference_nmru(x, weight, 1e-7, training, rule, gate)
    torch.testing.assert_close(unit(x), expected, rtol=1e-12, atol=0)


def test_variants_carry_their_reference_clipping():
    # nalm-division's scripts: --clip-grad-norm 1 for SignNMRU and GatedSignNMRU, none for NMRU.
    assert UNITS["NMRU"].grad_clip_norm == 1.0 and UNITS["NMRU-gated"].grad_clip_norm == 1.0
    assert UNITS["NMRU-vanilla"].grad_clip_norm is None and UNITS["NMRU-vanilla"].grad_clip_value is None
    assert UNITS["NMRU-vanilla"].build(2, 1).grad_clip_norm is None
    assert UNITS["iNALU"].grad_clip_value == 0.1 and UNITS["NAU"].grad_clip_norm is None


def test_gated_nmru_gate_is_projected_and_penalised_on_the_ramp():
    unit = with_weights(UNITS["NMRU-gated"].build(1, 1), weight=[[1.0, 0.0]], gate=[1.3, 0.25])
    # W is at {0, 1}: only the gate pays, min(|g|, |1 − g|) = (0.3 + 0.25) / 2, at the full ramp.
    torch.testing.assert_close(unit.regularization(10**6), torch.tensor(10.0 * 0.275, dtype=F64))
    unit.project_()
    assert unit.gate.tolist() == [1.0, 0.25]


# -- 2. regularizer gradients at the clamp's bounds ---------------------------------------
def nac_bias(w):  # stable-nalu Regualizer._nac_bias_linear
    return torch.mean(torch.min(w.abs(), (1 - w.abs()).abs()))


def mnac_bias(w):  # stable-nalu Regualizer._mnac_bias_linear
    return torch.mean(torch.min(w.abs(), (1 - w).abs()))


def gradient(function, value):
    w = torch.tensor(value, dtype=F64, requires_grad=True)
    function(w).backward()
    return w.grad


def unit_gradient(unit, name, value, step=10**7):
    with torch.no_grad():
        getattr(unit, name).copy_(torch.tensor(value, dtype=F64))
    parameter = getattr(unit, name)
    parameter.grad = None
    unit.regularization(step).sum().backward()
    return parameter.grad


@pytest.mark.parametrize(
    ("make", "reference", "values"),
    [
        (lambda: NAU(3, 1).double(), nac_bias, [[-1.0, 0.0, 1.0], [0.5, -0.5, 0.25]]),
        (lambda: NRU(3, 1).double(), nac_bias, [[-1.0, 0.0, 1.0], [0.5, -0.5, 0.25]]),
        (lambda: NMU(3, 1).double(), mnac_bias, [[0.0, 0.5, 1.0], [0.25, 0.75, 0.0]]),
        (lambda: NMRU(2, 1).double(), mnac_bias, [[0.0, 0.5, 1.0, 0.3]]),
    ],
    ids=["NAU", "NRU", "NMU", "NMRU"],
)
def test_regularizer_gradients_equal_the_reference_everywhere(make, reference, values):
    unit = make()
    for value in values:
        row = [value]
        expected = unit.regularization_scale * gradient(reference, row)
        torch.testing.assert_close(unit_gradient(unit, "weight", row), expected, rtol=1e-12, atol=0)
    # At the bounds and the midpoint the reference's gradient is 0 (not ±λ/n).
    bounds = [[0.0, 1.0, 0.5]] if isinstance(unit, NMU) else [[-1.0, 0.0, 1.0]]
    if isinstance(unit, NMRU):
        bounds = [[0.0, 1.0, 0.5, 1.0]]
    assert (unit_gradient(unit, "weight", bounds) == 0).all()


def test_modified_real_npu_gradients_equal_the_reference():
    unit = UNITS["RealNPU-mod"].build(2, 1).double()

    def reference(weight, gate, beta, ramp):  # nalm-division: L1 + W-NPU + g-NPU penalties
        l1 = weight.abs().sum() + gate.abs().sum()
        return beta * l1 + ramp * (torch.mean((1 - weight.abs()).abs()) + mnac_bias(gate))

    step = 80_000
    for weight, gate in [([[-1.0, 1.0]], [0.0, 1.0]), ([[0.0, 0.5]], [0.5, 0.25])]:
        w = torch.tensor(weight, dtype=F64, requires_grad=True)
        g = torch.tensor(gate, dtype=F64, requires_grad=True)
        reference(w, g, unit.l1_weight(step), unit.ramp_weight(step)).backward()
        with torch.no_grad():
            unit.weight.copy_(w), unit.gate.copy_(g)
        unit.weight.grad = unit.gate.grad = None
        unit.regularization(step).backward()
        torch.testing.assert_close(unit.weight.grad, w.grad, rtol=1e-12, atol=0)
        torch.testing.assert_close(unit.gate.grad, g.grad, rtol=1e-12, atol=0)


# -- 3. ε: every unit whose reference has one takes it as an option -----------------------
def reference_npu(x, weight_real, weight_imag, gate, eps):  # nalm-division npu.py, float64
    g = gate.clamp(0, 1)
    r = g * (x.abs() + eps) + (1 - g)
    k = g * torch.maximum(-torch.sign(x), torch.zeros_like(x)) * math.pi
    return torch.exp(torch.log(r) @ weight_real.T - k @ weight_imag.T) * torch.cos(
        k @ weight_real.T + torch.log(r) @ weight_imag.T
    )


def test_npus_and_nmru_with_the_reference_eps_equal_the_reference():
    generator = torch.Generator().manual_seed(5)
    x = torch.rand(40, 3, dtype=F64, generator=generator) * 4 - 2
    weight = torch.rand(2, 3, dtype=F64, generator=generator) * 2 - 1
    weight_imag = torch.rand(2, 3, dtype=F64, generator=generator) * 0.2
    gate = torch.tensor([0.0, 0.7, 1.0], dtype=F64)
    npu = with_weights(NPU(3, 2, eps=FLOAT32_EPS), weight_real=weight, weight_imag=weight_imag, gate=gate)
    torch.testing.assert_close(npu(x), reference_npu(x, weight, weight_imag, gate, FLOAT32_EPS), rtol=1e-12, atol=0)
    real = with_weights(RealNPU(3, 2, eps=FLOAT32_EPS), weight=weight, gate=gate)
    expected = reference_npu(x, weight, torch.zeros_like(weight), gate, FLOAT32_EPS)
    torch.testing.assert_close(real(x), expected, rtol=1e-12, atol=0)
    nmru_weight = torch.rand(2, 6, dtype=F64, generator=generator)
    nmru = with_weights(NMRU(3, 2, eps=FLOAT32_EPS), weight=nmru_weight).train()
    expected = reference_nmru(x, nmru_weight, FLOAT32_EPS, True, "cosine")
    torch.testing.assert_close(nmru(x), expected, rtol=1e-12, atol=0)
    assert npu.eps == real.eps == nmru.eps == FLOAT32_EPS


@pytest.mark.parametrize("name", ["NPU", "RealNPU", "RealNPU-mod", "NMRU", "NMRU-vanilla", "NMRU-gated", "NRU"])
def test_eps_is_an_option_defaulting_to_1e_minus_7(name):
    assert UNITS[name].build(2, 1).eps == 1e-7
    assert UNITS[name].build(2, 1, eps=FLOAT32_EPS).eps == FLOAT32_EPS


# -- 4. NRU near zero -----------------------------------------------------------------------
def reference_nru(x, weight, training):  # nalm-division mnac(mode="div"), float64
    t = torch.tanh(1000 * weight) ** 2 if training else weight.abs()
    return torch.prod(x.sign()[:, :, None] * x.abs()[:, :, None] ** weight.T * t.T + (1 - t.T), -2)


def test_nru_multiplies_tiny_inputs_exactly():
    unit = with_weights(NRU(2, 1), weight=[[1.0, 1.0]]).eval()
    torch.testing.assert_close(unit(torch.tensor([[1e-9, 2.0]], dtype=F64)), torch.tensor([[2e-9]], dtype=F64))


magnitudes = st.one_of(
    st.sampled_from([0.0, -0.0, 1e-300, -1e-12, 1e-9, 5e-324, 1e300]),
    st.floats(-1e6, 1e6, allow_nan=False),
    st.floats(-1e-6, 1e-6, allow_nan=False),
)


@settings(max_examples=300, deadline=None)
@given(
    x=st.lists(magnitudes, min_size=3, max_size=3),
    w=st.lists(st.one_of(st.sampled_from([-1.0, 0.0, 1.0, 0.5]), st.floats(-1, 1)), min_size=3, max_size=3),
    training=st.booleans(),
)
def test_nru_equals_the_reference_wherever_the_reference_is_finite(x, w, training):
    inputs = torch.tensor([x], dtype=F64)
    weight = torch.tensor([w], dtype=F64)
    expected = reference_nru(inputs, weight, training)
    unit = with_weights(NRU(3, 1), weight=weight).train(training)
    actual = unit(inputs)
    # Where the reference is NaN or inf arithnet may guard (x = 0 with W < 0 gives 1 − t);
    # a product of two factors near 1e300 overflows in both.
    if torch.isfinite(expected).all():
        torch.testing.assert_close(actual, expected, rtol=1e-11, atol=1e-300)


# -- 5. NMRU at −0.0 ----------------------------------------------------------------------
@pytest.mark.parametrize("name", ["NMRU", "NMRU-vanilla", "NMRU-gated"])
def test_nmru_guard_carries_the_sign_of_the_reference_infinity(name):
    state = UNITS[name].exact_solution("div")
    unit = with_weights(UNITS[name].build(2, 1), **state).eval()
    x = torch.tensor([[5.0, -0.0], [5.0, 0.0], [-5.0, -0.0]], dtype=F64)
    rule = unit.sign_rule
    expected = reference_nmru(x, state["weight"].double(), 1e-7, False, rule, state.get("gate"))
    assert torch.isinf(expected).all()  # the reference breaks: 5/(−0) is −inf
    actual = unit(x)
    assert torch.isfinite(actual).all()
    assert torch.equal(torch.sign(actual), torch.sign(expected))


# -- 6. iNALU's restart rules ---------------------------------------------------------------
def primer_reference(logged: dict[int, list[float]], n_steps: int, check_every: int, min_losses: int):
    """nalm-benchmark's loop for one seed: the restart epochs (0-based) it takes."""
    losses, current, restarts = [], None, []
    for epoch in range(n_steps):
        if epoch in logged:
            current = logged[epoch]
        losses.append(current)
        if epoch % check_every == 0 and epoch > 0 and len(losses) > min_losses:
            second = losses[len(losses) // 2 :]
            mean_first, mean_second = float(torch.tensor(losses[: len(losses) // 2], dtype=F64).mean()), 0.0
            mean_second = float(torch.tensor(second, dtype=F64).mean())
            std_second = float(torch.tensor(second, dtype=F64).std(correction=0))
            if mean_first <= mean_second + std_second and mean_second > 1:
                restarts.append(epoch)
                losses = []
    return restarts


def test_primer_rule_takes_the_reference_decisions_with_runs_per_log():
    n_seeds, n_steps, log_every = 4, 400, 7
    generator = torch.Generator().manual_seed(11)
    values = 1 + 3 * torch.rand(n_steps // log_every + 1, n_seeds, dtype=F64, generator=generator)
    values[20:30, 0] = 0.5  # seed 0 learns for a while
    unit = INALU(2, 1, n_seeds=n_seeds).double()
    rule = InaluRestarts(n_seeds, restart_rule="primer", stall_min_losses=30)
    assert not rule.resets_optimizer and rule.loss_history.shape == (n_seeds, 0)
    rule.on_log(0, {"valid": values[0]})  # the log at step 0 (log_step_zero)
    taken = [[] for _ in range(n_seeds)]
    for step in range(1, n_steps + 1):
        mask = rule.on_step(step, torch.zeros(n_seeds, dtype=F64))
        if mask is not None and mask.any():
            restart_(unit, mask, None, rule, [rule])
            for s in torch.nonzero(mask).flatten().tolist():
                taken[s].append(step - 1)
        if step % log_every == 0:
            rule.on_log(step, {"valid": values[step // log_every]})
    for s in range(n_seeds):
        logged = {k * log_every: float(values[k, s]) for k in range(len(values))}
        assert taken[s] == primer_reference(logged, n_steps, 10, 30), s
    assert sum(map(len, taken)) > 4
    assert rule.run_count.shape[-1] == n_steps // log_every + 1  # one run per log: bounded by steps / log_every


def test_tf_rule_splits_every_training_loss_exactly_and_redraws_from_u_minus_2_2():
    generator = torch.Generator().manual_seed(2)
    unit = INALU(2, 1, n_seeds=2).double()
    rule = InaluRestarts(2, restart_rule="tf", stall_min_losses=40, stall_check_every=10)
    losses = 2 + torch.rand(200, 2, dtype=F64, generator=generator)
    for step in range(1, 121):
        mask = rule.on_step(step, losses[step - 1])
        if step % 20 == 0:  # n = step is a multiple of 2·10: the halves fall on block edges
            seen = losses[:step]
            first, second = seen[: step // 2], seen[step // 2 :]
            stalled = (step > 40) & (first.mean(0) <= second.mean(0) + second.std(0, correction=0))
            assert mask.tolist() == stalled.tolist()
            if mask.any():
                break
        else:
            assert mask is None or not mask.any()
    assert mask.all()
    restart_(unit, torch.tensor([True, False]), None, rule, [rule])
    assert (rule.run_count[0] == 0).all() and (rule.run_count[1] > 0).any()
    drawn = torch.cat([p[0].flatten() for p in unit.parameters()])
    assert drawn.abs().max() <= 2.0 and drawn.abs().max() > 1.0  # U[−2, 2], not iNALU's initial normals
    assert not rule.resets_optimizer


def test_run_halves_cut_a_constant_run_exactly():
    # Runs 3×2.0, 4×5.0: the list [2, 2, 2, 5, 5, 5, 5] splits after 3: [2, 2, 2] | [5, 5, 5, 5].
    count = torch.tensor([3.0, 4.0], dtype=F64)
    first, second, std, n = run_halves(count, torch.tensor([2.0, 5.0], dtype=F64), torch.zeros(2, dtype=F64))
    assert (first.item(), second.item(), std.item(), n.item()) == (2.0, 5.0, 0.0, 7.0)
    count = torch.tensor([4.0, 4.0], dtype=F64)  # [2, 2, 2, 2 | 5, 5, 5, 5]... split after 4
    first, second, std, _ = run_halves(count, torch.tensor([2.0, 5.0], dtype=F64), torch.zeros(2, dtype=F64))
    assert (first.item(), second.item(), std.item()) == (2.0, 5.0, 0.0)
    count = torch.tensor([2.0, 4.0], dtype=F64)  # [2, 2, 5 | 5, 5, 5]
    first, second, std, _ = run_halves(count, torch.tensor([2.0, 5.0], dtype=F64), torch.zeros(2, dtype=F64))
    assert (first.item(), second.item(), std.item()) == (3.0, 5.0, 0.0)


def test_bad_restart_rule_and_sign_rule_are_one_line_errors():
    with pytest.raises(ValueError, match="restart_rule must be one of"):
        InaluRestarts(2, restart_rule="keras")
    with pytest.raises(ValueError, match="sign_rule must be one of"):
        NMRU(2, 1, sign_rule="abs")
