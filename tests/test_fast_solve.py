"""The factorisations of the implicit fast part (hjb.operators.fast_solve): LAPACK's
tridiagonal LU where the matrix is tridiagonal (one y-axis), SuperLU otherwise."""
import numpy as np
import pytest
import scipy.sparse as sp
import scipy.sparse.linalg as spla

import hjb
from hjb.operators.fast_solve import SparseLUFactors, TridiagonalFactors, bandwidth, factorize
from hjb.operators.generator import reflecting_generator
from hjb.solvers.eps_hjb import EpsHJBStep, product_nodes


def fast_matrix(model, n, a, scheme="fitted"):
    d = model.dim
    gx, gy = hjb.Grid.box(-3.0, 3.0, n), hjb.Grid.box(-3.0, 3.0, n, name="y")
    if d == 2:
        gx, gy = hjb.Grid.box([-3.0] * 2, [3.0] * 2, [n] * 2), hjb.Grid.box([-3.0] * 2, [3.0] * 2, [n] * 2, name="y")
    x, y = product_nodes(gx, gy)
    L = reflecting_generator(gx.shape + gy.shape, tuple(range(d, 2 * d)), gy.spacings, model.b(x, y), scheme)
    return sp.identity(L.shape[0], format="csr") - a * L


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
    rhs = np.random.default_rng(1).normal(size=A.shape[0])
    np.testing.assert_allclose(A @ factors.solve(rhs), rhs, atol=1e-10)


def test_the_eps_hjb_step_uses_the_tridiagonal_factors(quadratic_model):
    gx, gy = hjb.Grid.box(-2.0, 2.0, 21), hjb.Grid.box(-2.0, 2.0, 21, name="y")
    step = EpsHJBStep.build(quadratic_model, gx, gy, 1e-3, 0.01)
    assert isinstance(step.implicit, TridiagonalFactors)
