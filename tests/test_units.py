"""One suite over every registered unit: exact solutions, finiteness, gradients, seeds."""

from __future__ import annotations

import doctest
import importlib
import inspect
import pkgutil
import re

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import arithnet.units
from arithnet import UNITS, get_operation, is_exact, read_formula
from arithnet.engine import Callback, restart_
from arithnet.formula import input_symbols
from arithnet.random import stream_keys
from arithnet.training.rules import InaluRestarts, training_rules
from arithnet.units import INALU, NAU, NMU, LogExp, LogParts, Sampler, Stack, Unit, WatchesInterpolation

UNIT_OPERATIONS = [(name, op) for name, spec in UNITS.items() for op in sorted(spec.operations)]


def make(name: str, n_seeds: int | None = None):
    torch.manual_seed(0)
    return UNITS[name].build(2, 1, n_seeds).double()


def solved(name: str, operation: str):
    unit = make(name)
    state = {key: value.double() for key, value in UNITS[name].exact_solution(operation).items()}
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

    with pytest.raises(ValueError, match=r"unknown unit 'Foo'; valid units: .*LogExp"):
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


# -- the engine interface (arithnet.units.base) ----------------------------------------
UNIT_CLASSES = sorted({spec.cls for spec in UNITS.values()} | {Stack}, key=lambda cls: cls.__name__)


def stacked(n_seeds: int | None = None) -> Stack:
    """NAU then iNALU: a stack whose second unit trains with restarts (``training_rules(stack, RESTARTS)``)."""
    return Stack(NAU(2, 2, n_seeds), INALU(2, 1, n_seeds)).double()


#: The stack's restart rule watches a window of 4 losses.
RESTARTS = {"stall_window": 4}


def observe_interpolation(unit: Unit, mse: torch.Tensor) -> None:
    """Report an interpolation MSE to a unit that watches it (iNALU's regularizer waits for a fit)."""
    if isinstance(unit, WatchesInterpolation):
        unit.observe_interpolation_mse(mse)


def test_unit_modules_docstring_examples_run():
    for module_info in pkgutil.iter_modules(arithnet.units.__path__):
        module = importlib.import_module(f"arithnet.units.{module_info.name}")
        failed, _ = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
        assert failed == 0, module.__name__


@pytest.mark.parametrize("cls", [spec.cls for spec in UNITS.values()], ids=list(UNITS))
def test_options_are_keyword_only(cls):
    parameters = list(inspect.signature(cls.__init__).parameters.values())[1:]
    assert [p.name for p in parameters[:3]] == ["in_features", "out_features", "n_seeds"]
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in parameters[3:])
    with pytest.raises(TypeError):
        cls(2, 1, None, 1e-7)  # an option passed by position
    assert cls(2, 1, 3).n_seeds == 3  # n_seeds itself may come by position


@pytest.mark.parametrize("cls", UNIT_CLASSES, ids=lambda cls: cls.__name__)
def test_exact_solution_is_a_classmethod_that_names_unit_and_operation(cls):
    assert isinstance(inspect.getattr_static(cls, "exact_solution"), classmethod)
    for operation in ["add", "sub", "mul", "div"]:
        if operation in cls.operations:
            state = cls.exact_solution(operation)
            assert all(isinstance(value, torch.Tensor) for value in state.values())
        else:
            with pytest.raises(ValueError, match=rf"{cls.name}.*{operation}"):
                cls.exact_solution(operation)


def test_logexp_exact_solution_follows_the_mixing_option():
    direct = UNITS["LogExp-direct"]
    assert set(direct.exact_solution("div")) == {"weight_out"}
    assert set(LogExp.exact_solution("div")) == {"weight_in", "weight_out"}
    assert set(LogExp.exact_solution("div", mixing=False)) == {"weight_out"}


@pytest.mark.parametrize("name", sorted(UNITS))
def test_parameters_and_buffers_have_the_seed_dimension_first(name):
    single, seeded = UNITS[name].build(3, 2), UNITS[name].build(3, 2, 5)
    for (key, value), (other_key, other) in zip(
        [*single.named_parameters(), *single.named_buffers()], [*seeded.named_parameters(), *seeded.named_buffers()]
    ):
        assert key == other_key and other.shape == (5, *value.shape), key


def test_stack_parameters_and_buffers_have_the_seed_dimension_first():
    assert all(t.shape[0] == 5 for t in [*stacked(5).parameters(), *stacked(5).buffers()])


