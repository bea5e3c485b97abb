"""Kind ``fokker_planck``: the density of SGD as a diffusion, d rho/dt = div(rho grad f) + (1/beta)
Laplacian rho on the x-box with no-flux walls, from a Gaussian at x0 (SPEC sections 7, 10).

[solve] keys: ``beta`` (sweepable); ``t`` (sweepable) or ``times`` (a list, one run);
``x0``; ``width`` (of the initial Gaussian); optional ``dt`` (the largest step);
``scheme`` ("trbdf2" | "euler"); ``tolerance`` (the L1 distance to the Gibbs density
that counts as relaxed).  [model] is dim and loss; the grid block x.

Stores ``density`` (axes time, x...; coordinate ``time``), the attribute
``spectral_gap`` (lambda_1 of the generator; ``relaxation_time`` = 1/lambda_1),
``gibbs`` (exp(-beta f)/Z), per stored time ``mass``, ``basin_mass`` (mass in the
gradient-descent basin of x0's minimum) and ``l1_to_gibbs``, and after every step
(coordinate ``step_time``, thinned to at most 5000 points) ``history_l1`` and
``history_basin_mass``; the attribute ``time_to_equilibrium`` is the first step time
with L1 distance <= tolerance (left out if there is none).  In d = 1 also ``frames``,
the density at 80 times (coordinate ``frame_time``) for the picture; for the
quadratic loss ``exact`` (the Ornstein-Uhlenbeck density) and ``max_l1_error_exact``.
"""
from __future__ import annotations

import numpy as np

from ...errors import InputError
from ...limits import Estimate
from ...output.plots import members
from ...output.result import Result
from ...output.summary import fmt
from ...reference.exit_time import ou_density
from ...solvers.fokker_planck import (DEFAULT_SCHEME, DEFAULT_TOLERANCE, DEFAULT_WIDTH, SCHEMES,
                                      check_fokker_planck_input, frame_times, memory_estimate, solve_fokker_planck)
from ..build import build_grid, build_loss
from ..kind import KindSpec
from ..schema import MODEL_NO_GAMMA, Key, is_number, non_negative, one_of, positive

#: At most this many points of the per-step history are stored; in d = 1 the density is also
#: stored at FRAMES times (dataset ``frames``, coordinate ``frame_time``) for the picture.
MAX_HISTORY = 5000
FRAMES = 80


def _times_list(v):
    if not v or not all(is_number(t) for t in v):
        return f"must be a non-empty list of numbers, got {v!r}"
    if any(t < 0 for t in v) or any(b <= a for a, b in zip(v, v[1:])):
        return f"must be non-negative and strictly increasing, got {v!r}"
    return None


def _times(s: dict):
    return [s["t"]] if "t" in s else s.get("times")


def _check(data):
    s = data["solve"]
    if "t" in s and "times" in s:
        raise InputError("solve.times", "give t (a time, or a sweep list of times) or times (a list in one run), "
                         "not both")
    if "t" not in s and "times" not in s:
        raise InputError("solve.t", "missing: give t (a time) or times (a list of times)")
    check_fokker_planck_input(build_loss(data), build_grid(data, "x"), s["beta"], _times(s), s["x0"], s["width"],
                              s.get("dt"), s["scheme"])


def _thin(n: int) -> np.ndarray:
    return np.unique(np.linspace(0, n - 1, min(n, MAX_HISTORY)).round().astype(int))


def run(data, on_step):
    s = data["solve"]
    loss, grid = build_loss(data), build_grid(data, "x")
    sol = solve_fokker_planck(loss, grid, s["beta"], _times(s), s["x0"], s["width"], s.get("dt"), s["scheme"],
                              on_step=on_step, frames=FRAMES if grid.dim == 1 else 0)
    d = grid.dim
    point = (lambda v: float(v[0])) if d == 1 else (lambda v: np.asarray(v, float))
    gap = sol.spectral_gap
    result = Result("fokker_planck", attrs={
        "beta": sol.beta, "x0": point(sol.x0), "width": sol.width, "scheme": sol.scheme, "rates": sol.rates,
        "spectral_gap": gap,
        "steps": sol.steps, "step_sizes": [float(v) for v in sol.step_sizes], "fallback_steps": sol.fallbacks,
        "max_mass_error": float(np.max(np.abs(sol.mass - 1.0))), "basin_minimum": point(sol.basin_minimum),
        "equilibrium_tolerance": s["tolerance"]})
    # attributes are finite numbers: a time scale that does not exist is left out
    if gap > 0:
        result.attrs["relaxation_time"] = 1.0 / gap
    if np.isfinite(sol.time_to_equilibrium(s["tolerance"])):
        result.attrs["time_to_equilibrium"] = sol.time_to_equilibrium(s["tolerance"])
    result.coords.update(grid.coordinates())
    result.coords["time"] = sol.times
    keep = _thin(len(sol.history_time))
    result.coords["step_time"] = sol.history_time[keep]
    x_axes = tuple(grid.coordinate_names)
    result.add("density", sol.density, ("time",) + x_axes)
    result.add("gibbs", sol.gibbs, x_axes)
    for name in ("mass", "basin_mass", "l1_to_gibbs"):
        result.add(name, getattr(sol, name), ("time",))
    result.add("history_l1", sol.history_l1[keep], ("step_time",))
    result.add("history_basin_mass", sol.history_basin_mass[keep], ("step_time",))
    if sol.frames is not None:
        result.coords["frame_time"] = sol.frame_times
        result.add("frames", sol.frames, ("frame_time",) + x_axes)
    if loss.name == "quadratic":
        nodes = grid.nodes()
        exact = np.array([ou_density(loss.params["a"], loss.params["c"], sol.beta, sol.x0, sol.width, t, nodes)
                          for t in sol.times])
        result.add("exact", exact, ("time",) + x_axes)
        errors = np.sum(np.abs(exact - sol.density), axis=tuple(range(1, d + 1))) * sol.cell_volume
        result.attrs["max_l1_error_exact"] = float(np.max(errors))
    return result


