"""High-order pieces for filtered schemes (Froese & Oberman, SINUM 2013; Bokanowski,
Falcone & Sahu, SISC 2016): WENO5 one-sided derivatives, an SSP Runge-Kutta step and the
filter that caps the high-order correction of a monotone scheme.

A filtered step is

    u^{n+1} = S_M(u) + bound F( (S_H(u) - S_M(u)) / bound ),     bound = c sqrt(h) dt,
    F(r) = r for |r| <= 1,   sign(r) (2 - |r|) for 1 < |r| < 2,   0 for |r| >= 2,

S_M monotone, S_H high order.  It is within 'bound' of the monotone step, so it is an
O(sqrt(h))-perturbation of a monotone, stable, consistent scheme and converges to the
viscosity solution (Barles-Souganidis, as in the papers above); where u is smooth the
two steps differ by O(h dt) < bound, F is the identity and S_H is taken whole.
"""
from __future__ import annotations

import numpy as np

#: The smoothness threshold of the WENO weights, relative to the largest squared difference.
WENO_EPS = 1e-6


def filter_function(r: np.ndarray) -> np.ndarray:
    """F(r) = r on [-1, 1], sign(r) (2 - |r|) on 1 < |r| < 2, 0 beyond (continuous, |F| <= 1):
    that is sign(r) max(0, min(|r|, 2 - |r|))."""
    a = np.abs(r)
    return np.copysign(np.maximum(np.minimum(a, 2.0 - a), 0.0), r)


def filtered(monotone: np.ndarray, high: np.ndarray, bound: float) -> np.ndarray:
    """S_M + bound F((S_H - S_M) / bound): the high-order value where it is within 'bound' of the
    monotone one, the monotone value where they differ by 2 bound or more (in place on a
    copy: a step calls it once per control on every node)."""
    diff = np.subtract(high, monotone)
    size = np.abs(diff)
    np.minimum(size, 2.0 * bound - size, out=size)
    np.maximum(size, 0.0, out=size)
    np.copysign(size, diff, out=size)
    return np.add(monotone, size, out=size)


def _weno(v1, v2, v3, v4, v5):
    """The WENO5 combination of five differences (Jiang & Shu; Osher & Fedkiw, section 3.4)."""
    s1 = 13.0 / 12.0 * (v1 - 2 * v2 + v3) ** 2 + 0.25 * (v1 - 4 * v2 + 3 * v3) ** 2
    s2 = 13.0 / 12.0 * (v2 - 2 * v3 + v4) ** 2 + 0.25 * (v2 - v4) ** 2
    s3 = 13.0 / 12.0 * (v3 - 2 * v4 + v5) ** 2 + 0.25 * (3 * v3 - 4 * v4 + v5) ** 2
    eps = WENO_EPS * max(float(np.max([np.max(v * v) for v in (v1, v2, v3, v4, v5)])), 1e-99)
    a1, a2, a3 = 0.1 / (s1 + eps) ** 2, 0.6 / (s2 + eps) ** 2, 0.3 / (s3 + eps) ** 2
    total = a1 + a2 + a3
    return (a1 * (v1 / 3 - 7 * v2 / 6 + 11 * v3 / 6) + a2 * (-v2 / 6 + 5 * v3 / 6 + v4 / 3)
            + a3 * (v3 / 3 + 5 * v4 / 6 - v5 / 6)) / total


def weno_derivatives(u: np.ndarray, axis: int, h: float):
    """(D^- u, D^+ u) along ``axis``, fifth order where u is smooth.  Three ghost nodes a side
    are filled by cubic extrapolation; the nodes within three of a wall are therefore not
    high order (a filtered scheme hands them to its monotone step)."""
    u = np.moveaxis(u, axis, 0)
    n = u.shape[0]
    if n < 4:
        raise ValueError("WENO derivatives need at least 4 nodes along an axis")
    lo = [4 * u[0] - 6 * u[1] + 4 * u[2] - u[3]]              # cubic extrapolation, one node out
    lo.append(4 * lo[0] - 6 * u[0] + 4 * u[1] - u[2])
    lo.append(4 * lo[1] - 6 * lo[0] + 4 * u[0] - u[1])
    hi = [4 * u[-1] - 6 * u[-2] + 4 * u[-3] - u[-4]]
    hi.append(4 * hi[0] - 6 * u[-1] + 4 * u[-2] - u[-3])
    hi.append(4 * hi[1] - 6 * hi[0] + 4 * u[-1] - u[-2])
    padded = np.concatenate([np.stack(lo[::-1]), u, np.stack(hi)])
    diff = np.diff(padded, axis=0) / h                       # diff[j] = (u_{j-2} - u_{j-3}) / h: node j - 3 to j - 2
    # D^- u_i uses backward differences d_{i-2}..d_{i+2} (d_i = (u_i - u_{i-1}) / h = diff[i + 2])
    minus = _weno(*(diff[k:k + n] for k in range(0, 5)))
    # D^+ u_i uses forward differences e_{i+2}..e_{i-2} (e_i = (u_{i+1} - u_i) / h = diff[i + 3])
    plus = _weno(*(diff[k:k + n] for k in range(5, 0, -1)))
    return np.moveaxis(minus, 0, axis), np.moveaxis(plus, 0, axis)


def ssp_rk3(rate, u: np.ndarray, dt: float) -> np.ndarray:
    """One step of the strong-stability-preserving Runge-Kutta method of order 3 (Shu-Osher)
    for du/dt = rate(u)."""
    u1 = u + dt * rate(u)
    u2 = 0.75 * u + 0.25 * (u1 + dt * rate(u1))
    return u / 3.0 + 2.0 / 3.0 * (u2 + dt * rate(u2))


def interior_mask(shape: tuple, axes: tuple, width: int = 3) -> np.ndarray:
    """True at the nodes at least ``width`` nodes away from every wall along ``axes``."""
    mask = np.ones(shape, dtype=bool)
    for axis in axes:
        index = np.arange(shape[axis])
        inside = (index >= width) & (index < shape[axis] - width)
        mask &= inside.reshape([-1 if k == axis else 1 for k in range(len(shape))])
    return mask
