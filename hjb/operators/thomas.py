"""Many equal tridiagonal systems at once: the Thomas algorithm with stored reciprocals.

The eps-HJB fast part with one y-axis is block diagonal: one tridiagonal M-matrix block
(I - a L_y) per x-node.  :class:`BatchedTridiagonalFactors` eliminates all blocks at once:

    r_0 = 1 / d_0,   c_{i-1} = u_{i-1} r_{i-1},   r_i = 1 / (d_i - l_i c_{i-1})     (factorise)
    z_0 = b_0 r_0,   z_i = (b_i - l_i z_{i-1}) r_i                                  (forward)
    x_{n-1} = z_{n-1},   x_i = z_i - c_i x_{i+1}                                     (backward)

(l, d, u: the sub-, main and super-diagonal of a block).  No pivoting is needed: an M-matrix
strictly dominant by rows keeps every d_i - l_i c_{i-1} >= d_i - |l_i| > 0.  A solve only
multiplies and subtracts, so it is not held up by a division's latency on each row as
LAPACK's dgttrs is (17 ns a row at 801^2 on the 2-core machine of the benchmarks).

Two kernels compute the same numbers, bit for bit (tests/test_thomas.py):

* numpy, always there: the recurrences run along the rows of a block, each operation
  vectorised over all blocks (the right-hand side transposed so that a row of every block
  is contiguous);
* numba, an optional accelerator (``pip install hjb[fast]``): the same operations, in the
  same order, compiled; it takes several right-hand sides in one sweep over the factors
  (at 801^2: 4.7 ms against numpy's 12 ms and LAPACK's 11 ms for one right-hand side,
  5.0 ms for three).  Both evaluate (b - l z) r and z - c x as a product, then a difference,
  then a product, each rounded (numba does not contract them into fused multiply-adds).
  It is used when numba imports, ``HJB_NUMBA`` is not ``0`` and the solves ahead (rows times
  solves) repay numba's import (:mod:`hjb.operators.accelerator`).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from .accelerator import ACCELERATE_ROW_SOLVES, compile_kernel, numba_or_none

#: Bytes a row the factors keep: l, r, c, and their transposed copies for the numpy kernel.
BATCHED_BYTES_PER_ROW = 6 * 8
__all__ = ["ACCELERATE_ROW_SOLVES", "BatchedTridiagonalFactors", "compiled_kernel", "solve_numpy"]


@lru_cache(maxsize=1)
def compiled_kernel():
    """The numba kernel of :func:`solve_numpy`'s recurrences, or None (numba missing or
    disabled by HJB_NUMBA=0: :mod:`hjb.operators.accelerator`).  Compiled on first use and
    cached on disk by numba."""
    numba = numba_or_none()
    if numba is None:
        return None

    def one(lower, reciprocal, ratio, rhs, out):       # one right-hand side: the carry in a register
        _, blocks, size = rhs.shape
        for b in range(blocks):
            carry = rhs[0, b, 0] * reciprocal[b, 0]
            out[0, b, 0] = carry
            for i in range(1, size):
                carry = (rhs[0, b, i] - lower[b, i] * carry) * reciprocal[b, i]
                out[0, b, i] = carry
            for i in range(size - 2, -1, -1):
                carry = out[0, b, i] - ratio[b, i] * carry
                out[0, b, i] = carry

    def three(lower, reciprocal, ratio, rhs, out):     # three right-hand sides: three carries in registers
        _, blocks, size = rhs.shape
        for b in range(blocks):
            r = reciprocal[b, 0]
            c0, c1, c2 = rhs[0, b, 0] * r, rhs[1, b, 0] * r, rhs[2, b, 0] * r
            out[0, b, 0], out[1, b, 0], out[2, b, 0] = c0, c1, c2
            for i in range(1, size):
                low, r = lower[b, i], reciprocal[b, i]
                c0 = (rhs[0, b, i] - low * c0) * r
                c1 = (rhs[1, b, i] - low * c1) * r
                c2 = (rhs[2, b, i] - low * c2) * r
                out[0, b, i], out[1, b, i], out[2, b, i] = c0, c1, c2
            for i in range(size - 2, -1, -1):
                c = ratio[b, i]
                c0 = out[0, b, i] - c * c0
                c1 = out[1, b, i] - c * c1
                c2 = out[2, b, i] - c * c2
                out[0, b, i], out[1, b, i], out[2, b, i] = c0, c1, c2

    one, three = compile_kernel(numba, one), compile_kernel(numba, three)

    def sweep(lower, reciprocal, ratio, rhs, out):
        # a row's recurrence waits on the previous row (latency-bound): three independent
        # right-hand sides interleaved cost about as much as one (5.0 against 4.7 ms at 801^2)
        k = rhs.shape[0]
        for first in range(0, k - k % 3, 3):
            three(lower, reciprocal, ratio, rhs[first:first + 3], out[first:first + 3])
        for j in range(k - k % 3, k):
            one(lower, reciprocal, ratio, rhs[j:j + 1], out[j:j + 1])
    return sweep


def solve_numpy(low, rec, rat, rhs):
    """The forward and backward sweeps of every block and every right-hand side, vectorised
    over the blocks.  Factors transposed: (size, blocks), so that row i of every block is
    contiguous; rhs: (k, blocks, size)."""
    out = np.empty_like(rhs)
    for j in range(rhs.shape[0]):
        z = rhs[j].T.copy()                           # row i of every block contiguous
        t = np.empty_like(z[0])
        np.multiply(z[0], rec[0], out=z[0])
        for i in range(1, z.shape[0]):
            np.multiply(low[i], z[i - 1], out=t)
            np.subtract(z[i], t, out=t)
            np.multiply(t, rec[i], out=z[i])
        for i in range(z.shape[0] - 2, -1, -1):
            np.multiply(rat[i], z[i + 1], out=t)
            np.subtract(z[i], t, out=z[i])
        out[j] = z.T
    return out


@dataclass
class BatchedTridiagonalFactors:
    """The Thomas factors of a block-diagonal matrix of equal tridiagonal blocks; :meth:`solve`
    takes one right-hand side (N,) or several (N, k)."""

    lower: np.ndarray           # l_i, (blocks, size); l_0 = 0
    reciprocal: np.ndarray      # r_i
    ratio: np.ndarray           # c_i = u_i r_i; c_{size-1} = 0
    accelerated: bool
    _transposed: tuple = field(default=(), init=False, repr=False, compare=False)   # (size, blocks), for numpy

    @classmethod
    def of(cls, matrix, blocks: int, accelerate: bool | None = None, solves: int = 1) -> "BatchedTridiagonalFactors":
        """Factorise; ``accelerate``: the compiled kernel (True), the numpy one (False), or the
        compiled one when available and ``solves`` solves of this size repay its import (None)."""
        n = matrix.shape[0]
        size = n // blocks
        if size * blocks != n:
            raise ValueError(f"{n} rows do not make {blocks} equal blocks")
        shape = (blocks, size)
        diagonal = np.asarray(matrix.diagonal(0), dtype=float).reshape(shape)
        lower, upper = np.zeros(shape), np.zeros(shape)
        if size > 1:
            lower.ravel()[1:] = matrix.diagonal(-1)
            upper.ravel()[:-1] = matrix.diagonal(1)
            if np.any(lower[:, 0]) or np.any(upper[:, -1]):
                raise ValueError(f"the matrix couples its {blocks} blocks")
        elif matrix.diagonal(-1).any() or matrix.diagonal(1).any():     # blocks of one row: diagonal
            raise ValueError(f"the matrix couples its {blocks} blocks")
        reciprocal, ratio = np.empty(shape), np.zeros(shape)
        reciprocal[:, 0] = 1.0 / diagonal[:, 0]
        for i in range(1, size):                     # vectorised over the blocks
            ratio[:, i - 1] = upper[:, i - 1] * reciprocal[:, i - 1]
            reciprocal[:, i] = 1.0 / (diagonal[:, i] - lower[:, i] * ratio[:, i - 1])
        if not np.all(np.isfinite(reciprocal)):
            raise np.linalg.LinAlgError("tridiagonal factorisation failed: a zero pivot")
        if accelerate is None:
            accelerate = n * solves >= ACCELERATE_ROW_SOLVES and compiled_kernel() is not None
        elif accelerate and compiled_kernel() is None:
            raise ImportError("the compiled tridiagonal kernel needs numba (pip install hjb[fast]) and "
                              "HJB_NUMBA not set to 0 (read once, at the first solve)")
        return cls(lower, reciprocal, ratio, bool(accelerate))

    def solve(self, rhs: np.ndarray) -> np.ndarray:
        rhs = np.asarray(rhs, dtype=float)
        if rhs.size == 0:                                     # no right-hand side
            return np.empty(rhs.shape)
        blocks, size = self.lower.shape
        stacked = np.ascontiguousarray(rhs.reshape(blocks * size, -1).T).reshape(-1, blocks, size)
        if self.accelerated:
            out = np.empty_like(stacked)
            compiled_kernel()(self.lower, self.reciprocal, self.ratio, stacked, out)
        else:
            if not self._transposed:
                self._transposed = tuple(f.T.copy() for f in (self.lower, self.reciprocal, self.ratio))
            out = solve_numpy(*self._transposed, stacked)
        out = out.reshape(out.shape[0], -1)
        return out[0] if rhs.ndim == 1 else out.T
