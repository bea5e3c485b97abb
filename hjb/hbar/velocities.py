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

from ..grid import Grid
from ..limits import available_bytes, current
from ..model import DeepRelaxation, TwoScaleModel
from ..operators.quadrature import chunk_size, gibbs_average
from ..points import as_points
from .convolution import DIRECT_EXCESS, FineGrid, convolution_velocities

#: Default number of extended-control directions per quadrant edge (d >= 2; see unit_directions).
DEFAULT_RESOLUTION = 4


def unit_directions(dim: int, resolution: int = DEFAULT_RESOLUTION) -> np.ndarray:
    """Unit vectors through the boundary nodes of the cube {-k..k}^d (k = resolution).

    d = 1 gives exactly {+1, -1}; d = 2 with k = 4 gives 32 directions, so
    the inscribed polygon of the velocity set errs by O(1/k^2).
    """
    k = max(int(resolution), 1)
    pts = np.array([v for v in itertools.product(range(-k, k + 1), repeat=dim)
                    if max(abs(c) for c in v) == k], dtype=float)
    pts /= np.linalg.norm(pts, axis=1, keepdims=True)
    return np.unique(np.round(pts, 14), axis=0)


def averaged_velocities(model: TwoScaleModel, x, extended: bool = True, resolution: int = DEFAULT_RESOLUTION) -> np.ndarray:
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

    def table(xc, y, weights):
        phis = [np.broadcast_to(model.phi(xc, y, u), y.shape) for u in model.control_values]
        constant = np.stack([np.einsum("mq,mqd->md", weights, phi) for phi in phis], axis=1)
        return np.concatenate([constant, bang_bang_average(phis, thetas, weights, constant)], axis=1)

    if model.potential is not None:
        return gibbs_average(model, x, table, weighted=True)
    # no Gibbs density (a drift that is not a gradient): average against the discrete
    # invariant measure of the fast generator instead (SPEC section 3, route 3)
    from ..solvers.invariant import invariant_measure
    out = []
    for xi in x:
        mu = invariant_measure(model, xi)
        nodes = mu.grid.nodes().reshape(1, -1, model.dim)
        out.append(table(xi[None, None, :], nodes, mu.pi.reshape(1, -1))[0])
    return np.array(out)


def velocity_table(model: TwoScaleModel, grid: Grid, extended: bool = True, resolution: int = DEFAULT_RESOLUTION) -> np.ndarray:
    """:func:`averaged_velocities` at every node of the grid (shape (n, m, d), nodes in C order),
    by the route :func:`convolution_chosen` picks: for deep relaxation, as correlations over
    the whole grid (:mod:`hjb.hbar.convolution`), otherwise point by point."""
    if not convolution_chosen(model, grid, extended, resolution):
        return averaged_velocities(model, grid.nodes().reshape(-1, grid.dim), extended, resolution)
    thetas = unit_directions(model.dim, resolution) if extended else np.zeros((0, model.dim))
    return convolution_velocities(model, grid, thetas)[0]


def convolution_chosen(model: TwoScaleModel, grid: Grid, extended: bool = True, resolution: int = DEFAULT_RESOLUTION) -> bool:
    """True when :func:`velocity_table` takes the correlations: a deep-relaxation model whose
    correlations fit in the allowed memory, and

    * with switching hyperplanes off the axes (extended controls in d >= 2), which the
      point-by-point rule (centred at x, panel breaks on the axes) cannot put on a panel
      break (it splits the tied nodes' weight and errs by about its node spacing), unless
      they would cost over ACCURACY_PREMIUM times as much (a very wide Gibbs window on a few
      nodes);
    * with constant controls only (no switching line: both routes spectrally accurate), when
      they cost less;
    * in d = 1 with extended controls (the rule's panel break at the one switching point
      makes it exact) only from CONVOLUTION_POINT_NODES point-nodes.

    Costs are estimated (POINT_SECONDS, FineGrid.fft_seconds) on a sample of the grid."""
    if not isinstance(model, DeepRelaxation):
        return False
    sample = grid.sample()
    with np.errstate(invalid="ignore"):
        _, radius = model.gibbs_window(sample)
    if not np.all(np.isfinite(radius)):     # a broken loss: the point-by-point route reports where
        return False
    thetas = unit_directions(model.dim, resolution) if extended else np.zeros((0, model.dim))
    held, chunks = chunk_size(model, sample, grid.size)
    point_seconds = POINT_SECONDS * held * chunks * (len(model.control_values) + len(thetas))
    fine = FineGrid.around(model, grid, nodes=sample)
    fft_seconds = fine.fft_seconds(len(thetas))
    if np.any(np.count_nonzero(np.round(thetas, 12), axis=1) > 1):
        if fft_seconds > ACCURACY_PREMIUM * point_seconds:
            return False
    elif len(thetas) == 0:
        if fft_seconds > point_seconds:
            return False
    elif held * chunks < CONVOLUTION_POINT_NODES:
        return False
    return _peak_bytes(model, grid, fine, sample, len(thetas)) <= current().memory_share * available_bytes()


