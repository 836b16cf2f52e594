"""The torch engine's pieces against hand-computed values and reference formulas (each expected
number is worked out in the comment next to it, not captured from the code)."""
import math

import numpy as np
import pytest
import torch

from reclab.model.initializers import TRUNCATED_STD, truncated_normal_
from reclab.model.layers import apply_rope, rms_norm, rope_tables, swiglu_hidden_size
from reclab.model.trm import TRM, Depth, TaskShape
from reclab.train.act_carry import ActCarry, ExampleBatch, reset_halted_rows, update_halting
from reclab.train.curriculum import depth_schedule, derived_stages
from reclab.train.ema import ema_decay, ema_update
from reclab.train.flops import supervision_step_flops
from reclab.train.gradient_variance import relative_gradient_variance
from reclab.train.hsw import code_faithful_scale, paper_faithful_weights
from reclab.train.losses import act_loss, stablemax_s, token_cross_entropy
from reclab.train.lr_schedule import learning_rate
from reclab.train.optimizers import AdamATan2, SignSGD

torch.set_default_dtype(torch.float32)


def model_cfg(**kw):
    cfg = dict(arch="trm", mixer="attention", hiddenSize=128, numHeads=4, expansion=4, ffnMultipleOf=256, layers=2,
               hCycles=3, lCycles=6, puzzleEmbLen=0, posEncodings="rope", ropeTheta=10000, rmsNormEps=1e-5, qHeadBiasInit=-5)
    cfg.update(kw)
    return cfg


# ---- losses ------------------------------------------------------------------------------------

def test_stablemax_cross_entropy_and_its_gradient_by_hand():
    # logits [0, 1, -1]: s = [0 + 1, 1 + 1, 1/(1 + 1)] = [1, 2, 0.5], Σ = 3.5; label 1: CE = −ln(2/3.5) = ln 1.75.
    x = torch.tensor([[0.0, 1.0, -1.0]], requires_grad=True)
    ce = token_cross_entropy(x, torch.tensor([1]), "stablemax")
    assert ce.item() == pytest.approx(math.log(1.75), rel=1e-6)
    ce.sum().backward()
    # dCE/dx_j = s'(x_j)/Σ − [j = label]·s'(x_j)/s(x_j); s'(x) = 1 for x ≥ 0 (also at 0), 1/(1−x)² below.
    expected = [1 / 3.5, 1 / 3.5 - 1 / 2, 0.25 / 3.5]
    np.testing.assert_allclose(x.grad[0].numpy(), expected, rtol=1e-6)


def test_stablemax_is_finite_far_out():
    s = stablemax_s(torch.tensor([-1e30, -1e6, 1e6]))
    assert torch.isfinite(s).all()
    np.testing.assert_allclose(s.numpy(), [1e-30, 1 / (1 + 1e6), 1e6 + 1], rtol=1e-6)


def test_act_loss_ignores_label_zero_and_targets_row_correctness():
    # Row 0: tokens argmax-right at both valid positions (label 0 at position 2 ignored) -> correct.
    # Row 1: one wrong token -> not correct. q_halt = 0 for both: BCE = ln 2 either way.
    logits = torch.tensor([[[0.0, 0.0, 3.0], [0.0, 3.0, 0.0], [9.0, 0.0, 0.0]],
                           [[0.0, 0.0, 3.0], [3.0, 0.0, 0.0], [0.0, 3.0, 0.0]]])
    labels = torch.tensor([[2, 1, 0], [2, 1, 1]])
    out = act_loss(logits, labels, torch.zeros(2), "stablemax")
    # CE of a [1, 1, 4] row at its label 4: −ln(4/6) = ln 1.5; at a wrong 1: −ln(1/6) = ln 6.
    np.testing.assert_allclose(out.lm_loss_per_row.numpy(), [math.log(1.5), (2 * math.log(1.5) + math.log(6)) / 3], rtol=1e-6)
    np.testing.assert_array_equal(out.row_correct.numpy(), [1, 0])
    np.testing.assert_array_equal(out.row_tokens_right.numpy(), [2, 2])
    np.testing.assert_array_equal(out.row_valid_tokens.numpy(), [2, 3])
    np.testing.assert_allclose(out.q_halt_loss_per_row.numpy(), [math.log(2)] * 2, rtol=1e-6)


