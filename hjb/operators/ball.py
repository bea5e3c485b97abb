"""The fitted Shortley-Weller operator of b . D + Laplacian on the ball D_n (cut-cell, any d).

The unknowns are the nodes j h (j in Z^d) strictly inside the ball.  Along
each axis a node has two arms: to its grid neighbour (length h) or, when that
neighbour lies outside the ball, to the point where the axis line cuts the
sphere (length t in (0, h]; Shortley-Weller).  With hbar_i = (t_+ + t_-)/2
the rate along an arm of length t, with drift component beta = t b_mid
pointing along the arm (b evaluated at the arm's midpoint), is

    rate = B(-beta) / (t hbar_i),      B(z) = z / (e^z - 1)  (Scharfetter-Gummel fitting),

positive for every h and every drift, so delta I - L is a strictly diagonally
dominant M-matrix for every delta > 0 (inverse >= 0: discrete comparison
principle), and so is -L itself (the exit rates make it diagonally dominant).
It reduces to the Shortley-Weller Laplacian when b = 0, is exact on the kernel
{1, e^{-b y}} of the frozen-coefficient operator, and its local error is O(h)
at cut nodes and O(h^2) elsewhere: second order globally, boundary included.
Homogeneous Dirichlet data sit on the sphere.  Used by the truncated cell
problem (hjb.solvers.cell) and the mean exit time from a ball.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import scipy.sparse as sp

from ..errors import InputError, check_finite
from ..limits import SLACK, check_memory
from .generator import bernoulli

#: Grid steps per radius n / h beyond which a grid is refused outright (overflow, not memory).
MAX_NODES_PER_RADIUS = 1e7
#: Nodes closer to the sphere than this fraction of h are taken as boundary
#: nodes (value 0): their arm would be shorter than 1e-6 h and only spoil the
#: conditioning, while the value they would carry is O(1e-6 h |D omega|).
MIN_ARM = 1e-6

@dataclass(frozen=True)
class BallOperator:
    """-L = -(b . D + Laplacian) on the ball with homogeneous Dirichlet data, in edge form.

    ``nodes`` (m, d) are the unknowns; ``head``/``tail``/``rate`` the jumps
    between unknowns (L omega_i gets rate (omega_tail - omega_i) at row
    head); ``exit_rate`` (m,) the summed rates of the arms that end on the
    sphere (where omega = 0).  ``index`` maps the square grid of axis nodes
    ``axis`` (shape (2J+1,)*d) to unknowns (-1 outside, -2 on the sphere).
    ``peclet`` is the largest cell Peclet number |b_k| t / 2 over the arms.
    """

    nodes: np.ndarray
    head: np.ndarray
    tail: np.ndarray
    rate: np.ndarray
    exit_rate: np.ndarray
    index: np.ndarray
    axis: np.ndarray
    step: float
    radius: float
    peclet: float

    @property
    def size(self) -> int:
        return len(self.nodes)

    def matrix(self, delta: float) -> sp.csr_matrix:
        """delta I - L as a CSR M-matrix."""
        m = self.size
        off = sp.csr_matrix((-self.rate, (self.head, self.tail)), shape=(m, m))
        diag = delta + self.exit_rate + np.bincount(self.head, weights=self.rate, minlength=m)
        return (off + sp.diags(diag)).tocsr()

    @cached_property
    def _edge_form(self):
        """Sparse factors of L omega = G (D omega): D takes the difference along each jump
        (omega_tail - omega_head), G sums rate times difference into the jump's head."""
        m, e = self.size, len(self.head)
        # built directly in compressed form: row j of D holds +1 at tail_j and -1 at
        # head_j; column j of G holds rate_j at head_j (no COO sort of 10^7 entries)
        D = sp.csr_matrix((np.tile([1.0, -1.0], e), np.stack([self.tail, self.head], axis=1).ravel(),
                           np.arange(0, 2 * e + 1, 2)), shape=(e, m))
        G = sp.csc_matrix((self.rate, self.head, np.arange(e + 1)), shape=(m, e))
        return D, G

    def apply(self, omega: np.ndarray, delta: float) -> np.ndarray:
        """(delta I - L) omega in edge-difference form (no cancellation against the diagonal)."""
        D, G = self._edge_form
        return (delta + self.exit_rate) * omega - G @ (D @ omega)


def _drift_along(drift, points: np.ndarray, k: int, offset: np.ndarray) -> np.ndarray:
    """Component k of the drift at points + offset e_k (checked finite: a NaN drift would
    otherwise surface as a singular factorisation far from its cause)."""
    mid = points.copy()
    mid[:, k] += offset
    along = drift(mid)[:, k]
    check_finite(along, "ball operator: drift b", 0, {f"y{k + 1}" if points.shape[1] > 1 else "y": mid[:, k]})
    return along


