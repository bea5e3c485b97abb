"""Many sparse blocks with one pattern: one symbolic LU, the numbers of every block.

The eps-HJB fast part with two y-axes is block diagonal, one (I - a L_y) block per x-node,
and every block has the same 5-point pattern: only the drift's rates differ.  SuperLU block
by block (:class:`hjb.operators.fast_solve.BlockLUFactors`) repeats the ordering and the
symbolic analysis for each block and keeps its supernodal structure per block (22 bytes an
entry of L + U).  :class:`BatchedSparseLU` orders and analyses the pattern once and keeps
only the values, 8 bytes an entry:

* the ordering: SuperLU's minimum degree on A + A^T of the first block, applied
  symmetrically (P A P^T: an M-matrix stays one, its diagonal the pivots);
* the symbolic factorisation: the elimination tree of the symmetric pattern gives the
  pattern of L (= that of U^T), row by row in the new numbering;
* the program of the numeric factorisation (row i, Doolittle, no pivoting):

      for k in L-pattern(i), ascending:  l_ik = w_k / u_kk;  w_j -= l_ik u_kj  (j in U-pattern(k))

  as flat arrays of positions, shared by all blocks;
* the solve: L y = P b forward, U x = y backward, all right-hand sides of a row together.

No pivoting is needed: Gaussian elimination keeps an M-matrix diagonally dominant by rows.
Two kernels compute the same numbers bit for bit (tests/test_batched_lu.py): numba, one block
at a time with its values in cache (:mod:`hjb.operators.accelerator`; the factorisation takes
it), and numpy, the same operations vectorised over the blocks (the reference, slow).
"""
from __future__ import annotations

from array import array
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import scipy.sparse as sp

from .accelerator import compile_kernel, numba_or_none


@dataclass
class SharedPattern:
    """The symbolic LU of one block pattern (m rows), in the new numbering: row i of L + U holds
    positions start[i] .. start[i + 1] (columns ascending; the diagonal at ``diagonal[i]``);
    ``source`` maps each position to the block's CSR entry (or -1: fill); ``order``[i] is the
    old index of new row i; the factorisation program: for the L-entry at ``pivot[t]`` (row i,
    column k), ``pivot_diagonal[t]`` = position of u_kk and the updates
    ``targets[updates[t]:updates[t + 1]]`` -= l_ik * ``sources[...]``."""

    order: np.ndarray
    start: np.ndarray
    column: np.ndarray
    diagonal: np.ndarray
    source: np.ndarray
    pivot: np.ndarray
    pivot_diagonal: np.ndarray
    updates: np.ndarray
    targets: np.ndarray
    sources: np.ndarray

    @property
    def entries(self) -> int:
        return int(self.column.size)


def minimum_degree_order(block: sp.csr_matrix) -> np.ndarray:
    """new -> old: SuperLU's minimum degree on A + A^T (its column permutation)."""
    import scipy.sparse.linalg as spla
    lu = spla.splu(sp.csc_matrix(block), permc_spec="MMD_AT_PLUS_A", diag_pivot_thresh=0.0,
                   options=dict(SymmetricMode=True))
    return np.argsort(lu.perm_c)       # Pc[i, perm_c[i]] = 1: new column j is old argsort(perm_c)[j]


def shared_pattern(block: sp.csr_matrix) -> SharedPattern:
    """The symbolic LU of ``block``'s pattern (made symmetric) in minimum-degree order."""
    m = block.shape[0]
    order = minimum_degree_order(block)
    new = np.empty(m, dtype=np.int64)
    new[order] = np.arange(m)
    coo = block.tocoo()
    rows, cols = new[coo.row], new[coo.col]
    symmetric = sp.csr_matrix((np.ones(2 * rows.size), (np.r_[rows, cols], np.r_[cols, rows])), shape=(m, m))
    below = [set() for _ in range(m)]           # column k of L: rows > k (elimination tree)
    children = [[] for _ in range(m)]
    for k in range(m):
        pattern = {int(j) for j in symmetric.indices[symmetric.indptr[k]:symmetric.indptr[k + 1]] if j > k}
        for child in children[k]:
            pattern |= below[child]
        pattern.discard(k)
        below[k] = pattern
        if pattern:
            children[min(pattern)].append(k)
    left = [[] for _ in range(m)]               # row i of L: columns k < i, ascending (k runs up)
    for k in range(m):
        for i in below[k]:
            left[i].append(k)
    start = np.zeros(m + 1, dtype=np.int64)
    columns = []
    for i in range(m):
        row = left[i] + [i] + sorted(below[i])    # U's row i = L's column i (symmetric pattern)
        columns.append(row)
        start[i + 1] = start[i] + len(row)
    column = np.fromiter((j for row in columns for j in row), dtype=np.int64, count=int(start[-1]))
    position = [{j: start[i] + p for p, j in enumerate(row)} for i, row in enumerate(columns)]
    diagonal = np.array([position[i][i] for i in range(m)], dtype=np.int64)
    source = np.full(column.size, -1, dtype=np.int64)
    csr = sp.csr_matrix(block)
    for old_row in range(m):
        for entry in range(csr.indptr[old_row], csr.indptr[old_row + 1]):
            source[position[new[old_row]][new[csr.indices[entry]]]] = entry
    # the program in typed arrays (8 bytes an entry; Python lists of ints take about 36)
    pivot, pivot_diagonal, updates, targets, sources = array("q"), array("q"), array("q", [0]), array("q"), array("q")
    for i in range(m):
        for k in left[i]:
            pivot.append(position[i][k])
            pivot_diagonal.append(diagonal[k])
            for j in sorted(below[k]):
                targets.append(position[i][j])
                sources.append(position[k][j])
            updates.append(len(targets))
    # unsigned: the compiled kernels then index without a sign test (1.5x at 41^4)
    as_index = lambda values: np.asarray(values).astype(np.uint32)      # noqa: E731
    return SharedPattern(as_index(order), as_index(start), as_index(column), as_index(diagonal), source, as_index(pivot),
                         as_index(pivot_diagonal), as_index(updates), as_index(targets), as_index(sources))


