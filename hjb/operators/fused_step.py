"""The elementwise work of the corrected eps-HJB step (:class:`hjb.solvers.eps_hjb_step.EpsHJBStep`),
fused into three loops that numba compiles (an optional accelerator: :mod:`hjb.operators.accelerator`).

In numpy the step's work between the interpolations and the fast solve is some thirty passes
over arrays of the product grid, each allocating: the filtered feet and their minimum, u*,
the moments of delta (:mod:`hjb.operators.filtered`, :mod:`hjb.operators.averaging_correction`),
then the covariance, the Hessian and gradient differences, A - B and the filter.  Fused, each
node is read once per loop: at 801^2 the step takes about 11 ms instead of 55.

* ``filtered_minimum`` (:func:`filtered_minimum_kernel`): for one control, the linear and
  cubic values S V and C V interpolated at the feet without the matrices, from the
  :class:`hjb.operators.foot_cells.FootCells`, the filtered foot S V + bound F((C V - S V) / bound)
  and the running minimum over the controls, with u*;
* ``gather_moments`` (:func:`gather_moments_kernel`): delta = dt phi(x, y, u*) and its
  products delta_i delta_j, the right-hand sides of the fast solve beside V*;
* ``corrected_values`` (:func:`corrected_values_kernel`): F V* - bound F(w (A - B) / bound)
  from the solved rows.

They are plain Python, valid as they stand (and slow); :func:`compiled_kernels` compiles them,
their loops over nodes in numba's ``prange`` (threads; each node is computed alone, so the
numbers do not depend on their count).  Reading the feet from their cells streams 24 bytes a
node in d = 1 (40 in d = 2) where the CSR matrices stream 72 (240), and they need not be
stored.  Each kernel performs the numpy path's operations in the same order, so that both
give the same numbers bit for bit (tests/test_fused_step.py); the difference factors come
from the same functions (:func:`hjb.operators.averaging_correction.hessian_factor`,
``gradient_factor``).  ``corrected_values`` is dimension-generic: x-neighbours are found by
strides on the flattened product grid (x-axes first, y contiguous), walls by the x-index of
each y-block.
"""
from __future__ import annotations

import itertools
import math
from functools import lru_cache
from types import SimpleNamespace

import numpy as np

from .accelerator import compile_kernel, numba_or_none
from .averaging_correction import gradient_factor, hessian_factor, moment_pairs


def filtered_minimum_kernel(dim: int, loop=range):
    """``filtered_minimum`` for d = ``dim``: the loops over the axes and the corners of the
    stencils then have fixed lengths (compile-time constants, which numba unrolls).  ``loop``:
    the loop over the nodes (numba.prange when compiled: see :func:`compiled_kernels`)."""
    linear_digits = np.array(list(itertools.product(range(2), repeat=dim)), dtype=np.int64)
    cubic_digits = np.array(list(itertools.product(range(4), repeat=dim)), dtype=np.int64)

    def filtered_minimum(value, linear_origin, linear_offset, cubic_origin, cubic_offset, linear_corners,
                         cubic_corners, bound, k, tie, moved, best, track):
        """moved <- the filtered foot S V + bound F((C V - S V) / bound) of control k (k = 0), or
        min(moved, it) (k > 0); S V and C V interpolated from V at the :class:`FootCells` (the
        weights as the matrices hold them: products over the axes, summed from 0 in the corners'
        order, as scipy's csr_matvec does); with ``track``, best <- k where the foot is below
        moved by more than ``tie`` (0 at k = 0)."""
        two = 2.0 * bound
        for n in loop(moved.size):
            linear, origin = 0.0, linear_origin[n]
            for c in range(linear_digits.shape[0]):
                weight = 1.0
                for a in range(dim):
                    t = linear_offset[a, n]
                    factor = t if linear_digits[c, a] else 1.0 - t
                    weight = factor if a == 0 else weight * factor
                linear += weight * value[origin + linear_corners[c]]
            cubic, origin = 0.0, cubic_origin[n]
            for c in range(cubic_digits.shape[0]):
                weight = 1.0
                for a in range(dim):                          # as interpolation.cubic_weights
                    t, j = cubic_offset[a, n], cubic_digits[c, a]
                    if j == 0:
                        factor = -t * (t - 1) * (t - 2) / 6
                    elif j == 1:
                        factor = (t + 1) * (t - 1) * (t - 2) / 2
                    elif j == 2:
                        factor = -(t + 1) * t * (t - 2) / 2
                    else:
                        factor = (t + 1) * t * (t - 1) / 6
                    weight = factor if a == 0 else weight * factor
                cubic += weight * value[origin + cubic_corners[c]]
            diff = cubic - linear                             # as filtered.filtered
            size = abs(diff)
            other = two - size
            if other < size:
                size = other
            if size < 0.0:
                size = 0.0
            foot = linear + math.copysign(size, diff)
            if k == 0:
                moved[n] = foot
                if track:
                    best[n] = 0
            else:
                current = moved[n]
                if track and foot < current - tie:
                    best[n] = k
                if foot < current:
                    moved[n] = foot
    return filtered_minimum


