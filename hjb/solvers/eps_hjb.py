"""The eps-HJB Cauchy problem in (t, x, y) (SPEC section 2):

    -V_t + H(x, y, D_x V) - (1/eps) ( b . D_y V + Lap_y V ) = 0,   V(T, x, y) = g(x),

marched backward in tau = T - t by Lie splitting.  One step of size dt
(:class:`EpsHJBStep`):

    V*        = min_u V(tau, x + phi(x, y, u) dt, y)      slow part, along characteristics
    V(tau+dt) = (I - (dt/eps) L_y)^{-1} V*                stiff fast part, implicit

L_y is the reflecting monotone generator of :mod:`hjb.operators.generator`, so
both halves are monotone and keep constants; the implicit matrix is an
M-matrix factorised once and reused every step, and dt does not depend on
eps, so the cost stays flat as eps -> 0.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Optional

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from ..errors import InputError, check_finite
from ..grid import Grid
from ..limits import check_memory
from ..model import TwoScaleModel
from ..operators.generator import check_scheme, reflecting_generator
from ..operators.transport import CharacteristicTransport
from .march import march, plan_steps

#: Default Courant number dt / dt_CFL, dt_CFL the upwind CFL step of the slow part (the
#: semi-Lagrangian step stays monotone above 1; this is where the error is smallest).
DEFAULT_COURANT = 10.0
#: Never fewer steps than this over [0, T].
MIN_STEPS = 20


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
                    raise InputError("y_grid", f"the slow drift leaves the x-box at {x_grid.coordinate_names[k]} = "
                                     f"{axis.nodes[end]:g} (y = {np.array2string(yy, precision=3)}): the y-box must "
                                     "lie inside the x-box so that characteristics point inward")


def slow_transport(model: TwoScaleModel, x_grid: Grid, y_grid: Grid) -> CharacteristicTransport:
    """The term min_u phi(x, y, u) . D_x V on the product grid (one candidate drift per control value)."""
    x, y = product_nodes(x_grid, y_grid)
    velocities = [np.broadcast_to(model.phi(x, y, u), x.shape) for u in model.control_values]
    for v in velocities:
        check_finite(np.sum(v, axis=-1), "eps_hjb: slow drift phi", 0, {**x_grid.coordinates(), **y_grid.coordinates()})
    _check_inflow(x_grid, velocities, x, y)
    return CharacteristicTransport(x_grid.shape + y_grid.shape, tuple(range(model.dim)), x_grid.spacings, velocities)


@dataclass
class EpsHJBStep:
    """One backward step of size dt: V <- (I - (dt/eps) L_y)^{-1} min_u S_u V.

    ``moves`` are the interpolation matrices S_u of the slow transport at step dt,
    ``implicit`` the LU factors of the fast M-matrix; both are built once by
    :meth:`build` and reused every step.  The step is monotone (raising V raises
    the result) and keeps constants.
    """

    moves: list
    implicit: object
    shape: tuple

    @classmethod
    def build(cls, model: TwoScaleModel, x_grid: Grid, y_grid: Grid, eps: float, dt: float,
              y_scheme: str = "fitted", transport: Optional[CharacteristicTransport] = None) -> "EpsHJBStep":
        transport = transport or slow_transport(model, x_grid, y_grid)
        shape = x_grid.shape + y_grid.shape
        d = model.dim
        x, y = product_nodes(x_grid, y_grid)
        drift = model.b(x, y)
        check_finite(np.sum(drift, axis=-1), "eps_hjb: fast drift b", 0, {**x_grid.coordinates(), **y_grid.coordinates()})
        L = reflecting_generator(shape, tuple(range(d, 2 * d)), y_grid.spacings, drift, y_scheme)
        implicit = spla.splu((sp.identity(L.shape[0], format="csc") - (dt / eps) * L).tocsc())
        return cls(transport.operators(dt), implicit, shape)

    def __call__(self, value: np.ndarray) -> np.ndarray:
        moved = CharacteristicTransport.apply(self.moves, value)
        return self.implicit.solve(moved.ravel()).reshape(self.shape)


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


def memory_estimate(model: TwoScaleModel, x_grid: Grid, y_grid: Grid, snapshots: int = 0) -> float:
    """Bytes the solve holds at its peak: nodes and drifts, interpolation matrices, LU, values."""
    d, size, n_u = model.dim, x_grid.size * y_grid.size, len(model.control_values)
    return size * (8 * d * (2 + n_u) + 12 * 2**d * n_u + 12 * 6 * (2 * d + 1) + 8 * (snapshots + 3))


def solve_eps_hjb(model: TwoScaleModel, x_grid: Grid, y_grid: Grid, T: float, eps: float,
                  dt: Optional[float] = None, courant: float = DEFAULT_COURANT, y_scheme: str = "fitted",
                  snapshots: int = 0, on_step: Optional[Callable[[int, int], None]] = None) -> EpsHJBSolution:
    """Solve the eps-HJB problem; return V^eps(0, ., .) and ``snapshots`` equispaced time slices.

    ``dt`` defaults to ``courant`` times the upwind CFL step of the slow part (at
    most T / 20); the semi-Lagrangian step stays monotone for any Courant number.
    """
    if not eps > 0:
        raise InputError("eps", f"must be positive, got {eps:g}")
    if not T > 0:
        raise InputError("T", f"must be positive, got {T:g}")
    if x_grid.dim != model.dim or y_grid.dim != model.dim:
        raise InputError("grid", f"x and y grids must have dimension {model.dim}")
    if not courant > 0:
        raise InputError("courant", f"must be positive, got {courant:g}")
    check_scheme(y_scheme, "y_scheme")
    check_memory(memory_estimate(model, x_grid, y_grid, snapshots), f"an eps-HJB grid of {x_grid.size * y_grid.size:,} nodes")
    transport = slow_transport(model, x_grid, y_grid)
    if dt is None:
        dt = min(courant * transport.courant_step(), T / MIN_STEPS)
    steps, dt = plan_steps(T, dt)
    step = EpsHJBStep.build(model, x_grid, y_grid, eps, dt, y_scheme, transport)
    del transport

    d = model.dim
    shape = x_grid.shape + y_grid.shape
    coordinates = {**x_grid.coordinates(), **y_grid.coordinates()}
    value = np.broadcast_to(model.g(x_grid.nodes()).reshape(x_grid.shape + (1,) * d), shape).copy()
    check_finite(value, "eps_hjb: terminal cost g", 0, coordinates)
    run = march(step, value, steps, dt, T, "eps_hjb", coordinates, snapshots, on_step)
    return EpsHJBSolution(run.value, x_grid, y_grid, float(eps), float(T), float(dt), steps,
                          run.times, run.snapshots)
