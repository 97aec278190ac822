"""A unit is its maths: the protocols the engine checks for, its step protocol, and training rules as callbacks."""

from __future__ import annotations

import pytest
import torch

from arithnet import random as counter_random
from arithnet.bench import bench_grid
from arithnet.bench.protocol import BenchConfig, build_model, check_model
from arithnet.engine import Callback, EngineConfig, Problem, Step, fit, get_loss, restart_
from arithnet.engine.step import GradientStep, KeepsMoments, SelectsRuns
from arithnet.random import stream_keys
from arithnet.training.recipes.seed_post import SeedPostStep
from arithnet.training.rules import (
    InaluRestarts,
    RatioSnap,
    rule_options,
    training_rules,
    unit_options,
)
from arithnet.training.rules.inalu import TF_RESTART_BOUND
from arithnet.units import (
    INALU,
    NAU,
    UNITS,
    CanonicalForm,
    LogExp,
    LogParts,
    Projected,
    RatioNet,
    Refit,
    RunState,
    Sampler,
    Stack,
    Unit,
    WatchesInterpolation,
)

# -- the base and the protocols ------------------------------------------------------------------
#: What the base no longer holds: capabilities are protocols, training rules are callbacks.
GONE = [
    "observes_loss",
    "has_log_parts",
    "has_projection",
    "restart_resets_optimizer",
    "observe_loss",
    "reinitialize_",
    "redraw_parameters_",
    "observe_interpolation_mse",
    "log_parts",
    "projected",
    "canonical_",
    "refit_",
]
CAPABLE = {
    LogParts: {"LogExp", "LogExp-direct"},
    Projected: {"RatioNet"},
    CanonicalForm: {"SquareNet", "LogExp", "LogExp-direct"},
    Refit: {"LinearNet", "SquareNet", "LogExp", "LogExp-direct"},
    WatchesInterpolation: {"iNALU"},
    RunState: {"iNALU"},
}


def test_the_base_keeps_only_what_every_unit_is():
    assert not [name for name in GONE if hasattr(Unit, name)]
    for name in ("forward", "reset_parameters", "regularization", "project_", "expression"):
        assert callable(getattr(Unit, name)), name


@pytest.mark.parametrize("protocol", list(CAPABLE), ids=lambda protocol: protocol.__name__)
def test_each_capability_belongs_to_the_units_that_have_its_method(protocol):
    assert {name for name, spec in UNITS.items() if issubclass(spec.cls, protocol)} == CAPABLE[protocol]
    assert {name for name, spec in UNITS.items() if isinstance(spec.build(2, 1, 2), protocol)} == CAPABLE[protocol]


def test_a_stack_passes_on_what_its_units_watch_and_forget():
    unit = Stack(NAU(2, 2, 2), INALU(2, 1, 2))
    assert isinstance(unit, WatchesInterpolation) and isinstance(unit, RunState)
    unit.observe_interpolation_mse(torch.tensor([0.5, 0.5]))
    assert unit.second.interpolation_fit.tolist() == [True, True]
    unit.forget_runs_(torch.tensor([False, True]))
    assert unit.second.interpolation_fit.tolist() == [True, False]


# -- the step protocol -----------------------------------------------------------------------
class StandStill:
    """A step that changes nothing: the least a step must be."""

    def __init__(self, unit: Unit) -> None:
        self.unit = unit

    def __call__(self, x: torch.Tensor, target: torch.Tensor, step: int) -> torch.Tensor:
        return torch.zeros(len(target), dtype=torch.float64)

    def finish(self) -> None:
        pass


def test_every_step_is_a_step_and_says_what_more_it_offers():
    unit = LogExp(2, 1, 2).double()
    gradient = GradientStep(unit, get_loss("mse"), EngineConfig(steps=1, lr=0.1))
    post = SeedPostStep(unit, version=2, lr=0.1)
    assert isinstance(gradient, Step) and isinstance(post, Step) and isinstance(StandStill(unit), Step)
    assert isinstance(gradient, SelectsRuns) and isinstance(gradient, KeepsMoments)
    assert not isinstance(post, SelectsRuns) and not isinstance(post, KeepsMoments)


def nau_problem(n_runs: int = 2, callbacks=None, log: bool = False) -> Problem:
    keys = counter_random.stream_keys(list(range(n_runs)))

    def batch(step):
        x = 1 + counter_random.uniform(keys, counter_random.Stream.DATA, step, (8, 2))
        return x, x.sum(-1)

    def evaluate(unit):
        x = torch.tensor([[1.0, 2.0]], dtype=torch.float64)
        return {"valid": ((unit(x)[..., 0] - 3.0) ** 2).mean(-1).detach()}

    build = lambda n: UNITS["NAU"].build(2, 1, n).double()  # noqa: E731
    return Problem(keys, build, batch, evaluate if log else None, callbacks=callbacks)


