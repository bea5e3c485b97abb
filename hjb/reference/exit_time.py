"""Exact and asymptotic answers for SGD as a diffusion (SPEC section 7):
dX = -grad f dt + sqrt(2/beta) dW, generator (1/beta) Laplacian - grad f . grad.

- :func:`exit_time_1d`: the mean exit time from (a, b) in d = 1,
      tau(x) = int_a^x e^{beta f(s)} (C - beta int_a^s e^{-beta f(z)} dz) ds,   C such that tau(b) = 0,
  written tau = beta (K(b) E(x)/E(b) - K(x)) with E(x) = int_a^x e^{beta f},
  K(x) = int_a^x J, J(s) = int_a^s e^{beta (f(s) - f(z))} dz, and evaluated by
  composite Gauss-Legendre quadrature entirely in logarithms (log-sum-exp, all
  weights positive), so that e^{+-beta f} spanning e^{+-200} neither overflows nor
  loses digits; the only subtraction is the final one, of two numbers in [0, 1].
- :func:`radial_exit_time_quadratic`: tau on the disc of radius R about the minimum of
  f = a/2 |y|^2 (d = 2): tau(r) = (Ein(beta a R^2/2) - Ein(beta a r^2/2)) / (2a),
  Ein(u) = int_0^u (e^t - 1)/t dt; tau = beta (R^2 - r^2)/4 for a = 0.
- :func:`kramers_time`: the Eyring-Kramers law for leaving a minimum m over a saddle s,
      E tau ~ 2 pi / |lambda_-(s)| sqrt(|det H(s)| / det H(m)) exp(beta (f(s) - f(m))),
  lambda_- the negative eigenvalue of the Hessian H(s); in d = 1 it reduces to
  2 pi / sqrt(f''(m) |f''(s)|) exp(beta (f(s) - f(m))).
- :func:`ou_density`: the Fokker-Planck solution for f = a/2 |y - c|^2 from a Gaussian:
  N(c + (x0 - c) e^{-at}, width^2 e^{-2at} + (1 - e^{-2at})/(a beta)) in each component.
"""
from __future__ import annotations

import numpy as np
from scipy.special import expi, logsumexp

from ..errors import InputError
from ..losses import Loss
from ..points import as_point

#: Gauss-Legendre nodes per panel of the closed form, and the panel count limits.
QUADRATURE_ORDER = 12
MIN_PANELS, MAX_PANELS = 2000, 400_000


def _values(loss: Loss, s: np.ndarray) -> np.ndarray:
    return loss.value(s[..., None])


def _panels(loss: Loss, a: float, b: float, beta: float, x: np.ndarray) -> np.ndarray:
    """Breakpoints: the points x and enough panels that e^{beta f} changes by at most e^{1/4}
    across a panel (beta |f'| width <= 1/4) and f is resolved on its own length scale."""
    sample = np.linspace(a, b, 4001)
    slope = float(np.max(np.abs(loss.grad(sample[:, None])[:, 0])))
    per_length = 4.0 * max(beta * slope, 1.0 / loss.scale, 1.0 / (b - a))
    count = int(np.clip(np.ceil((b - a) * per_length), MIN_PANELS, MAX_PANELS))
    inside = x[(x > a) & (x < b)]
    return np.unique(np.concatenate([np.linspace(a, b, count + 1), inside]))


def exit_time_1d(loss: Loss, a: float, b: float, beta: float, x) -> np.ndarray:
    """The mean exit time from (a, b) at the points ``x`` (d = 1; 0 outside [a, b])."""
    if loss.dim != 1:
        raise InputError("loss", "the closed form of the exit time holds in d = 1")
    a, b, beta = float(a), float(b), float(beta)
    if not b > a:
        raise InputError("b", f"must exceed a = {a:g}, got {b:g}")
    x = np.asarray(x, float)
    breaks = _panels(loss, a, b, beta, x.ravel())
    xi, w = np.polynomial.legendre.leggauss(QUADRATURE_ORDER)
    left, width = breaks[:-1, None], np.diff(breaks)[:, None]
    s = left + 0.5 * width * (xi + 1.0)                          # (panels, q) outer nodes
    with np.errstate(divide="ignore"):          # a panel of width 0 (x on a break) weighs nothing
        log_w = np.log(0.5 * width * w)                          # (panels, q)
        log_part_w = np.log(0.5 * (s - left)[..., None] * w)     # (panels, q, q)
    bf = beta * _values(loss, s)

    def cumulative(log_terms):
        """log of int_a^{break} at every breakpoint, from per-panel log integrands."""
        return np.concatenate([[-np.inf], np.logaddexp.accumulate(logsumexp(log_terms + log_w, axis=1))])

    # log I(s) = log int_a^s e^{-beta f}: whole panels up to the panel of s, then the part of
    # its own panel from the left break to s, by a Gauss rule mapped onto that part.
    log_I_breaks = cumulative(-bf)
    part = 0.5 * (s - left)                                       # (panels, q)
    z = left[..., None] + part[..., None] * (xi + 1.0)            # (panels, q, q)
    log_part = logsumexp(-beta * _values(loss, z) + log_part_w, axis=-1)
    log_I = np.logaddexp(log_I_breaks[:-1, None], log_part)
    log_E, log_K = cumulative(bf), cumulative(bf + log_I)         # J(s) = e^{beta f(s)} I(s)
    tau_breaks = beta * np.exp(log_K[-1]) * (np.exp(log_E - log_E[-1]) - np.exp(log_K - log_K[-1]))
    tau_breaks[0] = tau_breaks[-1] = 0.0
    index = np.clip(np.searchsorted(breaks, x), 0, len(breaks) - 1)
    return np.where((x > a) & (x < b), tau_breaks[index], 0.0)


