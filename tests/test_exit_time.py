"""Mean exit time (SPEC section 7): the closed form in d = 1, second order, the M-matrix and the
comparison principle, the disc against the radial closed form, box against ball, Eyring-Kramers,
and bad input at the solver and at the case level.

Errors are measured in the max norm relative to max tau: max_i |tau_h(x_i) - tau(x_i)| / max tau."""
import numpy as np
import pytest
import scipy.sparse.linalg as spla
from scipy.integrate import quad

import hjb
from hjb.cli import main
from hjb.losses import Loss
from hjb.output.tables import observed_order
from hjb.reference.exit_time import (escape_landmarks_1d, exit_time_1d, kramers_time,
                                     radial_exit_time_quadratic)
from hjb.runner.case import case_from_dict
from hjb.solvers.exit_time import exit_time_operator, mean_exit_time

DOUBLE_WELL = hjb.make_loss("double_well")


def zero_loss(dim):
    return Loss("zero", dim, value=lambda y: np.zeros(np.shape(y)[:-1]), grad=lambda y: np.zeros(np.shape(y)),
                lip=0.0, lower=0.0)


def relative_error(loss, a, b, beta, points, scheme="fitted"):
    grid = hjb.Grid.box(a, b, points)
    tau = mean_exit_time(loss, grid, beta, scheme=scheme).value
    exact = exit_time_1d(loss, a, b, beta, grid.axes[0].nodes)
    return float(np.max(np.abs(tau - exact)) / np.max(exact))


# --------------------------------------------------------------------------- accuracy in d = 1

@pytest.mark.parametrize("beta,a,b", [(2.0, -2.0, 0.6), (6.0, -2.0, 0.6), (8.0, -2.5, 1.0), (16.0, -2.5, 1.0),
                                      (32.0, -2.5, 1.0)])
def test_closed_form_at_801_points(beta, a, b):
    assert relative_error(DOUBLE_WELL, a, b, beta, 801) <= 2e-3


@pytest.mark.parametrize("scheme,beta,a,b,low,high", [("fitted", 16.0, -2.5, 1.0, 1.8, 2.3),
                                                     ("fitted", 2.0, -2.0, 0.6, 1.8, 2.3),
                                                     ("upwind", 2.0, -2.0, 0.6, 0.8, 1.2)])
def test_observed_order(scheme, beta, a, b, low, high):
    """Fitted rates: second order; upwind rates: first order (four refinements; the upwind
    error is pre-asymptotic at large beta, where it sits in the exponent)."""
    sizes = [101, 201, 401, 801]
    errors = [relative_error(DOUBLE_WELL, a, b, beta, n, scheme) for n in sizes]
    assert low <= observed_order([(b - a) / (n - 1) for n in sizes], errors) <= high


def test_the_closed_form_matches_nested_quadrature():
    """The log-scale Gauss-Legendre evaluation against scipy.integrate.quad of the SPEC formula."""
    beta, a, b = 2.0, -2.0, 0.6
    f = lambda s: float(DOUBLE_WELL.value(np.array([s])))                       # noqa: E731
    inner = lambda s: quad(lambda z: np.exp(-beta * f(z)), a, s, epsabs=0, epsrel=1e-13)[0]   # noqa: E731
    E = lambda x: quad(lambda s: np.exp(beta * f(s)), a, x, epsabs=0, epsrel=1e-13)[0]   # noqa: E731
    K = lambda x: quad(lambda s: np.exp(beta * f(s)) * inner(s), a, x, epsabs=0, epsrel=1e-12)[0]  # noqa: E731
    points = np.array([-1.5, -1.0, 0.3])
    C = beta * K(b) / E(b)
    reference = np.array([C * E(x) - beta * K(x) for x in points])
    np.testing.assert_allclose(exit_time_1d(DOUBLE_WELL, a, b, beta, points), reference, rtol=1e-10)


def test_zero_loss_is_exact_in_d1():
    """f = 0: tau = beta (x - a)(b - x)/2, a quadratic, which the scheme reproduces exactly."""
    grid = hjb.Grid.box(-1.0, 2.0, 61)
    x = grid.axes[0].nodes
    exact = 3.0 * (x + 1.0) * (2.0 - x) / 2.0
    np.testing.assert_allclose(mean_exit_time(zero_loss(1), grid, 3.0).value, exact, atol=1e-12)
    np.testing.assert_allclose(exit_time_1d(zero_loss(1), -1.0, 2.0, 3.0, x), exact, atol=1e-12)


# --------------------------------------------------------------------------- the matrix

def _strong_2d_loss():
    return hjb.make_loss("wide_narrow", 2, wide_center=[-1.0, 0.2], narrow_center=[1.0, -0.3], narrow_width=0.2)


