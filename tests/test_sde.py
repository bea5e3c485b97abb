"""Euler-Maruyama for the two-scale system (SPEC section 6), checked against exact moments.

For the quadratic loss the system is linear, so the mean and covariance of the
Euler-Maruyama chain follow an exact recursion: Monte Carlo is compared with
that (no time-step bias), and the chain with the continuous moments (the
time-step bias, bounded separately).  Fixed seeds; 4 standard errors.
"""
import warnings

import numpy as np
import pytest
from scipy.integrate import solve_ivp

import hjb
from hjb import DeepRelaxation, InputError, Result, make_loss
from hjb.runner.case import case_from_dict
from hjb.stochastic.two_scale import check_step, entropic_gradient_descent, fast_time_scale, simulate
from hjb.reference.quadratic import gibbs_mean, gibbs_variance
from hjb.output.tables import observed_order

A, C, GAMMA = 1.0, 0.5, 2.0


def _model(loss="quadratic", gamma=GAMMA):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return DeepRelaxation(make_loss(loss, 1, **({"a": A, "c": C} if loss == "quadratic" else {})), gamma)


def _linear_system(eps, u=1.0):
    """d(X, Y) = (M (X, Y) + c) dt + noise, for the quadratic loss."""
    M = np.array([[-u * GAMMA, u * GAMMA], [GAMMA / eps, -(A + GAMMA) / eps]])
    return M, np.array([0.0, A * C / eps]), np.diag([0.0, 2.0 / eps])


def _em_moments(eps, dt, steps, z0, u=1.0):
    M, c, Q = _linear_system(eps, u)
    step = np.eye(2) + dt * M
    m, P = np.array(z0, float), np.zeros((2, 2))
    for _ in range(steps):
        m, P = step @ m + dt * c, step @ P @ step.T + dt * Q
    return m, P


def _exact_moments(eps, T, z0, u=1.0):
    M, c, Q = _linear_system(eps, u)

    def rhs(_, w):
        m, P = w[:2], w[2:].reshape(2, 2)
        return np.concatenate([M @ m + c, (M @ P + P @ M.T + Q).ravel()])
    w = solve_ivp(rhs, (0, T), np.concatenate([z0, np.zeros(4)]), method="LSODA", rtol=1e-11, atol=1e-13).y[:, -1]
    return w[:2], w[2:].reshape(2, 2)


def test_entropic_gradient_descent_closed_form():
    model = _model()
    x_hat = entropic_gradient_descent(model, -1.0, 0.8)
    assert abs(x_hat[0] - (C + (-1.0 - C) * np.exp(-GAMMA * A / (A + GAMMA) * 0.8))) < 1e-7


def test_monte_carlo_matches_exact_euler_maruyama_moments_and_theorem_1():
    """E|X^eps_T - X-hat_T|^2: Monte Carlo vs the exact EM recursion (4 SE), EM vs the continuous
    moments (time-step bias), and the decay in eps at the observed rate 1."""
    model, T, x0 = _model(), 1.0, -1.0
    x_hat = entropic_gradient_descent(model, x0, T)[0]
    epss, msd = [1.0, 0.1, 0.01], []
    for eps in epss:
        dt = 0.1 * fast_time_scale(model, eps)
        run = simulate(model, x0, x0, T, eps, dt, 1000, 1.0, seed=11)
        m_em, P_em = _em_moments(eps, run.dt, run.steps, [x0, x0])
        m_ex, P_ex = _exact_moments(eps, T, np.array([x0, x0]))
        sq = (run.X_T[:, 0] - x_hat) ** 2
        em_value = P_em[0, 0] + (m_em[0] - x_hat) ** 2
        exact_value = P_ex[0, 0] + (m_ex[0] - x_hat) ** 2
        assert abs(sq.mean() - em_value) < 4 * sq.std(ddof=1) / np.sqrt(len(sq))
        assert abs(run.X_T[:, 0].mean() - m_em[0]) < 4 * run.X_T[:, 0].std(ddof=1) / np.sqrt(1000)
        assert abs(em_value - exact_value) < 0.15 * exact_value       # the step bias, O(dt)
        msd.append(sq.mean())
    assert 0.85 < observed_order(epss, msd) < 1.15


def test_invariant_measure_of_the_fast_variable():
    """u = 0 freezes X = x; Y_T after 20 relaxation times samples N(m, s^2) of SPEC section 9,
    up to the Euler-Maruyama variance factor 1/(1 - k delta/2), k = a + gamma, delta = dt/eps."""
    model, eps, x = _model(), 0.05, 1.5
    k = A + GAMMA
    dt = 0.1 * fast_time_scale(model, eps)
    run = simulate(model, x, -2.0, 20 * eps / k, eps, dt, 4000, 0.0, seed=5)
    n = len(run.Y_T)
    mean, var = gibbs_mean(A, C, GAMMA, x), gibbs_variance(A, GAMMA)
    em_var = var / (1 - k * (run.dt / eps) / 2)
    y = run.Y_T[:, 0]
    assert np.all(run.X_T == x)
    assert abs(y.mean() - mean) < 4 * np.sqrt(var / n) + abs(-2.0 - mean) * np.exp(-20)
    assert abs(y.var(ddof=1) - em_var) < 4 * em_var * np.sqrt(2 / (n - 1))
    assert abs(em_var - var) < 0.06 * var


