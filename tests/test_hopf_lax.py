"""Hopf-Lax / Moreau envelope, prox, the Godunov scheme for beta = inf, and the vanishing-viscosity limit."""
import os

import numpy as np
import pytest

import hjb
from hjb import Grid, InputError, make_loss
from hjb.entropy import cole_hopf
from hjb.solvers.hopf_lax import godunov_hopf_lax, moreau_envelope
from hjb.reference.quadratic import quadratic_prox
from hjb.output.tables import observed_order


def test_quadratic_envelope_and_prox_closed_form_1d_2d():
    for d, c in ((1, 0.5), (2, np.array([0.5, -1.0]))):
        loss = make_loss("quadratic", d, a=1.7, c=c)
        x = np.random.default_rng(d).uniform(-3, 3, (15, d))
        for t in (0.05, 0.8, 3.0):
            env = moreau_envelope(loss, x, t)
            np.testing.assert_allclose(env.value, 1.7 * np.sum((x - c) ** 2, -1) / (2 * (1 + 1.7 * t)), atol=1e-12)
            np.testing.assert_allclose(env.prox, quadratic_prox(1.7, c, x, t), atol=1e-7)


def test_envelope_is_the_minimum():
    """No sampled y does better than the envelope, and the prox attains it."""
    loss = make_loss("rugged", 1)
    x = np.linspace(-3, 3, 41)
    t = 0.4
    env = moreau_envelope(loss, x, t)
    y = np.linspace(-6, 6, 20001)
    brute = np.min(loss.value(y[None, :, None]) + (x[:, None] - y[None, :]) ** 2 / (2 * t), axis=1)
    assert np.all(env.value <= brute + 1e-12)
    assert np.max(brute - env.value) < 1e-5          # grid spacing 6e-4: the brute force is O(h^2) above
    np.testing.assert_allclose(loss.value(env.prox) + np.sum((x[:, None] - env.prox) ** 2, -1) / (2 * t),
                               env.value, atol=1e-14)


def test_gradient_is_x_minus_prox_over_t():
    """grad u = (x - prox)/t against central differences of u, away from the kinks (where prox jumps)."""
    loss = make_loss("rugged", 1)
    t, h = 0.3, 1e-5
    x = np.linspace(-2.5, 2.5, 201)
    env = moreau_envelope(loss, x, t)
    fd = (moreau_envelope(loss, x + h, t).value - moreau_envelope(loss, x - h, t).value) / (2 * h)
    smooth = np.abs(moreau_envelope(loss, x + h, t).prox[:, 0] - moreau_envelope(loss, x - h, t).prox[:, 0]) < 1e-3
    assert smooth.sum() > 190
    assert np.max(np.abs(np.diff(env.prox[:, 0]))) > 0.1       # the rugged loss has kinks at this t
    np.testing.assert_allclose(env.gradient[smooth, 0], fd[smooth], atol=1e-5)
    # semiconcavity: u(x) - |x|^2/(2t) is concave, i.e. D^2 u <= 1/t
    u = env.value
    dx = x[1] - x[0]
    assert np.max(np.diff(u, 2) / dx**2) <= 1 / t + 1e-6


@pytest.mark.parametrize("name,t", [("quadratic", 1.0), ("rugged", 0.3)])
def test_godunov_first_order_against_exact_envelope(name, t):
    loss = make_loss(name, 1, **({"a": 1.0, "c": 0.5} if name == "quadratic" else {}))
    sizes, errors = [], []
    for n in (151, 301, 601, 1201):
        grid = Grid.box(-3, 3, n)
        inner = np.abs(grid.nodes()[:, 0]) <= 2
        sol = godunov_hopf_lax(loss, grid, t, scheme="monotone")
        exact = moreau_envelope(loss, grid.nodes()[inner], t).value
        errors.append(float(np.max(np.abs(sol.value[inner] - exact))))
        sizes.append(grid.spacings[0])
    assert 0.85 < observed_order(sizes, errors) < 1.15


def test_godunov_2d_against_exact_envelope():
    c = np.array([0.5, -0.5])
    loss = make_loss("quadratic", 2, a=1.0, c=c)
    sizes, errors = [], []
    for n in (31, 61, 121):
        grid = Grid.box([-3, -3], [3, 3], [n, n])
        inner = np.all(np.abs(grid.nodes()) <= 1.5, axis=-1)
        sol = godunov_hopf_lax(loss, grid, 0.5, scheme="monotone")
        errors.append(float(np.max(np.abs(sol.value - np.sum((grid.nodes() - c) ** 2, -1) / 3.0)[inner])))
        sizes.append(grid.spacings[0])
    assert 0.85 < observed_order(sizes, errors) < 1.15


def test_vanishing_viscosity_cole_hopf_tends_to_hopf_lax_at_rate_one_over_beta():
    loss = make_loss("rugged", 1)
    x = np.linspace(-2, 2, 21)
    exact = moreau_envelope(loss, x, 0.3).value
    betas = np.array([30.0, 100.0, 300.0, 1000.0])
    errors = [np.max(np.abs(cole_hopf(loss, b, x, 0.3) - exact)) for b in betas]
    assert 0.9 < -observed_order(betas, errors) < 1.1


def test_bad_time():
    with pytest.raises(InputError) as err:
        moreau_envelope(make_loss("quadratic", 1), [0.0], -0.1)
    assert err.value.key == "t"


@pytest.mark.parametrize("t", [0.2, 0.5, 1.0])
def test_envelope_is_semiconcave_with_constant_one_over_t(t):
    """D^2 u <= 1/t on a fine grid: a minimiser taken from the wrong basin would show up as a
    convex kink (second difference of order error / h^2)."""
    loss = make_loss("rugged", 1)
    x = np.linspace(-2.5, 2.5, 1001)
    u = moreau_envelope(loss, x, t).value
    assert np.max(np.diff(u, 2)) / (x[1] - x[0]) ** 2 <= 1 / t + 1e-6


def test_kind_hopf_lax_exact_and_godunov():
    path = os.path.join(os.path.dirname(__file__), "..", "cases", "hopf_lax_rugged.toml")
    exact = hjb.run(hjb.load_case(path, ["solve.t=0.3", "grid.x.points=301"]))
    godunov = hjb.run(hjb.load_case(path, ["solve.t=0.3", "grid.x.points=301", "solve.method=godunov"]))
    x = exact.coords["x"]
    assert exact["prox"].shape == (301, 1) and exact["gradient"].shape == (301, 1)
    np.testing.assert_allclose(exact["gradient"][:, 0], (x - exact["prox"][:, 0]) / 0.3)
    inner = np.abs(x) <= 2
    assert np.max(np.abs(godunov["value"] - exact["value"])[inner]) < 0.03    # h = 0.02, first order
    with pytest.raises(InputError) as err:
        hjb.run(hjb.load_case(path, ["solve.t=-1.0"]))
    assert err.value.key == "solve.t"
