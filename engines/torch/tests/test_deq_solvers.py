"""reclab.deq solvers against independent facts: the affine fixed point (I - A)^-1 b by numpy,
a float64 reference iteration of a contractive tanh map, hand-made evaluation sequences, the
rolled-history defect of the public TRM-DEQ Anderson (reference.md §4.2 caveat 1) re-stated to
show the history-phase check catches it, per-sample fallback, option errors."""
import numpy as np
import pytest
import torch

from reclab.deq import anderson, fixed_point_iter, mixing_weights
from reclab.errors import BadInput


def contraction(seed, d, norm, dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    W = torch.randn(d, d, generator=g, dtype=dtype)
    return W * norm / torch.linalg.matrix_norm(W, 2)


def test_affine_fixed_point_and_anderson_needs_fewer_iterations():
    d, B = 6, 2
    A = contraction(7, d, 0.95)
    b = torch.randn(B, d, generator=torch.Generator().manual_seed(8), dtype=torch.float64)
    exact = np.linalg.solve((np.eye(d) - A.numpy()).T, b.numpy().T).T  # z (I - A) = b
    f = lambda z: z @ A + b  # noqa: E731
    opts = {"max_iter": 500, "tol": 1e-10}
    zf, sf = fixed_point_iter(f, torch.zeros(B, d, dtype=torch.float64), opts)
    za, sa = anderson(f, torch.zeros(B, d, dtype=torch.float64), opts)
    for z, s in ((zf, sf), (za, sa)):
        assert bool(s.converged.all())
        np.testing.assert_allclose(z.numpy(), exact, atol=1e-8)
    print(f"affine d=6, |A|=0.95, tol 1e-10: FPI {sf.iterations}, Anderson {sa.iterations}")
    assert 2 * sa.iterations < sf.iterations, (sa.iterations, sf.iterations)


def test_tanh_contraction_anderson_fewer_iterations_than_fpi():
    d, B = 16, 4
    W = contraction(3, d, 0.95, torch.float32)
    x = 0.3 * torch.randn(B, d, generator=torch.Generator().manual_seed(4))
    f = lambda z: torch.tanh(z @ W + x)  # noqa: E731
    zf, sf = fixed_point_iter(f, torch.zeros(B, d), {"max_iter": 200, "tol": 1e-5})
    za, sa = anderson(f, torch.zeros(B, d), {"max_iter": 200, "tol": 1e-5})
    # float64 reference fixed point
    W64, x64, z = W.double(), x.double(), torch.zeros(B, d, dtype=torch.float64)
    for _ in range(2000):
        z = torch.tanh(z @ W64 + x64)
    assert bool(sf.converged.all()) and bool(sa.converged.all()) and sa.fallbacks == 0
    assert sa.iterations < sf.iterations, (sa.iterations, sf.iterations)
    for sol in (zf, za):
        assert (sol.double() - z).abs().max() < 2e-4


def rolled_history_anderson(f, z0, m, iters):
    """The defective history re-stated: roll left, new pair in the LAST slot, mix the FIRST min(k, m)."""
    d = z0.size
    X = [np.zeros(d) for _ in range(m)]
    F = [np.zeros(d) for _ in range(m)]
    norms, rel = [], []

    def measure(x, fx):
        norms.append(np.linalg.norm(x))
        rel.append(np.linalg.norm(fx - x) / (np.linalg.norm(fx) + 1e-9))

    X[0], F[0] = z0, f(z0)
    measure(X[0], F[0])
    X[1], F[1] = F[0], f(F[0])
    measure(X[1], F[1])
    for k in range(2, iters):
        n = min(k, m)
        G = np.stack([F[i] - X[i] for i in range(n)])
        alpha = mixing_weights(torch.from_numpy(G @ G.T)[None], 1e-4)[0][0].numpy()
        x = sum(alpha[i] * F[i] for i in range(n))
        fx = f(x)
        measure(x, fx)
        X = X[1:] + [x]
        F = F[1:] + [fx]
    return norms, rel


def history_problems(norms, rel, zstar_norm, m):
    bad = []
    for k in range(1, m + 2):
        if not (0.5 * zstar_norm < norms[k] < 2 * zstar_norm):
            bad.append(f"iterate {k}: |x| {norms[k]:.4f} vs |z*| {zstar_norm:.4f}")
        if not rel[k] < 0.5:
            bad.append(f"iterate {k}: rel {rel[k]:.4f}")
    return bad


def test_anderson_does_not_collapse_while_history_fills_and_the_rolled_defect_does():
    m, d = 5, 32
    W = contraction(5, d, 0.9)
    x = torch.randn(1, d, generator=torch.Generator().manual_seed(6), dtype=torch.float64)
    f = lambda z: torch.tanh(z @ W + x)  # noqa: E731
    z = torch.zeros(1, d, dtype=torch.float64)
    for _ in range(2000):
        z = f(z)
    zstar_norm = float(z.norm())
    norms = []

    def seen(v):
        norms.append(float(v.norm()))
        return f(v)

    _, stats = anderson(seen, torch.zeros(1, d, dtype=torch.float64), {"memory": m, "max_iter": 2 * m + 2, "min_iter": 2 * m + 2, "tol": 1e-30, "stop_mode": "rel"})
    assert history_problems(norms, stats.rel_trace[0].tolist(), zstar_norm, m) == []
    f_np = lambda v: np.tanh(v @ W.numpy() + x.numpy()[0])  # noqa: E731
    dn, dr = rolled_history_anderson(f_np, np.zeros(d), m, 2 * m + 2)
    assert history_problems(dn, dr, zstar_norm, m) != []
    assert max(dr[3:m + 1]) > 0.9


def scripted(outputs):
    calls = {"n": 0}

    def f(z):
        k = calls["n"]
        calls["n"] += 1
        return torch.tensor([[row[k]] for row in outputs], dtype=z.dtype)
    return f


@pytest.mark.parametrize("solver", ["fpi", "anderson_m1"])
def test_lowest_residual_return_and_stats_by_hand(solver):
    outputs = [[1, 1.1, 3], [5, 4, 4.01]]  # residuals (1, .1, 1.9) and (5, 1, .01)
    run = (lambda ret: fixed_point_iter(scripted(outputs), torch.zeros(2, 1, dtype=torch.float64), {"max_iter": 3, "tol": 1e-6, "return_final": ret})) if solver == "fpi" else \
        (lambda ret: anderson(scripted(outputs), torch.zeros(2, 1, dtype=torch.float64), {"max_iter": 3, "tol": 1e-6, "return_final": ret, "memory": 1}))
    z, s = run(False)
    np.testing.assert_allclose(z[:, 0].numpy(), [1.1, 4.01])
    assert s.nstep.tolist() == [2, 3] and s.iterations == 3
    np.testing.assert_allclose(s.abs_trace.numpy(), [[1, 0.1, 1.9], [5, 1, 0.01]], atol=1e-12)
    np.testing.assert_allclose(s.rel_trace[0].numpy(), [1, 0.1 / 1.1, 1.9 / 3], atol=1e-9)
    np.testing.assert_allclose(s.abs_lowest.numpy(), [0.1, 0.01], atol=1e-12)
    summ = s.summary()
    assert abs(summ["abs_mean"] - 0.055) < 1e-12 and abs(summ["abs_max"] - 0.1) < 1e-12 and summ["converged_fraction"] == 0
    z, s = run(True)
    np.testing.assert_allclose(z[:, 0].numpy(), [3, 4.01])
    assert s.nstep.tolist() == [3, 3]


def test_stop_rules_and_min_iter():
    f = lambda z: 0.5 * z + 10  # noqa: E731
    z0 = torch.zeros(1, 1, dtype=torch.float64)
    assert fixed_point_iter(f, z0, {"max_iter": 50, "tol": 1e-2, "stop_mode": "abs"})[1].iterations == 11
    assert fixed_point_iter(f, z0, {"max_iter": 50, "tol": 1e-2, "stop_mode": "rel"})[1].iterations == 7
    assert fixed_point_iter(f, z0, {"max_iter": 50, "tol": 1e-2, "min_iter": 15})[1].iterations == 15


def test_fallback_is_per_sample():
    slopes = torch.tensor([[1.0, 1, 1, 1], [0.5, 0.3, 0.7, 0.2]], dtype=torch.float64)
    opts = {"max_iter": 6, "tol": 1e-6, "lam": 0.0, "return_final": True, "memory": 3}
    z, s = anderson(lambda v: v * slopes + 1, torch.zeros(2, 4, dtype=torch.float64), opts)
    assert s.fallbacks == 4
    assert z[0].tolist() == [6, 6, 6, 6]
    assert s.abs_trace[0].tolist() == [2] * 6
    alone, sa = anderson(lambda v: v * slopes[1:] + 1, torch.zeros(1, 4, dtype=torch.float64), opts)
    assert sa.fallbacks == 0
    torch.testing.assert_close(z[1:], alone)


@pytest.mark.parametrize("opts,msg", [
    ({"max_iter": 0}, "max_iter must be an integer >= 1, got 0"),
    ({"max_iter": 4, "min_iter": 5}, "min_iter must be an integer in [0, max_iter = 4], got 5"),
    ({"tol": 0}, "tol must be a finite number > 0"),
    ({"stop_mode": "max"}, "stop_mode must be \"abs\" or \"rel\""),
    ({"memory": 0}, "memory must be an integer >= 1"),
    ({"beta": 1.5}, "beta must be a number in (0, 1]"),
    ({"lam": -1}, "lam must be a finite number >= 0"),
    ({"tolerance": 1}, "unknown option 'tolerance'"),
])
def test_options_are_validated(opts, msg):
    with pytest.raises(BadInput) as e:
        anderson(lambda z: z * 0.5, torch.zeros(1, 2), opts)
    assert msg in str(e.value) and "Anderson solver" in str(e.value)


def test_fpi_refuses_anderson_fields_and_shape_changes():
    with pytest.raises(BadInput, match="fixed-point iteration: unknown option 'memory'"):
        fixed_point_iter(lambda z: z, torch.zeros(1, 2), {"memory": 3})
    with pytest.raises(ValueError, match=r"returned shape \[1, 3\] for a state of shape \[1, 2\]"):
        fixed_point_iter(lambda z: torch.zeros(1, 3), torch.zeros(1, 2))


def test_broyden_affine_within_2d_iterations_tanh_fewer_than_fpi_and_per_sample_fallback():
    from reclab.deq import broyden
    d, B = 6, 2
    A = contraction(7, d, 0.95)
    b = torch.randn(B, d, generator=torch.Generator().manual_seed(8), dtype=torch.float64)
    exact = np.linalg.solve((np.eye(d) - A.numpy()).T, b.numpy().T).T
    z, s = broyden(lambda v: v @ A + b, torch.zeros(B, d, dtype=torch.float64), {"max_iter": 100, "tol": 1e-10})
    assert bool(s.converged.all()) and s.iterations <= 2 * d + 1, s.iterations  # Gay (1979): 2d steps on affine g
    np.testing.assert_allclose(z.numpy(), exact, atol=1e-8)

    W = contraction(3, 16, 0.95, torch.float32)
    x = 0.3 * torch.randn(4, 16, generator=torch.Generator().manual_seed(4))
    f = lambda v: torch.tanh(v @ W + x)  # noqa: E731
    _, sf = fixed_point_iter(f, torch.zeros(4, 16), {"max_iter": 200, "tol": 1e-5})
    _, sb = broyden(f, torch.zeros(4, 16), {"max_iter": 200, "tol": 1e-5})
    assert bool(sb.converged.all()) and sb.iterations < sf.iterations

    slopes = torch.tensor([[1.0, 1, 1, 1], [0.5, 0.3, 0.7, 0.2]], dtype=torch.float64)
    opts = {"max_iter": 6, "tol": 1e-6, "return_final": True}
    z, s = broyden(lambda v: v * slopes + 1, torch.zeros(2, 4, dtype=torch.float64), opts)
    assert s.fallbacks == 5 and z[0].tolist() == [6, 6, 6, 6]
    alone, _ = broyden(lambda v: v * slopes[1:] + 1, torch.zeros(1, 4, dtype=torch.float64), opts)
    torch.testing.assert_close(z[1:], alone)
    with pytest.raises(BadInput, match="Broyden solver: unknown option 'beta'"):
        broyden(lambda v: v, torch.zeros(1, 2), {"beta": 0.5})
