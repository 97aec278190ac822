"""The training engine: compiled against eager, restarts, multi-start selection, settings."""

from __future__ import annotations

import dataclasses
import functools
import os
import tempfile
from pathlib import Path

import pytest
import torch

from arithnet import random as counter_random
from arithnet.bench.protocol import BenchConfig, run_group, run_threshold
from arithnet.engine import EngineConfig, Problem, compiler, fit
from arithnet.engine.clipping import clip_gradients_
from arithnet.engine.compiler import cache_directory, should_compile
from arithnet.training.rules import training_rules
from arithnet.units import UNITS, LogParts


def _compile_with(monkeypatch, backend: str) -> None:
    monkeypatch.setattr(torch, "compile", functools.partial(torch.compile, backend=backend))


# Tests of what dynamo decides (guards, recompiles, the stance, a step traced whole) compile without
# inductor, whose code generation costs 10–20 s per program with a cold cache and decides none of it.
# benchmarks/test_long_checks.py compiles every unit with inductor, and checks two of them against eager.
@pytest.fixture
def without_inductor(monkeypatch):
    """torch.compile by dynamo and AOTAutograd (the ``aot_eager`` backend): the traced forward and backward
    graphs run eagerly."""
    _compile_with(monkeypatch, "aot_eager")


@pytest.fixture
def dynamo_alone(monkeypatch):
    """torch.compile by dynamo alone (the ``eager`` backend): its guards and recompiles, the graph run as traced."""
    _compile_with(monkeypatch, "eager")


def _run_grid(unit: str, operation: str, compile: bool, **changes) -> list:
    settings = dict(input_size=2, steps=2000, log_every=250, n_valid=1000, n_test=1000, compile=compile)
    configs = [
        BenchConfig(unit=unit, operation=operation, range_name=str(r), **{**settings, **changes}) for r in (1, 4, 7, 9)
    ]
    return run_group(configs, [0, 1, 2, 3], run_threshold)


@functools.cache
def _eager_grid(unit: str, operation: str) -> tuple:
    """The eager runs that several tests compare with, trained once (rows are frozen)."""
    return tuple(_run_grid(unit, operation, False))


def _grid(unit: str, operation: str, compile: bool, **changes) -> list:
    return (
        list(_eager_grid(unit, operation))
        if not compile and not changes
        else _run_grid(unit, operation, compile, **changes)
    )


#: RealNPU-mod's regularization ramp, inside the 2,000 steps of the grid.
RAMP = (("regularization_start", 500), ("regularization_end", 1500))


@pytest.mark.parametrize(
    ("unit", "operation", "changes", "backend"),
    [
        ("NAU", "add", {}, "without_inductor"),
        # The ramp's step is a tensor in the program: one trace for every step of the ramp.
        ("RealNPU-mod", "div", dict(unit_options=RAMP), "without_inductor"),
    ],
)
def test_compiled_step_matches_eager(unit, operation, changes, backend, request):
    if backend is not None:
        request.getfixturevalue(backend)
    eager, compiled = _grid(unit, operation, False, **changes), _grid(unit, operation, True, **changes)
    for a, b in zip(eager, compiled):
        assert a.key == b.key  # compiling is an execution choice, not part of the run's identity
        assert (a.best_step, a.formula, a.solved_raw, a.solved_iclr, a.solved_primer, a.formula_exact) == (
            b.best_step,
            b.formula,
            b.solved_raw,
            b.solved_iclr,
            b.solved_primer,
            b.formula_exact,
        )
        assert b.best_val_mse == pytest.approx(a.best_val_mse, rel=1e-3, abs=1e-12)
        assert '"compile": true' in b.config and '"compile": false' in a.config


def test_failing_compiler_falls_back_to_eager_with_one_notice(monkeypatch, capsys):
    def broken(*args, **kwargs):
        raise RuntimeError("no compiler here")

    monkeypatch.setattr(torch, "compile", broken)
    fallback = _grid("NAU", "add", True)
    notices = [line for line in capsys.readouterr().err.splitlines() if "compiling" in line]
    assert notices == [
        "arithnet: compiling the data transform failed (RuntimeError); running it eagerly",
        "arithnet: compiling the training step failed (RuntimeError); running it eagerly",
    ]
    eager = _grid("NAU", "add", False)
    assert [(r.best_step, r.best_val_mse, r.formula) for r in fallback] == [
        (r.best_step, r.best_val_mse, r.formula) for r in eager
    ]


def test_compile_decision_and_cache_outside_the_repository(monkeypatch, tmp_path):
    assert not should_compile(None, 600) and should_compile(None, 50_000)
    assert should_compile(True, 10) and not should_compile(False, 10**6)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache_directory() == tmp_path / "arithnet" / "inductor"