def _colour_map(fig, ax, x1, x2, values, label: str):
    """values (x1, x2) as an image with a labelled colour bar."""
    mesh = ax.pcolormesh(x1, x2, values.T, shading="auto", cmap="viridis")
    fig.colorbar(mesh, ax=ax).set_label(label)


def _math(label: str) -> str:
    """A member name (``beta=2``, ``t=10``) in mathtext."""
    return label.replace("beta=", r"$\beta$ = ").replace("t=", "$t$ = ")


def _support(x: np.ndarray, rho: np.ndarray, floor: float) -> tuple:
    """The x-range where some row of rho exceeds floor times its maximum, with a margin."""
    big = np.flatnonzero(np.max(rho, axis=0) >= floor * rho.max())
    lo, hi = x[big[0]], x[big[-1]]
    margin = 0.05 * (hi - lo) if hi > lo else 1.0
    return max(lo - margin, x[0]), min(hi + margin, x[-1])


def _history(ax, entries):
    """L1 distance to the Gibbs density and mass in the basin of x0 against t (log axis)."""
    for i, (label, sub) in enumerate(entries):
        t = sub.coords["step_time"]
        later = t > 0
        tag = f" ({_math(label)})" if label else ""
        ax.plot(t[later], sub["history_l1"][later], color=f"C{i}", label=r"$\|\rho(t) - \rho_\infty\|_{L^1}$" + tag)
        ax.plot(t[later], sub["history_basin_mass"][later], color=f"C{i}", ls="--",
                label="mass in the basin of $x_0$" + tag)
        if np.isfinite(sub.attrs.get("relaxation_time", np.inf)):
            ax.axvline(sub.attrs["relaxation_time"], color=f"C{i}", ls=":", lw=0.8,
                       label=r"$1/\lambda_1$" if i == 0 else None)
    ax.set_xscale("log")
    ax.set_ylim(bottom=0.0)
    ax.set_xlabel("time $t$")
    ax.set_ylabel(r"$L^1$ distance, mass")
    ax.legend(fontsize="x-small")


