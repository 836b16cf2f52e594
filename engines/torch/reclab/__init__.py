"""Recursion Lab's PyTorch engine (the second engine behind the reclab protocol).

`reclab.weights` reads and writes the format-2 weights files (docs/weights-format.md),
`reclab.model` holds the TRM, `reclab.train` the training step and its parts.
"""

from .logging_api import Run  # noqa: E402  (the bring-your-own-loop API: `from reclab import Run`)

__all__ = ["Run"]
