"""Cubic interpolation at the feet of characteristics, for the high-order semi-Lagrangian step.

(C V)(z) = V(z + velocity(z) dt) by tensor-product cubic Lagrange interpolation on the four
nodes i-1, i, i+1, i+2 around the foot along each of ``axes`` (shifted inward at the walls),
weights along an axis at the offset t of the foot from node i:

    w_{-1} = -t (t-1) (t-2) / 6,   w_0 = (t+1) (t-1) (t-2) / 2,
    w_1 = -(t+1) t (t-2) / 2,      w_2 = (t+1) t (t-1) / 6.

Exact for cubics (error O(h^4) a step, O(h^4 / dt) over a run against the O(h^2 / dt) of
linear interpolation) and rows sum to one, so constants are kept; but some weights are
negative, so C is not monotone: :class:`hjb.solvers.eps_hjb_step.EpsHJBStep` uses it only through
the filter of :mod:`hjb.operators.filtered`, against the linear (monotone) step.
"""
from __future__ import annotations

import itertools

import numpy as np
import scipy.sparse as sp

from .foot_cells import corner_offsets, cubic_cell, stencils


def cubic_weights(t: np.ndarray) -> list:
    """The four Lagrange weights at offset t from node i (nodes i-1, i, i+1, i+2)."""
    return [-t * (t - 1) * (t - 2) / 6, (t + 1) * (t - 1) * (t - 2) / 2,
            -(t + 1) * t * (t - 2) / 2, (t + 1) * t * (t - 1) / 6]


def cubic_foot_interpolation(shape, axes, spacings, velocity: np.ndarray, dt: float) -> sp.csr_matrix:
    """Sparse C with (C V)(z) = V(z + velocity(z) dt), cubic along ``axes`` (4^len(axes) weights a
    row, summing to one); feet outside the box are moved back onto it, as for the linear one
    (:func:`hjb.operators.transport.foot_interpolation`).  Needs 4 nodes along each axis."""
    size = int(np.prod(shape))
    origin, offsets = stencils(shape, axes, spacings, velocity, dt, cubic_cell, 1)
    weights = [cubic_weights(t) for t in offsets]
    # straight into CSR: every row holds 4^len(axes) entries, written corner by corner into
    # preallocated arrays (no COO triplets: a third of the memory at the peak)
    corners = list(itertools.product(range(4), repeat=len(axes)))
    index_type = np.int32 if size < 2**31 else np.int64
    data = np.empty((size, len(corners)))
    indices = np.empty((size, len(corners)), dtype=index_type)
    for j, (corner, offset) in enumerate(zip(corners, corner_offsets(shape, axes, 4))):
        indices[:, j] = (origin + offset).ravel()
        data[:, j] = np.prod([weights[k][c] for k, c in enumerate(corner)], axis=0).ravel()
    indptr = np.arange(0, size * len(corners) + 1, len(corners), dtype=index_type)
    return sp.csr_matrix((data.ravel(), indices.ravel(), indptr), shape=(size, size))