STEPS = [0, 1, 5_000, 10_000, 10_001, 16_250, 27_500, 56_250, 62_500, 75_000, 1_500_000, 10**9]


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("n_seeds", [None, 3])
@pytest.mark.parametrize("name", sorted(UNITS))
def test_regularization_of_a_tensor_step_equals_that_of_an_int_step(name, n_seeds, dtype):
    unit = UNITS[name].build(2, 1, n_seeds).to(dtype)
    observe_interpolation(unit, torch.tensor(0.5))  # iNALU's regularizer waits for a fit
    shape = () if n_seeds is None else (n_seeds,)
    for step in STEPS:
        from_int = unit.regularization(step)
        from_tensor = unit.regularization(torch.tensor(step))
        assert from_int.shape == from_tensor.shape == shape and from_int.dtype == from_tensor.dtype == dtype
        torch.testing.assert_close(from_tensor, from_int, rtol=0, atol=0)


def test_some_regularizations_are_nonzero_at_the_steps_checked():
    # Otherwise the comparison above would be of zeros only.
    for name in ["NAU", "NMU", "NPU", "RealNPU-mod", "NRU", "NMRU", "iNALU"]:
        unit = UNITS[name].build(2, 1)
        observe_interpolation(unit, torch.tensor(0.5))
        assert any(float(unit.regularization(torch.tensor(step)).detach()) != 0.0 for step in STEPS), name


@pytest.mark.parametrize("name", sorted(UNITS))
def test_units_that_do_not_watch_the_loss_never_restart(name):
    rules = training_rules(UNITS[name].build(2, 1, 2))
    watching = [rule for rule in rules if type(rule).on_step is not Callback.on_step]
    assert bool(watching) == (name == "iNALU")
    others = [rule for rule in rules if rule not in watching]
    assert all(rule.on_step(step, torch.full((2,), 5.0)) is None for rule in others for step in range(1, 21))


def test_observe_loss_restarts_a_stalled_run_and_not_a_learning_one():
    unit = INALU(2, 1, n_seeds=2).double()
    (rule,) = training_rules(unit)  # the paper's window of 5,000 steps, checked every 10
    steps = torch.arange(1, 5_001, dtype=torch.float64)
    losses = torch.stack([torch.full_like(steps, 3.0), 10.0 - steps / 1_000], dim=1)  # constant > 1, decreasing
    answers = {step: rule.on_step(step, loss) for step, loss in zip(range(1, 5_001), losses)}
    assert all(answers[step] is None for step in answers if step % 10 != 0)
    assert not any(answers[step].any() for step in range(10, 5_000, 10))  # no full window before step 5,000
    assert answers[5_000].tolist() == [True, False]
    before = {name: p.detach().clone() for name, p in unit.named_parameters()}
    restart_(unit, answers[5_000], Sampler(stream_keys([0, 1])), rule, [rule])
    assert rule.loss_history[0].isnan().all() and not rule.loss_history[1].isnan().any()
    for name, parameter in unit.named_parameters():
        assert not torch.equal(parameter[0], before[name][0]) and torch.equal(parameter[1], before[name][1]), name


def test_stack_watches_the_loss_when_one_of_its_units_does():
    assert not training_rules(Stack(NAU(2, 2), NMU(2, 1)))
    unit = stacked(2)
    (rule,) = training_rules(unit, RESTARTS)
    assert isinstance(rule, InaluRestarts)
    answer = None
    for step in range(7, 11):
        answer = rule.on_step(step, torch.tensor([5.0, 0.5], dtype=torch.float64))
    assert answer.tolist() == [True, False]
    restart_(unit, answer, Sampler(stream_keys([0, 1])), rule, [rule])
    assert rule.loss_history[0].isnan().all()


