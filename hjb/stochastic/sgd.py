"""SGD as a diffusion (SPEC section 7, papers 002 and 004): SGD paths, and first-passage times
of the diffusion that approximates them.

SGD with step eta, mini-batch size B and one-sample gradient noise sigma:

    X_{k+1} = X_k - eta ( grad f(X_k) + sigma xi_k / sqrt(B) ),      xi_k ~ N(0, I_d),

is approximated, with 2/beta = eta sigma^2 / B and time t = k eta, by

    dX = -grad f(X) dt + sqrt(2/beta) dW,       generator  L tau = (1/beta) Laplace tau - grad f . grad tau.

:func:`simulate_sgd` runs the recursion for all paths at once (arrays of shape
(paths, d)) and optionally records the first iteration with |X_k - x0| >
exit_radius.  :func:`diffusion_exit_times` samples the first exit time of the
diffusion from the ball |X - center| < radius by Euler-Maruyama with the
Brownian-bridge correction: a path still inside after a step from X_n to X_{n+1}
crossed the boundary within the step with probability about

    p = exp( -2 d_n d_{n+1} / (sigma_eff^2 dt) ),     sigma_eff^2 = 2/beta,

d_n, d_{n+1} its distances to the boundary (exact for a flat wall and frozen
drift); a uniform below p stops it.  Checking only the endpoints overestimates
exit times by O(sqrt dt); with the correction the error is O(dt), and taking
the exit time at the middle of the step removes its leading term too.

Noise is drawn from a numpy Generator in blocks of steps for every path in
step-major order, so the numbers path i sees at step k depend only on the seed
(not on the block size, the iteration cap, or on which paths have left): paths
that left are dropped from further work without changing anything.  The means
come with confidence intervals: a normal interval for a mean, Wilson's interval
for a fraction, and, when some paths never left (censored at the cap), the mean
over the paths that left is only the mean of those; the mean of min(T, cap) over
all paths is a lower bound of the true mean exit time.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Optional

import numpy as np

from ..errors import InputError, positive_number
from ..limits import SLACK, check_memory, check_steps
from ..losses import Loss
from .confidence import exit_statistics, mean_interval
from ..points import as_point

DEFAULT_BATCH = 1
DEFAULT_SIGMA = 1.0
DEFAULT_PATHS = 1000
DEFAULT_SEED = 0
#: Bytes of noise drawn at once (a block of steps for every path).
NOISE_BLOCK_BYTES = 2**18
#: Arrays of shape (paths, d) alive at once (iterate, its copy, gradient, temporaries).
ARRAYS = 6


@dataclass
class SGDPaths:
    """The last iterate ``X`` (paths, d) of every path (with ``exit_radius``: its position at
    the exit for a path that left) and ``exit_iteration`` (-1: never left; None without
    ``exit_radius``); ``iterations_run`` < ``iterations`` when every path left early."""

    X: np.ndarray
    exit_iteration: Optional[np.ndarray]
    eta: float
    batch: int
    sigma: float
    iterations: int
    iterations_run: int
    exit_radius: Optional[float] = None
    stats: dict = field(default_factory=dict)

    @property
    def beta(self) -> float:
        """The inverse temperature of the approximating diffusion, 2 B / (eta sigma^2)."""
        return 2.0 * self.batch / (self.eta * self.sigma**2) if self.sigma > 0 else float("inf")


def _count(value, key: str) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or value < 1:
        raise InputError(key, f"must be a positive integer, got {value!r}")
    return int(value)


def _generator(seed, key: str) -> np.random.Generator:
    """A numpy Generator from a seed (a non-negative integer) or the Generator itself."""
    if isinstance(seed, np.random.Generator):
        return seed
    try:
        return np.random.default_rng(seed)
    except (TypeError, ValueError) as exc:
        raise InputError(key, f"must be a non-negative integer or a numpy Generator, got {seed!r} ({exc})") from None


def _plan(paths: int, d: int, steps: int, what: str, extra_per_path: int = 1, exits=None) -> int:
    """Refuse a run too large for memory (before allocating); return the noise block length.
    ``exits`` (SGD only: whether exits are recorded) selects :func:`memory_estimate`."""
    block = int(max(1, min(steps, NOISE_BLOCK_BYTES // (8 * paths * d * extra_per_path))))
    need = 8.0 * paths * (d * (ARRAYS + block * extra_per_path) + 2) if exits is None else \
        memory_estimate(paths, d, exits, block)
    check_memory(need, what, key="paths")
    return block


def memory_estimate(paths: int, d: int, exits: bool, block: int = 1) -> float:
    """Bytes at the peak of :func:`simulate_sgd` (calibrated by scripts/bench_memory.py), per path:
    the iterates, their copy, the gradient and the update's temporary (3 of shape (d,)); with
    exits also the distance, the paths that leave and the copies of those that stay (4 more);
    the exit iterations, the active paths and f(X); ``block`` steps of noise."""
    return SLACK * 8.0 * paths * (d * (3 + 4 * bool(exits) + block) + 3)


def simulate_sgd(loss: Loss, x0, eta: float, iterations: int, paths: int, batch: int = DEFAULT_BATCH,
                 sigma: float = DEFAULT_SIGMA, seed=DEFAULT_SEED, exit_radius: Optional[float] = None,
                 on_step: Optional[Callable[[int, int], None]] = None) -> SGDPaths:
    """``paths`` independent SGD runs of ``iterations`` steps from ``x0`` (SPEC section 7):

        X_{k+1} = X_k - eta ( grad f(X_k) + sigma xi_k / sqrt(B) ),   xi_k standard normal,

    approximated by the diffusion dX = -grad f dt + sqrt(2/beta) dW, 2/beta = eta sigma^2 / B.
    With ``exit_radius`` the first k with |X_k - x0| > exit_radius is recorded, the
    path stops there, and the run ends as soon as every path has left.

    Parameters
    ----------
    loss : Loss
        The loss f (``hjb.make_loss``).
    x0 : float or array_like
        The start, a number in d = 1, a list of d numbers otherwise.
    eta : float
        The step (learning rate).
    iterations : int
        The most iterations a path makes (refused beyond the step limit of :mod:`hjb.limits`).
    paths : int
        Independent paths, simulated together (refused if they do not fit in memory).
    batch, sigma : int, float
        The mini-batch size B and the gradient noise sigma of one sample.
    seed : int or numpy.random.Generator
        Reproduces a run.
    exit_radius : float, optional
        Record the first exit from the ball of this radius about ``x0``.
    on_step : callable, optional
        ``on_step(k, iterations)`` after each iteration.

    Returns
    -------
    SGDPaths
        ``X`` (paths, d): the last iterate (the exit point of a path that left);
        ``exit_iteration`` (-1 for a path that never left), ``beta`` and ``stats``
        (mean exit iteration with its 95 % half-width, exit fraction with a Wilson interval).

    Example
    -------
    The quadratic loss f = x^2/2: the iterates forget x0 and fluctuate with variance
    eta sigma^2 / (B (1 - (1 - eta)^2)) = 0.0526 at eta = 0.1:

    >>> import hjb
    >>> run = hjb.simulate_sgd(hjb.make_loss("quadratic"), x0=2.0, eta=0.1, iterations=200, paths=1000)
    >>> run.X.shape, round(float(run.X.var()), 3)
    ((1000, 1), 0.048)
    """
    eta, iterations, paths = positive_number(eta, "eta"), _count(iterations, "iterations"), _count(paths, "paths")
    batch = _count(batch, "batch")
    sigma = float(sigma)
    if not (np.isfinite(sigma) and sigma >= 0):
        raise InputError("sigma", f"must be a non-negative finite number, got {sigma!r}")
    radius2 = None if exit_radius is None else positive_number(exit_radius, "exit_radius") ** 2
    d = loss.dim
    x0 = as_point(x0, d, "x0")
    check_steps(iterations, "iterations")
    block = _plan(paths, d, iterations, f"SGD with {paths:,} paths in d = {d}", exits=radius2 is not None)
    rng = _generator(seed, "seed")
    X = np.tile(x0, (paths, 1))
    exits = np.full(paths, -1, dtype=np.int64) if radius2 is not None else None
    active, Xa, kick = np.arange(paths), X.copy(), eta * sigma / np.sqrt(batch)
    k = 0
    with np.errstate(over="ignore", invalid="ignore"):
        while k < iterations and active.size:
            noise = rng.standard_normal((min(block, iterations - k), paths, d))
            for xi in noise:
                Xa -= eta * loss.grad(Xa) + kick * (xi if active.size == paths else xi[active])
                k += 1
                if radius2 is not None:
                    z = Xa - x0
                    out = np.einsum("ij,ij->i", z, z) > radius2
                    if out.any():
                        exits[active[out]], X[active[out]] = k, Xa[out]
                        active, Xa = active[~out], Xa[~out]
                        if not active.size:
                            break
            if not np.all(np.isfinite(Xa)):
                raise InputError("eta", f"= {eta:g}: SGD diverged by iteration {k} (an iterate overflowed); "
                                 "take a smaller step")
            if on_step is not None:
                on_step(k, iterations)
    X[active] = Xa
    if not np.all(np.isfinite(X)):
        raise InputError("eta", f"= {eta:g}: SGD diverged (an iterate overflowed); take a smaller step")
    out = SGDPaths(X, exits, eta, batch, sigma, iterations, k, exit_radius)
    if exits is not None:
        out.stats = exit_statistics(np.where(exits >= 0, exits, np.nan), iterations)
    return out


@dataclass
class ExitTimes:
    """First exit times of the diffusion from a ball (NaN: still inside at ``max_time``)."""

    times: np.ndarray
    beta: float
    radius: float
    center: np.ndarray
    dt: float
    max_time: float
    bridge: bool

    def statistics(self, level: float = 0.95) -> dict:
        return exit_statistics(self.times, self.max_time, level, unit="time")

    def interval(self, level: float = 0.95) -> tuple:
        """(mean exit time over the paths that left, half-width of its ``level`` interval)."""
        return mean_interval(self.times[np.isfinite(self.times)], level)


def diffusion_exit_times(loss: Loss, x0, beta: float, radius: float, dt: float, paths: int, max_time: float,
                         seed=DEFAULT_SEED, center=None, bridge: bool = True,
                         on_step: Optional[Callable[[int, int], None]] = None) -> ExitTimes:
    """First exit times from {|X - center| < radius} (default center: x0) of
    dX = -grad f dt + sqrt(2/beta) dW from x0, by Euler-Maruyama with step ``dt``.

    ``bridge``: the Brownian-bridge correction, exit times at the middle of the step
    of exit; without it, the first step end outside the ball (biased by O(sqrt dt))."""
    beta, radius, dt = positive_number(beta, "beta"), positive_number(radius, "radius"), positive_number(dt, "dt")
    paths, max_time = _count(paths, "paths"), positive_number(max_time, "max_time")
    d = loss.dim
    x0 = as_point(x0, d, "x0")
    center = x0 if center is None else as_point(center, d, "center")
    if not np.linalg.norm(x0 - center) < radius:
        raise InputError("x0", f"lies outside the ball of radius {radius:g} around {center.tolist()}")
    steps = int(np.ceil(max_time / dt - 1e-9))
    check_steps(steps, "dt")
    block = _plan(paths, d, steps, f"diffusion exit times with {paths:,} paths in d = {d}", extra_per_path=2)
    # two streams (increments, crossing draws), so that neither depends on the block length
    rng, cross = _generator(seed, "seed").spawn(2)
    times = np.full(paths, np.nan)
    active, Xa = np.arange(paths), np.tile(x0, (paths, 1))
    kick, var_dt = np.sqrt(2.0 * dt / beta), 2.0 * dt / beta
    gap = np.full(paths, radius - float(np.linalg.norm(x0 - center)))
    n = 0
    with np.errstate(over="ignore", invalid="ignore"):
        while n < steps and active.size:
            m = min(block, steps - n)
            # U < exp(-q)  <=>  -log U > q: exponential variates spare an exp per path and step
            noise, expo = rng.standard_normal((m, paths, d)), cross.standard_exponential((m, paths))
            for xi, e in zip(noise, expo):
                full = active.size == paths
                Xa = Xa - dt * loss.grad(Xa) + kick * (xi if full else xi[active])
                n += 1
                z = Xa - center
                new_gap = radius - np.sqrt(np.einsum("ij,ij->i", z, z))
                out = ~(new_gap > 0)
                if bridge:
                    out |= 2.0 * gap * np.maximum(new_gap, 0.0) < var_dt * (e if full else e[active])
                if out.any():
                    times[active[out]] = (n - 0.5) * dt if bridge else n * dt
                    active, Xa, new_gap = active[~out], Xa[~out], new_gap[~out]
                gap = new_gap
                if not active.size:
                    break
            if on_step is not None:
                on_step(n, steps)
    return ExitTimes(times, beta, radius, center, dt, steps * dt, bridge)
