"""Shape measures of a 1-D landscape u(x): how wide and how convex its minima are.

Used to quantify the smoothing of a loss by the viscous and inviscid HJ flows
(SPEC section 5): the semiconcavity constant max D^2 u (at most 1/t for the
Hopf-Lax flow), the number of local minima, the width of the basin of
attraction of the global minimum, and the width of its flat bottom.
"""
from __future__ import annotations

import numpy as np

from .operators.differences import second_derivative


def minima_measures(x: np.ndarray, u: np.ndarray, window: float = 2.5, flat: float = 0.05) -> dict:
    """Measures of u on the uniform nodes x restricted to |x| <= window.

    ``basin_width``: distance between the local maxima enclosing the global
    minimum (the basin of gradient descent on u); ``flat_width``: length of the
    connected part of {u <= min u + flat} that holds the global minimum.
    """
    h = x[1] - x[0]
    inner = np.abs(x) <= window
    xi, ui = x[inner], u[inner]
    is_min = (ui[1:-1] < ui[:-2]) & (ui[1:-1] <= ui[2:])
    is_max = (ui[1:-1] > ui[:-2]) & (ui[1:-1] >= ui[2:])
    i = int(np.argmin(ui))
    maxima = xi[1:-1][is_max]
    left, right = maxima[maxima < xi[i]], maxima[maxima > xi[i]]
    basin = (right.min() if len(right) else xi[-1]) - (left.max() if len(left) else xi[0])
    # the run of consecutive "low" nodes around the minimum
    high = np.flatnonzero(ui > ui[i] + flat)
    lo = high[high < i].max() + 1 if np.any(high < i) else 0
    hi = high[high > i].min() - 1 if np.any(high > i) else len(ui) - 1
    # the largest second difference inside the window (findiff's interior stencil [1, -2, 1]/h^2)
    return {"semiconcavity": float(np.max(second_derivative(ui, h)[1:-1])), "minima": int(is_min.sum()),
            "basin_width": float(basin), "flat_width": float(xi[hi] - xi[lo])}
