"""Fixed-point solvers and DEQ gradients for the PyTorch engine (docs/deq-solvers.md); the same
conventions as trainer/deq/ on the TF.js side, so both engines give the same solves."""
from .solvers import anderson, broyden, fixed_point_iter, mixing_weights, solve  # noqa: F401
from .stats import SolverOptions, SolverStats, solver_options  # noqa: F401
from .gradients import attach_implicit_gradient, attach_onestep_gradient, implicit_gradients, jacobian_penalty, phantom_unroll, solve_adjoint, spectral_radius  # noqa: F401
