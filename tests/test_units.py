"""One suite over every registered unit: exact solutions, finiteness, gradients, seeds."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from arithnet import UNITS, get_operation, is_exact, read_formula
from arithnet.formula import input_symbols
from arithnet.units import Sampler
from arithnet.random import stream_keys

UNIT_OPERATIONS = [(name, op) for name, spec in UNITS.items() for op in sorted(spec.operations)]


def make(name: str, n_seeds: int | None = None):
    torch.manual_seed(0)
    return UNITS[name].build(2, 1, n_seeds).double()


def solved(name: str, operation: str):
    unit = make(name)
    state = {key: value.double() for key, value in unit.exact_solution(operation).items()}
    unit.load_state_dict(state)
    return unit


@pytest.mark.parametrize(("name", "operation"), UNIT_OPERATIONS)
def test_exact_output_at_known_solution(name, operation):
    unit = solved(name, operation)
    magnitudes = torch.tensor([[1.5, 0.25], [3.0, 7.0], [1e3, 2.5e-2], [12.0, 4.0]], dtype=torch.float64)
    signs = torch.tensor([[1.0, 1.0], [-1.0, 1.0], [1.0, -1.0], [-1.0, -1.0]], dtype=torch.float64)
    x = (magnitudes[:, None, :] * signs[None, :, :]).reshape(-1, 2) if unit.handles_signs else magnitudes
    expected = get_operation(operation).target(x)
    # Default rtol 1e-10: the quarter-squares difference loses digits to cancellation.
    torch.testing.assert_close(unit(x)[:, 0], expected, rtol=unit.exact_rtol, atol=1e-12)


@pytest.mark.parametrize(("name", "operation"), UNIT_OPERATIONS)
def test_formula_at_known_solution(name, operation):
    unit = solved(name, operation)
    x = input_symbols(2)
    assert is_exact(read_formula(unit)[0], get_operation(operation).expression(x[0], x[1]))


awkward = st.sampled_from([0.0, -0.0, 1e-300, -1e-12, -1.0, -7.5, 1e6, -1e6, 3.0])
values = st.one_of(awkward, st.floats(-1e6, 1e6, allow_nan=False))


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("name", sorted(UNITS))
@given(a=values, b=values)
def test_forward_and_backward_are_finite(name, dtype, a, b):
    unit = make(name).to(dtype)
    x = torch.tensor([[a, b]], dtype=dtype, requires_grad=True)
    y = unit(x)
    assert torch.isfinite(y).all(), f"{name} gave {y} for {a}, {b}"
    y.sum().backward()
    assert torch.isfinite(x.grad).all()
    assert all(torch.isfinite(p.grad).all() for p in unit.parameters())


@pytest.mark.parametrize("name", sorted(UNITS))
def test_gradcheck(name):
    unit = make(name)
    x = torch.tensor([[1.3, 0.7], [2.1, 1.6], [0.9, 3.2]], dtype=torch.float64, requires_grad=True)
    parameters = tuple(unit.parameters())
    names = [n for n, _ in unit.named_parameters()]

    def function(x, *weights):
        return torch.func.functional_call(unit, dict(zip(names, weights)), (x,))

    assert torch.autograd.gradcheck(function, (x, *parameters))


@pytest.mark.parametrize("name", sorted(UNITS))
def test_seed_dimension_equals_separate_units(name):
    n_seeds = 3
    ensemble = UNITS[name].build(2, 1, n_seeds).double()
    ensemble.reset_parameters(Sampler(stream_keys(range(n_seeds))))
    x = torch.rand(n_seeds, 5, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(1)) + 0.5
    together = ensemble(x)
    for s in range(n_seeds):
        single = make(name)
        single.load_state_dict({k: v[s] for k, v in ensemble.state_dict().items()})
        torch.testing.assert_close(single(x[s]), together[s], rtol=1e-14, atol=0)


@pytest.mark.parametrize("name", sorted(UNITS))
def test_per_seed_initialisation_ignores_other_seeds(name):
    alone = UNITS[name].build(2, 1, 1)
    alone.reset_parameters(Sampler(stream_keys([7])))
    among = UNITS[name].build(2, 1, 10)
    among.reset_parameters(Sampler(stream_keys(range(10))))
    for (key, value), other in zip(alone.state_dict().items(), among.state_dict().values()):
        torch.testing.assert_close(value[0], other[7], rtol=0, atol=0, msg=key)


def test_logexp_zero_input_is_documented_floor():
    unit = solved("LogExp", "div")
    y = unit(torch.tensor([[0.0, 2.0], [3.0, 0.0]], dtype=torch.float64))[:, 0]
    # |h| is floored at eps = 1e-7: 0/2 reads as 1e-7/2 and 3/0 as 3/1e-7.
    torch.testing.assert_close(y, torch.tensor([0.5e-7, 3e7], dtype=torch.float64))


def test_logexp_signs_of_products_and_quotients():
    unit = solved("LogExp", "mul")
    x = torch.tensor([[-2.0, -3.0], [-2.0, 3.0], [2.0, -3.0]], dtype=torch.float64)
    torch.testing.assert_close(unit(x)[:, 0], torch.tensor([6.0, -6.0, -6.0], dtype=torch.float64))


def test_unknown_unit_lists_valid_ones():
    from arithnet import get_unit

    with pytest.raises(ValueError, match="unknown unit 'Foo'; valid units: .*LogExp"):
        get_unit("Foo")


benchmark_values = st.one_of(st.sampled_from([0.0, -0.0, 200.0, -200.0, 1e-4]), st.floats(-200, 200, allow_nan=False))


@pytest.mark.parametrize(
    ("dtype", "strategy"),
    # float32, as the Primer trains, over the benchmark ranges (|x| ≤ 200) and zeros;
    # float64 up to ±1e6, where a product of ten inputs (1e60) leaves float32's range.
    [(torch.float32, benchmark_values), (torch.float64, values)],
    ids=["float32-benchmark-ranges", "float64-1e6"],
)
@pytest.mark.parametrize("name", sorted(UNITS))
def test_ten_inputs_are_finite(name, dtype, strategy):
    @given(x=st.lists(strategy, min_size=10, max_size=10))
    def check(x):
        torch.manual_seed(0)
        unit = UNITS[name].build(10, 1).to(dtype)
        inputs = torch.tensor([x], dtype=dtype, requires_grad=True)
        y = unit(inputs)
        assert torch.isfinite(y).all(), f"{name} gave {y} for {x}"
        y.sum().backward()
        assert torch.isfinite(inputs.grad).all()
        assert all(torch.isfinite(p.grad).all() for p in unit.parameters() if p.grad is not None)

    check()