def _no_cache_home(monkeypatch, tmp_path) -> Path:
    """A user cache that cannot be made (below a regular file: refused even to root), and a temporary directory."""
    (tmp_path / "file").write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "file" / "cache"))
    for name in ("TORCHINDUCTOR_CACHE_DIR", compiler.NO_CACHE):
        # Set, then removed: monkeypatch undoes only what it recorded, and it records no absent variable, so
        # what prepare_cache sets (NO_CACHE = 1) would outlive the test and leave this worker's fits eager.
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)
    monkeypatch.setattr(compiler, "_cache_ready", None)
    (tmp_path / "tmp").mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    return tmp_path / "tmp" / f"arithnet-inductor-{os.getuid()}"


def test_unwritable_cache_falls_back_to_a_private_temporary_one_with_one_notice(monkeypatch, tmp_path):
    fallback, notices = _no_cache_home(monkeypatch, tmp_path), []
    assert compiler.prepare_cache(notices.append) and compiler.prepare_cache(notices.append)
    assert os.environ["TORCHINDUCTOR_CACHE_DIR"] == str(fallback)
    assert fallback.is_dir() and fallback.stat().st_mode & 0o777 == 0o700
    wanted = tmp_path / "file" / "cache" / "arithnet" / "inductor"
    assert notices == [f"the compile cache {wanted} cannot be written (Not a directory); using {fallback} instead"]


def test_without_any_writable_cache_a_compiled_fit_runs_eagerly(monkeypatch, tmp_path, capsys):
    fallback = _no_cache_home(monkeypatch, tmp_path)
    fallback.mkdir(mode=0o777)
    fallback.chmod(0o777)  # writable by others: compiled code there could be anyone's, so it is not used
    compiled_rows = _grid("NAU", "add", True)
    notices = [line for line in capsys.readouterr().err.splitlines() if line.startswith("arithnet:")]
    assert len(notices) == 1 and notices[0].endswith("cannot be written (Not a directory); running eagerly")
    assert "TORCHINDUCTOR_CACHE_DIR" not in os.environ and os.environ[compiler.NO_CACHE] == "1"
    eager = _grid("NAU", "add", False)
    assert [(r.best_step, r.best_val_mse, r.formula) for r in compiled_rows] == [
        (r.best_step, r.best_val_mse, r.formula) for r in eager
    ]


def _inalu_problem(n_runs: int, stall_loss: float) -> Problem:
    keys = counter_random.stream_keys(list(range(n_runs)))

    def batch(step):
        x = 1 + counter_random.uniform(keys, counter_random.Stream.DATA, step, (16, 2))
        return x, x[..., 0] / x[..., 1]

    options = dict(stall_window=20, stall_check_every=10, stall_loss=stall_loss)
    build = lambda n: UNITS["iNALU"].build(2, 1, n).double()  # noqa: E731
    return Problem(keys, build, batch, callbacks=lambda unit: training_rules(unit, options))


def test_inalu_restarts_stalled_runs_through_its_hook():
    settings = EngineConfig(steps=200, lr=1e-3, clip_grad_value=0.1)
    # Loss threshold 0: no run makes clear progress over 20 steps at lr 1e-3, so all restart, often.
    restarted = fit(_inalu_problem(3, stall_loss=0.0), settings)
    assert (restarted.restarts >= 5).all()
    # A threshold no loss reaches: no restart, and the weights differ from the restarted runs'.
    kept = fit(_inalu_problem(3, stall_loss=1e9), settings)
    assert (kept.restarts == 0).all()
    assert not torch.equal(kept.unit.add_weight_hat, restarted.unit.add_weight_hat)


def test_multi_start_keeps_the_best_start_of_each_run():
    keys = counter_random.stream_keys([0, 1])

    # Target 3x: starts differ only in their initial weight; the best is the one nearest 3 after 5 steps.
    def batch(step):
        x = torch.ones(2, 4, 1, dtype=torch.float64)
        return x, 3 * x[..., 0]

    problem = Problem(keys, lambda n: UNITS["NAU"].build(1, 1, n).double(), batch)
    settings = EngineConfig(steps=10, lr=1e-9, n_starts=5, select_at=5, select_window=5, n_snapshots=4)
    result = fit(problem, settings)
    assert result.unit.weight.shape == (2, 1, 1) and len(result.restarts) == 2
    # With a learning rate of 1e-9 the weights stay at their start: each run kept its start nearest 3.
    unit = UNITS["NAU"].build(1, 1, 10).double()
    from arithnet.engine.loop import start_keys
    from arithnet.units import Sampler

    unit.reset_parameters(Sampler(start_keys(keys, 5)))
    starts = unit.weight.detach().reshape(2, 5)
    best = starts[torch.arange(2), (starts - 3).abs().argmin(1)]
    torch.testing.assert_close(result.initial["weight"].reshape(2), best)
    assert result.history.stacked_weights()["weight"].shape[1] == 2


