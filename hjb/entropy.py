"""Local entropy and the Cole-Hopf solution of the viscous HJ equation (SPEC section 5).

    F(x, gamma) = log int exp( -f(y) - gamma/2 |x - y|^2 ) dy,     grad F = -gamma (x - m(x)),

    du/dt = -1/2 |grad u|^2 + (1/(2 beta)) Lap u,   u(x, 0) = f(x),
    u(x, t) = -(1/beta) log ( G_{t/beta} * exp(-beta f) )(x)      (Cole-Hopf),

G_s the heat kernel of variance s.  Both are the one integral

    log I(x) = log int exp( -beta ( f(y) + |x - y|^2 / (2 t) ) ) dy,

with F(x, gamma) = log I at beta = 1, t = 1/gamma.  It is evaluated

* pointwise by composite Gauss-Legendre quadrature in log space (log-sum-exp,
  shifted by the maximum exponent), on a window around x outside of which the
  integrand is below e^-40 times its value at y = x, with panels that resolve
  the width sqrt(t / (beta (1 + t Lip))) of the integrand's peak;
* on a grid by FFT convolution (scipy.signal.fftconvolve) of exp(-beta (f - min f))
  with the sampled heat kernel when the dynamic range allows it, otherwise by
  the separable log-domain convolution (the heat kernel factorises over the axes,
  so one log-sum-exp pass per axis).  The grid routes integrate over the box
  only: that is where f is sampled.

Nothing over- or underflows for beta in [0.1, 1000]: only differences of
exponents are exponentiated.
"""
from __future__ import annotations

import numpy as np
from scipy.special import logsumexp

from .errors import InputError
from .grid import Grid
from .limits import SLACK, check_memory
from .losses import Loss
from .operators.quadrature import ORDER, panel_rule
from .points import as_points

#: Panels per standard deviation of the integrand's peak.
PANELS_PER_WIDTH = 2.0
#: The integrand is dropped where it is below exp(-TAIL) times its value at y = x.
TAIL = 40.0
#: (points x nodes) evaluated at once.
CHUNK = 2_000_000
#: FFT convolution is used only while the convolved values span fewer than
#: exp(FFT_RANGE) (FFT round-off is absolute, about 1e-16 of the largest value).
FFT_RANGE = 18.0


def _check(beta, t):
    if not np.isfinite(beta) or not beta > 0:
        raise InputError("beta", f"must be positive and finite, got {beta:g}")
    if not t >= 0:
        raise InputError("t", f"must be non-negative, got {t:g}")


def curvature_bound(loss: Loss) -> float:
    """A bound on |f''| used to size panels (1/scale^2 when Lip(grad f) is infinite)."""
    return float(loss.lip) if np.isfinite(loss.lip) else 1.0 / loss.scale**2