@pytest.mark.parametrize("radius", [None, 1.37])
@pytest.mark.parametrize("dim", [1, 2])
def test_m_matrix_and_comparison_principle(dim, radius):
    """Off-diagonals <= 0, positive diagonal, row sums >= 0 and > 0 next to the boundary; a
    non-negative inverse; a larger right-hand side gives a larger tau everywhere."""
    loss = DOUBLE_WELL if dim == 1 else _strong_2d_loss()
    grid = hjb.Grid.box([-1.5] * dim, [1.5] * dim, [31] * dim)
    op = exit_time_operator(loss, grid, 20.0, radius=radius, center=np.zeros(dim) if radius else None)
    A = op.matrix(0.0).tocsr()
    coo = A.tocoo()
    off = coo.row != coo.col
    assert np.all(coo.data[off] <= 0.0) and np.all(A.diagonal() > 0.0)
    row_sums = np.asarray(A.sum(axis=1)).ravel()
    assert np.all(row_sums >= -1e-9 * A.diagonal()) and np.any(row_sums > 0)
    assert np.linalg.inv(A.toarray()).min() >= -1e-12
    rng = np.random.default_rng(1)
    r = rng.random(op.size)
    lu = spla.splu(A.tocsc())
    low, high = lu.solve(r), lu.solve(r + rng.random(op.size))
    assert np.all(low >= 0.0) and np.all(high - low >= 0.0)


def test_tau_is_positive_inside_zero_on_the_walls_nan_outside_the_ball():
    grid = hjb.Grid.box([-2.0, -2.0], [2.0, 2.0], [41, 41])
    box = mean_exit_time(_strong_2d_loss(), grid, 2.0)
    assert np.all(box.value[1:-1, 1:-1] > 0) and np.all(box.value[0] == 0) and np.all(box.value[:, -1] == 0)
    ball = mean_exit_time(_strong_2d_loss(), grid, 2.0, radius=1.5)
    r = np.linalg.norm(grid.nodes(), axis=-1)
    assert np.all(np.isnan(ball.value[r > 1.5 + 1e-9])) and np.all(ball.value[r < 1.5 - 1e-9] > 0)


# --------------------------------------------------------------------------- the disc

def test_disc_zero_loss_matches_beta_r2_over_4():
    """f = 0 on the disc of radius R: tau = beta (R^2 - r^2)/4, reproduced by Shortley-Weller."""
    grid = hjb.Grid.box([-1.3, -1.3], [1.3, 1.3], [53, 53])
    for solver in ("direct", "iterative"):
        sol = mean_exit_time(zero_loss(2), grid, 2.0, radius=1.2, solver=solver)
        exact = radial_exit_time_quadratic(0.0, 2.0, 1.2, np.linalg.norm(grid.nodes(), axis=-1))
        inside = np.isfinite(sol.value)
        np.testing.assert_allclose(sol.value[inside], exact[inside], atol=1e-10)


def test_disc_quadratic_second_order_against_the_radial_closed_form():
    a, beta, R = 1.0, 3.0, 1.5
    loss = hjb.make_loss("quadratic", 2, a=a, c=0.0)
    errors, steps = [], []
    for J in (24, 48, 96):
        h = R / J * 1.02                          # a radius off the lattice: cut cells everywhere
        n = int(np.floor(R / h)) + 1
        grid = hjb.Grid.box([-n * h] * 2, [n * h] * 2, [2 * n + 1] * 2)
        sol = mean_exit_time(loss, grid, beta, radius=R, solver="iterative")
        exact = radial_exit_time_quadratic(a, beta, R, np.linalg.norm(grid.nodes(), axis=-1))
        inside = np.isfinite(sol.value)
        errors.append(np.max(np.abs(sol.value[inside] - exact[inside])) / np.max(exact[inside]))
        steps.append(h)
    assert errors[-1] < 1e-3
    assert 1.7 <= observed_order(steps, errors) <= 2.4


def test_box_and_ball_agree_in_d1():
    """The ball of radius R about c in d = 1 is the box (c - R, c + R): both routes are within
    discretisation error of the closed form and of each other (identical for f = 0)."""
    grid = hjb.Grid.box(-2.5, 1.0, 701)
    ball = mean_exit_time(DOUBLE_WELL, grid, 6.0, radius=1.5, center=-1.0)
    inner = hjb.Grid.box(-2.5, 0.5, 601)
    box = mean_exit_time(DOUBLE_WELL, inner, 6.0)
    on_ball = ball.value[:601]
    assert np.all(np.isnan(ball.value[601:]))
    assert np.max(np.abs(on_ball - box.value)) / np.max(box.value) < 1e-4
    exact = exit_time_1d(DOUBLE_WELL, -2.5, 0.5, 6.0, inner.axes[0].nodes)
    assert np.max(np.abs(on_ball - exact)) / np.max(exact) < 1e-4
    flat_ball = mean_exit_time(zero_loss(1), grid, 6.0, radius=1.5, center=-1.0).value[:601]
    np.testing.assert_allclose(flat_ball, mean_exit_time(zero_loss(1), inner, 6.0).value, atol=1e-11)