@pytest.mark.parametrize("name", sorted(UNITS))
def test_select_equals_building_and_loading_the_chosen_seeds(name):
    unit = UNITS[name].build(2, 1, 4).double()
    unit.reset_parameters(Sampler(stream_keys(range(4))))
    observe_interpolation(unit, torch.tensor([0.5, 2.0, 0.5, 2.0], dtype=torch.float64))
    index = torch.tensor([2, 0, 2])
    chosen = unit.select(index)
    assert type(chosen) is type(unit) and chosen.n_seeds == 3 and unit.n_seeds == 4
    assert chosen.extra_repr() == UNITS[name].build(2, 1, 3).extra_repr()
    expected = UNITS[name].build(2, 1, 3).double()
    expected.load_state_dict({key: value[index] for key, value in unit.state_dict().items()})
    for (key, value), other in zip(chosen.state_dict().items(), expected.state_dict().values()):
        assert torch.equal(value, other), key
    for (key, buffer), original in zip(chosen.named_buffers(), unit.buffers()):
        assert torch.equal(buffer, original[index]) or buffer.isnan().equal(original[index].isnan()), key
    x = torch.rand(3, 5, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(1)) + 0.5
    torch.testing.assert_close(chosen(x), expected(x), rtol=0, atol=0)
    # The copy is independent: training it leaves the original alone.
    before = [p.detach().clone() for p in unit.parameters()]
    chosen(x).sum().backward()
    assert all(p.grad is None for p in unit.parameters())
    with torch.no_grad():
        for parameter in chosen.parameters():
            parameter.add_(1.0)
    assert all(torch.equal(p, b) for p, b in zip(unit.parameters(), before))


def test_select_on_a_stack_selects_both_units():
    unit = stacked(4)
    unit.reset_parameters(Sampler(stream_keys(range(4))))
    chosen = unit.select(torch.tensor([3, 1]))
    assert chosen.n_seeds == chosen.first.n_seeds == chosen.second.n_seeds == 2
    (rule,) = training_rules(unit, RESTARTS)
    assert rule.select(torch.tensor([3, 1])).loss_history.shape == (2, 4)
    x = torch.rand(4, 5, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(2)) + 0.5
    torch.testing.assert_close(chosen(x[[3, 1]]), unit(x)[[3, 1]], rtol=0, atol=0)


@pytest.mark.parametrize("name", sorted(UNITS))
def test_log_parts_where_declared(name):
    unit = UNITS[name].build(2, 1, 2).double()
    x = torch.rand(2, 5, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(3)) + 0.5
    assert isinstance(unit, LogParts) == (UNITS[name].cls is LogExp)
    if not isinstance(unit, LogParts):
        assert not hasattr(unit, "log_parts")  # no log-space form to ask for
        return
    real, imaginary = unit.log_parts(x)
    assert real.shape == imaginary.shape == (2, 5, 1)
    torch.testing.assert_close(torch.exp(real) * torch.cos(imaginary), unit(x))


def test_stack_log_parts_follow_its_second_unit():
    assert not isinstance(stacked(), LogParts)
    unit = Stack(NAU(2, 2), LogExp(2, 1)).double()
    assert isinstance(unit, LogParts)
    x = torch.tensor([[1.5, 2.0], [3.0, -0.5]], dtype=torch.float64)
    real, imaginary = unit.log_parts(x)
    torch.testing.assert_close(torch.exp(real) * torch.cos(imaginary), unit(x))


@pytest.mark.parametrize("name", sorted(UNITS))
def test_float32_and_float64_input_whatever_the_units_dtype(name):
    for unit_dtype in (torch.float32, torch.float64):
        unit = UNITS[name].build(2, 1, 2).to(unit_dtype)
        x = [[[1.5, 2.0]], [[3.0, 0.5]]]
        outputs = [unit(torch.tensor(x, dtype=dtype)) for dtype in (torch.float32, torch.float64)]
        assert all(y.dtype == unit_dtype for y in outputs)
        torch.testing.assert_close(outputs[0], outputs[1])


def test_every_unit_class_is_a_unit():
    assert all(issubclass(cls, Unit) for cls in UNIT_CLASSES)


# -- the input contract (arithnet.units.base): dtypes and shapes, the same for every unit ------
def every_unit(n_seeds: int | None, in_features: int = 3, out_features: int = 2) -> list[tuple[str, Unit]]:
    """Every registry entry and a stack, built with ``n_seeds``, in float64."""
    torch.manual_seed(0)
    units = [(name, spec.build(in_features, out_features, n_seeds).double()) for name, spec in sorted(UNITS.items())]
    stack = Stack(NAU(in_features, 2, n_seeds), NMU(2, out_features, n_seeds)).double()
    return [*units, ("NAU>NMU", stack)]


REFUSED_DTYPES = [
    torch.int64,
    torch.int32,
    torch.float16,
    torch.bfloat16,
    torch.complex64,
    torch.complex128,
    torch.bool,
]


