"""Where the convergence V^eps -> v is measured: |x| <= 2 and |y - x| <= 1.

The fast variable lives within a few standard deviations 1/sqrt(gamma) of x,
and the x-box walls and the reflecting y-walls disturb layers next to them;
inside this region neither matters for the shipped boxes (+-5).
"""
from __future__ import annotations

import numpy as np

#: |x| <= X_RADIUS and |y - x| <= Y_OFFSET.
X_RADIUS, Y_OFFSET = 2.0, 1.0


def value_region(x_grid, y_grid, x_radius: float = X_RADIUS, y_offset: float = Y_OFFSET) -> np.ndarray:
    """Boolean mask on the product grid (axes x..., y...) of the region above."""
    d = x_grid.dim
    x = x_grid.nodes().reshape(x_grid.shape + (1,) * d + (d,))
    y = y_grid.nodes().reshape((1,) * d + y_grid.shape + (d,))
    return (np.linalg.norm(x, axis=-1) <= x_radius) & (np.linalg.norm(y - x, axis=-1) <= y_offset)


def gap(V: np.ndarray, v: np.ndarray, x_grid, y_grid) -> float:
    """max |V^eps(0, x, y) - v(0, x)| over the region (v on the x-grid)."""
    d = x_grid.dim
    diff = V - v.reshape(x_grid.shape + (1,) * d)
    return float(np.max(np.abs(diff[value_region(x_grid, y_grid)])))
