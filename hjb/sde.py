"""The stochastic side (SPEC section 6): Euler-Maruyama for the two-scale system, the feedback
read off a computed eps-HJB value, and entropic gradient descent.

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
from scipy.interpolate import RegularGridInterpolator

from .entropy import _curvature, local_entropy
from .errors import InputError
from .model import DeepRelaxation
from .resources import check_memory

#: Largest dt (gamma + Lip grad f) / eps accepted (Euler-Maruyama is unstable beyond 2).
RESOLVE = 0.5


def fast_time_scale(model: DeepRelaxation, eps: float) -> float:
    """eps / (gamma + Lip grad f): the relaxation time of the stiffest fast direction."""
    return eps / (model.gamma + _curvature(model.loss))


def check_step(model: DeepRelaxation, eps: float, dt: float, key: str = "solve.dt") -> None:
    """InputError unless dt resolves the fast time scale."""
    if not eps > 0:
        raise InputError("solve.eps", f"must be positive, got {eps:g}")
    bound = RESOLVE * fast_time_scale(model, eps)
    if not dt <= bound:
        raise InputError(key, f"= {dt:g} does not resolve eps = {eps:g}: the fast variable relaxes on the "
                              f"time scale eps/(gamma + Lip grad f) = {fast_time_scale(model, eps):.3g}; "
                              f"take dt <= {bound:.3g}")


@dataclass
class PathsAtT:
    """X_T, Y_T of every path, the time average of Y over [0, T], and the step used."""

    X_T: np.ndarray
    Y_T: np.ndarray
    Y_mean: np.ndarray
    dt: float
    steps: int


Control = Union[float, Callable[[float, np.ndarray, np.ndarray], np.ndarray]]


def simulate(model: DeepRelaxation, x0, y0, T: float, eps: float, dt: float, paths: int,
             control: Control = 1.0, seed: Union[int, np.random.Generator, None] = 0,
             on_step: Optional[Callable[[int, int], None]] = None) -> PathsAtT:
    """Euler-Maruyama for (CS_eps) from (x0, y0) at time 0 to T (dt is rounded down to divide T).

    ``control`` is a constant u or a feedback ``u(t, X, Y) -> (paths,)``.
    """
    if not isinstance(paths, (int, np.integer)) or paths < 1:
        raise InputError("solve.paths", f"must be a positive integer, got {paths!r}")
    if not T > 0:
        raise InputError("solve.T", f"must be positive, got {T:g}")
    check_step(model, eps, dt)
    d = model.dim
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    steps = int(np.ceil(T / dt - 1e-9))
    dt = T / steps
    X = np.array(np.broadcast_to(np.asarray(x0, float), (paths, d)))
    Y = np.array(np.broadcast_to(np.asarray(y0, float), (paths, d)))
    Y_sum = np.zeros_like(Y)
    noise = np.sqrt(2.0 * dt / eps)
    for n in range(steps):
        u = control(n * dt, X, Y)[:, None] if callable(control) else control
        velocity = model.phi(X, Y, u)
        Y = Y + (dt / eps) * model.b(X, Y) + noise * rng.standard_normal((paths, d))
        X = X + dt * velocity
        Y_sum += Y
        if on_step is not None:
            on_step(n + 1, steps)
    return PathsAtT(X, Y, Y_sum / steps, float(dt), steps)


def entropic_gradient_descent(model: DeepRelaxation, x0, T: float, u: float = 1.0, rtol: float = 1e-9):
    """X-hat(T) of dX/dt = -u gamma (X - m(X)) = u grad F(X, gamma), shape (d,)."""
    x0 = np.broadcast_to(np.asarray(x0, float), (model.dim,))

    def rhs(_, x):
        return u * local_entropy(model.loss, model.gamma, x[None, :])[1][0]

    sol = solve_ivp(rhs, (0.0, T), x0, rtol=rtol, atol=1e-12, method="RK45")
    if not sol.success:
        raise RuntimeError(f"entropic gradient descent: {sol.message}")
    return sol.y[:, -1]


class FeedbackControl:
    """u*(t, x, y) = argmax_u ( -phi(x, y, u) . D_x V^eps(t, x, y) ) from stored snapshots of V^eps.

    ``snapshots`` has axes (time, x..., y...) on the grids ``times``,
    ``x_axes``, ``y_axes``; D_x V is formed by central differences (one-sided at
    the walls) and interpolated multilinearly; points outside the grid are
    moved onto its boundary.
    """

    def __init__(self, model: DeepRelaxation, times, x_axes, y_axes, snapshots):
        d = model.dim
        check_memory(8.0 * np.size(snapshots) * (d + 2), "the feedback's D_x V table")
        order = np.argsort(times)
        snaps = np.asarray(snapshots, float)[order]
        grads = np.stack([np.gradient(snaps, x_axes[k], axis=1 + k) for k in range(d)], axis=-1)
        axes = (np.asarray(times, float)[order],) + tuple(x_axes) + tuple(y_axes)
        self.model = model
        self.lower = np.array([a[0] for a in axes])
        self.upper = np.array([a[-1] for a in axes])
        self.interpolate = RegularGridInterpolator(axes, grads, method="linear")

    def gradient(self, t, X, Y):
        pts = np.column_stack([np.full(len(X), t), X, Y])
        return self.interpolate(np.clip(pts, self.lower, self.upper))

    def __call__(self, t, X, Y):
        return self.model.active_control(X, Y, self.gradient(t, X, Y))

    @classmethod
    def from_result(cls, model: DeepRelaxation, result, key: str = "solve.value_file"):
        """From an ``eps_hjb`` :class:`hjb.Result` holding ``snapshots`` (see :func:`load_value`)."""
        d = model.dim
        names = result.dims["snapshots"]
        x_names, y_names = names[1:1 + d], names[1 + d:]
        if len(y_names) != d:
            raise InputError(key, f"holds a {len(x_names)}-dimensional value, the model has dim = {d}")
        return cls(model, result.coords["time"], [result.coords[n] for n in x_names],
                   [result.coords[n] for n in y_names], result["snapshots"])


def load_value(path: str, key: str = "solve.value_file"):
    """Read an ``eps_hjb`` result with time snapshots, with errors naming ``key``."""
    from .io import load
    try:
        result = load(path)
    except InputError as exc:
        raise InputError(key, f"'{path}': {exc.message}") from None
    if result.kind != "eps_hjb":
        raise InputError(key, f"'{path}' holds a '{result.kind}' result, not an eps_hjb one")
    if result.members:
        raise InputError(key, f"'{path}' is a sweep ({', '.join(result.members)}); give a single eps_hjb run")
    if "snapshots" not in result.data or "time" not in result.coords:
        raise InputError(key, f"'{path}' holds no time snapshots; rerun it with solve.snapshots = 50 (say)")
    return result