def convolution_bytes(model: DeepRelaxation, grid: Grid, extended: bool = True,
                      resolution: int = DEFAULT_RESOLUTION) -> float:
    """Bytes at the peak of the correlations of :func:`velocity_table` (FineGrid.peak_bytes; the
    direct sums counted where the loss on a sample of the grid rises by more than DIRECT_EXCESS)."""
    sample = grid.sample()                  # the grid itself may be too big to allocate
    directions = len(unit_directions(model.dim, resolution)) if extended else 0
    return _peak_bytes(model, grid, FineGrid.around(model, grid, nodes=sample), sample, directions)


def _peak_bytes(model, grid, fine, sample, directions):
    f = model.loss.value(sample)
    direct = not np.all(np.isfinite(f)) or float(np.max(f) - np.min(f)) > DIRECT_EXCESS
    return fine.peak_bytes(grid.size, directions, direct)


def bang_bang_average(phis: list, thetas: np.ndarray, weights: np.ndarray, means: np.ndarray) -> np.ndarray:
    """sum_q w_q phi(x, y_q, u*(y_q, theta)) for every direction theta: shape (m, t, d).

    ``phis`` holds phi(x, y_q, u) for each control value u, each of shape (m, q, d), and
    ``means`` their averages sum_q w_q phi (m, u, d); u* maximises the payoff -phi . theta.
    Payoffs within TIE times the node's largest |phi| of the largest payoff are tied, and the
    node's weight is split evenly among the tied controls: a node on the hyperplane where the
    bang-bang control switches (for deep relaxation (y - x) . theta = 0) lies on the kink of
    the integrand, and splitting keeps the table symmetric and independent of rounding.  The
    work is in matrix products (payoffs for all directions at once, then the sums over q)."""
    m, q, d = phis[0].shape
    out = np.zeros((m, len(thetas), d))
    if not len(thetas):
        return out
    two = len(phis) == 2
    rows = max(1, TIE_BLOCK // (q * len(thetas)))                 # bounds the (u, m, q, t) temporaries
    for start in range(0, m, rows):
        part = slice(start, start + rows)
        scale = np.max([np.linalg.norm(phi[part], axis=-1) for phi in phis], axis=0)[..., None]
        pieces = (_two_controls if two else _any_controls)([phi[part] for phi in phis], thetas, weights[part],
                                                            TIE * scale)
        if two:                                                   # the first control's whole weight
            out[part] += means[part, :1]
        for share, phi in pieces:
            out[part] += np.matmul(np.swapaxes(share, 1, 2), phi)
    return out


def _any_controls(phis, thetas, weights, tolerance):
    """(w_q times the share of control u at node q for each direction, phi_u) for every u, one
    at a time."""
    m, q, _ = phis[0].shape
    payoffs = np.empty((len(phis), m, q, len(thetas)))                       # (u, m, q, t)
    for payoff, phi in zip(payoffs, phis):
        np.matmul(phi, -thetas.T, out=payoff)
    tied = payoffs >= payoffs.max(axis=0) - tolerance
    del payoffs
    # a NaN payoff ties with nothing: its node's share is then NaN times 0, caught downstream
    share = weights[..., None] / np.maximum(tied.sum(axis=0), 1)
    for chosen, phi in zip(tied, phis):
        yield np.where(chosen, share, 0.0), phi


def _two_controls(phis, thetas, weights, tolerance):
    """For two control values, in fewer passes: the share s of the second is 1, 1/2 or 0 as it
    pays more, as much (within the tolerance) or less than the first.  Returns the one piece
    (w s, phi_1 - phi_0); with the first control's whole weight w phi_0, which the caller adds,
    it sums to w ((1 - s) phi_0 + s phi_1)."""
    first, second = phis
    step = second - first
    gain = -(step @ thetas.T)                                                  # payoff of 1 minus payoff of 0
    share = (gain > tolerance) + 0.5 * (np.abs(gain) <= tolerance)
    share *= weights[..., None]
    return [(share, step)]


#: Payoffs -phi . theta closer than this times the node's largest |phi| count as tied.
TIE = 1e-12
#: Node-directions handled at once: the general path holds about u + 3 arrays of this many
#: floats (64 MB each), the two-control one about 3.
TIE_BLOCK = 2**23
#: Point-nodes (x-nodes times quadrature nodes) above which the correlations are taken where
#: the point-by-point rule is exact (d = 1, extended controls).
CONVOLUTION_POINT_NODES = 10**8
#: Seconds per point-node and candidate of the point-by-point table (0.021 s per x-node for
#: 36,864 nodes and 34 candidates on the 2-core machine of scripts/bench_effective.py).
POINT_SECONDS = 1.7e-8
#: How many times the point-by-point table's cost the correlations may take where they are
#: the accurate route (switching lines off the axes).
ACCURACY_PREMIUM = 10.0
