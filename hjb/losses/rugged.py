"""A rugged landscape for the smoothing picture (local entropy, viscous and inviscid HJ flows)."""
from __future__ import annotations

import numpy as np

from ..errors import InputError
from .base import Loss, positive


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
    curvature, amplitude, frequency = float(curvature), float(amplitude), positive("frequency", frequency)
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