def test_several_starts_need_a_step_that_selects_runs():
    settings = EngineConfig(steps=10, lr=0.1, n_starts=2, select_at=5, select_window=5)
    with pytest.raises(ValueError, match="several starts need a training step that can select runs"):
        fit(nau_problem(), settings, make_step=lambda unit, _: StandStill(unit))
    still = fit(nau_problem(), EngineConfig(steps=3, lr=0.1), make_step=lambda unit, _: StandStill(unit))
    assert torch.equal(still.unit.weight, still.initial["weight"])


# -- callbacks in the loop --------------------------------------------------------------------
class Recording(Callback):
    """Writes down every hook the loop calls."""

    def __init__(self, calls: list) -> None:
        self.calls = calls

    def after_step(self, unit, step):
        self.calls.append(("after_step", step))

    def on_step(self, step, loss):
        self.calls.append(("on_step", step))

    def on_log(self, step, metrics):
        self.calls.append(("on_log", step))

    def on_restart(self, mask):
        self.calls.append(("on_restart", mask.tolist()))

    def select(self, index):
        self.calls.append(("select", index.tolist()))
        return self


class RestartFirstRun(Callback):
    """Restarts run 0 at step 2, drawing 0.625 for every weight (inside NAU's clamp), and keeps the moments."""

    resets_optimizer = False

    def on_step(self, step, loss):
        return torch.tensor([step == 2, False])

    def redraw_(self, unit, sampler):
        for parameter in unit.parameters():
            parameter.fill_(0.625)


def test_callbacks_are_called_in_the_order_of_a_step_and_restart_as_the_asking_one_says(monkeypatch):
    from arithnet.engine.adam import Adam

    resets = []
    monkeypatch.setattr(Adam, "reset_", lambda self, mask: resets.append(mask))
    calls = []
    problem = nau_problem(callbacks=lambda unit: [RestartFirstRun(), Recording(calls)], log=True)
    result = fit(problem, EngineConfig(steps=3, lr=1e-12, log_every=3))
    # The first callback's restart comes between its on_step and the second's, and reaches every callback.
    assert calls == [
        ("after_step", 1),
        ("on_step", 1),
        ("after_step", 2),
        ("on_restart", [True, False]),
        ("on_step", 2),
        ("after_step", 3),
        ("on_step", 3),
        ("on_log", 3),
    ]
    assert result.restarts.tolist() == [1, 0]
    assert resets == []  # the asking rule keeps the moments
    torch.testing.assert_close(result.unit.weight[0], torch.full((1, 2), 0.625, dtype=torch.float64))
    assert (result.unit.weight[1] != 0.625).all()


