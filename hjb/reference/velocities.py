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