# ---- optimizers, EMA, schedule ----------------------------------------------------------------

def test_adam_atan2_two_steps_by_hand():
    p = torch.nn.Parameter(torch.tensor([1.0], dtype=torch.float64))
    opt = AdamATan2([p], lr=0.1, betas=(0.9, 0.95), weight_decay=0.1)
    p.grad = torch.tensor([0.5], dtype=torch.float64)
    opt.step()
    # m = 0.05, v = 0.0125; p = 1·(1 − 0.01) − 0.1/0.1 · atan2(0.05, sqrt(0.0125)/sqrt(0.05) = 0.5) = 0.99 − atan(0.1)
    assert p.item() == pytest.approx(0.99 - 0.09966865249116204, abs=1e-12)
    p.grad = torch.tensor([-1.0], dtype=torch.float64)
    opt.step()
    # m = 0.045 − 0.1 = −0.055, v = 0.011875 + 0.05 = 0.061875, bias corrections 0.19 and 0.0975.
    after_one = 0.99 - 0.09966865249116204
    expected = after_one * 0.99 - 0.1 / 0.19 * math.atan2(-0.055, math.sqrt(0.061875) / math.sqrt(0.0975))
    assert p.item() == pytest.approx(expected, abs=1e-12)


def test_adam_atan2_ignores_a_constant_gradient_scale():
    def run(scale):
        p = torch.nn.Parameter(torch.tensor([1.0, -2.0]))
        opt = AdamATan2([p], lr=0.01, weight_decay=0.0)
        for g in ([0.3, -0.1], [0.2, 0.4]):
            p.grad = torch.tensor(g) * scale
            opt.step()
        return p.detach().clone()
    torch.testing.assert_close(run(1.0), run(1000.0))


def test_sign_sgd_by_hand():
    p = torch.nn.Parameter(torch.tensor([1.0, -2.0, 0.5]))
    opt = SignSGD([p], lr=0.1, weight_decay=0.5)
    p.grad = torch.tensor([0.3, -1e-9, 0.0])
    opt.step()
    # p·(1 − 0.05) − 0.1·sign(g): [0.95 − 0.1, −1.9 + 0.1, 0.475 − 0]
    np.testing.assert_allclose(p.detach().numpy(), [0.85, -1.8, 0.475], rtol=1e-6)


def test_ema_both_forms():
    assert ema_decay(0, 0.999, True) == pytest.approx(1 / 10)  # (1 + 0)/(10 + 0)
    assert ema_decay(90, 0.9, True) == 0.9  # (91/100 > 0.9) -> the rate
    assert ema_decay(0, 0.999, False) == 0.999
    s, p = torch.tensor([1.0]), torch.tensor([3.0])
    ema_update([s], [p], 0.75)
    assert s.item() == pytest.approx(0.75 * 1 + 0.25 * 3)


def test_learning_rate_warmup_then_cosine():
    assert learning_rate(5, 1.0, 10, 110, 0.1) == pytest.approx(0.5)  # 5/10 of the warm-up
    assert learning_rate(60, 1.0, 10, 110, 0.1) == pytest.approx(0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi / 2)))
    assert learning_rate(110, 1.0, 10, 110, 0.1) == pytest.approx(0.1)
    assert learning_rate(50, 1.0, 0, 100, 1.0) == 1.0


# ---- layers ------------------------------------------------------------------------------------

