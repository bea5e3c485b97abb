import warnings

import pytest

import hjb


@pytest.fixture
def quadratic_model():
    """f(y) = (y - 0.5)^2 / 2 with gamma = 2: Gaussian Gibbs measure, closed-form H-bar."""
    return hjb.DeepRelaxation(hjb.make_loss("quadratic", a=1.0, c=0.5), gamma=2.0)


@pytest.fixture
def quiet_assumptions():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", hjb.AssumptionWarning)
        yield
