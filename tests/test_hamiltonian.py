import numpy as np
import pytest

import hjb
from hjb.operators.quadrature import gibbs_mean
from hjb.reference.quadratic import quadratic_hbar
from hjb.reference import quadratic


@pytest.mark.parametrize("gamma", [0.5, 2.0, 10.0])
def test_quadrature_hbar_matches_closed_form(gamma):
    a, c = 1.3, 0.4
    model = hjb.DeepRelaxation(hjb.make_loss("quadratic", a=a, c=c), gamma)
    x, p = np.meshgrid(np.linspace(-4, 4, 41), [-2.0, -0.3, 0.7, 1.5])
    x, p = x.ravel(), p.ravel()
    exact = quadratic_hbar(a, c, gamma, x[:, None], p[:, None])
    got = hjb.effective_hamiltonian(model, x, p)
    np.testing.assert_allclose(got, exact, rtol=1e-10, atol=1e-14)


def test_hbar_beats_every_constant_control():
    """H-bar(x, p) > gamma ((x - m(x)) p)^+ : constant controls lose (Jensen, strict for Gaussians)."""
    a, c, gamma = 1.0, 0.5, 2.0
    model = hjb.DeepRelaxation(hjb.make_loss("quadratic", a=a, c=c), gamma)
    x = np.linspace(-3, 3, 25)
    for p in (1.0, -1.0):
        hbar = hjb.effective_hamiltonian(model, x, np.full_like(x, p))
        constant = gamma * np.maximum((x - gibbs_mean(model, x)[:, 0]) * p, 0.0)
        assert np.all(hbar - constant > 1e-3)
    # and the mean m(x) itself is the Gaussian mean of SPEC section 9
    np.testing.assert_allclose(gibbs_mean(model, x)[:, 0], quadratic.gibbs_mean(a, c, gamma, x), rtol=1e-11,
                               atol=1e-14)


def test_quadrature_hbar_two_dimensions_small_case():
    a, c, gamma = 1.0, [0.5, -0.5], 2.0
    model = hjb.DeepRelaxation(hjb.make_loss("quadratic", dim=2, a=a, c=c), gamma)
    rng = np.random.default_rng(1)
    x, p = rng.uniform(-1, 1, (6, 2)), rng.uniform(-1, 1, (6, 2))
    np.testing.assert_allclose(hjb.effective_hamiltonian(model, x, p),
                               quadratic_hbar(a, np.array(c), gamma, x, p), rtol=1e-10)


def test_quadrature_is_stable_far_out():
    """Far from the loss minimum exp(-V) underflows without the shift; the average must stay finite."""
    model = hjb.DeepRelaxation(hjb.make_loss("quadratic", a=50.0, c=0.0), 1.0)
    x = np.array([40.0, -60.0])
    got = hjb.effective_hamiltonian(model, x, np.array([1.0, -1.0]))
    np.testing.assert_allclose(got, quadratic_hbar(50.0, 0.0, 1.0, x[:, None], np.array([[1.0], [-1.0]])),
                               rtol=1e-10)


def test_averaged_velocities_in_one_dimension_are_the_interval_ends(quadratic_model):
    x = np.linspace(-2, 2, 9)
    v = hjb.averaged_velocities(quadratic_model, x)[..., 0]
    hplus = hjb.effective_hamiltonian(quadratic_model, x, np.ones_like(x))
    hminus = hjb.effective_hamiltonian(quadratic_model, x, -np.ones_like(x))
    np.testing.assert_allclose(v.min(axis=1), -hplus, rtol=1e-12)
    np.testing.assert_allclose(v.max(axis=1), hminus, rtol=1e-12)


def test_general_model_hamiltonian_takes_the_max_over_controls():
    model = hjb.TwoScaleModel(dim=1, phi=lambda x, y, u: u * (y - x), b=lambda x, y: -y,
                              g=lambda x: x[..., 0] ** 2, controls=(-1.0, 2.0))
    x, y, p = np.array([[0.0]]), np.array([[1.0]]), np.array([[1.0]])
    # -phi . p = -u (y - x) p = -u over u in [-1, 2]: max at u = -1
    assert model.hamiltonian(x, y, p)[0] == 1.0
    assert model.active_control(x, y, p)[0] == -1.0


def test_bad_method_is_named(quadratic_model):
    with pytest.raises(hjb.InputError, match="^method: unknown method"):
        hjb.effective_hamiltonian(quadratic_model, [0.0], [1.0], method="magic")
