"""The truncated delta-cell problem (SPEC section 3, route 2): scheme, accuracy, meaning, interface."""
import numpy as np
import pytest
import scipy.sparse.linalg as spla
from scipy.special import i0

import hjb
from hjb import DeepRelaxation, InputError, TwoScaleModel, make_loss
from hjb.runner.case import case_from_dict
from hjb.operators.ball import ball_operator
from hjb.solvers.cell import solve_truncated_cell
from hjb.output.tables import observed_order
from hjb.reference.quadratic import gibbs_mean, gibbs_variance, quadratic_hbar

A_, C_, GAMMA = 1.0, 0.5, 2.0


def quadratic_model(dim=1):
    return DeepRelaxation(make_loss("quadratic", dim, a=A_, c=C_), GAMMA)


def unit_source_model(dim, drift):
    """A model with H = 1 for p = e_1 (phi = -u e_1, U = [0, 1]) and fast drift ``drift(y)``."""
    e1 = np.eye(dim)[0]
    return TwoScaleModel(dim=dim, phi=lambda x, y, u: -u * np.broadcast_to(e1, np.shape(y)),
                         b=lambda x, y: drift(y), g=lambda x: np.zeros(np.shape(x)[:-1]))


def rotation(y):
    return np.stack([-y[..., 1], y[..., 0]], axis=-1)


def hbar_closed_form(x, p):
    """SPEC section 9 for the quadratic model of this file, d = 1, at paired x and p."""
    values = quadratic_hbar(A_, C_, GAMMA, np.reshape(x, (-1, 1)), np.reshape(p, (-1, 1)))
    return values if np.ndim(x) else float(values[0])


# --------------------------------------------------------------------------- the matrix

@pytest.mark.parametrize("dim", [1, 2])
def test_m_matrix_sign_pattern_and_comparison_principle(dim):
    """Off-diagonals <= 0, positive diagonal, row sums >= delta (strict diagonal dominance),
    for a strong drift and a radius that makes cut cells; hence A^-1 >= 0."""
    strong = lambda y: -8.0 * y + 5.0 * (rotation(y) if dim == 2 else 0.0) + 3.0
    delta = 1e-3
    op = ball_operator(strong, dim, 1.37, 0.1)
    A = op.matrix(delta).tocoo()
    off = A.row != A.col
    assert np.all(A.data[off] <= 0.0)
    assert np.all(A.diagonal() > 0.0)
    row_sums = np.asarray(A.tocsr().sum(axis=1)).ravel()
    assert np.all(row_sums >= delta * (1 - 1e-9))
    rest = np.sum(op.nodes**2, axis=-1, keepdims=True) - op.nodes**2
    shortest_arm = np.min(np.sqrt(1.37**2 - rest) - np.abs(op.nodes))
    assert 0.0 < shortest_arm < 0.08                     # cut cells are present
    # comparison: a larger right-hand side gives a larger solution, everywhere
    rng = np.random.default_rng(0)
    f = rng.random(op.size)
    lu = spla.splu(A.tocsc())
    assert np.all(lu.solve(f + rng.random(op.size)) - lu.solve(f) >= 0.0)


# --------------------------------------------------------------------------- accuracy

def test_second_order_on_the_disc_with_manufactured_solution():
    """omega = (n^2 - |y|^2) e^{a.y} (zero on the circle), drift with rotation: max error
    over all nodes, the cut ones included, falls at order 2."""
    n, delta, a = 1.3, 0.5, np.array([0.3, -0.2])
    drift = lambda y: -y + 1.5 * rotation(y) + np.array([0.4, 0.0])

    def exact(y):
        return (n**2 - np.sum(y * y, -1)) * np.exp(y @ a)

    def source(y):
        q, g = n**2 - np.sum(y * y, -1), np.exp(y @ a)
        grad = g[..., None] * (-2 * y) + (q * g)[..., None] * a
        lap = -4 * g + 2 * np.sum(-2 * y * a, -1) * g + q * g * (a @ a)
        return delta * q * g - np.sum(drift(y) * grad, -1) - lap

    steps, errors = [0.1, 0.05, 0.025, 0.0125], []
    for h in steps:
        op = ball_operator(drift, 2, n, h)
        w = spla.spsolve(op.matrix(delta).tocsc(), source(op.nodes))
        errors.append(np.max(np.abs(w - exact(op.nodes))))
    assert observed_order(steps, errors) > 1.85
    assert errors[-1] < 5e-5


