"""Kind ``exit_time``: the mean exit time tau of dX = -grad f dt + sqrt(2/beta) dW, solving
(1/beta) Laplacian tau - grad f . grad tau = -1 in D, tau = 0 on the boundary (SPEC sections 7, 10).

[solve] keys: ``beta`` (sweepable); ``radius`` (optional: D is the ball of that radius
about ``center``, default 0, a grid node; without it D is the x-box with absorbing
walls); ``solver`` ("direct" | "iterative", the latter on a ball); ``scheme`` (the
rates on the box: "fitted" | "upwind").  [model] is dim and loss; the grid block x.

Stores ``value`` (tau on the x-grid; 0 on the walls or the sphere, NaN outside a
ball) and ``f`` (the loss on the grid).  In d = 1 also ``closed_form`` (SPEC section 7, by quadrature) with the
attribute ``max_relative_error_closed_form`` (max |tau_h - tau| / max tau), and, when
f has a barrier between its lowest interior minimum and the boundary, the
Eyring-Kramers time (``kramers_time``, at ``kramers_minimum`` over
``kramers_saddle``) beside ``tau_at_minimum``.
"""
from __future__ import annotations

import numpy as np

from ...errors import InputError
from ...limits import Estimate
from ...output.plots import image, members
from ...output.result import Result
from ...output.summary import fmt, value_extremes
from ...operators.generator import SCHEMES
from ...reference.exit_time import escape_landmarks_1d, exit_time_1d, kramers_time
from ...solvers.exit_time import (DEFAULT_SCHEME, DEFAULT_SOLVER, SOLVERS, check_exit_time_input,
                                  mean_exit_time, memory_estimate)
from ..build import build_grid, build_loss, grid_result
from ..kind import KindSpec
from ..schema import MODEL_NO_GAMMA, Key, one_of, positive

_POINT = (int, float, list)


def _check(data):
    s = data["solve"]
    check_exit_time_input(build_loss(data), build_grid(data, "x"), s["beta"], s.get("radius"), s["center"],
                          s["solver"], s["scheme"])


def _references_1d(result: Result, loss, x: np.ndarray, value: np.ndarray, beta: float, domain) -> None:
    """Closed form on the domain (a, b) at the nodes where tau is defined, and the Eyring-Kramers time."""
    inside = np.flatnonzero(np.isfinite(value))
    lo, hi = inside[0], inside[-1]
    exact = np.full_like(value, np.nan)
    exact[lo:hi + 1] = exit_time_1d(loss, *domain, beta, x[lo:hi + 1])
    result.add("closed_form", exact, result.dims["value"])
    result.attrs["max_relative_error_closed_form"] = float(np.nanmax(np.abs(value - exact)) / np.nanmax(exact))
    landmarks = escape_landmarks_1d(x[lo:hi + 1], loss.value(x[lo:hi + 1, None]))
    if landmarks is None:
        return
    minimum, saddle = landmarks
    try:
        kramers = kramers_time(loss, minimum, saddle, beta)
    except InputError:              # no non-degenerate minimum/saddle pair there: no Kramers level
        return
    result.attrs.update(kramers_time=kramers, kramers_minimum=minimum, kramers_saddle=saddle,
                        tau_at_minimum=float(value[np.argmin(np.abs(x - minimum))]))


def run(data, on_step):
    s = data["solve"]
    loss, grid = build_loss(data), build_grid(data, "x")
    sol = mean_exit_time(loss, grid, s["beta"], s.get("radius"), s["center"], s["solver"], s["scheme"])
    attrs = {"beta": sol.beta, "domain": sol.domain, "solver": sol.solver, "scheme": sol.scheme,
             "unknowns": sol.unknowns, "nonzeros": sol.solve.nonzeros, "corrections": sol.solve.corrections,
             "residual": sol.solve.residual, "assembly_time": sol.assembly_time, "solve_time": sol.solve.solve_time,
             "max_tau": sol.max_value}
    if sol.radius is not None:
        attrs.update(radius=sol.radius, center=sol.center if grid.dim > 1 else float(sol.center[0]))
    result = grid_result("exit_time", sol.value, [grid], attrs)
    result.add("f", loss.value(grid.nodes()), result.dims["value"])      # the landscape, for the picture
    if grid.dim == 1:
        x = grid.axes[0].nodes
        domain = (x[0], x[-1]) if sol.radius is None else (sol.center[0] - sol.radius, sol.center[0] + sol.radius)
        _references_1d(result, loss, x, sol.value, sol.beta, domain)
    return result