def test_reproducible_from_seed():
    model = _model()
    a = simulate(model, 0.0, 0.0, 0.2, 0.1, 0.003, 50, 1.0, seed=3)
    b = simulate(model, 0.0, 0.0, 0.2, 0.1, 0.003, 50, 1.0, seed=3)
    c = simulate(model, 0.0, 0.0, 0.2, 0.1, 0.003, 50, 1.0, seed=4)
    assert np.array_equal(a.X_T, b.X_T) and not np.array_equal(a.X_T, c.X_T)


def test_step_must_resolve_eps():
    model = _model()
    bound = 0.5 * fast_time_scale(model, 1e-3)
    check_step(model, 1e-3, bound)
    with pytest.raises(InputError) as err:
        simulate(model, 0.0, 0.0, 1.0, 1e-3, 2 * bound, 10)
    assert err.value.key == "dt" and "does not resolve eps" in err.value.message
    with pytest.raises(InputError) as err:
        simulate(model, 0.0, 0.0, 1.0, 1e-3, bound, 0)
    assert err.value.key == "paths"


def _case(solve, model=None):
    return case_from_dict({"kind": "sde", "model": model or {"dim": 1, "gamma": GAMMA,
                                                            "loss": {"name": "quadratic", "a": A, "c": C}},
                           "solve": solve})


def test_kind_sde_none_stores_paths_and_x_hat():
    result = hjb.run(_case({"x0": -1.0, "T": 0.5, "eps": 0.05, "paths": 200, "seed": 2}))
    assert result["X_T"].shape == (200,) and result["g_X_T"].shape == (200,)
    assert abs(result.attrs["x_hat_T"] - (C - 1.5 * np.exp(-GAMMA * A / (A + GAMMA) * 0.5))) < 1e-7
    np.testing.assert_allclose(result["g_X_T"], A / 2 * (result["X_T"] - C) ** 2)


def test_value_is_a_value_feedback_monte_carlo_vs_eps_hjb(tmp_path):
    """E g(X_T) under u* read from the eps-HJB snapshots equals V^eps(0, x, y) within 3 standard
    errors plus the PDE's discretisation error (estimated by halving h and dt); u = 0 and u = 1 do worse."""
    eps, T, x0, y0 = 0.1, 0.5, -1.0, -1.0
    values = []
    for n in (161, 321):
        case = case_from_dict({"kind": "eps_hjb", "model": {"dim": 1, "gamma": GAMMA, "loss": {"name": "quadratic", "a": A, "c": C}},
                               "grid": {"x": {"lower": -4.0, "upper": 4.0, "points": n},
                                        "y": {"lower": -4.0, "upper": 4.0, "points": n}},
                               "solve": {"T": T, "eps": eps, "dt": 5.0 / n / 8, "snapshots": 26 if n == 321 else 0}})
        result = hjb.run(case)
        i = int(np.argmin(np.abs(result.coords["x"] - x0)))
        values.append(result["value"][i, i])
    path = str(tmp_path / "value.h5")
    hjb.save(result, path)                              # the finer one feeds u*
    disc = abs(values[1] - values[0])
    stats = {}
    for control in ("feedback", "none"):
        solve = {"x0": x0, "y0": y0, "T": T, "eps": eps, "paths": 3000, "seed": 9, "control": control,
                 "dt": 0.05 * eps / (A + GAMMA)}
        if control == "feedback":
            solve["value_file"] = path
        r = hjb.run(_case(solve))
        stats[control] = (r.attrs["mean_g_X_T"], r.attrs["stderr_g_X_T"])
    mean, se = stats["feedback"]
    assert abs(mean - values[1]) < 3 * se + disc
    g_x0 = A / 2 * (x0 - C) ** 2                       # u = 0: X never moves
    assert g_x0 > mean + 3 * se
    assert stats["none"][0] > mean + 3 * (se + stats["none"][1])


def test_kind_sde_bad_input(tmp_path):
    base = {"x0": 0.0, "T": 0.5, "eps": 0.01, "paths": 10}
    for solve, key in (({**base, "paths": 0}, "solve.paths"), ({**base, "dt": 0.01}, "solve.dt"),
                       ({**base, "eps": -1.0}, "solve.eps"),
                       ({**base, "control": "feedback", "value_file": str(tmp_path / "missing.h5")}, "solve.value_file"),
                       ({**base, "control": "feedback"}, "solve.value_file")):
        with pytest.raises(InputError) as err:
            hjb.run(_case(solve))
        assert err.value.key == key, (solve, err.value)
    other = Result("hbar")
    other.add("hbar", np.zeros(2), ("pair",))
    hjb.save(other, tmp_path / "hbar.h5")
    with pytest.raises(InputError) as err:
        hjb.run(_case({**base, "control": "feedback", "value_file": str(tmp_path / "hbar.h5")}))
    assert err.value.key == "solve.value_file" and "hbar" in err.value.message
