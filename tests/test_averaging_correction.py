"""The corrections of the eps-HJB Lie step (hjb.operators.averaging_correction and EpsHJBStep
with splitting="corrected"): their pieces against exact values, what convergence rests on (the
filter keeps the step within 2 bound of the monotone step), and what they buy (second order in
dt, the hard case's error cut at half the steps)."""
import numpy as np
import pytest

import hjb
from hjb.cli import main
from hjb.operators.averaging_correction import (averaging_correction, drift_correction, hessian_entry, moment_pairs,
                                                moment_products, split_covariance)
from hjb.output.tables import observed_order
from hjb.solvers import eps_hjb_step
from hjb.solvers.eps_hjb import EpsHJBStep


def test_the_hessian_is_exact_for_quadratics_and_zero_on_the_walls():
    x1, x2, y = np.meshgrid(np.linspace(-1, 1, 9), np.linspace(0, 2, 7), np.linspace(0, 1, 3), indexing="ij")
    V = 1.5 * x1**2 - 0.7 * x1 * x2 + 0.25 * x2**2 + 3.0 * y * x1     # y: not an x-axis
    spacings = (0.25, 1.0 / 3.0)
    for (i, j), exact in {(0, 0): 3.0, (0, 1): -0.7, (1, 1): 0.5}.items():
        D = hessian_entry(V, i, j, spacings)
        np.testing.assert_allclose(D[1:-1, 1:-1] if i != j else D[1:-1] if i == 0 else D[:, 1:-1], exact, rtol=1e-12)
        walls = np.zeros(V.shape, dtype=bool)
        for axis in {i, j}:
            index = [slice(None)] * 3
            for end in (0, -1):
                index[axis] = end
                walls[tuple(index)] = True
        assert np.all(D[walls] == 0.0)


def test_the_correction_in_d2_weighs_the_mixed_term_twice():
    """A = (1/2)(C_11 Q_11 + 2 C_12 Q_12 + C_22 Q_22) for V = (1/2) x^T Q x with a mixed term,
    random covariances, at every node off the x-walls (halving the mixed term fails this)."""
    rng = np.random.default_rng(3)
    x1, x2, _ = np.meshgrid(np.linspace(-1, 1, 7), np.linspace(-1, 2, 9), np.linspace(0, 1, 4), indexing="ij")
    Q = np.array([[2.0, -0.8], [-0.8, 0.6]])
    V = 0.5 * (Q[0, 0] * x1**2 + 2 * Q[0, 1] * x1 * x2 + Q[1, 1] * x2**2)
    C = rng.normal(size=(3, V.size))
    A = averaging_correction(V, C, (2.0 / 6, 3.0 / 8), scale=2.0)
    exact = (0.5 * (C[0] * Q[0, 0] + 2 * C[1] * Q[0, 1] + C[2] * Q[1, 1])).reshape(V.shape)
    np.testing.assert_allclose(A[1:-1, 1:-1], 2.0 * exact[1:-1, 1:-1], rtol=1e-11, atol=1e-12)
    # on an x_1-wall only D_22 V is taken (each D_ij is left out on the walls of axes i and j)
    wall = (0.5 * C[2] * Q[1, 1]).reshape(V.shape)
    np.testing.assert_allclose(A[0, 1:-1], 2.0 * wall[0, 1:-1], rtol=1e-11, atol=1e-12)
    np.testing.assert_allclose(A[1:-1, -1], (C[0] * Q[0, 0]).reshape(V.shape)[1:-1, -1], rtol=1e-11, atol=1e-12)
    assert np.all(A[0, 0] == 0) and np.all(A[-1, -1] == 0)                # corners: nothing


def test_the_drift_correction_is_exact_for_affine_drifts():
    """B = (1/2) sum_i ((m . D) m_i) D_i V, for V linear and m affine in x (d = 2), exactly,
    off the walls (central differences are exact there)."""
    x1, x2, _ = np.meshgrid(np.linspace(-1, 1, 7), np.linspace(-1, 2, 9), np.linspace(0, 1, 3), indexing="ij")
    p, J, c = np.array([0.7, -1.3]), np.array([[0.2, -0.5], [0.3, 0.1]]), np.array([0.05, -0.02])
    V = p[0] * x1 + p[1] * x2
    m = [c[i] + J[i, 0] * x1 + J[i, 1] * x2 for i in range(2)]
    B = drift_correction(V, np.stack([f.ravel() for f in m]), (2.0 / 6, 3.0 / 8), scale=3.0)
    exact = 0.5 * sum((m[0] * J[i, 0] + m[1] * J[i, 1]) * p[i] for i in range(2))
    np.testing.assert_allclose(B[1:-1, 1:-1], 3.0 * exact[1:-1, 1:-1], rtol=1e-12, atol=1e-14)


