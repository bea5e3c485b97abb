"""The discrete invariant measure of the fast generator (SPEC section 3, route 3)."""
import numpy as np
import pytest

import hjb
from hjb import InputError, TwoScaleModel
from hjb.solvers.invariant import invariant_measure
from hjb.output.tables import observed_order

BOX = ([-4.0, -4.0], [4.0, 4.0])


def potential(y):
    """A non-quadratic confining V (so no scheme is exact on it)."""
    return 0.5 * y[..., 0] ** 2 + y[..., 1] ** 2 + 0.1 * y[..., 0] ** 4 + 0.3 * y[..., 0] * y[..., 1]


def grad_potential(y):
    return np.stack([y[..., 0] + 0.4 * y[..., 0] ** 3 + 0.3 * y[..., 1], 2 * y[..., 1] + 0.3 * y[..., 0]], -1)


def rotated_model(c, with_potential=False):
    """b = -grad V + c J grad V (J = rotation by 90 degrees): div(e^-V J grad V) = 0, so the
    invariant measure is exp(-V) for every c although b is not a gradient for c != 0."""
    def b(x, y):
        g = grad_potential(y)
        return -g + c * np.stack([-g[..., 1], g[..., 0]], -1)
    return TwoScaleModel(dim=2, phi=lambda x, y, u: -u * (x - y), b=b, g=lambda x: np.zeros(np.shape(x)[:-1]),
                         potential=(lambda y, x: potential(y)) if with_potential else None, gibbs_box=BOX)


@pytest.mark.parametrize("c", [0.0, 1.0, 3.0])
def test_rotated_drift_keeps_the_gibbs_measure(c):
    """L1 distance of pi to the normalised exp(-V) at the nodes falls at order 2 (3 refinements)."""
    model = rotated_model(c)
    points, errors = [41, 81, 161], []
    for m in points:
        mu = invariant_measure(model, [0.0, 0.0], points=m)
        assert np.all(mu.pi >= 0) and mu.pi.sum() == pytest.approx(1.0, abs=1e-13)
        rho = np.exp(-potential(mu.grid.nodes()))
        errors.append(np.sum(np.abs(mu.pi - rho / rho.sum())))
    steps = [8.0 / (m - 1) for m in points]
    assert observed_order(steps, errors) > 1.8
    assert errors[-1] < 2e-3


def test_invariant_vector_solves_the_balance_equations():
    from hjb.operators.generator import reflecting_generator
    model = rotated_model(2.0)
    mu = invariant_measure(model, [0.0, 0.0], points=61)
    drift = model.b(None, mu.grid.nodes())
    Q = reflecting_generator(mu.grid.shape, (0, 1), mu.grid.spacings, drift)
    flux_scale = np.abs(Q.T).dot(mu.pi.ravel())
    assert np.max(np.abs(Q.T @ mu.pi.ravel()) / flux_scale.max()) < 1e-12


def test_markov_hbar_for_a_non_gradient_drift_matches_quadrature_against_exp_minus_v():
    """H-bar = E_{exp(-V)}[H]: quadrature knows exp(-V) (given as the model's potential), the
    Markov route only sees the rotated drift; they agree within the grid error."""
    model = rotated_model(2.0, with_potential=True)
    x, p = [[0.5, -0.2], [-1.0, 0.3]], [[1.0, 0.4], [-0.3, 1.0]]
    quad = hjb.effective_hamiltonian(model, x, p, method="quadrature")
    markov = hjb.effective_hamiltonian(model, x, p, method="markov", points=161)
    assert np.max(np.abs(markov - quad)) < 1e-3


def test_markov_needs_a_box_without_potential_or_gibbs_box():
    model = TwoScaleModel(dim=1, phi=lambda x, y, u: -u * (x - y), b=lambda x, y: -y, g=lambda x: x[..., 0])
    with pytest.raises(InputError) as err:
        hjb.effective_hamiltonian(model, [0.0], [1.0], method="markov")
    assert err.value.key == "box"
    # with a box it works: b = -y has mu = N(0, 1), H = (x - y)^+ at x = 0, p = 1: E[Y^-] = 1/sqrt(2 pi)
    got = hjb.effective_hamiltonian(model, [0.0], [1.0], method="markov", box=(-9.0, 9.0))
    assert got[0] == pytest.approx(1 / np.sqrt(2 * np.pi), abs=1e-5)
