"""train_step as a whole: gradient accumulation over micro-batches equals one full batch, the
bf16 autocast path runs and stays near fp32, and gradient_variance leaves the state alone."""
import copy

import numpy as np
import pytest
import torch

from reclab.model.trm import TaskShape
from reclab.train.act_carry import ExampleBatch
from reclab.train.train_state import build_model, create_train_state, state_tensors
from reclab.train.train_step import gradient_variance, train_step

MODEL = dict(arch="trm", mixer="attention", hiddenSize=16, numHeads=2, expansion=4, ffnMultipleOf=8, layers=2,
             hCycles=2, lCycles=2, puzzleEmbLen=1, posEncodings="rope", ropeTheta=10000, rmsNormEps=1e-5, qHeadBiasInit=-5)
TRAIN = dict(steps=10, batchSize=8, microBatchSize=8, haltMaxSteps=3, haltExplorationProb=0.0, optimizer="adam_atan2",
             lr=1e-3, lrWarmupSteps=0, lrMinRatio=1, beta1=0.9, beta2=0.95, weightDecay=0.1, adamEpsilon=1e-8,
             puzzleEmbLr=1e-2, puzzleEmbWeightDecay=0.1, lossType="stablemax", qLossWeight=0.5,
             ema=dict(enabled=True, rate=0.999, warmup=True), curriculum=dict(enabled=False, boundaries=[]),
             hsw=dict(mode="paper", decay=0.7))


def batches(n, seed=0):
    g = torch.Generator().manual_seed(seed)
    return [ExampleBatch(torch.randint(1, 6, (8, 16), generator=g), torch.randint(2, 6, (8, 16), generator=g),
                         torch.zeros(8, dtype=torch.int32)) for _ in range(n)]


def run(train, steps=3, autocast=None):
    model = build_model(MODEL, TaskShape(6, 16), seed=5)
    state = create_train_state(model, train)
    rng = np.random.default_rng(0)
    metrics = [train_step(state, b, train, model.depth, 1e-3, rng, autocast=autocast) for b in batches(steps)]
    return state, metrics


def test_micro_batches_sum_to_the_full_batch_gradient():
    full, m_full = run(TRAIN)
    micro, m_micro = run({**TRAIN, "microBatchSize": 3})  # 3 + 3 + 2 rows
    a, b = state_tensors(full), state_tensors(micro)
    for name in a:
        np.testing.assert_allclose(b[name], a[name], rtol=1e-4, atol=1e-6, err_msg=name)
    assert [m.lm_loss for m in m_micro] == pytest.approx([m.lm_loss for m in m_full], rel=1e-5)


def test_bf16_autocast_step_runs_and_stays_near_fp32():
    _, fp32 = run(TRAIN, steps=2)
    state, bf16 = run(TRAIN, steps=2, autocast=torch.bfloat16)
    assert state.carry.z_H.dtype == torch.float32  # the carry stays fp32
    for a, b in zip(fp32, bf16):
        assert b.lm_loss == pytest.approx(a.lm_loss, rel=0.05)
        assert b.grad_norm == pytest.approx(a.grad_norm, rel=0.2)


def test_gradient_variance_changes_nothing():
    state, _ = run(TRAIN, steps=2)
    before = copy.deepcopy(state_tensors(state))
    incoming = batches(1, seed=9)[0]
    v = gradient_variance(state, incoming, TRAIN, state.model.depth, 2)
    assert np.isfinite(v) and v > 0
    after = state_tensors(state)
    for name in before:
        np.testing.assert_array_equal(after[name], before[name], err_msg=name)
    assert all(p.grad is None for p in state.model.parameters())
    with pytest.raises(ValueError, match="gradientVarianceGroups"):
        gradient_variance(state, incoming, TRAIN, state.model.depth, 3)