def test_the_correction_of_a_quadratic_is_half_the_covariance_times_its_hessian():
    rng = np.random.default_rng(2)
    x = np.linspace(-1, 1, 11)
    V = np.broadcast_to((0.5 * 3.0 * x**2)[:, None], (11, 5)).copy()
    displacement = rng.normal(size=(1, V.size))
    seconds = moment_products(displacement, np.empty((1, V.size)))
    means = 0.5 * displacement
    covariance = split_covariance(means, seconds)
    np.testing.assert_allclose(covariance, displacement**2 - means**2)
    A = averaging_correction(V, covariance, (0.2,))
    np.testing.assert_allclose(A[1:-1], (0.5 * 3.0 * covariance[0].reshape(V.shape))[1:-1], rtol=1e-12)
    assert moment_pairs(2) == [(0, 0), (0, 1), (1, 1)]


@pytest.mark.parametrize("a", [0.1, 10.0, 1e4])
def test_the_split_covariance_is_positive_semidefinite(a):
    """F = (I - a L_y)^{-1} is a Markov kernel: the covariance of any displacement under it is
    positive semi-definite (Jensen), here for random displacements in d = 2."""
    model = hjb.DeepRelaxation(hjb.make_loss("quadratic", dim=2, a=1.0, c=[0.5, 0.0]), gamma=2.0)
    gx = hjb.Grid.box([-2.0] * 2, [2.0] * 2, [3, 3])
    gy = hjb.Grid.box([-2.0] * 2, [2.0] * 2, [9, 9], name="y")
    step = EpsHJBStep.build(model, gx, gy, 1.0, a)
    rng = np.random.default_rng(7)
    displacement = rng.normal(size=(2, gx.size * gy.size)) * rng.random(gx.size * gy.size)
    rows = np.vstack([displacement, moment_products(displacement, np.empty((3, displacement.shape[1])))])
    solved = step.implicit.solve(rows.T).T
    c = split_covariance(solved[:2], solved[2:])
    scale = np.max(np.abs(solved[2:]))
    assert c[0].min() >= -1e-12 * scale and c[2].min() >= -1e-12 * scale
    assert np.min(c[0] * c[2] - c[1] ** 2) >= -1e-12 * scale**2


@pytest.fixture
def steps(quadratic_model):
    gx, gy = hjb.Grid.box(-3, 3, 41), hjb.Grid.box(-3, 3, 41, name="y")
    return gx, gy, {name: EpsHJBStep.build(quadratic_model, gx, gy, 1e-3, 0.05, interpolation=interpolation,
                                           splitting=splitting)
                    for name, interpolation, splitting in (("corrected", "cubic", "corrected"),
                                                           ("lie", "cubic", "lie"), ("monotone", "linear", "lie"))}


def test_the_corrected_step_stays_within_twice_its_bound_of_the_monotone_step(steps, monkeypatch):
    """What convergence rests on: for any data the filtered feet move the step by at most
    'bound' and the filtered correction by at most 'bound' more; constants are kept.  The data
    are large enough that the cap acts: without it, the step leaves that band."""
    gx, gy, step = steps
    assert step["corrected"].displacements is not None and step["lie"].displacements is None
    rng = np.random.default_rng(9)
    x = np.add.outer(gx.axes[0].nodes, 0 * gy.axes[0].nodes)
    data = [100.0 * V for V in (rng.normal(size=(41, 41)), np.sign(x), np.abs(x) ** 1.5, x**2)]
    band = 2 * step["corrected"].bound * (1 + 1e-9)
    for V in data:
        assert np.max(np.abs(step["corrected"](V) - step["monotone"](V))) <= band
    np.testing.assert_allclose(step["corrected"](np.full((41, 41), -0.7)), -0.7, atol=1e-10)
    monkeypatch.setattr(eps_hjb_step, "filter_function", lambda ratio: ratio)      # no cap
    assert max(np.max(np.abs(step["corrected"](V) - step["monotone"](V))) for V in data) > 5 * band


