"""Many sparse blocks with one pattern: one symbolic LU, the numbers of every block.

The eps-HJB fast part with two y-axes is block diagonal, one (I - a L_y) block per x-node,
and every block has the same 5-point pattern: only the drift's rates differ.  SuperLU block
by block (:class:`hjb.operators.fast_solve.BlockLUFactors`) repeats the ordering and the
symbolic analysis for each block and keeps its supernodal structure per block (22 bytes an
entry of L + U).  :class:`BatchedSparseLU` orders and analyses the pattern once and keeps
only the values, 8 bytes an entry:

* the symbolic LU of the first block's pattern (:mod:`hjb.operators.lu_pattern`: minimum
  degree ordering, fill from the elimination tree, the factorisation as a program of
  positions), shared by all blocks;
* the numeric factorisation: that program run on each block's values;
* the solve: L y = P b forward, U x = y backward, three right-hand sides a sweep.

No pivoting is needed: Gaussian elimination keeps an M-matrix diagonally dominant by rows.
Two kernels compute the same numbers bit for bit (tests/test_batched_lu.py): numba, each
block with its values in cache, the blocks in ``prange`` threads
(:mod:`hjb.operators.accelerator`; :func:`hjb.operators.fast_solve.factorize` takes it), and
numpy, the same operations vectorised over the blocks (the reference, slow).  At 41^4
(1681 blocks of 1681 rows) it factorises in 0.9-1.2 s against SuperLU's 5-7.5 s block by
block and solves six right-hand sides in 0.15-0.27 s against 0.64-0.92 s.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import scipy.sparse as sp

from .accelerator import compile_kernel, numba_or_none
from .lu_pattern import PatternsDiffer, SharedPattern, shared_pattern, shares_one_pattern


def factor_blocks_kernel(loop=range):
    """``factor_blocks``, its loop over the blocks ``loop`` (numba.prange when compiled: the blocks
    are independent, so the numbers do not depend on the threads)."""

    def factor_blocks(values, pivot, pivot_diagonal, updates, targets, sources):
        """In place, every block b: values[b] (A's entries at the pattern's positions, 0 at the
        fill) becomes L (unit, below the diagonal) + U."""
        for b in loop(values.shape[0]):
            lu = values[b]
            for t in range(pivot.size):
                ratio = lu[pivot[t]] / lu[pivot_diagonal[t]]
                lu[pivot[t]] = ratio
                for u in range(updates[t], updates[t + 1]):
                    lu[targets[u]] -= ratio * lu[sources[u]]
    return factor_blocks


def factor_numpy(values, pivot, pivot_diagonal, updates, targets, sources):
    """:func:`factor_blocks_kernel`, each operation vectorised over the blocks."""
    lu = values.T                                      # (entries, blocks): an entry of every block
    for t in range(pivot.size):
        ratio = lu[pivot[t]] / lu[pivot_diagonal[t]]
        lu[pivot[t]] = ratio
        span = slice(updates[t], updates[t + 1])
        for target, source in zip(targets[span], sources[span]):
            lu[target] -= ratio * lu[source]


def solve_blocks_kernel(loop=range):
    """``solve_blocks``, its loop over the blocks ``loop`` (numba.prange when compiled)."""

    def solve_blocks(values, order, start, column, diagonal, rhs, out):
        """Every block b and right-hand side c: out[b, :, c] <- A_b^-1 rhs[b, :, c] (rhs, out:
        (blocks, m, k)), through the new numbering (x_i = rhs[order_i]); three right-hand sides at
        a time, each row's three sums in registers (a factor and its column read once for the three)."""
        m, k = rhs.shape[1], rhs.shape[2]
        for b in loop(values.shape[0]):
            x = np.zeros((3, m))                       # per block: the blocks may run in threads
            lu = values[b]
            for first in range(0, k, 3):
                width = min(3, k - first)
                for i in range(m):                         # L y = P b, L unit lower
                    row = order[i]
                    t0 = rhs[b, row, first]
                    t1 = rhs[b, row, first + 1] if width > 1 else 0.0
                    t2 = rhs[b, row, first + 2] if width > 2 else 0.0
                    for p in range(start[i], diagonal[i]):
                        factor, j = lu[p], column[p]
                        t0 -= factor * x[0, j]
                        t1 -= factor * x[1, j]
                        t2 -= factor * x[2, j]
                    x[0, i], x[1, i], x[2, i] = t0, t1, t2
                for i in range(m - 1, -1, -1):             # U x = y
                    t0, t1, t2 = x[0, i], x[1, i], x[2, i]
                    for p in range(diagonal[i] + 1, start[i + 1]):
                        factor, j = lu[p], column[p]
                        t0 -= factor * x[0, j]
                        t1 -= factor * x[1, j]
                        t2 -= factor * x[2, j]
                    pivot, row = lu[diagonal[i]], order[i]
                    x[0, i], x[1, i], x[2, i] = t0 / pivot, t1 / pivot, t2 / pivot
                    out[b, row, first] = x[0, i]
                    if width > 1:
                        out[b, row, first + 1] = x[1, i]
                    if width > 2:
                        out[b, row, first + 2] = x[2, i]
    return solve_blocks


