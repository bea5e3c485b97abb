"""The averaging correction of a Lie step with a stiff fast part.

A Lie step of the eps-HJB equation moves x along the best characteristic with y frozen,
then mixes y implicitly:

    V+ = F[ V(x + delta, y) ],     delta = dt phi(x, y, u*),     F = (I - (dt/eps) L_y)^{-1},

u* the minimising control at each node.  F is a Markov kernel in y (non-negative rows
summing to one).  Where V hardly depends on y across F's kernel (y mixes within the step,
eps << dt: V = v(x) + O(eps)), Taylor's formula in x gives

    V+ = F V + (F delta) . D_x V + (1/2) sum_ij F(delta_i delta_j) D_ij V + O(|delta|^3),

whereas over the same step the coupled flow, y mixing while x moves, displaces x by the
*averaged* drift, with a variance of order eps dt (SPEC section 3): its second-order term
is (1/2) sum_ij (F delta_i)(F delta_j) D_ij V.  The difference,

    A = (1/2) sum_ij C_ij D_ij V,     C_ij = F(delta_i delta_j) - (F delta_i)(F delta_j),

is a numerical diffusion (C is the covariance of delta under F, positive semi-definite by
Jensen) of coefficient (dt/2) Cov(phi_u*): first order in dt and independent of h.  When
eps << dt it is the bulk of the hard case's error (issue 13), which a Strang splitting does
not touch.  The corrected step subtracts w A, w = a / (1 + a), a = dt / eps: the Taylor
argument fails when y does not mix within a step, and there the full A was unstable (the
hard case at eps = 1).  It needs F of the d components of delta and of their d (d + 1) / 2
products, solved together with V+'s own right-hand side in one pass over the factors
(:mod:`hjb.operators.thomas`).  A is not monotone: the step caps it with the filter of
:mod:`hjb.operators.filtered`, which keeps the scheme convergent.  The correction leaves
the error first order in dt (the Euler foot of the averaged drift remains) but with a smaller
constant: 2.3-2.5x in d = 1 and 3-4x in d = 2 on the quadratic case; on the hard case the
mean error over x in [-3, 3] falls 2.3-2.8x at half the steps.
"""
from __future__ import annotations

import itertools

import numpy as np


def moment_pairs(dim: int) -> list:
    """The index pairs (i, j), i <= j, of the second moments F(delta_i delta_j)."""
    return list(itertools.combinations_with_replacement(range(dim), 2))


def moment_products(displacement: np.ndarray, out: np.ndarray) -> np.ndarray:
    """The products delta_i delta_j, i <= j (:func:`moment_pairs`), into the rows of ``out``
    ((d (d + 1) / 2, N)); ``displacement``: (d, N).  With delta itself they are the right-hand
    sides whose F-averages the correction needs."""
    for row, (i, j) in enumerate(moment_pairs(displacement.shape[0])):
        np.multiply(displacement[i], displacement[j], out=out[row])
    return out


def hessian_entry(value: np.ndarray, i: int, j: int, spacings, factor: float = 1.0) -> np.ndarray:
    """factor D_ij V by central differences along the x-axes i and j (axes 0 .. d - 1 of
    ``value``), second order; zero on the walls of those axes (the correction is left out there)."""
    out = np.empty_like(value)
    for axis in {i, j}:                          # the walls: only they are zeroed
        for end in (0, -1):
            out[(slice(None),) * axis + (end,)] = 0.0
    inner = tuple(slice(1, -1) if k in (i, j) else slice(None) for k in range(value.ndim))

    def shifted(steps: dict):
        return value[tuple(slice(1 + steps.get(k, 0), value.shape[k] - 1 + steps.get(k, 0)) if k in (i, j)
                           else slice(None) for k in range(value.ndim))]
    target = out[inner]
    if i == j:
        np.add(shifted({i: 1}), shifted({i: -1}), out=target)
        target -= value[inner]
        target -= value[inner]
        target *= factor / spacings[i] ** 2
    else:
        np.subtract(shifted({i: 1, j: 1}), shifted({i: 1, j: -1}), out=target)
        target -= shifted({i: -1, j: 1})
        target += shifted({i: -1, j: -1})
        target *= factor / (4.0 * spacings[i] * spacings[j])
    return out


def split_covariance(means: np.ndarray, seconds: np.ndarray, out=None) -> np.ndarray:
    """F(delta_i delta_j) - F(delta_i) F(delta_j), the covariance of the displacement under F, for
    the pairs of :func:`moment_pairs` ((d (d + 1) / 2, N)); ``means`` (d, N): F(delta_i); ``seconds``:
    F(delta_i delta_j) (``out=seconds`` overwrites them).  Positive semi-definite: F is a Markov
    kernel (Jensen)."""
    out = seconds.copy() if out is None else out
    product = np.empty(means.shape[1])
    for row, (i, j) in enumerate(moment_pairs(means.shape[0])):
        out[row] -= np.multiply(means[i], means[j], out=product)
    return out


def averaging_correction(value: np.ndarray, covariance: np.ndarray, spacings, scale: float = 1.0) -> np.ndarray:
    """scale A, A = (1/2) sum_ij C_ij D_ij V on the product grid, C the covariance of
    :func:`split_covariance` ((d (d + 1) / 2, N), in the order of :func:`moment_pairs`);
    ``value``: V+ (x-axes first)."""
    total = None
    for row, (i, j) in enumerate(moment_pairs(len(spacings))):
        # D_ij = D_ji: the pair i < j stands for both, the diagonal has the factor 1/2
        term = hessian_entry(value, i, j, spacings, scale * (0.5 if i == j else 1.0)).reshape(-1)
        term *= covariance[row]
        total = term if total is None else np.add(total, term, out=total)
    return total.reshape(value.shape)
