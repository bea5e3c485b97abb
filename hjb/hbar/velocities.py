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


#: Directions whose bang-bang selections are formed at once (bounds the temporaries).
DIRECTION_BLOCK = 8


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
    """The velocities phi-bar(x, nu) of the averaged system at each point x (SPEC sections 3 and 4).

    For a control nu: y -> U of the fast variable, the averaged velocity is

        phi-bar(x, nu) = integral of phi(x, y, nu(y)) mu_x(dy),

    and H-bar(x, p) = max over nu of ( -phi-bar(x, nu) . p ), attained by the
    bang-bang feedback nu_theta(y) = argmax_u ( -phi(x, y, u) . theta ) for
    theta = p / |p|.  The candidates returned are the constant controls u in U
    (for the deep-relaxation model -u gamma (x - m(x)): entropic gradient
    descent) and, with ``extended``, nu_theta for the directions theta of
    :func:`hjb.hbar.velocities.unit_directions`.  The max of ( -a . p ) over
    them is H-bar exactly in d = 1 and within O(1/resolution^2) below it in
    d >= 2.  Averages are taken by Gibbs quadrature (the model needs a potential).

    Parameters
    ----------
    model : TwoScaleModel
        The two-scale model.
    x : array_like
        Points, shape (n, d) (in d = 1 a flat list of n numbers).
    extended : bool, default True
        Add the bang-bang extended controls to the constant ones.
    resolution : int, default 4
        Directions through the boundary nodes of the cube {-k..k}^d, k =
        resolution (d = 1: exactly +1 and -1; d = 2, k = 4: 32 directions).

    Returns
    -------
    ndarray, shape (n, m, d)
        The m candidate velocities at each point: first the constant controls
        (in the order of ``model.control_values``), then the directions.

    Example
    -------
    Deep relaxation with U = [0, 1]: the candidates at x are u = 0, u = 1 and
    the bang-bang controls for theta = -1, +1, whose velocities are
    gamma A-(x) and -gamma A+(x), so that H-bar(x, +-1) = gamma A+-(x):

    >>> import hjb
    >>> model = hjb.DeepRelaxation(hjb.make_loss("quadratic", a=1.0, c=0.5), gamma=2.0)
    >>> v = hjb.averaged_velocities(model, [0.0, 1.0])
    >>> v.shape
    (2, 4, 1)
    >>> v[..., 0].round(6)
    array([[ 0.      ,  0.333333,  0.646387, -0.313054],
           [ 0.      , -0.333333,  0.313054, -0.646387]])
    >>> hjb.effective_hamiltonian(model, [0.0, 1.0], [1.0, 1.0]).round(6)
    array([0.313054, 0.646387])
    """
    x = as_points(x, model.dim)
    thetas = unit_directions(model.dim, resolution) if extended else np.zeros((0, model.dim))
    u_values = model.control_values

    def velocities(xc, y):
        # phi once per control value, shared by the constant controls and every direction;
        # each direction's payoffs -phi . theta and their argmax come out as
        # model.active_control's would, to the last bit for finite phi and d < 8, where
        # np.sum over d adds in order (so ties break the same way)
        phis = [np.broadcast_to(model.phi(xc, y, u), y.shape) for u in u_values]
        out = np.empty(y.shape[:-1] + (len(u_values) + len(thetas), model.dim))
        for k, phi in enumerate(phis):
            out[..., k, :] = phi
        for start in range(0, len(thetas), DIRECTION_BLOCK):
            block = thetas[start:start + DIRECTION_BLOCK]                       # (t, d)
            chosen = out[..., len(u_values) + start:len(u_values) + start + len(block), :]
            best = None
            for k, phi in enumerate(phis):
                # phi . theta summed axis by axis in order, the first largest payoff
                # -phi . theta kept, as np.argmax keeps it
                cost = phi[..., None, 0] * block[:, 0]
                for j in range(1, model.dim):
                    cost += phi[..., None, j] * block[:, j]
                if best is None:
                    best, chosen[...] = cost, phi[..., None, :]
                else:
                    better = cost < best
                    np.copyto(best, cost, where=better)
                    np.copyto(chosen, phi[..., None, :], where=better[..., None])
        return out

    if model.potential is not None:
        return gibbs_average(model, x, velocities)
    # no Gibbs density (a drift that is not a gradient): average against the discrete
    # invariant measure of the fast generator instead (SPEC section 3, route 3)
    from ..solvers.invariant import invariant_measure
    out = []
    for xi in x:
        mu = invariant_measure(model, xi)
        nodes = mu.grid.nodes().reshape(-1, model.dim)
        values = velocities(xi[None, :], nodes)
        out.append(np.einsum("q,q...->...", mu.pi.ravel(), values))
    return np.array(out)
