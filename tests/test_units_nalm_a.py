"""NAC, NALU, iNALU, NAU, NMU: what the generic suite does not cover.

Regularizers and their schedules at chosen steps, projections, iNALU's
training protocol (regularizer switch, gradient clipping, stall detection and
re-initialisation), the NAC initialisation and the G-NALU variant.
"""

from __future__ import annotations

import math

import pytest
import torch

from arithnet import UNITS
from arithnet.engine import restart_
from arithnet.random import stream_keys
from arithnet.schedules import ramp as regularization_ramp
from arithnet.training.rules import InaluRestarts, inalu_restarts
from arithnet.training.rules.stalls import loss_stalled
from arithnet.units import INALU, NALU, NAU, NMU, NACMul, Sampler
from arithnet.units.nac import nac_uniform_bound, nac_weight_variance
from arithnet.units.nalu import GOLDEN_SCALE

F64 = torch.float64


def tensor(values) -> torch.Tensor:
    return torch.tensor(values, dtype=F64)


def set_parameters(unit: torch.nn.Module, **values) -> None:
    with torch.no_grad():
        for name, value in values.items():
            getattr(unit, name).copy_(torch.as_tensor(value, dtype=F64))


# -- regularization ramp -------------------------------------------------------------
@pytest.mark.parametrize(
    ("step", "expected"), [(0, 0.0), (5_000, 0.0), (16_250, 0.0025), (27_500, 0.005), (50_000, 0.01), (10**7, 0.01)]
)
def test_ramp_is_linear_between_start_and_end(step, expected):
    assert regularization_ramp(step, 0.01, 5_000, 50_000) == pytest.approx(expected, rel=1e-12, abs=1e-15)


def test_ramp_with_start_equal_to_end_is_a_step():
    assert regularization_ramp(99, 2.0, 100, 100) == 0.0
    assert regularization_ramp(100, 2.0, 100, 100) == 2.0


# -- NAU ------------------------------------------------------------------------------
def nau_with(weight, n_seeds=None, **options) -> NAU:
    unit = NAU(2, 1, n_seeds=n_seeds, **options).double()
    set_parameters(unit, weight=weight)
    return unit


@pytest.mark.parametrize(("step", "expected"), [(0, 0.0), (5_000, 0.0), (27_500, 0.00125), (50_000, 0.0025)])
def test_nau_regularization_follows_the_iclr_schedule(step, expected):
    # min(|0.3|, 0.7) = 0.3 and min(|−0.8|, 0.2) = 0.2: mean 0.25, times λ(t) with λ̂ = 0.01.
    penalty = nau_with([[0.3, -0.8]]).regularization(step)
    assert penalty.shape == ()
    assert penalty.item() == pytest.approx(expected, rel=1e-12, abs=1e-15)


def test_nau_regularization_has_one_value_per_seed_and_options():
    unit = nau_with([[[0.3, -0.8]], [[1.0, 0.0]], [[-0.5, 0.5]]], n_seeds=3, regularization_scale=1.0,
                    regularization_start=10, regularization_end=20)  # fmt: skip
    torch.testing.assert_close(unit.regularization(15), tensor([0.125, 0.0, 0.25]))
    torch.testing.assert_close(unit.regularization(20), tensor([0.25, 0.0, 0.5]))


def test_nau_rejects_a_ramp_that_ends_before_it_starts():
    with pytest.raises(ValueError, match="regularization_end"):
        NAU(2, 1, regularization_start=10, regularization_end=5)


def test_nau_projection_and_forward_clamp():
    unit = nau_with([[1.7, -3.0]])
    x = tensor([[2.0, 5.0]])
    torch.testing.assert_close(unit(x), tensor([[-3.0]]))  # forward already reads W as [1, −1]
    unit.project_()
    torch.testing.assert_close(unit.weight.detach(), tensor([[1.0, -1.0]]))
    seeded = nau_with([[[0.4, -1.2]], [[2.0, -0.1]]], n_seeds=2)
    seeded.project_()
    torch.testing.assert_close(seeded.weight.detach(), tensor([[[0.4, -1.0]], [[1.0, -0.1]]]))


def test_nau_initial_bound():
    unit = NAU(100, 100)  # √3·√(2/200) ≈ 0.173 < 0.5
    bound = math.sqrt(3.0) * math.sqrt(2.0 / 200)
    assert unit.weight.abs().max() <= bound
    assert unit.weight.abs().max() > 0.9 * bound
    assert NAU(2, 1).weight.abs().max() <= 0.5


