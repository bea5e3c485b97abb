"""Averages against the Gibbs measure mu_x(dy) = exp(-V(y, x)) dy / Z(x).

A tensor rule of composite Gauss-Legendre panels on the window that
``model.gibbs_window`` returns, with a panel break at the window centre (for
the deep-relaxation model the centre is y = x, where the Hamiltonian
gamma((x - y) p)^+ has its kink, so the kink costs no accuracy in d = 1).
Weights are formed in log space and shifted by their maximum before the
exponential, so that exp(-V) never over- or underflows.
"""
from __future__ import annotations

import numpy as np

from ..errors import check_finite
from ..model import TwoScaleModel
from ..points import as_points

#: Gauss-Legendre nodes per panel.
ORDER = 8
#: Panels are at most this fraction of the model's length scale.
PANEL_FRACTION = 1.0 / 3.0
#: Cap on the tensor nodes per point x (sets the cost in d >= 2).
MAX_NODES = 40_000
#: Cap on the (points x nodes) evaluated at once (sets the memory).
CHUNK = 2_000_000


def panel_rule(panels_per_side: int, order: int = ORDER):
    """Composite Gauss-Legendre rule on [-1, 1]: 2 panels_per_side equal panels (so a break
    at 0) of ``order`` nodes each.  Returns (nodes, weights)."""
    s, w = np.polynomial.legendre.leggauss(order)
    edges = np.linspace(-1.0, 1.0, 2 * panels_per_side + 1)
    half = 0.5 * np.diff(edges)
    nodes = (edges[:-1, None] + half[:, None] * (s[None, :] + 1.0)).ravel()
    weights = (half[:, None] * w[None, :]).ravel()
    return nodes, weights


def _tensor_rule(model: TwoScaleModel, radius_max: float):
    d = model.dim
    per_axis_cap = max(int(MAX_NODES ** (1.0 / d)) // (2 * ORDER), 1)
    panels = int(np.ceil(radius_max / (PANEL_FRACTION * model.length_scale)))
    panels = int(np.clip(panels, 2, per_axis_cap))
    nodes, weights = panel_rule(panels)
    grids = np.meshgrid(*([nodes] * d), indexing="ij")
    wgrid = np.meshgrid(*([weights] * d), indexing="ij")
    std_nodes = np.stack([g.ravel() for g in grids], axis=-1)           # (q, d)
    log_w = np.sum(np.log(np.stack([w.ravel() for w in wgrid], axis=-1)), axis=-1)  # (q,)
    return std_nodes, log_w


def frame_along(direction: np.ndarray) -> np.ndarray:
    """Orthonormal frames (n, d, d) whose first column is direction/|direction| (Householder).

    Rotating the rule into this frame puts its panel break at 0 on the
    hyperplane (y - centre) . direction = 0, where gamma ((x - y) . p)^+ has its
    kink when the centre is x: the kink then costs no accuracy in any d.
    """
    n, d = direction.shape
    norm = np.linalg.norm(direction, axis=1, keepdims=True)
    unit = np.where(norm > 0, direction / np.where(norm > 0, norm, 1.0), np.eye(d)[0])
    v = unit - np.eye(d)[0]
    vv = np.sum(v * v, axis=1)[:, None, None]
    outer = v[:, :, None] * v[:, None, :]
    return np.eye(d)[None] - 2.0 * np.divide(outer, vv, out=np.zeros_like(outer), where=vv > 1e-30)


def gibbs_average(model: TwoScaleModel, x, integrand, *row_args, align=None, weighted: bool = False):
    """E_{mu_x}[ integrand ] for every row of x.

    ``integrand(x, y, *args)`` receives x of shape (m, 1, d), y of shape
    (m, q, d) and each row argument reshaped to (m, 1, ...); it returns
    (m, q, ...).  The result has shape (n, ...).  With ``weighted``, it is
    called as ``integrand(x, y, w, *args)`` with the normalised weights w of
    shape (m, q) and returns the averages (m, ...) itself (to contract over q
    without holding every node's value).  ``align`` (n, d), if given,
    rotates each row's rule so that its first axis points along that vector
    (the window then becomes a cube circumscribing the original box).
    """
    x = as_points(x, model.dim)
    center, radius = model.gibbs_window(x)
    check_finite(np.sum(center + radius, axis=-1), "Gibbs quadrature: the window (from the loss at x)", None,
                 {"x": x[:, 0]} if model.dim == 1 else {"point": np.arange(len(x))})
    frames = None
    if align is not None:
        frames = frame_along(as_points(align, model.dim))
        isotropic = np.allclose(radius, radius[:, :1])
        half = radius[:, 0] if isotropic else np.linalg.norm(radius, axis=1)
        radius = np.broadcast_to(half[:, None], radius.shape)
    std_nodes, log_w = _tensor_rule(model, float(np.max(radius)))
    q = len(log_w)
    step = max(CHUNK // q, 1)
    out = []
    for start in range(0, len(x), step):
        sl = slice(start, start + step)
        xc, cc, rc = x[sl][:, None, :], center[sl][:, None, :], radius[sl][:, None, :]
        local = rc * std_nodes[None, :, :]
        y = cc + (local if frames is None else np.einsum("mij,mqj->mqi", frames[sl], local))
        log_rho = log_w[None, :] + np.sum(np.log(rc), axis=-1) - model.potential(y, xc)
        log_rho -= np.max(log_rho, axis=1, keepdims=True)
        w = np.exp(log_rho)
        w /= np.sum(w, axis=1, keepdims=True)
        args = [np.asarray(a)[sl].reshape((-1, 1) + np.shape(a)[1:]) for a in row_args]
        if weighted:
            out.append(integrand(xc, y, w, *args))
        else:
            out.append(np.einsum("mq,mq...->m...", w, integrand(xc, y, *args)))
    out = np.concatenate(out, axis=0)
    check_finite(out.reshape(len(out), -1).sum(axis=-1), "Gibbs quadrature: the average", 0, {"point": np.arange(len(out))})
    return out


def gibbs_mean(model: TwoScaleModel, x) -> np.ndarray:
    """m(x) = integral of y against mu_x, shape (n, d)."""
    return gibbs_average(model, x, lambda xc, y: y)


def chunk_size(model: TwoScaleModel, sample, n: int, aligned: bool = False) -> tuple:
    """(point-nodes held at once, number of chunks) when :func:`gibbs_average` averages over
    n points whose windows are like those of the points ``sample`` (a coarse subset: the
    rule is sized by the widest window); ``aligned``: the rule is rotated (``align``)."""
    _, radius = model.gibbs_window(as_points(sample, model.dim))
    with np.errstate(invalid="ignore"):
        widest = float(np.max(np.linalg.norm(radius, axis=1) if aligned else radius))
    q = len(_tensor_rule(model, widest if np.isfinite(widest) else 0.0)[1])   # (a bad loss fails later)
    step = max(CHUNK // q, 1)
    return min(int(n), step) * q, -(-int(n) // step)
