"""Each time-stepping solver's named step, tested alone: monotone (the discrete comparison
principle, SPEC section 9), constants kept; and the step limit enforced from the planned
step count, before anything is factorised."""
import numpy as np
import pytest

import hjb
from hjb.cli import main
from hjb.limits import limits
from hjb.operators import fast_solve
from hjb.solvers import eps_hjb_step
from hjb.solvers.effective import EffectiveStep
from hjb.solvers.eps_hjb import EpsHJBStep, slow_transport
from hjb.solvers.viscous import ViscousStep, step_bound


def _grids(n=41):
    return hjb.Grid.box(-3, 3, n), hjb.Grid.box(-2.5, 2.5, n, name="y")


def _monotone_and_constant(step, shape, rng, atol=1e-12):
    low = rng.normal(size=shape)
    high = low + rng.uniform(0.0, 1.0, size=shape)          # high >= low everywhere
    assert np.all(step(high) >= step(low) - atol)
    bump = low.copy()
    bump.flat[rng.integers(low.size)] += 1.0                 # raising one node raises nothing less
    assert np.all(step(bump) >= step(low) - atol)
    np.testing.assert_allclose(step(np.full(shape, 2.75)), 2.75, rtol=0, atol=atol)


@pytest.mark.parametrize("dt", [0.005, 0.05])                # below and far above the CFL step
def test_eps_hjb_step_is_monotone_and_keeps_constants(quadratic_model, dt):
    gx, gy = _grids()
    step = EpsHJBStep.build(quadratic_model, gx, gy, eps=1e-3, dt=dt)
    # the LU solve of I - (dt/eps) L (dt/eps up to 50 here) rounds constants at ~1e-12
    _monotone_and_constant(step, gx.shape + gy.shape, np.random.default_rng(1), atol=1e-10)


@pytest.mark.parametrize("interpolation, splitting", [("cubic", "corrected"), ("cubic", "lie"), ("linear", "lie")])
def test_eps_hjb_step_is_the_solver_step(quadratic_model, interpolation, splitting):
    """One step of the solver is the named step applied to the terminal data."""
    gx, gy = _grids(21)
    sol = hjb.solve_eps_hjb(quadratic_model, gx, gy, T=0.1, eps=0.1, dt=0.1, interpolation=interpolation,
                            splitting=splitting)
    step = EpsHJBStep.build(quadratic_model, gx, gy, 0.1, 0.1, transport=slow_transport(quadratic_model, gx, gy),
                            interpolation=interpolation, splitting=splitting)
    g = np.broadcast_to(quadratic_model.g(gx.nodes()).reshape(gx.shape + (1,)), gx.shape + gy.shape)
    np.testing.assert_array_equal(sol.value, step(g.copy()))


def test_effective_step_is_monotone_and_keeps_constants(quadratic_model):
    grid = hjb.Grid.box(-3, 3, 61)
    table = hjb.averaged_velocities(quadratic_model, grid.nodes().reshape(-1, 1))
    from hjb.operators.transport import CharacteristicTransport
    transport = CharacteristicTransport(grid.shape, (0,), grid.spacings, [table[:, j, :] for j in range(table.shape[1])])
    step = EffectiveStep.build(transport, transport.courant_step())
    _monotone_and_constant(step, grid.shape, np.random.default_rng(2))


@pytest.mark.parametrize("beta", [2.0, np.inf])
def test_viscous_step_is_monotone_and_keeps_constants_below_its_bound(beta):
    grid = hjb.Grid.box(-2, 2, 81)
    u = np.sin(3 * grid.nodes()[..., 0])
    dt = 0.5 * step_bound(u, grid.spacings)
    step = ViscousStep.build(grid, dt, beta)
    # monotone for data whose Lipschitz bound the step resolves: u and u + a small smooth bump
    bumped = u + 0.05 * np.exp(-grid.nodes()[..., 0] ** 2)
    assert step_bound(bumped, grid.spacings) >= dt
    assert np.all(step(bumped) >= step(u) - 1e-12)
    np.testing.assert_allclose(step(np.full(grid.shape, -1.5)), -1.5, atol=1e-12)


def test_step_limit_is_checked_before_any_factorisation(quadratic_model, monkeypatch):
    import scipy.sparse.linalg as spla

    def refuse(*args, **kwargs):
        raise AssertionError("factorised before the step count was checked")

    monkeypatch.setattr(spla, "splu", refuse)
    monkeypatch.setattr(fast_solve, "factorize", refuse)
    monkeypatch.setattr(eps_hjb_step, "factorize", refuse)
    gx, gy = _grids(21)
    with limits(max_steps=10), pytest.raises(hjb.InputError, match="needs 100 time steps, more than the limit of 10"):
        hjb.solve_eps_hjb(quadratic_model, gx, gy, T=1.0, eps=0.1, dt=0.01)
    with limits(max_steps=10), pytest.raises(hjb.InputError, match="more than the limit of 10"):
        hjb.solve_viscous_hj(hjb.make_loss("quadratic"), gx, 1.0, beta=2.0, dt=0.001)
    with limits(max_steps=3), pytest.raises(hjb.InputError, match="more than the limit of 3"):
        hjb.solve_effective(quadratic_model, gx, 5.0)


def test_the_api_has_a_step_limit_by_default(quadratic_model):
    gx, gy = _grids(21)
    with pytest.raises(hjb.InputError) as err:
        hjb.solve_eps_hjb(quadratic_model, gx, gy, T=1.0, eps=0.1, dt=1e-9)
    assert err.value.key == "steps" and "10,000,000" in err.value.message


def test_cli_step_limit_from_the_environment(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("HJB_MAX_STEPS", "5")
    case = tmp_path / "c.toml"
    case.write_text('kind = "effective"\n[model]\ngamma = 2.0\n[model.loss]\nname = "quadratic"\n'
                    '[grid]\nx = { lower = -3.0, upper = 3.0, points = 61 }\n[solve]\nT = 1.0\n')
    assert main(["run", str(case), "-o", str(tmp_path / "o.h5"), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("hjb: solve: needs") and "more than the limit of 5" in err and "\n" not in err
    assert not (tmp_path / "o.h5").exists()