# -- NMU ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("step", "expected"), [(0, 0.0), (1_000_000, 0.0), (1_500_000, 0.75), (2_000_000, 1.5), (5_000_000, 1.5)]
)
def test_nmu_regularization_follows_the_iclr_schedule(step, expected):
    # min(0.2, 0.8) = 0.2 and min(0.9, 0.1) = 0.1: mean 0.15, times λ(t) with λ̂ = 10.
    unit = NMU(2, 1).double()
    set_parameters(unit, weight=[[0.2, 0.9]])
    assert unit.regularization(step).item() == pytest.approx(expected, rel=1e-12, abs=1e-15)


def test_nmu_regularization_per_seed_and_projection():
    unit = NMU(2, 1, n_seeds=2, regularization_start=0, regularization_end=100).double()
    set_parameters(unit, weight=[[[0.2, 0.9]], [[-0.5, 1.3]]])
    unit.project_()
    torch.testing.assert_close(unit.weight.detach(), tensor([[[0.2, 0.9]], [[0.0, 1.0]]]))
    torch.testing.assert_close(unit.regularization(50), tensor([0.75, 0.0]))


def test_nmu_initial_weights_lie_in_the_middle():
    weight = NMU(50, 50).weight
    assert 0.25 <= weight.min() and weight.max() <= 0.75


# -- NAC ------------------------------------------------------------------------------
@pytest.mark.parametrize(("in_features", "out_features"), [(2, 1), (10, 1), (100, 2)])
def test_nac_bound_gives_fan_times_variance_two(in_features, out_features):
    r = nac_uniform_bound(in_features, out_features)
    fan = max(in_features + out_features, 5)
    # Independent oracle: E[tanh²(u)]·E[σ²(v)] by the midpoint rule on U[−r, r].
    u = -r + 2 * r * (torch.arange(200_000, dtype=F64) + 0.5) / 200_000
    variance = torch.tanh(u).square().mean() * torch.sigmoid(u).square().mean()
    assert fan * float(variance) == pytest.approx(2.0, rel=1e-6)
    assert fan * nac_weight_variance(r) == pytest.approx(2.0, rel=1e-12)


def test_nac_bound_for_two_inputs():
    assert nac_uniform_bound(2, 1) == pytest.approx(9.4714, abs=1e-4)  # fan = max(3, 5) = 5


def test_nac_mul_loses_the_sign_and_clamps_its_exponent():
    unit = NACMul(2, 1).double()
    unit.load_state_dict(NACMul.exact_solution("mul"))
    y = unit(tensor([[-2.0, 3.0], [-2.0, -3.0]]))[:, 0]
    torch.testing.assert_close(y, tensor([6.0, 6.0]), rtol=1e-6, atol=0)
    # 100 zero inputs with W = −1 would be exp(100·16.1): clamped at exp(60).
    wide = NACMul(100, 1).double()
    set_parameters(wide, weight_hat=torch.full((1, 100), -20.0), mask_hat=torch.full((1, 100), 40.0))
    torch.testing.assert_close(wide(torch.zeros(1, 100, dtype=F64)), tensor([[math.exp(60.0)]]))


# -- NALU and G-NALU --------------------------------------------------------------------
def test_golden_nalu_is_nalu_with_pre_activations_scaled_by_ln_phi():
    assert GOLDEN_SCALE == pytest.approx(0.4812118250596, rel=1e-12)
    golden = UNITS["G-NALU"].build(2, 1).double()
    plain = UNITS["NALU"].build(2, 1).double()
    assert golden.golden and not plain.golden
    state = {
        "weight_hat": tensor([[1.5, -0.7]]),
        "mask_hat": tensor([[0.4, 2.0]]),
        "gate_weight": tensor([[0.9, -0.3]]),
    }
    golden.load_state_dict(state)
    plain.load_state_dict(state)
    x = tensor([[1.3, 0.7], [-2.0, 4.0], [0.0, 3.0]])
    assert not torch.allclose(golden(x), plain(x))
    plain.load_state_dict({name: GOLDEN_SCALE * value for name, value in state.items()})
    torch.testing.assert_close(golden(x), plain(x), rtol=1e-14, atol=0)


def test_nalu_gate_mixes_the_two_paths():
    unit = NALU(2, 1).double()
    set_parameters(unit, weight_hat=[[20.0, 20.0]], mask_hat=[[40.0, 40.0]], gate_weight=[[0.0, 0.0]])
    # g = σ(0) = 1/2: half the sum plus half the product.
    torch.testing.assert_close(unit(tensor([[2.0, 3.0]])), tensor([[0.5 * 5.0 + 0.5 * 6.0]]), rtol=1e-6, atol=0)


