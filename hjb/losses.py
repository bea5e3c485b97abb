"""Loss functions f: R^d -> R with their gradient (SPEC section 8).

Arrays follow one convention throughout hjb: points carry their d components in
the last axis, so ``value(y)`` maps shape (..., d) to (...) and ``grad(y)`` maps
(..., d) to (..., d).
"""
from __future__ import annotations

import importlib
import inspect
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from .errors import InputError, did_you_mean
from .points import as_point


@dataclass(frozen=True)
class Loss:
    """A loss with the facts the solvers need.

    ``lip`` bounds Lip(grad f) (``inf`` when the gradient is not globally
    Lipschitz), ``lower`` bounds f from below (it sizes the quadrature window of
    the Gibbs measure) and ``scale`` is the smallest length on which f varies
    (it sizes quadrature panels).
    """

    name: str
    dim: int
    value: Callable[[np.ndarray], np.ndarray]
    grad: Callable[[np.ndarray], np.ndarray]
    lip: float
    lower: float
    scale: float = 1.0
    params: dict = field(default_factory=dict)

    def __call__(self, y):
        return self.value(y)


def _vector(name: str, value, dim: int) -> np.ndarray:
    """A centre given as a scalar (all components) or a list of length d."""
    return as_point(value, dim, f"model.loss.{name}", broadcast=True)


def _positive(name: str, value) -> float:
    value = float(value)
    if not value > 0:
        raise InputError(f"model.loss.{name}", f"must be positive, got {value:g}")
    return value


def quadratic(dim: int = 1, a: float = 1.0, c=0.0) -> Loss:
    """f(y) = a/2 |y - c|^2."""
    a = _positive("a", a)
    c = _vector("c", c, dim)
    return Loss(
        "quadratic", dim,
        value=lambda y: 0.5 * a * np.sum((y - c) ** 2, axis=-1),
        grad=lambda y: a * (y - c),
        lip=a, lower=0.0, scale=1.0 / np.sqrt(a),
        params={"a": a, "c": c},
    )


def _bump(y, center, width):
    """exp(-|y - center|^2 / (2 width^2)) and its gradient factor (y - center)/width^2."""
    z = y - center
    e = np.exp(-np.sum(z * z, axis=-1) / (2.0 * width**2))
    return e, z / width**2


def wide_narrow(dim: int = 1, kappa: float = 0.05, wide_depth: float = 1.5, wide_center=-1.5,
                wide_width: float = 0.8, narrow_depth: float = 2.0, narrow_center=1.5,
                narrow_width: float = 0.15) -> Loss:
    """f(y) = kappa/2 |y|^2 - A exp(-|y-a|^2/(2 s_a^2)) - B exp(-|y-b|^2/(2 s_b^2))."""
    kappa = float(kappa)
    if kappa < 0:
        raise InputError("model.loss.kappa", f"must be non-negative, got {kappa:g}")
    A, B = float(wide_depth), float(narrow_depth)
    sa, sb = _positive("wide_width", wide_width), _positive("narrow_width", narrow_width)
    a, b = _vector("wide_center", wide_center, dim), _vector("narrow_center", narrow_center, dim)

    def value(y):
        return 0.5 * kappa * np.sum(y * y, axis=-1) - A * _bump(y, a, sa)[0] - B * _bump(y, b, sb)[0]

    def grad(y):
        ea, za = _bump(y, a, sa)
        eb, zb = _bump(y, b, sb)
        return kappa * y + A * ea[..., None] * za + B * eb[..., None] * zb

    # The Hessian of -A exp(-r^2/2s^2) has spectral norm at most A/s^2.
    return Loss("wide_narrow", dim, value, grad,
                lip=kappa + abs(A) / sa**2 + abs(B) / sb**2,
                lower=-(max(A, 0.0) + max(B, 0.0)), scale=min(sa, sb),
                params=dict(kappa=kappa, wide_depth=A, wide_center=a, wide_width=sa,
                            narrow_depth=B, narrow_center=b, narrow_width=sb))


def tilted_cosine(dim: int = 1, kappa: float = 0.1, amplitude: float = 0.5,
                  frequency: float = 4.0) -> Loss:
    """f(y) = kappa/2 |y|^2 + A sum_i (1 - cos(omega y_i))."""
    kappa, A, w = float(kappa), float(amplitude), _positive("frequency", frequency)
    if kappa < 0:
        raise InputError("model.loss.kappa", f"must be non-negative, got {kappa:g}")
    if A < 0:
        raise InputError("model.loss.amplitude", f"must be non-negative, got {A:g}")
    return Loss(
        "tilted_cosine", dim,
        value=lambda y: 0.5 * kappa * np.sum(y * y, axis=-1) + A * np.sum(1.0 - np.cos(w * y), axis=-1),
        grad=lambda y: kappa * y + A * w * np.sin(w * y),
        lip=kappa + A * w**2, lower=0.0, scale=1.0 / w,
        params=dict(kappa=kappa, amplitude=A, frequency=w),
    )


def double_well(dim: int = 1) -> Loss:
    """f(y) = (|y|^2 - 1)^2 / 4; its gradient is not globally Lipschitz."""
    def value(y):
        return 0.25 * (np.sum(y * y, axis=-1) - 1.0) ** 2

    def grad(y):
        return (np.sum(y * y, axis=-1) - 1.0)[..., None] * y

    return Loss("double_well", dim, value, grad, lip=np.inf, lower=0.0, scale=0.5)


