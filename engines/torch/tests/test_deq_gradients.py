"""reclab.deq gradients against independent facts, all in float64: central finite differences of
the K-step unrolled map (phantom) and of the converged solution (IFT), the affine closed form,
the exact Frobenius norm from torch.autograd.functional.jacobian (Hutchinson), and the bytes saved
for backward not growing with the solver's iterations."""
import math

import numpy as np
import pytest
import torch

from reclab.deq import anderson, attach_implicit_gradient, attach_onestep_gradient, fixed_point_iter, implicit_gradients, jacobian_penalty, phantom_unroll

D, B = 6, 2


def problem(seed, norm=0.8):
    g = torch.Generator().manual_seed(seed)
    W = torch.randn(D, D, generator=g, dtype=torch.float64)
    W = W * norm / torch.linalg.matrix_norm(W, 2)
    x = 0.5 * torch.randn(B, D, generator=g, dtype=torch.float64)
    c = torch.cos(1 + 0.7 * torch.arange(B * D, dtype=torch.float64)).reshape(B, D)
    return W, x, c


def fixed_point(W, x):
    z = torch.zeros(B, D, dtype=torch.float64)
    for _ in range(3000):
        z = torch.tanh(z @ W + x)
    return z


def finite_differences(W, g, h=1e-6):
    out = torch.zeros_like(W)
    for i in range(W.numel()):
        e = torch.zeros_like(W).reshape(-1)
        e[i] = h
        e = e.reshape(W.shape)
        out.reshape(-1)[i] = (g(W + e) - g(W - e)) / (2 * h)
    return out


def rel_err(a, b):
    return float((a - b).abs().max() / b.abs().max())


@pytest.mark.parametrize("steps,tau", [(1, 1.0), (2, 1.0), (3, 0.6)])
def test_phantom_gradient_matches_finite_differences_of_the_unrolled_map(steps, tau):
    W, x, c = problem(11)
    z_star = fixed_point(W, x)
    Wp = W.clone().requires_grad_()
    loss = (phantom_unroll(lambda z: torch.tanh(z @ Wp + x), z_star, steps, tau) * c).sum()
    (grad,) = torch.autograd.grad(loss, Wp)

    def unrolled(Wq):
        z = z_star
        for _ in range(steps):
            z = tau * torch.tanh(z @ Wq + x) + (1 - tau) * z
        return float((z * c).sum())
    fd = finite_differences(W, unrolled)
    assert rel_err(grad, fd) < 1e-6
    assert rel_err(fd, finite_differences(W, lambda Wq: float((fixed_point(Wq, x) * c).sum()))) > 1e-2


@pytest.mark.parametrize("solver", ["fixed_point_iter", "anderson", "broyden"])
def test_ift_gradient_matches_finite_differences_of_the_solution(solver):
    W, x, c = problem(12)
    Wp = W.clone().requires_grad_()
    f = lambda z: torch.tanh(z @ Wp + x)  # noqa: E731
    z_star, stats = anderson(f, torch.zeros(B, D, dtype=torch.float64), {"max_iter": 200, "tol": 1e-12})
    assert bool(stats.converged.all())
    (grad,), _, astats = implicit_gradients(f, z_star, c, [Wp], {"solver": solver, "options": {"max_iter": 300, "tol": 1e-12}})
    assert bool(astats.converged.all())
    fd = finite_differences(W, lambda Wq: float((fixed_point(Wq, x) * c).sum()))
    assert rel_err(grad, fd) < 1e-6

    # The hook form gives the same gradient through ordinary backward().
    Wp.grad = None
    seen = []
    z = attach_implicit_gradient(f, z_star, {"solver": solver, "options": {"max_iter": 300, "tol": 1e-12}}, on_stats=seen.append)
    (z * c).sum().backward()
    assert rel_err(Wp.grad, fd) < 1e-6 and len(seen) == 1