def solve_numpy(values, order, start, column, diagonal, rhs, out):
    """:func:`solve_blocks_kernel`, each operation vectorised over the blocks and right-hand sides."""
    lu, m = values.T, rhs.shape[1]
    x = rhs[:, order, :].transpose(1, 0, 2).copy()     # (m, blocks, k), the new numbering
    for i in range(m):
        total = x[i].copy()
        for p in range(start[i], diagonal[i]):
            total -= lu[p][:, None] * x[column[p]]
        x[i] = total
    for i in range(m - 1, -1, -1):
        total = x[i].copy()
        for p in range(diagonal[i] + 1, start[i + 1]):
            total -= lu[p][:, None] * x[column[p]]
        x[i] = total / lu[diagonal[i]][:, None]
    out[:, order, :] = x.transpose(1, 0, 2)


@lru_cache(maxsize=1)
def compiled_kernels():
    """(factor_blocks, solve_blocks) compiled, or None (numba missing or HJB_NUMBA=0)."""
    numba = numba_or_none()
    if numba is None:
        return None
    return (compile_kernel(numba, factor_blocks_kernel(numba.prange), True),
            compile_kernel(numba, solve_blocks_kernel(numba.prange), True))


#: The batched LU from this many rows (with numba): factorising block by block with SuperLU
#: costs about 2.6 us a row against 0.7 here, which repays importing numba (0.55 s) from
#: about 3e5 rows.
BATCHED_ROWS = 3e5


def chosen(rows: int) -> bool:
    """Whether :func:`hjb.operators.fast_solve.factorize` takes the batched LU for ``rows`` rows
    (in equal blocks of at least BLOCK_ROWS rows): numba imports (HJB_NUMBA read now, as for
    the compiled step) and there are enough rows."""
    return rows >= BATCHED_ROWS and numba_or_none() is not None and compiled_kernels() is not None


@dataclass
class BatchedSparseLU:
    """The LU factors of a block-diagonal matrix whose equal blocks share one pattern:
    :meth:`solve` takes one right-hand side (N,) or several (N, k)."""

    pattern: SharedPattern
    values: np.ndarray          # (blocks, entries): L + U of each block
    accelerated: bool

    @classmethod
    def of(cls, matrix: sp.spmatrix, blocks: int, accelerate: bool | None = None) -> "BatchedSparseLU":
        """Factorise; ``accelerate``: the compiled kernels (True), numpy (False) or the compiled
        ones when numba imports (None)."""
        csr = sp.csr_matrix(matrix)
        if not csr.has_sorted_indices:
            csr = csr.sorted_indices()                 # a copy: the caller's matrix is left as it is
        size = csr.shape[0] // blocks
        if size * blocks != csr.shape[0]:
            raise ValueError(f"{csr.shape[0]} rows do not make {blocks} equal blocks")
        if not shares_one_pattern(csr, blocks):
            raise PatternsDiffer(f"the matrix is not block diagonal with {blocks} blocks of one pattern")
        pattern = shared_pattern(csr[:size, :size])
        kernels = compiled_kernels()
        if accelerate is None:
            accelerate = kernels is not None
        elif accelerate and kernels is None:
            raise ImportError("the compiled batched LU needs numba (pip install hjb[fast]) and HJB_NUMBA not set to 0")
        data = csr.data.reshape(blocks, -1)
        values = np.zeros((blocks, pattern.entries))
        known = pattern.source >= 0
        values[:, known] = data[:, pattern.source[known]]
        program = (pattern.pivot, pattern.pivot_diagonal, pattern.updates, pattern.targets, pattern.sources)
        (kernels[0] if accelerate else factor_numpy)(values, *program)
        if not np.all(np.isfinite(values[:, pattern.diagonal])) or np.any(values[:, pattern.diagonal] == 0.0):
            raise np.linalg.LinAlgError("batched LU failed: a zero pivot")
        return cls(pattern, values, bool(accelerate))

    def solve(self, rhs: np.ndarray) -> np.ndarray:
        rhs = np.asarray(rhs, dtype=float)
        blocks, m = self.values.shape[0], self.pattern.order.size
        columns = rhs.reshape(blocks, m, -1)
        out = np.empty_like(columns)
        arguments = (self.values, self.pattern.order, self.pattern.start, self.pattern.column, self.pattern.diagonal,
                     columns, out)
        (compiled_kernels()[1] if self.accelerated else solve_numpy)(*arguments)
        return out.reshape(rhs.shape)