def test_nalu_has_no_exact_solution():
    assert NALU.operations == frozenset()
    with pytest.raises(ValueError, match="1/2 at x = 0"):
        NALU.exact_solution("add")


# -- iNALU: regularizer ------------------------------------------------------------------
def inalu_with(n_seeds=None, **options) -> INALU:
    unit = INALU(2, 1, n_seeds=n_seeds, **options).double()
    shape = (2, 1, 2) if n_seeds else (1, 2)
    # relu(20 − |p|) means: 15 and 0 → 7.5; 0; 0; 10; gate 20. Sum 37.5, times 0.05.
    set_parameters(
        unit,
        add_weight_hat=torch.tensor([[5.0, 25.0]]).expand(shape),
        add_mask_hat=torch.full(shape, -25.0),
        mul_weight_hat=torch.full(shape, 30.0),
        mul_mask_hat=torch.full(shape, -10.0),
        gate_hat=torch.zeros(shape[:-1]),
    )
    return unit


def test_inalu_regularization_waits_for_the_trainer_and_step_10000():
    unit = inalu_with()
    assert unit.regularization(20_000).item() == 0.0  # no MSE reported yet
    unit.observe_interpolation_mse(0.5)
    assert unit.regularization(10_000).item() == 0.0
    assert unit.regularization(10_001).item() == pytest.approx(1.875, rel=1e-12)
    unit.observe_interpolation_mse(1.0)  # not below 1
    assert unit.regularization(20_000).item() == 0.0
    unit.observe_interpolation_mse(float("nan"))
    assert unit.regularization(20_000).item() == 0.0


def test_inalu_regularization_per_seed_and_its_gradient():
    unit = inalu_with(n_seeds=2, regularization_start=0)
    unit.observe_interpolation_mse(tensor([0.5, 3.0]))
    penalty = unit.regularization(1)
    torch.testing.assert_close(penalty, tensor([1.875, 0.0]))
    penalty.sum().backward()
    # d/dp 0.05·mean(relu(20 − |p|)) = −0.05·sign(p)/2 where |p| < 20, else 0.
    torch.testing.assert_close(unit.add_weight_hat.grad, tensor([[[-0.025, 0.0]], [[0.0, 0.0]]]))
    torch.testing.assert_close(unit.mul_mask_hat.grad, tensor([[[0.025, 0.025]], [[0.0, 0.0]]]))


# -- iNALU: stalls and restarts ------------------------------------------------------------
def feed(rule: InaluRestarts, losses, last_step: int):
    """Hand ``losses`` (T, ...) to ``on_step`` as steps last_step − T + 1, …, last_step; the last answer."""
    answer = None
    for offset, loss in enumerate(torch.as_tensor(losses, dtype=F64)):
        answer = rule.on_step(last_step - len(losses) + 1 + offset, loss)
    return answer


def test_inalu_stall_test_on_a_small_window():
    def stalled(losses, step):
        answer = feed(InaluRestarts(stall_window=4), losses, step)
        return answer is not None and bool(answer)

    # Halves [3, 3] and [2, 4]: 3 ≤ 3 + 1 and 3 > 1: stalled.
    assert stalled([3.0, 3.0, 2.0, 4.0], step=10)
    # Only the last window counts: the early 100s do not make it look like progress.
    assert stalled([100.0, 100.0, 3.0, 3.0, 2.0, 4.0], step=20)
    assert feed(InaluRestarts(stall_window=4), [3.0, 3.0, 2.0, 4.0], 15) is None  # checked every 10 steps
    assert not stalled([9.0, 7.0, 2.0, 4.0], step=10)  # 8 > 3 + 1: still learning
    assert not stalled([0.9, 0.9, 0.9, 0.9], step=10)  # low loss: not stalled
    assert not stalled([3.0, 2.0, 4.0], step=10)  # window not full yet
    assert not stalled([3.0, float("nan"), 2.0, 4.0], step=10)  # before a restart


def test_inalu_stall_rule_on_losses_oldest_first():
    # The pure rule, time last: the same verdicts as above.
    losses = tensor([[3.0, 3.0, 2.0, 4.0], [9.0, 7.0, 2.0, 4.0], [0.9, 0.9, 0.9, 0.9], [3.0, math.nan, 2.0, 4.0]])
    assert loss_stalled(losses, 4, 1.0).tolist() == [True, False, False, False]
    assert loss_stalled(losses[:, 1:], 4, 1.0).tolist() == [False] * 4


