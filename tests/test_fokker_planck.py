"""Fokker-Planck equation of SGD (SPEC section 7): the Ornstein-Uhlenbeck solution, mass and
positivity, the Gibbs limit, orders in time, the spectral gap, the current, basins, and bad input."""
import copy

import numpy as np
import pytest
import tomli_w

import hjb
from hjb.cli import main
from hjb.limits import limits
from hjb.operators.generator import reflecting_generator
from hjb.output.tables import observed_order
from hjb.reference.exit_time import ou_density
from hjb.runner.case import case_from_dict
from hjb.solvers.fokker_planck import FokkerPlanckStep, solve_fokker_planck
from hjb.solvers.relaxation import GroundedGenerator, descent_basins, kolmogorov_defect, spectral_gap

A, C, BETA, X0, WIDTH = 1.0, 0.5, 2.0, -2.0, 0.1
QUADRATIC = hjb.make_loss("quadratic", a=A, c=C)
TIMES = [0.1, 0.25, 0.5, 1.0, 2.0]


@pytest.fixture(scope="module")
def ou():
    grid = hjb.Grid.box(-7.0, 7.0, 1401)
    return solve_fokker_planck(QUADRATIC, grid, BETA, TIMES, X0, WIDTH)


def l1_errors(sol, width=WIDTH, x0=X0):
    h = sol.cell_volume
    return np.array([np.sum(np.abs(sol.density[i] - ou_density(A, C, BETA, x0, width, t, sol.grid.nodes()))) * h
                     for i, t in enumerate(sol.times)])


# --------------------------------------------------------------------------- Ornstein-Uhlenbeck

def test_ou_density_l1_error(ou):
    assert np.max(l1_errors(ou)) <= 1e-2


def test_mass_is_conserved_and_density_non_negative(ou):
    assert np.max(np.abs(ou.mass - 1.0)) <= 1e-9
    assert np.max(np.abs(ou.history_l1)) <= 2.0 + 1e-9
    assert ou.density.min() >= 0.0
    np.testing.assert_array_equal(ou.times, TIMES)                 # every requested time is hit


def test_spectral_gap_is_the_ou_rate(ou):
    assert ou.spectral_gap == pytest.approx(A, rel=0.02)


def test_current_against_the_exact_gaussian(ou):
    """J = -(rho f' + (1/beta) rho') of the exact Gaussian at the edge midpoints."""
    x = ou.grid.axes[0].nodes
    mid = 0.5 * (x[1:] + x[:-1])
    t = ou.times[2]
    decay = np.exp(-A * t)
    mean, var = C + (X0 - C) * decay, WIDTH**2 * decay**2 + (1 - decay**2) / (A * BETA)
    rho = ou_density(A, C, BETA, X0, WIDTH, t, mid[:, None])
    exact = -(rho * A * (mid - C) - rho * (mid - mean) / var / BETA)
    (current,) = ou.current(2)
    assert np.max(np.abs(current - exact)) <= 1e-2 * np.max(np.abs(exact))


def test_the_discrete_equilibrium_carries_no_current():
    grid = hjb.Grid.box(-5.0, 5.0, 401)
    sol = solve_fokker_planck(hjb.make_loss("wide_narrow"), grid, 2.0, [1.0], -1.5)
    Q = reflecting_generator(grid.shape, (0,), grid.spacings, -2.0 * sol.loss.grad(grid.nodes())) / 2.0
    sol.density[0] = GroundedGenerator(Q.tocsr(), 200).stationary() / sol.cell_volume
    assert np.max(np.abs(sol.current(0)[0])) < 1e-13


# --------------------------------------------------------------------------- time stepping

@pytest.mark.parametrize("scheme,order", [("trbdf2", 2.0), ("euler", 1.0)])
def test_order_in_time(scheme, order):
    """The time error against a 16x finer step on the same grid: order 2 (TR-BDF2), 1 (Euler)."""
    grid = hjb.Grid.box(-6.0, 6.0, 241)
    run = lambda dt: solve_fokker_planck(QUADRATIC, grid, BETA, [1.0], X0, 0.3, dt=dt, scheme=scheme).density[-1]  # noqa
    reference = run(0.1 / 64)
    steps = [0.1, 0.05, 0.025]
    errors = [np.sum(np.abs(run(dt) - reference)) for dt in steps]
    assert observed_order(steps, errors) == pytest.approx(order, abs=0.25)


