"""Kinds ``effective`` and ``egd``: v(0, x) of the effective HJ equation, and the value of
controlled entropic gradient descent (SPEC sections 4 and 10).

[solve] keys: ``T`` (sweepable), ``courant`` (in (0, 1]: the explicit upwind step) and
``resolution`` (extended-control directions in d >= 2); defaults from the solver.
"""
from __future__ import annotations

import numpy as np

from ...output.plots import image, legend, line, members
from ...output.result import Result
from ...output.summary import value_extremes
from ...solvers.effective import DEFAULT_COURANT, DEFAULT_RESOLUTION, solve_effective
from ..build import build_grid, build_model, grid_result
from ..kind import KindSpec
from ..schema import Key, at_least, in_unit_interval, positive


def _runner(extended: bool):
    def run(data, on_step):
        s = data["solve"]
        model, gx = build_model(data), build_grid(data, "x")
        sol = solve_effective(model, gx, s["T"], extended=extended, courant=s["courant"],
                              resolution=s["resolution"], on_step=on_step)
        result = grid_result(data["kind"], sol.value, [gx],
                             {"T": sol.T, "dt": sol.dt, "steps": sol.steps, "extended": extended})
        result.add("velocities", sol.velocities, tuple(gx.coordinate_names) + ("candidate", "component"))
        return result
    return run


def picture(fig, result: Result):
    """The value v(0, x) and the averaged velocities (their range over the candidates)."""
    entries = members(result)
    last = entries[-1][1]
    if last["value"].ndim == 1:
        left, right = fig.subplots(1, 2)
        for label, sub in entries:
            line(left, sub, "value", label)
        left.set_ylabel("v(0, x)" if result.kind == "effective" else "value of entropic gradient descent")
        legend(left, entries)
        if "velocities" in last.data:
            x = last.coords[last.dims["value"][0]]
            vel = last["velocities"][..., 0]
            right.fill_between(x, vel.min(axis=1), vel.max(axis=1), alpha=0.3, label="reachable velocities")
            right.plot(x, vel.min(axis=1), lw=1)
            right.plot(x, vel.max(axis=1), lw=1)
            right.axhline(0.0, color="k", lw=0.5)
            right.set_xlabel(last.dims["value"][0])
            right.set_ylabel("averaged velocity")
            right.legend(fontsize="small")
    else:
        left, right = fig.subplots(1, 2)
        image(fig, left, last, "value")
        if "velocities" in last.data:
            speed = Result(last.kind, coords=last.coords)
            speed.add("max speed", np.linalg.norm(last["velocities"], axis=-1).max(axis=-1), last.dims["value"])
            image(fig, right, speed, "max speed", cmap="magma")


_SOLVE = {"T": Key(float, required=True, check=positive, sweep=True),
          "courant": Key(float, default=DEFAULT_COURANT, check=in_unit_interval),
          "resolution": Key(int, default=DEFAULT_RESOLUTION, check=at_least(1))}

SPECS = [KindSpec("effective", datasets=("value", "velocities"), grids=("x",), solve=_SOLVE, runner=_runner(True), plot=picture,
                  headline=value_extremes),
         KindSpec("egd", datasets=("value", "velocities"), grids=("x",), solve=_SOLVE, runner=_runner(False), plot=picture,
                  headline=value_extremes)]