def _log_integral(loss: Loss, x: np.ndarray, beta: float, t: float, moments: bool = False):
    """log int exp(-beta (f(y) + |x-y|^2/(2t))) dy for each row of x (n, d); optionally the mean of y."""
    d = loss.dim
    excess = np.maximum(loss.value(x) - loss.lower, 0.0) + TAIL / beta
    radius = np.sqrt(2.0 * t * excess)                                       # (n,)
    width = np.sqrt(t / (beta * (1.0 + t * curvature_bound(loss))))
    panel = min(width, loss.scale) / PANELS_PER_WIDTH
    per_side = max(int(np.ceil(np.max(radius) / panel)), 1)
    nodes_1d = 2 * per_side * ORDER
    if nodes_1d**d > 4_000_000:
        raise InputError("beta", f"quadrature needs {nodes_1d}^{d} nodes per point at beta = {beta:g}; "
                         "use the grid routine (cole_hopf_grid) in d >= 2")
    std, weights = panel_rule(per_side)
    lw = np.log(weights)
    std = np.stack([g.ravel() for g in np.meshgrid(*([std] * d), indexing="ij")], axis=-1)   # (q, d)
    lw = sum(g.ravel() for g in np.meshgrid(*([lw] * d), indexing="ij"))                    # (q,)
    q = len(lw)
    step = max(CHUNK // q, 1)
    logs, means = [], []
    for start in range(0, len(x), step):
        xc, rc = x[start:start + step, None, :], radius[start:start + step, None, None]
        y = xc + rc * std[None]
        expo = lw[None] + d * np.log(rc[..., 0]) - beta * (loss.value(y) + np.sum((y - xc) ** 2, -1) / (2.0 * t))
        top = np.max(expo, axis=1, keepdims=True)
        wts = np.exp(expo - top)
        total = np.sum(wts, axis=1)
        logs.append(top[:, 0] + np.log(total))
        if moments:
            means.append(np.einsum("mq,mqd->md", wts, y) / total[:, None])
    log_i = np.concatenate(logs)
    return (log_i, np.concatenate(means)) if moments else log_i


def local_entropy(loss: Loss, gamma: float, x):
    """The local entropy F(x, gamma) and its gradient at points x (SPEC section 5).

        F(x, gamma) = log integral of exp( -f(y) - gamma/2 |x - y|^2 ) dy,
        grad_x F = -gamma (x - m(x)),   m(x) the mean of the Gibbs measure mu_x,

    (the Bardi-Kouhkouh normalisation, temperature 1), so grad F is the
    velocity of entropic gradient descent.  Composite Gauss-Legendre
    quadrature in log space on a window outside which the integrand is below
    e^-40 of its value at y = x.

    Parameters
    ----------
    loss : Loss
        f.
    gamma : float
        The coupling gamma > 0.
    x : array_like
        Points, shape (n, d) (in d = 1 a flat list of n numbers).

    Returns
    -------
    F : ndarray, shape (n,)
        F(x_i, gamma).
    grad : ndarray, shape (n, d)
        grad_x F(x_i, gamma).

    Example
    -------
    For f = |y|^2 / 2 and gamma = 2: F = log sqrt(2 pi / 3) - x^2 / 3, grad F = -2x/3:

    >>> import hjb
    >>> F, grad = hjb.local_entropy(hjb.make_loss("quadratic", a=1.0), 2.0, [0.0, 1.0])
    >>> F.round(6)
    array([0.369632, 0.036299])
    >>> grad.round(6)
    array([[ 0.      ],
           [-0.666667]])
    """
    if not gamma > 0:
        raise InputError("gamma", f"must be positive, got {gamma:g}")
    x = as_points(x, loss.dim)
    log_i, mean = _log_integral(loss, x, 1.0, 1.0 / gamma, moments=True)
    return log_i, -gamma * (x - mean)


def cole_hopf(loss: Loss, beta: float, x, t: float) -> np.ndarray:
    """u(x, t) of the viscous HJ equation at points x, by the Cole-Hopf formula (SPEC section 5).

    The solution of du/dt = -1/2 |grad u|^2 + (1/(2 beta)) Laplacian u, u(x, 0) = f(x), on R^d is

        u(x, t) = -(1/beta) log ( G_{t/beta} * exp(-beta f) )(x),

    G_s the heat kernel of variance s (the Chaudhari et al. normalisation of
    local entropy).  The integral is taken by composite Gauss-Legendre
    quadrature in log space, so nothing over- or underflows for beta in [0.1, 1000].

    Parameters
    ----------
    loss : Loss
        f.
    beta : float
        The inverse temperature, positive and finite.
    x : array_like
        Points, shape (n, d) (in d = 1 a flat list of n numbers).
    t : float
        The time (>= 0; t = 0 gives f).

    Returns
    -------
    ndarray, shape (n,)
        u(x_i, t).

    Raises
    ------
    InputError
        beta not positive and finite, t < 0, or a quadrature too large (in
        d >= 2 use ``hjb.entropy.cole_hopf_grid``).

    Example
    -------
    For f = a/2 |x|^2: u(x, t) = a |x|^2 / (2 (1 + a t)) + (d / (2 beta)) log(1 + a t):

    >>> import math, hjb
    >>> hjb.cole_hopf(hjb.make_loss("quadratic", a=1.0), beta=5.0, x=[0.0, 1.0], t=0.5).round(6)
    array([0.040547, 0.37388 ])
    >>> round(math.log(1.5) / 10, 6), round(1 / 3 + math.log(1.5) / 10, 6)
    (0.040547, 0.37388)
    """
    _check(beta, t)
    x = as_points(x, loss.dim)
    if t == 0:
        return loss.value(x)
    d = loss.dim
    return -(_log_integral(loss, x, beta, t) - 0.5 * d * np.log(2.0 * np.pi * t / beta)) / beta


def cole_hopf_grid(loss: Loss, beta: float, grid: Grid, t: float, method: str = "auto") -> np.ndarray:
    """u(., t) on the nodes of ``grid`` from the samples of f there (the integral over the box).

    ``method``: "fft" (FFT convolution), "logsumexp" (separable log-domain
    convolution, stable for every beta) or "auto" (FFT when its round-off is
    harmless, see :data:`FFT_RANGE`).
    """
    _check(beta, t)
    if method not in ("auto", "fft", "logsumexp"):
        raise InputError("method", f"must be auto, fft or logsumexp, got '{method}'")
    f = loss.value(grid.nodes())
    if t == 0:
        return f
    s = t / beta                                   # variance of the heat kernel
    w = -beta * (f - f.min())                      # log of the sampled exp(-beta f), max 0
    if method == "auto":
        # a priori range of beta (u - min f): u <= f, and u - min f <= max over the box
        # of (f - min f) (capped by the kernel's decay across the box)
        spread = beta * min(float(np.ptp(f)), float(np.sum((grid.upper - grid.lower) ** 2)) / (2.0 * t))
        method = "fft" if spread < FFT_RANGE else "logsumexp"
    check_memory(grid_memory(grid.shape, method), f"a Cole-Hopf grid of {grid.size:,} nodes")
    if method == "fft":
        log_conv = np.log(np.maximum(_fft_convolve(np.exp(w), grid, s), np.finfo(float).tiny))
    else:
        log_conv = w
        for k, axis in enumerate(grid.axes):
            log_conv = _logsumexp_axis(log_conv, k, axis, s)
    return f.min() - log_conv / beta


def cole_hopf_whole_space(loss: Loss, beta: float, grid: Grid, t: float) -> np.ndarray:
    """u(., t) at the nodes of ``grid`` as the integral over R^d: :func:`cole_hopf_grid` on the
    grid padded (same spacing) by the reach sqrt(2 t (max f - inf f + TAIL/beta)) of the
    integrand, then cropped."""
    _check(beta, t)
    if t == 0:
        return loss.value(grid.nodes())
    reach = np.sqrt(2.0 * t * (float(np.max(loss.value(grid.nodes()))) - loss.lower + TAIL / beta))
    pads = [int(np.ceil(reach / a.step)) for a in grid.axes]
    padded = Grid.box([a.lower - p * a.step for a, p in zip(grid.axes, pads)],
                      [a.upper + p * a.step for a, p in zip(grid.axes, pads)],
                      [a.points + 2 * p for a, p in zip(grid.axes, pads)], name=grid.name)
    u = cole_hopf_grid(loss, beta, padded, t, method="logsumexp")
    return u[tuple(slice(p, p + a.points) for a, p in zip(grid.axes, pads))]


def _kernel_1d(axis, s):
    """log of h G_s(z) for the offsets z = -(n-1)h .. (n-1)h (trapezoid weight h, G the 1-D kernel)."""
    h = axis.step
    z = h * np.arange(-(axis.points - 1), axis.points)
    return np.log(h) - 0.5 * np.log(2.0 * np.pi * s) - z**2 / (2.0 * s)


def _fft_convolve(values, grid: Grid, s):
    from scipy.signal import fftconvolve   # scipy.signal pulls in scipy.stats (~1 s): only when used
    kernel = np.exp(_kernel_1d(grid.axes[0], s))
    for axis in grid.axes[1:]:
        kernel = np.multiply.outer(kernel, np.exp(_kernel_1d(axis, s)))
    # 'valid' keeps out[i] = sum_j values[j] kernel[i - j + n - 1] = sum_j values[j] h G(x_i - y_j)
    return fftconvolve(values, kernel, mode="valid")


def _logsumexp_axis(log_values, k, axis, s):
    """log sum_j exp(log_values[.., j, ..] + log(h G_s(x_i - y_j))) along array axis k."""
    n = axis.points
    lk = _kernel_1d(axis, s)
    offsets = np.arange(n)[:, None] - np.arange(n)[None, :] + n - 1
    kern = lk[offsets]                                       # (i, j)
    moved = np.moveaxis(log_values, k, -1)                   # (..., j)
    flat = moved.reshape(-1, n)
    out = np.empty_like(flat)
    step = max(CHUNK // (n * n), 1)
    for start in range(0, len(flat), step):
        out[start:start + step] = logsumexp(flat[start:start + step, None, :] + kern[None], axis=-1)
    return np.moveaxis(out.reshape(moved.shape), -1, k)


def grid_memory(shape, method: str = "logsumexp") -> float:
    """Bytes at the peak of :func:`cole_hopf_grid` on a grid of ``shape`` (calibrated by
    scripts/bench_memory.py): "logsumexp" holds the kernel and its offsets (n x n, n the
    longest axis) and a chunk of (rows, n, n) with its log-sum-exp temporaries; "fft" the
    zero-padded transforms (3^d times the grid, complex)."""
    size, d, n = float(np.prod([float(k) for k in shape])), len(shape), float(max(shape))
    nodes = 8.0 * size * (d + 5)                        # nodes, f, the exponent, one pass in and out
    if method == "fft":
        return SLACK * (nodes + 16.0 * 3**d * size * 4)
    chunk = max(CHUNK // n**2, 1) * n**2
    return SLACK * (nodes + 8.0 * (2 * n**2 + 5 * chunk))


def whole_space_memory(loss: Loss, beta: float, grid: Grid, t: float, f_max: float) -> float:
    """Bytes at the peak of :func:`cole_hopf_whole_space`, given (an estimate of) max f on the grid."""
    if t == 0:
        return 8.0 * grid.size * (grid.dim + 1)
    reach = np.sqrt(2.0 * t * max(f_max - loss.lower + TAIL / beta, 0.0))
    if not np.isfinite(reach):                 # a loss that is not finite fails in the solve
        return grid_memory(grid.shape)
    return grid_memory(tuple(a.points + 2 * float(np.ceil(reach / a.step)) for a in grid.axes))