@pytest.mark.parametrize("dim", [1, 2])
def test_unit_source_exact_solution_and_limit(dim):
    """h = 1, b = 0: delta omega - Laplacian omega = -1, so omega = -(1 - E e^{-delta tau})/delta,
    i.e. delta omega(0) = -1 + 1/cosh(sqrt(delta) n) (d = 1), -1 + 1/I0(sqrt(delta) n) (d = 2).
    Second order in h, and delta omega(0) -> -1 as n grows."""
    model = unit_source_model(dim, lambda y: np.zeros_like(y))
    delta, n = 0.5, 2.3
    exact = -1.0 + 1.0 / (np.cosh(np.sqrt(delta) * n) if dim == 1 else i0(np.sqrt(delta) * n))
    steps = [0.2, 0.1, 0.05, 0.025]
    errors = [abs(solve_truncated_cell(model, np.zeros(dim), np.eye(dim)[0], n, delta, h).delta_omega_at_center
                  - exact) for h in steps]
    assert observed_order(steps, errors) > 1.8
    radii = [4.0, 8.0, 16.0]
    exact_far = [-1.0 + 1.0 / (np.cosh(np.sqrt(delta) * r) if dim == 1 else i0(np.sqrt(delta) * r)) for r in radii]
    far = [solve_truncated_cell(model, np.zeros(dim), np.eye(dim)[0], r, delta, 0.2).delta_omega_at_center
           for r in radii]
    assert np.allclose(far, exact_far, atol=1e-3)
    assert np.all(np.diff(np.abs(np.array(far) + 1.0)) < 0) and abs(far[-1] + 1.0) < 2e-4


def test_unit_source_with_confining_drift_tends_to_minus_one():
    """h = 1, b = -2y: delta omega(0) = -1 + E e^{-delta tau_n}.  At fixed n it tends to 0 as
    delta -> 0 (the process exits); along delta(n) = n^-5 the exit time e^{n^2} outgrows
    1/delta and delta omega(0) -> -1 (SPEC section 9)."""
    model = unit_source_model(1, lambda y: -2.0 * y)
    fixed_n = [solve_truncated_cell(model, [0.0], [1.0], 2.0, d, 0.02).delta_omega_at_center for d in (1e-2, 1e-6)]
    assert fixed_n[1] > -1e-4 and fixed_n[0] < fixed_n[1]
    gaps = [solve_truncated_cell(model, [0.0], [1.0], n, n**-5.0, 0.02).delta_omega_at_center + 1.0
            for n in (2.0, 3.0, 4.0, 5.0)]
    assert np.all(np.diff(gaps) < 0) and 0 < gaps[-1] < 1e-6


def test_doubling_n_at_fixed_delta_does_not_change_the_limit():
    """Once D_n holds mu_x up to e^-47 (n = 6 here: V rises by 3 (6 - 0.37)^2 / 2 = 47.6
    to the wall), exits within the discount time 1/delta = 1e4 are below 1e-16: doubling n
    changes delta omega(0) by rounding only.  At n = 5 (e^-32 * 1e4 ~ 1e-10) it still shows."""
    model = quadratic_model(1)
    vals = {n: solve_truncated_cell(model, 0.3, 1.0, n, 1e-4, 0.01).delta_omega_at_center for n in (5.0, 6.0, 12.0)}
    assert abs(vals[6.0] - vals[12.0]) < 1e-12
    assert 1e-11 < abs(vals[5.0] - vals[12.0]) < 1e-8


