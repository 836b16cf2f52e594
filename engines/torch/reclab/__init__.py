"""Recursion Lab's PyTorch engine (the second engine behind the reclab protocol).

`reclab.weights` reads and writes the format-2 weights files (docs/weights-format.md),
`reclab.model` holds the recursive models (TRM, HRM), `reclab.train` the training step and its parts.
"""

__all__ = ["Run"]


def __getattr__(name: str):
    # `from reclab import Run` (the bring-your-own-loop API) without importing torch at package
    # import: the worker sets its OpenMP environment before torch loads.
    if name == "Run":
        from .logging_api import Run

        return Run
    raise AttributeError(f"module 'reclab' has no attribute {name!r}")
