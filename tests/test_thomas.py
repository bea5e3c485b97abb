"""The batched Thomas algorithm of the eps-HJB fast part (hjb.operators.thomas): it solves
every x-block like SuperLU, with one or several right-hand sides, and its optional numba
kernel gives the numpy kernel's numbers bit for bit."""
import numpy as np
import pytest
import scipy.sparse.linalg as spla

import hjb
from hjb.operators import thomas
from hjb.operators.fast_solve import factorize
from hjb.operators.thomas import BatchedTridiagonalFactors
from hjb.solvers import product_grid



def fast_matrix(n_x, n_y, a):
    """I - a L_y of wide_narrow (gamma 5) on n_x x-nodes and n_y y-nodes: n_x tridiagonal blocks."""
    model = hjb.DeepRelaxation(hjb.make_loss("wide_narrow"), gamma=5.0)
    gx, gy = hjb.Grid.box(-4.0, 4.0, n_x), hjb.Grid.box(-4.0, 4.0, n_y, name="y")
    return product_grid.fast_matrix(model, gx, gy, a).tocsr()


@pytest.mark.parametrize("a", [1e-2, 1.0, 1e3, 1e6])
def test_the_numpy_kernel_solves_like_superlu(a):
    A = fast_matrix(13, 37, a)
    factors = BatchedTridiagonalFactors.of(A, 13, accelerate=False)
    rng = np.random.default_rng(5)
    rhs = rng.normal(size=(A.shape[0], 3))
    superlu = spla.splu(A.tocsc()).solve(rhs)
    mine = factors.solve(rhs)
    assert mine.shape == rhs.shape
    assert np.max(np.abs(mine - superlu)) <= 1e-13 * max(1.0, a) * np.max(np.abs(superlu))
    np.testing.assert_array_equal(factors.solve(rhs[:, 1]), mine[:, 1])      # one column = that column


def test_the_solve_is_monotone_and_keeps_constants():
    A = fast_matrix(9, 41, 500.0)
    factors = BatchedTridiagonalFactors.of(A, 9, accelerate=False)
    rng = np.random.default_rng(11)
    for _ in range(5):
        rhs = rng.random(A.shape[0]) * (rng.random(A.shape[0]) < 0.1)
        assert factors.solve(rhs).min() >= -1e-12 * rhs.max()
    np.testing.assert_allclose(factors.solve(np.full(A.shape[0], 3.0)), 3.0, rtol=1e-11)


@pytest.mark.parametrize("columns", [1, 3, 6])
def test_the_numba_kernel_is_the_numpy_kernel_bit_for_bit(columns):
    pytest.importorskip("numba")
    A = fast_matrix(17, 29, 300.0)
    plain = BatchedTridiagonalFactors.of(A, 17, accelerate=False)
    compiled = BatchedTridiagonalFactors.of(A, 17, accelerate=True)
    assert compiled.accelerated and not plain.accelerated
    rhs = np.random.default_rng(columns).normal(size=(A.shape[0], columns))
    np.testing.assert_array_equal(compiled.solve(rhs), plain.solve(rhs))
    np.testing.assert_array_equal(compiled.solve(rhs[:, 0]), plain.solve(rhs[:, 0]))


def test_hjb_numba_0_switches_the_kernel_off(monkeypatch):
    monkeypatch.setenv("HJB_NUMBA", "0")
    thomas.compiled_kernel.cache_clear()
    try:
        assert thomas.compiled_kernel() is None
        A = fast_matrix(5, 7, 1.0)
        assert not BatchedTridiagonalFactors.of(A, 5, solves=10**9).accelerated
        with pytest.raises(ImportError, match="numba"):
            BatchedTridiagonalFactors.of(A, 5, accelerate=True)
    finally:
        monkeypatch.delenv("HJB_NUMBA")
        thomas.compiled_kernel.cache_clear()


def test_the_kernel_is_chosen_by_the_work_ahead():
    pytest.importorskip("numba")
    A = fast_matrix(5, 7, 1.0)
    assert not BatchedTridiagonalFactors.of(A, 5).accelerated                      # 35 rows, one solve
    assert BatchedTridiagonalFactors.of(A, 5, solves=int(thomas.ACCELERATE_ROW_SOLVES)).accelerated
    assert factorize(A, blocks=5, solves=int(thomas.ACCELERATE_ROW_SOLVES)).accelerated


def test_blocks_that_are_coupled_or_unequal_are_refused():
    A = fast_matrix(4, 6, 1.0).tolil()
    A[5, 6] = -0.1                                                 # couples block 0 to block 1
    with pytest.raises(ValueError, match="couples"):
        BatchedTridiagonalFactors.of(A.tocsr(), 4)
    with pytest.raises(ValueError, match="equal blocks"):
        BatchedTridiagonalFactors.of(fast_matrix(4, 6, 1.0), 5)
