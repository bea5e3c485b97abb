"""The corrections that make the Lie step of the eps-HJB equation second order in dt when y
mixes within a step.

A Lie step moves x along the best characteristic with y frozen, then mixes y implicitly:

    V+ = F[ V(x + delta, y) ],     delta = dt phi(x, y, u*),     F = (I - (dt/eps) L_y)^{-1},

u* the minimising control at each node.  F is a Markov kernel in y (non-negative rows
summing to one).  Where V hardly depends on y across F's kernel (y mixes within the step,
eps << dt: V = v(x) + O(eps)), Taylor's formula in x gives

    V+ = F V + m . D_x V + (1/2) sum_ij F(delta_i delta_j) D_ij V + O(|delta|^3),    m = F delta.

Over the same step the coupled flow, y mixing while x moves, follows the averaged drift
phi_bar = m / dt with a variance of order eps dt (SPEC section 3): x moves to
x + m + (1/2) (m . D_x) m + O(dt^3), so its expansion is

    V + m . D_x V + (1/2) sum_ij m_i m_j D_ij V + (1/2) ((m . D_x) m) . D_x V + O(dt^3).

The Lie step differs from it by A - B, both first order in dt over a run:

    A = (1/2) sum_ij C_ij D_ij V,     C_ij = F(delta_i delta_j) - m_i m_j,
    B = (1/2) sum_i ((m . D_x) m_i) D_i V.

A is a numerical diffusion of coefficient (dt/2) Cov(phi_u*) (C is the covariance of delta
under F, positive semi-definite by Jensen), B the second-order term of the averaged
characteristic that the Euler foot x + m leaves out.  When eps << dt, A is the bulk of the
hard case's error (issue 13), which a Strang splitting does not touch.  The corrected step
subtracts w (A - B), w = a / (1 + a), a = dt / eps: the Taylor argument fails when y does
not mix within a step (there the full A was unstable, the hard case at eps = 1; B then
differences m across the x-nodes where u* switches).  It needs F of the d components of
delta and of their d (d + 1) / 2 products, solved together with V+'s own right-hand side in
one pass over the factors (:mod:`hjb.operators.thomas`); the derivatives are second-order
central differences.  A - B is not monotone: the step caps it with the filter of
:mod:`hjb.operators.filtered`, which keeps the scheme convergent.  With both terms the local
error is O(dt^3 + dt^2 h^2): second order in dt where V is smooth along the characteristics
(observed 2.0 on smooth cases in d = 1 and 1.98 on the d = 2 quadratic, against Lie's
1.0-1.2), while errors made at kinks (e.g. the edges of plateaus at local minima of g) stay
first order, and at fixed h in d = 2 the O(h^2 dt) part of the central differences takes over
as dt -> 0.  On the hard case the mean error over x in [-3, 3] falls 2.8x, 4.9x and 7.6x at
201^2, 401^2, 801^2 in half the steps.
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


def hessian_factor(i: int, j: int, spacings, factor: float = 1.0) -> float:
    """The number that multiplies the central-difference sum of D_ij (h_i^-2, or (4 h_i h_j)^-1
    off the diagonal), times ``factor``: one place for it, so that the compiled step
    (:mod:`hjb.operators.fused_step`) rounds as :func:`hessian_entry` does."""
    return factor / spacings[i] ** 2 if i == j else factor / (4.0 * spacings[i] * spacings[j])


def gradient_factor(spacing: float, factor: float = 1.0) -> float:
    """The number that multiplies V(x + h) - V(x - h) in ``factor`` D_i V: factor / (2 h)."""
    return 0.5 * factor / spacing


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
        target *= hessian_factor(i, j, spacings, factor)
    else:
        np.subtract(shifted({i: 1, j: 1}), shifted({i: 1, j: -1}), out=target)
        target -= shifted({i: -1, j: 1})
        target += shifted({i: -1, j: -1})
        target *= hessian_factor(i, j, spacings, factor)
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


def gradient_entry(value: np.ndarray, i: int, spacing: float, factor: float = 1.0) -> np.ndarray:
    """factor D_i V by central differences along the x-axis i, second order; zero on its walls."""
    out = np.empty_like(value)
    for end in (0, -1):
        out[(slice(None),) * i + (end,)] = 0.0
    inner = (slice(None),) * i + (slice(1, -1),)
    np.subtract(value[(slice(None),) * i + (slice(2, None),)], value[(slice(None),) * i + (slice(None, -2),)],
                out=out[inner])
    out[inner] *= gradient_factor(spacing, factor)
    return out


def drift_correction(value: np.ndarray, means: np.ndarray, spacings, scale: float = 1.0) -> np.ndarray:
    """scale B, B = (1/2) sum_i ((m . D_x) m_i) D_i V on the product grid, m = F delta ((d, N)):
    the second-order term of the averaged characteristic, which the Euler foot x + m leaves out
    (second-order central differences; a term that needs a derivative across a wall is left out
    there, so on the walls B is partial in d >= 2, as A is)."""
    d = len(spacings)
    fields = [row.reshape(value.shape) for row in means]
    total = None
    for i in range(d):
        transport = None                                   # (m . D_x) m_i
        for j in range(d):
            term = gradient_entry(fields[i], j, spacings[j])
            term *= fields[j]
            transport = term if transport is None else np.add(transport, term, out=transport)
        transport *= gradient_entry(value, i, spacings[i], 0.5 * scale)
        total = transport if total is None else np.add(total, transport, out=total)
    return total


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