def test_the_correction_is_switched_off_when_y_does_not_mix(quadratic_model):
    """Weighted by a / (1 + a), a = dt / eps: at eps = 1e6 (a = 5e-8) the corrected step is Lie's
    up to a times the corrections (A - B is of order 0.1 here)."""
    gx, gy = hjb.Grid.box(-3, 3, 21), hjb.Grid.box(-3, 3, 21, name="y")
    corrected = EpsHJBStep.build(quadratic_model, gx, gy, 1e6, 0.05, interpolation="cubic", splitting="corrected")
    lie = EpsHJBStep.build(quadratic_model, gx, gy, 1e6, 0.05, interpolation="cubic", splitting="lie")
    V = np.add.outer(gx.axes[0].nodes ** 2, 0.1 * gy.axes[0].nodes)
    assert np.max(np.abs(corrected(V) - lie(V))) < 1e-7


def test_the_corrected_splitting_is_second_order_in_dt(quadratic_model):
    """Quadratic loss, eps 1e-7 (y mixes within every step), 81^2: against the same scheme at
    dt = T / 1280, Lie's splitting is first order in dt and the corrected one second order
    (measured 1.03 and 2.01), at least 5x more accurate at every dt (measured 6-50x)."""
    T = 0.5
    gx, gy = hjb.Grid.box(-2.0, 2.0, 81), hjb.Grid.box(-2.0, 2.0, 81, name="y")
    nodes = [gx.locate(x) + gy.locate(x) for x in (-0.5, 0.0, 0.25, 0.5, 0.75, 1.0)]
    counts = (10, 20, 40)
    errors = {}
    for splitting in ("corrected", "lie"):
        reference = hjb.solve_eps_hjb(quadratic_model, gx, gy, T, 1e-7, dt=T / 1280, splitting=splitting).value
        values = [hjb.solve_eps_hjb(quadratic_model, gx, gy, T, 1e-7, dt=T / n, splitting=splitting).value
                  for n in counts]
        errors[splitting] = [max(abs(V[i] - reference[i]) for i in nodes) for V in values]
    assert 0.8 < observed_order([T / n for n in counts], errors["lie"]) < 1.3
    assert observed_order([T / n for n in counts], errors["corrected"]) > 1.8
    assert all(c < lie / 5 for c, lie in zip(errors["corrected"], errors["lie"]))


def test_the_hard_case_error_is_cut_at_half_the_steps():
    """wide_narrow, gamma 5, T 0.5, eps 1e-4, V(0, x, 0.5) against v(0, x) for x = -3, -2.8, ..., 3:
    the default (corrected, Courant 20) against Lie at Courant 10 with the same feet, on 201^2
    and 401^2: at least 2x smaller mean error in half the steps (measured 2.8x and 4.8x),
    converging at order >= 1 (measured 1.8)."""
    model = hjb.DeepRelaxation(hjb.make_loss("wide_narrow"), gamma=5.0)
    xs = np.round(np.linspace(-3.0, 3.0, 31), 2)
    exact = hjb.reachable_value(model, xs, 0.5)
    errors = {"corrected": [], "lie": []}
    for n in (201, 401):
        gx, gy = hjb.Grid.box(-5, 5, n), hjb.Grid.box(-5, 5, n, name="y")
        steps = {}
        for splitting in errors:
            sol = hjb.solve_eps_hjb(model, gx, gy, 0.5, 1e-4, splitting=splitting)
            values = np.array([sol.value[gx.locate(x) + gy.locate(0.5)] for x in xs])
            errors[splitting].append(float(np.mean(np.abs(values - exact))))
            steps[splitting] = sol.steps
        assert steps["lie"] == 2 * steps["corrected"]
    assert all(c < lie / 2 for c, lie in zip(errors["corrected"], errors["lie"]))
    assert observed_order([0.05, 0.025], errors["corrected"]) >= 1.0


@pytest.mark.parametrize("eps", [1.0, 1e-2, 1e-4])
def test_the_default_keeps_the_maximum_principle(eps):
    """min g <= V <= max g (no running cost), as for the monotone step: the corrected step is
    clipped to its data's range (without the clip it went 0.016 below min g at 201^2,
    eps = 1e-4, at the edge of the region where min g is reached; unweighted, 0.24 at eps = 1)."""
    model = hjb.DeepRelaxation(hjb.make_loss("wide_narrow"), gamma=5.0)
    gx, gy = hjb.Grid.box(-5, 5, 201), hjb.Grid.box(-5, 5, 201, name="y")
    g = model.g(gx.nodes())
    V = hjb.solve_eps_hjb(model, gx, gy, 0.5, eps).value
    assert g.min() <= V.min() and V.max() <= g.max()


