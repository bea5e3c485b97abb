"""The factorisations of the implicit fast part (hjb.operators.fast_solve): the batched Thomas
algorithm where the matrix is tridiagonal by blocks (one y-axis: tests/test_thomas.py), LAPACK's
tridiagonal LU where it is tridiagonal otherwise, SuperLU block by block where
the caller says it is block diagonal (two y-axes), SuperLU of the whole otherwise."""
import numpy as np
import pytest
import scipy.sparse as sp
import scipy.sparse.linalg as spla

import hjb
from hjb.operators.fast_solve import (BlockLUFactors, SparseLUFactors, TridiagonalFactors, bandwidth, factorize,
                                      mmd_fill, uses_blocks)
from hjb.operators.thomas import BatchedTridiagonalFactors
from hjb.solvers.eps_hjb import EpsHJBStep
from hjb.solvers import product_grid


def fast_matrix(model, n, a, scheme="fitted"):
    d = model.dim
    gx, gy = hjb.Grid.box([-3.0] * d, [3.0] * d, [n] * d), hjb.Grid.box([-3.0] * d, [3.0] * d, [n] * d, name="y")
    return product_grid.fast_matrix(model, gx, gy, a, scheme)


@pytest.mark.parametrize("a", [1e-2, 1.0, 1e3, 1e6])
@pytest.mark.parametrize("scheme", ["fitted", "upwind"])
def test_the_tridiagonal_factors_solve_like_superlu(a, scheme):
    """The eps-HJB fast matrix with one y-axis (wide_narrow, gamma 5; a = dt/eps up to 1e6):
    tridiagonal, so LAPACK's factors are used, and they agree with SuperLU to rounding
    (relative to the conditioning, which grows like a)."""
    model = hjb.DeepRelaxation(hjb.make_loss("wide_narrow"), gamma=5.0)
    A = fast_matrix(model, 61, a, scheme)
    factors = factorize(A)
    assert isinstance(factors, TridiagonalFactors) and bandwidth(A) == 1
    rhs = np.random.default_rng(7).normal(size=A.shape[0])
    mine, superlu = factors.solve(rhs), spla.splu(A.tocsc()).solve(rhs)
    assert np.max(np.abs(mine - superlu)) <= 1e-13 * max(1.0, a) * np.max(np.abs(superlu))
    assert np.max(np.abs(A @ mine - rhs)) <= 1e-10 * np.max(np.abs(rhs)) * max(1.0, a) ** 0.5


def test_the_tridiagonal_solve_is_monotone_and_keeps_constants():
    """(I - aL)^{-1} of an M-matrix: non-negative data give a non-negative solution, and
    constants are kept (rows of L sum to zero)."""
    model = hjb.DeepRelaxation(hjb.make_loss("wide_narrow"), gamma=5.0)
    factors = factorize(fast_matrix(model, 41, 500.0))
    rng = np.random.default_rng(11)
    for _ in range(5):
        rhs = rng.random(41 * 41) * (rng.random(41 * 41) < 0.1)
        assert factors.solve(rhs).min() >= -1e-12 * rhs.max()
    np.testing.assert_allclose(factors.solve(np.full(41 * 41, 3.0)), 3.0, rtol=1e-11)


def test_two_y_axes_go_to_superlu():
    model = hjb.DeepRelaxation(hjb.make_loss("quadratic", dim=2, a=1.0, c=[0.5, 0.0]), gamma=2.0)
    A = fast_matrix(model, 7, 10.0)
    factors = factorize(A)
    assert isinstance(factors, SparseLUFactors) and bandwidth(A) > 1
    assert isinstance(factorize(A, blocks=49), SparseLUFactors)       # 49-row blocks: below BLOCK_ROWS
    rhs = np.random.default_rng(1).normal(size=A.shape[0])
    np.testing.assert_allclose(A @ factors.solve(rhs), rhs, atol=1e-10)


