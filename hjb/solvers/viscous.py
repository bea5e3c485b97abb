"""The viscous Hamilton-Jacobi equation of local entropy (SPEC section 5), forward in t:

    du/dt = -1/2 |grad u|^2 + nu Lap u,    nu = 1/(2 beta),    u(x, 0) = f(x),

on a box, by a monotone semi-implicit scheme.  One step of size dt (:class:`ViscousStep`):

    (I - dt nu Lap_h) u^{n+1} = u^n - dt H_G(D^- u^n, D^+ u^n),
    H_G = sum_k 1/2 max( (D_k^- u)^+, (D_k^+ u)^- )^2        (Godunov flux of 1/2 |p|^2).

The explicit Godunov step is monotone under the step bound
dt sum_k G_k / h_k <= 1, G_k = max |D_k u| (non-increasing in time for this
scheme, so the bound taken from f holds for every step, and it is checked);
the implicit diffusion matrix is the M-matrix I - dt nu L built from the
generator of :mod:`hjb.generator` (non-negative inverse, rows summing to one),
factorised once.  Walls are outflow walls: the one-sided difference that
would reach outside is dropped from H_G and there is no diffusion across the
wall's normal (see :func:`diffusion_matrix`).  Characteristics of a loss that
grows at infinity leave the box, so the wall error, O(nu u_nn) at the wall,
stays next to it (it is not first order there when nu is not small).  beta = inf gives the explicit Godunov
scheme for the inviscid (Hopf-Lax) equation.  First order in h (dt ~ h).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from ..errors import InputError, check_finite
from ..grid import Grid
from ..limits import CSR_ENTRY, SLACK, check_memory, colamd_fill, superlu_bytes
from ..losses import Loss
from ..operators.generator import reflecting_generator
from .march import march, plan_steps

#: Default Courant number dt / (the monotonicity bound of the explicit Godunov step).
DEFAULT_COURANT = 0.9


@dataclass
class ViscousHJSolution:
    """u(., t) on the grid and how it was obtained."""

    value: np.ndarray
    grid: Grid
    t: float
    beta: float
    dt: float
    steps: int


def one_sided_differences(u: np.ndarray, spacings) -> list:
    """(D_k^- u, D_k^+ u) for every axis k; the difference across a wall is 0."""
    out = []
    for k, h in enumerate(spacings):
        diff = np.diff(u, axis=k) / h
        pad = [(0, 0)] * u.ndim
        pad[k] = (1, 0)
        minus = np.pad(diff, pad)
        pad[k] = (0, 1)
        out.append((minus, np.pad(diff, pad)))
    return out


def godunov_hamiltonian(u: np.ndarray, spacings) -> np.ndarray:
    """H_G(D^- u, D^+ u) = sum_k 1/2 max((D_k^- u)^+, (D_k^+ u)^-)^2 at every node."""
    return sum(0.5 * np.maximum(np.maximum(m, 0.0), np.maximum(-p, 0.0)) ** 2
               for m, p in one_sided_differences(u, spacings))


def lipschitz_by_axis(u: np.ndarray, spacings) -> np.ndarray:
    """G_k = max |D_k u| over the grid."""
    return np.array([np.max(np.abs(np.diff(u, axis=k))) / h if u.shape[k] > 1 else 0.0
                     for k, h in enumerate(spacings)])


def step_bound(u: np.ndarray, spacings) -> float:
    """The largest dt for which the explicit Godunov step is monotone: 1 / sum_k G_k / h_k."""
    rate = float(np.sum(lipschitz_by_axis(u, spacings) / np.asarray(spacings)))
    return np.inf if rate == 0 else 1.0 / rate


def diffusion_matrix(grid: Grid, dt: float, nu: float) -> sp.csc_matrix:
    """I - dt nu Lap_h with outflow walls: an M-matrix.

    Lap_h is the sum over axes of the reflecting second-difference generators of
    :mod:`hjb.generator`, with the rows of the wall nodes of each axis removed
    from that axis's part: no diffusion across a wall's normal (u_nn = 0 there).
    Scaling generator rows by 0 or 1 keeps them generator rows (off-diagonals
    >= 0, zero sums), so the matrix stays an M-matrix that keeps constants.
    Compared with a reflecting (u_n = 0) wall this avoids forcing a zero slope
    where characteristics leave the box: the wall error is O(nu u_nn) at the
    wall instead of an O(|u_n| h)-steep layer.
    """
    parts = []
    index = np.indices(grid.shape)
    for k, h in enumerate(grid.spacings):
        lap_k = reflecting_generator(grid.shape, (k,), [h], np.zeros(grid.shape + (1,)))
        inside = ((index[k] > 0) & (index[k] < grid.shape[k] - 1)).ravel().astype(float)
        parts.append(sp.diags(inside) @ lap_k)
    return (sp.identity(grid.size, format="csc") - (dt * nu) * sum(parts)).tocsc()


@dataclass
class ViscousStep:
    """One forward step u <- (I - dt nu Lap_h)^{-1} (u - dt H_G(D^- u, D^+ u)); ``implicit`` is
    None for beta = inf (the explicit Godunov step of the inviscid equation).  Monotone
    and constant-preserving while dt is below the step bound, which it checks."""

    grid: Grid
    dt: float
    implicit: object = None

    @classmethod
    def build(cls, grid: Grid, dt: float, beta: float = np.inf) -> "ViscousStep":
        implicit = spla.splu(diffusion_matrix(grid, dt, 0.5 / beta)) if np.isfinite(beta) else None
        return cls(grid, dt, implicit)

    def __call__(self, u: np.ndarray) -> np.ndarray:
        spacings = self.grid.spacings
        if step_bound(u, spacings) < self.dt * (1 - 1e-9):      # cannot happen for a monotone scheme
            raise RuntimeError(f"viscous_hj: the Godunov step bound {step_bound(u, spacings):g} fell below dt")
        u = u - self.dt * godunov_hamiltonian(u, spacings)
        if self.implicit is not None:
            u = self.implicit.solve(u.ravel()).reshape(self.grid.shape)
        return u


@dataclass
class FilteredViscousStep:
    """One forward step of the filtered scheme: the monotone step S_M (:class:`ViscousStep`) plus
    the correction of a high-order step S_H capped by the filter (:mod:`hjb.operators.filtered`),

        u <- S_M u + bound F((S_H u - S_M u) / bound),     bound = FILTER_CONSTANT sqrt(h) dt.

    S_H: Strang splitting, half a step of Crank-Nicolson for nu Lap_h, a step of SSP-RK3
    for du/dt = -H_G(D^- u, D^+ u) with WENO5 one-sided differences, half a step of
    Crank-Nicolson (second order in h and dt; third order in h and dt when beta = inf).  Nodes within three of a wall
    take the monotone step.  Within 'bound' of a monotone, stable, consistent step, so it
    converges to the viscosity solution; where u is smooth it is the second-order step."""

    monotone: ViscousStep
    bound: float
    interior: np.ndarray
    half_implicit: object = None
    half_explicit: object = None

    @classmethod
    def build(cls, grid: Grid, dt: float, beta: float = np.inf) -> "FilteredViscousStep":
        from ..operators.fast_solve import factorize
        from ..operators.filtered import interior_mask
        monotone = ViscousStep.build(grid, dt, beta)
        bound = FILTER_CONSTANT * np.sqrt(float(np.max(grid.spacings))) * dt
        interior = interior_mask(grid.shape, tuple(range(grid.dim)))
        if not np.isfinite(beta):
            return cls(monotone, bound, interior)
        half = diffusion_matrix(grid, 0.25 * dt, 0.5 / beta)            # I - (dt/4) nu L
        explicit = (2.0 * sp.identity(grid.size, format="csr") - half).tocsr()   # I + (dt/4) nu L
        return cls(monotone, bound, interior, factorize(half), explicit)

    def diffuse_half(self, u: np.ndarray) -> np.ndarray:
        """Crank-Nicolson over dt/2 for du/dt = nu Lap_h (the identity when beta = inf)."""
        if self.half_implicit is None:
            return u
        return self.half_implicit.solve(self.half_explicit @ u.ravel()).reshape(u.shape)

    def rate(self, u: np.ndarray) -> np.ndarray:
        """-H_G(D^- u, D^+ u) with WENO5 differences (the Godunov flux of 1/2 |p|^2)."""
        from ..operators.filtered import weno_derivatives
        total = 0.0
        for k, h in enumerate(self.monotone.grid.spacings):
            minus, plus = weno_derivatives(u, k, h)
            total = total + 0.5 * np.maximum(np.maximum(minus, 0.0), np.maximum(-plus, 0.0)) ** 2
        return -total

    def __call__(self, u: np.ndarray) -> np.ndarray:
        from ..operators.filtered import filtered, ssp_rk3
        monotone = self.monotone(u)
        high = self.diffuse_half(u)
        high = self.diffuse_half(ssp_rk3(self.rate, high, self.monotone.dt))
        return np.where(self.interior, filtered(monotone, high, self.bound), monotone)


#: The steps solve_viscous_hj can take (``scheme``): filtered high order, or monotone (the reference).
SCHEMES = {"filtered": FilteredViscousStep, "monotone": ViscousStep}
DEFAULT_SCHEME = "filtered"
#: c in the filter bound c sqrt(h) dt.
FILTER_CONSTANT = 1.0


def solve_viscous_hj(f, grid: Grid, t: float, beta: float = np.inf, dt: Optional[float] = None,
                     courant: float = DEFAULT_COURANT,
                     on_step: Optional[Callable[[int, int], None]] = None,
                     scheme: str = DEFAULT_SCHEME) -> ViscousHJSolution:
    """u(., t) of the viscous Hamilton-Jacobi equation of local entropy on a box (SPEC section 5).

    Solves, forward in t,

        du/dt = -1/2 |grad u|^2 + (1/(2 beta)) Laplacian u,   u(x, 0) = f(x),

    by the filtered scheme (:class:`hjb.solvers.viscous.FilteredViscousStep`, the
    default: second order where u is smooth, third when beta = inf) built on the
    monotone semi-implicit step (:class:`hjb.solvers.viscous.ViscousStep`)
    (I - dt nu Laplacian_h) u^{n+1} = u^n - dt H_G(D^- u^n, D^+ u^n), nu = 1/(2 beta),
    with the Godunov flux H_G of 1/2 |p|^2 and outflow walls (first order in h).
    beta = inf is the inviscid (Hopf-Lax) equation with the explicit Godunov
    scheme.  The exact solutions are :func:`hjb.cole_hopf` (beta finite) and
    :func:`hjb.moreau_envelope` (beta = inf).

    Parameters
    ----------
    f : Loss or ndarray
        The initial value: a loss (evaluated at the nodes) or its values, shape grid.shape.
    grid : Grid
        The box.
    t : float
        The time (>= 0; t = 0 returns f).
    beta : float, default inf
        The inverse temperature beta > 0 (inf: inviscid).
    dt : float, optional
        The time step; at most the monotonicity bound 1 / sum_k max|D_k f| / h_k
        of the Godunov step (default: ``courant`` times that bound).
    courant : float, default 0.9
        dt as a fraction of the bound, in (0, 1].
    on_step : callable, optional
        ``on_step(n, steps)`` after each step.
    scheme : {"filtered", "monotone"}, default "filtered"
        The filtered high-order scheme or the monotone first-order one (the
        reference).  Grids with fewer than 7 nodes along an axis use the monotone one.

    Returns
    -------
    ViscousHJSolution
        ``value``: u(., t), shape grid.shape; ``grid``, ``t``, ``beta``, ``dt``, ``steps``.

    Raises
    ------
    InputError
        beta <= 0, t < 0, courant outside (0, 1], an unknown scheme, values of
        the wrong shape, a dt above the bound, or a solve over the limits.

    Example
    -------
    The quadratic loss f = |x|^2 / 2, against the closed form (Cole-Hopf) at x = 1:

    >>> import hjb
    >>> f = hjb.make_loss("quadratic", a=1.0)
    >>> grid = hjb.Grid.box(-3.0, 3.0, 121)
    >>> sol = hjb.solve_viscous_hj(f, grid, t=0.5, beta=5.0)
    >>> sol.steps, round(float(sol.value[grid.locate(1.0)]), 4)
    (34, 0.3739)
    >>> hjb.cole_hopf(f, beta=5.0, x=[1.0], t=0.5).round(4)
    array([0.3739])
    """
    if not beta > 0:
        raise InputError("beta", f"must be positive, got {beta:g}")
    if not t >= 0:
        raise InputError("t", f"must be non-negative, got {t:g}")
    if not 0 < courant <= 1:
        raise InputError("courant", f"must lie in (0, 1], got {courant:g}")
    if scheme not in SCHEMES:
        raise InputError("scheme", f"unknown scheme {scheme!r}; one of {', '.join(SCHEMES)}")
    check_memory(memory_estimate(grid, beta), f"a viscous-HJ grid of {grid.size:,} nodes")
    u = np.array(f.value(grid.nodes()) if isinstance(f, Loss) else f, dtype=float)
    if u.shape != grid.shape:
        raise InputError("f", f"values must have the grid's shape {grid.shape}, got {u.shape}")
    check_finite(u, "viscous_hj: initial value f", 0, grid.coordinates())
    bound = step_bound(u, grid.spacings)
    if dt is None:
        dt = courant * bound
    if dt > bound * (1 + 1e-12):
        raise InputError("dt", f"= {dt:g} exceeds the monotonicity bound {bound:g} of the Godunov step")
    if t == 0:
        return ViscousHJSolution(u, grid, 0.0, float(beta), 0.0, 0)
    steps, dt = plan_steps(t, min(dt, t), at_least=1)
    if min(grid.shape) < 7:                 # no node is three away from both walls
        scheme = "monotone"
    run = march(SCHEMES[scheme].build(grid, dt, beta), u, steps, dt, t, "viscous_hj", grid.coordinates(),
                on_step=on_step)
    return ViscousHJSolution(run.value, grid, float(t), float(beta), dt, steps)


def memory_estimate(grid: Grid, beta: float = np.inf) -> float:
    """Bytes at the peak of :func:`solve_viscous_hj`: the factorisation of the diffusion matrix
    (beta finite), or the explicit Godunov step (calibrated by scripts/bench_memory.py)."""
    n, d = grid.size, grid.dim
    step = 8.0 * n * (3 * d + 6)                  # nodes and f; u, the differences and maxima of a step
    step += 8.0 * n * (2 * d + 6)                 # the filtered step: WENO differences, RK stages, filter
    if not np.isfinite(beta):
        return SLACK * step
    matrix = n * (8 * (d + 2)                     # node indices, the wall masks
                  + 4 * (CSR_ENTRY * (2 * d + 1) + 4))  # the axes' parts, their sum, I - dt nu L (CSC)
    factors = superlu_bytes(n, colamd_fill(n, d))
    # the filtered step's Crank-Nicolson halves: I + (dt/4) nu L and the factors of I - (dt/4) nu L
    halves = n * (CSR_ENTRY * (2 * d + 1) + 4) + factors
    return SLACK * (matrix + factors + halves + step)