def test_gradient_clipping_is_per_run():
    gradients = [torch.tensor([[[3.0, 4.0]], [[0.3, 0.4]]])]
    clip_gradients_(gradients, value=None, norm=1.0)
    torch.testing.assert_close(gradients[0], torch.tensor([[[0.6, 0.8]], [[0.3, 0.4]]]), rtol=1e-5, atol=0)
    clip_gradients_(gradients, value=0.5, norm=None)
    torch.testing.assert_close(gradients[0], torch.tensor([[[0.5, 0.5]], [[0.3, 0.4]]]), rtol=1e-5, atol=0)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (dict(steps=0), "steps must be an integer of at least 1"),
        (dict(lr=float("inf")), "learning rate must be a finite number above 0"),
        (dict(lr=0.0), "learning rate must be a finite number above 0"),
        (dict(loss="l1"), "unknown loss 'l1'"),
        (dict(lr_schedule="step"), "unknown learning-rate schedule 'step'"),
        (dict(n_starts=4, select_at=0), "select_window <= select_at < steps"),
        (dict(clip_grad_norm=-1.0), "gradient clip norm must be a finite number above 0"),
    ],
)
def test_bad_engine_settings_name_the_problem(changes, message):
    with pytest.raises(ValueError, match=message):
        dataclasses.replace(EngineConfig(steps=10, lr=0.1), **changes)


def test_one_process_compiles_group_after_group(capsys, dynamo_alone):
    # Beyond dynamo's recompile limit of 8 programs per code object: each fit starts afresh.
    for group in range(10):
        config = BenchConfig(
            unit="NAU",
            operation="add",
            range_name="1",
            steps=20,
            log_every=10,
            compile=True,
            lr=1e-3 * (group + 1),
            n_valid=100,
            n_test=100,
        )
        row = run_group([config], [0], run_threshold)[0]
        assert f'"lr": {1e-3 * (group + 1)}' in row.config
    assert "compiling" not in capsys.readouterr().err


EAGER_UNITS = ("LinearNet", "SquareNet", "LogExp", "NALU", "G-NALU", "NMRU", "NMRU-gated")