# ---------------------------------------------------------------- kernels (numba and numpy)

def factor_blocks(values, pivot, pivot_diagonal, updates, targets, sources):
    """In place, every block b: values[b] (A's entries at the pattern's positions, 0 at the
    fill) becomes L (unit, below the diagonal) + U."""
    for b in range(values.shape[0]):
        lu = values[b]
        for t in range(pivot.size):
            ratio = lu[pivot[t]] / lu[pivot_diagonal[t]]
            lu[pivot[t]] = ratio
            for u in range(updates[t], updates[t + 1]):
                lu[targets[u]] -= ratio * lu[sources[u]]


def factor_numpy(values, pivot, pivot_diagonal, updates, targets, sources):
    """:func:`factor_blocks`, each operation vectorised over the blocks."""
    lu = values.T                                      # (entries, blocks): an entry of every block
    for t in range(pivot.size):
        ratio = lu[pivot[t]] / lu[pivot_diagonal[t]]
        lu[pivot[t]] = ratio
        span = slice(updates[t], updates[t + 1])
        for target, source in zip(targets[span], sources[span]):
            lu[target] -= ratio * lu[source]


def solve_blocks(values, order, start, column, diagonal, rhs, out):
    """Every block b and right-hand side c: out[b, :, c] <- A_b^-1 rhs[b, :, c] (rhs, out:
    (blocks, m, k)), through the new numbering (x_i = rhs[order_i]); three right-hand sides at
    a time, each row's three sums in registers (a factor and its column read once for the three)."""
    m, k = rhs.shape[1], rhs.shape[2]
    x = np.zeros((3, m))
    for b in range(values.shape[0]):
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


def solve_numpy(values, order, start, column, diagonal, rhs, out):
    """:func:`solve_blocks`, each operation vectorised over the blocks and right-hand sides."""
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
    return compile_kernel(numba, factor_blocks), compile_kernel(numba, solve_blocks)


#: The batched LU from this many rows (with numba): factorising block by block with SuperLU
#: costs about 2.6 us a row against 0.7 here, which repays importing numba (0.55 s) from
#: about 3e5 rows.
BATCHED_ROWS = 3e5


def chosen(rows: int) -> bool:
    """Whether :func:`hjb.operators.fast_solve.factorize` takes the batched LU for ``rows`` rows
    (in equal blocks of at least BLOCK_ROWS rows): numba imports (HJB_NUMBA read now, as for
    the compiled step) and there are enough rows."""
    return rows >= BATCHED_ROWS and numba_or_none() is not None and compiled_kernels() is not None


def analysis_bytes(rows: int, fill: float) -> float:
    """Memory of :func:`shared_pattern` on a block of ``rows`` rows with ``fill`` entries of
    L + U a row: its sets and dictionaries (about 250 bytes an entry) and the factorisation
    program of about 87e3 (rows / 625)^1.75 updates (measured on 25^2 and 41^2 blocks),
    16 bytes each."""
    updates = 87e3 * (rows / 625.0) ** 1.75
    return 16.0 * updates + 250.0 * rows * fill


def shares_one_pattern(csr: sp.csr_matrix, blocks: int) -> bool:
    """Whether the CSR matrix (indices sorted) is block diagonal with ``blocks`` blocks of one
    pattern (a rate that underflows to 0 drops its entry: then the patterns differ)."""
    size = csr.shape[0] // blocks
    if size * blocks != csr.shape[0]:
        return False
    lengths = np.diff(csr.indptr).reshape(blocks, size)
    if not np.array_equal(lengths, np.broadcast_to(lengths[0], lengths.shape)):
        return False
    per_block = int(lengths[0].sum())
    local = csr.indices.reshape(blocks, per_block) - (np.arange(blocks) * size)[:, None]
    return bool(np.array_equal(local, np.broadcast_to(local[0], local.shape)))


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
            raise ValueError(f"the matrix is not block diagonal with {blocks} blocks of one pattern")
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
