"""The fast generator: Markov-chain structure, M-matrix property, accuracy of its invariant measure."""
import numpy as np
import pytest
import scipy.sparse as sp

import hjb
from hjb.hbar.markov import hbar_markov
from hjb.operators.generator import bernoulli, reflecting_generator
from hjb.output.tables import observed_order


def _drift(shape, rng):
    return rng.normal(scale=30.0, size=shape)


@pytest.mark.parametrize("scheme", ["fitted", "upwind"])
@pytest.mark.parametrize("shape,axes", [((7, 9), (1,)), ((4, 6, 5), (1, 2)), ((11,), (0,))])
def test_generator_is_a_markov_generator(scheme, shape, axes):
    rng = np.random.default_rng(3)
    drift = _drift(shape + (len(axes),), rng)
    L = reflecting_generator(shape, axes, [0.1] * len(axes), drift, scheme)
    off = L - sp.diags(L.diagonal())
    assert off.min() >= 0.0                                   # jump rates are non-negative
    np.testing.assert_allclose(np.asarray(L.sum(axis=1)).ravel(), 0.0, atol=1e-9)  # reflecting walls
    # I - tau L: positive diagonal, non-positive off-diagonals, strict diagonal dominance
    A = (sp.identity(L.shape[0]) - 5.0 * L).tocsr()
    diag = A.diagonal()
    offsum = np.asarray(abs(A - sp.diags(diag)).sum(axis=1)).ravel()
    assert np.all(diag > 0) and (A - sp.diags(diag)).max() <= 0.0
    assert np.all(diag - offsum > 1 - 1e-9)
    inverse = np.linalg.inv(A.toarray())
    assert inverse.min() >= -1e-12                            # monotone: non-negative inverse


def test_leading_axes_make_the_matrix_block_diagonal():
    rng = np.random.default_rng(4)
    drift = _drift((5, 8, 1), rng)
    L = reflecting_generator((5, 8), (1,), [0.2], drift).tocoo()
    assert np.all(L.row // 8 == L.col // 8)


def test_bernoulli_is_finite_and_positive():
    z = np.array([-800.0, -30.0, -1e-14, 0.0, 1e-14, 30.0, 800.0])
    B = bernoulli(z)
    assert np.all(np.isfinite(B)) and np.all(B >= 0.0)
    np.testing.assert_allclose(B[3], 1.0)
    np.testing.assert_allclose(bernoulli(-z) - B, z, rtol=1e-12, atol=1e-12)  # B(-z) - B(z) = z


def _invariant_hbar(model, x, n, scheme):
    """H-bar(x, 1) by the discrete invariant measure of the generator on the y-box [-5, 5]."""
    return hbar_markov(model, [x], [1.0], box=(-5.0, 5.0), points=n, scheme=scheme)[0]


@pytest.mark.parametrize("scheme,order", [("fitted", 2.0), ("upwind", 1.0)])
def test_invariant_measure_of_the_scheme_converges_at_its_order(scheme, order):
    """H-bar from the discrete invariant measure of L_y against quadrature: order 2 (fitted), 1 (upwind)."""
    model = hjb.DeepRelaxation(hjb.make_loss("wide_narrow"), 5.0)
    exact = hjb.effective_hamiltonian(model, [0.8], [1.0])[0]
    sizes = [201, 401, 801]
    errors = [abs(_invariant_hbar(model, 0.8, n, scheme) - exact) for n in sizes]
    h = [10.0 / (n - 1) for n in sizes]
    assert observed_order(h, errors) == pytest.approx(order, abs=0.25)