class _GrowingNAU(UNITS["NAU"].cls):
    """An NAU whose regularizer reads a buffer that grows by a column at every evaluation."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.register_buffer("seen", torch.zeros(self._shape(1)), persistent=False)

    def regularization(self, step):
        return super().regularization(step) + 0.0 * self.seen.sum(-1)

    def observe_interpolation_mse(self, mse: torch.Tensor) -> None:
        self.seen = torch.cat([self.seen, self.seen[..., :1]], -1)


def test_a_step_that_would_compile_again_goes_on_eagerly(capsys, dynamo_alone):
    # A unit that changes what the compiled step was traced with (a buffer's shape here) needs
    # a new program, which compiled_stance forbids: the run goes on eagerly, with one notice.
    problem = _linear_problem()
    problem = dataclasses.replace(problem, build=lambda n: _GrowingNAU(2, 1, n).double())
    settings = EngineConfig(steps=30, lr=1e-2, log_every=10)
    compiled = fit(problem, dataclasses.replace(settings, compile=True))
    notices = [line for line in capsys.readouterr().err.splitlines() if "eagerly" in line]
    assert notices == ["arithnet: the compiled training step would need compiling again; running it eagerly"]
    eager = fit(problem, settings)
    assert compiled.best.step.tolist() == eager.best.step.tolist()
    torch.testing.assert_close(compiled.best.valid, eager.best.valid, rtol=1e-6, atol=1e-12)


COMPILED_UNITS = [name for name in UNITS if name not in EAGER_UNITS]


@pytest.mark.parametrize("name", COMPILED_UNITS)
def test_every_bench_unit_is_traced_whole_without_falling_back(name, capsys, without_inductor):
    # Traced by dynamo as one graph (fullgraph), forward and backward (AOTAutograd); the same check with
    # inductor's code generation is benchmarks/test_long_checks.py (same units: NMRU and NMRU-gated, the cosine
    # sign rule, hit an inductor error in torch 2.13, KeyError 'buf44', whose fallback the test above covers;
    # NALU and G-NALU represent no operation exactly).
    spec = UNITS[name]
    options = {"loss": "log"} if issubclass(spec.cls, LogParts) else {}
    configs = [
        BenchConfig(unit=name, operation=sorted(spec.operations)[0], input_size=10, range_name=str(r), steps=30,
                    log_every=10, compile=True, n_valid=100, n_test=100, **options)
        for r in (1, 7)
    ]  # fmt: skip
    rows = run_group(configs, [0, 1], run_threshold)
    assert "compiling" not in capsys.readouterr().err
    assert all(row.best_step in (10, 20, 30) for row in rows)


def test_inalus_primer_restart_list_grows_without_recompiling(capsys, dynamo_alone):
    # The list grows by a run at every log; the compiled step must not see it (tie_weights=False).
    options = dict(unit_options=(("restart_rule", "primer"),), steps=30, log_every=10, n_valid=100, n_test=100)
    rows = _grid("iNALU", "add", True, **options)
    assert "eagerly" not in capsys.readouterr().err
    assert all(row.best_step in (10, 20, 30) for row in rows)


def _inalu_restart_problem(rule: str, n_runs: int = 3) -> Problem:
    keys = counter_random.stream_keys(list(range(n_runs)))

    def batch(step):
        x = 1 + counter_random.uniform(keys, counter_random.Stream.DATA, step, (16, 2))
        return x, x[..., 0] / x[..., 1]

    options = dict(restart_rule=rule, stall_loss=0.0, stall_min_losses=20, stall_window=20, stall_check_every=10)
    build = lambda n: UNITS["iNALU"].build(2, 1, n).double()  # noqa: E731
    return Problem(keys, build, batch, callbacks=lambda unit: training_rules(unit, options))


@pytest.mark.parametrize(("rule", "resets"), [("window", True), ("tf", False)])
def test_the_unit_decides_whether_a_restart_forgets_adam_moments(rule, resets, monkeypatch):
    from arithnet.engine.adam import Adam

    calls = []
    monkeypatch.setattr(Adam, "reset_", lambda self, mask: calls.append(mask.clone()))
    result = fit(_inalu_restart_problem(rule), EngineConfig(steps=200, lr=1e-3, clip_grad_value=0.1))
    assert (result.restarts > 0).any()
    assert bool(calls) is resets


def _linear_problem(n_runs: int = 2, sign: float = 1.0) -> Problem:
    """NAU runs validated on x0 + x1, trained on sign·(x0 + x1): with sign −1 training only makes them worse."""
    keys = counter_random.stream_keys(list(range(n_runs)))

    def batch(step):
        x = 1 + counter_random.uniform(keys, counter_random.Stream.DATA, step, (8, 2))
        return x, sign * x.sum(-1)

    def evaluate(unit):
        x = torch.tensor([[1.0, 2.0], [3.0, 5.0]], dtype=torch.float64)
        error = ((unit(x)[..., 0] - x.sum(-1)) ** 2).mean(-1)
        return {"valid": error.detach(), "test": error.detach()}

    return Problem(keys, lambda n: UNITS["NAU"].build(2, 1, n).double(), batch, evaluate)


def test_log_step_zero_evaluates_the_untrained_model_and_it_may_be_the_best():
    logged = []
    on_log = lambda step, metrics: logged.append(step)  # noqa: E731
    # lr 1e-9: the weights hardly move, so step 0 (evaluated first) is the best or ties it.
    settings = EngineConfig(steps=4, lr=1e-9, log_every=2, log_step_zero=True)
    result = fit(_linear_problem(), settings, on_log=on_log)
    assert logged == [0, 2, 4]
    initial = UNITS["NAU"].build(2, 1, 2).double()
    initial.load_state_dict(result.initial)
    x = torch.tensor([[1.0, 2.0], [3.0, 5.0]], dtype=torch.float64)
    at_zero = ((initial(x)[..., 0] - x.sum(-1)) ** 2).mean(-1)
    assert (result.best.valid <= at_zero.double()).all()
    # Training that only makes things worse: the untrained model stays the best, at step 0.
    worse = fit(_linear_problem(sign=-1.0), dataclasses.replace(settings, lr=0.1))
    assert (worse.best.step == 0).all()
    torch.testing.assert_close(worse.unit.weight, worse.initial["weight"], rtol=0, atol=0)
    without = []
    fit(_linear_problem(), dataclasses.replace(settings, log_step_zero=False), on_log=lambda s, m: without.append(s))
    assert without == [2, 4]


def test_log_step_zero_must_be_a_bool():
    with pytest.raises(ValueError, match="log_step_zero must be True or False"):
        EngineConfig(steps=10, lr=0.1, log_step_zero=1)