@pytest.mark.parametrize("solver", ["direct", "iterative"])
def test_delta_omega_at_centre_stable_to_1e7_under_refinement_d1(solver):
    """Small delta makes the system badly conditioned (cond ~ 1/(delta h^2)); iterative
    refinement with the edge-difference residual restores the digits a plain solve loses,
    and Richardson extrapolation of the O(h^2) grid error then leaves values that agree
    to 1e-7 under refinement (and with the closed form of H-bar).  The iterative solver
    gets there by its multigrid cycles, refined with the same edge-form residual."""
    model, x, p, n, delta = quadratic_model(1), 0.3, 1.0, 6.0, 1e-7
    steps = [0.02, 0.01, 0.005, 0.0025]
    sols = [solve_truncated_cell(model, x, p, n, delta, h, solver=solver) for h in steps]
    raw = np.array([s.delta_omega_at_center for s in sols])
    hbar = hbar_closed_form(x, p)
    assert observed_order(steps, np.abs(raw + hbar)) == pytest.approx(2.0, abs=0.1)
    extrapolated = (4.0 * raw[1:] - raw[:-1]) / 3.0
    assert np.max(np.abs(np.diff(extrapolated))) < 1e-7
    assert np.max(np.abs(extrapolated + hbar)) < 1e-7
    plain = solve_truncated_cell(model, x, p, n, delta, steps[-1], refine=False).delta_omega_at_center
    assert abs(plain - raw[-1]) > 1e-7                   # the plain solve is off by more than that
    assert sols[-1].refinements >= 2 if solver == "direct" else sols[-1].stats["levels"] >= 2


def test_direct_and_iterative_solvers_agree_on_the_disc():
    model = quadratic_model(2)
    args = (model, [0.3, 0.1], [1.0, 0.5], 3.0, 1e-5, 0.04)
    d = solve_truncated_cell(*args, solver="direct")
    it = solve_truncated_cell(*args, solver="iterative")
    assert it.unknowns == d.unknowns and it.stats["levels"] >= 2
    assert abs(it.delta_omega_at_center - d.delta_omega_at_center) < 1e-10


# --------------------------------------------------------------------------- probabilistic meaning

