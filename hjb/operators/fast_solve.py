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
* a block-diagonal matrix with wider blocks (two y-axes: a 5-point block per x-node)
  is factorised block by block (:class:`BlockLUFactors`): SuperLU with a minimum-degree
  ordering of A + A^T and diagonal pivots, which an M-matrix allows.  Against one SuperLU
  of the whole matrix with its default COLAMD ordering this keeps 26 instead of 42
  entries of L + U a row at 41^4, and a step's triangular solves take 0.3x the time
  (0.2 s against 0.7 s), each block's factors (0.5 MB) staying in cache while it is
  solved; factorising takes about as long.  Small blocks lose to the loop over them
  (:data:`BLOCK_ROWS`).  With numba, :class:`hjb.operators.batched_lu.BatchedSparseLU` does
  better still: the blocks share one pattern, so it orders and analyses it once and keeps only
  the values (8 bytes an entry against SuperLU's 22; at 41^4 factorising takes 0.9-1.2 s
  against 5-7.5 s and six right-hand sides 0.15-0.27 s against 0.64-0.92 s);
* any other pattern goes to SuperLU whole (:class:`SparseLUFactors`).

:func:`factorize` picks by the pattern of the assembled matrix and the caller's word on
its blocks, not by the dimension.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

#: SuperLU's storage per entry of L + U of a block (supernodal: an 8-byte value, its share of
#: the row indices and of the dense supernode blocks; measured 21.7 at 41^4 from peak RSS) and
#: per row (permutations, column pointers).
BLOCK_LU_BYTES_PER_ENTRY, BLOCK_LU_BYTES_PER_ROW = 22.0, 32


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
        rhs = np.asarray(rhs, dtype=float)
        if rhs.size == 0:                # dgttrs with no right-hand side corrupts the heap (scipy 1.17)
            return np.empty(rhs.shape)
        x, info = lapack.dgttrs(self.lower, self.diagonal, self.upper, self.upper2, self.pivots,
                                np.asfortranarray(rhs.reshape(rhs.shape[0], -1)))
        if info != 0:
            raise np.linalg.LinAlgError(f"tridiagonal solve failed (info {info})")
        return x[:, 0] if rhs.ndim == 1 else x


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


#: SuperLU options for an M-matrix: minimum degree on A + A^T (the 5-point pattern is
#: symmetric) and the diagonal as pivot (no row swaps are needed: elimination keeps an
#: M-matrix diagonally dominant).
M_MATRIX_LU = dict(permc_spec="MMD_AT_PLUS_A", diag_pivot_thresh=0.0, options=dict(SymmetricMode=True))


def mmd_fill(rows: float, dim: int = 2) -> float:
    """Entries of L + U a row of :data:`M_MATRIX_LU` for a (2 dim + 1)-point block of ``rows``
    unknowns: in d = 2 measured 4.1-4.3 rows^0.24 from 81 to 14641 rows (11.9 at 9^2, 25.8 at
    41^2, 40.6 at 121^2); d = 3 scaled by rows^(1/3) (a guess: not measured)."""
    return 4.3 * rows**0.24 * rows ** (max(dim - 2, 0) / 3.0)


@dataclass
class BlockLUFactors:
    """SuperLU factors of each diagonal block of a block-diagonal matrix (equal blocks)."""

    blocks: list
    size: int

    @classmethod
    def of(cls, matrix: sp.spmatrix, count: int) -> "BlockLUFactors":
        import scipy.sparse.linalg as spla
        csr = sp.csr_matrix(matrix)
        size = csr.shape[0] // count
        if size * count != csr.shape[0]:
            raise ValueError(f"{csr.shape[0]} rows do not make {count} equal blocks")
        factors = []
        for k in range(count):
            # the rows of block k, cut out of the CSR arrays (no copy of the whole matrix)
            first, last = csr.indptr[k * size], csr.indptr[(k + 1) * size]
            block = sp.csr_matrix((csr.data[first:last], csr.indices[first:last] - k * size,
                                   csr.indptr[k * size:(k + 1) * size + 1] - first), shape=(size, size))
            if block.nnz and not 0 <= block.indices.min() <= block.indices.max() < size:
                raise ValueError(f"the matrix is not block diagonal with {count} blocks (block {k})")
            factors.append(spla.splu(block.tocsc(), **M_MATRIX_LU))
        return cls(factors, size)

    def solve(self, rhs: np.ndarray) -> np.ndarray:
        rhs = np.asarray(rhs, dtype=float)
        columns = rhs.reshape(len(self.blocks), self.size, -1)
        out = np.empty_like(columns)
        for k, lu in enumerate(self.blocks):
            out[k] = lu.solve(columns[k])
        return out.reshape(rhs.shape)


#: Block by block only from this many rows a block: below, one SuperLU of the whole is faster
#: (the loop over blocks costs more than the cache gains; scripts/bench_eps_hjb.py --d2 measured
#: the whole solve at 0.74-0.60x from 25^4 to 41^4 block by block, but 1.16x at 21^4, 1.34x at 17^4).
BLOCK_ROWS = 500


def uses_blocks(rows: int, blocks: int) -> bool:
    """Whether :func:`factorize` goes block by block for ``rows`` rows in ``blocks`` blocks."""
    return blocks > 1 and rows // blocks >= BLOCK_ROWS


def factorize(matrix: sp.spmatrix, blocks: int = 1, solves: int = 1):
    """Factors of ``matrix`` with a ``solve(rhs) -> solution`` method (rhs: (N,) or (N, k)): the
    batched Thomas algorithm (:mod:`hjb.operators.thomas`) when the matrix is tridiagonal and
    the caller says it is block diagonal with ``blocks`` > 1 equal blocks (compiled when the
    ``solves`` ahead repay it); LAPACK's
    tridiagonal LU when it is tridiagonal otherwise; when the caller says it is block diagonal
    with ``blocks`` equal blocks of at least :data:`BLOCK_ROWS` rows, one symbolic LU of their
    shared pattern and the values of every block (:mod:`hjb.operators.batched_lu`, compiled:
    with numba, from BATCHED_ROWS rows), else SuperLU block by block; SuperLU of the whole
    otherwise."""
    if bandwidth(matrix) <= 1:
        if blocks > 1:
            from .thomas import BatchedTridiagonalFactors
            return BatchedTridiagonalFactors.of(matrix, blocks, solves=solves)
        return TridiagonalFactors.of(matrix)
    if uses_blocks(matrix.shape[0], blocks):
        from .batched_lu import BatchedSparseLU, chosen
        from .lu_pattern import PatternsDiffer
        if chosen(matrix.shape[0]):
            try:
                return BatchedSparseLU.of(matrix, blocks, accelerate=True)
            except PatternsDiffer:          # a rate that underflowed to 0 dropped an entry
                pass
        return BlockLUFactors.of(matrix, blocks)
    return SparseLUFactors.of(matrix)

