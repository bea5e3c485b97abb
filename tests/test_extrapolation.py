"""Richardson extrapolation in h (hjb.extrapolation) and what ``hjb show`` says about a
refinement study."""
import numpy as np
import pytest

import hjb
from hjb.cli import main
from hjb.extrapolation import observed_order, richardson
from hjb.hbar.markov import hbar_markov
from hjb.reference.quadratic import quadratic_hbar


@pytest.mark.parametrize("order", [1.0, 2.0, 1.5])
def test_a_pure_power_error_is_removed_exactly(order):
    """u_h = u + C h^p with any p, on steps of unequal ratios: the order is observed and u* = u."""
    rng = np.random.default_rng(3)
    u, c = rng.normal(size=7), rng.normal(size=7)
    steps = [0.3, 0.2, 0.1]
    values = [u + c * h ** order for h in steps]
    assert observed_order(values, steps) == pytest.approx(order, rel=1e-9)
    ext = richardson(values, steps)
    np.testing.assert_allclose(ext.value, u, atol=1e-12)
    np.testing.assert_allclose(ext.error_finest, np.abs(c) * 0.1 ** order, rtol=1e-9)
    assert ext.observed and np.isnan(ext.error)           # three grids: nothing left to compare


def test_an_assumed_order_leaves_the_next_term_and_estimates_it():
    """u_h = u + h + h^2 with p = 1 assumed: u* keeps a second-order error, and the estimate
    from the previous pair of grids bounds it from above."""
    steps = [0.4, 0.2, 0.1]
    values = [np.array([1.0 + h + h * h]) for h in steps]
    ext = richardson(values, steps, order=1.0)
    true = abs(ext.value[0] - 1.0)
    assert true == pytest.approx(0.02, rel=1e-9)             # -h_c h_f = -0.02 left over
    # the leftover is -2 h_f^2 on each pair, so the estimate is (2^2 - 1) times the true error:
    # conservative by a known factor
    assert ext.error == pytest.approx(3 * true, rel=1e-9)


def test_extrapolating_a_first_order_scheme_gains_an_order_of_magnitude():
    """H-bar from the upwind invariant measure (first order) against the exact Gaussian H-bar of
    the quadratic loss: the observed order is 1, the finest grid's error estimate is within a
    factor 1.5 of its true error, and the extrapolated value is 30 times more accurate."""
    model = hjb.DeepRelaxation(hjb.make_loss("quadratic", a=1.0, c=0.5), gamma=2.0)
    exact = quadratic_hbar(1.0, 0.5, 2.0, np.array([[2.0]]), np.array([[1.0]]))
    sizes = (41, 81, 161, 321)
    values = [hbar_markov(model, [2.0], [1.0], box=(-6, 6), points=n, scheme="upwind") for n in sizes]
    steps = [12.0 / (n - 1) for n in sizes]
    ext = richardson(values, steps)
    finest = abs(values[-1][0] - exact[0])
    assert ext.order == pytest.approx(1.0, abs=0.05)
    assert finest / 1.5 <= ext.error_finest[0] <= 1.5 * finest
    assert abs(ext.value[0] - exact[0]) < finest / 30
    assert abs(ext.value[0] - exact[0]) <= 3 * ext.error


@pytest.mark.parametrize("values, steps, order, key", [
    ([np.zeros(2)], [0.1], 1.0, "values"),
    ([np.zeros(2), np.zeros(3)], [0.2, 0.1], 1.0, "values"),
    ([np.zeros(2), np.zeros(2)], [0.1, 0.2], 1.0, "steps"),
    ([np.zeros(2), np.zeros(2)], [0.2, 0.1], None, "order"),
])
def test_bad_input_names_the_argument(values, steps, order, key):
    with pytest.raises(hjb.InputError) as err:
        richardson(values, steps, order)
    assert err.value.key == key


def test_show_extrapolates_a_refinement_study(tmp_path, capsys):
    """``hjb show`` on a sweep over grid.x.points: the Richardson lines, with the true errors
    from the kind's exact reference; the extrapolated value beats the finest grid."""
    out = tmp_path / "refine.h5"
    code = main(["run", "cases/quadratic_refinement.toml", "--quiet", "-o", str(out),
                 "--set", "grid.x.points=[101, 201, 401]"])
    assert code == 0
    capsys.readouterr()
    assert main(["show", str(out)]) == 0
    text = capsys.readouterr().out
    assert "Richardson extrapolation in h of value at the 101 coarsest nodes (3 grids, order" in text
    true = [line for line in text.splitlines() if line.strip().startswith("true max error")][0]
    finest, extrapolated = (float(part.split()[-1]) for part in true.split(","))
    assert extrapolated < finest