LOSSES = {
    "quadratic": quadratic,
    "wide_narrow": wide_narrow,
    "tilted_cosine": tilted_cosine,
    "double_well": double_well,
}


def loss_parameters(name: str) -> list[str]:
    """The parameter names a shipped loss accepts (besides ``dim``)."""
    return [p for p in inspect.signature(LOSSES[name]).parameters if p != "dim"]


def _user_loss(reference: str, dim: int, params: dict) -> Loss:
    """A loss named ``"package.module:function"``.

    The function is called as ``function(dim=d, **params)`` and returns a
    :class:`Loss`, or a tuple ``(f, grad)`` / ``(f, grad, lip)`` of callables
    following the (..., d) array convention.
    """
    module_name, _, attr = reference.partition(":")
    try:
        func = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise InputError("model.loss.name", f"cannot import '{reference}': {exc}") from None
    try:
        made = func(dim=dim, **params)
    except TypeError as exc:
        raise InputError("model.loss", f"'{reference}' rejected its parameters: {exc}") from None
    if isinstance(made, Loss):
        return made
    if isinstance(made, tuple) and len(made) in (2, 3) and all(callable(m) for m in made[:2]):
        lip = float(made[2]) if len(made) == 3 else np.inf
        return Loss(reference, dim, made[0], made[1], lip=lip, lower=_sampled_lower(made[0], dim),
                    params=dict(params))
    raise InputError("model.loss.name", f"'{reference}' must return a hjb.Loss or (f, grad[, lip])")


def _sampled_lower(f, dim: int, radius: float = 10.0) -> float:
    """A lower bound of a user loss estimated on a coarse grid (used only to size windows)."""
    axis = np.linspace(-radius, radius, max(int(round(2e4 ** (1.0 / dim))), 3))
    pts = np.stack(np.meshgrid(*([axis] * dim), indexing="ij"), axis=-1)
    return float(np.min(f(pts)))


def make_loss(name: str, dim: int = 1, **params) -> Loss:
    """Build a shipped loss by name, or a user loss ``"package.module:function"``."""
    if not isinstance(dim, (int, np.integer)) or dim < 1:
        raise InputError("model.dim", f"must be a positive integer, got {dim!r}")
    if ":" in name:
        return _user_loss(name, int(dim), params)
    if name not in LOSSES:
        raise InputError("model.loss.name", f"unknown loss '{name}'{did_you_mean(name, LOSSES)}; "
                         f"shipped: {', '.join(LOSSES)} or 'package.module:function'")
    allowed = loss_parameters(name)
    for key in params:
        if key not in allowed:
            raise InputError(f"model.loss.{key}", f"unknown parameter of loss '{name}'"
                             f"{did_you_mean(key, allowed)}; it takes: {', '.join(allowed) or 'none'}")
    try:
        return LOSSES[name](dim=int(dim), **params)
    except (TypeError, ValueError) as exc:
        if isinstance(exc, InputError):
            raise
        raise InputError("model.loss", f"bad parameter for '{name}': {exc}") from None


def rugged(dim: int = 1, curvature: float = 0.5, amplitude: float = 0.4, frequency: float = 4.0,
           noise: float = 0.15, modes: int = 12, seed: int = 7) -> Loss:
    """A rugged landscape for the smoothing picture (shown on [-3, 3]), separable over the axes:

        f(y) = sum_i [ curvature/2 y_i^2 + amplitude sin(frequency y_i) + noise n(y_i) ],
        n(s) = sum_j a_j cos(w_j s + theta_j) / sqrt(modes),

    the smoothed noise n a fixed random trigonometric sum (numpy Generator with
    ``seed``: a_j standard normal, w_j uniform in [6, 14], theta_j uniform), so
    f is smooth with an explicit gradient and Lip(grad f) <= curvature +
    amplitude frequency^2 + noise sum_j |a_j| w_j^2 / sqrt(modes).
    """
    curvature, amplitude, frequency = float(curvature), float(amplitude), _positive("frequency", frequency)
    noise = float(noise)
    if curvature < 0:
        raise InputError("model.loss.curvature", f"must be non-negative, got {curvature:g}")
    if not isinstance(modes, int) or modes < 1:
        raise InputError("model.loss.modes", f"must be a positive integer, got {modes!r}")
    rng = np.random.default_rng(int(seed))
    amp = rng.standard_normal(modes) / np.sqrt(modes)
    omega = rng.uniform(6.0, 14.0, modes)
    theta = rng.uniform(0.0, 2.0 * np.pi, modes)

    def value(y):
        phase = y[..., None] * omega + theta
        per_axis = (0.5 * curvature * y**2 + amplitude * np.sin(frequency * y)
                    + noise * np.sum(amp * np.cos(phase), axis=-1))
        return np.sum(per_axis, axis=-1)

    def grad(y):
        phase = y[..., None] * omega + theta
        return (curvature * y + amplitude * frequency * np.cos(frequency * y)
                - noise * np.sum(amp * omega * np.sin(phase), axis=-1))

    bumps = abs(amplitude) + abs(noise) * float(np.sum(np.abs(amp)))
    return Loss("rugged", dim, value, grad,
                lip=curvature + abs(amplitude) * frequency**2 + abs(noise) * float(np.sum(np.abs(amp) * omega**2)),
                lower=-dim * bumps, scale=1.0 / max(frequency, float(np.max(omega))),
                params=dict(curvature=curvature, amplitude=amplitude, frequency=frequency, noise=noise,
                            modes=modes, seed=int(seed)))


LOSSES["rugged"] = rugged