def ball_operator(drift, dim: int, n: float, h: float) -> BallOperator:
    """Assemble the fitted Shortley-Weller operator on D_n (vectorised, loop over axes only).

    ``drift(y)`` maps (..., d) points to (..., d) velocities.
    """
    ratio = n / h
    if not (np.isfinite(ratio) and ratio <= MAX_NODES_PER_RADIUS):
        raise InputError("h", f"n / h = {ratio:.3g} grid steps per radius; at most {MAX_NODES_PER_RADIUS:.0e}")
    J = int(np.floor(ratio + 1e-9))
    # the square grid of the nodes j h is allocated first: refuse it before it exists
    check_memory(operator_memory(dim, n, h)[0], "the cell-problem assembly", key="h")
    axis = h * np.arange(-J, J + 1)
    shape = (2 * J + 1,) * dim
    # |y|^2 on the square grid by broadcasting (no (..., d) coordinate array).
    r2 = sum((axis**2).reshape((-1,) + (1,) * (dim - 1 - k)) for k in range(dim))
    r2 = np.broadcast_to(r2, shape).ravel()
    inside = r2 < (n - MIN_ARM * h) ** 2
    flat = np.flatnonzero(inside)
    m = len(flat)
    index = np.full(len(r2), -1, dtype=np.int64)
    index[(~inside) & (r2 <= n**2 * (1 + 1e-12))] = -2
    index[flat] = np.arange(m)
    pos = np.stack(np.unravel_index(flat, shape), axis=-1)
    nodes = axis[pos]
    ids = np.arange(m)
    head, tail, rate = [], [], []
    exit_rate = np.zeros(m)
    peclet = 0.0
    rest = r2[flat]
    strides = np.cumprod((1,) + shape[:0:-1])[::-1]
    for k in range(dim):
        # Arm lengths to the sphere along +e_k and -e_k (t solves |y + t e_k| = n).
        chord = np.sqrt(np.maximum(n**2 - (rest - nodes[:, k] ** 2), 0.0))
        arms, nbrs = [], []
        for sign in (1, -1):
            valid = (pos[:, k] + sign >= 0) & (pos[:, k] + sign <= 2 * J)
            nbr = np.where(valid, index[np.where(valid, flat + sign * strides[k], 0)], -1)
            arms.append(np.where(nbr >= 0, h, np.minimum(chord - sign * nodes[:, k], h)))
            nbrs.append(nbr)
        hbar = 0.5 * (arms[0] + arms[1])
        # Drift along e_k at the arm midpoints.  An interior -e_k arm is the +e_k arm of its
        # neighbour, so the drift is evaluated once per edge (and once per cut -e_k arm).
        along = [_drift_along(drift, nodes, k, 0.5 * arms[0]), np.empty(m)]
        shared = nbrs[1] >= 0
        along[1][shared] = along[0][nbrs[1][shared]]
        along[1][~shared] = _drift_along(drift, nodes[~shared], k, -0.5 * arms[1][~shared])
        for sign, t, nbr, b_k in zip((1, -1), arms, nbrs, along):
            beta = sign * t * b_k
            peclet = max(peclet, 0.5 * float(np.max(np.abs(beta), initial=0.0)))
            rt = bernoulli(-beta) / (t * hbar)
            interior = nbr >= 0
            head.append(ids[interior])
            tail.append(nbr[interior])
            rate.append(rt[interior])
            exit_rate += np.where(interior, 0.0, rt)
    index = index.reshape(shape)
    return BallOperator(nodes, np.concatenate(head), np.concatenate(tail), np.concatenate(rate),
                        exit_rate, index, axis, float(h), float(n), peclet)


def ball_unknowns(dim: int, n: float, h: float) -> tuple:
    """(unknowns, nodes of the square grid) of the operator on D_n at step h: the volume of
    the ball over h^d, and (2J + 1)^d, J = floor(n / h)."""
    J = np.floor(n / h + 1e-9)
    return unit_ball_volume(dim) * (n / h) ** dim, (2 * J + 1) ** dim


def unit_ball_volume(dim: int) -> float:
    """The volume of the unit ball of R^dim."""
    from math import gamma, pi
    return pi ** (dim / 2) / gamma(dim / 2 + 1)


def operator_memory(dim: int, n: float, h: float) -> tuple:
    """(peak bytes of :func:`ball_operator`, bytes the operator holds), measured per unknown:
    the assembly's arrays (positions, arms, drifts, rates and the jump lists per axis) and
    the square grid's (|y|^2, masks, numbering); held: nodes, 2d jumps of head, tail and rate,
    exit rates, the numbering of the square grid."""
    unknowns, square = ball_unknowns(dim, n, h)
    assembly = unknowns * (120.0 + 130.0 * dim) + 17.0 * square
    held = unknowns * (56.0 * dim + 56.0) + 8.0 * square
    return SLACK * assembly, SLACK * held


def drift_bound(drift, dim: int, n: float, points: int = 17) -> float:
    """max |b_k| over a coarse lattice of the ball D_n (``points`` per axis): what sizes the
    multigrid hierarchy (its cell Peclet numbers) in an estimate, without assembling anything."""
    axis = np.linspace(-n, n, points)
    y = np.stack(np.meshgrid(*([axis] * dim), indexing="ij"), axis=-1).reshape(-1, dim)
    y = y[np.sum(y**2, axis=1) < n**2]
    with np.errstate(all="ignore"):
        values = np.abs(np.asarray(drift(y), dtype=float))
    return float(np.max(values[np.isfinite(values)], initial=0.0))
