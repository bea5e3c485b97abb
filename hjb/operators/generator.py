"""The monotone discretisation of the fast generator L = b . D + Laplacian on a box.

Each axis contributes jump rates between neighbouring nodes, so the matrix is
the generator of a continuous-time Markov chain: off-diagonals >= 0 and rows
summing to zero.  Reflecting (homogeneous Neumann) walls are the absence of
jumps out of the box, which keeps the zero row sums; I - tau L is then a
strictly diagonally dominant M-matrix with a non-negative inverse for every
tau > 0.

Two rate choices, both monotone for every h:

``fitted`` (default; Scharfetter-Gummel / Il'in exponential fitting)
    rate(i -> i+1) = B(-beta)/h^2,  rate(i+1 -> i) = B(beta)/h^2,
    beta = h (b_i + b_{i+1})/2,  B(z) = z/(e^z - 1).
    It is the central difference when |b| h << 1 and the upwind difference
    when |b| h >> 1, second order, and its invariant measure is exactly
    exp(-V) at the nodes when the potential V is quadratic along the edge.
``upwind``
    rate(i -> i+1) = 1/h^2 + b_i^+/h,  rate(i+1 -> i) = 1/h^2 + b_{i+1}^-/h:
    the upwind drift of SPEC section 2, first order.

(findiff's Laplacian is the right interior stencil, but its one-sided
boundary rows are not monotone and it has no upwinding, hence the hand-written
rates.)
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ..errors import InputError, did_you_mean


def bernoulli(z: np.ndarray) -> np.ndarray:
    """B(z) = z / (e^z - 1), with B(0) = 1; positive and finite for all real z."""
    z = np.asarray(z, dtype=float)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        out = z / np.expm1(z)
    return np.where(np.abs(z) < 1e-12, 1.0 - 0.5 * z, out)


def fitted_rates(b_lo, b_hi, h):
    """Scharfetter-Gummel rates (i -> i+1, i+1 -> i) of an edge with drift b_lo, b_hi at its ends."""
    beta = 0.5 * h * (b_lo + b_hi)
    return bernoulli(-beta) / h**2, bernoulli(beta) / h**2


def upwind_rates(b_lo, b_hi, h):
    """Upwind rates (i -> i+1, i+1 -> i): the diffusion 1/h^2 plus the drift away from the node."""
    return 1.0 / h**2 + np.maximum(b_lo, 0.0) / h, 1.0 / h**2 + np.maximum(-b_hi, 0.0) / h


#: The rate choices by name: each maps (b at the lower node, b at the upper node, h) to two
#: non-negative jump rates, so every choice is monotone.
SCHEMES = {"fitted": fitted_rates, "upwind": upwind_rates}


def check_scheme(scheme: str, key: str = "scheme") -> None:
    if scheme not in SCHEMES:
        raise InputError(key, f"unknown scheme '{scheme}'{did_you_mean(str(scheme), SCHEMES)}; "
                         f"available: {', '.join(SCHEMES)}")


def reflecting_generator(shape, axes, spacings, drift, scheme: str = "fitted") -> sp.csr_matrix:
    """Generator matrix of b . D + sum of second differences along ``axes`` of a state array.

    ``shape`` is the full state shape (leading axes, e.g. the slow variable,
    make the matrix block diagonal), ``axes`` the state axes the operator acts
    on, ``spacings`` their spacings and ``drift`` an array of shape
    ``shape + (len(axes),)`` holding b at every node.  Flat indices follow
    C order of ``shape``.
    """
    check_scheme(scheme)
    rates = SCHEMES[scheme]
    size = int(np.prod(shape))
    index = np.arange(size).reshape(shape)
    rows, cols, vals = [], [], []
    for k, (axis, h) in enumerate(zip(axes, spacings)):
        lo = [slice(None)] * len(shape)
        hi = [slice(None)] * len(shape)
        lo[axis], hi[axis] = slice(0, -1), slice(1, None)
        lo, hi = tuple(lo), tuple(hi)
        up, down = rates(drift[..., k][lo], drift[..., k][hi], float(h))
        rows += [index[lo].ravel(), index[hi].ravel()]
        cols += [index[hi].ravel(), index[lo].ravel()]
        vals += [up.ravel(), down.ravel()]
    rows, cols, vals = np.concatenate(rows), np.concatenate(cols), np.concatenate(vals)
    off = sp.csr_matrix((vals, (rows, cols)), shape=(size, size))
    return (off - sp.diags(np.asarray(off.sum(axis=1)).ravel())).tocsr()