@pytest.mark.parametrize("n_seeds", [None, 2])
@pytest.mark.parametrize("dtype", REFUSED_DTYPES, ids=str)
def test_every_unit_refuses_other_dtypes_naming_unit_and_dtype(dtype, n_seeds):
    shape = (4, 3) if n_seeds is None else (2, 4, 3)
    for name, unit in every_unit(n_seeds):
        x = torch.ones(shape).to(dtype)
        with pytest.raises(ValueError, match=rf"^{re.escape(name)} takes float32 or float64 input, got {dtype}$"):
            unit(x)


@pytest.mark.parametrize("unit_dtype", [torch.float32, torch.float64], ids=str)
def test_every_unit_answers_in_its_own_dtype_for_float32_and_float64_input(unit_dtype):
    x = torch.tensor([[[1.5, 2.0, 0.5]], [[3.0, 0.5, 1.25]]], dtype=torch.float64)
    for name, unit in every_unit(2):
        unit = unit.to(unit_dtype)
        outputs = [unit(x.to(dtype)) for dtype in (torch.float32, torch.float64)]
        assert [y.dtype for y in outputs] == [unit_dtype, unit_dtype], name
        torch.testing.assert_close(outputs[0], outputs[1], msg=name)


def test_units_without_seeds_map_a_batch_and_a_single_sample_alike():
    x = torch.tensor([[1.5, 2.0, 0.5], [3.0, 0.5, 1.25], [0.75, 4.0, 2.5]], dtype=torch.float64)
    for name, unit in every_unit(None):
        batch = unit(x)
        assert batch.shape == (3, 2), name
        for row, expected in zip(x, batch):
            single = unit(row)
            assert single.shape == (2,), name  # (I,) → (O,), as nn.Linear
            torch.testing.assert_close(single, expected, rtol=0, atol=0, msg=name)


def test_seeded_units_take_a_batch_per_seed_or_one_batch_for_all():
    x = torch.tensor([[1.5, 2.0, 0.5], [3.0, 0.5, 1.25], [0.75, 4.0, 2.5]], dtype=torch.float64)
    for name, unit in every_unit(2):
        shared = unit(x)
        assert shared.shape == (2, 3, 2), name
        torch.testing.assert_close(shared, unit(x.expand(2, 3, 3)), rtol=0, atol=0, msg=name)


@pytest.mark.parametrize(
    ("n_seeds", "shape", "expected"),
    [
        (None, (3, 4, 3), r"without seeds takes input \(B, 3\) or \(3,\), got shape \(3, 4, 3\)"),
        (None, (), r"without seeds takes input \(B, 3\) or \(3,\), got shape \(\)"),
        (None, (4, 2), r"without seeds takes input \(B, 3\) or \(3,\), got shape \(4, 2\)"),
        (None, (2,), r"without seeds takes input \(B, 3\) or \(3,\), got shape \(2,\)"),
        (2, (3,), r"with n_seeds=2 takes input \(2, B, 3\) or \(B, 3\), got shape \(3,\)"),
        (2, (3, 4, 3), r"with n_seeds=2 takes input \(2, B, 3\) or \(B, 3\), got shape \(3, 4, 3\)"),
        (2, (1, 4, 3), r"with n_seeds=2 takes input \(2, B, 3\) or \(B, 3\), got shape \(1, 4, 3\)"),
        (2, (2, 4, 4), r"with n_seeds=2 takes input \(2, B, 3\) or \(B, 3\), got shape \(2, 4, 4\)"),
        (2, (1, 2, 4, 3), r"with n_seeds=2 takes input \(2, B, 3\) or \(B, 3\), got shape \(1, 2, 4, 3\)"),
    ],
)
def test_every_unit_refuses_other_shapes_naming_unit_and_shape(n_seeds, shape, expected):
    for name, unit in every_unit(n_seeds):
        with pytest.raises(ValueError, match=rf"^{re.escape(name)} {expected}$"):
            unit(torch.ones(shape, dtype=torch.float64))


def test_log_parts_check_their_input_as_forward_does():
    unit = LogExp(2, 1, 2).double()
    with pytest.raises(ValueError, match=r"^LogExp takes float32 or float64 input, got torch.int64$"):
        unit.log_parts(torch.ones(2, 3, 2, dtype=torch.int64))
    with pytest.raises(ValueError, match=r"^LogExp with n_seeds=2 takes input"):
        unit.log_parts(torch.ones(2, dtype=torch.float64))
