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
    """A case outside the hypotheses of the convergence theorems (it still runs)."""


def _check_controls(controls) -> tuple[float, float]:
    try:
        lo, hi = (float(c) for c in controls)
    except (TypeError, ValueError):
        raise InputError("model.controls", f"must be [u_min, u_max], got {controls!r}") from None
    if not lo <= hi:
        raise InputError("model.controls", f"u_min = {lo:g} exceeds u_max = {hi:g}")
    return lo, hi


@dataclass(frozen=True)
class TwoScaleModel:
    """General model: slow drift ``phi``, fast drift ``b``, control set U, terminal cost ``g``.

    ``potential(y, x)``, when given, is V with b = -grad_y V, so that the
    invariant measure of the fast process is mu_x = exp(-V) / Z (needed by the
    quadrature route for H-bar); ``gibbs_box = (lower, upper)`` then bounds the
    window integrated over.  ``control_points`` is the number of equispaced
    values of U that the max over U is taken on: 2 (the endpoints) is exact
    when phi is affine in u, because then -phi . p is affine in u and a
    linear function attains its max over an interval at an endpoint.
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


class DeepRelaxation(TwoScaleModel):
    """The deep-relaxation model built from a loss f, a coupling gamma and U.

        V(y, x) = f(y) + gamma/2 |x - y|^2,   b = -grad_y V,   phi = -u gamma (x - y),
        H(x, y, p) = max_u u gamma (x - y) . p,   g = f unless given.
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
        excess = np.maximum(self.loss.value(x) - self.loss.lower, 0.0) + 40.0
        radius = np.sqrt(2.0 * excess / self.gamma)
        return x, np.broadcast_to(radius[:, None], x.shape)

    def __repr__(self):
        return f"DeepRelaxation(loss={self.loss.name!r}, dim={self.dim}, gamma={self.gamma:g}, controls={self.controls})"
