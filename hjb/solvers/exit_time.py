"""The mean exit time of the diffusion dX = -grad f dt + sqrt(2/beta) dW (SPEC section 7):

    (1/beta) Laplacian tau - grad f . grad tau = -1   in D,      tau = 0   on the boundary of D,

solved, after multiplying by beta, as  -(Laplacian + b . D) tau = beta  with b = -beta grad f.

D is the x-box (absorbing walls: tau = 0 at the wall nodes; the interior rows are
those of the reflecting monotone generator of :mod:`hjb.operators.generator`,
see :mod:`hjb.operators.box`) or the ball of ``radius`` about ``center`` (the
fitted Shortley-Weller cut-cell operator of :mod:`hjb.operators.ball`, drift
y -> -beta grad f(center + y)).  Either matrix is a non-singular M-matrix
(tau >= 0, discrete comparison principle), and the solve is
:func:`hjb.solvers.ball_solve.solve_ball` with delta = 0: SuperLU, or geometric
multigrid on the ball, refined with the edge-form residual.  The fitted
(Scharfetter-Gummel) rates are exact for a locally constant drift: the answer is
second order in h and stays accurate when beta |grad f| h is not small.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Optional

import numpy as np
import scipy.sparse.linalg as spla

from ..errors import InputError, NonFiniteError, check_finite
from ..grid import Grid
from ..limits import SLACK, check_memory
from ..losses import Loss
from ..operators.ball import ball_operator
from ..operators.box import box_operator
from ..operators.generator import check_scheme
from ..points import as_point
from .ball_solve import SOLVERS, BallSolve, ball_memory, check_solver, on_square_grid, solve_ball
from .ball_solve import memory_estimate as solve_memory

#: The coarse solve that sizes tau: at most this many nodes per box axis, or steps per radius.
COARSE_POINTS, COARSE_STEPS_PER_RADIUS = 33, 12
#: The defaults of :func:`mean_exit_time`, named once for the case schema.
DEFAULT_SOLVER = "direct"
DEFAULT_SCHEME = "fitted"
__all__ = ["mean_exit_time", "exit_time_operator", "ExitTimeSolution", "SOLVERS", "DEFAULT_SOLVER",
           "DEFAULT_SCHEME"]


@dataclass
class ExitTimeSolution:
    """tau on the grid (``value``: 0 on the walls or the sphere, NaN outside a ball), on the
    unknowns (``values``), and how it was obtained."""

    value: np.ndarray
    values: np.ndarray
    grid: Grid
    beta: float
    domain: str                       # "box" or "ball"
    radius: Optional[float]
    center: np.ndarray
    solver: str
    scheme: str
    unknowns: int
    assembly_time: float
    solve: BallSolve                  # nonzeros, solve_time, corrections, residual (of tau), stats

    @property
    def max_value(self) -> float:
        return float(np.nanmax(self.value))


def check_exit_time_input(loss: Loss, grid: Grid, beta, radius=None, center=None, solver=DEFAULT_SOLVER,
                          scheme=DEFAULT_SCHEME):
    """Validate the arguments of :func:`mean_exit_time` (errors name the argument).

    Returns (beta, radius, center) as numbers and a point."""
    if grid.dim != loss.dim:
        raise InputError("grid", f"has {grid.dim} axes but the loss has dimension {loss.dim}")
    beta = float(beta)
    if not (np.isfinite(beta) and beta > 0):
        raise InputError("beta", f"must be a positive number, got {beta:g}")
    check_solver(solver)
    check_scheme(scheme, "scheme")
    center = as_point(0.0 if center is None else center, grid.dim, "center", broadcast=True)
    if radius is None:
        if solver != "direct":
            raise InputError("solver", f"'{solver}' (geometric multigrid) works on a ball: give a radius, "
                             "or use solver = 'direct' on the box")
        return beta, None, center
    radius = float(radius)
    if not (np.isfinite(radius) and radius > 0):
        raise InputError("radius", f"must be a positive number, got {radius:g}")
    if scheme != "fitted":
        raise InputError("scheme", f"the ball operator has fitted rates only, got '{scheme}' "
                         "(the upwind rates are available on the box: no radius)")
    spacings = grid.spacings
    if not np.allclose(spacings, spacings[0], rtol=1e-9):
        raise InputError("grid", f"the ball needs one grid step on every axis, got {np.array2string(spacings)}")
    h = float(spacings[0])
    if not radius > 2 * h:
        raise InputError("radius", f"must exceed two grid steps (h = {h:g}), got {radius:g}")
    offset = (center - grid.lower) / h
    if not np.allclose(offset, np.round(offset), atol=1e-6):
        nearest = grid.lower + np.round(offset) * h
        raise InputError("center", f"must be a grid node (the ball's lattice is the grid's), got "
                         f"{np.array2string(center)}; nearest node {np.array2string(nearest)}")
    # the ball's lattice nodes j h, |j_k| <= J = floor(radius / h) (as in ball_operator), must be grid nodes
    J, index = np.floor(radius / h + 1e-9), np.round(offset)
    if np.any(index - J < 0) or np.any(index + J > np.array(grid.shape) - 1):
        raise InputError("radius", f"the ball of radius {radius:g} about {np.array2string(center)} "
                         f"does not fit in the x-box [{np.array2string(grid.lower)}, {np.array2string(grid.upper)}]")
    return beta, radius, center


def exit_time_operator(loss: Loss, grid: Grid, beta: float, radius: Optional[float] = None, center=None,
                       scheme: str = DEFAULT_SCHEME):
    """-(Laplacian - beta grad f . D) on the unknowns of D, with tau = 0 on the boundary:
    a :class:`~hjb.operators.box.BoxOperator` (no radius) or a
    :class:`~hjb.operators.ball.BallOperator` about ``center`` (arguments checked
    by :func:`check_exit_time_input`).  ``op.matrix(0.0)`` is the M-matrix."""
    if radius is None:
        d = grid.dim
        # nodes and drift: 2 (N, d) arrays, then the operator's own assembly (checked there)
        check_memory(16.0 * d * grid.size, f"the drift on {grid.size:,} nodes", key="grid")
        drift = -beta * loss.grad(grid.nodes())
        check_finite(np.sum(drift, axis=-1), "exit_time: the drift -beta grad f", None, grid.coordinates())
        return box_operator(grid.shape, grid.spacings, drift, scheme, lower=grid.lower, key="grid")
    center = np.zeros(grid.dim) if center is None else np.broadcast_to(np.asarray(center, float), (grid.dim,))
    op = ball_operator(_ball_drift(loss, beta, center), grid.dim, radius, float(grid.spacings[0]))
    if not (np.all(np.isfinite(op.rate)) and np.all(np.isfinite(op.exit_rate))):
        raise NonFiniteError(f"exit_time: the drift -beta grad f is not finite in the ball of radius {radius:g}")
    return op


def _ball_drift(loss: Loss, beta: float, center: np.ndarray):
    def drift(y):
        return -beta * loss.grad(center + y)
    return drift


def memory_estimate(loss: Loss, grid: Grid, beta: float, radius: Optional[float] = None, center=None,
                    solver: str = DEFAULT_SOLVER) -> float:
    """Bytes at the peak of :func:`mean_exit_time` (calibrated by scripts/bench_memory.py): the box
    operator's assembly (nodes, drift, the reflecting generator's triplets; measured per node)
    or the operator held while the solve runs; on a ball :func:`hjb.solvers.ball_solve.ball_memory`;
    then tau and f on the grid."""
    n, d = grid.size, grid.dim
    result = 8.0 * n * (d + 3)
    if radius is None:
        unknowns = float(np.prod(np.maximum(np.array(grid.shape) - 2, 0)))
        assembly, held = SLACK * n * (110.0 + 140.0 * d), SLACK * n * (56.0 * d + 56.0)
        return max(assembly, held + solve_memory(unknowns, d, solver, box=True)) + result
    center = np.zeros(d) if center is None else np.broadcast_to(np.asarray(center, float), (d,))
    return ball_memory(_ball_drift(loss, beta, center), d, radius, float(grid.spacings[0]), solver) + result


def _size_of_tau(loss: Loss, grid: Grid, beta: float, radius, center, scheme) -> float:
    """max tau on a coarse version of the domain (COARSE_POINTS nodes per box axis, or
    COARSE_STEPS_PER_RADIUS steps per radius of the ball): a few hundred unknowns, solved directly."""
    if radius is None:
        coarse = Grid.box(grid.lower, grid.upper, np.minimum(grid.shape, COARSE_POINTS), name=grid.name)
        op = exit_time_operator(loss, coarse, beta, None, center, scheme)
    else:
        step = max(float(grid.spacings[0]), radius / COARSE_STEPS_PER_RADIUS)
        op = ball_operator(_ball_drift(loss, beta, center), grid.dim, radius, step)
    if op.size == 0:
        return 1.0
    size = float(np.max(spla.splu(op.matrix(0.0).tocsc()).solve(np.full(op.size, beta))))
    return size if np.isfinite(size) and size > 0 else 1.0


def mean_exit_time(loss: Loss, grid: Grid, beta: float, radius: Optional[float] = None, center=None,
                   solver: str = DEFAULT_SOLVER, scheme: str = DEFAULT_SCHEME) -> ExitTimeSolution:
    """The mean exit time tau of dX = -grad f dt + sqrt(2/beta) dW from the x-box or from a ball.

    Solves (1/beta) Laplacian tau - grad f . grad tau = -1 in D, tau = 0 on the boundary
    of D, with a monotone (M-matrix) scheme: second order with the fitted rates.

    Parameters
    ----------
    loss : Loss
        f, with its gradient (``hjb.make_loss``).
    grid : Grid
        The x-grid.  Without ``radius`` D is its box, with tau = 0 at the wall nodes.
    beta : float
        Inverse temperature (> 0).
    radius : float, optional
        D is the ball of this radius about ``center`` instead; the grid then needs one
        spacing on every axis, ``center`` must be a node and the ball's nodes grid nodes.
    center : float or sequence, optional
        Centre of the ball (default the origin; a number stands for every component).
    solver : {"direct", "iterative"}
        SuperLU, or geometric multigrid (on a ball only).
    scheme : {"fitted", "upwind"}
        Rates of the box operator (the ball's are fitted).

    Returns
    -------
    ExitTimeSolution
        ``value``: tau on the grid (0 on the walls or the sphere, NaN outside a ball);
        ``values``: tau on the unknowns; sizes, timings and the refinement count.

    Example
    -------
    >>> import numpy as np, hjb
    >>> from hjb.solvers.exit_time import mean_exit_time
    >>> grid = hjb.Grid.box(-2.5, 1.0, 801)
    >>> sol = mean_exit_time(hjb.make_loss("double_well"), grid, beta=8.0)
    >>> round(float(sol.value[grid.locate(-1.0)]), 2)       # from the minimum -1, over the barrier top 0
    41.03
    >>> disc = mean_exit_time(hjb.make_loss("quadratic", 2), hjb.Grid.box([-1, -1], [1, 1], [81, 81]),
    ...                       beta=2.0, radius=1.0)
    >>> disc.domain, disc.unknowns, bool(np.isnan(disc.value[0, 0]))
    ('ball', 5013, True)
    """
    beta, radius, center = check_exit_time_input(loss, grid, beta, radius, center, solver, scheme)
    what = f"the exit-time solve on {grid.size:,} nodes" if radius is None else \
        f"the exit-time operator on the ball of radius {radius:g}"
    check_memory(memory_estimate(loss, grid, beta, radius, center, solver), what, key="grid")
    start = time.perf_counter()
    op = exit_time_operator(loss, grid, beta, radius, center, scheme)
    # The refinement of solve_ball measures corrections relative to max |rhs|; tau grows like
    # e^{beta barrier}, so solve for tau / (its size, from a coarse solve): then the stopping
    # rule is a relative one and does not wait for the absolute change to reach rounding.
    size = _size_of_tau(loss, grid, beta, radius, center, scheme)
    assembled = time.perf_counter()
    rhs = np.full(op.size, beta / size)
    operator_at = None
    if radius is not None:
        drift, dim = _ball_drift(loss, beta, center), grid.dim
        operator_at = lambda step: ball_operator(drift, dim, radius, step)   # noqa: E731 (multigrid levels)
    solve = solve_ball(op, 0.0, rhs, solver, operator_at=operator_at, what="exit-time")
    tau = size * solve.values
    if radius is None:
        value = on_square_grid(op, tau)
    else:
        value = np.full(grid.shape, np.nan)
        first = np.round((center - grid.lower) / grid.spacings).astype(int) - (op.index.shape[0] - 1) // 2
        block = tuple(slice(i, i + n) for i, n in zip(first, op.index.shape))
        value[block] = on_square_grid(op, tau)
    return ExitTimeSolution(value=value, values=tau, grid=grid, beta=beta,
                            domain="box" if radius is None else "ball", radius=radius, center=center,
                            solver=solver, scheme=scheme, unknowns=op.size, assembly_time=assembled - start,
                            solve=replace(solve, residual=size * solve.residual))
