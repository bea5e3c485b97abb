"""The effective Hamilton-Jacobi problem (SPEC section 4) and entropic gradient descent.

    -v_t + H-bar(x, D_x v) = 0,   v(T, x) = g(x),
    H-bar(x, p) = max over averaged velocities a of ( -a . p ).

H-bar is tabulated once on the grid through the averaged velocities of
:func:`hjb.hbar.velocities.averaged_velocities` (the constant controls and the
bang-bang extended controls); one step (:class:`EffectiveStep`) is the
monotone characteristic/upwind step of :mod:`hjb.operators.transport`,

    v(tau + dt, x) = min_a v(tau, x + a(x) dt),

at the CFL step the velocities dictate.  With only the constant controls the
same solver gives the value of controlled entropic gradient descent
dX/dt = -u gamma (X - m(X)),  u in U, whose value bounds v from above (the
candidate set is smaller).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np

from ..errors import InputError, check_finite
from ..grid import Grid
from ..hbar.velocities import DEFAULT_RESOLUTION, velocity_table
from ..limits import check_memory
from ..model import TwoScaleModel
from ..operators.filtered import filtered, interior_mask, ssp_rk3, weno_derivatives
from ..operators.transport import CharacteristicTransport
from .effective_memory import memory_estimate
from .march import march, plan_steps

#: Default Courant number dt / dt_CFL (the explicit upwind step needs at most 1).
DEFAULT_COURANT = 1.0


@dataclass
class EffectiveSolution:
    """v(0, x) on the grid, the averaged velocities it used (shape (*grid, m, d)), the steps,
    and the scheme that took them."""

    value: np.ndarray
    grid: Grid
    velocities: np.ndarray
    T: float
    dt: float
    steps: int
    extended: bool
    scheme: str


@dataclass
class EffectiveStep:
    """One backward step v <- min_j S_j v along the tabulated averaged velocities (monotone,
    keeps constants): ``moves`` are the interpolation matrices at the step dt."""

    moves: list

    @classmethod
    def build(cls, transport: CharacteristicTransport, dt: float) -> "EffectiveStep":
        return cls(transport.operators(dt))

    def __call__(self, value: np.ndarray) -> np.ndarray:
        return CharacteristicTransport.apply(self.moves, value)


@dataclass
class FilteredEffectiveStep:
    """One backward step of the filtered scheme: the monotone step S_M (:class:`EffectiveStep`)
    plus the correction of a high-order step S_H capped by the filter (:mod:`hjb.operators.filtered`),

        v <- S_M v + bound F((S_H v - S_M v) / bound),     bound = FILTER_CONSTANT sqrt(h) dt,

    S_H: SSP-RK3 in time of dv/dtau = min_j a_j(x) . D v with WENO5 one-sided derivatives
    (D^+ where a_jk > 0, D^- where a_jk < 0: the upwind side).  Nodes within three of a wall
    take the monotone step (the WENO stencil would reach outside).  Within 'bound' of a
    monotone, stable, consistent step, so it converges to the viscosity solution; where v is
    smooth the two differ by O(h dt) and the step is the fifth/third-order one.  Unlike the
    monotone step it may leave [min v, max v]: at a sharp well's bottom it undershoots inf g
    by O(h) (not clipped to the nodal range: where g's minimum lies between nodes the true v
    is below the nodal minimum, and clipping there cost accuracy)."""

    monotone: EffectiveStep
    upwind: list
    spacings: tuple
    dt: float
    bound: float
    interior: np.ndarray

    @classmethod
    def build(cls, transport: CharacteristicTransport, dt: float) -> "FilteredEffectiveStep":
        h = float(np.max(transport.spacings))
        # each velocity's components split into (a^+, a^-): a_k D_k v upwind is a_k^+ D^+ + a_k^- D^-
        upwind = [[(np.maximum(a[..., k], 0.0), np.minimum(a[..., k], 0.0)) for k in range(a.shape[-1])]
                  for a in map(np.asarray, transport.velocities)]
        return cls(EffectiveStep.build(transport, dt), upwind, tuple(float(s) for s in transport.spacings), dt,
                   FILTER_CONSTANT * np.sqrt(h) * dt, interior_mask(transport.shape, transport.axes))

    def rate(self, value: np.ndarray) -> np.ndarray:
        """min_j a_j . D v with the upwind WENO5 derivative along each axis (into buffers: one
        multiply-add per side, axis and velocity)."""
        sides = [weno_derivatives(value, k, h) for k, h in enumerate(self.spacings)]
        best, total, term = np.full(value.shape, np.inf), np.empty(value.shape), np.empty(value.shape)
        for parts in self.upwind:
            total.fill(0.0)
            for (plus_rate, minus_rate), (minus, plus) in zip(parts, sides):
                total += np.multiply(plus_rate, plus, out=term)
                total += np.multiply(minus_rate, minus, out=term)
            np.minimum(best, total, out=best)
        return best

    def __call__(self, value: np.ndarray) -> np.ndarray:
        monotone = self.monotone(value)
        high = ssp_rk3(self.rate, value, self.dt)
        return np.where(self.interior, filtered(monotone, high, self.bound), monotone)


#: The steps solve_effective can take (``scheme``): the filtered high-order one, and the
#: monotone first-order one it is built on (the reference).
SCHEMES = {"filtered": FilteredEffectiveStep, "monotone": EffectiveStep}
#: Default scheme.
DEFAULT_SCHEME = "filtered"
#: c in the filter bound c sqrt(h) dt.
FILTER_CONSTANT = 1.0


def check_scheme(scheme: str) -> None:
    if scheme not in SCHEMES:
        raise InputError("scheme", f"unknown scheme {scheme!r}; one of {', '.join(SCHEMES)}")


def check_courant(courant: float) -> None:
    if not 0 < courant <= 1:
        raise InputError("courant", f"must lie in (0, 1] for the explicit upwind step, got {courant:g}")


def solve_effective(model: TwoScaleModel, grid: Grid, T: float, extended: bool = True,
                    courant: float = DEFAULT_COURANT, resolution: int = DEFAULT_RESOLUTION,
                    scheme: str = DEFAULT_SCHEME,
                    on_step: Optional[Callable[[int, int], None]] = None) -> EffectiveSolution:
    """v(0, x) of the effective Hamilton-Jacobi problem on a grid (SPEC section 4).

    Solves, backward from t = T,

        -v_t + H-bar(x, D_x v) = 0,   v(T, x) = g(x),
        H-bar(x, p) = max over the averaged velocities a(x) of ( -a(x) . p ),

    with H-bar tabulated once on the grid through the averaged velocities
    (:func:`hjb.averaged_velocities`: the constant controls u in U and, with
    ``extended``, the bang-bang extended controls), then steps at the CFL step
    the velocities allow: by default the filtered scheme (:class:`FilteredEffectiveStep`:
    WENO5 and SSP-RK3, capped within c sqrt(h) dt of the monotone step, so high order
    where v is smooth and convergent at kinks), or the monotone upwind /
    characteristic step v(tau + dt, x) = min_a v(tau, x + a(x) dt) (:class:`EffectiveStep`).

    Parameters
    ----------
    model : TwoScaleModel
        The two-scale model.
    grid : Grid
        The x-box, of the model's dimension.
    T : float
        The horizon (> 0).
    extended : bool, default True
        Use the extended controls (the effective problem of Bardi-Kouhkouh);
        ``False`` keeps the constant controls only: controlled entropic
        gradient descent, whose value bounds v from above (see :func:`hjb.solve_egd`).
    courant : float, default 1
        dt as a multiple of the CFL step, in (0, 1].
    resolution : int, default 4
        In d >= 2, the extended controls are sampled in the directions of the
        boundary nodes of the cube {-k..k}^d, k = resolution (32 directions in
        d = 2; exact in d = 1).
    scheme : {"filtered", "monotone"}, default "filtered"
        The filtered high-order scheme, or the monotone first-order one (the
        reference).  Grids with fewer than 7 nodes along an axis use the monotone one.
    on_step : callable, optional
        ``on_step(n, steps)`` after each step.

    Returns
    -------
    EffectiveSolution
        ``value``: v(0, x), shape grid.shape; ``velocities``: the averaged
        velocities used, shape (*grid.shape, m, d); ``grid``, ``T``, ``dt``,
        ``steps``, ``extended``, ``scheme``.

    Raises
    ------
    InputError
        A non-positive T, courant outside (0, 1], an unknown scheme, a grid of
        the wrong dimension, or a solve over the limits.
    NonFiniteError
        A NaN or Inf in the velocities, g, or a step.

    Example
    -------
    >>> import hjb
    >>> model = hjb.DeepRelaxation(hjb.make_loss("quadratic", a=1.0, c=0.5), gamma=2.0)
    >>> grid = hjb.Grid.box(-2.0, 2.0, 81)
    >>> sol = hjb.solve_effective(model, grid, T=0.5)
    >>> sol.value.shape, sol.velocities.shape, sol.steps
    ((81,), (81, 4, 1), 18)
    >>> round(float(sol.value[grid.locate(1.0)]), 4)                    # v(0, 1)
    0.0213
    >>> round(float(hjb.reachable_value(model, [1.0], 0.5)[0]), 4)      # the exact value
    0.0214
    """
    if not T > 0:
        raise InputError("T", f"must be positive, got {T:g}")
    if grid.dim != model.dim:
        raise InputError("grid", f"must have dimension {model.dim}")
    check_courant(courant)
    check_scheme(scheme)
    check_memory(memory_estimate(model, grid, extended, resolution), f"an x-grid of {grid.size:,} nodes")
    table = velocity_table(model, grid, extended, resolution)
    table = table.reshape(grid.shape + table.shape[1:])
    for j in range(table.shape[-2]):
        check_finite(table[..., j, :].sum(axis=-1), "effective: averaged velocities", 0, grid.coordinates())
    transport = CharacteristicTransport(grid.shape, tuple(range(grid.dim)), grid.spacings,
                                        [table[..., j, :] for j in range(table.shape[-2])])
    steps, dt = plan_steps(T, courant * transport.courant_step(), at_least=1)
    value = model.g(grid.nodes())
    check_finite(value, "effective: terminal cost g", 0, grid.coordinates())
    if min(grid.shape) < 7:                 # no node is three away from both walls
        scheme = "monotone"
    run = march(SCHEMES[scheme].build(transport, dt), value, steps, dt, T, "effective", grid.coordinates(),
                on_step=on_step)
    return EffectiveSolution(run.value, grid, table, float(T), dt, steps, extended, scheme)


def solve_egd(model: TwoScaleModel, grid: Grid, T: float, **options) -> EffectiveSolution:
    """The value of controlled entropic gradient descent on a grid: the constant controls only.

    :func:`hjb.solve_effective` with ``extended=False``: the averaged system
    moves only with the velocities of the constant controls u in U, for the
    deep-relaxation model dX/dt = -u gamma (X - m(X)) (m(x) the mean of mu_x),
    and the value solves -v_t + max_{u in U} ( u gamma (x - m(x)) . D_x v ) = 0,
    v(T) = g.  Fewer candidates than the extended controls, so this value is
    at least v (the gap is the benefit of controlling the learning rate in time
    with the fast state).

    Parameters
    ----------
    model : TwoScaleModel
        The two-scale model.
    grid : Grid
        The x-box.
    T : float
        The horizon (> 0).
    **options
        ``courant``, ``resolution``, ``on_step`` as for :func:`hjb.solve_effective`.

    Returns
    -------
    EffectiveSolution
        As :func:`hjb.solve_effective` (``extended`` is False; ``velocities``
        has one entry per control value).

    Example
    -------
    Entropic gradient descent can only move along -gamma (x - m(x)), so its value lies above v:

    >>> import hjb
    >>> egd = hjb.solve_egd(hjb.DeepRelaxation(hjb.make_loss("quadratic", a=1.0, c=0.5), gamma=2.0),
    ...                     grid := hjb.Grid.box(-2.0, 2.0, 81), T=0.5)
    >>> egd.velocities.shape
    (81, 2, 1)
    >>> round(float(egd.value[grid.locate(1.0)]), 4)     # above v(0, 1) = 0.0213
    0.0642
    """
    return solve_effective(model, grid, T, extended=False, **options)
