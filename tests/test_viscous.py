"""The monotone viscous-HJ scheme (SPEC section 5) against Cole-Hopf: observed orders and monotonicity
(the filtered default is tested in tests/test_high_order.py)."""
import os

import numpy as np
import pytest

import hjb
from hjb import Grid, InputError, make_loss
from hjb.entropy import cole_hopf
from hjb.reference.quadratic import quadratic_cole_hopf
from hjb.output.tables import observed_order
from hjb.solvers.viscous import diffusion_matrix, godunov_hamiltonian, solve_viscous_hj, step_bound


def _sup_error(sol, exact, window):
    inner = np.all(np.abs(sol.grid.nodes()) <= window, axis=-1)
    return float(np.max(np.abs(sol.value - exact)[inner]))


@pytest.mark.parametrize("beta", [1.0, 20.0])
def test_first_order_against_quadratic_closed_form_1d(beta):
    loss = make_loss("quadratic", 1, a=1.0, c=0.5)
    sizes, errors, whole = [], [], []
    for n in (101, 201, 401, 801):
        grid = Grid.box(-4, 4, n)
        sol = solve_viscous_hj(loss, grid, 1.0, beta, scheme="monotone")
        exact = quadratic_cole_hopf(1.0, 0.5, beta, grid.nodes(), 1.0)
        errors.append(_sup_error(sol, exact, 2.0))
        whole.append(float(np.max(np.abs(sol.value - exact))))
        sizes.append(grid.spacings[0])
    assert 0.9 < observed_order(sizes, errors) < 1.1
    assert errors[-1] < 5e-3
    # the outflow wall costs O(nu u_xx) at the wall only: up to it, first order once nu is small
    if beta >= 20:
        assert 0.9 < observed_order(sizes, whole) < 1.1


def test_first_order_against_quadratic_closed_form_2d():
    c = np.array([0.5, -0.25])
    loss = make_loss("quadratic", 2, a=1.0, c=c)
    sizes, errors = [], []
    for n in (21, 41, 81):
        grid = Grid.box([-4, -4], [4, 4], [n, n])
        sol = solve_viscous_hj(loss, grid, 0.5, 2.0, scheme="monotone")
        errors.append(_sup_error(sol, quadratic_cole_hopf(1.0, c, 2.0, grid.nodes(), 0.5), 2.0))
        sizes.append(grid.spacings[0])
    assert 0.85 < observed_order(sizes, errors) < 1.15


def test_first_order_against_cole_hopf_on_rugged_loss():
    """A loss with many local minima: the reference is the log-space quadrature over R."""
    loss = make_loss("rugged", 1)
    sizes, errors = [], []
    for n in (151, 301, 601, 1201):
        grid = Grid.box(-3, 3, n)
        inner = np.abs(grid.nodes()[:, 0]) <= 2
        sol = solve_viscous_hj(loss, grid, 0.3, 2.0, scheme="monotone")
        errors.append(float(np.max(np.abs(sol.value[inner] - cole_hopf(loss, 2.0, grid.nodes()[inner], 0.3)))))
        sizes.append(grid.spacings[0])
    assert 0.85 < observed_order(sizes, errors) < 1.15
    assert errors[-1] < 2e-3


def test_diffusion_matrix_is_an_m_matrix_with_nonnegative_inverse():
    grid = Grid.box([-1, -1], [1, 1], [7, 9])
    M = diffusion_matrix(grid, 0.1, 0.7).toarray()
    off = M - np.diag(np.diag(M))
    assert np.all(off <= 0) and np.all(np.diag(M) > 0)
    np.testing.assert_allclose(M.sum(axis=1), 1.0, atol=1e-12)      # constants are kept
    assert np.all(np.linalg.inv(M) >= -1e-14)


def test_godunov_step_is_monotone_under_its_bound():
    """Each node's update is non-decreasing in every neighbour under dt < step_bound:
    checked by perturbing one node at a time."""
    grid = Grid.box([-2, -2], [2, 2], [9, 9])
    u = make_loss("rugged", 2).value(grid.nodes())
    dt = 0.9 * step_bound(u, grid.spacings)          # the solver's default fraction of the bound
    base = u - dt * godunov_hamiltonian(u, grid.spacings)
    rng = np.random.default_rng(1)
    for flat in rng.choice(u.size, 20, replace=False):
        bumped = u.copy()
        bumped.flat[flat] += 1e-6
        # a violation would be a decrease of order 1e-6 somewhere; round-off is 1e-15
        assert np.all(bumped - dt * godunov_hamiltonian(bumped, grid.spacings) - base >= -1e-13)


def test_discrete_comparison_principle_and_constants():
    loss = make_loss("rugged", 1)
    grid = Grid.box(-3, 3, 301)
    f = loss.value(grid.nodes())
    bump = np.exp(-(grid.nodes()[:, 0] - 0.4) ** 2 / 0.1)
    # the same step for both (within both step bounds), so that the two runs are the same scheme
    dt = 0.9 * min(step_bound(f, grid.spacings), step_bound(f + bump, grid.spacings))
    lower = solve_viscous_hj(f, grid, 0.5, 3.0, dt=dt, scheme="monotone")
    upper = solve_viscous_hj(f + bump, grid, 0.5, 3.0, dt=dt, scheme="monotone")
    assert np.all(upper.value >= lower.value - 1e-12)
    assert np.max(upper.value - lower.value) > 1e-3
    shifted = solve_viscous_hj(f + 2.5, grid, 0.5, 3.0, dt=lower.dt, scheme="monotone")
    np.testing.assert_allclose(shifted.value, lower.value + 2.5, atol=1e-11)


def test_bad_input():
    loss = make_loss("quadratic", 1)
    grid = Grid.box(-1, 1, 21)
    for kwargs, key in (({"beta": 0.0}, "beta"), ({"beta": -2.0}, "beta")):
        with pytest.raises(InputError) as err:
            solve_viscous_hj(loss, grid, 1.0, **kwargs)
        assert err.value.key == key
    with pytest.raises(InputError) as err:
        solve_viscous_hj(loss, grid, -1.0, 1.0)
    assert err.value.key == "t"
    with pytest.raises(InputError) as err:
        solve_viscous_hj(loss, grid, 1.0, 1.0, dt=1.0)
    assert err.value.key == "dt"


CASES = os.path.join(os.path.dirname(__file__), "..", "cases")


def test_kind_viscous_hj_shipped_case_and_bad_input():
    case = hjb.load_case(os.path.join(CASES, "viscous_quadratic.toml"), ["grid.x.points=201"])
    result = hjb.run(case)
    x = result.coords["x"]
    inner = np.abs(x) <= 2
    exact = quadratic_cole_hopf(1.0, 0.5, 2.0, x[:, None], 1.0)
    assert np.max(np.abs(result["value"] - exact)[inner]) < 0.03          # h = 0.04, first order
    np.testing.assert_allclose(result["cole_hopf"][inner], exact[inner], atol=1e-10)
    assert result.attrs["max_difference_cole_hopf_inner_half"] < 0.03
    for override, key in (("solve.beta=0.0", "solve.beta"), ("solve.beta=-1.0", "solve.beta"),
                          ("solve.t=-0.5", "solve.t"), ("model.gamma=1.0", "model.gamma")):
        with pytest.raises(InputError) as err:
            hjb.run(hjb.load_case(os.path.join(CASES, "viscous_quadratic.toml"), [override]))
        assert err.value.key == key
