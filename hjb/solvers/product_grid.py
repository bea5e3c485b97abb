"""The eps-HJB equation's terms on the product grid of x and y: the nodes, the user's phi and b
evaluated there, the slow transport min_u phi . D_x V and the implicit fast matrix
I - (dt/eps) L_y (:class:`hjb.solvers.eps_hjb_step.EpsHJBStep` builds its step from them).
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ..errors import InputError, check_finite
from ..grid import Grid
from ..model import DeepRelaxation, TwoScaleModel
from ..operators.generator import reflecting_generator
from ..operators.transport import CharacteristicTransport


def product_nodes(x_grid: Grid, y_grid: Grid, full: bool = True):
    """x and y at every node of the product grid, each of shape (*x.shape, *y.shape, d) (with
    ``full`` False, of shapes (*x.shape, 1, ..., d) and (1, ..., *y.shape, d), which broadcast
    to it)."""
    d = x_grid.dim
    xs = x_grid.nodes().reshape(x_grid.shape + (1,) * d + (d,))
    ys = y_grid.nodes().reshape((1,) * d + y_grid.shape + (d,))
    if not full:
        return xs, ys
    shape = x_grid.shape + y_grid.shape + (d,)
    return np.broadcast_to(xs, shape), np.broadcast_to(ys, shape)


def on_product(model: TwoScaleModel, function, x_grid: Grid, y_grid: Grid) -> np.ndarray:
    """``function(x, y)`` (phi at a control, or b) at every node of the product grid, shape
    (*x.shape, *y.shape, d).  Deep relaxation's phi and b broadcast x against y, so they take
    the two grids' nodes shaped to broadcast: its grad f(y) is then evaluated once per y-node,
    not once per node of the product (0.5 s at 41^4 for wide_narrow).  Other models get the
    product's nodes in full."""
    shape = x_grid.shape + y_grid.shape + (x_grid.dim,)
    x, y = product_nodes(x_grid, y_grid, full=not isinstance(model, DeepRelaxation))
    return np.broadcast_to(function(x, y), shape)


def check_vectors(v: np.ndarray, what: str, x_grid: Grid, y_grid: Grid) -> None:
    """Every component finite (their sum is: adding the d slices is 9x faster than np.sum over
    a last axis of length 2)."""
    check_finite(sum(v[..., k] for k in range(v.shape[-1])), what, 0, {**x_grid.coordinates(), **y_grid.coordinates()})


def _check_inflow(x_grid: Grid, velocities, x, y):
    """The x-part needs no boundary condition only if no characteristic leaves the x-box."""
    for v in velocities:
        for k, axis in enumerate(x_grid.axes):
            for end, sign in ((0, -1.0), (axis.points - 1, 1.0)):
                face = (slice(None),) * k + (end,)
                out = sign * v[face][..., k] > 1e-12 * (1.0 + np.abs(v[face][..., k]))
                if np.any(out):
                    where = np.argwhere(out)[0]
                    yy = y[face][tuple(where)]
                    raise InputError("y_grid", f"the slow drift leaves the x-box at {x_grid.coordinate_names[k]} = "
                                     f"{axis.nodes[end]:g} (y = {np.array2string(yy, precision=3)}): the y-box must "
                                     "lie inside the x-box so that characteristics point inward")


def slow_transport(model: TwoScaleModel, x_grid: Grid, y_grid: Grid) -> CharacteristicTransport:
    """The term min_u phi(x, y, u) . D_x V on the product grid (one candidate drift per control value)."""
    velocities = [on_product(model, lambda x, y: model.phi(x, y, u), x_grid, y_grid) for u in model.control_values]
    for v in velocities:
        check_vectors(v, "eps_hjb: slow drift phi", x_grid, y_grid)
    _check_inflow(x_grid, velocities, *product_nodes(x_grid, y_grid))
    return CharacteristicTransport(x_grid.shape + y_grid.shape, tuple(range(model.dim)), x_grid.spacings, velocities)


def fast_matrix(model: TwoScaleModel, x_grid: Grid, y_grid: Grid, mixing: float, y_scheme: str = "fitted"):
    """I - a L_y, a = ``mixing`` = dt / eps: the implicit fast part of a step, block diagonal
    (one M-matrix block per x-node; :mod:`hjb.operators.generator`).  Its own function, so that
    the drift and L are freed before the factorisation (about 210 MB at 41^4)."""
    d = model.dim
    drift = on_product(model, model.b, x_grid, y_grid)
    check_vectors(drift, "eps_hjb: fast drift b", x_grid, y_grid)
    L = reflecting_generator(x_grid.shape + y_grid.shape, tuple(range(d, 2 * d)), y_grid.spacings, drift, y_scheme)
    return sp.identity(L.shape[0], format="csr") - mixing * L
