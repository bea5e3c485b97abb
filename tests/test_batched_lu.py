"""One symbolic LU for many blocks of one pattern (hjb.operators.batched_lu): the eps-HJB fast
matrix with two y-axes solved as SuperLU solves it, the compiled kernels bit for bit the numpy
ones, an M-matrix's solve monotone and keeping constants, and the factors' memory."""
import numpy as np
import pytest
import scipy.sparse.linalg as spla

import hjb
from hjb.operators import batched_lu, thomas
from hjb.operators.batched_lu import BatchedSparseLU
from hjb.operators.lu_pattern import shared_pattern
from hjb.operators.fast_solve import BlockLUFactors, factorize
from hjb.solvers import product_grid


def fast_matrix(n_x, n_y, a):
    """I - a L_y for wide_narrow in d = 2 (gamma 5): n_x^2 blocks of n_y^2 rows, whose values
    differ with x (the drift pulls y towards x)."""
    model = hjb.DeepRelaxation(hjb.make_loss("wide_narrow", dim=2), gamma=5.0)
    gx = hjb.Grid.box([-3.0] * 2, [3.0] * 2, [n_x] * 2)
    gy = hjb.Grid.box([-3.0] * 2, [3.0] * 2, [n_y, n_y + 2], name="y")
    return product_grid.fast_matrix(model, gx, gy, a).tocsr(), gx.size


@pytest.mark.parametrize("a", [1e-2, 1.0, 1e4])
def test_the_batched_factors_solve_like_superlu(a):
    A, blocks = fast_matrix(3, 9, a)
    factors = BatchedSparseLU.of(A, blocks, accelerate=False)
    rhs = np.random.default_rng(1).normal(size=(A.shape[0], 2))
    mine, superlu = factors.solve(rhs), spla.splu(A.tocsc()).solve(rhs)
    assert np.max(np.abs(mine - superlu)) <= 1e-13 * max(1.0, a) * np.max(np.abs(superlu))
    np.testing.assert_allclose(factors.solve(rhs[:, 0]), mine[:, 0], rtol=0, atol=0)


@pytest.mark.parametrize("n_y", [5, 8])
def test_the_pattern_is_the_fill_of_elimination(n_y):
    """The symbolic LU holds exactly the entries that Gaussian elimination of the permuted
    pattern fills (a dense boolean elimination), the diagonal in each row."""
    A, blocks = fast_matrix(3, n_y, 1.0)
    size = A.shape[0] // blocks
    pattern = shared_pattern(A[:size, :size])
    order = pattern.order.astype(np.int64)
    filled = (A[:size, :size].toarray() != 0)[np.ix_(order, order)]
    filled |= filled.T
    for k in range(size):
        below, right = np.flatnonzero(filled[k + 1:, k]) + k + 1, np.flatnonzero(filled[k, k + 1:]) + k + 1
        filled[np.ix_(below, right)] = True
    rows = np.repeat(np.arange(size), np.diff(pattern.start.astype(np.int64)))
    mine = np.zeros((size, size), dtype=bool)
    mine[rows, pattern.column.astype(np.int64)] = True
    np.testing.assert_array_equal(mine, filled)
    np.testing.assert_array_equal(pattern.column[pattern.diagonal], np.arange(size))


@pytest.mark.parametrize("columns", [1, 2, 3, 4, 7])
def test_the_numba_kernels_are_the_numpy_kernels_bit_for_bit(columns):
    pytest.importorskip("numba")
    A, blocks = fast_matrix(3, 9, 50.0)
    plain = BatchedSparseLU.of(A, blocks, accelerate=False)
    compiled = BatchedSparseLU.of(A, blocks, accelerate=True)
    np.testing.assert_array_equal(compiled.values, plain.values)
    rhs = np.random.default_rng(columns).normal(size=(A.shape[0], columns))
    np.testing.assert_array_equal(compiled.solve(rhs), plain.solve(rhs))


