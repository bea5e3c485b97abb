"""Geometric multigrid for the fitted cell operator on the ball D_n (the iterative solver of hjb.solvers.ball_solve).

The grids are the lattices h Z^d, 2h Z^d, 4h Z^d, ... cut by the same ball, so
every coarse node is a fine node.  Each coarse operator is the fitted
Shortley-Weller operator re-discretised at its own step (``ball_operator``):
it is again an M-matrix, which a Galerkin product R A P of the same transfers
would not keep once the drift dominates at the coarse step (measured: Galerkin
coarse levels contract 0.3-0.5 per cycle, re-discretised ones ~0.15).  Interpolation is
d-linear on the lattice, with the value 0 at lattice nodes outside the ball
(the Dirichlet data), and restriction is its transpose scaled by 2^-d (full
weighting).  Smoothing is pyamg's compiled Gauss-Seidel, the coarsest solve SuperLU.

Against Ruge-Stuben AMG on the 10^6-unknown disc this replaces a 1.6 s set-up
(strength, splitting, Galerkin products) by coarse assemblies taking a third of
the fine one, and the hierarchy has operator complexity 4/3 instead of ~2.2.
"""
from __future__ import annotations

from itertools import product

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

#: Coarsening stops when a level has at most this many unknowns (solved by SuperLU).
COARSEST = 2000
#: ... or before a level whose cell Peclet number max |b_k| t / 2 exceeds this: there the
#: fitted rates are upwind-like, the coarse operator no longer resolves the drift's layers
#: and its correction misleads.  Measured (d = 3, quadratic loss, gamma = 2, n = 3): with a
#: coarsest level at Peclet 2.2 the cycle stalls (error factor 0.4-0.7), at 1.1 it
#: contracts ~0.2 per cycle; in d = 2 the 10^6 benchmark's coarsest level has 1.4.
MAX_PECLET = 1.5


def prolongation(fine, coarse) -> sp.csr_matrix:
    """d-linear interpolation from the unknowns of ``coarse`` (step 2h) to those of ``fine`` (step h).

    Fine node j h takes, along each axis, the coarse node j/2 (j even, weight 1) or
    the two nodes (j -+ 1)/2 (j odd, weight 1/2 each); parents outside the coarse
    ball carry the boundary value 0 and are dropped.
    """
    shape, dim = fine.index.shape, fine.index.ndim
    Jf, Jc = (shape[0] - 1) // 2, (len(coarse.axis) - 1) // 2
    # lattice coordinates of the fine unknowns, one axis at a time (unknowns are numbered
    # in the order of the flat square grid)
    grid = np.unravel_index(np.flatnonzero(fine.index.ravel() >= 0), shape)
    # coarse numbering padded by one layer of -1, so parents (j +- 1)/2 = +-(Jc + 1) need no test
    padded = np.pad(coarse.index, 1, constant_values=-1).ravel()
    strides = np.cumprod((1,) + (2 * Jc + 3,) * (dim - 1))[::-1]
    odd = [(g - Jf) & 1 for g in grid]
    lower = [((g - Jf - o) >> 1) + Jc + 1 for g, o in zip(grid, odd)]   # index in the padded grid
    cols, weights = [], []
    for corner in product((0, 1), repeat=dim):
        flat, weight = 0, 1.0
        for k, c in enumerate(corner):
            flat = flat + (lower[k] + c * odd[k]) * strides[k]
            weight = weight * (0.5 * odd[k] + (1 - odd[k]) * (1 - c))
        cols.append(padded[flat])
        weights.append(weight * np.ones(len(grid[0])))
    cols, weights = np.stack(cols, axis=1), np.stack(weights, axis=1)
    keep = (cols >= 0) & (weights > 0)
    indptr = np.concatenate([[0], np.cumsum(np.count_nonzero(keep, axis=1))])
    return sp.csr_matrix((weights[keep], cols[keep], indptr), shape=(fine.size, coarse.size))


class VCycle:
    """One V-cycle with zero initial guess: an approximate inverse of ``levels[0][0]``.

    ``levels`` is a list of (A, P, R) with P, R None on the coarsest level, which
    is solved by SuperLU.  Smoothing is one symmetric Gauss-Seidel sweep (pyamg's
    compiled kernel) before and after the coarse correction.  Written out rather than
    taken from pyamg's MultilevelSolver because its preconditioner form evaluates
    two extra fine-level residual norms per cycle (a quarter of the cycle's cost here).
    """

    def __init__(self, levels):
        from pyamg.relaxation.relaxation import gauss_seidel   # pyamg takes 0.5 s to import: only when used
        self.smooth = gauss_seidel
        self.levels = levels
        self.coarse = spla.splu(levels[-1][0].tocsc())

    @property
    def operator_complexity(self) -> float:
        return sum(A.nnz for A, _, _ in self.levels) / self.levels[0][0].nnz

    def __call__(self, b: np.ndarray, level: int = 0) -> np.ndarray:
        A, P, R = self.levels[level]
        if P is None:
            return self.coarse.solve(b)
        x = np.zeros_like(b)
        self.smooth(A, x, b, iterations=1, sweep="symmetric")
        x += P @ self(R @ (b - A @ x), level + 1)
        self.smooth(A, x, b, iterations=1, sweep="symmetric")
        return x


def ball_hierarchy(fine, operator_at, delta: float, matrix=None, coarsest: int = COARSEST) -> VCycle:
    """The V-cycle for delta I - L on the ball, from the fine BallOperator (and its ``matrix``
    if already assembled).

    ``operator_at(h)`` re-discretises the operator at step h.  Coarsening stops at
    ``coarsest`` unknowns, when a further halving would leave fewer than two nodes per
    radius, or when the next level's cell Peclet number would exceed MAX_PECLET.
    """
    ops = [fine]
    while ops[-1].size > coarsest and 4 * ops[-1].step < ops[-1].radius:
        coarse = operator_at(2 * ops[-1].step)
        if coarse.peclet > MAX_PECLET:
            break
        ops.append(coarse)
    levels = []
    for k, op in enumerate(ops):
        A = matrix if (k == 0 and matrix is not None) else op.matrix(delta)
        if k + 1 < len(ops):
            P = prolongation(op, ops[k + 1])
            levels.append((A, P, (P.T * 0.5 ** op.nodes.shape[1]).tocsr()))
        else:
            levels.append((A, None, None))
    return VCycle(levels)


def coarsest_rows(unknowns: float, dim: int, h: float, radius: float, drift_max: float,
                  coarsest: int = COARSEST) -> float:
    """Unknowns of the coarsest level :func:`ball_hierarchy` would reach (solved by SuperLU), for
    ``unknowns`` at step h and a drift of at most ``drift_max`` per component: the cell Peclet
    number at step s is about drift_max s / 2."""
    size, step = float(unknowns), float(h)
    while size > coarsest and 4 * step < radius and drift_max * step <= MAX_PECLET:
        size, step = size / 2**dim, 2 * step
    return size
