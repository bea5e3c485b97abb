"""Factorise once, solve every step: the implicit matrices of the stiff parts.

An implicit step solves (I - a L) V = V* with L a monotone generator, so the matrix is
an M-matrix: strictly diagonally dominant by rows, non-positive off the diagonal.  The
eps-HJB fast part couples only the y-nodes of one x-node, and with one y-axis (stored
last, so contiguous) the whole matrix is *tridiagonal*: the blocks of the x-nodes
follow each other along the diagonal with zero couplings between them.  Then

* :class:`TridiagonalFactors` factorises it with LAPACK ``dgttrf`` in O(N) and solves
  with ``dgttrs`` in O(N), one compiled sweep over all blocks at once (no Python loop,
  about 4 doubles and an int a row; partial pivoting never swaps rows of a diagonally
  dominant matrix, so this is the Thomas algorithm);
* any other pattern (two y-axes: a 5-point block) goes to SuperLU (:class:`SparseLUFactors`).

:func:`factorize` picks by the pattern of the assembled matrix, not by the dimension.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

#: Bytes a row that each factorisation keeps (hjb.limits-style counts for memory estimates).
TRIDIAGONAL_BYTES_PER_ROW = 4 * 8 + 4


def bandwidth(matrix: sp.spmatrix) -> int:
    """max |i - j| over the stored entries (0 for a diagonal or empty matrix)."""
    coo = matrix.tocoo()
    return int(np.max(np.abs(coo.row - coo.col))) if coo.nnz else 0


@dataclass
class TridiagonalFactors:
    """The LU factors of a tridiagonal matrix (LAPACK dgttrf); :meth:`solve` is dgttrs."""

    lower: np.ndarray
    diagonal: np.ndarray
    upper: np.ndarray
    upper2: np.ndarray
    pivots: np.ndarray

    @classmethod
    def of(cls, matrix: sp.spmatrix) -> "TridiagonalFactors":
        from scipy.linalg import lapack
        n = matrix.shape[0]
        diagonal = np.ascontiguousarray(matrix.diagonal(0), dtype=float)
        lower = np.ascontiguousarray(matrix.diagonal(-1), dtype=float) if n > 1 else np.zeros(0)
        upper = np.ascontiguousarray(matrix.diagonal(1), dtype=float) if n > 1 else np.zeros(0)
        lower, diagonal, upper, upper2, pivots, info = lapack.dgttrf(lower, diagonal, upper)
        if info != 0:
            raise np.linalg.LinAlgError(f"tridiagonal factorisation failed: U({info},{info}) is zero")
        return cls(lower, diagonal, upper, upper2, pivots)

    def solve(self, rhs: np.ndarray) -> np.ndarray:
        from scipy.linalg import lapack
        x, info = lapack.dgttrs(self.lower, self.diagonal, self.upper, self.upper2, self.pivots,
                                np.asarray(rhs, dtype=float).reshape(-1, 1))
        if info != 0:
            raise np.linalg.LinAlgError(f"tridiagonal solve failed (info {info})")
        return x[:, 0]


@dataclass
class SparseLUFactors:
    """SuperLU factors (scipy.sparse.linalg.splu) for any other sparsity pattern."""

    lu: object

    @classmethod
    def of(cls, matrix: sp.spmatrix) -> "SparseLUFactors":
        import scipy.sparse.linalg as spla
        return cls(spla.splu(sp.csc_matrix(matrix)))

    def solve(self, rhs: np.ndarray) -> np.ndarray:
        return self.lu.solve(np.asarray(rhs, dtype=float))


def factorize(matrix: sp.spmatrix):
    """Factors of ``matrix`` with a ``solve(rhs) -> solution`` method: LAPACK's tridiagonal LU
    when the matrix is tridiagonal, SuperLU otherwise."""
    if bandwidth(matrix) <= 1:
        return TridiagonalFactors.of(matrix)
    return SparseLUFactors.of(matrix)

