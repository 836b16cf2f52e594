"""TRM-DEQ in the torch engine (reference.md §4.2) against the phantom map and the IFT adjoint
written out here with autograd, independently of reclab.model.trm_deq's grad_part."""

import pytest
import torch

from reclab.deq import jacobian_penalty, solve
from reclab.model.recursive_model import create_model
from reclab.model.trm_deq import DEQ_STEP_STATISTICS, TRMDEQ
from reclab.train.act_carry import ExampleBatch
from reclab.train.train_state import create_train_state
from reclab.train.train_step import train_step

from deq_fixtures import TASK, TRAIN

MODEL = dict(arch="trm-deq", mixer="mlp_t", hiddenSize=8, numHeads=2, expansion=2, ffnMultipleOf=4, layers=1,
             hCycles=2, lCycles=2, puzzleEmbLen=1, posEncodings="none", ropeTheta=10000, rmsNormEps=1e-5, qHeadBiasInit=-5,
             deq=dict(solver="anderson", maxIter=6, minIter=2, phantomSteps=2))


def deq_model(seed=3, **deq):
    model = create_model({**MODEL, "deq": {**MODEL["deq"], **deq}}, TASK)
    model.reset_parameters_(torch.Generator().manual_seed(seed))
    with torch.no_grad():
        model.q_head.weight.copy_(torch.sin(torch.arange(16.0)).view(2, 8) * 0.3)
    return model


def inputs(model, seed=5):
    g = torch.Generator().manual_seed(seed)
    S, D = model.total_len, model.width
    tokens = torch.randint(1, 6, (2, 4), generator=g)
    return torch.randn(2, S, D, generator=g), torch.randn(2, S, D, generator=g), tokens


def loss_of(logits, q_halt):
    return (logits * torch.cos(torch.arange(logits.numel(), dtype=torch.float32)).view_as(logits)).sum() + q_halt.sum()


def grads(model, loss):
    params = [p for _, p in model.named_tfjs_parameters()]
    return torch.autograd.grad(loss, params, allow_unused=True)


def reference_no_grad(model, z_H, z_L, x, T):
    """T − 1 (solve, answer update) cycles and the last solve, with the solver called directly."""
    f = lambda zH: (lambda z: model.net(z, zH + x))  # noqa: E731
    opts = model.solving.options
    with torch.no_grad():
        for _ in range(T - 1):
            z_L, _ = solve("anderson", f(z_H), z_L, opts)
            z_H = model.net(z_H, z_L)
        z_L, _ = solve("anderson", f(z_H), z_L, opts)
    return z_H, z_L


@pytest.mark.parametrize("K,tau", [(2, 1.0), (1, 0.7), (3, 0.5)])
def test_phantom_gradient_is_the_gradient_of_the_K_step_map(K, tau):
    model = deq_model(phantomSteps=K, phantomDamping=tau)
    z_H0, z_L0, tokens = inputs(model)
    z_H, z_L, logits, q_halt, _ = model.supervision_step(z_H0, z_L0, tokens, model.depth)
    got = grads(model, loss_of(logits, q_halt))
    # Written out: z* from the solver, then K damped steps and the answer update with autograd.
    x = model.input_embedding(tokens)
    zH, z = reference_no_grad(model, z_H0, z_L0, x.detach(), model.depth.h_cycles)
    for _ in range(K):
        z = tau * model.net(z, zH + x) + (1 - tau) * z
    zH_new = model.net(zH, z)
    ref_logits, ref_q, _ = model.heads(zH_new)
    want = grads(model, loss_of(ref_logits, ref_q))
    torch.testing.assert_close(z_L, z, rtol=1e-5, atol=1e-6)
    for (name, _), a, b in zip(model.named_tfjs_parameters(), got, want):
        assert a is not None and b is not None, name
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-7, msg=name)


def test_ift_gradient_solves_the_adjoint_of_the_explicit_jacobian():
    # A contractive latent map (small weights), so the adjoint fixed-point iteration converges.
    model = deq_model(gradient="ift", tol=1e-7, stopMode="abs", maxIter=60, minIter=0)
    with torch.no_grad():
        for p in model.layers.parameters():
            p.mul_(0.2)
    z_H0, z_L0, tokens = inputs(model)
    z_H, z_L, logits, q_halt, _ = model.supervision_step(z_H0, z_L0, tokens, model.depth)
    got = grads(model, loss_of(logits, q_halt))
    stats = model.take_step_statistics()
    assert stats["deqAdjointIterations"] >= 1 and stats["deqAdjointConvergedFraction"] == 1.0 and stats["deqAdjointAbsMax"] < 1e-6
    x = model.input_embedding(tokens)
    zH, z_star = reference_no_grad(model, z_H0, z_L0, x.detach(), model.depth.h_cycles)
    f = lambda z: model.net(z, zH + x)  # noqa: E731
    # v = ∂L/∂z_L at z*, u = (I − J_fᵀ)⁻¹ v with the dense Jacobian, then ∂L/∂θ = direct + uᵀ ∂f/∂θ.
    zs = z_star.detach().requires_grad_()
    ref_logits, ref_q, _ = model.heads(model.net(zH, zs))
    direct_loss = loss_of(ref_logits, ref_q)
    (v,) = torch.autograd.grad(direct_loss, zs, retain_graph=True)
    n = zs.numel()
    J = torch.autograd.functional.jacobian(lambda z: model.net(z.view_as(zs), (zH + x).detach()).reshape(-1), zs.detach().reshape(-1))
    u = torch.linalg.solve(torch.eye(n) - J.T.double(), v.reshape(-1).double()).float().view_as(zs)
    params = [p for _, p in model.named_tfjs_parameters()]
    d1 = torch.autograd.grad(direct_loss, params, allow_unused=True)
    d2 = torch.autograd.grad((f(z_star.detach()) * u).sum(), params, allow_unused=True)
    for (name, _), a, g1, g2 in zip(model.named_tfjs_parameters(), got, d1, d2):
        want = (g1 if g1 is not None else 0) + (g2 if g2 is not None else 0)
        torch.testing.assert_close(a, want if torch.is_tensor(want) else torch.zeros_like(a), rtol=2e-3, atol=1e-5, msg=name)


