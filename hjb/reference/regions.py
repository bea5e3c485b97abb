"""Where the convergence V^eps -> v is measured: |x| <= 2 and |y - x| <= 1.

The fast variable lives within a few standard deviations 1/sqrt(gamma) of x,
and the x-box walls and the reflecting y-walls disturb layers next to them;
inside this region neither matters for the shipped boxes (+-5).
"""
from __future__ import annotations

import numpy as np

#: |x| <= X_RADIUS and |y - x| <= Y_OFFSET.
X_RADIUS, Y_OFFSET = 2.0, 1.0


def value_region(x_nodes, y_nodes, x_radius: float = X_RADIUS, y_offset: float = Y_OFFSET) -> np.ndarray:
    """Boolean mask of the region on the product of two node arrays.

    ``x_nodes`` has shape (*x_shape, d) (``Grid.nodes()``, or ``x[:, None]`` for a
    d = 1 coordinate), likewise ``y_nodes``; the mask has shape (*x_shape, *y_shape).
    """
    x, y = np.asarray(x_nodes, float), np.asarray(y_nodes, float)
    d = x.shape[-1]
    x = x.reshape(x.shape[:-1] + (1,) * (y.ndim - 1) + (d,))
    y = y.reshape((1,) * (x.ndim - y.ndim) + y.shape)
    return (np.linalg.norm(x, axis=-1) <= x_radius) & (np.linalg.norm(y - x, axis=-1) <= y_offset)