def test_the_solve_is_monotone_and_keeps_constants():
    """An M-matrix: a non-negative right-hand side gives a non-negative solution (up to
    rounding), and (I - a L) 1 = 1."""
    A, blocks = fast_matrix(3, 9, 200.0)
    factors = BatchedSparseLU.of(A, blocks, accelerate=False)
    rng = np.random.default_rng(3)
    for _ in range(3):
        rhs = rng.random(A.shape[0]) * (rng.random(A.shape[0]) < 0.05)
        assert factors.solve(rhs).min() >= -1e-12 * rhs.max()
    np.testing.assert_allclose(factors.solve(np.full(A.shape[0], 2.0)), 2.0, rtol=1e-11)


def test_the_factors_keep_only_values():
    """8 bytes an entry of L + U a block against SuperLU's supernodal storage."""
    A, blocks = fast_matrix(3, 23, 10.0)
    factors = BatchedSparseLU.of(A, blocks, accelerate=False)
    superlu = BlockLUFactors.of(A, blocks)
    assert factors.values.nbytes == 8 * blocks * factors.pattern.entries
    entries = sum(lu.L.nnz + lu.U.nnz for lu in superlu.blocks)
    assert 0.8 < factors.values.size / entries < 1.2          # about SuperLU's fill


def test_matrices_without_one_block_pattern_are_refused():
    A, blocks = fast_matrix(3, 8, 1.0)
    size = A.shape[0] // blocks
    coupled = A.tolil()
    coupled[0, size] = -0.1                                    # couples block 0 to block 1
    with pytest.raises(ValueError, match="one pattern"):
        BatchedSparseLU.of(coupled.tocsr(), blocks)
    different = A.tolil()
    different[size, size + 5] = -0.1                           # block 1 has an extra entry
    with pytest.raises(ValueError, match="one pattern"):
        BatchedSparseLU.of(different.tocsr(), blocks)
    with pytest.raises(ValueError, match="equal blocks"):
        BatchedSparseLU.of(A, 7)                           # 720 rows


def test_the_batched_lu_is_chosen_by_the_rows(monkeypatch):
    """Small matrices stay with SuperLU block by block (importing numba would cost more)."""
    pytest.importorskip("numba")
    A, blocks = fast_matrix(3, 23, 1.0)
    assert isinstance(factorize(A, blocks=blocks), BlockLUFactors)                # 4761 rows
    monkeypatch.setattr(batched_lu, "BATCHED_ROWS", A.shape[0])
    assert isinstance(factorize(A, blocks=blocks), BatchedSparseLU)


def test_blocks_whose_patterns_differ_go_to_superlu(monkeypatch):
    """A rate that underflows to 0 drops its entry from one block: the patterns differ, so
    factorize falls back to SuperLU block by block (the batched LU refuses them)."""
    A, blocks = fast_matrix(3, 23, 1.0)
    size = A.shape[0] // blocks
    A = A.tolil()
    A[size, size + 1] = 0.0                                     # block 1 loses an entry
    A = A.tocsr()
    A.eliminate_zeros()
    monkeypatch.setattr(batched_lu, "BATCHED_ROWS", 0)
    assert isinstance(factorize(A, blocks=blocks), BlockLUFactors)
    with pytest.raises(ValueError, match="one pattern"):
        BatchedSparseLU.of(A, blocks)


def test_the_callers_matrix_is_left_unsorted():
    A, blocks = fast_matrix(3, 8, 1.0)
    shuffled = A.copy()
    shuffled.indices[:2], shuffled.data[:2] = shuffled.indices[1::-1].copy(), shuffled.data[1::-1].copy()
    shuffled.has_sorted_indices = False
    before = shuffled.indices.copy()
    BatchedSparseLU.of(shuffled, blocks, accelerate=False)
    np.testing.assert_array_equal(shuffled.indices, before)


def test_without_numba_the_blocks_go_to_superlu(monkeypatch):
    monkeypatch.setenv("HJB_NUMBA", "0")
    caches = (batched_lu.compiled_kernels, thomas.compiled_kernel)
    for cache in caches:
        cache.cache_clear()
    try:
        A, blocks = fast_matrix(3, 23, 1.0)
        monkeypatch.setattr(batched_lu, "BATCHED_ROWS", 0)
        assert isinstance(factorize(A, blocks=blocks), BlockLUFactors)
        with pytest.raises(ImportError, match="numba"):
            BatchedSparseLU.of(A, blocks, accelerate=True)
    finally:
        monkeypatch.delenv("HJB_NUMBA")
        for cache in caches:
            cache.cache_clear()
