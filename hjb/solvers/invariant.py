"""The discrete invariant measure of the fast process (SPEC section 3, route 3).

The monotone discretisation Q of L = b(x, .) . D + Laplacian on a box with
reflecting walls (:func:`hjb.operators.generator.reflecting_generator`) is the generator
of a continuous-time Markov chain on the nodes: off-diagonals >= 0, rows
summing to zero.  Its invariant vector

    Q^T pi = 0,   sum_j pi_j = 1,

is computed by one sparse solve; H-bar(x, p) ~ sum_j pi_j H(x, y_j, p) is
:func:`hjb.hbar.markov.hbar_markov`.

Nothing here uses a potential: the route works for any recurrent drift b,
gradient or not.

The y-box
---------
``box=(lower, upper)`` if given; else the model's ``gibbs_box`` if it has one;
else ``model.gibbs_window(x)`` (for :class:`hjb.DeepRelaxation`: the ball
around x outside which exp(-V(., x)) < e^-40 times its peak, so the walls are
where the chain essentially never goes and the reflection costs nothing).
Otherwise an :class:`InputError` asks for ``box``.

Solving Q^T pi = 0: the chain is irreducible, so Q^T has a one-dimensional
kernel; fixing pi_k = 1 at one node k and deleting row and column k leaves
the transpose of a sub-generator, a nonsingular M-matrix, solved by SuperLU.
k is the node of largest expected mass (the minimum of the potential when the
model has one, the node where the drift is weakest otherwise), so pi_k is not
a tiny number that everything else is scaled by.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse.linalg as spla

from ..errors import InputError, check_finite
from ..grid import Grid
from ..limits import CSR_ENTRY, SLACK, check_memory, superlu_bytes
from ..model import TwoScaleModel
from ..operators.generator import reflecting_generator
from ..points import as_points
from .ball_solve import fill_estimate

#: Default unknowns of the y-grid per point x, by dimension (d >= 3: 40^d).
DEFAULT_UNKNOWNS = {1: 4001, 2: 301**2}
#: Default steps per model length scale in d >= 2.
STEPS_PER_SCALE = 20


@dataclass
class InvariantMeasure:
    """pi on the nodes of ``grid`` (shape grid.shape), summing to one."""

    pi: np.ndarray
    grid: Grid

    def average(self, values: np.ndarray) -> float:
        return float(np.sum(self.pi * values))


def markov_box(model: TwoScaleModel, x: np.ndarray, box=None):
    """(lower, upper), each (d,), of the y-box for the point x (see the module docstring)."""
    d = model.dim
    if box is not None:
        try:
            lo, hi = (np.broadcast_to(np.asarray(v, float), (d,)).copy() for v in box)
        except (TypeError, ValueError):
            raise InputError("box", f"must be (lower, upper) with {d} components each, got {box!r}") from None
    elif model.gibbs_box is not None:
        lo, hi = (np.broadcast_to(np.asarray(v, float), (d,)).copy() for v in model.gibbs_box)
    elif model.potential is not None:
        center, radius = model.gibbs_window(as_points(x, d))
        lo, hi = center[0] - radius[0], center[0] + radius[0]
    else:
        raise InputError("box", "the Markov-chain route needs a y-box: pass box=(lower, upper) "
                         "or give the model a gibbs_box")
    if not np.all(hi > lo):
        raise InputError("box", f"upper {hi} must exceed lower {lo}")
    return lo, hi


def default_points(model: TwoScaleModel, lo, hi) -> np.ndarray:
    """Nodes per axis: the cap DEFAULT_UNKNOWNS in d = 1 (cheap), else STEPS_PER_SCALE
    per model length scale up to that cap; always odd, so that a centred box has its
    centre (y = x for the deep-relaxation window) as a node."""
    d = model.dim
    cap = int(round(DEFAULT_UNKNOWNS.get(d, 40**d) ** (1.0 / d)))
    want = (hi - lo) / model.length_scale * STEPS_PER_SCALE
    pts = np.full(d, cap) if d == 1 else np.clip(want, 3, cap).astype(int)
    return pts + (1 - pts % 2)


def invariant_measure(model: TwoScaleModel, x, box=None, points=None, scheme: str = "fitted") -> InvariantMeasure:
    """pi with Q^T pi = 0, sum pi = 1 for the generator Q of b(x, .) . D + Laplacian on the y-box."""
    x = as_points(x, model.dim)[0]
    lo, hi = markov_box(model, x, box)
    pts = default_points(model, lo, hi) if points is None else np.broadcast_to(np.asarray(points, int), (model.dim,))
    grid = Grid.box(lo, hi, pts, name="y", key="points")
    size = grid.size
    check_memory(memory_estimate(size, model.dim), "the invariant-measure solve", key="points")
    nodes = grid.nodes()
    drift = np.asarray(model.b(x, nodes), dtype=float)
    check_finite(drift.sum(axis=-1), "invariant measure: drift b", 0, grid.coordinates())
    Q = reflecting_generator(grid.shape, tuple(range(model.dim)), grid.spacings, drift, scheme=scheme)
    flat = nodes.reshape(-1, model.dim)
    if model.potential is not None:
        k = int(np.argmin(model.potential(flat, x)))
    else:
        k = int(np.argmin(np.sum(drift.reshape(-1, model.dim) ** 2, axis=-1)))
    keep = np.ones(size, dtype=bool)
    keep[k] = False
    QT = Q.T.tocsr()
    reduced = QT[keep][:, keep].tocsc()
    rhs = -np.asarray(QT[keep][:, [k]].todense()).ravel()
    pi = np.empty(size)
    pi[keep] = spla.splu(reduced, permc_spec="MMD_AT_PLUS_A").solve(rhs)
    pi[k] = 1.0
    # Rounding can leave entries of order -eps in the far tails; they are zeros.
    pi = np.maximum(pi, 0.0)
    pi /= pi.sum()
    return InvariantMeasure(pi.reshape(grid.shape), grid)


def memory_estimate(size: int, dim: int) -> float:
    """Bytes at the peak of :func:`invariant_measure` on ``size`` nodes (calibrated by
    scripts/bench_memory.py): nodes and drift; Q, Q^T, the reduced matrix and one copy on the
    way (CSR, 2d + 1 entries a row); SuperLU with MMD (the box's fill, 0.87 of the disc's)."""
    fill = fill_estimate(size, dim, "direct") * (0.87 if dim > 1 else 1.0)
    matrices = 4 * (CSR_ENTRY * (2 * dim + 1) + 4)
    return SLACK * (size * (16.0 * dim + matrices) + superlu_bytes(size, fill))


def default_size(model: TwoScaleModel, x, box=None, points=None) -> int:
    """The nodes of the y-grid :func:`invariant_measure` would use for the point x."""
    lo, hi = markov_box(model, as_points(x, model.dim)[0], box)
    pts = default_points(model, lo, hi) if points is None else np.broadcast_to(np.asarray(points, int), (model.dim,))
    return int(np.prod(pts))