def picture(fig, result: Result):
    """d = 1: rho over (x, t) as a log-coloured map (three times or more), the densities at the stored
    times against exp(-beta f)/Z (dashed), and the relaxation history; d = 2: the last density
    beside the Gibbs density."""
    from matplotlib import colormaps
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import LogNorm, Normalize
    entries = members(result)
    last = entries[-1][1]
    names = last.dims["gibbs"]
    if len(names) >= 2:
        axes = fig.subplots(1, 2)
        x1, x2 = last.coords[names[0]], last.coords[names[1]]
        t = last.coords["time"][-1]
        _colour_map(fig, axes[0], x1, x2, last["density"][-1], rf"density $\rho(t = {t:.4g}, x)$")
        _colour_map(fig, axes[1], x1, x2, last["gibbs"], r"Gibbs density $e^{-\beta f}/Z$")
        for ax in axes:
            ax.set_aspect("equal")
            ax.set_xlabel("$x_1$")
            ax.set_ylabel("$x_2$")
        return
    times, x = last.coords["time"], last.coords[names[0]]
    movie = ("frames", "frame_time") if "frames" in last.data else ("density", "time")
    heat = len(entries) == 1 and len(last.coords[movie[1]]) >= 3
    axes = list(np.atleast_1d(fig.subplots(1, 2 + heat)))
    geometric = times[0] > 0 and times[-1] >= 10 * times[0]
    if heat:
        ax, rho, frame_time = axes.pop(0), last[movie[0]], last.coords[movie[1]]
        floor = rho.max() * 1e-8
        mesh = ax.pcolormesh(x, frame_time, np.maximum(rho, floor), shading="gouraud", cmap="viridis",
                             norm=LogNorm(vmin=floor, vmax=rho.max()))
        fig.colorbar(mesh, ax=ax).set_label(r"$\rho(t, x)$ (log scale)")
        ax.set_yscale("log" if geometric else "linear")
        ax.set_xlim(*_support(x, rho, 1e-8))
        ax.set_xlabel("$x$")
        ax.set_ylabel("time $t$")
    ax = axes[0]
    if len(entries) == 1:                      # one curve per stored time, coloured by t
        norm = (LogNorm if geometric else Normalize)(vmin=times[0], vmax=max(times[-1], times[0] + 1e-12))
        for j, t in enumerate(times):
            ax.plot(x, last["density"][j], color=colormaps["viridis"](norm(t)) if len(times) > 1 else "C0",
                    lw=1.4, label=None if len(times) > 1 else f"$t$ = {t:.4g}")
            if "exact" in last.data:
                ax.plot(x, last["exact"][j], color="k", ls=":", lw=1.0,
                        label="Ornstein–Uhlenbeck (exact)" if j == 0 else None)
        if len(times) > 1:
            fig.colorbar(ScalarMappable(norm, "viridis"), ax=ax).set_label("time $t$")
        ax.plot(x, last["gibbs"], color="k", ls="--", lw=1.0, label=r"$e^{-\beta f}/Z$")
    else:                                      # a sweep: the last density of each member (own grid)
        for i, (label, sub) in enumerate(entries):
            t, xs = sub.coords["time"][-1], sub.coords[names[0]]
            at = "" if result.attrs.get("sweep") == "t" else f": $t$ = {t:.4g}"
            ax.plot(xs, sub["density"][-1], color=f"C{i}", lw=1.4, label=_math(label) + at)
            ax.plot(xs, sub["gibbs"], color=f"C{i}", ls="--", lw=1.0,
                    label=r"$e^{-\beta f}/Z$" if i == 0 else None)
    spans = [_support(sub.coords[names[0]], sub["density"], 1e-3) for _, sub in entries]
    ax.set_xlim(min(lo for lo, _ in spans), max(hi for _, hi in spans))
    ax.set_xlabel("$x$")
    ax.set_ylabel(r"density $\rho(t, x)$")
    ax.legend(fontsize="small")
    _history(axes[1], entries)


def headline(result: Result) -> list:
    a = result.attrs
    lines = []
    if "spectral_gap" in a:
        lines.append(f"spectral gap lambda_1 = {a['spectral_gap']:.6g} (relaxation time 1/lambda_1 = "
                     f"{fmt(a.get('relaxation_time', float('inf')))})")
    if "density" in result.data:
        t = result.coords["time"]
        lines.append(f"at t = {fmt(float(t[-1]))}: L1 distance to exp(-beta f)/Z = {result['l1_to_gibbs'][-1]:.4g}, "
                     f"mass in the basin of x0 (minimum {fmt(a.get('basin_minimum'))}) = {result['basin_mass'][-1]:.6g}")
        reached = a.get("time_to_equilibrium")
        lines.append(f"time to equilibrium (L1 <= {fmt(a.get('equilibrium_tolerance'))}): "
                     + (fmt(reached) if reached is not None else f"not reached by t = {fmt(float(t[-1]))}"))
        lines.append(f"max |mass - 1| = {a.get('max_mass_error', float('nan')):.2g}; {a.get('steps')} steps "
                     f"({a.get('scheme')}), {a.get('fallback_steps', 0)} redone by backward Euler")
    if "max_l1_error_exact" in a:
        lines.append(f"Ornstein-Uhlenbeck density: max L1 error {a['max_l1_error_exact']:.3g}")
    return lines


def memory(data) -> Estimate:
    """The solve (with the frames of d = 1), then the exact densities of the quadratic loss."""
    s = data["solve"]
    loss, grid = build_loss(data), build_grid(data, "x")
    times = np.atleast_1d(np.asarray(_times(s), dtype=float))
    extra = frame_times(times, FRAMES if grid.dim == 1 else 0)
    stops = len(np.unique(np.concatenate([times, extra])))
    need = memory_estimate(loss, grid, s["beta"], stops, len(extra)) + 8.0 * grid.size * (len(times) + grid.dim + 2)
    return Estimate(need, f"a Fokker-Planck grid of {grid.size:,} nodes", "grid.x")


SPECS = [KindSpec("fokker_planck", datasets=("density",), grids=("x",), model=MODEL_NO_GAMMA, check=_check,
                  runner=run, plot=picture, headline=headline, arguments={"grid": "grid.x", "loss": "model.loss"},
                  memory=memory,
                  solve={
                      "beta": Key(float, required=True, check=positive, sweep=True),
                      "t": Key(float, check=non_negative, sweep=True),
                      "times": Key(list, check=_times_list),
                      "x0": Key((int, float, list), required=True),
                      "width": Key(float, default=DEFAULT_WIDTH, check=positive),
                      "dt": Key(float, check=positive),
                      "scheme": Key(str, default=DEFAULT_SCHEME, check=one_of(*SCHEMES)),
                      "tolerance": Key(float, default=DEFAULT_TOLERANCE, check=positive),
                  })]