def test_multi_start_selection_selects_the_callbacks_with_the_runs():
    calls = []
    settings = EngineConfig(steps=6, lr=0.1, n_starts=3, select_at=3, select_window=2)
    fit(nau_problem(callbacks=lambda unit: [Recording(calls)]), settings)
    (selected,) = [index for name, index in calls if name == "select"]
    assert [index // 3 for index in selected] == [0, 1]  # each run keeps one of its own starts


# -- iNALU's restarts and RatioNet's snap as rules ----------------------------------------------
def test_training_rules_come_from_the_units_and_their_options():
    inalu = INALU(2, 1, 2)
    (window,) = training_rules(inalu)
    assert isinstance(window, InaluRestarts) and window.resets_optimizer and window.loss_history.shape == (2, 5_000)
    (primer,) = training_rules(inalu, {"restart_rule": "primer", "eps": 1.0})  # options of others are left
    assert (primer.restart_rule, primer.resets_optimizer, primer.stall_min_losses) == ("primer", False, 5_000)
    assert training_rules(inalu, {"reinitialize_on_stall": False}) == []
    assert len(training_rules(Stack(INALU(2, 2, 2), INALU(2, 1, 2)))) == 1  # a stack restarts as one
    (snap,) = training_rules(RatioNet(2, 1, 2))
    assert isinstance(snap, RatioSnap) and snap.snap_tolerance == 0.02
    assert training_rules(RatioNet(2, 1, 2), {"snap_tolerance": 0.0}) == []
    assert training_rules(NAU(2, 1, 2), {"restart_rule": "tf"}) == []
    with pytest.raises(ValueError, match="restart_rule must be one of"):
        training_rules(inalu, {"restart_rule": "keras"})


def test_rule_options_are_apart_from_the_units_constructor_options():
    assert {"restart_rule", "stall_window", "reinitialize_on_stall"} <= rule_options(INALU)
    assert rule_options(RatioNet) == {"snap_tolerance"} and rule_options(NAU) == frozenset()
    options = {"restart_rule": "tf", "regularization_start": 5}
    assert unit_options(INALU, options) == {"regularization_start": 5}
    assert unit_options(NAU, options) == options


def test_the_bench_takes_rule_options_as_unit_options():
    config = BenchConfig(unit="NAU>iNALU", operation="div", unit_options=(("restart_rule", "tf"),))
    assert isinstance(build_model(config, 2).second, INALU)
    with pytest.raises(ValueError, match="bad unit option for NAU"):
        BenchConfig(unit="NAU", operation="add", unit_options=(("restart_rule", "tf"),))
    # A BenchConfig builds nothing: a rule checks its options' values when it is built, once per
    # (unit, operation) where the grid is resolved, before anything is created.
    bad = BenchConfig(unit="iNALU", operation="div", unit_options=(("restart_rule", "keras"),))
    with pytest.raises(ValueError, match="restart_rule must be one of"):
        check_model(bad)
    with pytest.raises(ValueError, match="restart_rule must be one of"):
        bench_grid("iNALU", "div", ranges="7", seeds=1, unit_options={"restart_rule": "keras"})


def test_a_rules_state_follows_the_runs_it_selects():
    losses = 2 + torch.rand(12, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(5))
    index = torch.tensor([2, 0, 2])
    for options in ({"stall_window": 4}, {"restart_rule": "tf", "stall_check_every": 2}):
        rule, fresh = InaluRestarts(4, **options), InaluRestarts(3, **options)
        for step, loss in enumerate(losses, start=1):
            rule.on_step(step, loss)
            fresh.on_step(step, loss[index])
        chosen = rule.select(index)
        for name in ("loss_history", "run_count", "run_mean", "run_m2"):
            assert torch.equal(getattr(chosen, name), getattr(fresh, name)), name
        assert rule.n_runs == 4 and chosen.n_runs == 3


def test_the_tf_rule_redraws_a_stacks_layers_in_order():
    keys = stream_keys([0, 1])
    unit = Stack(NAU(2, 2, 2), INALU(2, 1, 2)).double()
    (rule,) = training_rules(unit, {"restart_rule": "tf"})
    restart_(unit, torch.tensor([True, True]), Sampler(keys), rule, [rule])
    expected = Stack(NAU(2, 2, 2), INALU(2, 1, 2)).double()
    sampler = Sampler(keys)
    expected.first.reset_parameters(sampler)  # the NAU from its initial distribution, then the iNALU's U[−2, 2]
    for parameter in expected.second.parameters():
        sampler.uniform_(parameter, -TF_RESTART_BOUND, TF_RESTART_BOUND)
    for (name, value), other in zip(unit.named_parameters(), expected.parameters()):
        assert torch.equal(value, other), name


@pytest.mark.parametrize(
    ("module", "parameter", "value"),
    [("arithnet.laws.search.trained", "exponent", 0.0), ("arithnet.laws.search.factored", "weight", 0.01)],
)
def test_the_law_search_restarts_a_run_that_went_nan_by_its_rule_not_its_unit(module, parameter, value):
    """LawNet's and FactorNet's projections leave NaN alone; the stage's NaNReset puts the restart value in the
    runs that blew up, after the projection, and leaves the others as they were."""
    import importlib

    from arithnet.laws.model import LawNet
    from arithnet.laws.model.factor_net import FactorNet
    from arithnet.laws.readout.library import monomial_library

    library = torch.from_numpy(monomial_library(2, 2))
    unit = LawNet(2, 1, 3, n_terms=2) if parameter == "exponent" else FactorNet(2, 1, 3, library=library)
    weights = getattr(unit, parameter)
    with torch.no_grad():
        weights[1] = torch.nan
    before = weights.detach().clone()
    unit.project_()
    assert torch.isnan(getattr(unit, parameter)[1]).all()  # the unit's maths does not restart runs
    (rule,) = importlib.import_module(module).restart_nan(unit)
    rule.after_step(unit, 1)
    after = getattr(unit, parameter).detach()
    assert (after[1] == value).all()
    assert torch.equal(
        after[[0, 2]],
        before[[0, 2]].clamp(-unit.max_exponent, unit.max_exponent) if parameter == "exponent" else before[[0, 2]],
    )