def _legend_label(label: str) -> str:
    """A member name ``beta=8`` as mathtext."""
    return label.replace("beta=", r"$\beta$ = ") if label else ""


def picture(fig, result: Result):
    """d = 1: tau(x) per member, the Eyring-Kramers time dashed (log axis when the members span
    decades); d >= 2: tau as an image with a labelled colour bar (the last three members)."""
    entries = members(result)
    if entries[-1][1]["value"].ndim == 1:
        ax = fig.subplots()
        tops = []
        for i, (label, sub) in enumerate(entries):
            x, tau = sub.coords[sub.dims["value"][0]], sub["value"]
            ax.plot(x, tau, color=f"C{i}", lw=1.6, label=_legend_label(label) or r"$\tau(x)$", zorder=3)
            tops.append(np.nanmax(tau))
            if "kramers_time" in sub.attrs:
                ax.axhline(sub.attrs["kramers_time"], color=f"C{i}", ls="--", lw=1.0,
                           label="Eyring–Kramers" if i == 0 else None)
                ax.axvline(sub.attrs["kramers_saddle"], color="0.6", ls=":", lw=0.8,
                           label="barrier top $s$" if i == 0 else None)
        if max(tops) > 10 * max(min(tops), 1e-300):
            ax.set_yscale("log")
            ax.set_ylim(min(tops) * 1e-2, max(tops) * 3)
        ax.set_xlabel("$x$")
        ax.set_ylabel(r"mean exit time $\tau(x)$")
        ax.legend(fontsize="small", loc="upper right")
        last = entries[-1][1]
        if "f" in last.data:
            twin = ax.twinx()
            twin.plot(last.coords[last.dims["f"][0]], last["f"], color="0.7", lw=1.0)
            twin.set_ylabel("loss $f(x)$", color="0.5")
            twin.tick_params(axis="y", colors="0.5")
        return
    shown = entries[-3:]
    axes = np.atleast_1d(fig.subplots(1, len(shown)))
    for ax, (label, sub) in zip(axes, shown):
        image(fig, ax, sub, "value", cmap="magma")
        fig.axes[-1].set_ylabel(r"mean exit time $\tau$")           # the colour bar just made
        names = sub.dims["value"]
        ax.set_xlabel(f"${names[0][0]}_{names[0][1:]}$")
        ax.set_ylabel(f"${names[1][0]}_{names[1][1:]}$")
        ax.set_title(f"{_legend_label(label)}  max τ = {np.nanmax(sub['value']):.4g}".strip(), fontsize="medium")
        if "f" in sub.data:          # the landscape: contours of f where tau is defined
            x1, x2 = sub.coords[names[0]], sub.coords[names[1]]
            f = np.where(np.isfinite(sub["value"]), sub["f"], np.nan)
            ax.contour(x1, x2, f.T, levels=12, colors="w", linewidths=0.5, alpha=0.6)


def headline(result: Result) -> list:
    lines = value_extremes(result)
    a = result.attrs
    if "max_relative_error_closed_form" in a:
        lines.append(f"closed form (SPEC 7): max |tau_h - tau| / max tau = {a['max_relative_error_closed_form']:.3g}")
    if "kramers_time" in a:
        lines.append(f"tau at the minimum x = {fmt(a['kramers_minimum'])}: {a['tau_at_minimum']:.6g}; "
                     f"Eyring-Kramers over x = {fmt(a['kramers_saddle'])}: {a['kramers_time']:.6g} "
                     f"(ratio {a['tau_at_minimum'] / a['kramers_time']:.4f})")
    return lines


def memory(data) -> Estimate:
    s = data["solve"]
    loss, grid = build_loss(data), build_grid(data, "x")
    need = memory_estimate(loss, grid, s["beta"], s.get("radius"), s["center"], s["solver"])
    return Estimate(need, f"the exit-time solve on {grid.size:,} nodes", "grid.x")


SPECS = [KindSpec("exit_time", datasets=("value",), nan_outside=("value", "closed_form"), grids=("x",),
                  model=MODEL_NO_GAMMA, check=_check, runner=run, plot=picture, headline=headline, memory=memory,
                  arguments={"grid": "grid.x", "h": "grid.x", "loss": "model.loss"}, solve={
                      "beta": Key(float, required=True, check=positive, sweep=True),
                      "radius": Key(float, check=positive),
                      "center": Key(_POINT, default=0.0),
                      "solver": Key(str, default=DEFAULT_SOLVER, check=one_of(*SOLVERS)),
                      "scheme": Key(str, default=DEFAULT_SCHEME, check=one_of(*SCHEMES)),
                  })]
