"""HRM in the torch engine (reference.md §1.5–1.7, hrm_act_v1.py) against hand-computed values and
the reference pseudo-code written out here independently of reclab.model.hrm."""
import math

import numpy as np
import pytest
import torch

from reclab.model.hrm import HRM
from reclab.model.recursive_model import Depth, TaskShape, create_model
from reclab.model.trm import TRM
from reclab.train.act_carry import ExampleBatch, update_halting
from reclab.train.flops import supervision_step_flops
from reclab.train.train_state import build_model, create_train_state
from reclab.train.train_step import q_continue_target, train_step

MODEL = dict(arch="hrm", mixer="attention", hiddenSize=16, numHeads=2, expansion=4, ffnMultipleOf=8, layers=2, hLayers=3,
             hCycles=2, lCycles=3, puzzleEmbLen=1, posEncodings="rope", ropeTheta=10000, rmsNormEps=1e-5, qHeadBiasInit=-5)
TRAIN = dict(steps=10, batchSize=4, microBatchSize=4, haltMaxSteps=3, haltExplorationProb=0.0, optimizer="adam_atan2",
             lr=1e-3, lrWarmupSteps=0, lrMinRatio=1, beta1=0.9, beta2=0.95, weightDecay=0.1, adamEpsilon=1e-8,
             puzzleEmbLr=1e-2, puzzleEmbWeightDecay=0.1, lossType="stablemax", qLossWeight=0.5,
             ema=dict(enabled=False, rate=0.999, warmup=True), curriculum=dict(enabled=False, boundaries=[]),
             hsw=dict(mode="off", decay=0.7))
TASK = TaskShape(6, 16)


def hrm(seed=4, **kw):
    model = HRM({**MODEL, **kw}, TASK)
    model.reset_parameters_(torch.Generator().manual_seed(seed))
    return model


def sigmoid(x):
    return 1 / (1 + math.exp(-x))


def bce(logit, target):
    return -(target * math.log(sigmoid(logit)) + (1 - target) * math.log(1 - sigmoid(logit)))


def blocks(model, layers, h, injection):
    """net(h, injection) = blocks(h + injection), written out here."""
    rope = (model.rope_cos, model.rope_sin, model.rope_q_cos, model.rope_q_sin)
    x = h + injection
    for block in layers:
        x = block(x, rope)
    return x


def reference_no_grad_states(model, z_H, z_L, x, H, L):
    """hrm_act_v1.py's no-grad loop: every L and H call but the last of each."""
    with torch.no_grad():
        for h in range(H):
            for l in range(L):
                if not (h == H - 1 and l == L - 1):
                    z_L = blocks(model, model.l_layers, z_L, z_H + x)
            if h < H - 1:
                z_H = blocks(model, model.h_layers, z_H, z_L)
    return z_H, z_L


# ---- the model ---------------------------------------------------------------------------------

def test_create_model_by_arch_and_the_hrm_parameter_names():
    assert isinstance(create_model({**MODEL, "arch": "trm"}, TASK), TRM)
    legacy = {k: v for k, v in MODEL.items() if k != "arch"}
    assert isinstance(create_model(legacy, TASK), TRM)  # a config from before HRM: trm
    with pytest.raises(ValueError, match="model.arch: the torch engine has no 'xyz' model"):
        create_model({**MODEL, "arch": "xyz"}, TASK)
    shapes = hrm().tfjs_shapes()
    assert [n for n in shapes if n.startswith("h_layers.0.")] == ["h_layers.0.attn.qkv", "h_layers.0.attn.o", "h_layers.0.mlp.gate_up",
                                                                    "h_layers.0.mlp.down"]
    assert sum(n.startswith("h_layers.") for n in shapes) == 3 * 4 and sum(n.startswith("l_layers.") for n in shapes) == 2 * 4
    assert not any(n.startswith("layers.") for n in shapes)
    assert shapes["q_head.w"] == (16, 2) and shapes["puzzle_emb"] == (16,)
    assert sum(n.startswith("h_layers.") for n in HRM({**MODEL, "hLayers": None}, TASK).tfjs_shapes()) == 2 * 4  # absent = layers


