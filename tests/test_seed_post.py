"""seed-v2 against a plain, per-sample re-implementation of the seed post's second program.

arithnet runs the post's loop for all seeds at once, as tensors. Here each compared seed is run the way the
post writes it: NumPy, complex numbers, one sample at a time, its quirks kept (the real part of y·dE taken
before it multiplies log h, so W_out's gradient is y·dE·log|h|; every term clipped to ±700 and passed
through nan_to_num; each update divided by the power of ten of its integer part). Inputs and initial
weights come from arithnet, so both programs see the same numbers.

The loop is chaotic in places (an update whose magnitude crosses 10 is divided by 10 instead of 1), so a
difference in the last bit can grow over thousands of steps. The comparison is therefore step for
step: from arithnet's weights before each step, the post's update must give arithnet's weights after it.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from arithnet import TrainConfig, train
from arithnet.random import stream_keys
from arithnet.training.recipes import get_recipe
from arithnet.training.recipes.seed_post import CHUNK

STEPS = 10 * CHUNK  # 2,560 steps
# Seeds 7 to 15 in one run; 7 and 15 are compared. Between them, in these steps, they take every branch
# of the post's update: negative hidden values, updates of both layers divided by 10, a term clipped.
FIRST_SEED, N_SEEDS, COMPARED = 7, 9, (0, 8)
CLIP = 700.0  # the post's clip
LR = 0.1  # the post's η, both layers


def post_safe(value, facts):
    """The post's np.clip(·, −clip, clip) then np.nan_to_num; notes in ``facts`` when it clipped."""
    facts["clipped"] |= bool((np.abs(value) > CLIP).any())
    return np.nan_to_num(np.clip(value, -CLIP, CLIP))


def post_update(gradient):
    """The post's w10_u / 10**w10_d: the integer part's power of ten is divided out, if at least 1."""
    with np.errstate(divide="ignore"):
        power = np.where(gradient != 0.0, np.modf(np.log10(np.abs(gradient)))[1], 0.0)
    return gradient / np.power(10.0, np.clip(power, 0.0, CLIP))


def post_step(w0, w1, pair):
    """One step of the post's version 2 for one input pair: the new (W0, W1) and which branches it took."""
    facts = {"clipped": False}
    f_out0 = np.array(pair, dtype=complex)  # the post casts the accepted pair to complex
    t = f_out0[0] / f_out0[1]
    f_in0 = np.dot(w0, f_out0)
    f_out1 = np.log(f_in0)  # complex: a negative h gets the phase iπ
    f_in1 = np.dot(w1, f_out1)
    div = np.exp(f_in1)
    d_e = post_safe(np.real(div - t), facts)
    delta1 = post_safe(np.real(div * d_e), facts)
    delta0 = post_safe(np.real((1.0 / f_in0) * np.dot(w1.T, delta1)), facts)
    new = []
    for layer, (w, delta, f_out) in enumerate(((w0, delta0, f_out0), (w1, delta1, f_out1))):
        gradient = post_safe(np.real(delta.reshape(len(delta), 1) * f_out), facts)
        facts[f"divided_{layer}"] = bool((np.abs(gradient) >= 10).any())
        new.append(w - LR * post_update(gradient))
    facts["negative_h"] = bool((np.real(f_in0) < 0).any())
    return new[0], new[1], facts


@pytest.fixture(scope="module")
def seed_v2():
    """arithnet's seed-v2 for STEPS steps with a snapshot after every step, and the inputs it drew."""
    config = TrainConfig(
        operation="div", recipe="seed-v2", n_seeds=N_SEEDS, first_seed=FIRST_SEED, steps=STEPS, n_snapshots=STEPS + 1
    )
    result = train(config)
    recipe, keys = get_recipe("seed-v2"), stream_keys(result.config.seeds)
    chunks = [recipe._inputs(keys, chunk, result.config.train_range) for chunk in range(STEPS // CHUNK)]
    inputs = torch.cat(chunks, dim=1).to(torch.float64).numpy()  # (S, STEPS, 2), step n + 1 reads [:, n]
    return result, inputs


def test_history_holds_every_step_from_the_initial_weights(seed_v2):
    result, _ = seed_v2
    assert result.history.steps == list(range(STEPS + 1))
    for name, snapshots in result.history.stacked_weights().items():
        assert torch.equal(snapshots[0], result.initial[name]), name
    assert not result.initial["weight_out"].any()  # the post's W1 = 0


def test_every_step_is_the_posts_update(seed_v2):
    result, inputs = seed_v2
    weights = result.history.stacked_weights()
    facts = []
    for index in COMPARED:
        w_in, w_out = weights["weight_in"][:, index].numpy(), weights["weight_out"][:, index].numpy()
        for n in range(STEPS):
            w0, w1, fact = post_step(w_in[n], w_out[n], inputs[index, n])
            facts.append(fact)
            # Rounding of the last bits (NumPy's complex log and exp against arithnet's log|h| and
            # cos(π·…)) stays near 1e-15; a changed rule moves a weight by far more.
            where = f"seed {FIRST_SEED + index}, step {n + 1}"
            np.testing.assert_allclose(w0, w_in[n + 1], rtol=1e-12, atol=1e-12, err_msg=f"W0, {where}")
            np.testing.assert_allclose(w1, w_out[n + 1], rtol=1e-12, atol=1e-12, err_msg=f"W1, {where}")
    # The comparison covers every branch of the post's update, and training moved the weights far.
    for branch in ("negative_h", "divided_0", "divided_1", "clipped"):
        assert any(fact[branch] for fact in facts), branch
    assert float(weights["weight_out"][-1, list(COMPARED)].abs().max()) > 1


def test_inputs_follow_the_posts_filter(seed_v2):
    _, inputs = seed_v2
    a, b = inputs[..., 0], inputs[..., 1]
    assert (a >= 0).all() and (a < 10).all() and (b >= 0).all() and (b < 10).all()  # U(0, 10)
    assert (np.abs(a / b) <= np.log(np.log(CLIP))).all()  # drawn again until |a/b| ≤ log(log(700))