def test_backward_euler_step_is_positive_and_conservative():
    grid = hjb.Grid.box([-2.0, -2.0], [2.0, 2.0], [21, 21])
    loss = hjb.make_loss("wide_narrow", 2, wide_center=[-1.0, 0.0], narrow_center=[1.0, 0.0], narrow_width=0.2)
    Q = reflecting_generator(grid.shape, (0, 1), grid.spacings, -10.0 * loss.grad(grid.nodes())) / 10.0
    step = FokkerPlanckStep.build(Q.T.tocsr(), 5.0, "euler")
    m = np.random.default_rng(2).random(grid.size) * (np.arange(grid.size) % 3 == 0)
    new = step(m)
    assert new.min() >= 0.0 and np.sum(new) == pytest.approx(np.sum(m), rel=1e-13)


def test_trbdf2_falls_back_to_euler_where_it_would_go_negative():
    grid = hjb.Grid.box(-7.0, 7.0, 1401)
    sol = solve_fokker_planck(QUADRATIC, grid, BETA, [0.5, 1.0, 2.0], X0, 0.02, dt=0.5)
    assert sol.fallbacks > 0 and sol.density.min() >= 0.0 and np.max(np.abs(sol.mass - 1)) <= 1e-9


def test_times_are_hit_exactly_and_t0_is_the_initial_gaussian():
    grid = hjb.Grid.box(-7.0, 7.0, 281)
    sol = solve_fokker_planck(QUADRATIC, grid, BETA, [0.0, 0.3, 0.7, 2.0], X0, 0.3, frames=5)
    for t in (0.3, 0.7, 2.0):
        assert np.min(np.abs(sol.history_time - t)) < 1e-12
    x = grid.axes[0].nodes
    gaussian = np.exp(-(x - X0) ** 2 / (2 * 0.3**2))
    np.testing.assert_allclose(sol.density[0], gaussian / (gaussian.sum() * sol.cell_volume), rtol=1e-12)
    assert sol.frames.shape == (5, 281) and sol.frame_times[-1] == 2.0


def test_step_limit_before_anything_is_factorised():
    with limits(max_steps=50), pytest.raises(hjb.InputError) as info:
        solve_fokker_planck(QUADRATIC, hjb.Grid.box(-7.0, 7.0, 141), BETA, [1.0], X0, dt=1e-3)
    assert info.value.key == "dt"


# --------------------------------------------------------------------------- relaxation

def test_gibbs_limit_wide_narrow():
    grid = hjb.Grid.box(-5.0, 5.0, 1001)
    loss = hjb.make_loss("wide_narrow")
    sol = solve_fokker_planck(loss, grid, 2.0, [10.0, 300.0], -1.5)
    assert sol.l1_to_gibbs[-1] <= 5e-3
    assert 0.0 < sol.time_to_equilibrium(1e-2) < 300.0
    assert np.isnan(sol.time_to_equilibrium(1e-12))
    # mass leaks over the barrier into the narrow well, down to the Gibbs mass of the wide basin
    assert sol.basin_mass[0] > 0.85 > 0.7 > sol.basin_mass[-1]
    assert sol.basin_mass[-1] == pytest.approx(np.sum(sol.gibbs[sol.basin]) * sol.cell_volume, abs=1e-3)


def _generator(loss, grid, beta):
    drift = -beta * loss.grad(grid.nodes())
    return (reflecting_generator(grid.shape, tuple(range(grid.dim)), grid.spacings, drift) / beta).tocsr()


@pytest.mark.parametrize("name,params,reversible", [
    ("quadratic", dict(a=1.0, c=[0.5, 0.0]), True),
    ("wide_narrow", dict(wide_center=[-1.5, 0.0], narrow_center=[1.5, 0.3], narrow_width=0.3), False)])
def test_spectral_gap_sparse_against_dense(name, params, reversible):
    """ARPACK on the group inverse (eigsh when reversible, eigs otherwise) against dense eigenvalues."""
    import hjb.solvers.relaxation as relaxation
    grid = hjb.Grid.box([-3.0, -3.0], [3.0, 3.0], [15, 15])
    Q = _generator(hjb.make_loss(name, 2, **params), grid, 2.0)
    assert (kolmogorov_defect(Q, grid.shape) < 1e-12) == reversible
    dense = np.sort(np.linalg.eigvals(-Q.toarray()).real)[1]
    saved, relaxation.DENSE_STATES = relaxation.DENSE_STATES, 0
    try:
        assert spectral_gap(Q, grid.shape) == pytest.approx(dense, rel=1e-8)
    finally:
        relaxation.DENSE_STATES = saved
    assert spectral_gap(Q, grid.shape) == pytest.approx(dense, rel=1e-8)
    assert kolmogorov_defect(_generator(hjb.make_loss(name), hjb.Grid.box(-3.0, 3.0, 23), 2.0), (23,)) == 0.0