def test_inalu_stall_test_with_the_paper_window_per_seed():
    steps = torch.arange(6_000, dtype=F64)
    losses = torch.stack([torch.full_like(steps, 5.0), 10.0 - steps / 1_000, torch.full_like(steps, 0.5)], dim=1)
    rule = InaluRestarts(3)
    assert rule.loss_history.shape == (3, 5_000)
    assert feed(rule, losses, 6_000).tolist() == [True, False, False]
    assert feed(InaluRestarts(3), losses[:4_990], 4_990).tolist() == [False, False, False]
    # reinitialize_on_stall=False: no restart rule at all, so nothing ever asks for a restart.
    assert inalu_restarts(INALU(2, 1, n_seeds=3), reinitialize_on_stall=False) == []


def test_inalu_restart_forgets_the_seeds_losses():
    unit, rule = INALU(2, 1, n_seeds=2), InaluRestarts(2, stall_window=4)
    assert feed(rule, [[5.0, 5.0]] * 4, 10).tolist() == [True, True]
    restart_(unit, torch.tensor([True, False]), Sampler(stream_keys([0, 1])), rule, [rule])
    assert rule.loss_history[0].isnan().all() and not rule.loss_history[1].isnan().any()
    # Seed 0 needs a full window of its own losses again; seed 1 still stalls.
    assert feed(rule, [[5.0, 5.0]] * 10, 20).tolist() == [True, True]
    restart_(unit, torch.tensor([True, False]), Sampler(stream_keys([0, 1])), rule, [rule])
    assert feed(rule, [[5.0, 5.0]] * 3, 30).tolist() == [False, True]


def test_inalu_loss_history_stays_float64_in_a_float32_unit():
    (rule,) = inalu_restarts(INALU(2, 1, n_seeds=2).float(), stall_window=4)
    assert feed(rule, torch.full((4, 2), 5.0), 10).tolist() == [True, True]
    assert rule.loss_history.dtype == F64


def test_inalu_reinitializes_only_the_masked_seeds_from_their_own_streams():
    unit = INALU(2, 1, n_seeds=3).double()
    with torch.no_grad():
        for parameter in unit.parameters():
            parameter.fill_(123.0)
    unit.observe_interpolation_mse(tensor([0.1, 0.1, 0.1]))
    restart_(unit, torch.tensor([True, False, True]), Sampler(stream_keys([0, 1, 2])))
    assert unit.interpolation_fit.tolist() == [False, True, False]
    fresh = INALU(2, 1, n_seeds=1).double()
    fresh.reset_parameters(Sampler(stream_keys([2])))
    for name, parameter in unit.named_parameters():
        assert (parameter[1] == 123.0).all(), name
        assert (parameter[0] != 123.0).all(), name
        torch.testing.assert_close(parameter[2], getattr(fresh, name)[0], rtol=0, atol=0, msg=name)


def test_inalu_reinitialize_without_seeds():
    unit = INALU(2, 1).double()
    before = {name: p.detach().clone() for name, p in unit.named_parameters()}
    restart_(unit, torch.tensor(False))
    assert all(torch.equal(p, before[name]) for name, p in unit.named_parameters())
    restart_(unit, torch.tensor(True))
    assert not any(torch.equal(p, before[name]) for name, p in unit.named_parameters())


# -- iNALU: forward ---------------------------------------------------------------------------
def test_inalu_recovers_signs_and_clamps_the_product():
    unit = INALU(2, 1).double()
    unit.load_state_dict(INALU.exact_solution("div"))
    y = unit(tensor([[-6.0, 3.0], [6.0, -3.0], [-6.0, -3.0], [0.0, 3.0]]))[:, 0]
    torch.testing.assert_close(y, tensor([-2.0, -2.0, 2.0, 0.0]), rtol=1e-14, atol=0)
    unit.load_state_dict(INALU.exact_solution("mul"))
    torch.testing.assert_close(unit(tensor([[1e5, -1e5]]))[:, 0], tensor([-math.exp(20.0)]))  # exp(min(23.0, 20))


def test_exact_solutions_with_ten_inputs_ignore_the_distractors():
    x = 0.5 + torch.rand(6, 10, dtype=F64, generator=torch.Generator().manual_seed(3))
    targets = {"add": x[:, 0] + x[:, 1], "sub": x[:, 0] - x[:, 1], "mul": x[:, 0] * x[:, 1], "div": x[:, 0] / x[:, 1]}
    for name in ["NAC+", "NAC*", "iNALU", "NAU", "NMU"]:
        spec = UNITS[name]
        for operation in spec.operations:
            unit = spec.build(10, 1).double()
            unit.load_state_dict(spec.cls.exact_solution(operation, in_features=10))
            torch.testing.assert_close(unit(x)[:, 0], targets[operation], rtol=spec.cls.exact_rtol, atol=0)