def gather_moments_kernel(loop=range):
    """``gather_moments``, its loops over the nodes ``loop`` (numba.prange when compiled)."""

    def gather_moments(best, slots, displacements, rows, pair_i, pair_j):
        """rows[1 + i] <- delta_i of control best (displacements[slots[best]], 0 where the slot is
        -1: a control that does not move x); rows[1 + d + p] <- delta_i delta_j of the p-th pair."""
        d = displacements.shape[1]
        for i in range(d):
            row = rows[1 + i]
            for n in loop(best.size):
                slot = slots[best[n]]
                row[n] = 0.0 if slot < 0 else displacements[slot, i, n]
        for p in range(pair_i.size):
            first, second, out = rows[1 + pair_i[p]], rows[1 + pair_j[p]], rows[1 + d + p]
            for n in loop(best.size):
                out[n] = first[n] * second[n]
    return gather_moments


def corrected_values_kernel(loop=range):
    """``corrected_values``, its loop over the y-blocks ``loop`` (numba.prange when compiled)."""

    def corrected_values(solved, x_sizes, x_strides, y_size, pair_i, pair_j, hessian, gradient_m, gradient_v,
                         bound, out):
        """out <- V - bound F(A - B) (A, B already scaled by w / bound through the factors):
        solved = [V, m_1 .. m_d, F(delta_i delta_j) of the pairs], (1 + d + P, N)."""
        d = x_sizes.size
        value = solved[0]
        for block in loop(solved.shape[1] // y_size):
            wall = np.empty(d, np.bool_)                   # per block: the blocks may run in threads
            a_term, b_term, transport = np.empty(y_size), np.empty(y_size), np.empty(y_size)
            rest = block * 1                               # (numba's prange refuses rest = block)
            for axis in range(d - 1, -1, -1):
                index = rest % x_sizes[axis]
                rest //= x_sizes[axis]
                wall[axis] = index == 0 or index == x_sizes[axis] - 1
            base = block * y_size
            for p in range(pair_i.size):                       # A = sum_p C_p factor_p D_p V
                i, j = pair_i[p], pair_j[p]
                mean_i, mean_j, second = solved[1 + i], solved[1 + j], solved[1 + d + p]
                si, sj, factor, zero = x_strides[i], x_strides[j], hessian[p], wall[i] or wall[j]
                for t in range(y_size):
                    n = base + t
                    covariance = second[n] - mean_i[n] * mean_j[n]
                    if zero:
                        entry = 0.0
                    elif i == j:
                        entry = (((value[n + si] + value[n - si]) - value[n]) - value[n]) * factor
                    else:
                        entry = (((value[n + si + sj] - value[n + si - sj]) - value[n - si + sj])
                                 + value[n - si - sj]) * factor
                    a_term[t] = entry * covariance if p == 0 else a_term[t] + entry * covariance
            for i in range(d):                                 # B = sum_i ((m . D) m_i) factor D_i V
                mean_i = solved[1 + i]
                for j in range(d):
                    mean_j, s, factor, zero = solved[1 + j], x_strides[j], gradient_m[j], wall[j]
                    for t in range(y_size):
                        n = base + t
                        slope = 0.0 if zero else (mean_i[n + s] - mean_i[n - s]) * factor
                        transport[t] = slope * mean_j[n] if j == 0 else transport[t] + slope * mean_j[n]
                s, factor, zero = x_strides[i], gradient_v[i], wall[i]
                for t in range(y_size):
                    n = base + t
                    slope = 0.0 if zero else (value[n + s] - value[n - s]) * factor
                    b_term[t] = transport[t] * slope if i == 0 else b_term[t] + transport[t] * slope
            for t in range(y_size):                            # the filter F, as filter_function
                n = base + t
                ratio = a_term[t] - b_term[t]
                size = abs(ratio)
                capped = 2.0 - size
                if size < capped:
                    capped = size
                if capped < 0.0:
                    capped = 0.0
                out[n] = value[n] - bound * math.copysign(capped, ratio)
    return corrected_values


def correction_stencil(shape: tuple, spacings, scale: float) -> tuple:
    """The arguments of :func:`corrected_values` after ``solved`` for the product grid
    ``shape`` (x-axes first: d = len(spacings)) and the correction's scale w / bound."""
    d = len(spacings)
    pairs = moment_pairs(d)
    y_size = int(np.prod(shape[d:], dtype=np.int64))
    strides = [int(np.prod(shape[axis + 1:d], dtype=np.int64)) * y_size for axis in range(d)]
    return (np.array(shape[:d], dtype=np.int64), np.array(strides, dtype=np.int64), y_size,
            np.array([i for i, _ in pairs], dtype=np.int64), np.array([j for _, j in pairs], dtype=np.int64),
            np.array([hessian_factor(i, j, spacings, scale * (0.5 if i == j else 1.0)) for i, j in pairs]),
            np.array([gradient_factor(h) for h in spacings]),
            np.array([gradient_factor(h, 0.5 * scale) for h in spacings]))


@lru_cache(maxsize=None)
def compiled_kernels(dim: int):
    """The kernels for d = ``dim`` compiled (a namespace: filtered_minimum, gather_moments,
    corrected_values), or None (numba missing or HJB_NUMBA=0)."""
    numba = numba_or_none()
    if numba is None:
        return None
    # prange: the nodes (blocks) are independent, and numba's parallel lowering also vectorises
    # the per-node loop (AVX2 gathers), which the serial one does not: the feet at 801^2 take
    # 2.1 ms on one thread against 3.8 ms serial
    return SimpleNamespace(filtered_minimum=compile_kernel(numba, filtered_minimum_kernel(dim, numba.prange), True),
                           gather_moments=compile_kernel(numba, gather_moments_kernel(numba.prange), True),
                           corrected_values=compile_kernel(numba, corrected_values_kernel(numba.prange), True))
