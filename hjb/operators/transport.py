"""The first-order (transport) part of a Bellman equation, backward in time:

    dV/dtau = min_j  v_j(z) . D_x V        (tau = T - t,  v_j the drift of control j)

discretised along characteristics: V(tau + dt, z) = min_j V(tau, z + v_j dt),
with V at the foot z + v_j dt interpolated multilinearly in x.  The foot lies
on the upwind side of z, so for a Courant number dt sum_k |v_k| / h_k <= 1 in
d = 1 this is exactly the upwind difference V + dt v D^{sign v} V chosen by the
sign of the drift of each control; for larger spacings it stays monotone, because
interpolation weights are non-negative and sum to one (constants are kept
exactly), and its error no longer carries a 1/Courant factor.  Feet outside the
box are moved back onto it (the wall is not crossed).
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from .foot_cells import corner_offsets, foot_cells, linear_cell, stencils


def foot_interpolation(shape, axes, spacings, velocity: np.ndarray, dt: float) -> sp.csr_matrix:
    """Sparse S with (S V)(z) = V(z + velocity(z) dt), multilinear along ``axes``.

    ``velocity`` has shape ``shape + (len(axes),)``; the other state axes are
    carried along unchanged.  Each row holds 2^len(axes) non-negative weights
    summing to one.
    """
    size = int(np.prod(shape))
    origin, theta = stencils(shape, axes, spacings, velocity, dt, linear_cell, 0)
    cols, vals = [], []
    for corner, offset in zip(itertools.product((0, 1), repeat=len(axes)), corner_offsets(shape, axes, 2)):
        weight = np.prod([t if c else 1.0 - t for c, t in zip(corner, theta)], axis=0)
        cols.append((origin + offset).ravel())
        vals.append(weight.ravel())
    rows = np.tile(np.arange(size), len(cols))
    return sp.csr_matrix((np.concatenate(vals), (rows, np.concatenate(cols))), shape=(size, size))


@dataclass
class CharacteristicTransport:
    """The term min_j v_j . D_x V for a list of candidate drifts ``velocities``
    (each of shape ``shape + (len(axes),)``), with its own step bound."""

    shape: tuple
    axes: tuple
    spacings: np.ndarray
    velocities: list

    def courant_step(self) -> float:
        """Largest dt with dt sum_k |v_k|/h_k <= 1: below it the step is the explicit
        upwind difference (the classical CFL bound of the monotone scheme)."""
        # the d slices added (np.sum over a last axis of length 2 is 9x slower), in np.sum's order
        speed = max(float(np.max(sum(np.abs(v[..., k]) / h for k, h in enumerate(self.spacings))))
                    for v in self.velocities)
        return np.inf if speed == 0.0 else 1.0 / speed

    def operators(self, dt: float, interpolation: str = "linear") -> list:
        """One interpolation matrix per candidate drift (None for a zero drift: identity):
        multilinear (monotone), or cubic (:mod:`hjb.operators.interpolation`, not monotone)."""
        if interpolation == "cubic":
            from .interpolation import cubic_foot_interpolation as foot
        else:
            foot = foot_interpolation
        return [None if not np.any(v) else foot(self.shape, self.axes, self.spacings, v, dt)
                for v in self.velocities]

    def cells(self, dt: float) -> list:
        """The cells of the feet of each candidate drift (None for a zero drift), for the
        compiled step (:mod:`hjb.operators.foot_cells`)."""
        return [None if not np.any(v) else foot_cells(self.shape, self.axes, self.spacings, v, dt)
                for v in self.velocities]

    @staticmethod
    def apply(operators: list, values: np.ndarray) -> np.ndarray:
        """min_j (S_j V): the value after one step along the best characteristic."""
        flat = values.ravel()
        best = None
        for S in operators:
            moved = flat if S is None else S @ flat
            best = moved.copy() if best is None else np.minimum(best, moved)
        return best.reshape(values.shape)