def test_rms_norm_by_hand():
    # [3, 4]: mean square 12.5 -> [3, 4] / sqrt(12.5 + eps)
    out = rms_norm(torch.tensor([[3.0, 4.0]]), 1e-5)
    np.testing.assert_allclose(out.numpy(), [[3 / math.sqrt(12.5 + 1e-5), 4 / math.sqrt(12.5 + 1e-5)]], rtol=1e-6)


def test_rms_norm_gradient_matches_autograd_of_the_formula():
    # The closed-form backward against autograd through h·(mean(h²) + eps)^−½ in float64.
    h = torch.randn(3, 5, 8, dtype=torch.float64, generator=torch.Generator().manual_seed(0), requires_grad=True)
    dy = torch.randn(3, 5, 8, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    (ours,) = torch.autograd.grad(rms_norm(h, 1e-5), h, dy)
    (plain,) = torch.autograd.grad(h * (h.pow(2).mean(-1, keepdim=True) + 1e-5) ** -0.5, h, dy)
    torch.testing.assert_close(ours, plain, rtol=1e-10, atol=1e-12)
    assert torch.autograd.gradcheck(lambda x: rms_norm(x, 1e-5), (h,))


def test_rope_rotates_each_pair_by_position_times_frequency():
    # head_dim 4, theta 10000: frequencies 1 and 1/100; pairs (0, 2) and (1, 3) (rotate-half layout).
    cos, sin = rope_tables(3, 4, 10000.0)
    x = torch.tensor([1.0, 0.0, 0.0, 1.0]).expand(3, 4)
    y = apply_rope(x, cos, sin)
    for pos in range(3):
        a, b = pos * 1.0, pos / 100
        # (x0, x2) = (1, 0) -> (cos a, sin a); (x1, x3) = (0, 1) -> (−sin b, cos b)
        np.testing.assert_allclose(y[pos].numpy(), [math.cos(a), -math.sin(b), math.sin(a), math.cos(b)], atol=1e-6)


def test_rope_scores_depend_only_on_relative_position():
    cos, sin = rope_tables(8, 8, 10000.0)
    g = torch.Generator().manual_seed(0)
    q, k = torch.randn(8, generator=g), torch.randn(8, generator=g)
    qs, ks = apply_rope(q.expand(8, 8), cos, sin), apply_rope(k.expand(8, 8), cos, sin)
    assert (qs[5] @ ks[2]).item() == pytest.approx((qs[4] @ ks[1]).item(), abs=1e-5)


def test_swiglu_hidden_sizes_of_the_reference():
    assert swiglu_hidden_size(512, 4, 256) == 1536  # round(1365.33) = 1365 -> 1536
    assert swiglu_hidden_size(97, 4, 256) == 512  # round(258.67) = 259 -> 512
    assert swiglu_hidden_size(128, 4, 256) == 512  # round(341.33) -> 512


def test_truncated_normal_is_clipped_and_has_the_requested_std():
    t = torch.empty(200_000)
    truncated_normal_(t, 0.5, torch.Generator().manual_seed(1))
    assert t.abs().max().item() <= 2 * 0.5 / TRUNCATED_STD + 1e-6
    assert t.std().item() == pytest.approx(0.5, rel=0.01)


# ---- the model ---------------------------------------------------------------------------------

def test_the_9x9_benchmark_step_is_205_gflop():
    # D=128, L=81, attention: per call 2·(8·81·128² + 4·81²·128 + 6·81·128·512) = 91,653,120;
    # heads 2·81·128·11 + 2·128·2 = 228,608; forward 21 calls, backward 2·(7 calls + heads); ×64 rows.
    model = TRM(model_cfg(), TaskShape(11, 81))
    f = supervision_step_flops(model, Depth(3, 6), 64, True)
    assert f.forward == 64 * (21 * 91_653_120 + 228_608)
    assert f.backward == 64 * 2 * (7 * 91_653_120 + 228_608)
    assert f.forward + f.backward == 205_346_881_536


def test_reference_parameter_count_of_trm_mlp_sudoku():
    # reference.md §1.9: 5,028,866 main parameters (+ the [512] puzzle embedding).
    model = TRM(model_cfg(mixer="mlp_t", hiddenSize=512, numHeads=8, puzzleEmbLen=16, posEncodings="none"), TaskShape(11, 81))
    shapes = model.tfjs_shapes()
    assert sum(int(np.prod(shapes[n])) for n in model.main_parameter_names()) == 5_028_866
    assert shapes["puzzle_emb"] == (512,)
    assert shapes["layers.0.seq_mlp.gate_up"] == (97, 1024)  # [in, out]: the TF.js layout


def test_init_q_head_is_zero_with_bias_minus_5_and_tfjs_layout_round_trips():
    model = TRM(model_cfg(hiddenSize=16, numHeads=2, ffnMultipleOf=8, puzzleEmbLen=2), TaskShape(6, 16))
    model.reset_parameters_(torch.Generator().manual_seed(3))
    _, q_halt, q_cont = model.heads(torch.randn(3, model.total_len, 16) * 10)
    assert q_halt.tolist() == [-5.0] * 3 and q_cont.tolist() == [-5.0] * 3
    arrays = {f"param/{k}": v for k, v in model.tfjs_parameters().items() if k not in ("h_init", "l_init")}
    arrays.update(h_init=model.h_init.numpy(), l_init=model.l_init.numpy())
    # y = x·W in the TF.js layout equals the torch module's output.
    x = torch.randn(5, 16)
    torch.testing.assert_close(x @ torch.from_numpy(arrays["param/lm_head"]), model.lm_head(x))
    other = TRM(model.cfg, model.task)
    other.load_tfjs_parameters(arrays)
    for (n, a), (_, b) in zip(model.state_dict().items(), other.state_dict().items()):
        torch.testing.assert_close(a, b, msg=n)


def test_loading_a_wrong_shape_changes_nothing_and_names_the_tensor():
    model = TRM(model_cfg(hiddenSize=16, numHeads=2, ffnMultipleOf=8), TaskShape(6, 16))
    before = {k: v.clone() for k, v in model.state_dict().items()}
    arrays = {f"param/{k}": v for k, v in model.tfjs_parameters().items()}
    arrays["param/embed_tokens"] = np.ones((6, 16), np.float32)
    arrays["param/lm_head"] = np.zeros((6, 16), np.float32)  # transposed: wrong
    with pytest.raises(ValueError, match=r"param/lm_head has shape \[6, 16\], the model needs \[16, 6\]"):
        model.load_tfjs_parameters(arrays, source="w.safetensors")
    for k, v in model.state_dict().items():
        torch.testing.assert_close(v, before[k])


def test_gradient_flows_only_through_the_last_cycle():
    model = TRM(model_cfg(hiddenSize=16, numHeads=2, ffnMultipleOf=8, hCycles=3, lCycles=2), TaskShape(6, 16))
    model.reset_parameters_(torch.Generator().manual_seed(4))
    z_H = torch.randn(2, 16, 16, requires_grad=True)
    z_L = torch.randn(2, 16, 16, requires_grad=True)
    out_H, _, logits, _, _ = model.supervision_step(z_H, z_L, torch.randint(1, 6, (2, 16)), model.depth)
    logits.sum().backward()
    assert z_H.grad is None and z_L.grad is None  # T ≥ 2: the carried states sit behind no_grad


# ---- ACT carry, CGAR, V ------------------------------------------------------------------------

def test_reset_takes_new_rows_only_where_halted_and_halting_rules():
    D, S, L = 2, 3, 3
    carry = ActCarry(torch.full((2, S, D), 7.0), torch.full((2, S, D), 8.0), np.array([3, 1], np.int32), np.array([True, False]),
                     ExampleBatch(torch.full((2, L), 2), torch.full((2, L), 3), torch.tensor([1, 1], dtype=torch.int32)))
    incoming = ExampleBatch(torch.full((2, L), 4), torch.full((2, L), 5), torch.tensor([9, 9], dtype=torch.int32))
    new = reset_halted_rows(carry, incoming, torch.tensor([1.0, 2.0]), torch.tensor([3.0, 4.0]))
    assert new.steps.tolist() == [0, 1] and new.halted.tolist() == [False, False]
    assert new.data.tokens[:, 0].tolist() == [4, 2] and new.data.blanks.tolist() == [9, 1]
    assert new.z_H[0, 0].tolist() == [1.0, 2.0] and new.z_H[1, 0].tolist() == [7.0, 7.0]
    assert new.z_L[0, 2].tolist() == [3.0, 4.0] and new.z_L[1, 2].tolist() == [8.0, 8.0]
    steps = np.array([0, 2, 0, 5], np.int32)
    halted = update_halting(steps, np.array([-1.0, -1.0, 0.5, -1.0]), 3, 0.0, True, np.random.default_rng(0))
    assert steps.tolist() == [1, 3, 1, 6] and halted.tolist() == [False, True, True, True]
    # Evaluation: only N_sup halts. Exploration 1: a row may not halt before its drawn 2..N_sup.
    assert update_halting(np.array([0], np.int32), np.array([9.0]), 3, 0.0, False, np.random.default_rng(0)).tolist() == [False]
    assert update_halting(np.array([0], np.int32), np.array([9.0]), 3, 1.0, True, np.random.default_rng(0)).tolist() == [False]


def test_depth_curriculum_stages_and_boundaries():
    assert derived_stages(Depth(3, 6)) == [Depth(1, 2), Depth(2, 4), Depth(3, 6)]
    # Stage 2 is clamped to the base (min(base, .)); stage 1 keeps its floor of 2 L-cycles:
    # base (3, 1): stage 1 (1, 2), stage 2 min(1, max(2, 1)) = 1 L-cycle; base (1, 1) likewise.
    assert derived_stages(Depth(3, 1)) == [Depth(1, 2), Depth(2, 1), Depth(3, 1)]
    assert derived_stages(Depth(1, 1)) == [Depth(1, 2), Depth(1, 1), Depth(1, 1)]
    sched = depth_schedule(Depth(3, 6), {"enabled": True, "boundaries": [0.3, 0.6]})
    # progress (s − 1)/10: steps 1–3 -> stage 0, 4–6 -> 1, 7–10 -> 2
    assert [sched.at(s, 10)[0] for s in range(1, 11)] == [0, 0, 0, 1, 1, 1, 2, 2, 2, 2]
    assert depth_schedule(Depth(3, 6), {"enabled": False, "boundaries": [0.3]}).at(1, 10) == (0, Depth(3, 6))
    with pytest.raises(ValueError, match="boundaries"):
        depth_schedule(Depth(3, 6), {"enabled": True, "boundaries": [0.3]})


def test_supervision_weighting_both_readings():
    assert code_faithful_scale(np.array([1, 2, 4]), 0.7) == pytest.approx(0.49)  # floor(7/3) = 2 -> 0.7²
    # paper: decay 0.5, N_sup 3: Z = 1 + 0.5 + 0.25 = 1.75; t = 1 -> 1/1.75, t = 3 -> 0.25/1.75
    np.testing.assert_allclose(paper_faithful_weights(np.array([1, 3]), 0.5, 3), [1 / 1.75, 0.25 / 1.75], rtol=1e-6)


def test_gradient_variance_by_hand():
    # g = [1, 0], [3, 0]: mean [2, 0]; (1/2)(1 + 1) / 4 = 0.25
    assert relative_gradient_variance([torch.tensor([1.0, 0.0]), torch.tensor([3.0, 0.0])]) == pytest.approx(0.25)
    with pytest.raises(ValueError):
        relative_gradient_variance([torch.tensor([1.0])])