def test_ift_gradient_affine_closed_form():
    W, x, c = problem(13, 0.9)
    A = W.clone().requires_grad_()
    b = x[0].clone().requires_grad_()
    f = lambda z: z @ A + b  # noqa: E731
    z_star, _ = anderson(f, torch.zeros(B, D, dtype=torch.float64), {"max_iter": 200, "tol": 1e-12})
    (gA, gb), u, _ = implicit_gradients(f, z_star, c, [A, b], {"solver": "anderson", "options": {"max_iter": 200, "tol": 1e-12}})
    IA = np.eye(D) - W.numpy()
    u_exact = np.linalg.solve(IA, c.numpy().T).T  # u (I - A^T) = c
    np.testing.assert_allclose(u.numpy(), u_exact, rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(gb.numpy(), u_exact.sum(0), rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(gA.numpy(), z_star.numpy().T @ u_exact, rtol=1e-9, atol=1e-10)


def test_hutchinson_against_the_explicit_jacobian_and_its_gradient():
    W, x, _ = problem(14, 1.5)
    z = 0.3 * torch.sin(torch.arange(B * D, dtype=torch.float64)).reshape(B, D)
    f = lambda v: torch.tanh(v @ W + x)  # noqa: E731
    J = torch.autograd.functional.jacobian(f, z).reshape(B * D, B * D)
    exact = float(J.pow(2).sum()) / (B * D)
    jjt = sum(float((J[b * D:(b + 1) * D, b * D:(b + 1) * D] @ J[b * D:(b + 1) * D, b * D:(b + 1) * D].T).pow(2).sum()) for b in range(B))
    n = 400
    sigma = math.sqrt(2 * jjt / (B * D) ** 2 / n)
    est = float(jacobian_penalty(f, z, samples=n, generator=torch.Generator().manual_seed(5), create_graph=False))
    assert abs(est - exact) < 4 * sigma and 4 * sigma < 0.2 * exact
    # Gradient w.r.t. W (double backward) against finite differences with the same draws.
    vs = [torch.randn(B, D, generator=torch.Generator().manual_seed(s), dtype=torch.float64) for s in (1, 2)]
    Wp = W.clone().requires_grad_()
    (grad,) = torch.autograd.grad(jacobian_penalty(lambda v: torch.tanh(v @ Wp + x), z, vectors=vs), Wp)
    fd = finite_differences(W, lambda Wq: float(jacobian_penalty(lambda v: torch.tanh(v @ Wq + x), z, vectors=vs, create_graph=False)))
    assert rel_err(grad, fd) < 1e-6


def saved_bytes(fn):
    """Bytes autograd saves for backward while fn() runs (the graph's memory), and fn's result."""
    total = [0]

    def pack(t):
        total[0] += t.numel() * t.element_size()
        return t
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        out = fn()
    return total[0], out


@pytest.mark.parametrize("kind", ["phantom", "ift"])
def test_graph_memory_does_not_grow_with_solver_iterations(kind):
    W, x, c = problem(15, 0.99)
    Wp = W.clone().requires_grad_()
    f = lambda z: torch.tanh(z @ Wp + x)  # noqa: E731

    def step(max_iter):
        o = {"max_iter": max_iter, "min_iter": max_iter, "tol": 1e-300}
        z_star, s = fixed_point_iter(f, torch.zeros(B, D, dtype=torch.float64), o)
        assert s.iterations == max_iter
        if kind == "phantom":
            z = phantom_unroll(f, z_star, 2)
        else:
            z = attach_implicit_gradient(f, z_star, {"solver": "anderson", "options": o})
        (z * c).sum().backward()
        return z_star
    b8, _ = saved_bytes(lambda: step(8))
    b32, _ = saved_bytes(lambda: step(32))
    assert b8 == b32 and b8 > 0

    def bptt(max_iter):
        z = torch.zeros(B, D, dtype=torch.float64)
        for _ in range(max_iter):
            z = f(z)
        (z * c).sum().backward()
    assert saved_bytes(lambda: bptt(32))[0] > 3 * saved_bytes(lambda: bptt(8))[0]


def test_phantom_options_are_checked():
    with pytest.raises(ValueError, match="steps must be an integer >= 1, got 0"):
        phantom_unroll(lambda z: z, torch.zeros(1, 2), 0)
    with pytest.raises(ValueError, match=r"tau must be a number in \(0, 1\], got 2"):
        phantom_unroll(lambda z: z, torch.zeros(1, 2), 1, 2)


def test_spectral_radius_against_eigenvalues_of_the_explicit_jacobian():
    from reclab.deq import spectral_radius
    g = torch.Generator().manual_seed(21)
    W = torch.randn(D, D, generator=g, dtype=torch.float64)
    W = W + W.T  # symmetric: diag(s) W^T has a real spectrum, so the power iteration converges
    W = W * 0.9 / torch.linalg.matrix_norm(W, 2)
    x = 0.3 * torch.randn(B, D, generator=g, dtype=torch.float64)
    z = 0.2 * torch.randn(B, D, generator=g, dtype=torch.float64)
    f = lambda v: torch.tanh(v @ W + x)  # noqa: E731
    J = torch.autograd.functional.jacobian(f, z).reshape(B * D, B * D)
    exact = [float(torch.linalg.eigvals(J[b * D:(b + 1) * D, b * D:(b + 1) * D]).abs().max()) for b in range(B)]
    est = spectral_radius(f, z, iterations=200, generator=torch.Generator().manual_seed(1))
    np.testing.assert_allclose(est.numpy(), exact, rtol=1e-3)


@pytest.mark.parametrize("clip", [None, 0.05])
def test_onestep_gradient_affine_closed_form(clip):
    """f(z) = zA + b: the one-step adjoint u = v + clip(v Aᵀ) per row, then dL/db = Σ_rows u, dL/dA = z*ᵀ u
    (the Attractor's backward_type "onestep" with adjoint_grad_clip)."""
    W, x, c = problem(15, 0.9)
    A = W.clone().requires_grad_()
    b = x[0].clone().requires_grad_()
    f = lambda z: z @ A + b  # noqa: E731
    z_star, _ = anderson(f, torch.zeros(B, D, dtype=torch.float64), {"max_iter": 200, "tol": 1e-12})
    (attach_onestep_gradient(f, z_star, clip) * c).sum().backward()
    v = c.numpy()
    jv = v @ W.numpy().T
    if clip is not None:
        limit = clip * np.linalg.norm(v, axis=1, keepdims=True)
        length = np.linalg.norm(jv, axis=1, keepdims=True)
        assert (length > limit).all(), "the clip is exercised"
        jv = jv * np.minimum(1.0, limit / length)
    u = v + jv
    np.testing.assert_allclose(b.grad.numpy(), u.sum(0), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(A.grad.numpy(), z_star.numpy().T @ u, rtol=1e-10, atol=1e-12)
    with pytest.raises(ValueError, match="clip must be a number > 0 or None"):
        attach_onestep_gradient(f, z_star, 0.0)
