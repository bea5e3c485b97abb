"""The velocity table of deep relaxation as correlations over the whole x-grid
(hjb/hbar/convolution.py, issue 13): its half-line weights, its observed order against the
closed form of the quadratic loss, its agreement with a per-direction reference whose rule
has a panel break on each switching line (wide_narrow), the complement identity, d = 1,
the route chosen, and the point-by-point fallback where FFT round-off would dominate."""
import warnings

import numpy as np
import pytest
from scipy.special import erf

import hjb
from hjb.hbar.convolution import convolution_velocities, half_line_weights
from hjb.hbar.velocities import averaged_velocities, convolution_chosen, unit_directions, velocity_table
from hjb.operators.quadrature import gibbs_average
from hjb.reference.quadratic import gibbs_mean, quadratic_bang_bang_velocity

THETAS = unit_directions(2, 4)


def slope(steps, errors):
    return float(np.polyfit(np.log(steps), np.log(errors), 1)[0])


def test_half_line_weights_are_sixth_order_and_complementary():
    """sum_i w_i(s) c(z_i) against the integral of c up to s, for cuts on and between nodes."""
    c = lambda z: np.exp(-0.5 * z * z) * (1.0 + 0.3 * np.sin(3.0 * z))       # noqa: E731
    cuts = np.array([0.137, -0.5, 0.0, 1.3, -2.71])
    # closed form: the integral of exp(-z^2/2 + 3iz) up to s is sqrt(2 pi) exp(-9/2) Phi(s - 3i)
    Phi = lambda w: 0.5 * (1.0 + erf(w / np.sqrt(2.0)))                         # noqa: E731
    exact = np.sqrt(2.0 * np.pi) * (Phi(cuts).real + 0.3 * np.exp(-4.5) * Phi(cuts - 3.0j).imag)
    steps, errors = [0.2, 0.1, 0.05, 0.025], []
    for h in steps:
        halo = int(9.0 / h)
        z = h * np.arange(-halo, halo + 1)
        w = half_line_weights(cuts, h, halo)
        errors.append(np.max(np.abs(w @ c(z) - exact)))
        np.testing.assert_allclose(w + half_line_weights(-cuts, h, halo)[:, ::-1], h, rtol=0, atol=1e-15)
    assert 5.7 <= slope(steps, errors) <= 6.5, errors
    assert errors[-1] < 1e-9                         # 1.3e-10 on this machine


@pytest.fixture(scope="module")
def quadratic():
    return hjb.DeepRelaxation(hjb.make_loss("quadratic", dim=2, a=1.0, c=[0.5, -0.25]), gamma=5.0)


def exact_table(model, x):
    a, c = model.loss.params["a"], model.loss.params["c"]
    mean = model.gamma * (gibbs_mean(a, c, model.gamma, x) - x)
    return np.stack([0.0 * mean, mean] + [quadratic_bang_bang_velocity(a, c, model.gamma, x, t) for t in THETAS], axis=1)


def test_the_correlations_converge_at_sixth_order_to_the_gaussian_closed_form(quadratic):
    """mu_x is Gaussian for the quadratic loss: every velocity has a closed form.  Refining the
    y-step (the x-grid fixed: y-steps 1/4, 1/8, 1/16 against sd(mu_x) = 0.41) the largest error
    over nodes and candidates falls at order 6 (the cut); the constant controls (whole-space
    averages: the trapezoid rule on a Gaussian, spectrally accurate) are exact to rounding."""
    grid = hjb.Grid.box([-2.0, -2.0], [2.0, 2.0], [5, 5])
    exact = exact_table(quadratic, grid.nodes().reshape(-1, 2))
    steps, errors = [], []
    for refinement in (4, 8, 16):
        table, trusted = convolution_velocities(quadratic, grid, THETAS, refinement)
        assert trusted.all()
        np.testing.assert_allclose(table[:, :2], exact[:, :2], rtol=0, atol=1e-12)
        steps.append(1.0 / refinement)
        errors.append(np.max(np.abs(table - exact)))
    assert 5.5 <= slope(steps, errors) <= 6.5, errors
    default, _ = convolution_velocities(quadratic, grid, THETAS)          # y-step 1/18 (Y_FRACTION)
    assert np.max(np.abs(default - exact)) < 5e-7                          # 2.4e-7 on this machine


