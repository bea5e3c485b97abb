"""The optimal feedback of (CS_eps) read off a computed eps-HJB value (SPEC section 6):

    u*(t, x, y) = argmax_u ( -phi(x, y, u) . D_x V^eps(t, x, y) ),

with D_x V^eps from the time snapshots of an ``eps_hjb`` result: second-order
finite differences in x (findiff: central inside, one-sided at the walls),
interpolated multilinearly in (t, x, y).
"""
from __future__ import annotations

import numpy as np
from scipy.interpolate import RegularGridInterpolator

from ..errors import InputError
from ..limits import check_memory
from ..model import DeepRelaxation
from ..operators.differences import gradient


class FeedbackControl:
    """u*(t, x, y) = argmax_u ( -phi(x, y, u) . D_x V^eps(t, x, y) ) from stored snapshots of V^eps.

    ``snapshots`` has axes (time, x..., y...) on the grids ``times``,
    ``x_axes``, ``y_axes``; D_x V is formed by second-order differences (one-sided
    at the walls) and interpolated multilinearly; points outside the grid are
    moved onto its boundary.
    """

    def __init__(self, model: DeepRelaxation, times, x_axes, y_axes, snapshots):
        d = model.dim
        check_memory(table_memory(np.size(snapshots), d), "the feedback's D_x V table")
        order = np.argsort(times)
        snaps = np.asarray(snapshots, float)[order]
        grads = np.stack([gradient(snaps, np.asarray(x_axes[k], float), axis=1 + k) for k in range(d)], axis=-1)
        axes = (np.asarray(times, float)[order],) + tuple(x_axes) + tuple(y_axes)
        self.model = model
        self.lower = np.array([a[0] for a in axes])
        self.upper = np.array([a[-1] for a in axes])
        self.interpolate = RegularGridInterpolator(axes, grads, method="linear")

    def gradient(self, t, X, Y):
        pts = np.column_stack([np.full(len(X), t), X, Y])
        return self.interpolate(np.clip(pts, self.lower, self.upper))

    def __call__(self, t, X, Y):
        return self.model.active_control(X, Y, self.gradient(t, X, Y))

    @classmethod
    def from_result(cls, model: DeepRelaxation, result, key: str = "value_file"):
        """From an ``eps_hjb`` :class:`hjb.Result` holding ``snapshots`` (axes time, x..., y...)."""
        d = model.dim
        names = result.dims["snapshots"]
        x_names, y_names = names[1:1 + d], names[1 + d:]
        if len(y_names) != d:
            raise InputError(key, f"holds a {len(x_names)}-dimensional value, the model has dim = {d}")
        return cls(model, result.coords["time"], [result.coords[n] for n in x_names],
                   [result.coords[n] for n in y_names], result["snapshots"])


def table_memory(size: int, d: int) -> float:
    """Bytes of the table built from ``size`` stored values of V^eps: the sorted copy, the d
    difference quotients and their stack (with path_memory, checked by scripts/bench_memory.py)."""
    return 8.0 * size * (2 + 2 * d)


def path_memory(paths: int, d: int) -> float:
    """Bytes of one feedback evaluation for ``paths`` paths: the points in (t, x, y), clipped, and
    the interpolation's cell indices, distances and weights; D_x V and the control (paths, d) each."""
    return 8.0 * paths * (4 * (2 * d + 1) + 3 * d + 4)
