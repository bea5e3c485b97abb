"""Semi-analytic value of the effective problem in d = 1 (SPEC sections 4 and 9).

The averaged system moves with any velocity in [a_-(x), a_+(x)] (for the
deep-relaxation model a_- = -gamma A+(x), a_+ = gamma A-(x)), an interval that
holds 0, so the points reachable from x by time T form [x_L(T), x_R(T)] with

    dx_L/dt = a_-(x_L),   dx_R/dt = a_+(x_R),   x_L(0) = x_R(0) = x,

and v(0, x) = min of g over that interval.
"""
from __future__ import annotations

import numpy as np
from scipy.integrate import solve_ivp
from scipy.optimize import minimize_scalar

from ..errors import InputError
from ..hbar.velocities import averaged_velocities
from ..model import TwoScaleModel


def _speed_limits(model: TwoScaleModel, z: np.ndarray):
    v = averaged_velocities(model, z, extended=True)[..., 0]
    return v.min(axis=1), v.max(axis=1)


def reachable_interval(model: TwoScaleModel, x, T: float, rtol: float = 1e-10):
    """The interval [x_L(T), x_R(T)] the effective system reaches from each x by time T (d = 1).

    The averaged system moves with any velocity in [a_-(x), a_+(x)], the hull
    of :func:`hjb.averaged_velocities` (for deep relaxation a_- = -gamma A+(x),
    a_+ = gamma A-(x)); this interval holds 0, so the reachable set is an
    interval whose ends solve

        dx_L/dt = a_-(x_L),   dx_R/dt = a_+(x_R),   x_L(0) = x_R(0) = x,

    integrated with DOP853 (scipy's solve_ivp).

    Parameters
    ----------
    model : TwoScaleModel
        A model in d = 1.
    x : array_like
        Starting points, shape (n,).
    T : float
        The horizon.
    rtol : float, default 1e-10
        Relative tolerance of the ODE solver.

    Returns
    -------
    left, right : ndarray, shape (n,)
        x_L(T) and x_R(T).

    Raises
    ------
    InputError
        A model with d != 1.

    Example
    -------
    >>> import hjb
    >>> model = hjb.DeepRelaxation(hjb.make_loss("quadratic", a=1.0, c=0.5), gamma=2.0)
    >>> left, right = hjb.reachable_interval(model, [1.0], 0.5)
    >>> round(float(left[0]), 6), round(float(right[0]), 6)
    (0.706651, 1.147129)
    """
    if model.dim != 1:
        raise InputError("model.dim", "the reachable-interval solution exists in d = 1 only")
    x = np.atleast_1d(np.asarray(x, float))
    n = len(x)

    def rhs(_, z):
        lo, _hi = _speed_limits(model, z[:n])
        _lo, hi = _speed_limits(model, z[n:])
        return np.concatenate([lo, hi])

    sol = solve_ivp(rhs, (0.0, T), np.concatenate([x, x]), method="DOP853", rtol=rtol, atol=1e-12)
    return sol.y[:n, -1], sol.y[n:, -1]


def minimum_on_interval(g, left: float, right: float, samples: int = 2001) -> float:
    """min of g on [left, right]: dense sampling, then a bounded local refinement."""
    z = np.linspace(left, right, samples)
    gz = g(z[:, None])
    i = int(np.argmin(gz))
    lo, hi = z[max(i - 1, 0)], z[min(i + 1, samples - 1)]
    best = float(gz[i])
    if hi > lo:
        res = minimize_scalar(lambda s: float(g(np.array([[s]]))[0]), bounds=(lo, hi), method="bounded",
                              options={"xatol": 1e-12})
        best = min(best, float(res.fun))
    return best


def reachable_value(model: TwoScaleModel, x, T: float) -> np.ndarray:
    """The semi-analytic value of the effective problem in d = 1 (SPEC sections 4 and 9).

        v(0, x) = min of g over [x_L(T), x_R(T)],

    the interval of :func:`hjb.reachable_interval`: the exact answer that
    :func:`hjb.solve_effective` converges to (first order in h).  The minimum
    is taken by dense sampling and a bounded local refinement.

    Parameters
    ----------
    model : TwoScaleModel
        A model in d = 1 (its terminal cost g is minimised).
    x : array_like
        Starting points, shape (n,).
    T : float
        The horizon.

    Returns
    -------
    ndarray, shape (n,)
        v(0, x_i).

    Example
    -------
    >>> import hjb
    >>> model = hjb.DeepRelaxation(hjb.make_loss("quadratic", a=1.0, c=0.5), gamma=2.0)
    >>> hjb.reachable_value(model, [1.0, -1.0], 0.5).round(6)
    array([0.021352, 0.505243])
    """
    left, right = reachable_interval(model, x, T)
    return np.array([minimum_on_interval(model.g, l, r) for l, r in zip(left, right)])