def batch(seed=2):
    g = torch.Generator().manual_seed(seed)
    return ExampleBatch(torch.randint(1, 6, (4, 4), generator=g), torch.randint(2, 6, (4, 4), generator=g), torch.zeros(4, dtype=torch.int32))


@pytest.mark.parametrize("tol,iterations,converged", [(1e-12, 6, 0.0), (1e9, 2, 1.0)])
def test_step_metrics_carry_the_solver_statistics_and_the_stop_rule(tol, iterations, converged):
    model = deq_model(tol=tol)
    state = create_train_state(model, TRAIN)
    import numpy as np
    m = train_step(state, batch(), TRAIN, model.depth, 1e-3, np.random.default_rng(0))
    s = m.model_stats
    assert sorted(s) == sorted(DEQ_STEP_STATISTICS)
    assert s["deqIterations"] == iterations
    assert s["deqIterationsMax"] == iterations
    assert s["deqConvergedFraction"] == converged
    assert s["deqAbsMax"] >= s["deqAbsMean"] > 0 and s["deqRelMax"] >= s["deqRelMean"]


def test_jacobian_regularizer_adds_lambda_times_the_penalty_gradient():
    import numpy as np
    lam = 0.5
    grads_at = {}
    for lj in (0.0, lam):
        model = deq_model(jacobianReg=lj)
        state = create_train_state(model, {**TRAIN, "microBatchSize": 4})
        torch.manual_seed(7)
        train_step(state, batch(), {**TRAIN, "microBatchSize": 4, "lr": 1e-3}, model.depth, 0.0, np.random.default_rng(0))
        grads_at[lj] = {n: p.grad.clone() for n, p in model.named_tfjs_parameters()}
    # The penalty alone, at the same z_L* (the first step starts from the fixed inits) and draw.
    model = deq_model()
    carry_H, carry_L = model.initial_states(4)
    b = batch()
    x = model.input_embedding(b.tokens)
    zH, z_star = reference_no_grad(model, carry_H, carry_L, x.detach(), model.depth.h_cycles)
    torch.manual_seed(7)
    pen = jacobian_penalty(lambda z: model.net(z, zH + x), z_star)
    pg = dict(zip([n for n, _ in model.named_tfjs_parameters()], torch.autograd.grad(pen, [p for _, p in model.named_tfjs_parameters()], allow_unused=True)))
    for name, g0 in grads_at[0.0].items():
        extra = pg[name] if pg[name] is not None else torch.zeros_like(g0)
        torch.testing.assert_close(grads_at[lam][name], g0 + lam * extra, rtol=1e-4, atol=1e-6, msg=name)


def test_bad_deq_fields_are_refused_by_name():
    with pytest.raises(ValueError, match="model.deq.solver"):
        create_model({**MODEL, "deq": {"solver": "newton"}}, TASK)
    with pytest.raises(ValueError, match="model.deq.gradient"):
        create_model({**MODEL, "deq": {"gradient": "bptt"}}, TASK)
    assert isinstance(create_model(MODEL, TASK), TRMDEQ)


def test_step_statistics_of_hand_made_solves_mean_and_max_iterations():
    from reclab.deq.stats import SolverStats
    from reclab.model.trm_deq import DeqStepStatistics

    def solve(iterations, abs_, rel, converged):
        a, r = torch.tensor(abs_), torch.tensor(rel)
        return SolverStats("anderson", "rel", 1e-3, iterations, a[:, None], r[:, None], a, r, torch.full((len(abs_),), iterations), a, r, torch.tensor(converged))

    s = DeqStepStatistics()
    s.add(solve(3, [0.5, 1.5], [0.1, 0.3], [True, False]))
    s.add(solve(5, [2.0, 0.0], [0.4, 0.0], [False, True]))
    got = s.take()
    want = {"deqIterations": 4, "deqIterationsMax": 5, "deqAbsMean": 1, "deqAbsMax": 2, "deqRelMean": 0.2, "deqRelMax": 0.4, "deqConvergedFraction": 0.5}
    assert sorted(got) == sorted(want)
    for k, v in want.items():
        assert got[k] == pytest.approx(v, rel=1e-6), k
    assert s.take() == {}
