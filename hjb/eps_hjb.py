"""The eps-HJB Cauchy problem in (t, x, y) (SPEC section 2):

    -V_t + H(x, y, D_x V) - (1/eps) ( b . D_y V + Lap_y V ) = 0,   V(T, x, y) = g(x),

marched backward in tau = T - t by Lie splitting.  One step of size dt:

    V*      = min_u V(tau, x + phi(x, y, u) dt, y)      slow part, along characteristics
    V(tau+dt) = (I - (dt/eps) L_y)^{-1} V*              stiff fast part, implicit

L_y is the reflecting monotone generator of :mod:`hjb.generator`, so both
halves are monotone and keep constants; the implicit matrix is an M-matrix
factorised once and reused every step, and dt does not depend on eps, so the
cost stays flat as eps -> 0.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Optional

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from .checks import check_finite
from .errors import InputError
from .generator import reflecting_generator
from .grid import Grid
from .model import TwoScaleModel
from .resources import check_memory
from .transport import CharacteristicTransport

#: Default time step in units of the upwind CFL step of the slow part.
COURANT = 10.0
#: Never fewer steps than this over [0, T].
MIN_STEPS = 20


@dataclass
class EpsHJBSolution:
    """V^eps(0, x, y) on the product grid (axes x..., y...), with optional snapshots."""

    value: np.ndarray
    x_grid: Grid
    y_grid: Grid
    eps: float
    T: float
    dt: float
    steps: int
    times: np.ndarray = field(default_factory=lambda: np.zeros(0))
    snapshots: Optional[np.ndarray] = None


def product_nodes(x_grid: Grid, y_grid: Grid):
    """x and y at every node of the product grid, each of shape (*x.shape, *y.shape, d)."""
    d = x_grid.dim
    xs = x_grid.nodes().reshape(x_grid.shape + (1,) * d + (d,))
    ys = y_grid.nodes().reshape((1,) * d + y_grid.shape + (d,))
    full = x_grid.shape + y_grid.shape + (d,)
    return np.broadcast_to(xs, full), np.broadcast_to(ys, full)


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
                    raise InputError("grid.y", f"the slow drift leaves the x-box at {x_grid.coordinate_names[k]} = "
                                     f"{axis.nodes[end]:g} (y = {np.array2string(yy, precision=3)}): the y-box must "
                                     "lie inside the x-box so that characteristics point inward")


def solve_eps_hjb(model: TwoScaleModel, x_grid: Grid, y_grid: Grid, T: float, eps: float,
                  dt: Optional[float] = None, courant: float = COURANT, y_scheme: str = "fitted",
                  snapshots: int = 0, on_step: Optional[Callable[[int, int], None]] = None) -> EpsHJBSolution:
    """Solve the eps-HJB problem; return V^eps(0, ., .) and ``snapshots`` equispaced time slices."""
    if not eps > 0:
        raise InputError("solve.eps", f"must be positive, got {eps:g}")
    if not T > 0:
        raise InputError("solve.T", f"must be positive, got {T:g}")
    if x_grid.dim != model.dim or y_grid.dim != model.dim:
        raise InputError("grid", f"x and y grids must have dimension {model.dim}")
    d = model.dim
    size = x_grid.size * y_grid.size
    n_u = len(model.control_values)
    check_memory(size * (8 * d * (2 + n_u) + 12 * 2**d * n_u + 12 * 6 * (2 * d + 1) + 8 * (snapshots + 3)),
                 f"an eps-HJB grid of {size:,} nodes")

    x, y = product_nodes(x_grid, y_grid)
    shape = x_grid.shape + y_grid.shape
    velocities = [np.broadcast_to(model.phi(x, y, u), x.shape) for u in model.control_values]
    _check_inflow(x_grid, velocities, x, y)
    transport = CharacteristicTransport(shape, tuple(range(d)), x_grid.steps, velocities)

    if dt is None:
        dt = min(courant * transport.courant_step(), T / MIN_STEPS)
    steps = int(np.ceil(T / dt - 1e-9))
    dt = T / steps

    L = reflecting_generator(shape, tuple(range(d, 2 * d)), y_grid.steps, model.b(x, y), y_scheme)
    implicit = spla.splu((sp.identity(size, format="csc") - (dt / eps) * L).tocsc())
    moves = transport.operators(dt)
    del x, y, velocities, L

    value = np.broadcast_to(model.g(x_grid.nodes()).reshape(x_grid.shape + (1,) * d), shape).copy()
    check_finite(value, "eps_hjb: terminal cost g", 0, {**x_grid.coordinates(), **y_grid.coordinates()})
    keep = set(np.linspace(0, steps, snapshots, dtype=int)) if snapshots else set()
    times, slices = [], []
    for n in range(steps + 1):
        if n in keep:
            times.append(T - n * dt)
            slices.append(value.copy())
        if n == steps:
            break
        value = implicit.solve(transport.apply(moves, value).ravel()).reshape(shape)
        check_finite(value, "eps_hjb", n + 1, {**x_grid.coordinates(), **y_grid.coordinates()})
        if on_step is not None:
            on_step(n + 1, steps)
    return EpsHJBSolution(value, x_grid, y_grid, float(eps), float(T), float(dt), steps,
                          np.array(times), np.array(slices) if slices else None)
