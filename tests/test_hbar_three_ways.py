"""H-bar three independent ways (SPEC section 3): quadrature against exp(-V), the truncated
delta-cell problem, the discrete invariant measure; and the closed form for the quadratic loss."""
import warnings

import numpy as np

import hjb
from hjb import AssumptionWarning, DeepRelaxation, make_loss
from hjb.reference.quadratic import quadratic_hbar

A_, GAMMA = 1.0, 2.0


def closed_form(c, x, p):
    """SPEC section 9 for the quadratic loss of this file (x, p of shape (n, d))."""
    return quadratic_hbar(A_, c, GAMMA, x, p)


def wide_narrow(dim, **params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AssumptionWarning)    # gamma = 5 < Lip(grad f): outside (A), still fine
        return DeepRelaxation(make_loss("wide_narrow", dim, **params), 5.0)


def three_ways(model, x, p, cell=None, markov=None):
    return {method: hjb.effective_hamiltonian(model, x, p, method=method, **(options or {}))
            for method, options in (("quadrature", None), ("cell", cell), ("markov", markov))}


def assert_agree(values, tol):
    names = list(values)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            assert np.max(np.abs(values[a] - values[b])) < tol, (a, b, values[a] - values[b])


def test_d1_quadratic_three_ways_and_closed_form():
    x, p = np.array([-2.0, -0.5, 0.3, 1.0, 2.5]), np.array([1.0, -1.0, 1.0, -0.7, 0.5])
    model = DeepRelaxation(make_loss("quadratic", 1, a=A_, c=0.5), GAMMA)
    values = three_ways(model, x, p)
    values["closed form"] = closed_form(0.5, x[:, None], p[:, None])
    assert_agree(values, 1e-4)


def test_d1_wide_narrow_three_ways():
    x, p = np.array([-2.0, -1.5, 0.0, 1.4, 2.0]), np.array([1.0, -1.0, 1.0, -1.0, 0.5])
    assert_agree(three_ways(wide_narrow(1), x, p), 1e-4)


def test_d2_quadratic_three_ways_and_closed_form():
    c = np.array([0.5, -0.3])
    x, p = np.array([[0.3, 0.1], [-1.0, 0.5]]), np.array([[1.0, 0.5], [0.2, -1.0]])
    model = DeepRelaxation(make_loss("quadratic", 2, a=A_, c=c), GAMMA)
    values = three_ways(model, x, p, cell={"h": 0.05}, markov={"points": 151})
    values["closed form"] = closed_form(c, x, p)
    assert_agree(values, 1e-3)


def test_d2_wide_narrow_three_ways():
    """narrow_width 0.3 (instead of 0.15) keeps the d = 2 grids of a unit test small."""
    x, p = np.array([[0.3, 0.1], [1.2, -0.2]]), np.array([[1.0, 0.5], [-1.0, 0.3]])
    model = wide_narrow(2, wide_center=[-1.5, 0.0], narrow_center=[1.5, 0.0], narrow_width=0.3)
    assert_agree(three_ways(model, x, p, cell={"h": 0.05}, markov={"points": 151}), 1e-3)


def test_hbar_kind_runs_the_markov_and_cell_methods():
    from hjb.runner.case import case_from_dict
    data = {"kind": "hbar", "model": {"dim": 1, "gamma": GAMMA, "loss": {"name": "quadratic", "a": A_, "c": 0.5}},
            "solve": {"x": [0.3, -1.0], "p": [1.0, 1.0], "method": "markov"}}
    exact = closed_form(0.5, np.array([[0.3], [-1.0]]), np.array([[1.0], [1.0]]))
    for method in ("markov", "cell"):
        data["solve"]["method"] = method
        assert np.allclose(hjb.run(case_from_dict(data))["hbar"], exact, atol=1e-5)
