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
from hjb.losses.base import Loss
from hjb.hbar import direct_sums
from hjb.hbar.convolution import convolution_velocities, half_line_weights, kernel_reach
from hjb.hbar.velocities import averaged_velocities, convolution_chosen, unit_directions, velocity_table
from hjb.reference.velocities import aligned_velocities
from hjb.reference.quadratic import gibbs_mean, quadratic_bang_bang_velocity
from hjb.solvers.effective_memory import memory_estimate as effective_memory_estimate

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


def exact_table(model, x, thetas=THETAS):
    a, c = model.loss.params["a"], model.loss.params["c"]
    mean = model.gamma * (gibbs_mean(a, c, model.gamma, x) - x)
    return np.stack([0.0 * mean, mean] + [quadratic_bang_bang_velocity(a, c, model.gamma, x, t) for t in thetas], axis=1)


def test_the_correlations_converge_at_sixth_order_to_the_gaussian_closed_form(quadratic):
    """mu_x is Gaussian for the quadratic loss: every velocity has a closed form.  Refining the
    y-step (the x-grid fixed: y-steps 1/4, 1/8, 1/16 against sd(mu_x) = 0.41) the largest error
    over nodes and candidates falls at order 6 (the cut); the constant controls (whole-space
    averages: the trapezoid rule on a Gaussian, spectrally accurate) are exact to rounding."""
    grid = hjb.Grid.box([-2.0, -2.0], [2.0, 2.0], [5, 5])
    exact = exact_table(quadratic, grid.nodes().reshape(-1, 2))
    steps, errors = [], []
    for refinement in (4, 8, 16):
        table, direct = convolution_velocities(quadratic, grid, THETAS, refinement)
        assert not direct.any()
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
    reference = aligned_velocities(model, x, THETAS)
    errors = []
    for refinement in (40, None):
        table, direct = convolution_velocities(model, grid, THETAS, refinement)
        assert not direct.any()
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
    the y-step (errors at 0.025, 0.0125, 0.00625; the default, 0.0167, errs by 1.6e-7) and the constant controls'
    velocities agree to rounding."""
    model = hjb.DeepRelaxation(hjb.make_loss("wide_narrow"), gamma=5.0)
    grid = hjb.Grid.box(-3.0, 3.0, 61)
    exact = averaged_velocities(model, grid.nodes().reshape(-1, 1))
    errors = []
    for refinement in (4, 8, 16):
        table, direct = convolution_velocities(model, grid, np.array([[-1.0], [1.0]]), refinement)
        assert not direct.any()
        np.testing.assert_allclose(table[:, :2], exact[:, :2], rtol=0, atol=1e-13)
        errors.append(np.max(np.abs(table - exact)))
    assert 5.8 <= slope([4.0, 2.0, 1.0], errors) <= 6.2, errors
    assert errors[1] < 1e-7


def test_the_route_chosen(quadratic):
    """Correlations for deep relaxation with extended controls in d >= 2 (off-axis switching
    lines), but not when they would cost far more (gamma = 0.1: a Gibbs window 3365 y-nodes
    wide for 25 x-nodes); for constant controls only, the cheaper route (the correlations on
    these grids); point by point in d = 1 with extended controls (exact there) and for a
    model that is not deep relaxation.  Decided on a sample of the grid: a grid too big to
    allocate is not built."""
    small = hjb.Grid.box([-1.0, -1.0], [1.0, 1.0], [5, 5])
    assert convolution_chosen(quadratic, small)
    wide = hjb.DeepRelaxation(hjb.make_loss("wide_narrow", dim=2), gamma=0.1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", hjb.AssumptionWarning)
        assert not convolution_chosen(wide, small)
    assert convolution_chosen(quadratic, small, extended=False)
    one = hjb.DeepRelaxation(hjb.make_loss("quadratic"), gamma=5.0)
    assert not convolution_chosen(one, hjb.Grid.box(-2.0, 2.0, 401))
    assert convolution_chosen(one, hjb.Grid.box(-2.0, 2.0, 401), extended=False)
    general = hjb.TwoScaleModel(dim=2, phi=lambda x, y, u: u * (y - x), b=lambda x, y: x - y,
                                g=lambda x: np.sum(x * x, axis=-1), potential=lambda y, x: 0.5 * np.sum((y - x) ** 2, axis=-1),
                                gibbs_box=([-6.0, -6.0], [6.0, 6.0]))
    assert not convolution_chosen(general, small)
    huge = hjb.Grid.box([-3.0, -3.0], [3.0, 3.0], [20001, 20001])          # 3.2 GB of nodes
    with monkeypatch_nodes_refused():
        convolution_chosen(quadratic, huge)
        effective_memory_estimate(quadratic, huge)


def monkeypatch_nodes_refused():
    """Grid.nodes raising within the block: an estimate must not allocate the grid."""
    import contextlib

    @contextlib.contextmanager
    def patched():
        saved = hjb.Grid.nodes
        hjb.Grid.nodes = lambda self: (_ for _ in ()).throw(AssertionError("Grid.nodes called")) \
            if self.size > 10**6 else saved(self)
        try:
            yield
        finally:
            hjb.Grid.nodes = saved
    return patched()


def test_nodes_lost_to_fft_round_off_are_summed_directly():
    """The quadratic bowl a = 10 on [-3, 3]^2: at the corners Z(x) is about e^-30 of the density's
    largest value, below the FFT's round-off; those nodes are summed directly over their own
    windows, and every node agrees with the closed form (the FFT values there do not)."""
    model = hjb.DeepRelaxation(hjb.make_loss("quadratic", dim=2, a=10.0, c=[0.0, 0.0]), gamma=5.0)
    grid = hjb.Grid.box([-3.0, -3.0], [3.0, 3.0], [9, 9])
    x = grid.nodes().reshape(-1, 2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", hjb.AssumptionWarning)
        table, direct = convolution_velocities(model, grid, THETAS)
        with monkeypatch_tolerance(np.inf):
            fft_only, none = convolution_velocities(model, grid, THETAS)
    assert 0 < np.count_nonzero(direct) < grid.size and not none.any()
    exact = exact_table(model, x)
    assert np.max(np.abs(table - exact)) < 1e-6
    assert np.max(np.abs(fft_only - exact)[direct]) > 1e-3


def test_a_steep_loss_gets_a_narrow_kernel_and_boxed_direct_sums():
    """The quadratic a = 40 on [-5, 5]^2 (f rises by 1000 over the box; 229 s at 41^2 before):
    the kernel's reach from the probes is under half the Gibbs window of f(x) alone, yet every
    y whose density is within e^-40 of its peak lies within it (W = f(y) + gamma/2 |y - x|^2 on
    a 0.05 grid); most nodes are summed directly, over boxes of their windows, which agree with
    the whole windows to rounding and with the closed form to 1e-6."""
    model = hjb.DeepRelaxation(hjb.make_loss("quadratic", dim=2, a=40.0, c=[0.0, 0.0]), gamma=5.0)
    grid = hjb.Grid.box([-5.0, -5.0], [5.0, 5.0], [9, 9])
    x = grid.nodes().reshape(-1, 2)
    sample = grid.sample()
    reach = kernel_reach(model, x, sample)
    assert reach < 0.45 * np.max(model.gibbs_window(x)[1])
    # the points taken by decreasing f(x), stopping early, give the largest radius of them all
    least = np.minimum(model.loss.value(x), np.min(model.loss.value(sample)[None, :] + 0.5 * model.gamma *
                                                   np.sum((x[:, None] - sample[None]) ** 2, axis=-1), axis=1))
    assert reach == np.max(model.gibbs_radius(least))
    axis = np.arange(-15.0, 15.0, 0.05)
    y = np.stack(np.meshgrid(axis, axis, indexing="ij"), axis=-1).reshape(-1, 2)
    f = model.loss.value(y)
    for xi in x:
        W = f + 0.5 * model.gamma * np.sum((y - xi) ** 2, axis=1)
        held = W < np.min(W) + 40.0
        assert np.max(np.abs(y[held] - xi)) <= reach
    thetas = unit_directions(2, 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", hjb.AssumptionWarning)
        table, direct = convolution_velocities(model, grid, thetas)
        saved, direct_sums.NEGLIGIBLE = direct_sums.NEGLIGIBLE, np.inf      # the boxes: whole windows
        try:
            whole, _ = convolution_velocities(model, grid, thetas)
        finally:
            direct_sums.NEGLIGIBLE = saved
    assert np.count_nonzero(direct) > grid.size // 2
    assert np.max(np.abs(table - whole)) <= 1e-12 * np.max(np.abs(whole))
    assert np.max(np.abs(table - exact_table(model, x, thetas))) < 1e-6


def monkeypatch_tolerance(value):
    """ROUNDOFF_TOLERANCE set to ``value`` within the block."""
    import contextlib
    from hjb.hbar import convolution

    @contextlib.contextmanager
    def patched():
        saved, convolution.ROUNDOFF_TOLERANCE = convolution.ROUNDOFF_TOLERANCE, value
        try:
            yield
        finally:
            convolution.ROUNDOFF_TOLERANCE = saved
    return patched()


def test_controls_other_than_zero_to_one():
    """U = [0.2, 1.5] sampled at three values: the constant controls move at u gamma M, the
    bang-bang ones at gamma (u_min M + (u_max - u_min) H_theta); against the closed form."""
    model = hjb.DeepRelaxation(hjb.make_loss("quadratic", dim=2, a=1.0, c=[0.5, -0.25]), gamma=5.0,
                               controls=(0.2, 1.5))
    object.__setattr__(model, "control_points", 3)
    grid = hjb.Grid.box([-1.0, -0.5], [2.0, 1.5], [4, 3])
    x = grid.nodes().reshape(-1, 2)
    table, _ = convolution_velocities(model, grid, THETAS)
    unit = exact_table(hjb.DeepRelaxation(model.loss, gamma=5.0), x)           # U = [0, 1]
    mean = unit[:, 1]
    expected = np.concatenate([u * mean[:, None, :] for u in (0.2, 0.85, 1.5)]
                              + [0.2 * mean[:, None, :] + 1.3 * unit[:, 2:]], axis=1)
    assert table.shape == expected.shape
    assert np.max(np.abs(table - expected)) < 1e-6


def test_constant_controls_only_on_a_large_grid():
    """Entropic gradient descent (no directions) on a grid large enough for the correlations:
    whole-space averages only, so the trapezoid rule is spectrally accurate (halving the
    y-step changes nothing beyond rounding); the point-by-point rule, whose panels are capped
    at 12 a side, agrees to 2e-8 on this machine."""
    model = hjb.DeepRelaxation(hjb.make_loss("wide_narrow", dim=2, wide_center=[-1.5, 0.0],
                                             narrow_center=[1.5, 0.0]), gamma=5.0)
    grid = hjb.Grid.box([-3.0, -3.0], [3.0, 3.0], [61, 61])
    assert convolution_chosen(model, grid, extended=False)
    none = np.zeros((0, 2))
    table = velocity_table(model, grid, extended=False)
    np.testing.assert_array_equal(table, convolution_velocities(model, grid, none)[0])
    np.testing.assert_allclose(table, convolution_velocities(model, grid, none, 12)[0], rtol=0, atol=1e-12)
    some = np.arange(0, grid.size, 397)
    np.testing.assert_allclose(table[some], averaged_velocities(model, grid.nodes().reshape(-1, 2)[some], extended=False),
                               rtol=0, atol=1e-7)


def test_a_broken_loss_is_reported_and_an_infinite_wall_is_a_zero_density():
    """NaN far out (inside the y-box) is a NonFiniteError naming y; +inf there only removes
    mass the Gibbs window deems negligible, so the table is unchanged."""
    base = hjb.make_loss("quadratic", dim=2, a=1.0, c=[0.5, -0.25])

    def walled(value):
        return Loss("walled", 2, lambda y: np.where(np.sum(y * y, axis=-1) > 30.0, value, base.value(y)),
                    base.grad, lip=base.lip, lower=base.lower, scale=base.scale)
    grid = hjb.Grid.box([-1.0, -1.0], [1.0, 1.0], [5, 5])
    with pytest.raises(hjb.NonFiniteError, match="the loss on the y-box.* at y1 = "):
        convolution_velocities(hjb.DeepRelaxation(walled(np.nan), gamma=5.0), grid, THETAS)
    wall, _ = convolution_velocities(hjb.DeepRelaxation(walled(np.inf), gamma=5.0), grid, THETAS)
    plain, _ = convolution_velocities(hjb.DeepRelaxation(base, gamma=5.0), grid, THETAS)
    np.testing.assert_allclose(wall, plain, rtol=0, atol=1e-13)


def test_three_dimensions_off_centre():
    """d = 3 on a box off the origin with unequal points per axis, 26 directions: sixth order
    against the Gaussian closed form (1.5e-3, then 2.9e-5 on this machine)."""
    model = hjb.DeepRelaxation(hjb.make_loss("quadratic", dim=3, a=1.0, c=[0.5, -0.25, 0.1]), gamma=5.0)
    grid = hjb.Grid.box([0.2, -1.0, -0.4], [1.2, 0.5, 0.6], [3, 4, 3])
    thetas = unit_directions(3, 1)
    x = grid.nodes().reshape(-1, 3)
    a, c = 1.0, [0.5, -0.25, 0.1]
    mean = 5.0 * (gibbs_mean(a, c, 5.0, x) - x)
    exact = np.stack([0.0 * mean, mean] + [quadratic_bang_bang_velocity(a, c, 5.0, x, t) for t in thetas], axis=1)
    errors = [np.max(np.abs(convolution_velocities(model, grid, thetas, r)[0] - exact)) for r in ((2, 3, 2), (4, 6, 4))]
    assert slope([2.0, 1.0], errors) >= 5.0, errors