# --------------------------------------------------------------------------- Eyring-Kramers

def test_kramers_formula_in_d1_and_its_d2_reduction():
    beta = 10.0
    expected = 2 * np.pi / np.sqrt(2.0 * 1.0) * np.exp(beta * 0.25)
    assert kramers_time(DOUBLE_WELL, -0.9, 0.05, beta) == pytest.approx(expected, rel=1e-8)
    k = 3.0                                                        # f(x, y) = double_well(x) + k y^2/2
    tube = Loss("tube", 2, value=lambda z: 0.25 * (z[..., 0] ** 2 - 1) ** 2 + 0.5 * k * z[..., 1] ** 2,
                grad=lambda z: np.stack([(z[..., 0] ** 2 - 1) * z[..., 0], k * z[..., 1]], axis=-1),
                lip=np.inf, lower=0.0)
    assert kramers_time(tube, [-1.0, 0.1], [0.0, 0.0], beta) == pytest.approx(expected, rel=1e-8)
    with pytest.raises(hjb.InputError) as info:
        kramers_time(DOUBLE_WELL, 0.1, 0.0, beta)                   # the barrier top is no minimum
    assert info.value.key == "minimum"


def test_pde_over_kramers_tends_to_one():
    ratios = []
    for beta in (8.0, 16.0, 32.0):
        grid = hjb.Grid.box(-2.5, 1.0, 801)
        sol = mean_exit_time(DOUBLE_WELL, grid, beta)
        x = grid.axes[0].nodes
        assert escape_landmarks_1d(x, DOUBLE_WELL.value(x[:, None])) == pytest.approx((-1.0, 0.0), abs=0.01)
        ratios.append(sol.value[np.argmin(np.abs(x + 1.0))] / kramers_time(DOUBLE_WELL, -1.0, 0.0, beta))
    assert ratios[0] > ratios[1] > ratios[2] > 1.0 and ratios[2] < 1.1


# --------------------------------------------------------------------------- bad input

@pytest.mark.parametrize("kwargs,key", [
    (dict(beta=0.0), "beta"), (dict(beta=np.inf), "beta"), (dict(radius=-1.0), "radius"),
    (dict(radius=5.0), "radius"), (dict(radius=1.0, center=0.013), "center"), (dict(solver="iterativ"), "solver"),
    (dict(solver="iterative"), "solver"), (dict(scheme="upwind", radius=1.0), "scheme"), (dict(scheme="fit"), "scheme"),
])
def test_bad_input_names_the_argument(kwargs, key):
    args = {"beta": 2.0, **kwargs}
    with pytest.raises(hjb.InputError) as info:
        mean_exit_time(DOUBLE_WELL, hjb.Grid.box(-2.0, 2.0, 41), **args)
    assert info.value.key == key and "\n" not in str(info.value)


CASE = {"kind": "exit_time", "title": "t", "model": {"dim": 1, "loss": {"name": "double_well"}},
        "grid": {"x": {"lower": -2.5, "upper": 1.0, "points": 351}}, "solve": {"beta": 8.0}}


@pytest.mark.parametrize("change,message", [
    (("solve", "beta", -1.0), "solve.beta: must be positive"),
    (("solve", "radius", 9.0), "solve.radius: the ball of radius 9"),
    (("solve", "center", 0.0123), "solve.center: must be a grid node"),
    (("solve", "solver", "iterative"), "solve.solver: 'iterative' (geometric multigrid) works on a ball"),
    (("solve", "gamma", 1.0), "solve.gamma: unknown key"),
])
def test_bad_case_exits_2_naming_the_key(tmp_path, capsys, change, message):
    import copy

    import tomli_w
    data = copy.deepcopy(CASE)
    data[change[0]][change[1]] = change[2]
    if change[1] == "center":
        data["solve"]["radius"] = 0.5
    path = tmp_path / "case.toml"
    path.write_text("# bad\n" + tomli_w.dumps(data))
    code = main(["run", str(path), "-o", str(tmp_path / "out.h5"), "--quiet"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and message in err and len(err.splitlines()) == 1, err
    assert not (tmp_path / "out.h5").exists()


def test_the_kind_stores_tau_the_closed_form_and_kramers():
    result = hjb.run(case_from_dict(CASE))
    assert result.dims["value"] == ("x",) and result["value"].shape == (351,)
    assert result.attrs["max_relative_error_closed_form"] < 2e-3
    assert result.attrs["tau_at_minimum"] / result.attrs["kramers_time"] == pytest.approx(1.25, abs=0.02)
