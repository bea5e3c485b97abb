"""Geometric multigrid on the ball (hjb.multigrid): transfers, hierarchy, convergence of the cycle."""
import numpy as np
import pytest

import hjb.solvers.ball_solve as ball_solve
from hjb import DeepRelaxation, TwoScaleModel, make_loss
from hjb.operators.ball import ball_operator
from hjb.solvers.cell import solve_truncated_cell
from hjb.operators.multigrid import MAX_PECLET, ball_hierarchy, prolongation


def confining(y):
    return -y


@pytest.mark.parametrize("dim, h", [(1, 0.05), (2, 0.1), (3, 0.25)])
def test_prolongation_is_d_linear_interpolation_with_zero_outside(dim, h):
    n = 2.0
    fine, coarse = ball_operator(confining, dim, n, h), ball_operator(confining, dim, n, 2 * h)
    P = prolongation(fine, coarse)
    assert P.shape == (fine.size, coarse.size) and np.all(P.data > 0)
    full = np.isclose(np.asarray(P.sum(axis=1)).ravel(), 1.0)       # rows with every parent inside
    assert full.mean() > 0.5 and not full.all()                       # rows near the sphere lose parents
    rng = np.random.default_rng(dim)
    slope, shift = rng.normal(size=dim), rng.normal()
    affine_c, affine_f = coarse.nodes @ slope + shift, fine.nodes @ slope + shift
    assert np.max(np.abs((P @ affine_c - affine_f)[full])) < 1e-12    # exact on affine functions
    # a coarse node is a fine node, and there P is the injection
    key = {tuple(np.rint(y / h).astype(int)): i for i, y in enumerate(fine.nodes)}
    rows = np.array([key[tuple(np.rint(y / h).astype(int))] for y in coarse.nodes])
    assert np.array_equal(P[rows].toarray(), np.eye(coarse.size))
    # where parents are missing the interpolant is that of values 0 on the sphere: P 1 <= 1
    assert np.all(np.asarray(P.sum(axis=1)).ravel() <= 1.0 + 1e-15)


def test_hierarchy_levels_are_m_matrices_with_full_weighting_restriction():
    n, h, delta = 3.0, 0.02, 1e-6
    fine = ball_operator(confining, 2, n, h)
    cycle = ball_hierarchy(fine, lambda step: ball_operator(confining, 2, n, step), delta)
    sizes = [A.shape[0] for A, _, _ in cycle.levels]
    assert sizes[0] == fine.size and sizes[-1] <= 2000 and len(sizes) >= 4
    assert all(4 * b == pytest.approx(a, rel=0.05) for a, b in zip(sizes[:-1], sizes[1:]))   # halving h
    assert cycle.operator_complexity == pytest.approx(4.0 / 3.0, abs=0.02)
    for A, P, R in cycle.levels:
        off = A.copy()
        off.setdiag(0.0)
        assert off.data.max() <= 0.0 and np.all(A.diagonal() > 0)
        rounding = 64 * np.finfo(float).eps * A.diagonal()              # of the row sum's cancellation
        assert np.all(np.asarray(A.sum(axis=1)).ravel() >= delta - rounding)   # diagonally dominant
        if P is not None:
            assert abs(R - P.T / 4.0).max() == 0.0


@pytest.mark.parametrize("h", [0.04, 0.02, 0.01])
def test_cycle_contracts_independently_of_h(h):
    """The multigrid iteration omega += V(rhs - A omega) reduces the error ~10x per cycle on
    average, at every h (the point of multigrid: a single-grid smoother's factor is
    1 - O(h^2)), even at delta = 1e-8 where cond ~ 1/(delta h^2).  Single cycles can
    stall on the slow mode of exit from D_n, whose rate the coarse grids get only roughly."""
    model = DeepRelaxation(make_loss("quadratic", 2, a=1.0, c=[0.5, 0.0]), 2.0)
    xbar, n, delta = np.array([0.3, 0.1]), 3.0, 1e-8

    def drift(y):
        return model.b(xbar, y)

    op = ball_operator(drift, 2, n, h)
    cycle = ball_hierarchy(op, lambda step: ball_operator(drift, 2, n, step), delta)
    rhs = np.random.default_rng(0).normal(size=op.size)
    direct = ball_solve._Direct(op.matrix(delta))
    exact, _, converged = ball_solve.refine(direct, op, delta, rhs, direct(rhs))     # accurate to rounding
    assert converged
    omega, errors = np.zeros_like(rhs), []
    for _ in range(6):
        omega = omega + cycle(rhs - op.apply(omega, delta))
        errors.append(np.max(np.abs(omega - exact)) / np.max(np.abs(exact)))
    mean_factor = (errors[-1] / errors[0]) ** (1.0 / (len(errors) - 1))
    assert mean_factor < 0.2 and errors[-1] < 1e-5, errors


