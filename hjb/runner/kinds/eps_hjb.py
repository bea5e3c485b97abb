"""Kind ``eps_hjb``: V^eps(0, x, y) of the eps-HJB equation (SPEC sections 2 and 10).

[solve] keys: ``T``, ``eps`` (sweepable), optional ``dt`` or ``courant`` (dt as a
multiple of the CFL step of the slow part), ``y_scheme`` (the rates of the fast
generator) and ``snapshots`` (time slices kept, for the feedback of kind ``sde``).
"""
from __future__ import annotations

import numpy as np

from ...errors import InputError
from ...operators.generator import SCHEMES
from ...output.plots import image, line, members
from ...output.result import Result
from ...output.summary import value_extremes
from ...solvers.eps_hjb import solve_eps_hjb
from ..build import build_grid, build_model, grid_result
from ..kind import KindSpec
from ..schema import Key, at_least, one_of, positive, positive_within


def _y_inside_x(data):
    """The slow drift -u gamma (x - y) points into the x-box only if the y-box lies inside it."""
    gx, gy = build_grid(data, "x"), build_grid(data, "y")
    if not gx.contains(gy):
        box = lambda g: " x ".join(f"[{a.lower:g}, {a.upper:g}]" for a in g.axes)  # noqa: E731
        raise InputError("grid.y", f"the y-box {box(gy)} must lie inside the x-box {box(gx)} "
                         "(else characteristics leave the x-box)")


def run(data, on_step):
    s = data["solve"]
    model, gx, gy = build_model(data), build_grid(data, "x"), build_grid(data, "y")
    options = {k: s[k] for k in ("dt", "courant") if k in s}
    sol = solve_eps_hjb(model, gx, gy, s["T"], s["eps"], y_scheme=s["y_scheme"], snapshots=s["snapshots"],
                        on_step=on_step, **options)
    result = grid_result("eps_hjb", sol.value, [gx, gy],
                         {"eps": sol.eps, "T": sol.T, "dt": sol.dt, "steps": sol.steps})
    if sol.snapshots is not None:
        result.coords["time"] = sol.times
        result.add("snapshots", sol.snapshots, ("time",) + result.dims["value"])
    return result


def picture(fig, result: Result):
    """d = 1: the surface V^eps(0, x, y) and its slices in x at a few y (one curve per
    member at the middle y for a sweep); d >= 2: V^eps at the middle y node."""
    entries = members(result)
    last = entries[-1][1]
    dim = len(last.dims["value"]) // 2
    if dim == 1:
        left, right = fig.subplots(1, 2)
        image(fig, left, last, "value")
        if entries[-1][0]:
            left.set_title(f"V^ε(0, x, y), {entries[-1][0]}", fontsize="medium")
        else:
            left.set_title("V^ε(0, x, y)", fontsize="medium")
        if len(entries) > 1:
            for label, sub in entries:
                line(right, sub, "value", label)
            right.set_title("slices at the middle y", fontsize="medium")
        else:
            y = last.coords[last.dims["value"][1]]
            x = last.coords[last.dims["value"][0]]
            for j in np.linspace(0, len(y) - 1, 5).astype(int):
                right.plot(x, last["value"][:, j], label=f"y = {y[j]:.3g}")
            right.set_xlabel(last.dims["value"][0])
            right.set_ylabel("V^ε(0, x, y)")
        right.legend(fontsize="small")
    else:
        axes = np.atleast_1d(fig.subplots(1, min(len(entries), 3)))
        for ax, (label, sub) in zip(axes, entries[-len(axes):]):
            image(fig, ax, sub, "value")
            if label:
                ax.set_title(f"{label}: {ax.get_title()}", fontsize="small")


SPECS = [KindSpec("eps_hjb", datasets=("value",), grids=("x", "y"), check=_y_inside_x, runner=run, plot=picture,
                  headline=value_extremes, solve={
                      "T": Key(float, required=True, check=positive),
                      "eps": Key(float, required=True, check=positive_within(1e-12, 1e6), sweep=True),
                      "dt": Key(float, check=positive),
                      "courant": Key(float, check=positive),
                      "y_scheme": Key(str, default="fitted", check=one_of(*SCHEMES)),
                      "snapshots": Key(int, default=0, check=at_least(0)),
                  })]