def radial_exit_time_quadratic(a: float, beta: float, radius: float, r) -> np.ndarray:
    """tau(r) on the disc of ``radius`` about the minimum of f = a/2 |y|^2 (d = 2); a >= 0."""
    r = np.asarray(r, float)
    if a == 0:
        return beta * (radius**2 - r**2) / 4.0

    def ein(u):                     # int_0^u (e^t - 1)/t dt, by its series near 0
        u = np.asarray(u, float)
        small = np.abs(u) < 1e-3
        safe = np.where(small, 1.0, u)
        return np.where(small, u + u**2 / 4 + u**3 / 18, expi(safe) - np.euler_gamma - np.log(np.abs(safe)))

    return (ein(beta * a * radius**2 / 2) - ein(beta * a * r**2 / 2)) / (2.0 * a)


def hessian(loss: Loss, point, step: float = 1e-5) -> np.ndarray:
    """The Hessian of f at ``point`` by central differences of ``loss.grad`` (symmetrised)."""
    point = np.asarray(point, float)
    d = len(point)
    h = step * max(1.0, float(np.max(np.abs(point))))
    shifts = h * np.eye(d)
    H = (loss.grad(point + shifts) - loss.grad(point - shifts)) / (2.0 * h)
    return 0.5 * (H + H.T)


def critical_point(loss: Loss, guess, key: str, iterations: int = 50) -> np.ndarray:
    """Newton's method on grad f = 0 from ``guess`` (errors name ``key``)."""
    y = as_point(guess, loss.dim, key)
    for _ in range(iterations):
        g = loss.grad(y)
        if np.max(np.abs(g)) < 1e-13:
            break
        try:
            y = y - np.linalg.solve(hessian(loss, y), g)
        except np.linalg.LinAlgError:
            raise InputError(key, f"the Hessian is singular near {np.array2string(y)}") from None
    if np.max(np.abs(loss.grad(y))) > 1e-8:
        raise InputError(key, f"Newton's method found no critical point of f near {guess!r}")
    return y


def kramers_time(loss: Loss, minimum, saddle, beta: float) -> float:
    """Eyring-Kramers mean time to leave ``minimum`` over ``saddle`` (both refined by Newton)."""
    beta = float(beta)
    if not beta > 0:
        raise InputError("beta", f"must be positive, got {beta:g}")
    m = critical_point(loss, minimum, "minimum")
    s = critical_point(loss, saddle, "saddle")
    eig_m = np.linalg.eigvalsh(hessian(loss, m))
    eig_s = np.linalg.eigvalsh(hessian(loss, s))
    if np.any(eig_m <= 0):
        raise InputError("minimum", f"{np.array2string(m)} is not a strict minimum (Hessian eigenvalues "
                         f"{np.array2string(eig_m, precision=4)})")
    if np.sum(eig_s < 0) != 1 or np.any(eig_s == 0):
        raise InputError("saddle", f"{np.array2string(s)} is not a saddle of index 1 (Hessian eigenvalues "
                         f"{np.array2string(eig_s, precision=4)})")
    barrier = float(loss.value(s) - loss.value(m))
    prefactor = 2.0 * np.pi / abs(eig_s[0]) * np.sqrt(abs(np.prod(eig_s)) / np.prod(eig_m))
    return float(prefactor * np.exp(beta * barrier))


def escape_landmarks_1d(x: np.ndarray, f: np.ndarray):
    """(minimum, saddle) node coordinates for leaving the lowest interior minimum of f over the
    lower neighbouring barrier top, or None when a wall is lower than that barrier (d = 1)."""
    x, f = np.asarray(x, float), np.asarray(f, float)
    if len(x) < 5:
        return None
    i = 1 + int(np.argmin(f[1:-1]))
    interior = np.arange(1, len(f) - 1)
    tops = interior[(f[1:-1] > f[:-2]) & (f[1:-1] >= f[2:])]
    barriers = []
    for side in (tops[tops < i][-1:], tops[tops > i][:1]):
        barriers.append(float(f[side[0]]) if len(side) else None)
    walls = (float(f[0]), float(f[-1]))
    candidates = [(b, side) for side, b in enumerate(barriers) if b is not None]
    if not candidates:
        return None
    best, side = min(candidates)
    if any(barriers[k] is None and walls[k] <= best for k in (0, 1)):
        return None
    top = tops[tops < i][-1] if side == 0 else tops[tops > i][0]
    return float(x[i]), float(x[top])


def ou_density(a: float, c, beta: float, x0, width: float, t: float, x) -> np.ndarray:
    """The Ornstein-Uhlenbeck density at points ``x`` (..., d) at time t from N(x0, width^2 I)."""
    x = np.asarray(x, float)
    d = x.shape[-1]
    c, x0 = np.broadcast_to(np.asarray(c, float), (d,)), np.broadcast_to(np.asarray(x0, float), (d,))
    decay = np.exp(-a * t)
    mean = c + (x0 - c) * decay
    var = width**2 * decay**2 + (-np.expm1(-2.0 * a * t)) / (a * beta)
    return np.exp(-0.5 * np.sum((x - mean) ** 2, axis=-1) / var) / (2.0 * np.pi * var) ** (d / 2)
