"""The truncated delta-cell problem on the ball D_n = {|y| < n} (SPEC section 3, route 2).

    delta omega - ( b(xbar, y) . D omega + Laplacian omega ) = -h(y)   in D_n,
    omega = 0                                                          on the sphere |y| = n,

with h(y) = H(xbar, y, pbar).  omega(y) = -E int_0^tau h(Y_t) e^{-delta t} dt
(tau the exit time from D_n), and delta omega -> -H-bar(xbar, pbar) as
n -> infinity with delta = delta(n) -> 0 suitably (Bardi-Kouhkouh).

The operator is the fitted Shortley-Weller cut-cell operator of
:mod:`hjb.operators.ball` (any dimension: d = 1 the interval (-n, n), d = 2 the
disc); the solve, direct or multigrid and refined with the edge-form residual
so that delta omega is accurate to rounding, is :func:`hjb.solvers.ball_solve.solve_ball`.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from ..errors import InputError
from ..grid import coordinate_names
from ..model import TwoScaleModel
from ..operators.ball import ball_operator
from ..points import as_point
from .ball_solve import ball_memory, check_solver, on_square_grid, solve_ball


@dataclass
class CellSolution:
    """omega on the unknowns and on the square grid (NaN outside D_n, 0 on grid nodes on the sphere)."""

    values: np.ndarray
    omega: np.ndarray
    axis: np.ndarray
    dim: int
    n: float
    delta: float
    h: float
    delta_omega_at_center: float
    solver: str
    unknowns: int
    nonzeros: int
    assembly_time: float
    solve_time: float
    refinements: int
    residual: float
    stats: dict = field(default_factory=dict)

    @property
    def coordinate_names(self) -> list:
        return coordinate_names("y", self.dim)


def check_cell_input(dim, xbar, pbar, n, delta, h, solver):
    """Validate the arguments of :func:`solve_truncated_cell` (errors name the argument)."""
    xbar, pbar = as_point(xbar, dim, "xbar"), as_point(pbar, dim, "pbar")
    n, delta, h = float(n), float(delta), float(h)
    if not n > 0:
        raise InputError("n", f"the radius of D_n must be positive, got {n:g}")
    if not delta > 0:
        raise InputError("delta", f"must be positive, got {delta:g}")
    if not h > 0:
        raise InputError("h", f"must be positive, got {h:g}")
    if not h < n:
        raise InputError("h", f"the grid step must be smaller than n = {n:g}, got {h:g}")
    check_solver(solver)
    return xbar, pbar, n, delta, h


def solve_truncated_cell(model: TwoScaleModel, xbar, pbar, n: float, delta: float, h: float,
                         solver: str = "direct", refine: bool = True) -> CellSolution:
    """The truncated delta-cell problem on the ball D_n = {|y| < n} (SPEC section 3, route 2).

    Solves, for the frozen slow state xbar and momentum pbar,

        delta omega - ( b(xbar, y) . D omega + Laplacian omega ) = -H(xbar, y, pbar)   in D_n,
        omega = 0                                                                     on |y| = n,

    with the fitted Shortley-Weller cut-cell operator (an M-matrix for every h,
    second order with the boundary).  delta omega(0) -> -H-bar(xbar, pbar) as
    n -> infinity and delta -> 0 suitably (Bardi-Kouhkouh; measured in the README).

    Parameters
    ----------
    model : TwoScaleModel
        The two-scale model (its fast drift ``b`` and Hamiltonian are used).
    xbar, pbar : float or array_like
        The frozen point and momentum: a number in d = 1, a list of d numbers otherwise.
    n : float
        Radius of the ball D_n (> 0).
    delta : float
        The discount delta (> 0); small delta approaches the ergodic limit.
    h : float
        Grid step of the lattice h Z^d cut by the ball (0 < h < n).
    solver : {"direct", "iterative"}, default "direct"
        "direct": SuperLU, factorised once; "iterative": geometric multigrid on
        the lattices h, 2h, 4h, ... cut by the ball (for large d = 2 and d = 3 grids).
    refine : bool, default True
        Correct the solution with the residual in edge-difference form, which
        makes delta omega accurate to rounding for small delta; ``False`` skips
        this for the direct solver (to show what it buys).

    Returns
    -------
    CellSolution
        ``delta_omega_at_center`` (delta omega(0), the approximation of
        -H-bar(xbar, pbar)); ``omega`` on the square grid ``axis`` x ... x
        ``axis`` (shape (2J+1,)*d; NaN outside D_n, 0 at nodes on the sphere);
        ``values`` at the unknowns; and the size and cost of the solve
        (``unknowns``, ``nonzeros``, ``assembly_time``, ``solve_time``,
        ``refinements``, ``residual``).

    Raises
    ------
    InputError
        A non-positive n, delta or h, h >= n, an unknown solver, or xbar/pbar
        with the wrong number of components.

    Example
    -------
    >>> import hjb
    >>> model = hjb.DeepRelaxation(hjb.make_loss("quadratic"), gamma=2.0)
    >>> sol = hjb.solve_truncated_cell(model, 0.5, 1.0, n=6.0, delta=1e-6, h=0.05)
    >>> round(-sol.delta_omega_at_center, 4)
    0.6461
    >>> round(float(hjb.effective_hamiltonian(model, 0.5, 1.0)[0]), 4)   # H-bar(0.5, 1)
    0.6464
    >>> sol.omega.shape, sol.unknowns
    ((241,), 239)
    """
    dim = model.dim
    xbar, pbar, n, delta, h = check_cell_input(dim, xbar, pbar, n, delta, h, solver)
    start = time.perf_counter()

    def drift(y):
        return model.b(xbar, y)

    op = ball_operator(drift, dim, n, h)
    rhs = -np.asarray(model.hamiltonian(xbar, op.nodes, pbar), dtype=float)
    assembled = time.perf_counter()
    solve = solve_ball(op, delta, rhs, solver, operator_at=lambda step: ball_operator(drift, dim, n, step),
                       refined=refine, what="cell-problem")
    omega = solve.values
    center = op.index[(len(op.axis) // 2,) * dim]
    return CellSolution(values=omega, omega=on_square_grid(op, omega), axis=op.axis, dim=dim, n=n, delta=delta,
                        h=h, delta_omega_at_center=float(delta * omega[center]), solver=solver,
                        unknowns=op.size, nonzeros=solve.nonzeros, assembly_time=assembled - start,
                        solve_time=solve.solve_time, refinements=solve.corrections, residual=solve.residual,
                        stats=solve.stats)


def memory_estimate(model: TwoScaleModel, xbar, n: float, h: float, solver: str = "direct") -> float:
    """Bytes at the peak of :func:`solve_truncated_cell` (:func:`hjb.solvers.ball_solve.ball_memory`)."""
    xbar = as_point(xbar, model.dim, "xbar")
    return ball_memory(lambda y: model.b(xbar, y), model.dim, float(n), float(h), solver)
