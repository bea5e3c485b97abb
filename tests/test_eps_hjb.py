"""The eps-HJB solver: monotonicity, the singular limit V^eps -> v, and an eps-independent case."""
import numpy as np
import pytest

import hjb
from hjb.reference.regions import value_region
from hjb.solvers.eps_hjb import product_nodes

T = 0.5


def _grids(n, half=4.0):
    return hjb.Grid.box(-half, half, n), hjb.Grid.box(-half, half, n, name="y")


def test_value_converges_to_the_effective_value_as_eps_vanishes(quadratic_model):
    """sup over the region |x| <= 2, |y - x| <= 1 (hjb.reference.regions, every fourth x-node)
    of |V^eps(0, x, y) - v(0, x)| decreases in eps; below 0.02 at eps = 1e-3."""
    gx, gy = _grids(321)                                  # h = 0.025
    region = value_region(gx.nodes(), gy.nodes())
    region[np.arange(gx.size) % 4 != 0] = False
    rows = region.any(axis=1)
    exact = np.full(gx.size, np.nan)
    exact[rows] = hjb.reachable_value(quadratic_model, gx.axes[0].nodes[rows], T)
    errors = []
    for eps in (0.1, 0.01, 0.001):
        V = hjb.solve_eps_hjb(quadratic_model, gx, gy, T, eps).value
        errors.append(np.max(np.abs(V - exact[:, None])[region]))
    assert errors[0] > errors[1] > errors[2]
    assert errors[2] < 0.02


def test_slow_drift_without_y_gives_v_for_every_eps():
    """phi = -u (x - c) does not see y, so V^eps = v for all eps (SPEC section 9).  Lie's step
    gives the same numbers for every eps; the corrected default adds the second-order term of
    the characteristic weighted by a / (1 + a), a = dt / eps, so its numbers move with eps, but
    closer to v."""
    c = 0.3
    model = hjb.TwoScaleModel(dim=1, phi=lambda x, y, u: -u * (x - c) + 0.0 * y, b=lambda x, y: x - y,
                              g=lambda x: np.cos(2.0 * x[..., 0]))
    gx, gy = _grids(201, half=2.0)
    x = gx.axes[0].nodes
    # exact: reachable set from x is the segment between x and c + (x - c) e^{-T}
    far = c + (x - c) * np.exp(-T)
    exact = np.array([hjb.reference.reachable.minimum_on_interval(model.g, min(a, b), max(a, b)) for a, b in zip(x, far)])
    for splitting in ("lie", "corrected"):
        values = [hjb.solve_eps_hjb(model, gx, gy, T, eps, splitting=splitting).value for eps in (1.0, 1e-2, 1e-5)]
        for V in values:  # equal up to the round-off of the implicit solve (cond ~ dt/(eps h^2))
            if splitting == "lie":
                np.testing.assert_allclose(V, values[0], rtol=0, atol=1e-8)      # independent of eps ...
            np.testing.assert_allclose(V, np.broadcast_to(V[:, :1], V.shape), rtol=0, atol=1e-8)  # ... and of y
            assert np.max(np.abs(V[:, 0] - exact)) < 2 * gx.spacings[0]          # the scheme's own O(h) error
        if splitting == "lie":
            lie = np.max(np.abs(values[-1][:, 0] - exact))
    assert np.max(np.abs(values[-1][:, 0] - exact)) < lie


def test_discrete_comparison_principle(quadratic_model):
    """The monotone scheme (linear interpolation: the filtered cubic default is within its
    filter bound of it, not monotone itself)."""
    gx, gy = _grids(41)
    rng = np.random.default_rng(7)
    g1 = rng.normal(size=41)
    g2 = g1 + rng.uniform(0.0, 0.5, size=41)
    nodes = gx.axes[0].nodes

    def solve(g, eps):
        model = hjb.TwoScaleModel(1, quadratic_model.phi, quadratic_model.b,
                                  lambda x: np.interp(x[..., 0], nodes, g))
        return hjb.solve_eps_hjb(model, gx, gy, T, eps, interpolation="linear").value

    for eps in (1.0, 1e-3):
        assert np.all(solve(g1, eps) <= solve(g2, eps) + 1e-13)
        const = solve(np.full(41, -1.5), eps)
        # exact in exact arithmetic; the LU solve adds round-off ~ cond = dt/(eps h^2)
        np.testing.assert_allclose(const, -1.5, rtol=0, atol=1e-10)


def test_step_count_does_not_depend_on_eps(quadratic_model):
    gx, gy = _grids(41)
    steps = {hjb.solve_eps_hjb(quadratic_model, gx, gy, T, eps).steps for eps in (1.0, 1e-3, 1e-8)}
    assert len(steps) == 1


def test_snapshots_are_kept_in_time_order(quadratic_model):
    gx, gy = _grids(41)
    sol = hjb.solve_eps_hjb(quadratic_model, gx, gy, T, 0.01, snapshots=3)
    np.testing.assert_allclose(sol.times, [T, T / 2, 0.0], atol=sol.dt)
    x, _ = product_nodes(gx, gy)
    np.testing.assert_allclose(sol.snapshots[0], quadratic_model.g(x))
    np.testing.assert_array_equal(sol.snapshots[-1], sol.value)


def test_y_box_outside_x_box_is_refused(quadratic_model):
    gx = hjb.Grid.box(-2, 2, 21)
    gy = hjb.Grid.box(-3, 3, 21, name="y")
    with pytest.raises(hjb.InputError, match="^y_grid: .*inside the x-box"):
        hjb.solve_eps_hjb(quadratic_model, gx, gy, T, 0.1)


def test_non_positive_eps_is_refused(quadratic_model):
    gx, gy = _grids(11)
    with pytest.raises(hjb.InputError, match="^eps: must be positive"):
        hjb.solve_eps_hjb(quadratic_model, gx, gy, T, 0.0)


def test_d2_with_unequal_x_and_y_grids_and_the_moving_controls():
    """The memory estimate samples phi on the two grids as flat node lists, so x- and y-grids
    of different shapes work; only the controls that move x are counted for interpolation
    matrices (u = 0 stands still in deep relaxation)."""
    from hjb.solvers.eps_hjb_memory import moving_controls
    model = hjb.DeepRelaxation(hjb.make_loss("quadratic", dim=2, a=1.0, c=[0.5, 0.0]), gamma=2.0)
    gx, gy = hjb.Grid.box([-2.0] * 2, [2.0] * 2, [5, 6]), hjb.Grid.box([-1.5] * 2, [1.5] * 2, [7, 4], name="y")
    sol = hjb.solve_eps_hjb(model, gx, gy, T=0.2, eps=0.01)
    assert sol.value.shape == (5, 6, 7, 4) and np.all(np.isfinite(sol.value))
    assert moving_controls(model, gx, gy) == 1
    assert moving_controls(hjb.DeepRelaxation(model.loss, gamma=2.0, controls=(0.5, 1.0)), gx, gy) == 2
    # phi non-zero only off the diagonal x2 = y2 of the sample: still a moving control
    odd = hjb.TwoScaleModel(dim=2, phi=lambda x, y, u: u * (x - y) * (x[..., 1:] != y[..., 1:]),
                            b=lambda x, y: -(y - x), g=lambda x: np.sum(x * x, axis=-1), controls=(0.0, 1.0))
    assert moving_controls(odd, gx, gy) == 1
