"""The eps-HJB Cauchy problem in (t, x, y) (SPEC section 2):

    -V_t + H(x, y, D_x V) - (1/eps) ( b . D_y V + Lap_y V ) = 0,   V(T, x, y) = g(x),

marched backward in tau = T - t by Lie splitting.  One step of size dt
(:class:`EpsHJBStep`):

    V*        = min_u V(tau, x + phi(x, y, u) dt, y)      slow part, along characteristics
    V(tau+dt) = (I - (dt/eps) L_y)^{-1} V*                stiff fast part, implicit

L_y is the reflecting monotone generator of :mod:`hjb.operators.generator`, so both halves
are monotone and keep constants; the implicit matrix is an M-matrix factorised once and
reused every step, and dt does not depend on eps, so the cost stays flat as eps -> 0.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Optional

import numpy as np
import scipy.sparse as sp

from ..errors import InputError, check_finite
from ..grid import Grid
from ..limits import check_memory
from ..model import TwoScaleModel
from ..operators.fast_solve import factorize
from ..operators.filtered import filtered
from ..operators.generator import check_scheme, reflecting_generator
from ..operators.transport import CharacteristicTransport
from .eps_hjb_memory import memory_estimate
from .march import march, plan_steps

#: Default Courant number dt / dt_CFL, dt_CFL the upwind CFL step of the slow part (the
#: semi-Lagrangian step stays monotone above 1; this is where the error is smallest for the
#: work: longer steps grow the splitting error, shorter ones the interpolation error).
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
    :meth:`build` and reused every step.  With ``interpolation="linear"`` the step is
    monotone (raising V raises the result) and keeps constants.  With "cubic" each
    foot value is the filtered one (:mod:`hjb.operators.filtered`),

        S_u V + bound F((C_u V - S_u V) / bound),    bound = FILTER_CONSTANT sqrt(h) dt,

    C_u the cubic interpolation (:mod:`hjb.operators.interpolation`): the cubic value
    wherever it is within 'bound' of the linear one.  Since the implicit solve is
    monotone and non-expansive in the max norm, the step stays within 'bound' of the
    monotone step, a perturbation that vanishes as h -> 0 (T / dt steps of c sqrt(h) dt),
    so the scheme still converges to the viscosity solution; it keeps constants.
    """

    moves: list
    implicit: object
    shape: tuple
    cubic: Optional[list] = None
    bound: float = 0.0

    @classmethod
    def build(cls, model: TwoScaleModel, x_grid: Grid, y_grid: Grid, eps: float, dt: float,
              y_scheme: str = "fitted", transport: Optional[CharacteristicTransport] = None,
              interpolation: str = "linear") -> "EpsHJBStep":
        check_interpolation(interpolation)
        transport = transport or slow_transport(model, x_grid, y_grid)
        shape = x_grid.shape + y_grid.shape
        d = model.dim
        x, y = product_nodes(x_grid, y_grid)
        drift = model.b(x, y)
        check_finite(np.sum(drift, axis=-1), "eps_hjb: fast drift b", 0, {**x_grid.coordinates(), **y_grid.coordinates()})
        L = reflecting_generator(shape, tuple(range(d, 2 * d)), y_grid.spacings, drift, y_scheme)
        implicit = factorize(sp.identity(L.shape[0], format="csr") - (dt / eps) * L, blocks=x_grid.size)
        if interpolation == "cubic" and min(x_grid.shape) >= 4:
            bound = FILTER_CONSTANT * np.sqrt(float(np.max(x_grid.spacings))) * dt
            return cls(transport.operators(dt), implicit, shape, transport.operators(dt, "cubic"), bound)
        return cls(transport.operators(dt), implicit, shape)

    def __call__(self, value: np.ndarray) -> np.ndarray:
        if self.cubic is None:
            moved = CharacteristicTransport.apply(self.moves, value)
        else:
            flat, moved = value.ravel(), None
            for S, C in zip(self.moves, self.cubic):
                foot = flat if S is None else filtered(S @ flat, C @ flat, self.bound)
                moved = foot if moved is None else np.minimum(moved, foot)
        return self.implicit.solve(moved.ravel()).reshape(self.shape)


#: How the slow part interpolates at the feet: "cubic" (filtered against linear: high order
#: where V is smooth, convergent everywhere) or "linear" (monotone, first order: the reference).
INTERPOLATIONS = ("cubic", "linear")
DEFAULT_INTERPOLATION = "cubic"
#: c in the filter bound c sqrt(h) dt of the cubic interpolation.
FILTER_CONSTANT = 10.0


def check_interpolation(interpolation: str) -> None:
    if interpolation not in INTERPOLATIONS:
        raise InputError("interpolation", f"unknown interpolation {interpolation!r}; one of {', '.join(INTERPOLATIONS)}")


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