def test_monte_carlo_of_the_discounted_exit_time_integral():
    """omega(y) = -E int_0^tau h(Y_t) e^{-delta t} dt (SPEC section 3) at y = 0, d = 1.

    For the quadratic loss the fast process is Ornstein-Uhlenbeck, sampled exactly at the
    step times; exits between steps are accounted for by the Brownian-bridge crossing
    probability exp(-a b / dt) (diffusion coefficient 2) and the time integral by the
    trapezoid rule.  The time-step bias is measured on the same Brownian paths (step dt
    against 2 dt, the coarse increment built from the two fine ones) and must be well
    below the confidence interval.  The PDE value is Richardson-extrapolated in h."""
    model, x, p, n, delta = quadratic_model(1), 0.3, 1.0, 1.0, 1.0
    pde = [solve_truncated_cell(model, x, p, n, delta, h) for h in (0.01, 0.005)]
    w = [s.values[s.unknowns // 2] for s in pde]          # the centre: the middle unknown in d = 1
    omega0 = (4.0 * w[1] - w[0]) / 3.0
    theta, mean = 1.0 / gibbs_variance(A_, GAMMA), gibbs_mean(A_, C_, GAMMA, x)
    dt, paths = 4e-3, 10_000
    rng = np.random.default_rng(7)

    def source(y):
        return GAMMA * np.maximum((x - y) * p, 0.0)

    def start():
        return {"y": np.zeros(paths), "alive": np.ones(paths), "total": np.zeros(paths), "t": 0.0}

    def advance(s, noise, step):
        """Exact OU step, bridge-corrected survival, trapezoid rule for the integral."""
        decay = np.exp(-theta * step)
        y, y_new = s["y"], mean + (s["y"] - mean) * decay + np.sqrt((1 - decay**2) / theta) * noise
        stay = (1 - np.exp(-np.maximum(n - y, 0) * np.maximum(n - y_new, 0) / step)) * \
               (1 - np.exp(-np.maximum(n + y, 0) * np.maximum(n + y_new, 0) / step))
        alive_new = s["alive"] * (np.abs(y_new) < n) * stay
        s["total"] += 0.5 * step * (s["alive"] * source(y) * np.exp(-delta * s["t"])
                                    + alive_new * source(y_new) * np.exp(-delta * (s["t"] + step)))
        s.update(y=y_new, alive=alive_new, t=s["t"] + step)

    fine, coarse = start(), start()
    decay = np.exp(-theta * dt)
    while max(fine["alive"].max(), coarse["alive"].max()) > 1e-14:
        z1, z2 = rng.standard_normal(paths), rng.standard_normal(paths)
        advance(fine, z1, dt)
        advance(fine, z2, dt)
        # the coarse step's noise, exactly the OU transition over 2 dt driven by the same path
        advance(coarse, (decay * z1 + z2) / np.sqrt(1 + decay**2), 2 * dt)
    est, se = -fine["total"].mean(), fine["total"].std(ddof=1) / np.sqrt(paths)
    bias = abs(np.mean(fine["total"] - coarse["total"]))  # ~ the bias of the coarse estimate
    assert bias < se / 5                                  # time-step bias well inside the CI
    assert abs(est - omega0) < 1.96 * se                  # 95% confidence interval
    assert se < 0.01 * abs(omega0)                        # and the interval is informative


# --------------------------------------------------------------------------- interface

def test_hbar_cell_method_defaults_need_no_arguments():
    model = quadratic_model(1)
    got = hjb.effective_hamiltonian(model, [0.3, -1.0], [1.0, -0.7], method="cell")
    assert np.allclose(got, hbar_closed_form(np.array([0.3, -1.0]), np.array([1.0, -0.7])), atol=1e-6)


def _cell_case(dim=2, **solve):
    data = {"kind": "cell", "model": {"dim": dim, "gamma": 2.0, "loss": {"name": "quadratic", "a": 1.0}},
            "solve": {"xbar": [0.3, 0.1] if dim == 2 else 0.3, "pbar": [1.0, 0.5] if dim == 2 else 1.0,
                      "n": 2.5, "delta": 1e-4, "h": 0.1, **solve}}
    return case_from_dict(data)


def test_kind_cell_stores_omega_on_the_square_grid(tmp_path):
    result = hjb.run(_cell_case())
    omega = result["omega"]
    assert result.dims["omega"] == ("y1", "y2")
    y1, y2 = np.meshgrid(result.coords["y1"], result.coords["y2"], indexing="ij")
    r = np.hypot(y1, y2)
    assert np.all(np.isnan(omega[r > 2.5 + 1e-9])) and np.all(np.isfinite(omega[r < 2.5 - 1e-6]))
    center = omega[len(result.coords["y1"]) // 2, len(result.coords["y2"]) // 2]
    assert result.attrs["delta_omega_at_center"] == pytest.approx(1e-4 * center, rel=1e-12)
    hjb.save(result, tmp_path / "cell.h5")
    back = hjb.load(tmp_path / "cell.h5")
    assert np.array_equal(np.isnan(back["omega"]), np.isnan(omega))
    one = hjb.run(_cell_case(dim=1))
    assert one.dims["omega"] == ("y",) and one["omega"][0] == 0.0 and one["omega"][-1] == 0.0


@pytest.mark.parametrize("solve, key", [
    ({"n": 0.0}, "solve.n"), ({"n": -1.0}, "solve.n"), ({"delta": 0.0}, "solve.delta"),
    ({"h": 2.5}, "solve.h"), ({"h": 3.0}, "solve.h"), ({"xbar": [1.0, 2.0, 3.0]}, "solve.xbar"),
    ({"pbar": 1.0}, "solve.pbar"), ({"solver": "amg"}, "solve.solver"),
])
def test_bad_input_names_the_key(solve, key):
    with pytest.raises(InputError) as err:
        hjb.run(_cell_case(**solve))
    assert err.value.key == key and "\n" not in str(err.value)