def test_an_unknown_or_unfiltered_splitting_is_refused(quadratic_model, refuses):
    gx, gy = hjb.Grid.box(-2, 2, 21), hjb.Grid.box(-2, 2, 21, name="y")
    with pytest.raises(hjb.InputError) as err:
        hjb.solve_eps_hjb(quadratic_model, gx, gy, 0.5, 0.1, splitting="strang")
    assert err.value.key == "splitting"
    with pytest.raises(hjb.InputError, match="monotone reference") as err:
        hjb.solve_eps_hjb(quadratic_model, gx, gy, 0.5, 0.1, interpolation="linear", splitting="corrected")
    assert err.value.key == "splitting"
    refuses("cases/quadratic_value.toml", "solve.splitting='strang'", "solve.splitting")


def test_the_cli_names_the_splitting_that_needs_cubic_feet(tmp_path, capsys):
    code = main(["run", "cases/quadratic_value.toml", "--ci", "--quiet", "-o", str(tmp_path / "r.h5"),
                 "--set", "solve.interpolation='linear'", "--set", "solve.splitting='corrected'"])
    lines = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and lines[0].startswith("hjb: solve.splitting:"), lines
    assert not (tmp_path / "r.h5").exists()


def test_the_corrected_splitting_is_second_order_in_dt_beyond_quadratics():
    """A smooth case that is not quadratic: tilted cosine loss (kappa 1, amplitude 0.2,
    frequency 2), gamma 3, g = exp(x / 2) (no kink in V), 81^2, eps 1e-7: order above 1.8
    against a T / 640 reference of the same scheme (measured about 2.0; Lie about 1.0)."""
    model = hjb.DeepRelaxation(hjb.make_loss("tilted_cosine", kappa=1.0, amplitude=0.2, frequency=2.0), gamma=3.0,
                               g=lambda x: np.exp(0.5 * x[..., 0]))
    T = 0.5
    gx, gy = hjb.Grid.box(-2.0, 2.0, 81), hjb.Grid.box(-2.0, 2.0, 81, name="y")
    nodes = [gx.locate(x) + gy.locate(0.0) for x in np.linspace(-1.0, 1.0, 9)]
    reference = hjb.solve_eps_hjb(model, gx, gy, T, 1e-7, dt=T / 640).value
    counts = (10, 20, 40)
    errors = [max(abs(V[i] - reference[i]) for i in nodes)
              for V in (hjb.solve_eps_hjb(model, gx, gy, T, 1e-7, dt=T / n).value for n in counts)]
    assert observed_order([T / n for n in counts], errors) > 1.8


def test_the_corrected_splitting_is_second_order_in_dt_in_d2():
    """The same in d = 2 (quadratic loss, well at (0.5, 0), 13^4, eps 1e-7; the mixed terms
    take part): against the same scheme at dt = T / 80, the corrected splitting halves dt at
    order above 1.7 (measured 1.98 with a T / 160 reference) and errs at least 5x less than
    Lie's (measured 10-30x)."""
    model = hjb.DeepRelaxation(hjb.make_loss("quadratic", dim=2, a=1.0, c=[0.5, 0.0]), gamma=2.0)
    T = 0.5
    gx = hjb.Grid.box([-2.0] * 2, [2.0] * 2, [13] * 2)
    gy = hjb.Grid.box([-2.0] * 2, [2.0] * 2, [13] * 2, name="y")
    nodes = [gx.locate(p) + gy.locate(p) for p in ([0.0, 0.0], [1.0, 0.5], [0.5, -0.5], [-0.5, 0.5])]
    errors = {}
    for splitting in ("corrected", "lie"):
        reference = hjb.solve_eps_hjb(model, gx, gy, T, 1e-7, dt=T / 80, splitting=splitting).value
        values = [hjb.solve_eps_hjb(model, gx, gy, T, 1e-7, dt=T / n, splitting=splitting).value for n in (10, 20)]
        errors[splitting] = [max(abs(V[i] - reference[i]) for i in nodes) for V in values]
    assert observed_order([T / 10, T / 20], errors["corrected"]) > 1.7
    assert all(c < lie / 5 for c, lie in zip(errors["corrected"], errors["lie"]))
