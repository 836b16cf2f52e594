"""The Attractor form in the torch engine (reference.md §4.1, reclab.model.attractor) in float64:
the IFT gradient against central finite differences of the converged equilibrium (re-solved at
every perturbed parameter), the phantom gradient against finite differences of the K-step map from
the fixed y*, y* = c when the gates are closed, the Jacobian penalty, and the undecayed gates in the
optimizer."""

import pytest
import torch

from reclab.model.attractor import Attractor, raw_gate_init
from reclab.model.recursive_model import create_model
from reclab.train.train_state import create_train_state

from deq_fixtures import TASK, TRAIN, assert_central_differences

MODEL = dict(arch="attractor", mixer="mlp_t", hiddenSize=8, numHeads=2, expansion=2, ffnMultipleOf=4, layers=2,
             hCycles=1, lCycles=1, puzzleEmbLen=1, posEncodings="none", ropeTheta=10000, rmsNormEps=1e-5, qHeadBiasInit=-5,
             attractor=dict(backboneLayers=1, layerScaleInit=0.3, gammaMax=0.75),
             deq=dict(solver="fpi", maxIter=400, minIter=0, tol=1e-13, stopMode="abs", phantomSteps=2))


def attractor(seed=3, dtype=torch.float64, **deq) -> Attractor:
    model = create_model({**MODEL, "deq": {**MODEL["deq"], **deq}}, TASK)
    model.reset_parameters_(torch.Generator().manual_seed(seed))
    return model.to(dtype)


def tokens(seed=5):
    return torch.randint(1, 6, (2, 4), generator=torch.Generator().manual_seed(seed))


