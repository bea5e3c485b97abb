"""The two-scale controlled system (SPEC section 1).

    dX = phi(X, Y, u) dt,                 X_t = x
    dY = (1/eps) b(X, Y) dt + sqrt(2/eps) dW,   Y_t = y

The user supplies the pointwise physics (phi, b, U, g and, when b is a gradient
field b = -grad_y V, the potential V); the solvers build the monotone schemes.
All callables follow the (..., d) convention of :mod:`hjb.losses`:
``phi(x, y, u)`` and ``b(x, y)`` broadcast x and y of shape (..., d) and return
(..., d); ``g(x)`` and ``potential(y, x)`` return (...).
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np

from .errors import InputError
from .losses import Loss


class AssumptionWarning(UserWarning):
    """A model outside the hypotheses of the convergence theorems (it still runs).

    Issued by :class:`hjb.DeepRelaxation` when assumption (A), gamma > Lip(grad f),
    fails; ``hjb run`` prints it as ``hjb: warning: ...`` and the test suite
    ignores it (``filterwarnings`` in pyproject.toml).  Silence it with
    ``warnings.simplefilter("ignore", hjb.AssumptionWarning)``.

    Example
    -------
    >>> import warnings, hjb
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     model = hjb.DeepRelaxation(hjb.make_loss("quadratic", a=3.0), gamma=2.0)
    >>> print(caught[0].category.__name__, caught[0].message)
    AssumptionWarning assumption (A) fails: gamma = 2 is not larger than Lip(grad f) = 3 for loss 'quadratic'; the convergence theorems do not cover this case
    """


def _check_controls(controls) -> tuple[float, float]:
    try:
        lo, hi = (float(c) for c in controls)
    except (TypeError, ValueError):
        raise InputError("model.controls", f"must be [u_min, u_max], got {controls!r}") from None
    if not lo <= hi:
        raise InputError("model.controls", f"u_min = {lo:g} exceeds u_max = {hi:g}")
    return lo, hi


def _probe(model) -> None:
    """Evaluate the model's callables once at two (x, y) pairs and check what comes back: the
    shapes, and, when a potential is given, b(x, y) = -grad_y potential(y, x) (a swapped
    argument order of b or of the potential fails here instead of giving a wrong H-bar)."""
    d = model.dim
    rng = np.random.default_rng(0)
    x, y = rng.uniform(-0.7, 0.7, (2, d)), rng.uniform(-0.7, 0.7, (2, d)) + 0.3
    expect = {"phi(x, y, u)": ((2, d), lambda: model.phi(x, y, model.controls[1])),
              "b(x, y)": ((2, d), lambda: model.b(x, y)), "g(x)": ((2,), lambda: model.g(x))}
    if model.potential is not None:
        expect["potential(y, x)"] = ((2,), lambda: model.potential(y, x))
    for name, (shape, call) in expect.items():
        try:
            got = np.shape(call())
        except Exception as exc:        # the user's callable: any failure is a mistake in the model
            raise InputError(name.split("(")[0], f"{name} failed on arrays of shape (2, {d}): {exc}") from None
        if got != shape:
            raise InputError(name.split("(")[0], f"{name} must map arrays of shape (2, {d}) to {shape}, got {got}"
                             " (points carry their d components in the last axis)")
    if model.potential is not None:
        # exp(-V(., x)) must be invariant for b(x, .):  |grad V|^2 - Lap V - div b + b . grad V = 0
        # (V = potential(y, x)); central differences of step h, so the residual is O(h^2)
        h, eye = 1e-4, np.eye(d)
        V = lambda z: np.asarray(model.potential(z, x), float)                          # noqa: E731
        grad = np.stack([(V(y + h * e) - V(y - h * e)) / (2 * h) for e in eye], axis=-1)
        lap = sum((V(y + h * e) - 2 * V(y) + V(y - h * e)) / h**2 for e in eye)
        b = np.asarray(model.b(x, y), float)
        div = sum((np.asarray(model.b(x, y + h * e))[..., k] - np.asarray(model.b(x, y - h * e))[..., k]) / (2 * h)
                  for k, e in enumerate(eye))
        terms = [np.sum(grad**2, -1), -lap, -div, np.sum(b * grad, -1)]
        if np.any(np.abs(sum(terms)) > 1e-3 * (1.0 + sum(np.abs(t) for t in terms))):
            raise InputError("b", "exp(-potential(y, x)) is not invariant for the drift b(x, y) at a probe "
                             "point: check the argument orders, b(x, y) and potential(y, x)")


@dataclass(frozen=True)
class TwoScaleModel:
    """A general two-scale model: slow drift ``phi``, fast drift ``b``, control set U, terminal cost ``g``.

    The controlled system (SPEC section 1) and its value,

        dX = phi(X, Y, u) dt,                          X_t = x,
        dY = (1/eps) b(X, Y) dt + sqrt(2/eps) dW,      Y_t = y,
        V^eps(t, x, y) = inf over controls u(.) in U of E g(X_T),

    with the Hamiltonian H(x, y, p) = max_{u in U} ( -phi(x, y, u) . p ).
    Only pointwise physics is given here; the solvers build the schemes.

    Every callable is vectorised over points that carry their d components in
    the last axis; x and y broadcast against each other.  Note the argument
    orders: ``potential`` takes (y, x).

    ==========================  =======================================  ===================
    callable                    arguments (shapes)                       returns
    ==========================  =======================================  ===================
    ``phi(x, y, u)``            x, y: (..., d); u: a float in U          (..., d)
    ``b(x, y)``                 x, y: (..., d)                           (..., d)
    ``g(x)``                    x: (..., d)                              (...)
    ``potential(y, x)``         y, x: (..., d)                           (...)
    ==========================  =======================================  ===================

    Parameters
    ----------
    dim : int
        The dimension d of x and of y.
    phi : callable
        The slow drift phi(x, y, u).
    b : callable
        The fast drift b(x, y).
    g : callable
        The terminal cost g(x).
    controls : (float, float), default (0.0, 1.0)
        The control set U = [u_min, u_max].
    potential : callable, optional
        V(y, x) when b = -grad_y V, so that the invariant measure of the fast
        process is mu_x = exp(-V(., x)) / Z(x): needed by the quadrature route to
        H-bar (``effective_hamiltonian(method="quadrature")``), together with
        ``gibbs_box``.
    gibbs_box : (lower, upper), optional
        The y-box holding mu_x (numbers, or lists of d numbers) for the
        quadrature and Markov-chain routes.
    control_points : int, default 2
        The max over U is taken over this many equispaced values of U.  2 (the
        endpoints) is exact when phi is affine in u, because -phi . p is then
        affine in u and attains its max over an interval at an endpoint.
    length_scale : float, default 0.1
        The smallest length on which the fast problem varies (sizes quadrature
        panels and default y-grids).

    Raises
    ------
    InputError
        Controls that are not [u_min, u_max] with u_min <= u_max, or
        ``control_points`` < 2.

    Example
    -------
    A slow variable pulled towards a fast Ornstein-Uhlenbeck process, b = x - y
    = -grad_y V with V(y, x) = |y - x|^2 / 2, so mu_x = N(x, I) and
    H-bar(x, p) = E[((x - Y) . p)^+] = |p| / sqrt(2 pi):

    >>> import numpy as np, hjb
    >>> model = hjb.TwoScaleModel(
    ...     dim=1,
    ...     phi=lambda x, y, u: -u * (x - y),                               # (..., d)
    ...     b=lambda x, y: x - y,                                           # (..., d)
    ...     g=lambda x: x[..., 0] ** 2,                                     # (...)
    ...     controls=(0.0, 1.0),
    ...     potential=lambda y, x: 0.5 * np.sum((y - x) ** 2, axis=-1),     # (...), note (y, x)
    ...     gibbs_box=(-10.0, 10.0))
    >>> model.hamiltonian(np.array([[1.0]]), np.array([[0.0]]), np.array([[1.0]]))
    array([1.])
    >>> hjb.effective_hamiltonian(model, [1.0, 0.0], [1.0, -2.0]).round(6)
    array([0.398942, 0.797885])
    """

    dim: int
    phi: Callable
    b: Callable
    g: Callable
    controls: tuple = (0.0, 1.0)
    potential: Optional[Callable] = None
    gibbs_box: Optional[tuple] = None
    control_points: int = 2
    length_scale: float = 0.1

    def __post_init__(self):
        object.__setattr__(self, "controls", _check_controls(self.controls))
        if self.control_points < 2:
            raise InputError("control_points", "must be at least 2")
        _probe(self)

    @property
    def control_values(self) -> np.ndarray:
        return np.unique(np.linspace(self.controls[0], self.controls[1], self.control_points))

    def hamiltonian(self, x, y, p) -> np.ndarray:
        """H(x, y, p) = max_{u in U} ( -phi(x, y, u) . p )."""
        return np.max(self._control_payoffs(x, y, p), axis=0)

    def active_control(self, x, y, p) -> np.ndarray:
        """argmax_{u in U} ( -phi(x, y, u) . p ): the feedback of the Hamiltonian."""
        return self.control_values[np.argmax(self._control_payoffs(x, y, p), axis=0)]

    def _control_payoffs(self, x, y, p):
        return np.stack([-np.sum(self.phi(x, y, u) * p, axis=-1) for u in self.control_values])

    def gibbs_window(self, x: np.ndarray):
        """Centre and half-widths (each (n, d)) of a box holding mu_x up to e^-40."""
        if self.potential is None or self.gibbs_box is None:
            raise InputError("potential", "quadrature against mu_x needs potential V and gibbs_box "
                             "(use method='markov' for a drift that is not a gradient)")
        lo, hi = (np.broadcast_to(np.asarray(v, float), (self.dim,)) for v in self.gibbs_box)
        n = len(x)
        return np.broadcast_to(0.5 * (lo + hi), (n, self.dim)), np.broadcast_to(0.5 * (hi - lo), (n, self.dim))


#: The Gibbs windows end where the density is below e^-NEGLIGIBLE times its peak.
NEGLIGIBLE = 40.0


class DeepRelaxation(TwoScaleModel):
    """The deep-relaxation model built from a loss f, a coupling gamma and U (SPEC section 1).

    The :class:`hjb.TwoScaleModel` of Chaudhari et al. and Bardi-Kouhkouh:

        V(y, x) = f(y) + gamma/2 |x - y|^2,     b(x, y) = -grad_y V = -grad f(y) + gamma (x - y),
        phi(x, y, u) = -u gamma (x - y),        g = f unless given,
        H(x, y, p) = max_{u in U} u gamma (x - y) . p,

    so mu_x is the Gibbs measure exp(-f(y) - gamma/2 |x - y|^2) / Z(x) and, for
    u = 1, the averaged system is the entropic gradient descent
    dX/dt = -gamma (X - m(X)), m(x) the mean of mu_x.

    Parameters
    ----------
    loss : Loss
        The loss f (:func:`hjb.make_loss`); its dimension is the model's.
    gamma : float
        The coupling gamma > 0.  Assumption (A) of the theorems is
        gamma > Lip(grad f): otherwise an :class:`hjb.AssumptionWarning`.
    controls : (float, float), default (0.0, 1.0)
        The control set U = [u_min, u_max].
    g : callable, optional
        The terminal cost, (..., d) -> (...); default f.

    Raises
    ------
    InputError
        gamma <= 0, or bad controls.

    Example
    -------
    >>> import numpy as np, hjb
    >>> model = hjb.DeepRelaxation(hjb.make_loss("quadratic", a=1.0, c=0.5), gamma=2.0)
    >>> model
    DeepRelaxation(loss='quadratic', dim=1, gamma=2, controls=(0.0, 1.0))
    >>> x, y = np.array([[1.0]]), np.array([[0.0]])
    >>> model.phi(x, y, 1.0), model.b(x, y), model.potential(y, x)
    (array([[-2.]]), array([[2.5]]), array([1.125]))
    """

    def __init__(self, loss: Loss, gamma: float, controls=(0.0, 1.0), g: Optional[Callable] = None):
        gamma = float(gamma)
        if not gamma > 0:
            raise InputError("model.gamma", f"must be positive, got {gamma:g}")
        object.__setattr__(self, "loss", loss)
        object.__setattr__(self, "gamma", gamma)
        super().__init__(
            dim=loss.dim,
            phi=lambda x, y, u: -u * gamma * (x - y),
            b=lambda x, y: -loss.grad(y) + gamma * (x - y),
            g=g if g is not None else loss.value,
            controls=controls,
            potential=lambda y, x: loss.value(y) + 0.5 * gamma * np.sum((x - y) ** 2, axis=-1),
            length_scale=min(loss.scale, 1.0 / np.sqrt(gamma)),
        )
        if not gamma > loss.lip:
            warnings.warn(f"assumption (A) fails: gamma = {gamma:g} is not larger than "
                          f"Lip(grad f) = {loss.lip:g} for loss '{loss.name}'; the convergence "
                          "theorems do not cover this case", AssumptionWarning, stacklevel=2)

    def gibbs_window(self, x: np.ndarray):
        """Centred at x: where gamma/2 |y - x|^2 > f(x) - inf f + 40 the density is below
        e^-40 times its value at y = x, hence negligible against Z(x)."""
        return x, np.broadcast_to(self.gibbs_radius(self.loss.value(x))[:, None], x.shape)

    def gibbs_radius(self, least) -> np.ndarray:
        """sqrt(2 (W - inf f + NEGLIGIBLE) / gamma) for an upper bound W of min_y f(y) +
        gamma/2 |y - x|^2 (``least``, per point): beyond it from x, f(y) + gamma/2 |y - x|^2 >=
        inf f + gamma/2 |y - x|^2 > W + NEGLIGIBLE, so the density is below e^-NEGLIGIBLE times its peak."""
        return np.sqrt(2.0 * (np.maximum(np.asarray(least, float) - self.loss.lower, 0.0) + NEGLIGIBLE) / self.gamma)

    def __repr__(self):
        return f"DeepRelaxation(loss={self.loss.name!r}, dim={self.dim}, gamma={self.gamma:g}, controls={self.controls})"
