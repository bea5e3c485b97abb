"""H-bar by the truncated delta-cell problem (SPEC section 3, route 2):

    H-bar(x, p) ~ -delta omega(0),   delta omega - (b . D omega + Laplacian omega) = -H(x, ., p) in D_n,

with omega = 0 on the sphere (:func:`hjb.solvers.cell.solve_truncated_cell`),
optionally Richardson-extrapolated in h.
"""
from __future__ import annotations

from math import gamma, pi

import numpy as np

from ..model import TwoScaleModel
from ..points import as_points
from ..solvers.cell import memory_estimate as cell_memory, solve_truncated_cell
from ..solvers.invariant import markov_box

#: Defaults of METHODS['cell']: delta, and the unknowns aimed at per dimension.
CELL_DELTA = 1e-8
CELL_UNKNOWNS = {1: 8000, 2: 100_000}


def default_radius(model: TwoScaleModel, x: np.ndarray) -> float:
    """A radius n such that D_n holds the ball around the y-box centre with its largest half-width
    (the box of :func:`hjb.solvers.invariant.markov_box`; for the deep-relaxation model the ball
    outside which mu_x has density below e^-40 of its peak, so exits are never the issue)."""
    lo, hi = markov_box(model, x)
    return float(np.linalg.norm(0.5 * (lo + hi)) + np.max(0.5 * (hi - lo)))


def hbar_cell(model: TwoScaleModel, x, p, n=None, delta: float = CELL_DELTA, h=None, solver: str = "direct",
              richardson: bool = True) -> np.ndarray:
    """H-bar(x_i, p_i) ~ -delta omega(0) of the truncated cell problem (METHODS['cell']).

    Defaults: n from :func:`default_radius`, delta = 1e-8, h giving about
    CELL_UNKNOWNS unknowns; with ``richardson`` the values at h and 2h are
    combined as (4 v_h - v_2h)/3 to remove the O(h^2) term of the error (the term
    is a clean c h^2 only when the kink of h(y) at y = xbar lies on grid nodes;
    otherwise extrapolation still helps but less predictably: measured in
    tests/test_hbar_three_ways.py, errors 1e-8 ... 1e-5 against quadrature).
    """
    x, p = as_points(x, model.dim), as_points(p, model.dim, "p")
    unknowns = CELL_UNKNOWNS.get(model.dim, 200_000)
    ball = pi ** (model.dim / 2) / gamma(model.dim / 2 + 1)   # volume of the unit ball
    out = np.empty(len(x))
    for i in range(len(x)):
        radius = default_radius(model, x[i]) if n is None else float(n)
        # |D_n| / h^d = the unknowns aimed at
        step = radius * (ball / unknowns) ** (1.0 / model.dim) if h is None else float(h)
        fine = solve_truncated_cell(model, x[i], p[i], radius, delta, step, solver=solver).delta_omega_at_center
        if richardson:
            coarse = solve_truncated_cell(model, x[i], p[i], radius, delta, 2 * step,
                                          solver=solver).delta_omega_at_center
            fine = (4.0 * fine - coarse) / 3.0
        out[i] = -fine
    return out


def memory_estimate(model: TwoScaleModel, x, n=None, h=None, solver: str = "direct") -> float:
    """Bytes at the peak of :func:`hbar_cell`: the largest of its solves (one point at a time; the
    solve at 2h for Richardson is smaller)."""
    x = as_points(x, model.dim)
    unknowns = CELL_UNKNOWNS.get(model.dim, 200_000)
    ball = pi ** (model.dim / 2) / gamma(model.dim / 2 + 1)
    need = 0.0
    for xi in np.unique(x, axis=0):
        radius = default_radius(model, xi) if n is None else float(n)
        step = radius * (ball / unknowns) ** (1.0 / model.dim) if h is None else float(h)
        need = max(need, cell_memory(model, xi, radius, step, solver))
    return need