def solve_eps_hjb(model: TwoScaleModel, x_grid: Grid, y_grid: Grid, T: float, eps: float,
                  dt: Optional[float] = None, courant: float = DEFAULT_COURANT, y_scheme: str = "fitted",
                  snapshots: int = 0, on_step: Optional[Callable[[int, int], None]] = None,
                  interpolation: str = DEFAULT_INTERPOLATION) -> EpsHJBSolution:
    """V^eps(0, x, y) of the eps-HJB Cauchy problem on a product grid (SPEC section 2).

    Solves, backward from t = T,

        -V_t + H(x, y, D_x V) - (1/eps) ( b(x, y) . D_y V + Laplacian_y V ) = 0,   V(T, x, y) = g(x),

    H(x, y, p) = max_{u in U} ( -phi(x, y, u) . p ), by Lie splitting: each step
    (:class:`hjb.solvers.eps_hjb.EpsHJBStep`) follows the characteristics of the
    slow part (semi-Lagrangian, min over the controls; cubic interpolation at the
    feet filtered against linear, or linear), then solves the stiff fast part
    implicitly with the reflecting monotone generator L_y (an M-matrix factorised
    once).  With linear interpolation both halves are monotone, so the step is too;
    the filtered cubic step stays within c sqrt(h) dt of it, so it converges too, and
    it is far more accurate where V is smooth.  dt does not depend on eps and the
    cost stays flat as eps -> 0.

    Parameters
    ----------
    model : TwoScaleModel
        The two-scale model (phi, b, U, g).
    x_grid, y_grid : Grid
        The x- and y-boxes (``Grid.box(..., name="y")`` for y), of the model's
        dimension.  The y-box must lie inside the x-box, so that the
        characteristics of the slow part point into the x-box.
    T : float
        The horizon (> 0).
    eps : float
        The scale separation eps (> 0).
    dt : float, optional
        The time step (default: ``courant`` times the upwind CFL step of the
        slow part, at most T / 20); it is shrunk to divide T exactly.
    courant : float, default 10
        dt as a multiple of the CFL step when ``dt`` is not given (the
        semi-Lagrangian step stays monotone above 1).
    y_scheme : {"fitted", "upwind"}, default "fitted"
        The jump rates of the fast generator: Scharfetter-Gummel fitted
        (second order) or upwind (first order); both monotone for every h.
    snapshots : int, default 0
        Keep this many equispaced time levels (the first and last included),
        e.g. for the feedback of an ``sde`` run.
    on_step : callable, optional
        ``on_step(n, steps)`` after each step (progress reports).
    interpolation : {"cubic", "linear"}, default "cubic"
        At the feet of the characteristics: cubic filtered against linear
        (:class:`EpsHJBStep`), or linear (monotone, first order: the reference).

    Returns
    -------
    EpsHJBSolution
        ``value``: V^eps(0, x, y), shape (*x_grid.shape, *y_grid.shape) (axes
        x..., y...); ``x_grid``, ``y_grid``, ``eps``, ``T``, ``dt``, ``steps``;
        ``times`` and ``snapshots`` (shape (snapshots, *value.shape)) when asked for.

    Raises
    ------
    InputError
        A non-positive eps, T or courant, grids of the wrong dimension, a y-box
        not inside the x-box, an unknown y_scheme, or a solve over the memory
        or time-step limits (:mod:`hjb.limits`).
    NonFiniteError
        A NaN or Inf appeared (naming the step and the grid node).

    Example
    -------
    The quadratic loss: V^eps(0, x, y) is close to the effective value v(0, x)
    for small eps (:func:`hjb.solve_effective`; here 0.0213 on this grid, exactly 0.0214):

    >>> import hjb
    >>> model = hjb.DeepRelaxation(hjb.make_loss("quadratic", a=1.0, c=0.5), gamma=2.0)
    >>> gx, gy = hjb.Grid.box(-2.0, 2.0, 81), hjb.Grid.box(-2.0, 2.0, 81, name="y")
    >>> sol = hjb.solve_eps_hjb(model, gx, gy, T=0.5, eps=0.01)
    >>> sol.value.shape, sol.steps, sol.dt
    ((81, 81), 20, 0.025)
    >>> round(float(sol.value[gx.locate(1.0) + gy.locate(1.0)]), 4)      # V^eps(0, 1, 1)
    0.0243
    """
    if not eps > 0:
        raise InputError("eps", f"must be positive, got {eps:g}")
    if not T > 0:
        raise InputError("T", f"must be positive, got {T:g}")
    if x_grid.dim != model.dim or y_grid.dim != model.dim:
        raise InputError("grid", f"x and y grids must have dimension {model.dim}")
    check_interpolation(interpolation)
    if not courant > 0:
        raise InputError("courant", f"must be positive, got {courant:g}")
    check_scheme(y_scheme, "y_scheme")
    check_memory(memory_estimate(model, x_grid, y_grid, snapshots), f"an eps-HJB grid of {x_grid.size * y_grid.size:,} nodes")
    transport = slow_transport(model, x_grid, y_grid)
    if dt is None:
        dt = min(courant * transport.courant_step(), T / MIN_STEPS)
    steps, dt = plan_steps(T, dt)
    step = EpsHJBStep.build(model, x_grid, y_grid, eps, dt, y_scheme, transport, interpolation)
    del transport

    d = model.dim
    shape = x_grid.shape + y_grid.shape
    coordinates = {**x_grid.coordinates(), **y_grid.coordinates()}
    value = np.broadcast_to(model.g(x_grid.nodes()).reshape(x_grid.shape + (1,) * d), shape).copy()
    check_finite(value, "eps_hjb: terminal cost g", 0, coordinates)
    run = march(step, value, steps, dt, T, "eps_hjb", coordinates, snapshots, on_step)
    return EpsHJBSolution(run.value, x_grid, y_grid, float(eps), float(T), float(dt), steps,
                          run.times, run.snapshots)
