"""The effective Hamilton-Jacobi problem (SPEC section 4) and entropic gradient descent.

    -v_t + H-bar(x, D_x v) = 0,   v(T, x) = g(x),
    H-bar(x, p) = max over averaged velocities a of ( -a . p ).

H-bar is tabulated once on the grid through the averaged velocities of
:func:`hjb.hamiltonian.averaged_velocities` (the constant controls and the
bang-bang extended controls); the scheme is the monotone characteristic/upwind
step of :mod:`hjb.transport`, at the CFL step the velocities dictate.  With
only the constant controls the same solver gives the value of controlled
entropic gradient descent  dX/dt = -u gamma (X - m(X)),  u in U, whose value
bounds v from above (the candidate set is smaller).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np

from .checks import check_finite
from .errors import InputError
from .grid import Grid
from .hamiltonian import averaged_velocities
from .model import TwoScaleModel
from .resources import check_memory
from .transport import CharacteristicTransport


@dataclass
class EffectiveSolution:
    """v(0, x) on the grid, the averaged velocities it used (shape (*grid, m, d)), and the steps."""

    value: np.ndarray
    grid: Grid
    velocities: np.ndarray
    T: float
    dt: float
    steps: int
    extended: bool

    def hbar(self, p) -> np.ndarray:
        """The tabulated H-bar(x, p) on the grid for one momentum p."""
        p = np.broadcast_to(np.asarray(p, float), (self.grid.dim,))
        return np.max(-self.velocities @ p, axis=-1)


def solve_effective(model: TwoScaleModel, grid: Grid, T: float, extended: bool = True,
                    courant: float = 1.0, resolution: int = 4,
                    on_step: Optional[Callable[[int, int], None]] = None) -> EffectiveSolution:
    """v(0, .) for the averaged system (``extended=False``: entropic gradient descent)."""
    if not T > 0:
        raise InputError("solve.T", f"must be positive, got {T:g}")
    if grid.dim != model.dim:
        raise InputError("grid.x", f"must have dimension {model.dim}")
    if not 0 < courant <= 1:
        raise InputError("solve.courant", f"must lie in (0, 1] for the explicit upwind step, got {courant:g}")
    check_memory(grid.size * 8 * (4 + 8 * model.dim * (1 + 2 * model.dim)), f"an x-grid of {grid.size:,} nodes")
    table = averaged_velocities(model, grid.nodes().reshape(-1, grid.dim), extended, resolution)
    table = table.reshape(grid.shape + table.shape[1:])
    for j in range(table.shape[-2]):
        check_finite(table[..., j, :].sum(axis=-1), "effective: averaged velocities", 0, grid.coordinates())
    transport = CharacteristicTransport(grid.shape, tuple(range(grid.dim)), grid.steps,
                                        [table[..., j, :] for j in range(table.shape[-2])])
    steps = max(int(np.ceil(T / (courant * transport.courant_step()) - 1e-9)), 1)
    dt = T / steps
    moves = transport.operators(dt)
    value = model.g(grid.nodes())
    check_finite(value, "effective: terminal cost g", 0, grid.coordinates())
    for n in range(steps):
        value = transport.apply(moves, value)
        check_finite(value, "effective", n + 1, grid.coordinates())
        if on_step is not None:
            on_step(n + 1, steps)
    return EffectiveSolution(value, grid, table, float(T), dt, steps, extended)


def solve_egd(model: TwoScaleModel, grid: Grid, T: float, **options) -> EffectiveSolution:
    """Value of controlled entropic gradient descent: the constant controls only."""
    return solve_effective(model, grid, T, extended=False, **options)