def test_the_correlations_match_a_rule_broken_on_each_switching_line():
    """wide_narrow (narrow well of width 0.15): against a per-direction Gibbs quadrature whose
    rule is rotated to put a panel break on the switching line (y - x) . theta = 0, the table
    converges at order 6 in the y-step (0.0375, then 0.01875: the default, length scale / 8),
    where it errs by 9.4e-8 on this machine (the reference's own error is about 2e-8); the point-by-point table, whose rule is centred
    at x but not rotated, errs by about its node spacing on the diagonals (split ties)."""
    model = hjb.DeepRelaxation(hjb.make_loss("wide_narrow", dim=2, wide_center=[-1.5, 0.0],
                                             narrow_center=[1.5, 0.0]), gamma=5.0)
    grid = hjb.Grid.box([-1.5, -1.0], [1.5, 1.0], [3, 3])
    nodes = [0, 4, 5, 7]
    x = grid.nodes().reshape(-1, 2)[nodes]
    reference = [gibbs_average(model, x, lambda xc, y: y - xc)]
    for t in THETAS:
        reference.append(gibbs_average(model, x, lambda xc, y, t=t: (y - xc) * (((y - xc) @ t) < 0)[..., None],
                                       align=np.broadcast_to(t, x.shape)))
    reference = model.gamma * np.stack(reference, axis=1)
    errors = []
    for refinement in (40, None):
        table, trusted = convolution_velocities(model, grid, THETAS, refinement)
        assert trusted.all()
        errors.append(np.max(np.abs(table[nodes, 1:] - reference)))
    assert slope([2.0, 1.0], errors) >= 5.5, errors
    assert errors[-1] < 2e-7
    assert np.max(np.abs(averaged_velocities(model, x)[:, 1:] - reference)) > 1e-4


def test_opposite_directions_add_up_to_the_whole_space(quadratic):
    """H_theta + H_-theta = M: with U = [0, 1], v(theta) + v(-theta) = v(u = 1), to rounding."""
    grid = hjb.Grid.box([-1.0, -1.0], [1.0, 1.0], [4, 5])
    table, _ = convolution_velocities(quadratic, grid, THETAS)
    opposite = [int(np.argmin(np.linalg.norm(THETAS + t, axis=1))) for t in THETAS]
    np.testing.assert_allclose(table[:, 2:] + table[:, 2:][:, opposite], table[:, 1:2].repeat(len(THETAS), 1),
                               rtol=0, atol=1e-13)


def test_in_one_dimension_the_correlations_are_the_interval_ends():
    """d = 1 (a narrow well): against the point-by-point table, exact there (its rule has a
    panel break at the one switching point y = x), the correlations converge at order 6 in
    the y-step (3e-8 at the default, 0.0125, on this machine) and the constant controls'
    velocities agree to rounding."""
    model = hjb.DeepRelaxation(hjb.make_loss("wide_narrow"), gamma=5.0)
    grid = hjb.Grid.box(-3.0, 3.0, 61)
    exact = averaged_velocities(model, grid.nodes().reshape(-1, 1))
    errors = []
    for refinement in (4, 8, 16):
        table, trusted = convolution_velocities(model, grid, np.array([[-1.0], [1.0]]), refinement)
        assert trusted.all()
        np.testing.assert_allclose(table[:, :2], exact[:, :2], rtol=0, atol=1e-13)
        errors.append(np.max(np.abs(table - exact)))
    assert 5.8 <= slope([4.0, 2.0, 1.0], errors) <= 6.2, errors
    assert errors[1] < 1e-7


def test_the_route_chosen(quadratic):
    """Correlations for deep relaxation with extended controls in d >= 2 (off-axis switching
    lines); point by point in d = 1, for EGD on a small grid, and for a model that is not deep
    relaxation."""
    small = hjb.Grid.box([-1.0, -1.0], [1.0, 1.0], [5, 5])
    assert convolution_chosen(quadratic, small)
    assert not convolution_chosen(quadratic, small, extended=False)
    one = hjb.DeepRelaxation(hjb.make_loss("quadratic"), gamma=5.0)
    assert not convolution_chosen(one, hjb.Grid.box(-2.0, 2.0, 401))
    general = hjb.TwoScaleModel(dim=2, phi=lambda x, y, u: u * (y - x), b=lambda x, y: x - y,
                                g=lambda x: np.sum(x * x, axis=-1), potential=lambda y, x: 0.5 * np.sum((y - x) ** 2, axis=-1),
                                gibbs_box=([-6.0, -6.0], [6.0, 6.0]))
    assert not convolution_chosen(general, small)


def test_nodes_lost_to_fft_round_off_are_averaged_point_by_point():
    """A loss rising by hundreds over the box: Z(x) at the corners is far below the FFT's
    round-off of the largest density, so those nodes are flagged and velocity_table averages
    them point by point; the nodes kept agree with the closed form."""
    model = hjb.DeepRelaxation(hjb.make_loss("quadratic", dim=2, a=40.0, c=[0.0, 0.0]), gamma=5.0)
    grid = hjb.Grid.box([-4.0, -4.0], [4.0, 4.0], [9, 9])
    x = grid.nodes().reshape(-1, 2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", hjb.AssumptionWarning)
        correlations, trusted = convolution_velocities(model, grid, THETAS)
        table = velocity_table(model, grid)
        lost = averaged_velocities(model, x[~trusted])
    assert 0 < np.count_nonzero(~trusted) < grid.size
    assert np.isnan(correlations[~trusted]).all()
    np.testing.assert_array_equal(table[~trusted], lost)
    np.testing.assert_allclose(table[trusted], exact_table(model, x[trusted]), rtol=0, atol=1e-6)