def test_supervision_step_is_the_reference_loop_and_grad_flows_only_through_the_last_L_and_H_call():
    model = hrm()
    H, L = 2, 3
    tokens = torch.randint(1, 6, (2, 16), generator=torch.Generator().manual_seed(1))
    z_H0 = torch.randn(2, 17, 16, requires_grad=True)
    z_L0 = torch.randn(2, 17, 16, requires_grad=True)
    z_H, z_L, logits, q_halt, q_cont = model.supervision_step(z_H0, z_L0, tokens, Depth(H, L))
    (logits.square().sum() + q_halt.sum() + 2 * q_cont.sum()).backward()
    assert z_H0.grad is None and z_L0.grad is None  # the carried states sit behind no_grad
    got = {n: p.grad.clone() for n, p in model.named_tfjs_parameters()}

    # The one-step map from the detached no-grad states: one L call, one H call, the heads.
    model.zero_grad(set_to_none=True)
    x = model.input_embedding(tokens)
    h0, l0 = reference_no_grad_states(model, z_H0.detach(), z_L0.detach(), x.detach(), H, L)
    l1 = blocks(model, model.l_layers, l0, h0 + x)
    h1 = blocks(model, model.h_layers, h0, l1)
    ref_logits = h1[:, 1:] @ model.lm_head.weight.t()
    q = h1[:, 0] @ model.q_head.weight.t() + model.q_head.bias
    (ref_logits.square().sum() + q[:, 0].sum() + 2 * q[:, 1].sum()).backward()
    torch.testing.assert_close(z_H, h1.detach())
    torch.testing.assert_close(z_L, l1.detach())
    for n, p in model.named_tfjs_parameters():
        torch.testing.assert_close(got[n], p.grad, msg=n)
        assert p.grad.abs().max() > 0, n  # every parameter is reached

    # Discriminates: backprop through all 6 L and 2 H calls gives a different L-network gradient.
    model.zero_grad(set_to_none=True)
    zh, zl, x = z_H0.detach(), z_L0.detach(), model.input_embedding(tokens)
    for _ in range(H):
        for _ in range(L):
            zl = blocks(model, model.l_layers, zl, zh + x)
        zh = blocks(model, model.h_layers, zh, zl)
    full_q = zh[:, 0] @ model.q_head.weight.t() + model.q_head.bias
    ((zh[:, 1:] @ model.lm_head.weight.t()).square().sum() + full_q[:, 0].sum() + 2 * full_q[:, 1].sum()).backward()
    torch.testing.assert_close(zh.detach(), h1.detach())  # the same forward numbers ...
    assert not torch.allclose(model.l_layers[0].mlp.down.weight.grad, got["l_layers.0.mlp.down"])  # ... other gradient


def test_one_h_cycle_with_one_l_step_has_all_its_gradient():
    # H = L = 1: the no-grad part is empty, so the carried states get gradient.
    model = hrm()
    z_H0 = torch.randn(1, 17, 16, requires_grad=True)
    z_L0 = torch.randn(1, 17, 16, requires_grad=True)
    _, _, logits, _, _ = model.supervision_step(z_H0, z_L0, torch.randint(1, 6, (1, 16)), Depth(1, 1))
    logits.sum().backward()
    assert z_H0.grad.abs().max() > 0 and z_L0.grad.abs().max() > 0


def test_hrm_flops_by_hand():
    # D 16, S 16 + 1 = 17, 2 heads, attention; SwiGLU hidden round(16·4·2/3 = 42.7) = 43 -> 48.
    # block: 8·17·16² + 4·17²·16 + 6·17·16·48 = 34,816 + 18,496 + 78,336 = 131,648;
    # L-net (2 blocks) 263,296, H-net (3 blocks) 394,944; heads 2·16·16·6 + 2·16·2 = 3,136.
    # step: H·L = 6 L calls + H = 2 H calls + heads = 1,579,776 + 789,888 + 3,136 = 2,372,800.
    model = hrm()
    f = supervision_step_flops(model, Depth(2, 3), 4, True)
    assert f.forward == 4 * 2 * 2_372_800  # training: + the Q-continue target's extra forward
    assert f.backward == 4 * 2 * (263_296 + 394_944 + 3_136)  # one L call, one H call, the heads
    e = supervision_step_flops(model, Depth(2, 3), 4, False)
    assert (e.forward, e.backward) == (4 * 2_372_800, 0)


# ---- Q-continue and halting --------------------------------------------------------------------

def constant_q(model, q_halt, q_continue):
    """q_head weight 0 (as initialised) and this bias: every state gives these q values."""
    with torch.no_grad():
        model.q_head.weight.zero_()
        model.q_head.bias.copy_(torch.tensor([q_halt, q_continue]))


def test_q_continue_target_by_hand():
    # next q = (−0.4, 0.7) everywhere: not last -> sigmoid(max(−0.4, 0.7)) = 0.66819; last -> sigmoid(−0.4) = 0.40131.
    model = hrm()
    constant_q(model, -0.4, 0.7)
    z = torch.randn(2, 17, 16)
    t = q_continue_target(model, z, z, torch.randint(1, 6, (2, 16)), Depth(2, 3), torch.tensor([False, True]), None)
    assert t.tolist() == pytest.approx([0.6681878, 0.4013123], rel=1e-6)


def test_q_continue_target_comes_from_the_post_step_carry_on_the_same_data():
    model = hrm()
    with torch.no_grad():
        model.q_head.weight.normal_(0, 0.3, generator=torch.Generator().manual_seed(2))
    tokens = torch.randint(1, 6, (3, 16), generator=torch.Generator().manual_seed(3))
    z_H, z_L = torch.randn(3, 17, 16), torch.randn(3, 17, 16)
    # One more full step (2 H cycles of 3 L calls) written out, then q from position 0.
    x = model.input_embedding(tokens).detach()
    with torch.no_grad():
        zh, zl = z_H, z_L
        for _ in range(2):
            for _ in range(3):
                zl = blocks(model, model.l_layers, zl, zh + x)
            zh = blocks(model, model.h_layers, zh, zl)
        q = zh[:, 0] @ model.q_head.weight.t() + model.q_head.bias
    is_last = torch.tensor([False, True, False])
    want = torch.sigmoid(torch.where(is_last, q[:, 0], torch.maximum(q[:, 0], q[:, 1])))
    torch.testing.assert_close(q_continue_target(model, z_H, z_L, tokens, Depth(2, 3), is_last, None), want)


