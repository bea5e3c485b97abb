"""H-bar by the discrete invariant measure (SPEC section 3, route 3):

    H-bar(x, p) ~ sum_j pi_j H(x, y_j, p),    Q^T pi = 0,  sum pi = 1,

Q the reflecting monotone generator of b(x, .) . D + Laplacian on a y-box
(:func:`hjb.solvers.invariant.invariant_measure`).  No potential is needed.
"""
from __future__ import annotations

import numpy as np

from ..model import TwoScaleModel
from ..points import as_points
from ..solvers.invariant import invariant_measure


def hbar_markov(model: TwoScaleModel, x, p, box=None, points=None, scheme: str = "fitted") -> np.ndarray:
    """H-bar(x_i, p_i) ~ sum_j pi_j H(x_i, y_j, p_i), one chain per point x_i (METHODS['markov'])."""
    x, p = as_points(x, model.dim), as_points(p, model.dim, "p")
    out = np.empty(len(x))
    for i in range(len(x)):
        mu = invariant_measure(model, x[i], box=box, points=points, scheme=scheme)
        out[i] = mu.average(model.hamiltonian(x[i], mu.grid.nodes(), p[i]))
    return out
