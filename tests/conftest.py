import warnings

import numpy as np
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


def gaussian_positive_part(mean, sd):
    """E[Z^+] for Z ~ N(mean, sd^2)."""
    from scipy.stats import norm
    return mean * norm.cdf(mean / sd) + sd * norm.pdf(mean / sd)


def quadratic_hbar(a, c, gamma, x, p):
    """Closed form of SPEC section 9 in any d: (x - Y) . p is Gaussian."""
    x, p, c = np.atleast_2d(x), np.atleast_2d(p), np.broadcast_to(c, np.atleast_2d(x).shape[-1:])
    m = (a * c + gamma * x) / (a + gamma)
    mean = np.sum((x - m) * p, axis=-1)
    sd = np.linalg.norm(p, axis=-1) / np.sqrt(a + gamma)
    return gamma * gaussian_positive_part(mean, sd)
