"""The monotone generator on a box with absorbing (Dirichlet) walls, in edge form.

The reflecting generator L = b . D + Laplacian of :mod:`hjb.operators.generator`
is restricted to the interior nodes: a jump from an interior node to a wall
node is kept as an exit rate (the value on the wall is 0), jumps out of wall
nodes are dropped.  So -L on the interior has

    off-diagonals -rate <= 0,   diagonal = sum of rates + exit rate,

row sums equal to the exit rates (>= 0, > 0 next to a wall) and, every node
reaching a wall through jumps, it is a non-singular M-matrix: -L tau = r >= 0
gives tau >= 0, and a larger r a larger tau (discrete comparison principle).

The operator is stored like the ball operator of :mod:`hjb.operators.ball`
(heads, tails, rates, exit rates), so the Dirichlet solves of
:mod:`hjb.solvers.ball_solve` (the edge-form residual refinement in particular)
apply to it unchanged.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..limits import check_memory
from .ball import BallOperator
from .generator import reflecting_generator


@dataclass(frozen=True)
class BoxOperator(BallOperator):
    """-L on the interior nodes of a box with homogeneous Dirichlet walls, in edge form.

    Fields as in :class:`hjb.operators.ball.BallOperator`: ``index`` maps the box
    nodes (shape of the grid) to unknowns, -2 on the walls; ``axis`` holds the
    nodes of the first axis, ``step`` the smallest spacing, ``radius`` is inf.
    """


def box_operator(shape, spacings, drift: np.ndarray, scheme: str = "fitted", lower=0.0,
                 key: str = "grid") -> BoxOperator:
    """Assemble -L on the interior of the box (drift of shape ``shape + (d,)``, loop over axes only).

    ``lower`` is the corner of the box (for the coordinates of the unknowns); ``key``
    names the argument that sets the size, for the memory check.
    """
    shape = tuple(int(n) for n in shape)
    dim, size = len(shape), int(np.prod(shape))
    # reflecting generator (2d + 1 entries a row, COO triplets while assembling) and the edge form
    check_memory(size * (2 * dim + 1) * 8.0 * (3 + 4 + 3), f"the exit-time operator on {size:,} nodes", key=key)
    L = reflecting_generator(shape, tuple(range(dim)), spacings, drift, scheme)
    position = np.indices(shape).reshape(dim, -1)
    inside = np.all((position > 0) & (position < np.array(shape)[:, None] - 1), axis=0)
    flat = np.flatnonzero(inside)
    number = np.full(size, -2, dtype=np.int64)
    number[flat] = np.arange(len(flat))
    rows = L[flat].tocoo()
    tail = number[rows.col]
    jump = rows.col != flat[rows.row]                 # the diagonal is rebuilt from the rates
    to_unknown, to_wall = jump & (tail >= 0), jump & (tail < 0)
    exit_rate = np.bincount(rows.row[to_wall], weights=rows.data[to_wall], minlength=len(flat))
    corner = np.broadcast_to(np.asarray(lower, float), (dim,))
    nodes = np.stack([corner[k] + float(spacings[k]) * position[k, flat] for k in range(dim)], axis=-1)
    peclet = 0.5 * max(float(np.max(np.abs(drift[..., k]))) * float(h) for k, h in enumerate(spacings))
    return BoxOperator(nodes, rows.row[to_unknown].astype(np.int64), tail[to_unknown], rows.data[to_unknown],
                       exit_rate, number.reshape(shape), corner[0] + np.arange(shape[0]) * float(spacings[0]),
                       float(np.min(spacings)), float(np.inf), peclet)
