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
