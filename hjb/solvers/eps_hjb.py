"""The eps-HJB Cauchy problem in (t, x, y) (SPEC section 2):

    -V_t + H(x, y, D_x V) - (1/eps) ( b . D_y V + Lap_y V ) = 0,   V(T, x, y) = g(x),

marched backward in tau = T - t by Lie splitting.  One step of size dt
(:class:`EpsHJBStep`):

    V*        = min_u V(tau, x + phi(x, y, u) dt, y)      slow part, along characteristics
    V(tau+dt) = (I - (dt/eps) L_y)^{-1} V*  [- A]         stiff fast part, implicit

L_y is the reflecting monotone generator of :mod:`hjb.operators.generator`, so both halves
are monotone and keep constants; the implicit matrix is an M-matrix factorised once and
reused every step, and dt does not depend on eps, so the cost stays flat as eps -> 0.
With the default (cubic feet, splitting "corrected") the step also corrects what the
splitting gets wrong when y mixes within a step (:mod:`hjb.operators.averaging_correction`):
it removes the numerical diffusion (dt/2) Cov(phi) D_xx V and adds the second-order term of
the averaged characteristic, capped by the filter; the scheme is then second order in dt
where V is smooth along the characteristics.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Callable, Optional

import numpy as np

from ..errors import InputError, check_finite
from ..grid import Grid
from ..limits import check_memory
from ..model import TwoScaleModel
from ..operators.generator import check_scheme
from .eps_hjb_memory import memory_estimate
from .eps_hjb_step import (DEFAULT_INTERPOLATION, INTERPOLATIONS, SPLITTINGS, EpsHJBStep, check_interpolation,  # noqa: F401
                           check_splitting, default_splitting)
from .product_grid import product_nodes, slow_transport  # noqa: F401
from .march import march, plan_steps

#: Default Courant number dt / dt_CFL of each splitting, dt_CFL the upwind CFL step of the
#: slow part (the semi-Lagrangian step stays monotone above 1): where the hard case's error is
#: smallest for the work (scripts/bench_eps_hjb.py).  Longer steps grow the splitting error,
#: shorter ones the interpolation error; the corrected splitting removes the larger part of
#: the former, so its steps can be twice as long.
DEFAULT_COURANTS = {"corrected": 20.0, "lie": 10.0}
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
    splitting: str = "lie"


def solve_eps_hjb(model: TwoScaleModel, x_grid: Grid, y_grid: Grid, T: float, eps: float,
                  dt: Optional[float] = None, courant: Optional[float] = None, y_scheme: str = "fitted",
                  snapshots: int = 0, on_step: Optional[Callable[[int, int], None]] = None,
                  interpolation: str = DEFAULT_INTERPOLATION, splitting: Optional[str] = None) -> EpsHJBSolution:
    """V^eps(0, x, y) of the eps-HJB Cauchy problem on a product grid (SPEC section 2).

    Solves, backward from t = T,

        -V_t + H(x, y, D_x V) - (1/eps) ( b(x, y) . D_y V + Laplacian_y V ) = 0,   V(T, x, y) = g(x),

    H(x, y, p) = max_{u in U} ( -phi(x, y, u) . p ), by Lie splitting: each step
    (:class:`hjb.solvers.eps_hjb_step.EpsHJBStep`) follows the characteristics of the
    slow part (semi-Lagrangian, min over the controls; cubic interpolation at the
    feet filtered against linear, or linear), then solves the stiff fast part
    implicitly with the reflecting monotone generator L_y (an M-matrix factorised
    once).  With linear interpolation both halves are monotone, so the step is too;
    the filtered cubic step stays within c sqrt(h) dt of it, so it converges too, and
    it is far more accurate where V is smooth.  The default splitting also removes
    the numerical diffusion (dt/2) Cov(phi) D_xx V of the Lie splitting and adds the
    second-order term of the averaged characteristic
    (:mod:`hjb.operators.averaging_correction`), filtered the same way: second order
    in dt where V is smooth and y mixes within a step.  dt does not depend on eps and the cost stays
    flat as eps -> 0.

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
    courant : float, optional
        dt as a multiple of the CFL step when ``dt`` is not given (the
        semi-Lagrangian step stays monotone above 1); default 20 with the
        corrected splitting, 10 with Lie's (:data:`DEFAULT_COURANTS`).
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
    splitting : {"corrected", "lie"}, optional
        "corrected" (the default with cubic feet): Lie's step with the filtered
        corrections of :mod:`hjb.operators.averaging_correction`; "lie" (the default,
        and the only choice, with linear feet).

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
        not inside the x-box, an unknown y_scheme or splitting, or a solve over the memory
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
    0.0226
    """
    if not eps > 0:
        raise InputError("eps", f"must be positive, got {eps:g}")
    if not T > 0:
        raise InputError("T", f"must be positive, got {T:g}")
    if x_grid.dim != model.dim or y_grid.dim != model.dim:
        raise InputError("grid", f"x and y grids must have dimension {model.dim}")
    check_interpolation(interpolation)
    splitting = default_splitting(interpolation) if splitting is None else splitting
    check_splitting(splitting, interpolation)
    courant = DEFAULT_COURANTS[splitting] if courant is None else courant
    if not courant > 0:
        raise InputError("courant", f"must be positive, got {courant:g}")
    check_scheme(y_scheme, "y_scheme")
    check_memory(memory_estimate(model, x_grid, y_grid, snapshots, splitting, interpolation), f"an eps-HJB grid of {x_grid.size * y_grid.size:,} nodes")
    transport = slow_transport(model, x_grid, y_grid)
    if dt is None:
        dt = min(courant * transport.courant_step(), T / MIN_STEPS)
    steps, dt = plan_steps(T, dt)
    step = EpsHJBStep.build(model, x_grid, y_grid, eps, dt, y_scheme, transport, interpolation, splitting, steps)
    del transport
    if interpolation == "cubic" and step.cubic is None:
        warnings.warn(f"the x-grid has fewer than 4 nodes along an axis: no cubic feet, so no averaging "
                      f"correction (linear feet, Lie splitting, at Courant {courant:g})", RuntimeWarning, stacklevel=2)

    d = model.dim
    shape = x_grid.shape + y_grid.shape
    coordinates = {**x_grid.coordinates(), **y_grid.coordinates()}
    value = np.broadcast_to(model.g(x_grid.nodes()).reshape(x_grid.shape + (1,) * d), shape).copy()
    check_finite(value, "eps_hjb: terminal cost g", 0, coordinates)
    run = march(step, value, steps, dt, T, "eps_hjb", coordinates, snapshots, on_step)
    return EpsHJBSolution(run.value, x_grid, y_grid, float(eps), float(T), float(dt), steps,
                          run.times, run.snapshots, "corrected" if step.displacements is not None else "lie")