@pytest.mark.parametrize("a", [1.0, 1e3, 1e6])
def test_the_block_factors_solve_like_superlu_of_the_whole(a):
    """Two y-axes, one 9x9 block per x-node (wide_narrow in d = 2, gamma 5): block by block
    with minimum degree and diagonal pivots gives SuperLU's solution of the whole matrix,
    is monotone and keeps constants, and fills about mmd_fill entries a row."""
    model = hjb.DeepRelaxation(hjb.make_loss("wide_narrow", dim=2, wide_center=[-1.5, 0.0],
                                             narrow_center=[1.5, 0.0], narrow_width=0.3), gamma=5.0)
    A = fast_matrix(model, 9, a)
    factors = BlockLUFactors.of(A, 81)
    assert len(factors.blocks) == 81 and factors.size == 81
    rng = np.random.default_rng(3)
    rhs = rng.normal(size=A.shape[0])
    whole = spla.splu(A.tocsc()).solve(rhs)
    assert np.max(np.abs(factors.solve(rhs) - whole)) <= 1e-13 * max(1.0, a) * np.max(np.abs(whole))
    positive = rng.random(A.shape[0]) * (rng.random(A.shape[0]) < 0.1)
    assert factors.solve(positive).min() >= -1e-12 * positive.max()
    # constants to rounding times the conditioning, which grows like a (measured 7e-10 at 1e6)
    np.testing.assert_allclose(factors.solve(np.full(A.shape[0], 2.0)), 2.0, rtol=1e-14 * max(1.0, a))
    fill = np.mean([lu.L.nnz + lu.U.nnz for lu in factors.blocks]) / 81
    assert 0.7 * mmd_fill(81) <= fill <= 1.3 * mmd_fill(81)
    # the M-matrix options: symmetric ordering, diagonal pivots (no row swaps), and less fill
    # than SuperLU's default on the same block
    default = spla.splu(A[:81, :81].tocsc())
    assert all(np.array_equal(lu.perm_r, lu.perm_c) for lu in factors.blocks)
    assert factors.blocks[0].L.nnz + factors.blocks[0].U.nnz < default.L.nnz + default.U.nnz


def test_block_factors_refuse_a_matrix_that_is_not_block_diagonal():
    A = sp.diags([np.full(11, -1.0), np.full(12, 3.0), np.full(11, -1.0)], [-1, 0, 1], format="csr")
    for row, col in ((0, 5), (5, 0)):                                   # above and below the blocks
        with pytest.raises(ValueError, match="not block diagonal"):
            BlockLUFactors.of(A + sp.csr_matrix(([1.0], ([row], [col])), shape=(12, 12)), 4)
    with pytest.raises(ValueError, match="equal blocks"):
        BlockLUFactors.of(A, 5)


def test_the_eps_hjb_step_in_d2_factorises_large_blocks_one_by_one():
    model = hjb.DeepRelaxation(hjb.make_loss("quadratic", dim=2, a=1.0, c=[0.5, 0.0]), gamma=2.0)
    gx = hjb.Grid.box([-2.0] * 2, [2.0] * 2, [3, 3])
    for n, kind in ((23, BlockLUFactors), (21, SparseLUFactors)):        # 529 and 441 rows a block
        gy = hjb.Grid.box([-2.0] * 2, [2.0] * 2, [n, n], name="y")
        step = EpsHJBStep.build(model, gx, gy, 1e-3, 0.01)
        assert isinstance(step.implicit, kind) and uses_blocks(9 * n * n, 9) == (kind is BlockLUFactors)
    assert len(step.implicit.lu.perm_r) == 9 * 21 * 21


def test_the_eps_hjb_step_uses_the_batched_tridiagonal_factors(quadratic_model):
    """One y-axis: the x-blocks are tridiagonal, solved all at once (hjb.operators.thomas);
    LAPACK's factors stay for a tridiagonal matrix the caller does not split into blocks."""
    gx, gy = hjb.Grid.box(-2.0, 2.0, 21), hjb.Grid.box(-2.0, 2.0, 21, name="y")
    step = EpsHJBStep.build(quadratic_model, gx, gy, 1e-3, 0.01)
    assert isinstance(step.implicit, BatchedTridiagonalFactors)
    assert isinstance(factorize(fast_matrix(quadratic_model, 21, 10.0)), TridiagonalFactors)
