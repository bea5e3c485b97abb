"""The stochastic side (SPEC section 6): Euler-Maruyama for the two-scale system, and
entropic gradient descent (the feedback read off an eps-HJB value is :mod:`hjb.stochastic.feedback`).

    dX = phi(X, Y, u) dt = -u gamma (X - Y) dt,
    dY = (1/eps) b(X, Y) dt + sqrt(2/eps) dW,      b = -grad f(Y) + gamma (X - Y),

* u = 1: the system (S_eps); its Euler-Maruyama discretisation with an average of
  the fast iterates is the Entropy-SGD / Deep Relaxation algorithm;
* u = u*(t, X, Y) = argmax_u ( -phi(X, Y, u) . D_x V^eps(t, X, Y) ): the optimal
  feedback of (CS_eps), with D_x V^eps from the time snapshots of an ``eps_hjb``
  result (central differences in x, multilinear interpolation in (t, x, y));
* entropic gradient descent dX/dt = -gamma (X - m(X)) = grad F(X, gamma) (the
  averaged system, Theorem 1's limit), with grad F by quadrature.

All paths advance together (arrays of shape (paths, d)); the noise comes from
a numpy Generator, so a seed reproduces a run.  The fast variable relaxes on
the time scale eps / (gamma + Lip grad f): a step larger than
:data:`RESOLVE` times that scale does not resolve eps and is refused.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional, Union

import numpy as np
from scipy.integrate import solve_ivp

from ..entropy import curvature_bound, local_entropy
from ..errors import InputError, check_finite
from ..limits import SLACK, check_memory
from ..model import DeepRelaxation
from ..solvers.march import plan_steps

#: Largest dt (gamma + Lip grad f) / eps accepted (Euler-Maruyama is unstable beyond 2).
RESOLVE = 0.5


def fast_time_scale(model: DeepRelaxation, eps: float) -> float:
    """eps / (gamma + Lip grad f): the relaxation time of the stiffest fast direction."""
    return eps / (model.gamma + curvature_bound(model.loss))


def check_step(model: DeepRelaxation, eps: float, dt: float, key: str = "dt") -> None:
    """InputError unless dt resolves the fast time scale."""
    if not eps > 0:
        raise InputError("eps", f"must be positive, got {eps:g}")
    bound = RESOLVE * fast_time_scale(model, eps)
    if not dt <= bound:
        raise InputError(key, f"= {dt:g} does not resolve eps = {eps:g}: the fast variable relaxes on the "
                              f"time scale eps/(gamma + Lip grad f) = {fast_time_scale(model, eps):.3g}; "
                              f"take dt <= {bound:.3g}")


@dataclass
class TwoScalePaths:
    """X_T, Y_T of every path, the time average of Y over [0, T], and the step used."""

    X_T: np.ndarray
    Y_T: np.ndarray
    Y_mean: np.ndarray
    dt: float
    steps: int


Control = Union[float, Callable[[float, np.ndarray, np.ndarray], np.ndarray]]


def simulate(model: DeepRelaxation, x0, y0, T: float, eps: float, dt: float, paths: int,
             control: Control = 1.0, seed: Union[int, np.random.Generator, None] = 0,
             on_step: Optional[Callable[[int, int], None]] = None) -> TwoScalePaths:
    """Euler-Maruyama for (CS_eps) from (x0, y0) at time 0 to T (dt is rounded down to divide T).

    ``control`` is a constant u or a feedback ``u(t, X, Y) -> (paths,)``.
    """
    if not isinstance(paths, (int, np.integer)) or paths < 1:
        raise InputError("paths", f"must be a positive integer, got {paths!r}")
    if not T > 0:
        raise InputError("T", f"must be positive, got {T:g}")
    check_step(model, eps, dt)
    d = model.dim
    steps, dt = plan_steps(T, dt)
    check_memory(memory_estimate(paths, d), f"{paths:,} paths", key="paths")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    where = {"path": np.arange(paths)}
    X = np.array(np.broadcast_to(np.asarray(x0, float), (paths, d)))
    Y = np.array(np.broadcast_to(np.asarray(y0, float), (paths, d)))
    Y_sum = np.zeros_like(Y)
    noise = np.sqrt(2.0 * dt / eps)
    for n in range(steps):
        u = control(n * dt, X, Y)[:, None] if callable(control) else control
        velocity = model.phi(X, Y, u)
        Y = Y + (dt / eps) * model.b(X, Y) + noise * rng.standard_normal((paths, d))
        X = X + dt * velocity
        check_finite(np.sum(X + Y, axis=-1), "sde: the path (X, Y)", n + 1, where)
        Y_sum += Y
        if on_step is not None:
            on_step(n + 1, steps)
    return TwoScalePaths(X, Y, Y_sum / steps, float(dt), steps)


def entropic_gradient_descent(model: DeepRelaxation, x0, T: float, u: float = 1.0, rtol: float = 1e-9):
    """X-hat(T) of dX/dt = -u gamma (X - m(X)) = u grad F(X, gamma), shape (d,)."""
    x0 = np.broadcast_to(np.asarray(x0, float), (model.dim,))

    def rhs(_, x):
        return u * local_entropy(model.loss, model.gamma, x[None, :])[1][0]

    sol = solve_ivp(rhs, (0.0, T), x0, rtol=rtol, atol=1e-12, method="RK45")
    if not sol.success:
        raise RuntimeError(f"entropic gradient descent: {sol.message}")
    return sol.y[:, -1]


def memory_estimate(paths: int, d: int) -> float:
    """Bytes at the peak of :func:`simulate` with a constant control (calibrated by
    scripts/bench_memory.py): X, Y, their running sum, the noise, both drifts and two
    temporaries, (paths, d) each, and g(X_T) or the check's sum, (paths,)."""
    return SLACK * 8.0 * paths * (7 * d + 1)
