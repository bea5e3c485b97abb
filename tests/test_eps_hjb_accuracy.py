"""The high-order x-transport of the eps-HJB solver: cubic interpolation at the feet,
filtered against linear (hjb.operators.interpolation, EpsHJBStep with interpolation="cubic")."""
import numpy as np
import pytest

import hjb
from hjb.operators.interpolation import cubic_foot_interpolation
from hjb.output.tables import observed_order
from hjb.solvers.eps_hjb import EpsHJBStep


@pytest.mark.parametrize("shape, axes", [((30,), (0,)), ((12, 9), (0, 1)), ((15, 4), (0,))])
def test_cubic_feet_are_exact_for_cubics_and_keep_constants(shape, axes):
    """Rows sum to one, and a cubic in each interpolated axis is reproduced at every foot inside
    the box (feet of random velocities, the walls' inward-shifted stencils included)."""
    rng = np.random.default_rng(4)
    spacings = np.full(len(axes), 0.1)
    nodes = np.meshgrid(*[0.1 * np.arange(n) for n in shape], indexing="ij")
    velocity = rng.uniform(-3.0, 3.0, size=shape + (len(axes),))
    dt = 0.05
    C = cubic_foot_interpolation(shape, axes, spacings, velocity, dt)
    np.testing.assert_allclose(C @ np.ones(C.shape[0]), 1.0, rtol=1e-13)
    cubic = sum((nodes[a] - 0.7) ** 3 - 2 * nodes[a] ** 2 for a in axes) + nodes[axes[0]] * nodes[axes[-1]]
    feet = [np.clip(nodes[a] + velocity[..., k] * dt, 0.0, 0.1 * (shape[a] - 1)) for k, a in enumerate(axes)]
    at_feet = sum((f - 0.7) ** 3 - 2 * f ** 2 for f in feet) + feet[0] * feet[-1]
    np.testing.assert_allclose(C @ cubic.ravel(), at_feet.ravel(), atol=1e-12)


def test_the_filtered_step_stays_within_its_bound_of_the_monotone_step(quadratic_model):
    """What convergence rests on: for any data, rough or not, the cubic step is within 'bound' of
    the linear (monotone) step, because the implicit solve is non-expansive; constants are kept."""
    gx, gy = hjb.Grid.box(-3, 3, 41), hjb.Grid.box(-3, 3, 41, name="y")
    cubic = EpsHJBStep.build(quadratic_model, gx, gy, 1e-3, 0.05, interpolation="cubic")
    linear = EpsHJBStep.build(quadratic_model, gx, gy, 1e-3, 0.05, interpolation="linear")
    assert cubic.bound > 0 and linear.cubic is None
    rng = np.random.default_rng(9)
    for V in (rng.normal(size=(41, 41)), np.sign(np.add.outer(gx.axes[0].nodes, 0 * gy.axes[0].nodes))):
        assert np.max(np.abs(cubic(V) - linear(V))) <= cubic.bound * (1 + 1e-9)
    np.testing.assert_allclose(cubic(np.full((41, 41), -0.7)), -0.7, atol=1e-10)


def _fixed_step_errors(interpolation, sizes=(21, 41, 81)):
    """A y-independent drift -u (x - c), U = {0, 1}, g increasing: with Euler feet (Lie
    splitting: the corrected one adds the second-order term of the characteristic) and exact
    interpolation the answer after N steps is g(c + (x - c)(1 - dt)^N) for x > c, g(x) below;
    at a fixed dt what is left is the interpolation error (away from the kink at c)."""
    c, T, dt = 0.3, 0.5, 0.01

    def g(z):
        return np.sin(z) + 0.5 * z
    model = hjb.TwoScaleModel(1, lambda x, y, u: -u * (x - c) + 0.0 * y, lambda x, y: x - y, lambda x: g(x[..., 0]))
    errors, steps = [], []
    for n in sizes:
        gx, gy = hjb.Grid.box(-2, 2, n), hjb.Grid.box(-2, 2, 5, name="y")
        x = gx.axes[0].nodes
        sol = hjb.solve_eps_hjb(model, gx, gy, T, 1e-3, interpolation=interpolation, dt=dt, splitting="lie")
        exact = np.where(x > c, g(c + (x - c) * (1 - dt) ** sol.steps), g(x))
        errors.append(np.max(np.abs(sol.value[:, 2] - exact)[np.abs(x - c) > 0.3]))
        steps.append(gx.spacings[0])
    return steps, errors


def test_cubic_feet_are_fourth_order_in_space():
    steps, cubic = _fixed_step_errors("cubic")
    assert observed_order(steps, cubic) > 3.5
    _, linear = _fixed_step_errors("linear")
    assert observed_order(steps, linear) < 2.0 and cubic[-1] < linear[-1] / 100


def test_the_hard_case_converges_and_the_cubic_default_beats_linear():
    """wide_narrow, gamma 5, T 0.5, eps 1e-4, V(0, 0.5, 0.5) against the effective value, Lie
    splitting at Courant 10: cubic feet converge at order above 1 on 201^2 -> 401^2 and err by
    less than a third of the linear scheme's error (the default splitting: test_averaging_correction.py)."""
    model = hjb.DeepRelaxation(hjb.make_loss("wide_narrow"), gamma=5.0)
    exact = hjb.reachable_value(model, [0.5], 0.5)[0]
    errors = {}
    for interpolation in ("cubic", "linear"):
        errors[interpolation] = []
        for n in (201, 401):
            gx, gy = hjb.Grid.box(-5, 5, n), hjb.Grid.box(-5, 5, n, name="y")
            V = hjb.solve_eps_hjb(model, gx, gy, 0.5, 1e-4, interpolation=interpolation, splitting="lie").value
            errors[interpolation].append(abs(V[gx.locate(0.5) + gy.locate(0.5)] - exact))
    assert observed_order([0.05, 0.025], errors["cubic"]) > 1.0
    assert errors["cubic"][-1] < errors["linear"][-1] / 3


def test_an_unknown_interpolation_is_refused(quadratic_model, refuses):
    gx, gy = hjb.Grid.box(-2, 2, 21), hjb.Grid.box(-2, 2, 21, name="y")
    with pytest.raises(hjb.InputError) as err:
        hjb.solve_eps_hjb(quadratic_model, gx, gy, 0.5, 0.1, interpolation="quintic")
    assert err.value.key == "interpolation"
    refuses("cases/quadratic_value.toml", "solve.interpolation='quintic'", "solve.interpolation")