def test_hrm_halting_rule_on_constructed_values():
    # halted = is_last | (q_halt > q_continue); TRM's rule (q_halt > 0) would differ on rows 0 and 2.
    steps = np.array([0, 0, 0, 2], np.int32)
    q_halt = np.array([0.5, -1.0, -0.5, -3.0])
    q_cont = np.array([0.9, -2.0, -0.6, 1.0])
    halted = update_halting(steps, q_halt, 3, 0.0, True, np.random.default_rng(0), q_cont)
    assert steps.tolist() == [1, 1, 1, 3] and halted.tolist() == [False, True, True, True]
    assert update_halting(np.array([0, 0, 0, 2], np.int32), q_halt, 3, 0.0, True, np.random.default_rng(0)).tolist() == [True, False, False, True]
    # Evaluation: only N_sup halts.
    assert update_halting(np.array([0, 2], np.int32), np.array([9.0, -9.0]), 3, 0.0, False, np.random.default_rng(0), np.zeros(2)).tolist() == [False, True]
    # Exploration (the same two draws per row as TRM): a row may not halt before its minimum step.
    rng = np.random.default_rng(7)
    explore = rng.random(4) < 0.5
    min_halt = 2 + rng.integers(0, 9, size=4)  # haltMaxSteps 10: 2..10
    got = update_halting(np.ones(4, np.int32), np.full(4, 1.0), 10, 0.5, True, np.random.default_rng(7), np.zeros(4))  # steps -> 2
    assert got.tolist() == [bool(not e or m <= 2) for e, m in zip(explore, min_halt)]
    assert any(explore & (min_halt > 2)) and not all(got)  # the seed blocks at least one row


def test_train_step_q_continue_loss_and_halting_by_hand():
    model = build_model(MODEL, TASK, seed=5)
    constant_q(model, -0.4, 0.7)  # q_halt < q_continue everywhere: only is_last halts
    state = create_train_state(model, TRAIN)
    state.carry.halted[:] = False
    state.carry.steps[:] = [0, 1, 2, 0]  # row 2 takes its 3rd = last step
    g = torch.Generator().manual_seed(0)
    batch = ExampleBatch(torch.randint(1, 6, (4, 16), generator=g), torch.randint(2, 6, (4, 16), generator=g), torch.zeros(4, dtype=torch.int32))
    state.carry.data = batch
    m = train_step(state, batch, TRAIN, model.depth, 1e-3, np.random.default_rng(0))
    assert state.carry.halted.tolist() == [False, False, True, False]
    # targets sigmoid(0.7) (3 rows), sigmoid(−0.4) (the last row); loss BCE(0.7, target), mean over rows.
    want = (3 * bce(0.7, sigmoid(0.7)) + bce(0.7, sigmoid(-0.4))) / 4
    assert m.q_continue_loss == pytest.approx(want, rel=1e-5)
    assert m.q_halt_loss == pytest.approx(bce(-0.4, 0.0), rel=1e-5)  # no row is right at init


def test_trm_has_no_q_continue_loss():
    model = build_model({**MODEL, "arch": "trm"}, TASK, seed=5)
    state = create_train_state(model, TRAIN)
    g = torch.Generator().manual_seed(0)
    batch = ExampleBatch(torch.randint(1, 6, (4, 16), generator=g), torch.randint(2, 6, (4, 16), generator=g), torch.zeros(4, dtype=torch.int32))
    m = train_step(state, batch, TRAIN, model.depth, 1e-3, np.random.default_rng(0))
    assert math.isnan(m.q_continue_loss) and model.step_statistics == ()
    assert HRM.step_statistics == ("qContinueLoss",)


def test_hrm_training_state_round_trips_through_the_checkpoint_tensors():
    from reclab.train.train_state import load_state_tensors, state_tensors

    model = build_model(MODEL, TASK, seed=5)
    state = create_train_state(model, TRAIN)
    g = torch.Generator().manual_seed(0)
    batch = ExampleBatch(torch.randint(1, 6, (4, 16), generator=g), torch.randint(2, 6, (4, 16), generator=g), torch.zeros(4, dtype=torch.int32))
    train_step(state, batch, TRAIN, model.depth, 1e-3, np.random.default_rng(0))
    saved = state_tensors(state)
    assert "param/h_layers.2.seq_mlp.gate_up" not in saved and "param/h_layers.2.attn.qkv" in saved  # 3 H blocks, attention
    other = create_train_state(build_model(MODEL, TASK, seed=6), TRAIN)
    load_state_tensors(other, saved, state.step, state.ema_updates, "ckpt")
    for name, a in state_tensors(other).items():
        np.testing.assert_array_equal(a, saved[name], err_msg=name)