def test_iterative_solver_handles_a_non_gradient_drift():
    """Rotation added to a confining drift (no potential): multigrid agrees with SuperLU."""
    e1 = np.eye(2)[0]
    model = TwoScaleModel(dim=2, phi=lambda x, y, u: -u * np.broadcast_to(e1, np.shape(y)),
                          b=lambda x, y: -y + 3.0 * np.stack([-y[..., 1], y[..., 0]], axis=-1),
                          g=lambda x: np.zeros(np.shape(x)[:-1]))
    args = (model, [0.0, 0.0], [1.0, 0.0], 3.0, 1e-6, 0.02)
    it = solve_truncated_cell(*args, solver="iterative")
    direct = solve_truncated_cell(*args, solver="direct")
    assert it.stats["levels"] >= 3 and it.refinements < 20
    assert abs(it.delta_omega_at_center - direct.delta_omega_at_center) < 1e-10
    assert np.nanmax(np.abs(it.omega - direct.omega)) * 1e-6 < 1e-10


def test_non_convergence_is_an_error_naming_the_way_out(monkeypatch):
    monkeypatch.setattr(ball_solve._Multigrid, "max_corrections", 1)
    model = DeepRelaxation(make_loss("quadratic", 2, a=1.0, c=[0.5, 0.0]), 2.0)
    with pytest.raises(RuntimeError, match=r"did not converge in 1 cycles.*solver = 'direct'"):
        solve_truncated_cell(model, [0.3, 0.1], [1.0, 0.5], 3.0, 1e-6, 0.02, solver="iterative")


def mean_contraction(cycle, op, delta, cycles=8):
    """Geometric mean of |c_k+1| / |c_k| over the corrections of the multigrid iteration."""
    rhs = np.random.default_rng(1).normal(size=op.size)
    omega, sizes = np.zeros(op.size), []
    for _ in range(cycles + 1):
        correction = cycle(rhs - op.apply(omega, delta))
        omega += correction
        sizes.append(np.max(np.abs(correction)))
    return (sizes[-1] / sizes[1]) ** (1.0 / (cycles - 1))


def test_coarsening_stops_before_the_cell_peclet_number_exceeds_its_bound(monkeypatch):
    """d = 3, quadratic loss, gamma = 2, n = 3: the level at step 0.48 would have cell
    Peclet ~2.2 and stall the cycle, so the hierarchy ends at step 0.24 (Peclet ~1.1)."""
    model = DeepRelaxation(make_loss("quadratic", 3, a=1.0, c=[0.5, 0.0, 0.0]), 2.0)
    xbar = np.array([0.3, 0.1, 0.0])

    def drift(y):
        return model.b(xbar, y)

    made = []

    def operator_at(step):
        made.append(ball_operator(drift, 3, 3.0, step))
        return made[-1]

    fine = ball_operator(drift, 3, 3.0, 0.12)
    cycle = ball_hierarchy(fine, operator_at, 1e-5)
    assert len(cycle.levels) == len(made) == 2                      # the last one made was refused
    assert made[0].peclet <= MAX_PECLET < made[-1].peclet
    assert cycle.levels[-1][0].shape[0] == made[0].size > 2000     # stopped by Peclet, not by size
    monkeypatch.setattr("hjb.operators.multigrid.MAX_PECLET", np.inf)
    unbounded = ball_hierarchy(fine, operator_at, 1e-5)
    assert len(unbounded.levels) == 3
    assert mean_contraction(cycle, fine, 1e-5) < 0.35 < 0.6 < mean_contraction(unbounded, fine, 1e-5)


def test_iterative_solver_in_three_dimensions_agrees_with_superlu():
    model = DeepRelaxation(make_loss("quadratic", 3, a=1.0, c=[0.5, 0.0, 0.0]), 2.0)
    args = (model, [0.3, 0.1, 0.0], [1.0, 0.5, 0.0], 2.0, 1e-5, 0.15)
    it = solve_truncated_cell(*args, solver="iterative")
    direct = solve_truncated_cell(*args, solver="direct")
    assert it.stats["levels"] >= 2
    assert abs(it.delta_omega_at_center - direct.delta_omega_at_center) < 1e-12
