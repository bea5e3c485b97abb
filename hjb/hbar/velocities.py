"""The averaged velocities behind the effective Hamiltonian (SPEC section 3).

With extended controls nu: y -> U, H-bar(x, p) = max_nu ( -phi-bar(x, nu) . p ) where
phi-bar(x, nu) = integral of phi(x, y, nu(y)) mu_x(dy).  The maximiser for a
direction theta is the bang-bang feedback nu_theta(y) = argmax_u (-phi . theta),
so the set of velocities the effective system can take is the convex hull of
phi-bar(x, nu_theta) over directions theta.  In d = 1 the two directions +1, -1
give it exactly: [-gamma A+(x), gamma A-(x)] for the deep-relaxation model.
"""
from __future__ import annotations

import itertools

import numpy as np

from ..model import TwoScaleModel
from ..operators.quadrature import gibbs_average
from ..points import as_points


def unit_directions(dim: int, resolution: int = 4) -> np.ndarray:
    """Unit vectors through the boundary nodes of the cube {-k..k}^d (k = resolution).

    d = 1 gives exactly {+1, -1}; d = 2 with k = 4 gives 32 directions, so
    the inscribed polygon of the velocity set errs by O(1/k^2).
    """
    k = max(int(resolution), 1)
    pts = np.array([v for v in itertools.product(range(-k, k + 1), repeat=dim)
                    if max(abs(c) for c in v) == k], dtype=float)
    pts /= np.linalg.norm(pts, axis=1, keepdims=True)
    return np.unique(np.round(pts, 14), axis=0)


def averaged_velocities(model: TwoScaleModel, x, extended: bool = True, resolution: int = 4) -> np.ndarray:
    """Velocities phi-bar(x, nu) of the averaged system at each x, shape (n, m, d).

    Always the constant controls u in U (entropic gradient descent for the
    deep-relaxation model: -u gamma (x - m(x))); with ``extended`` also the
    bang-bang extended controls nu_theta for the directions of
    :func:`unit_directions`.  -max over these of (velocity . p) is H-bar
    restricted to the candidates: exact in d = 1, a lower bound within
    O(1/resolution^2) in d >= 2.
    """
    x = as_points(x, model.dim)
    thetas = unit_directions(model.dim, resolution) if extended else np.zeros((0, model.dim))
    u_values = model.control_values

    def velocities(xc, y):
        out = [np.broadcast_to(model.phi(xc, y, u), y.shape) for u in u_values]
        for theta in thetas:
            u_star = model.active_control(xc, y, theta)[..., None]
            # phi is evaluated per control value and selected, so any phi works.
            sel = sum(np.where(u_star == u, model.phi(xc, y, u), 0.0) for u in u_values)
            out.append(sel)
        return np.stack(out, axis=-2)

    return gibbs_average(model, x, velocities)