def test_basins_of_descent():
    x = np.linspace(-5.0, 5.0, 1001)
    loss = hjb.make_loss("wide_narrow")
    f = loss.value(x[:, None])
    labels = descent_basins(f)
    home = labels == labels[np.argmin(np.abs(x + 1.5))]
    top = np.argmax(np.where((x > -1.0) & (x < 1.4), f, -np.inf))  # the barrier top between the wells
    # the top itself flows to its lower neighbour
    np.testing.assert_array_equal(home, np.arange(len(x)) < top + (f[top - 1] < f[top + 1]))
    grid = hjb.Grid.box([-3.0, -3.0], [3.0, 3.0], [61, 61])
    f2 = hjb.make_loss("double_well", 2).value(grid.nodes())
    assert len(np.unique(descent_basins(f2))) >= 2                  # the ring of minima splits into basins


# --------------------------------------------------------------------------- bad input

@pytest.mark.parametrize("kwargs,key", [
    (dict(beta=-1.0), "beta"), (dict(times=[1.0, 0.5]), "times"), (dict(times=[-1.0]), "times"),
    (dict(times=[]), "times"), (dict(x0=9.0), "x0"), (dict(x0=[0.0, 0.0]), "x0"), (dict(width=0.0), "width"),
    (dict(dt=-0.1), "dt"), (dict(scheme="trbdf3"), "scheme"),
])
def test_bad_input_names_the_argument(kwargs, key):
    args = {"beta": BETA, "times": [1.0], "x0": X0, **kwargs}
    with pytest.raises(hjb.InputError) as info:
        solve_fokker_planck(QUADRATIC, hjb.Grid.box(-7.0, 7.0, 71), **args)
    assert info.value.key == key and "\n" not in str(info.value)


CASE = {"kind": "fokker_planck", "title": "t", "model": {"dim": 1, "loss": {"name": "quadratic", "a": 1.0}},
        "grid": {"x": {"lower": -6.0, "upper": 6.0, "points": 241}}, "solve": {"beta": 2.0, "t": 1.0, "x0": -2.0}}


@pytest.mark.parametrize("solve,message", [
    ({"t": None, "times": [1.0, 0.5]}, "solve.times: must be non-negative and strictly increasing"),
    ({"times": [1.0]}, "solve.times: give t"),
    ({"t": None}, "solve.t: missing"),
    ({"x0": 7.0}, "solve.x0: [7.] lies outside the x-box"),
    ({"width": -0.1}, "solve.width: must be positive"),
    ({"scheme": "rk4"}, "solve.scheme: must be one of"),
])
def test_bad_case_exits_2_naming_the_key(tmp_path, capsys, solve, message):
    data = copy.deepcopy(CASE)
    for key, value in solve.items():
        if value is None:
            del data["solve"][key]
        else:
            data["solve"][key] = value
    path = tmp_path / "case.toml"
    path.write_text("# bad\n" + tomli_w.dumps(data))
    code = main(["run", str(path), "-o", str(tmp_path / "out.h5"), "--quiet"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and message in err and len(err.splitlines()) == 1, err


def test_the_kind_stores_the_spec_datasets_and_sweeps_t(tmp_path):
    data = copy.deepcopy(CASE)
    data["solve"]["t"] = [0.5, 1.0]
    result = hjb.run(case_from_dict(data))
    assert list(result.members) == ["t=0.5", "t=1"]
    single = result.members["t=1"]
    assert single.dims["density"] == ("time", "x") and list(single.coords["time"]) == [1.0]
    assert single.attrs["spectral_gap"] == pytest.approx(1.0, rel=0.02)
    assert single.attrs["max_l1_error_exact"] < 1e-2 and single["exact"].shape == (1, 241)
    hjb.save(result, tmp_path / "out.h5")
    back = hjb.load(tmp_path / "out.h5").members["t=1"]
    np.testing.assert_array_equal(back["density"], single["density"])
