"""The symbolic LU of one sparse block pattern, shared by many blocks
(:mod:`hjb.operators.batched_lu` runs it on each block's values).

* the ordering: SuperLU's minimum degree on A + A^T of the pattern, applied symmetrically
  (P A P^T: an M-matrix stays one, its diagonal the pivots);
* the fill: the elimination tree of the symmetric pattern gives the pattern of L (= that of
  U^T), row by row in the new numbering;
* the program of the numeric factorisation (row i, Doolittle, no pivoting):

      for k in L-pattern(i), ascending:  l_ik = w_k / u_kk;  w_j -= l_ik u_kj  (j in U-pattern(k))

  as flat arrays of positions (unsigned, 4 bytes each).
"""
from __future__ import annotations

from array import array
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp


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


class PatternsDiffer(ValueError):
    """The blocks of a block-diagonal matrix do not share one pattern."""


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


def analysis_bytes(rows: int, fill: float) -> float:
    """Memory of :func:`shared_pattern` on a block of ``rows`` rows with ``fill`` entries of
    L + U a row: its sets and dictionaries (about 250 bytes an entry) and the factorisation
    program of about 87e3 (rows / 625)^1.75 updates (measured on 25^2 and 41^2 blocks),
    16 bytes each."""
    updates = 87e3 * (rows / 625.0) ** 1.75
    return 16.0 * updates + 250.0 * rows * fill
