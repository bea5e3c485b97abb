"""The averaged velocities of the extended controls the slow way, one direction at a time
(the table before issue 13): a reference for :func:`hjb.averaged_velocities`, which takes all
directions from one evaluation of phi and splits the weight of tied nodes.

For each direction theta and quadrature node y the control is ``model.active_control`` (the
first maximiser of -phi . theta, so a tie falls as rounding has it), and phi at that control
is averaged against the Gibbs weights."""
from __future__ import annotations

import numpy as np

from ..hbar.velocities import unit_directions
from ..model import TwoScaleModel
from ..operators.quadrature import gibbs_average


def per_direction_velocities(model: TwoScaleModel, x, resolution: int = 4) -> np.ndarray:
    """Shape (n, m, d), candidates in the order of :func:`hjb.averaged_velocities`: the
    constant controls, then the bang-bang control of each direction."""
    thetas = unit_directions(model.dim, resolution)

    def per_direction(xc, y):
        out = [np.broadcast_to(model.phi(xc, y, u), y.shape) for u in model.control_values]
        for theta in thetas:
            u_star = model.active_control(xc, y, theta)[..., None]
            out.append(sum(np.where(u_star == u, model.phi(xc, y, u), 0.0) for u in model.control_values))
        return np.stack(out, axis=-2)

    return gibbs_average(model, x, per_direction)


def aligned_velocities(model: TwoScaleModel, x, thetas: np.ndarray) -> np.ndarray:
    """Deep relaxation with U = [0, 1]: gamma E[y - x] (u = 1) and, for each direction theta,
    gamma E[(y - x) 1{(y - x) . theta < 0}], shape (n, 1 + t, d), each by a Gibbs rule rotated
    so that a panel break lies on the switching line (y - x) . theta = 0 (no tie: accurate to
    about 2e-8 on wide_narrow, the reference of the correlation table)."""
    x = np.asarray(x, float)
    out = [gibbs_average(model, x, lambda xc, y: y - xc)]
    for t in thetas:
        out.append(gibbs_average(model, x, lambda xc, y, t=t: (y - xc) * (((y - xc) @ t) < 0)[..., None],
                                 align=np.broadcast_to(t, x.shape)))
    return model.gamma * np.stack(out, axis=1)
