import warnings

import numpy as np
import pytest

import hjb
from hjb.losses import LOSSES


@pytest.mark.parametrize("name", sorted(LOSSES))
@pytest.mark.parametrize("dim", [1, 2])
def test_gradient_matches_central_differences(name, dim):
    loss = hjb.make_loss(name, dim=dim)
    rng = np.random.default_rng(0)
    y = rng.uniform(-2, 2, size=(50, dim))
    step = 1e-6
    fd = np.stack([(loss.value(y + step * e) - loss.value(y - step * e)) / (2 * step)
                   for e in np.eye(dim)], axis=-1)
    np.testing.assert_allclose(loss.grad(y), fd, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("name", [n for n in sorted(LOSSES) if n != "double_well"])
def test_lipschitz_bound_holds_on_samples(name):
    loss = hjb.make_loss(name, dim=1)
    y = np.linspace(-4, 4, 20001)[:, None]
    slopes = np.abs(np.diff(loss.grad(y)[:, 0]) / np.diff(y[:, 0]))
    assert slopes.max() <= loss.lip * (1 + 1e-9)
    assert loss.value(y).min() >= loss.lower - 1e-12


def test_double_well_is_flagged_outside_assumption_A():
    loss = hjb.make_loss("double_well")
    assert np.isinf(loss.lip)
    with pytest.warns(hjb.AssumptionWarning, match="gamma = 3"):
        hjb.DeepRelaxation(loss, 3.0)


def test_no_warning_inside_assumption_A():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        hjb.DeepRelaxation(hjb.make_loss("quadratic", a=1.0), 2.0)


def test_centres_in_two_dimensions():
    loss = hjb.make_loss("quadratic", dim=2, a=2.0, c=[1.0, -1.0])
    assert loss.value(np.array([1.0, -1.0])) == 0.0
    with pytest.raises(hjb.InputError, match="model.loss.c"):
        hjb.make_loss("quadratic", dim=2, c=[1.0, 2.0, 3.0])


def test_unknown_loss_and_parameter_are_named():
    with pytest.raises(hjb.InputError, match="did you mean 'quadratic'"):
        hjb.make_loss("quadratc")
    with pytest.raises(hjb.InputError, match=r"model.loss.wide_dept.*did you mean 'wide_depth'"):
        hjb.make_loss("wide_narrow", wide_dept=1.0)


def test_user_loss_by_reference(tmp_path, monkeypatch):
    (tmp_path / "myloss.py").write_text(
        "import numpy as np\n"
        "def quartic(dim=1, s=1.0):\n"
        "    return (lambda y: s * np.sum(y**4, axis=-1), lambda y: 4 * s * y**3)\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    loss = hjb.make_loss("myloss:quartic", s=2.0)
    assert loss.value(np.array([1.0])) == 2.0
    with pytest.raises(hjb.InputError, match="cannot import"):
        hjb.make_loss("myloss:nothing")


def _hessian(loss, y, step=1e-5):
    """Central differences of the gradient at the point y (shape (d,))."""
    return np.stack([(loss.grad(y + step * e) - loss.grad(y - step * e)) / (2 * step) for e in np.eye(len(y))])


@pytest.mark.parametrize("dim", [1, 2, 3])
def test_saddle_well_minima_and_strict_saddle(dim):
    loss = hjb.make_loss("saddle_well", dim=dim)
    minimum = np.eye(dim)[0]
    assert loss.value(minimum) == 0.0 and loss.value(-minimum) == 0.0 and loss.lower == 0.0
    np.testing.assert_allclose(loss.grad(np.stack([minimum, -minimum, np.zeros(dim)])), 0.0)
    np.testing.assert_allclose(_hessian(loss, np.zeros(dim)), np.diag([-1.0] + [1.0] * (dim - 1)), atol=1e-8)
    np.testing.assert_allclose(_hessian(loss, minimum), np.diag([2.0] + [1.0] * (dim - 1)), atol=1e-8)
    assert np.isinf(loss.lip) and loss.value(np.zeros(dim)) == 0.25
    if dim == 1:
        y = np.linspace(-2, 2, 9)[:, None]
        np.testing.assert_allclose(loss.value(y), hjb.make_loss("double_well").value(y))


@pytest.mark.parametrize("dim", [1, 2])
def test_sharp_flat_minima_are_exactly_equal(dim):
    loss = hjb.make_loss("sharp_flat", dim=dim, depth=0.8, sharp_width=0.2, flat_width=0.6)
    s, c = loss.params["sharp_center"], loss.params["flat_center"]
    assert loss.value(s) == -0.8 and loss.value(c) == -0.8 and loss.lower == -0.8
    np.testing.assert_allclose(loss.grad(np.stack([s, c])), 0.0, atol=1e-15)
    # curvatures D (1 - e_f(s)) / w_s^2 and D (1 - e_s(c)) / w_f^2: sharp / flat = 9 up to the overlap
    sharp, flat = (np.linalg.eigvalsh(_hessian(loss, p)) for p in (s, c))
    overlap_at_s, overlap_at_c = (np.exp(-np.sum((s - c) ** 2) / (2 * w**2)) for w in (0.6, 0.2))
    np.testing.assert_allclose(sharp, 0.8 * (1 - overlap_at_s) / 0.2**2, rtol=1e-6)
    np.testing.assert_allclose(flat, 0.8 * (1 - overlap_at_c) / 0.6**2, rtol=1e-6)
    rng = np.random.default_rng(1)
    y = rng.uniform(-4, 4, size=(20000, dim))
    assert loss.value(y).min() > -0.8                          # both are global minima
    with pytest.raises(hjb.InputError, match="model.loss.flat_center"):
        hjb.make_loss("sharp_flat", dim=dim, flat_center=-1.0)
    with pytest.raises(hjb.InputError, match="model.loss.sharp_width"):
        hjb.make_loss("sharp_flat", dim=dim, sharp_width=0.0)
