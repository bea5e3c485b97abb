"""The losses that ship with hjb (SPEC section 8), each a function of dim and its parameters
returning a :class:`hjb.losses.base.Loss`."""
from __future__ import annotations

import numpy as np

from ..errors import InputError
from .base import Loss, positive, vector


def quadratic(dim: int = 1, a: float = 1.0, c=0.0) -> Loss:
    """f(y) = a/2 |y - c|^2."""
    a = positive("a", a)
    c = vector("c", c, dim)
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
    sa, sb = positive("wide_width", wide_width), positive("narrow_width", narrow_width)
    a, b = vector("wide_center", wide_center, dim), vector("narrow_center", narrow_center, dim)

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
    kappa, A, w = float(kappa), float(amplitude), positive("frequency", frequency)
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


def saddle_well(dim: int = 1) -> Loss:
    """f(y) = (y_1^2 - 1)^2/4 + 1/2 sum_{i>=2} y_i^2: minima (+-1, 0, ...) (f = 0, Hessian
    diag(2, 1, ...)); for d >= 2 a strict saddle at 0 (f = 1/4, Hessian diag(-1, 1, ...));
    in d = 1 it is ``double_well``.  grad f = (y_1^3 - y_1, y_2, ...) is not globally Lipschitz."""
    return Loss("saddle_well", dim, lip=np.inf, lower=0.0, scale=0.5,
                value=lambda y: 0.25 * (y[..., 0] ** 2 - 1.0) ** 2 + 0.5 * np.sum(y[..., 1:] ** 2, axis=-1),
                grad=lambda y: np.concatenate([y[..., :1] ** 3 - y[..., :1], y[..., 1:]], axis=-1))


def sharp_flat(dim: int = 1, depth: float = 1.0, sharp_center=-1.0, sharp_width: float = 0.25,
               flat_center=1.0, flat_width: float = 0.5, kappa: float = 1.0) -> Loss:
    """A sharp and a flat minimum of exactly equal depth D = depth:

        f(y) = D [ (1 - e_s(y)) (1 - e_f(y)) - 1 ] + kappa/2 ( |y - m| - R )_+^2,
        e_s(y) = exp(-|y - s|^2 / (2 w_s^2)),   e_f(y) = exp(-|y - c|^2 / (2 w_f^2)),

    s = sharp_center, w_s = sharp_width, c = flat_center, w_f = flat_width, m = (s + c)/2,
    R = |s - c|/2 + 3 max(w_s, w_f).  The well product vanishes with its gradient exactly
    at s and c, the confinement on the ball B(m, R), so f(s) = f(c) = -D exactly: two global
    minima, of curvature D (1 - e_f(s))/w_s^2 and D (1 - e_s(c))/w_f^2.  Between the wells f
    rises to about 0 (less the overlap of the Gaussians), outside B(m, R) like kappa/2 dist^2.
    Lip(grad f) <= D (1/w_s^2 + 1/w_f^2 + 2/(e w_s w_f)) + kappa."""
    D = positive("depth", depth)
    ws, wf = positive("sharp_width", sharp_width), positive("flat_width", flat_width)
    kappa = float(kappa)
    if kappa < 0:
        raise InputError("model.loss.kappa", f"must be non-negative, got {kappa:g}")
    s, c = vector("sharp_center", sharp_center, dim), vector("flat_center", flat_center, dim)
    if np.array_equal(s, c):
        raise InputError("model.loss.flat_center", "must differ from sharp_center")
    m, r = 0.5 * (s + c), 0.5 * float(np.linalg.norm(s - c)) + 3.0 * max(ws, wf)

    def confinement(y):
        dist = np.sqrt(np.sum((y - m) ** 2, axis=-1))
        out = np.maximum(dist - r, 0.0)
        return 0.5 * kappa * out**2, (kappa * out / np.maximum(dist, r))[..., None] * (y - m)

    def value(y):
        return D * ((1.0 - _bump(y, s, ws)[0]) * (1.0 - _bump(y, c, wf)[0]) - 1.0) + confinement(y)[0]

    def grad(y):
        (es, zs), (ef, zf) = _bump(y, s, ws), _bump(y, c, wf)
        return D * (((1 - ef) * es)[..., None] * zs + ((1 - es) * ef)[..., None] * zf) + confinement(y)[1]

    return Loss("sharp_flat", dim, value, grad, lower=-D, scale=min(ws, wf),
                lip=D * (1.0 / ws**2 + 1.0 / wf**2 + 2.0 / (np.e * ws * wf)) + kappa,
                params=dict(depth=D, sharp_center=s, sharp_width=ws, flat_center=c, flat_width=wf, kappa=kappa))
