"""Guards that turn a silent numerical blow-up into a clear failure."""
from __future__ import annotations

import numpy as np


class NonFiniteError(RuntimeError):
    """A NaN or Inf appeared in a solve (an internal failure: exit code 1)."""


def check_finite(values: np.ndarray, solver: str, step: int, coordinates: dict) -> None:
    """Raise NonFiniteError naming the solver, the step and the first bad grid node.

    ``coordinates`` maps axis names to 1-D node arrays, in the axis order of ``values``.
    """
    bad = ~np.isfinite(values)
    if not bad.any():
        return
    index = np.unravel_index(int(np.argmax(bad.ravel())), values.shape)
    where = ", ".join(f"{name} = {nodes[i]:.6g}" for (name, nodes), i in zip(coordinates.items(), index))
    raise NonFiniteError(f"{solver}: {values.ravel()[np.ravel_multi_index(index, values.shape)]} "
                         f"at step {step} at {where}")