def weights_of(model, S, D, seed=7):
    return torch.randn(2, S, D, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def probe_params(model):
    return [("head.1.gate_mlp", 2), ("head.0.seq_mlp.gate_up", 5), ("backbone.0.mlp.down", 3), ("embed_tokens", 9)]


def test_gate_init_and_zero_initial_states():
    model = attractor()
    assert raw_gate_init(0.5, 0.75) == pytest.approx(0.6931471805599453, abs=1e-15)  # ln 2
    for name in ("head.0.gate_mixer", "head.1.gate_mlp"):
        gate = torch.sigmoid(dict(model.named_tfjs_parameters())[name]) * 0.75
        assert torch.allclose(gate, torch.full((8,), 0.3, dtype=torch.float64))
    assert model.undecayed_parameter_names() == ["head.0.gate_mixer", "head.0.gate_mlp", "head.1.gate_mixer", "head.1.gate_mlp"]
    assert not model.h_init.any() and not model.l_init.any()


def test_closed_gates_make_the_head_the_identity_so_y_star_is_c():
    model = attractor(deq={"maxIter": 5})
    with torch.no_grad():
        for block in model.head:
            for _, p in block.extra_parameters():
                p.fill_(-60.0)
    x = model.input_embedding(tokens())
    z = torch.zeros_like(x)
    z_H, z_L = model.cycle(z, z, x, 1)
    c = model.context(x)
    assert torch.allclose(z_L, torch.zeros_like(z_L), atol=1e-12)
    assert torch.allclose(z_H, c * torch.rsqrt(c.square().mean(-1, keepdim=True) + 1e-5), atol=1e-12)


def test_ift_gradient_matches_finite_differences_of_the_converged_equilibrium():
    """L(θ) = Σ u ⊙ RMSNorm(y*(θ)), y* re-solved to 1e-13 at every θ ± h: the IFT backward (adjoint solved to 1e-12)
    against the central difference."""
    model = attractor(gradient="ift")
    tok = tokens()
    S, D = model.total_len, model.width
    u = weights_of(model, S, D)
    z0 = torch.zeros(2, S, D, dtype=torch.float64)

    def loss():
        x = model.input_embedding(tok)
        z_H, z_L = model.no_grad_part(z0, z0, x, model.depth)
        z_H, _ = model.grad_part(z_H, z_L.double(), x, model.depth)
        return (u * z_H).sum()

    params = dict(model.named_tfjs_parameters())
    probes = probe_params(model)
    g = torch.autograd.grad(loss(), [params[n] for n, _ in probes])
    assert_central_differences(model, probes, g, loss, rtol=1e-5, atol=1e-7, what="IFT")
    stats = model.take_step_statistics()
    assert stats["deqAbsMax"] < 1e-12 and stats["deqConvergedFraction"] == 1.0
    assert stats["deqAdjointConvergedFraction"] == 1.0, stats  # the adjoint (plain iteration, abs 1e-6) converged too


@pytest.mark.parametrize("K,tau", [(2, 1.0), (1, 0.6)])
def test_phantom_gradient_matches_finite_differences_of_the_K_step_map_from_the_fixed_y_star(K, tau):
    model = attractor(phantomSteps=K, phantomDamping=tau)
    tok = tokens()
    S, D = model.total_len, model.width
    u = weights_of(model, S, D)
    z0 = torch.zeros(2, S, D, dtype=torch.float64)
    with torch.no_grad():
        _, y_star = model.no_grad_part(z0, z0, model.input_embedding(tok), model.depth)
    y_star = y_star.double()

    def phantom_loss():  # the same function written out: c from the backbone, K damped steps of f from y*
        c = model.context(model.input_embedding(tok))
        y = y_star
        for _ in range(K):
            y = tau * (model.fp_head(y + c) - y) + (1 - tau) * y
        return (u * y * torch.rsqrt(y.square().mean(-1, keepdim=True) + 1e-5)).sum()

    def taped_loss():
        z_H, _ = model.grad_part(z0, y_star, model.input_embedding(tok), model.depth)
        return (u * z_H).sum()

    params = dict(model.named_tfjs_parameters())
    probes = probe_params(model)
    g = torch.autograd.grad(taped_loss(), [params[n] for n, _ in probes])
    assert_central_differences(model, probes, g, phantom_loss, rtol=1e-6, atol=1e-8, what=f"K {K} taped")


def test_jacobian_penalty_of_the_attractor_map_is_taken_once():
    model = attractor(jacobianReg=1e-3, maxIter=20)
    tok = tokens()
    z0 = torch.zeros(2, model.total_len, model.width, dtype=torch.float64)
    x = model.input_embedding(tok)
    z_H, z_L = model.no_grad_part(z0, z0, x, model.depth)
    model.grad_part(z_H, z_L.double(), x, model.depth)
    r = model.take_regularizer()
    assert r is not None and r.requires_grad and float(r) > 0
    assert model.take_regularizer() is None


def test_the_optimizer_skips_weight_decay_on_the_gates_only():
    model = attractor(dtype=torch.float32)
    state = create_train_state(model, TRAIN)
    groups = state.optimizer.param_groups
    gates = {id(p) for n, p in model.named_tfjs_parameters() if n in model.undecayed_parameter_names()}
    assert [g["weight_decay"] for g in groups] == [0.1, 0.0]
    assert {id(p) for p in groups[1]["params"]} == gates and len(gates) == 4
    assert not gates & {id(p) for p in groups[0]["params"]}


def test_layer_scale_init_at_or_above_gamma_max_is_refused_by_name():
    with pytest.raises(ValueError, match=r"model\.attractor\.layerScaleInit: 0\.8 must be below gammaMax 0\.75"):
        create_model({**MODEL, "attractor": {"layerScaleInit": 0.8, "gammaMax": 0.75}}, TASK)


def test_onestep_gradient_through_the_model_is_v_plus_clipped_jacobian_transpose_v():
    """gradient "onestep": dL/dθ = uᵀ ∂f(y*)/∂θ with u = v + clip(J_fᵀ v), J_f = ∂f/∂y at y*, written out here with autograd."""
    for clip in (None, 0.01):
        model = attractor(gradient="onestep", adjointClip=clip)
        tok = tokens()
        S, D = model.total_len, model.width
        u_out = weights_of(model, S, D)
        z0 = torch.zeros(2, S, D, dtype=torch.float64)
        x = model.input_embedding(tok)
        _, y_star = model.no_grad_part(z0, z0, x, model.depth)
        z_H, _ = model.grad_part(z0, y_star, x, model.depth)
        params = [p for _, p in model.named_tfjs_parameters()]
        got = torch.autograd.grad((u_out * z_H).sum(), params, allow_unused=True)
        # By hand: v = ∂L/∂y at y*, then u, then one VJP of f(y*) (c with gradient) with u.
        y = y_star.detach().requires_grad_()
        (v,) = torch.autograd.grad((u_out * y * torch.rsqrt(y.square().mean(-1, keepdim=True) + 1e-5)).sum(), y)
        c = model.context(model.input_embedding(tok))
        y2 = y_star.detach().requires_grad_()
        fy = model.fp_head(y2 + c) - y2
        (jv,) = torch.autograd.grad(fy, y2, v, retain_graph=True)
        if clip is not None:
            limit, length = clip * v.reshape(2, -1).norm(dim=1), jv.reshape(2, -1).norm(dim=1)
            assert bool((length > limit).all()), "the clip is exercised"
            jv = jv * (limit / length).view(2, 1, 1)
        want = torch.autograd.grad(fy, params, v + jv, allow_unused=True)
        for (name, _), g, w in zip(model.named_tfjs_parameters(), got, want):
            if w is None:
                assert g is None or not g.any(), name
                continue
            assert torch.allclose(g, w, rtol=1e-9, atol=1e-12), name
