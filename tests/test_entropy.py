"""Local entropy and Cole-Hopf (SPEC sections 5 and 9) against closed forms and independent quadrature."""
import numpy as np
import pytest
from scipy.integrate import quad

from hjb import Grid, InputError, make_loss
from hjb.entropy import cole_hopf, cole_hopf_grid, local_entropy
from hjb.reference.quadratic import quadratic_cole_hopf
from hjb.model import DeepRelaxation
from hjb.operators.quadrature import gibbs_mean

A, C = 1.3, 0.5


def quadratic_entropy(x, gamma, d=1):
    """F(x, gamma) for f = A/2 |y - C|^2: a Gaussian integral."""
    x = np.asarray(x, float)
    return (-A * gamma / (2 * (A + gamma)) * np.sum((x - C) ** 2, axis=-1)
            + 0.5 * d * np.log(2 * np.pi / (A + gamma)))


@pytest.mark.parametrize("beta", [0.1, 1.0, 10.0, 1000.0])
@pytest.mark.parametrize("t", [0.01, 1.0, 5.0])
def test_cole_hopf_quadratic_closed_form_every_beta(beta, t):
    loss = make_loss("quadratic", 1, a=A, c=C)
    x = np.linspace(-6, 6, 25)
    u = cole_hopf(loss, beta, x, t)
    assert np.all(np.isfinite(u))
    np.testing.assert_allclose(u, quadratic_cole_hopf(A, C, beta, x[:, None], t), rtol=0, atol=1e-10)


def test_cole_hopf_quadratic_closed_form_2d():
    loss = make_loss("quadratic", 2, a=A, c=[C, -C])
    x = np.random.default_rng(0).uniform(-2, 2, (7, 2))
    for beta in (0.5, 4.0):
        np.testing.assert_allclose(cole_hopf(loss, beta, x, 0.7),
                                   quadratic_cole_hopf(A, np.array([C, -C]), beta, x, 0.7), atol=1e-10)


def test_identity_between_local_entropy_and_cole_hopf_closed_forms():
    """u(x, 1/gamma) = -F(x, gamma) + (d/2) log(2 pi/gamma) at beta = 1, checked on the two closed forms
    and on the computed values."""
    loss = make_loss("quadratic", 1, a=A, c=C)
    x = np.linspace(-3, 3, 13)
    for gamma in (0.5, 2.0, 20.0):
        exact_u = quadratic_cole_hopf(A, C, 1.0, x[:, None], 1 / gamma)
        np.testing.assert_allclose(exact_u, -quadratic_entropy(x[:, None], gamma) + 0.5 * np.log(2 * np.pi / gamma),
                                   atol=1e-13)
        F, _ = local_entropy(loss, gamma, x)
        np.testing.assert_allclose(F, quadratic_entropy(x[:, None], gamma), atol=1e-11)
        np.testing.assert_allclose(cole_hopf(loss, 1.0, x, 1 / gamma), -F + 0.5 * np.log(2 * np.pi / gamma), atol=1e-12)


def test_local_entropy_against_adaptive_quadrature_and_gibbs_mean():
    """A non-Gaussian loss: F against scipy's adaptive quad, grad F = -gamma (x - m) against the
    Gibbs-mean module and against a finite difference of F."""
    loss = make_loss("wide_narrow", 1)
    gamma = 5.0
    x = np.array([-2.0, -0.3, 0.9, 1.5, 2.4])
    F, dF = local_entropy(loss, gamma, x)
    for xi, Fi in zip(x, F):
        shift = loss.value(np.array([[xi]]))[0]
        val, _ = quad(lambda y: np.exp(-(loss.value(np.array([[y]]))[0] - shift) - gamma / 2 * (xi - y) ** 2),
                      xi - 8, xi + 8, points=[1.5, -1.5], limit=400, epsabs=0, epsrel=1e-12)
        assert abs(Fi - (np.log(val) - shift)) < 1e-9
    with pytest.warns(Warning):
        model = DeepRelaxation(loss, gamma)
    np.testing.assert_allclose(dF[:, 0], -gamma * (x - gibbs_mean(model, x)[:, 0]), atol=1e-8)
    h = 1e-5
    fd = (local_entropy(loss, gamma, x + h)[0] - local_entropy(loss, gamma, x - h)[0]) / (2 * h)
    np.testing.assert_allclose(dF[:, 0], fd, atol=1e-6)


def test_grid_routes_fft_and_logsumexp_agree_with_closed_form():
    """On a box wide enough that the kernel's mass outside is negligible, both grid routes
    reproduce the closed form; in 2-D too."""
    loss = make_loss("quadratic", 1, a=A, c=C)
    grid = Grid.box(-6, 6, 601)
    inner = np.abs(grid.nodes()[..., 0]) <= 2
    for beta in (1.0, 5.0):
        exact = quadratic_cole_hopf(A, C, beta, grid.nodes(), 0.5)
        for method in ("fft", "logsumexp"):
            u = cole_hopf_grid(loss, beta, grid, 0.5, method)
            assert np.max(np.abs(u - exact)[inner]) < 1e-9
    loss2 = make_loss("quadratic", 2, a=A, c=[C, -C])
    grid2 = Grid.box([-5, -5], [5, 5], [81, 81])
    inner2 = np.all(np.abs(grid2.nodes()) <= 1.5, axis=-1)
    exact2 = quadratic_cole_hopf(A, np.array([C, -C]), 2.0, grid2.nodes(), 0.5)
    for method in ("fft", "logsumexp"):
        assert np.max(np.abs(cole_hopf_grid(loss2, 2.0, grid2, 0.5, method) - exact2)[inner2]) < 1e-8


def test_grid_route_stable_at_beta_1000_where_fft_is_not():
    """At beta = 1000 exp(-beta f) spans e^-6000: the log-domain route stays exact, FFT round-off
    does not (which is why 'auto' switches), and nothing is infinite."""
    loss = make_loss("quadratic", 1, a=A, c=C)
    grid = Grid.box(-3, 3, 601)
    exact = quadratic_cole_hopf(A, C, 1000.0, grid.nodes(), 0.5)
    inner = np.abs(grid.nodes()[..., 0]) <= 2
    auto = cole_hopf_grid(loss, 1000.0, grid, 0.5)
    assert np.all(np.isfinite(auto))
    assert np.max(np.abs(auto - exact)[inner]) < 1e-8
    fft = cole_hopf_grid(loss, 1000.0, grid, 0.5, "fft")
    assert np.max(np.abs(fft - exact)[inner]) > 1e-3


@pytest.mark.parametrize("beta,t,key", [(0.0, 1.0, "beta"), (-1.0, 1.0, "beta"),
                                        (1.0, -0.5, "t")])
def test_bad_input_names_the_key(beta, t, key):
    loss = make_loss("quadratic", 1)
    with pytest.raises(InputError) as err:
        cole_hopf(loss, beta, [0.0], t)
    assert err.value.key == key
