"""The inviscid limit beta = inf (SPEC section 5): the Hopf-Lax formula / Moreau envelope

    u(x, t) = min_y { f(y) + |x - y|^2 / (2 t) },   prox_{tf}(x) = argmin,   grad u = (x - prox) / t,

the viscosity solution of du/dt + 1/2 |grad u|^2 = 0, u(., 0) = f.

:func:`moreau_envelope` minimises exactly (to round-off): a search over a
tensor grid of the window |y - x| <= sqrt(2 t (f(x) - inf f)) (outside it the
objective exceeds its value at y = x), with spacing a fraction of the loss's
length scale so that the best node lies in the basin of a global minimiser,
then repeated zooms (a finer local grid of +-2 spacings around the best node)
in each of the :data:`BASINS` lowest local minima of the coarse search (the
lowest node need not lie in the basin of the lowest minimum), keeping the best.
All points are processed at once (no per-point optimiser loop).
:func:`godunov_hopf_lax` is the monotone Godunov scheme of :mod:`hjb.solvers.viscous`
with beta = inf.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InputError, check_finite
from ..grid import Grid
from ..limits import SLACK, check_memory
from ..losses import Loss
from ..points import as_points
from .viscous import ViscousHJSolution, solve_viscous_hj

#: Coarse search spacing as a fraction of the loss's length scale.
SEARCH_FRACTION = 0.25
#: Sub-intervals per coarse spacing in one zoom, and the number of zooms.
ZOOM_POINTS, ZOOMS = 4, 12
#: Basins (lowest local minima of the coarse search) refined for each point.
BASINS = 4
#: Objective evaluations held in memory at once.
CHUNK = 4_000_000
#: Refuse searches needing more evaluations than this in total.
MAX_EVALUATIONS = 2e9


@dataclass
class MoreauEnvelope:
    """u(x, t), prox_{tf}(x) and grad u = (x - prox)/t at the points x (n, d)."""

    value: np.ndarray
    prox: np.ndarray
    gradient: np.ndarray


def _objective(loss, x, y, t):
    return loss.value(y) + np.sum((y - x) ** 2, axis=-1) / (2.0 * t)


def _offsets(d, half_width, points):
    axis = np.linspace(-half_width, half_width, points)
    return np.stack([g.ravel() for g in np.meshgrid(*([axis] * d), indexing="ij")], axis=-1)


def _best(loss, x, centers, offsets, t):
    """argmin over centers + offsets for each row, in chunks; returns the best points (n, d)."""
    q = len(offsets)
    step = max(CHUNK // q, 1)
    out = np.empty_like(x)
    for s in range(0, len(x), step):
        y = centers[s:s + step, None, :] + offsets[None]
        vals = _objective(loss, x[s:s + step, None, :], y, t)
        out[s:s + step] = y[np.arange(len(y)), np.argmin(vals, axis=1)]
    return out


def _basin_candidates(loss, x, offsets, per_axis, t, keep):
    """The ``keep`` lowest local minima of the objective on the search grid around each x: (n, keep, d).

    A node whose objective is at most that of its 2d axis neighbours is a local
    minimum; several basins are kept because the grid minimum can sit in a basin
    whose continuous minimum is slightly higher than another's.
    """
    d = x.shape[1]
    q = len(offsets)
    step = max(CHUNK // (3 * q), 1)
    out = np.empty((len(x), keep, d))
    for s in range(0, len(x), step):
        xs = x[s:s + step]
        y = xs[:, None, :] + offsets[None]
        vals = _objective(loss, xs[:, None, :], y, t)
        grid_vals = vals.reshape((len(xs),) + (per_axis,) * d)
        is_min = np.ones(grid_vals.shape, bool)
        for k in range(1, d + 1):
            padded = np.pad(grid_vals, [(0, 0)] * k + [(1, 1)] + [(0, 0)] * (d - k), constant_values=np.inf)
            lo = np.take(padded, np.arange(0, per_axis), axis=k)
            hi = np.take(padded, np.arange(2, per_axis + 2), axis=k)
            is_min &= (grid_vals <= lo) & (grid_vals <= hi)
        ranked = np.where(is_min.reshape(len(xs), q), vals, np.inf)
        pick = np.argsort(ranked, axis=1)[:, :keep]
        # rows with fewer local minima than ``keep`` repeat their best one
        best = pick[:, :1]
        pick = np.where(np.isfinite(np.take_along_axis(ranked, pick, axis=1)), pick, best)
        out[s:s + step] = np.take_along_axis(y, pick[..., None], axis=1)
    return out


def moreau_envelope(loss: Loss, x, t: float) -> MoreauEnvelope:
    """The exact Moreau envelope of f (the Hopf-Lax solution), its prox and its gradient (SPEC section 5).

    At each point x,

        u(x, t) = min_y { f(y) + |x - y|^2 / (2 t) },   prox_{tf}(x) = the argmin,   grad u = (x - prox) / t,

    the viscosity solution of du/dt + 1/2 |grad u|^2 = 0, u(., 0) = f (the
    beta = inf limit of the viscous HJ equation).  The minimisation is exact to
    round-off: a grid search of the window |y - x| <= sqrt(2 t (f(x) - inf f))
    at a fraction of the loss's length scale, then repeated zooms in each of the
    lowest local minima, all points at once.

    Parameters
    ----------
    loss : Loss
        f.
    x : array_like
        Points, shape (n, d) (in d = 1 a flat list of n numbers).
    t : float
        The time (>= 0; t = 0 gives f, the identity and grad f).

    Returns
    -------
    MoreauEnvelope
        ``value`` (n,), ``prox`` (n, d) and ``gradient`` (n, d).

    Raises
    ------
    InputError
        t < 0, points of the wrong dimension, or a search too large to run
        (use the Godunov scheme, ``solve_viscous_hj`` with beta = inf).

    Example
    -------
    For f = |y|^2 / 2: u(x, t) = |x|^2 / (2 (1 + t)), prox = x / (1 + t):

    >>> import hjb
    >>> env = hjb.moreau_envelope(hjb.make_loss("quadratic", a=1.0), [1.0, 2.0], t=0.5)
    >>> env.value.round(6)
    array([0.333333, 1.333333])
    >>> env.prox.round(6)
    array([[0.666667],
           [1.333333]])
    """
    if not t >= 0:
        raise InputError("t", f"must be non-negative, got {t:g}")
    x = as_points(x, loss.dim)
    d = loss.dim
    if t == 0:
        return MoreauEnvelope(loss.value(x), x.copy(), loss.grad(x))
    check_finite(loss.value(x), "hopf_lax: the loss f", None,
                 {"x": x[:, 0]} if d == 1 else {"point": np.arange(len(x))})
    radius = float(np.max(np.sqrt(2.0 * t * np.maximum(loss.value(x) - loss.lower, 0.0)))) + 1e-12
    h = SEARCH_FRACTION * loss.scale
    per_axis = 2 * int(np.ceil(radius / h)) + 1
    if float(per_axis) ** d * len(x) > MAX_EVALUATIONS:
        raise InputError("grid", f"the exact Moreau envelope needs {per_axis}^{d} evaluations for each of "
                         f"{len(x)} points; use fewer points or the Godunov scheme")
    check_memory(memory_estimate(loss, len(x), t, float(np.max(loss.value(x)))),
                 f"the Moreau envelope at {len(x):,} points", key="grid")
    h = radius / (per_axis // 2) if per_axis > 1 else h
    candidates = _basin_candidates(loss, x, _offsets(d, radius, per_axis), per_axis, t, BASINS)
    # each candidate's continuous minimiser lies within two spacings of it once the
    # spacing resolves the basin; each zoom divides the spacing by ZOOM_POINTS
    xs = np.repeat(x, BASINS, axis=0)
    y = candidates.reshape(-1, d)
    for _ in range(ZOOMS):
        y = _best(loss, xs, y, _offsets(d, 2.0 * h, 4 * ZOOM_POINTS + 1), t)
        h /= ZOOM_POINTS
    vals = _objective(loss, xs, y, t).reshape(len(x), BASINS)
    best = np.argmin(vals, axis=1)
    y = y.reshape(len(x), BASINS, d)[np.arange(len(x)), best]
    return MoreauEnvelope(vals[np.arange(len(x)), best], y, (x - y) / t)


def godunov_hopf_lax(loss: Loss, grid: Grid, t: float, **options) -> ViscousHJSolution:
    """u(., t) of du/dt + 1/2 |grad u|^2 = 0 by the Godunov scheme: filtered third order (the
    default) or monotone first order (``scheme``; :func:`hjb.solve_viscous_hj`)."""
    return solve_viscous_hj(loss, grid, t, beta=np.inf, **options)


def memory_estimate(loss: Loss, points: int, t: float, f_max: float) -> float:
    """Bytes at the peak of :func:`moreau_envelope` at ``points`` points where f is at most
    ``f_max``: the candidates and zoomed minimisers of every point and basin, and the larger of
    the objective chunks of the coarse search and of a zoom (calibrated by scripts/bench_memory.py)."""
    n, d = int(points), loss.dim
    radius = np.sqrt(2.0 * t * max(f_max - loss.lower, 0.0)) if np.isfinite(f_max) else 0.0
    search = min((2 * np.ceil(radius / (SEARCH_FRACTION * loss.scale)) + 1) ** d, MAX_EVALUATIONS / max(n, 1))
    zoom = float(4 * ZOOM_POINTS + 1) ** d
    coarse = min(n, max(CHUNK // (3 * search), 1)) * search       # evaluations of a search chunk
    fine = min(BASINS * n, max(CHUNK // zoom, 1)) * zoom           # evaluations of a zoom chunk
    return SLACK * 8.0 * (n * (2 + 16 * d)                           # points, candidates, minimisers
                          + max(coarse * (d + 9),                    # nodes, objective, the minima test
                                fine * (2 * d + 3)))                 # nodes, objective and its terms
