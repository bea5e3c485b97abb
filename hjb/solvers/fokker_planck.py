"""The Fokker-Planck equation of SGD as a diffusion (SPEC section 7), forward in t:

    d rho/dt = div(rho grad f) + (1/beta) Laplacian rho   on the x-box, no-flux walls,
    rho(0) = the Gaussian of standard deviation ``width`` at x0, renormalised on the grid,

the adjoint of the generator L = (1/beta) Laplacian - grad f . grad.  Each node is
the centre of a cell of volume h^d; its mass m_i = rho_i h^d evolves by

    dm/dt = Q^T m,     Q = (1/beta) G,   G = the reflecting generator of Laplacian + b . D, b = -beta grad f

(:mod:`hjb.operators.generator`, fitted rates by default: the discrete stationary
masses are exp(-beta f) up to O(h^2), exactly when f is quadratic along each edge).
The columns of Q^T sum to zero, so the total mass is conserved to rounding;
its off-diagonals are >= 0, so I - c Q^T is an M-matrix for every c > 0.

One step of size dt (:class:`FokkerPlanckStep`):

``euler``   (I - dt Q^T) m' = m: first order; its LU keeps the M-matrix signs, so m' >= 0.
``trbdf2``  TR-BDF2 (gamma = 2 - sqrt 2): a trapezoidal stage to t + gamma dt and a BDF2 stage,
            both with the matrix I - (gamma/2) dt Q^T (one factorisation); second order and
            L-stable, each stage conserving mass.  It is not positivity-preserving for large dt:
            a step that makes a negative entry is redone by backward Euler (counted).

The matrices are factorised once per step size.  Every requested time is hit exactly:
each interval between consecutive times is cut into equal steps of size at most dt
(:mod:`hjb.solvers.schedule`; the step limit is enforced before anything is
factorised); equispaced times share one step size.  What the density relaxes to and
how fast (Gibbs masses, spectral gap, basins, current) is in :mod:`hjb.solvers.relaxation`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Optional

import numpy as np
import scipy.sparse as sp

from ..errors import InputError, check_finite, did_you_mean
from ..grid import Grid
from ..limits import check_memory
from ..losses import Loss
from ..operators.generator import check_scheme, reflecting_generator
from ..points import as_point
from .ball_solve import fill_estimate
from .march import march
from .schedule import check_step, check_times, frame_times, plan_intervals
from .relaxation import (GroundedGenerator, descent_basins, edge_flux, fokker_planck_memory, gibbs_masses,
                         m_matrix_lu, reversible_on, spectral_gap)

#: Time schemes, and the defaults of :func:`solve_fokker_planck` (named once for the case schema).
SCHEMES = ("trbdf2", "euler")
DEFAULT_SCHEME = "trbdf2"
DEFAULT_WIDTH = 0.1
DEFAULT_RATES = "fitted"
#: L1 distance to the Gibbs density below which the density counts as relaxed.
DEFAULT_TOLERANCE = 1e-2
#: TR-BDF2: the stage fraction and the BDF2 weights of the stage and of the old value.
GAMMA = 2.0 - np.sqrt(2.0)
W_STAGE, W_OLD = 1.0 / (GAMMA * (2.0 - GAMMA)), (1.0 - GAMMA) ** 2 / (GAMMA * (2.0 - GAMMA))


@dataclass
class FokkerPlanckStep:
    """m -> m(t + dt) for dm/dt = A m, A = Q^T (flat masses).  ``fallbacks`` counts the
    TR-BDF2 steps redone by backward Euler because they made a negative mass."""

    adjoint: sp.csr_matrix
    dt: float
    scheme: str
    stage: object = None
    euler: object = None
    fallbacks: int = 0

    @classmethod
    def build(cls, adjoint: sp.csr_matrix, dt: float, scheme: str = DEFAULT_SCHEME) -> "FokkerPlanckStep":
        identity = sp.identity(adjoint.shape[0], format="csr")
        if scheme == "trbdf2":
            return cls(adjoint, dt, scheme, stage=m_matrix_lu(identity - (0.5 * GAMMA * dt) * adjoint))
        return cls(adjoint, dt, scheme, euler=m_matrix_lu(identity - dt * adjoint))

    def backward_euler(self, masses: np.ndarray) -> np.ndarray:
        if self.euler is None:           # TR-BDF2 factorises it at its first fallback only
            self.euler = m_matrix_lu(sp.identity(self.adjoint.shape[0], format="csr") - self.dt * self.adjoint)
        return self.euler.solve(masses)

    def __call__(self, masses: np.ndarray) -> np.ndarray:
        if self.stage is not None:
            half = 0.5 * GAMMA * self.dt
            middle = self.stage.solve(masses + half * (self.adjoint @ masses))
            new = self.stage.solve(W_STAGE * middle - W_OLD * masses)
            if np.min(new) >= 0.0:
                return new
            self.fallbacks += 1
        return self.backward_euler(masses)


@dataclass
class FokkerPlanckSolution:
    """rho at the requested ``times`` (``density``: (time, x...)) and what it relaxes to.

    ``mass``, ``basin_mass`` and ``l1_to_gibbs`` are per requested time; the ``history_*``
    arrays hold the same after every step (``history_time``, t = 0 included); ``frames``
    holds rho at the extra ``frame_times`` asked for (pictures)."""

    density: np.ndarray
    times: np.ndarray
    grid: Grid
    loss: Loss
    beta: float
    x0: np.ndarray
    width: float
    scheme: str
    rates: str
    gibbs: np.ndarray
    spectral_gap: float
    basin: np.ndarray
    basin_minimum: np.ndarray
    mass: np.ndarray
    basin_mass: np.ndarray
    l1_to_gibbs: np.ndarray
    history_time: np.ndarray
    history_l1: np.ndarray
    history_basin_mass: np.ndarray
    steps: int
    step_sizes: list
    fallbacks: int
    frame_times: np.ndarray = field(default_factory=lambda: np.zeros(0))
    frames: Optional[np.ndarray] = None

    @property
    def cell_volume(self) -> float:
        return float(np.prod(self.grid.spacings))

    def time_to_equilibrium(self, tolerance: float = DEFAULT_TOLERANCE) -> float:
        """The first step time at which sum |rho - rho_inf| h^d <= tolerance (NaN if never)."""
        reached = np.flatnonzero(self.history_l1 <= tolerance)
        return float(self.history_time[reached[0]]) if len(reached) else float("nan")

    def current(self, index: int = -1) -> list:
        """The probability current J = -(rho grad f + (1/beta) grad rho) at time ``times[index]``,
        one array per axis k on the edges along k (shape n_k - 1 on axis k): the scheme's net
        flux across each cell face, divided by the face area."""
        masses = self.density[index] * self.cell_volume
        drift = -self.beta * self.loss.grad(self.grid.nodes())
        spacings = self.grid.spacings
        return [flux * h / self.cell_volume
                for flux, h in zip(edge_flux(masses, spacings, drift, self.beta, self.rates), spacings)]


def initial_masses(grid: Grid, x0: np.ndarray, width: float) -> np.ndarray:
    """The Gaussian of standard deviation ``width`` at x0 at the nodes, as masses summing to 1."""
    exponent = -np.sum((grid.nodes() - x0) ** 2, axis=-1) / (2.0 * width**2)
    w = np.exp(exponent - np.max(exponent))
    return w / np.sum(w)


def check_fokker_planck_input(loss: Loss, grid: Grid, beta, times, x0, width, dt, scheme, rates=DEFAULT_RATES):
    """Validate the arguments of :func:`solve_fokker_planck` (errors name the argument).

    Returns (beta, times as an increasing array, x0 as a point, width, dt)."""
    if grid.dim != loss.dim:
        raise InputError("grid", f"has {grid.dim} axes but the loss has dimension {loss.dim}")
    beta = float(beta)
    if not (np.isfinite(beta) and beta > 0):
        raise InputError("beta", f"must be a positive number, got {beta:g}")
    times = check_times(times)
    x0 = as_point(x0, grid.dim, "x0")
    if np.any(x0 < grid.lower) or np.any(x0 > grid.upper):
        raise InputError("x0", f"{np.array2string(x0)} lies outside the x-box "
                         f"[{np.array2string(grid.lower)}, {np.array2string(grid.upper)}]")
    width = float(width)
    if not (np.isfinite(width) and width > 0):
        raise InputError("width", f"must be a positive number, got {width:g}")
    dt = check_step(dt)
    if scheme not in SCHEMES:
        raise InputError("scheme", f"unknown scheme '{scheme}'{did_you_mean(str(scheme), SCHEMES)}; "
                         f"available: {', '.join(SCHEMES)}")
    check_scheme(rates, "rates")
    return beta, times, x0, width, dt


def memory_estimate(loss: Loss, grid: Grid, beta: float, stops: int, frames: int, rates: str = DEFAULT_RATES) -> float:
    """Bytes at the peak (:func:`hjb.solvers.relaxation.fokker_planck_memory`; MMD fill on a box)."""
    fill = fill_estimate(grid.size, grid.dim, "direct") * (0.87 if grid.dim > 1 else 1.0)
    return fokker_planck_memory(grid.size, grid.dim, stops, frames, fill, reversible_on(loss, grid, beta, rates))


def solve_fokker_planck(loss: Loss, grid: Grid, beta: float, times, x0, width: float = DEFAULT_WIDTH,
                        dt: Optional[float] = None, scheme: str = DEFAULT_SCHEME,
                        on_step: Optional[Callable[[int, int], None]] = None,
                        rates: str = DEFAULT_RATES, frames: int = 0) -> FokkerPlanckSolution:
    """The density of SGD as a diffusion at each of ``times``, from a Gaussian at x0.

    Solves d rho/dt = div(rho grad f) + (1/beta) Laplacian rho on the box with no-flux
    walls: mass is conserved to rounding and rho >= 0 at every step.

    Parameters
    ----------
    loss : Loss
        f, with its gradient.
    grid : Grid
        The x-grid (each node the centre of a cell of volume h^d).
    beta : float
        Inverse temperature (> 0).
    times : float or sequence of float
        Non-negative, strictly increasing; each is hit exactly (0 gives the initial density).
    x0 : float or sequence
        Centre of the initial Gaussian (inside the box).
    width : float
        Its standard deviation (renormalised on the grid).
    dt : float, optional
        The largest step (default: the last time / 400, at least 10 steps between two times).
    scheme : {"trbdf2", "euler"}
        TR-BDF2 (second order; a step that would make a negative mass is redone by backward
        Euler) or backward Euler (first order).
    on_step : callable, optional
        ``on_step(n, total)`` after each step.
    rates : {"fitted", "upwind"}
        Rates of the generator.
    frames : int
        Also keep the density at this many times (:func:`frame_times`), e.g. for a picture.

    Returns
    -------
    FokkerPlanckSolution
        ``density`` (time, x...), ``times``, ``gibbs`` (exp(-beta f)/Z), ``spectral_gap``,
        per time ``mass``, ``basin_mass`` and ``l1_to_gibbs``, their per-step history,
        ``fallbacks``; methods ``current(i)`` and ``time_to_equilibrium(tolerance)``.

    Example
    -------
    >>> import hjb
    >>> from hjb.solvers.fokker_planck import solve_fokker_planck
    >>> loss = hjb.make_loss("quadratic", a=1.0, c=0.5)       # an Ornstein-Uhlenbeck process
    >>> sol = solve_fokker_planck(loss, hjb.Grid.box(-7.0, 7.0, 1401), beta=2.0, times=[0.5, 2.0], x0=-2.0)
    >>> sol.density.shape, round(sol.spectral_gap, 3), bool(abs(sol.mass - 1).max() < 1e-12)
    ((2, 1401), 1.0, True)
    """
    beta, times, x0, width, dt = check_fokker_planck_input(loss, grid, beta, times, x0, width, dt, scheme, rates)
    extra = frame_times(times, int(frames))
    stops = np.unique(np.concatenate([times, extra]))
    plans = plan_intervals(stops, dt)
    check_memory(memory_estimate(loss, grid, beta, len(stops), len(extra), rates), f"a Fokker-Planck grid of {grid.size:,} nodes", key="grid")
    nodes, coordinates = grid.nodes(), grid.coordinates()
    f = loss.value(nodes)
    drift = -beta * loss.grad(nodes)
    check_finite(f + np.sum(drift, axis=-1), "fokker_planck: the loss or its gradient", None, coordinates)
    Q = reflecting_generator(grid.shape, tuple(range(grid.dim)), grid.spacings, drift, rates) / beta
    adjoint = Q.T.tocsr()
    gibbs = gibbs_masses(f, beta)
    basins = descent_basins(f)
    home = basins[grid.locate(x0)]
    basin = basins == home
    # the spectral gap first, so that its factors are freed before the time steps factorise theirs
    gap = spectral_gap(Q, grid.shape, GroundedGenerator(Q, int(np.argmax(gibbs))))
    masses = initial_masses(grid, x0, width)
    snapshots, now, done, total = [], 0.0, 0, sum(s for s, _ in plans)
    history = np.empty((total + 1, 3))             # time, L1 distance to Gibbs, basin mass
    history[0] = 0.0, np.sum(np.abs(masses - gibbs)), np.sum(masses[basin])
    cursor = [0]                                   # the steps taken so far: the row of the history
    step, sizes, fallbacks = None, [], 0
    for (count, size), t in zip(plans, stops):
        if count:
            # consecutive intervals of one step size share a factorisation; only one is held
            if step is None or abs(step.dt - size) > 1e-9 * size:
                fallbacks += step.fallbacks if step is not None else 0
                step = advance = None                          # free the old factors first
                step = FokkerPlanckStep.build(adjoint, size, scheme)
                sizes.append(size)

            def advance(m, step=step, start=now, first=done):
                new = step(m.ravel()).reshape(m.shape)
                cursor[0] += 1
                history[cursor[0]] = (start + (cursor[0] - first) * step.dt, np.sum(np.abs(new - gibbs)),
                                      np.sum(new[basin]))
                return new

            progress = None if on_step is None else (lambda n, _, base=done: on_step(base + n, total))
            masses = march(advance, masses, count, size, float(t - now), "fokker_planck", coordinates, 0,
                           progress).value
            done, now = done + count, float(t)
        snapshots.append(masses.copy())
    everything = np.array(snapshots)
    snapshots = everything[np.searchsorted(stops, times)]
    volume = float(np.prod(grid.spacings))
    axes = tuple(range(1, grid.dim + 1))
    return FokkerPlanckSolution(
        density=snapshots / volume, times=times, grid=grid, loss=loss, beta=beta, x0=x0, width=width,
        scheme=scheme, rates=rates, gibbs=gibbs / volume, spectral_gap=gap, basin=basin,
        basin_minimum=nodes.reshape(-1, grid.dim)[home], mass=np.sum(snapshots, axis=axes),
        basin_mass=np.sum(snapshots * basin, axis=axes),
        l1_to_gibbs=np.sum(np.abs(snapshots - gibbs), axis=axes),
        history_time=history[:, 0], history_l1=history[:, 1], history_basin_mass=history[:, 2],
        steps=total, step_sizes=sizes, fallbacks=fallbacks + (step.fallbacks if step is not None else 0),
        frame_times=extra, frames=everything[np.searchsorted(stops, extra)] / volume if len(extra) else None)
